#pragma once
// Per-position argmax over the class axis of logits [B, K, L] (not API). Ties go to the first
// maximum, as torch.argmax / numpy.argmax. NaN logits never win.
#include "nucleo/core/tensor.hpp"

#include <cstdint>

namespace nucleo::detail {

template <class S>
inline std::int32_t argmax_at(const Tensor3<S>& logits, Index b, Index l) {
  const Index K = logits.dimension(1);
  std::int32_t arg = 0;
  S best = logits(b, 0, l);
  for (Index k = 1; k < K; ++k) {
    const S v = logits(b, k, l);
    if (v > best || (best != best && v == v)) {
      best = v;
      arg = static_cast<std::int32_t>(k);
    }
  }
  return arg;
}

}  // namespace nucleo::detail
