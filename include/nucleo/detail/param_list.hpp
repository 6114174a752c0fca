#pragma once
// Not API. The (name, Param*) list of a model, in visiting order, used by optimizers, gradient
// clipping and checkpoints. Pointers are valid while the model is neither moved nor destroyed.
#include "nucleo/core/param.hpp"

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nucleo::detail {

template <class S>
struct NamedParam {
  std::string name;
  Param<S>* param;
};

/// Every parameter of `model`, which must all be `Param<S>`.
template <class S, class Model>
std::vector<NamedParam<S>> param_list(Model& model) {
  std::vector<NamedParam<S>> out;
  model.visit_params([&](std::string_view name, auto& p) {
    using P = std::decay_t<decltype(p)>;
    static_assert(std::is_same_v<P, Param<S>>,
                  "optimizer/checkpoint scalar type differs from the model's: use the same Scalar (float or double)");
    out.push_back({std::string(name), &p});
  });
  return out;
}

}  // namespace nucleo::detail
