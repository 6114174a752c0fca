#include "nucleo/layers/res_block.hpp"
#include "nucleo/layers/residual.hpp"
#include "nucleo/layers/sequential.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<ResBlock<8>>);
static_assert(ResBlock<8, 3>::in_channels == 8 && ResBlock<8, 3>::out_channels == 8);

TEST_CASE("ResBlock: stable parameter names and BEND's parameter count", "[layers][res_block]") {
  ResBlock<4, 3, double> blk(2);
  CHECK(blk.name() == "res_block");
  CHECK(blk.dilation() == 2);
  CHECK(parameter_names(blk) == std::vector<std::string>{"0.body.0.weight", "0.body.0.bias", "0.body.2.weight",
                                                          "0.body.2.bias", "1.body.0.weight", "1.body.0.bias",
                                                          "1.body.2.weight", "1.body.2.bias"});
  // bend.md section 3: 656,896 parameters per layer at H = 256, 2,624,512 at H = 512 (k = 9)
  ResBlock<256> h256;
  CHECK(parameter_count(h256) == 656896);
  ResBlock<512> h512;
  CHECK(parameter_count(h512) == 2624512);
}

TEST_CASE("ResBlock: forward is x + LN(GELU(conv x)), then + LN(GELU(linear .)), by hand", "[layers][res_block]") {
  // C = 2, K = 1 would not be a dilated conv; use K = 3 with only the centre tap set, so conv = W0 x + b.
  CpuContext ctx(1);
  ResBlock<2, 3, double> blk(1);
  auto& conv = blk.conv();
  conv.weight().value.setZero();
  conv.weight().value[0 * 3 + 1] = 1.0;  // W[0, 0, centre]
  conv.weight().value[3 * 3 + 1] = 2.0;  // W[1, 1, centre]
  conv.bias().value << 0.0, 1.0;
  blk.linear().weight().value << 0, 1, 1, 0;  // swap channels
  blk.linear().bias().value << 0.0, 0.0;
  Tensor3<double> x(1, 2, 1), y;
  x(0, 0, 0) = 1.0;
  x(0, 1, 0) = -1.0;
  blk.forward(ctx, x, y);
  // conv: (1, -1); GELU: (g1, g-1); LN over 2 channels of (a, b) = (+-1)/sqrt(1 + 4 eps/(a-b)^2)
  auto gelu = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  auto ln2 = [](double a, double b, double& oa, double& ob) {
    const double m = (a + b) / 2, var = ((a - m) * (a - m) + (b - m) * (b - m)) / 2, r = 1 / std::sqrt(var + 1e-5);
    oa = (a - m) * r;
    ob = (b - m) * r;
  };
  double h0, h1;
  ln2(gelu(1.0), gelu(-1.0), h0, h1);
  const double x0 = 1.0 + h0, x1 = -1.0 + h1;
  double k0, k1;
  ln2(gelu(x1), gelu(x0), k0, k1);
  CHECK(y(0, 0, 0) == Approx(x0 + k0));
  CHECK(y(0, 1, 0) == Approx(x1 + k1));
}

TEST_CASE("ResBlock: gradcheck (double)", "[layers][res_block]") {
  CpuContext ctx(2);
  ResBlock<3, 3, double> blk(2);
  randomize_params(blk, 3);
  REQUIRE_GRADCHECK(gradcheck(blk, ctx, random_tensor<double>(2, 3, 8, 4)));
  ctx.set_lengths({8, 5});
  REQUIRE_GRADCHECK(gradcheck(blk, ctx, random_tensor<double>(2, 3, 8, 5)));
}

TEST_CASE("ResBlock: BEND init, round trip, padding invariance", "[layers][res_block]") {
  CpuContext ctx(2);
  Rng rng(4);
  ResBlock<4, 3, double> a(3, rng);
  CHECK(a.conv().weight().value.abs().maxCoeff() <= 1 / std::sqrt(12.0));
  CHECK(a.linear().bias().value.abs().maxCoeff() == 0);
  CHECK(a.linear().weight().value.abs().maxCoeff() > 0);
  check_roundtrip(a, ResBlock<4, 3, double>(3), ctx, random_tensor<double>(2, 4, 9, 6));
  // x + body(x): the identity path passes the padding through (zeros in an encoder, where the
  // one-hot writes zeros there); the body itself ignores it.
  check_padding_invariance(a, ctx, random_tensor<double>(2, 4, 12, 7), 6, 1e-12, /*zeros_on_padding=*/false);
}

namespace {
// The unfused composition ResBlock is defined by (same parameter names).
template <int C, int K>
using ComposedBlock = Sequential<Residual<Sequential<DilatedConv1D<C, C, K, double>, GELU<double>, LayerNorm<C, double>>>,
                                 Residual<Sequential<Linear<C, C, double>, GELU<double>, LayerNorm<C, double>>>>;
}  // namespace

