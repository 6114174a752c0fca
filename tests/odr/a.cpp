// ODR test: the umbrella header and every apps header in two translation units, linked into one program. A missing
// `inline` on a function defined in a header makes this fail to link.
#include "nucleo/nucleo.hpp"
#include "nucleo_apps/all.hpp"

unsigned long long odr_a() { return nucleo::Rng(1, 2).next_u64(); }
