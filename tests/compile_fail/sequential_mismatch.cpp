// Must NOT compile unless NUCLEO_CF_OK is defined: layer 0 gives 128 channels, layer 1 expects 64.
#include "nucleo/layers/sequential.hpp"
#include "support/toy_layers.hpp"

#ifdef NUCLEO_CF_OK
using Net = nucleo::Sequential<nucleo::testing::Affine<64, 128>, nucleo::testing::Affine<128, 10>>;
#else
using Net = nucleo::Sequential<nucleo::testing::Affine<64, 128>, nucleo::testing::Affine<64, 10>>;
#endif

int main() {
  Net net;
  return Net::out_channels == 10 ? 0 : 1;
}