TEST_CASE("ResBlock: the fused block equals the Sequential/Residual composition, with padding", "[layers][res_block]") {
  for (int threads : {1, 2}) {
    CpuContext ctx(threads);
    ResBlock<6, 3, double> fused(2);
    randomize_params(fused, 11);
    ComposedBlock<6, 3> composed(
        Residual<Sequential<DilatedConv1D<6, 6, 3, double>, GELU<double>, LayerNorm<6, double>>>(
            Sequential<DilatedConv1D<6, 6, 3, double>, GELU<double>, LayerNorm<6, double>>(
                DilatedConv1D<6, 6, 3, double>(2), GELU<double>(), LayerNorm<6, double>())),
        Residual<Sequential<Linear<6, 6, double>, GELU<double>, LayerNorm<6, double>>>());
    copy_params_by_name(fused, composed);
    // 700 columns: more than one column tile per sequence; sequence 1 padded after 555.
    const Tensor3<double> x = random_tensor<double>(2, 6, 700, 12), dy = random_tensor<double>(2, 6, 700, 13);
    ctx.set_lengths({700, 555});
    Tensor3<double> ya, yb, dxa, dxb;
    fused.forward(ctx, x, ya);
    composed.forward(ctx, x, yb);
    fused.backward(ctx, x, dy, dxa);
    composed.backward(ctx, x, dy, dxb);
    double my = 0, mdx = 0;
    for (Index i = 0; i < ya.size(); ++i) my = std::max(my, std::abs(ya.data()[i] - yb.data()[i]));
    for (Index i = 0; i < dxa.size(); ++i) mdx = std::max(mdx, std::abs(dxa.data()[i] - dxb.data()[i]));
    CHECK(my < 1e-12);
    CHECK(mdx < 1e-12);
    std::vector<double> ga, gb;
    fused.visit_params([&](std::string_view, Param<double>& p) { ga.insert(ga.end(), p.grad.begin(), p.grad.end()); });
    composed.visit_params([&](std::string_view, Param<double>& p) { gb.insert(gb.end(), p.grad.begin(), p.grad.end()); });
    REQUIRE(ga.size() == gb.size());
    double mg = 0, scale = 0;
    for (std::size_t i = 0; i < ga.size(); ++i) {
      mg = std::max(mg, std::abs(ga[i] - gb[i]));
      scale = std::max(scale, std::abs(gb[i]));
    }
    CHECK(scale > 0.1);
    CHECK(mg < 1e-10 * scale);
  }
}

TEST_CASE("ResBlock: evaluation mode gives the training output, keeps no cache, and backward then refuses", "[layers][res_block]") {
  CpuContext ctx(2);
  ResBlock<5, 3, double> blk(4);
  randomize_params(blk, 21);
  const Tensor3<double> x = random_tensor<double>(3, 5, 40, 22), dy = random_tensor<double>(3, 5, 40, 23);
  Tensor3<double> yt, ye, dx;
  blk.forward(ctx, x, yt);
  ctx.set_training(false);
  blk.forward(ctx, x, ye);
  for (Index i = 0; i < yt.size(); ++i) REQUIRE(yt.data()[i] == ye.data()[i]);
  CHECK_THROWS_AS(blk.backward(ctx, x, dy, dx), Error);
  ctx.set_training(true);
  blk.forward(ctx, x, yt);
  CHECK_NOTHROW(blk.backward(ctx, x, dy, dx));
}

TEST_CASE("ResBlock: results are bit-identical for 1 and 2 threads", "[layers][res_block]") {
  auto run = [](int threads, Tensor3<double>& y, Tensor3<double>& dx, std::vector<double>& g) {
    CpuContext ctx(threads);
    ResBlock<8, 3, double> blk(1);
    randomize_params(blk, 31);
    const Tensor3<double> x = random_tensor<double>(3, 8, 1300, 32), dy = random_tensor<double>(3, 8, 1300, 33);
    blk.forward(ctx, x, y);
    blk.backward(ctx, x, dy, dx);
    blk.visit_params([&](std::string_view, Param<double>& p) { g.insert(g.end(), p.grad.begin(), p.grad.end()); });
  };
  Tensor3<double> y1, y2, d1, d2;
  std::vector<double> g1, g2;
  run(1, y1, d1, g1);
  run(2, y2, d2, g2);
  for (Index i = 0; i < y1.size(); ++i) REQUIRE(y1.data()[i] == y2.data()[i]);
  for (Index i = 0; i < d1.size(); ++i) REQUIRE(d1.data()[i] == d2.data()[i]);
  CHECK(g1 == g2);
}
