#include "nucleo/layers/dropout.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<Dropout<>>);

TEST_CASE("Dropout: identity in evaluation, inverted scaling in training", "[layers][dropout]") {
  CpuContext ctx(2, 123);
  Dropout<double> d(0.25);
  CHECK(d.name() == "dropout");
  CHECK(parameter_count(d) == 0);
  Tensor3<double> x(4, 8, 500), y, dx, dy;
  x.setConstant(2.0);
  ctx.set_training(false);
  d.forward(ctx, x, y);
  for (Index i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == 2.0);
  ctx.set_training(true);
  d.forward(ctx, x, y);
  Index kept = 0;
  for (Index i = 0; i < y.size(); ++i) {
    const double v = y.data()[i];
    REQUIRE((v == 0.0 || v == Approx(2.0 / 0.75)));
    kept += v != 0.0;
  }
  CHECK(double(kept) / double(y.size()) == Approx(0.75).margin(0.01));  // 16000 draws
  // backward uses the same mask
  dy = random_tensor<double>(4, 8, 500, 3);
  d.backward(ctx, x, dy, dx);
  for (Index i = 0; i < dx.size(); ++i) REQUIRE(dx.data()[i] == dy.data()[i] * d.mask().data()[i]);
  CHECK_THROWS_AS(Dropout<>(1.0), ConfigError);
}

TEST_CASE("Dropout: masks are reproducible from the seed, for any thread count and padding", "[layers][dropout]") {
  Tensor3<double> x = random_tensor<double>(3, 4, 50, 1), y1, y2, y3, y4;
  Dropout<double> d(0.5);
  {
    CpuContext ctx(1, 77);
    d.forward(ctx, x, y1);
    d.forward(ctx, x, y3);  // next call: a new mask
  }
  {
    CpuContext ctx(2, 77);
    d.forward(ctx, x, y2);
  }
  for (Index i = 0; i < y1.size(); ++i) REQUIRE(y1.data()[i] == y2.data()[i]);
  bool differs = false;
  for (Index i = 0; i < y1.size(); ++i) differs |= y1.data()[i] != y3.data()[i];
  CHECK(differs);
  // The same sequence with more padding after it gets the same mask on its positions.
  Tensor3<double> xl(3, 4, 80);
  xl.setConstant(1.0);
  for (Index b = 0; b < 3; ++b)
    for (Index c = 0; c < 4; ++c)
      for (Index l = 0; l < 50; ++l) xl(b, c, l) = x(b, c, l);
  CpuContext ctx(2, 77);
  d.forward(ctx, xl, y4);
  for (Index b = 0; b < 3; ++b)
    for (Index c = 0; c < 4; ++c)
      for (Index l = 0; l < 50; ++l) REQUIRE(y4(b, c, l) == y1(b, c, l));
}

TEST_CASE("Dropout: gradcheck (double) with a fixed mask", "[layers][dropout]") {
  // In evaluation mode the layer is the identity; in training the mask changes per call, so check
  // the analytic backward against the mask directly (above) and the identity numerically here.
  CpuContext ctx(1);
  ctx.set_training(false);
  Dropout<double> d(0.3);
  REQUIRE_GRADCHECK(gradcheck(d, ctx, random_tensor<double>(2, 2, 4, 1)));
  check_roundtrip(d, Dropout<double>(0.3), ctx, random_tensor<double>(1, 2, 3, 3));
  check_padding_invariance(d, ctx, random_tensor<double>(2, 2, 8, 4), 5, 0.0, /*zeros_on_padding=*/false);
}
