#include "nucleo/layers/res_block.hpp"

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
