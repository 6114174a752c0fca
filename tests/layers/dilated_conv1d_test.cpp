#include "nucleo/layers/dilated_conv1d.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<DilatedConv1D<3, 4, 9>>);
static_assert(DilatedConv1D<3, 4, 9>::in_channels == 3 && DilatedConv1D<3, 4, 9>::out_channels == 4);

TEST_CASE("DilatedConv1D: known values, dilation 2, zero 'same' padding", "[layers][dilated_conv1d]") {
  CpuContext ctx(1);
  DilatedConv1D<1, 1, 3, double> conv(2);
  CHECK(conv.padding() == 2);
  conv.weight().value << 1, 2, 3;
  conv.bias().value << 0.5;
  Tensor3<double> x(1, 1, 5), y;
  for (int l = 0; l < 5; ++l) x(0, 0, l) = l + 1;  // 1 2 3 4 5
  conv.forward(ctx, x, y);
  // y[l] = 0.5 + 1*x[l-2] + 2*x[l] + 3*x[l+2]
  REQUIRE(y.dimension(2) == 5);
  CHECK(y(0, 0, 0) == Approx(11.5));
  CHECK(y(0, 0, 1) == Approx(16.5));
  CHECK(y(0, 0, 2) == Approx(22.5));
  CHECK(y(0, 0, 3) == Approx(10.5));
  CHECK(y(0, 0, 4) == Approx(13.5));
}

TEST_CASE("DilatedConv1D: weight order is PyTorch's {Cout, Cin, K}", "[layers][dilated_conv1d]") {
  CpuContext ctx(1);
  DilatedConv1D<2, 1, 3, double> conv(1);
  // W[0, 0, :] = (1, 0, 0): takes x0[l-1];  W[0, 1, :] = (0, 0, 10): takes 10 * x1[l+1]
  conv.weight().value << 1, 0, 0, 0, 0, 10;
  Tensor3<double> x(1, 2, 4), y;
  for (int l = 0; l < 4; ++l) {
    x(0, 0, l) = l + 1;    // 1 2 3 4
    x(0, 1, l) = -(l + 1);  // -1 -2 -3 -4
  }
  conv.forward(ctx, x, y);
  CHECK(y(0, 0, 0) == Approx(0 - 20));
  CHECK(y(0, 0, 1) == Approx(1 - 30));
  CHECK(y(0, 0, 2) == Approx(2 - 40));
  CHECK(y(0, 0, 3) == Approx(3 - 0));
}

namespace {
// Direct evaluation of the definition, for comparison on multi-tile shapes.
template <int Cin, int Cout, int K>
void naive(DilatedConv1D<Cin, Cout, K, double>& conv, const Tensor3<double>& x, const Tensor3<double>& dy,
           const std::vector<Index>& lens, Tensor3<double>& y, Tensor3<double>& dx, std::vector<double>& dw,
           std::vector<double>& db) {
  const Index B = x.dimension(0), L = x.dimension(2), d = conv.dilation(), p = conv.padding();
  const auto& w = conv.weight().value;
  y = Tensor3<double>(B, Cout, L);
  dx = Tensor3<double>(B, Cin, L);
  y.setZero();
  dx.setZero();
  dw.assign(std::size_t(Cout * Cin * K), 0.0);
  db.assign(Cout, 0.0);
  for (Index b = 0; b < B; ++b)
    for (Index o = 0; o < Cout; ++o)
      for (Index l = 0; l < lens[b]; ++l) {
        double s = conv.bias().value[o];
        db[o] += dy(b, o, l);
        for (Index i = 0; i < Cin; ++i)
          for (Index k = 0; k < K; ++k) {
            const Index m = l + k * d - p;
            if (m < 0 || m >= lens[b]) continue;
            s += w[(o * Cin + i) * K + k] * x(b, i, m);
            dx(b, i, m) += w[(o * Cin + i) * K + k] * dy(b, o, l);
            dw[(o * Cin + i) * K + k] += dy(b, o, l) * x(b, i, m);
          }
        y(b, o, l) = s;
      }
}
}  // namespace

TEST_CASE("DilatedConv1D: matches the direct sum on multi-tile, variable-length batches", "[layers][dilated_conv1d]") {
  for (int threads : {1, 2}) {
    CpuContext ctx(threads);
    DilatedConv1D<5, 6, 9, double> conv(3);
    Rng rng(1);
    conv.init(rng);
    const std::vector<Index> lens{1300, 613, 0, 5};
    const Index B = 4, L = 1300;
    Tensor3<double> x = random_tensor<double>(B, 5, L, 2), dy = random_tensor<double>(B, 6, L, 3);
    Tensor3<double> y, dx, ry, rdx;
    std::vector<double> rdw, rdb;
    naive(conv, x, dy, lens, ry, rdx, rdw, rdb);
    ctx.set_lengths(lens);
    conv.forward(ctx, x, y);
    zero_grad(conv);
    conv.backward(ctx, x, dy, dx);
    double ey = 0, edx = 0, edw = 0, edb = 0;
    for (Index i = 0; i < y.size(); ++i) ey = std::max(ey, std::abs(y.data()[i] - ry.data()[i]));
    for (Index i = 0; i < dx.size(); ++i) edx = std::max(edx, std::abs(dx.data()[i] - rdx.data()[i]));
    for (std::size_t i = 0; i < rdw.size(); ++i) edw = std::max(edw, std::abs(conv.weight().grad[Index(i)] - rdw[i]));
    for (std::size_t i = 0; i < rdb.size(); ++i) edb = std::max(edb, std::abs(conv.bias().grad[Index(i)] - rdb[i]));
    INFO("threads " << threads);
    CHECK(ey < 1e-10);
    CHECK(edx < 1e-10);
    CHECK(edw < 1e-9);
    CHECK(edb < 1e-9);
  }
}

