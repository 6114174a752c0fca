// Must NOT compile unless NUCLEO_CF_OK is defined: child 0 of the Sequential has no scalar_type.
// The error must name the child's position and type, and the missing member.
#include "nucleo/layers/sequential.hpp"
#include "support/toy_layers.hpp"

struct NoScalarType {
#ifdef NUCLEO_CF_OK
  using scalar_type = double;
#endif
  static constexpr int in_channels = 3, out_channels = 2;
  std::string_view name() const { return "no_scalar_type"; }
  template <class Ctx>
  void forward(Ctx&, const nucleo::Tensor3<double>& x, nucleo::Tensor3<double>& y) { y = x; }
  template <class Ctx>
  void backward(Ctx&, const nucleo::Tensor3<double>&, const nucleo::Tensor3<double>& dy, nucleo::Tensor3<double>& dx) {
    dx = dy;
  }
  template <class V>
  void visit_params(V&&) {}
};

using Net = nucleo::Sequential<NoScalarType, nucleo::testing::Affine<2, 4>>;

int main() {
  Net net;
  return Net::in_channels == 3 ? 0 : 1;
}
