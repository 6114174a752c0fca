#pragma once
/// Seeded random inputs and parameters for checks (gradcheck, round trips): `random_tensor` and
/// `randomize_params`. Values depend only on the seed, so a failing check can be rerun as is.
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace nucleo::testing {

/// A [b, c, l] tensor of uniform values in [lo, hi) from a seeded stream.
template <class S>
Tensor3<S> random_tensor(Index b, Index c, Index l, std::uint64_t seed, double lo = -1, double hi = 1) {
  Tensor3<S> t(b, c, l);
  Rng rng(seed, 11);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<S>(rng.uniform(lo, hi));
  return t;
}

/// Fill every parameter of `model` with uniform values in [lo, hi) (in visiting order, one stream).
template <class Model>
void randomize_params(Model& model, std::uint64_t seed, double lo = -0.5, double hi = 0.5) {
  Rng rng(seed, 13);
  model.visit_params([&](std::string_view, auto& p) {
    for (Index i = 0; i < p.size(); ++i) p.value[i] = static_cast<typename std::decay_t<decltype(p)>::scalar_type>(rng.uniform(lo, hi));
  });
}

}  // namespace nucleo::testing
