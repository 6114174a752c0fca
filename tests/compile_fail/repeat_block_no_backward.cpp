// Must NOT compile unless NUCLEO_CF_OK is defined: the block of a Repeat has no backward, and the
// body of a Residual is that Repeat. The first error must name the block's type and the missing member.
#include "nucleo/layers/repeat.hpp"
#include "nucleo/layers/residual.hpp"

struct NoBackward {
  using scalar_type = float;
  static constexpr int in_channels = 4, out_channels = 4;
  std::string_view name() const { return "no_backward"; }
  template <class Ctx>
  void forward(Ctx&, const nucleo::Tensor3<float>& x, nucleo::Tensor3<float>& y) { y = x; }
#ifdef NUCLEO_CF_OK
  template <class Ctx>
  void backward(Ctx&, const nucleo::Tensor3<float>&, const nucleo::Tensor3<float>& dy, nucleo::Tensor3<float>& dx) {
    dx = dy;
  }
#endif
  template <class V>
  void visit_params(V&&) {}
};

using Net = nucleo::Residual<nucleo::Repeat<3, NoBackward>>;

int main() {
  Net net;
  return Net::out_channels == 4 ? 0 : 1;
}
