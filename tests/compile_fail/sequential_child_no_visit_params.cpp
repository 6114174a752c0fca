// Must NOT compile unless NUCLEO_CF_OK is defined: child 1 of the Sequential has no visit_params.
// The error must name the child's position and type, and the missing member.
#include "nucleo/layers/sequential.hpp"
#include "support/toy_layers.hpp"

struct NoVisitParams {
  using scalar_type = double;
  static constexpr int in_channels = nucleo::any_channels, out_channels = nucleo::any_channels;
  std::string_view name() const { return "no_visit_params"; }
  template <class Ctx>
  void forward(Ctx&, const nucleo::Tensor3<double>& x, nucleo::Tensor3<double>& y) { y = x; }
  template <class Ctx>
  void backward(Ctx&, const nucleo::Tensor3<double>&, const nucleo::Tensor3<double>& dy, nucleo::Tensor3<double>& dx) {
    dx = dy;
  }
#ifdef NUCLEO_CF_OK
  template <class V>
  void visit_params(V&&) {}
#endif
};

using Net = nucleo::Sequential<nucleo::testing::Affine<2, 4>, NoVisitParams>;

int main() {
  Net net;
  return Net::out_channels == 4 ? 0 : 1;
}