TEST_CASE("DilatedConv1D: gradcheck (double), all positions and with batch lengths", "[layers][dilated_conv1d]") {
  CpuContext ctx(2);
  DilatedConv1D<3, 2, 3, double> conv(2);
  randomize_params(conv, 4);
  REQUIRE_GRADCHECK(gradcheck(conv, ctx, random_tensor<double>(2, 3, 7, 5)));
  ctx.set_lengths({7, 4});
  REQUIRE_GRADCHECK(gradcheck(conv, ctx, random_tensor<double>(2, 3, 7, 6)));
  ctx.clear_lengths();
  DilatedConv1D<2, 3, 5, double> wide(3);  // padding 6 > half the length
  randomize_params(wide, 7);
  REQUIRE_GRADCHECK(gradcheck(wide, ctx, random_tensor<double>(1, 2, 9, 8)));
}

TEST_CASE("DilatedConv1D: names, shapes, PyTorch default init", "[layers][dilated_conv1d]") {
  DilatedConv1D<16, 8, 9> conv(4);
  CHECK(conv.name() == "dilated_conv1d");
  CHECK(conv.dilation() == 4);
  CHECK(conv.padding() == 16);
  CHECK(parameter_names(conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv.weight().shape == std::vector<Index>{8, 16, 9});
  CHECK(conv.bias().shape == std::vector<Index>{8});
  CHECK(conv.weight().kind == ParamKind::weight);
  CHECK(conv.bias().kind == ParamKind::bias);
  Rng rng(3);
  conv.init(rng);
  const double bound = 1.0 / std::sqrt(16.0 * 9.0);
  CHECK(conv.weight().value.abs().maxCoeff() <= bound);
  CHECK(conv.weight().value.abs().maxCoeff() > 0.95 * bound);  // 1152 uniform draws reach the edge
  CHECK(std::abs(conv.weight().value.mean()) < 0.1 * bound);
  CHECK(conv.bias().value.abs().maxCoeff() <= bound);
  CHECK(conv.bias().value.abs().maxCoeff() > 0);
  using Conv223 = DilatedConv1D<2, 2, 3>;
  CHECK_THROWS_AS(Conv223(0), ConfigError);
}

TEST_CASE("DilatedConv1D: wrong input channels is a ShapeError", "[layers][dilated_conv1d]") {
  CpuContext ctx(1);
  DilatedConv1D<3, 2, 3> conv;
  Tensor3<float> x(1, 4, 5), y;
  x.setZero();
  CHECK_THROWS_AS(conv.forward(ctx, x, y), ShapeError);
  Tensor3<float> ok(2, 3, 5);
  ok.setZero();
  ctx.set_lengths({5, 4, 3});  // three lengths for a batch of two
  CHECK_THROWS_AS(conv.forward(ctx, ok, y), ShapeError);
}

TEST_CASE("DilatedConv1D: parameter save -> load round trip", "[layers][dilated_conv1d]") {
  CpuContext ctx(1);
  DilatedConv1D<3, 4, 5, double> a(2);
  Rng rng(9);
  a.init(rng);
  check_roundtrip(a, DilatedConv1D<3, 4, 5, double>(2), ctx, random_tensor<double>(2, 3, 11, 1));
}

TEST_CASE("DilatedConv1D: a sequence alone or padded in a batch gives the same result", "[layers][dilated_conv1d]") {
  CpuContext ctx(2);
  DilatedConv1D<3, 4, 3, double> conv(2);
  randomize_params(conv, 10);
  check_padding_invariance(conv, ctx, random_tensor<double>(2, 3, 12, 11), 7);
}

TEST_CASE("DilatedConv1D: gradients are bit-identical for 1 and 2 threads", "[layers][dilated_conv1d]") {
  DilatedConv1D<16, 16, 9> conv(2);
  Rng rng(5);
  conv.init(rng);
  Tensor3<float> x = random_tensor<float>(3, 16, 1500, 1), dy = random_tensor<float>(3, 16, 1500, 2);
  std::vector<Param<float>::Array> grads;
  std::vector<Tensor3<float>> outs;
  for (int threads : {1, 2}) {
    CpuContext ctx(threads);
    Tensor3<float> y, dx;
    conv.forward(ctx, x, y);
    zero_grad(conv);
    conv.backward(ctx, x, dy, dx);
    outs.push_back(y);
    outs.push_back(dx);
    grads.push_back(conv.weight().grad);
    grads.push_back(conv.bias().grad);
  }
  CHECK((grads[0] == grads[2]).all());
  CHECK((grads[1] == grads[3]).all());
  for (Index i = 0; i < outs[0].size(); ++i) REQUIRE(outs[0].data()[i] == outs[2].data()[i]);
  for (Index i = 0; i < outs[1].size(); ++i) REQUIRE(outs[1].data()[i] == outs[3].data()[i]);
}
