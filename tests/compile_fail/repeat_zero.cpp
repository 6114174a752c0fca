// Must NOT compile unless NUCLEO_CF_OK is defined: Repeat<0, Block>.
#include "nucleo/layers/repeat.hpp"
#include "support/toy_layers.hpp"

#ifdef NUCLEO_CF_OK
using Net = nucleo::Repeat<1, nucleo::testing::Affine<4, 4>>;
#else
using Net = nucleo::Repeat<0, nucleo::testing::Affine<4, 4>>;
#endif

int main() {
  Net net;
  return Net::out_channels == 4 ? 0 : 1;
}
