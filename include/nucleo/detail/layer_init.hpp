#pragma once
// Not API. `init_layer(l, rng)`: calls `l.init(rng)` when the layer has one and does nothing
// otherwise (GELU, Dropout); the composites' init(Rng&) call it for each child in order.
#include "nucleo/core/rng.hpp"

namespace nucleo::detail {

template <class L>
concept has_init = requires(L& l, Rng& rng) { l.init(rng); };

template <class L>
void init_layer(L& l, Rng& rng) {
  if constexpr (has_init<L>) l.init(rng);
}

}  // namespace nucleo::detail
