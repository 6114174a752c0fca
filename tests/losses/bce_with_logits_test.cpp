#include "nucleo/losses/bce_with_logits.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "support/gradcheck.hpp"
#include "support/loss_gradcheck.hpp"

#include <cmath>

using namespace nucleo;
using namespace nucleo::testing;
using Catch::Detail::Approx;

static_assert(Loss<BCEWithLogits<float>>);
static_assert(Loss<BCEWithLogits<double>>);

TEST_CASE("BCEWithLogits: hand-computed mean over batch x labels", "[losses][bce_with_logits]") {
  CpuContext ctx(1);
  // x = 0 -> ln 2 whatever y; x = ln 3, y = 1 -> -ln(3/4); x = ln 3, y = 0 -> -ln(1/4).
  Tensor3<double> z(2, 2, 1);
  z(0, 0, 0) = 0; z(0, 1, 0) = std::log(3.0);
  z(1, 0, 0) = 0; z(1, 1, 0) = std::log(3.0);
  MultiLabels<double> y(2, 2);
  y << 1, 1,
       0, 0;
  BCEWithLogits<double> bce;
  Tensor3<double> d;
  const double expect = (2 * std::log(2.0) + std::log(4.0 / 3.0) + std::log(4.0)) / 4;
  CHECK(bce.value_and_grad(ctx, z, y, d) == Approx(expect).epsilon(1e-14));
  CHECK(bce.last_count() == 4);
  // dl/dx = (sigmoid(x) - y) / 4
  CHECK(d(0, 0, 0) == Approx((0.5 - 1) / 4));
  CHECK(d(0, 1, 0) == Approx((0.75 - 1) / 4));
  CHECK(d(1, 0, 0) == Approx(0.5 / 4));
  CHECK(d(1, 1, 0) == Approx(0.75 / 4));

  // pos_weight multiplies the loss of positive targets (BEND's rule for 0/1 targets).
  BCEWithLogits<double> pw({2.0, 5.0}, Reduction::sum);
  const double expect_pw = 2 * std::log(2.0) + 5 * std::log(4.0 / 3.0) + std::log(2.0) + std::log(4.0);
  CHECK(pw.value_and_grad(ctx, z, y, d) == Approx(expect_pw).epsilon(1e-14));
  CHECK(d(0, 1, 0) == Approx(5 * (0.75 - 1)));
  CHECK(d(1, 1, 0) == Approx(0.75));
}

TEST_CASE("BCEWithLogits: gradcheck (double) with soft targets and pos_weight", "[losses][bce_with_logits]") {
  CpuContext ctx(2);
  const Index B = 4, K = 5;
  auto z = random_tensor<double>(B, K, 1, 8, -4, 4);
  MultiLabels<double> y(B, K);
  Rng rng(2);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = i % 3 == 0 ? rng.uniform() : static_cast<double>(rng.bernoulli(0.4));
  BCEWithLogits<double> plain;
  REQUIRE_GRADCHECK(loss_gradcheck(plain, ctx, z, y));
  BCEWithLogits<double> weighted({1.0, 2.5, 0.5, 82.86, 1.0});
  REQUIRE_GRADCHECK(loss_gradcheck(weighted, ctx, z, y));
}

TEST_CASE("BCEWithLogits: stable for logits of magnitude 1e4", "[losses][bce_with_logits]") {
  CpuContext ctx(1);
  Tensor3<float> z(1, 4, 1);
  z(0, 0, 0) = 1e4f; z(0, 1, 0) = 1e4f; z(0, 2, 0) = -1e4f; z(0, 3, 0) = -1e4f;
  MultiLabels<float> y(1, 4);
  y << 1, 0, 1, 0;
  BCEWithLogits<float> bce(Reduction::sum);
  Tensor3<float> d;
  const double v = bce.value_and_grad(ctx, z, y, d);
  CHECK(v == Approx(2e4).epsilon(1e-12));  // the two wrong ones cost 1e4 each, the right ones 0
  CHECK(d(0, 0, 0) == 0.0f);
  CHECK(d(0, 1, 0) == 1.0f);
  CHECK(d(0, 2, 0) == -1.0f);
  CHECK(d(0, 3, 0) == 0.0f);
  // Small losses keep their relative precision (no cancellation): x = -40, y = 0 -> log1p(e^-40).
  Tensor3<double> s(1, 1, 1);
  s(0, 0, 0) = -40;
  MultiLabels<double> y0(1, 1);
  y0 << 0;
  BCEWithLogits<double> b2;
  CHECK(b2.value(ctx, s, y0) == Approx(std::exp(-40.0)).epsilon(1e-12));
}

TEST_CASE("BCEWithLogits: shapes and targets are checked", "[losses][bce_with_logits]") {
  CpuContext ctx(1);
  BCEWithLogits<double> bce;
  Tensor3<double> d, z(2, 3, 2);
  z.setZero();
  MultiLabels<double> y(2, 3);
  y.setZero();
  CHECK_THROWS_AS(bce.value_and_grad(ctx, z, y, d), ShapeError);  // L != 1
  Tensor3<double> z1(2, 3, 1);
  z1.setZero();
  MultiLabels<double> bad(3, 2);
  bad.setZero();
  CHECK_THROWS_AS(bce.value_and_grad(ctx, z1, bad, d), ShapeError);
  y(1, 2) = 2;
  CHECK_THROWS_AS(bce.value_and_grad(ctx, z1, y, d), ShapeError);
  BCEWithLogits<double> wrong({1.0, 1.0});
  y(1, 2) = 1;
  CHECK_THROWS_AS(wrong.value_and_grad(ctx, z1, y, d), ShapeError);
}
