#include "nucleo/layers/repeat.hpp"

#include <catch2/catch.hpp>

#include "nucleo/layers/sequential.hpp"
#include "support/gradcheck.hpp"
#include "support/toy_layers.hpp"

using namespace nucleo;
using namespace nucleo::testing;

namespace {
// A block with a runtime constructor argument, as DilatedConv1D's dilation: y = scale * x.
class Scale {
 public:
  using scalar_type = double;
  static constexpr int in_channels = 2, out_channels = 2;
  explicit Scale(double s = 1) : s_(s), gain_({1}) { gain_.value << 1.0; }
  std::string_view name() const { return "scale"; }
  double factor() const { return s_; }
  template <class Ctx>
  void forward(Ctx&, const Tensor3<double>& x, Tensor3<double>& y) { y = x * (s_ * gain_.value[0]); }
  template <class Ctx>
  void backward(Ctx&, const Tensor3<double>& x, const Tensor3<double>& dy, Tensor3<double>& dx) {
    dx = dy * (s_ * gain_.value[0]);
    Tensor3<double> prod = dy * x;
    double s = 0;
    for (Index i = 0; i < prod.size(); ++i) s += prod.data()[i];
    gain_.grad[0] += s * s_;
  }
  template <class V>
  void visit_params(V&& v) { v("gain", gain_); }

 private:
  double s_;
  Param<double> gain_;
};
}  // namespace

TEST_CASE("Repeat: N copies of one type with per-copy constructor arguments", "[layers][repeat]") {
  CpuContext ctx(1);
  Repeat<3, Scale> r([](std::size_t i) { return Scale(static_cast<double>(1 << i)); });  // 1, 2, 4
  static_assert(Layer<Repeat<3, Scale>>);
  CHECK(r[2].factor() == 4);
  Tensor3<double> x(1, 2, 1), y;
  x.setConstant(1.5);
  r.forward(ctx, x, y);
  CHECK(y(0, 0, 0) == Approx(1.5 * 8));
  CHECK(parameter_names(r) == std::vector<std::string>{"0.gain", "1.gain", "2.gain"});
  REQUIRE_GRADCHECK(gradcheck(r, ctx, random_tensor<double>(2, 2, 3, 8)));
}

TEST_CASE("Repeat: of a Sequential block passes gradcheck", "[layers][repeat]") {
  CpuContext ctx(1);
  Repeat<2, Sequential<Affine<2, 2>, Square<>>> r;
  randomize_params(r, 5);
  REQUIRE_GRADCHECK(gradcheck(r, ctx, random_tensor<double>(2, 2, 3, 9)));
  CHECK(parameter_names(r).front() == "0.0.weight");
  CHECK(parameter_names(r).back() == "1.0.bias");
}
