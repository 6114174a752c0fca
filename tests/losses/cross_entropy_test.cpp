#include "nucleo/losses/cross_entropy.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "support/gradcheck.hpp"
#include "support/loss_gradcheck.hpp"

#include <cmath>
#include <cstring>
#include <limits>

using namespace nucleo;
using namespace nucleo::testing;
using Catch::Detail::Approx;

static_assert(Loss<CrossEntropy<float>>);
static_assert(Loss<CrossEntropy<double>>);

namespace {
// Two classes, two positions: z = (0, 0) with y = 0 -> ln 2; z = (ln 3, 0) with y = 1 -> ln 4.
Tensor3<double> two_by_two() {
  Tensor3<double> z(1, 2, 2);
  z(0, 0, 0) = 0; z(0, 1, 0) = 0;
  z(0, 0, 1) = std::log(3.0); z(0, 1, 1) = 0;
  return z;
}
Labels labels(std::initializer_list<std::initializer_list<int>> rows) {
  Labels t(static_cast<Index>(rows.size()), static_cast<Index>(rows.begin()->size()));
  Index b = 0;
  for (auto& r : rows) {
    Index l = 0;
    for (int v : r) t(b, l++) = v;
    ++b;
  }
  return t;
}
}  // namespace

TEST_CASE("CrossEntropy: hand-computed value and gradient, mean and sum", "[losses][cross_entropy]") {
  CpuContext ctx(1);
  const auto z = two_by_two();
  const Labels y = labels({{0, 1}});
  Tensor3<double> d;
  CrossEntropy<double> mean;
  CHECK(mean.value_and_grad(ctx, z, y, d) == Approx(1.5 * std::log(2.0)).epsilon(1e-14));
  CHECK(mean.last_count() == 2);
  CHECK(mean.last_weight_sum() == 2);
  CHECK(mean.last_correct() == 1);  // position 0 ties (argmax = first = 0 = y), position 1 predicts 0 != 1
  CHECK(d(0, 0, 0) == Approx(-0.25));
  CHECK(d(0, 1, 0) == Approx(0.25));
  CHECK(d(0, 0, 1) == Approx(0.375));
  CHECK(d(0, 1, 1) == Approx(-0.375));

  CrossEntropy<double> sum(Reduction::sum);
  CHECK(sum.value_and_grad(ctx, z, y, d) == Approx(3 * std::log(2.0)).epsilon(1e-14));
  CHECK(d(0, 0, 1) == Approx(0.75));
  CHECK(sum.value(ctx, z, y) == Approx(3 * std::log(2.0)).epsilon(1e-14));
  CHECK(std::string(sum.name()) == "cross_entropy");
}

TEST_CASE("CrossEntropy: class weights give PyTorch's weighted mean", "[losses][cross_entropy]") {
  CpuContext ctx(1);
  const auto z = two_by_two();
  const Labels y = labels({{0, 1}});
  Tensor3<double> d;
  CrossEntropy<double> ce({1.0, 3.0});
  // (1 * ln 2 + 3 * ln 4) / (1 + 3)
  CHECK(ce.value_and_grad(ctx, z, y, d) == Approx(7.0 / 4.0 * std::log(2.0)).epsilon(1e-14));
  CHECK(ce.last_weight_sum() == 4);
  CHECK(d(0, 0, 0) == Approx(1.0 / 4.0 * -0.5));
  CHECK(d(0, 0, 1) == Approx(3.0 / 4.0 * 0.75));
  CrossEntropy<double> ces({1.0, 3.0}, Reduction::sum);
  CHECK(ces.value_and_grad(ctx, z, y, d) == Approx(7.0 * std::log(2.0)).epsilon(1e-14));

  CHECK_THROWS_AS(CrossEntropy<double>({1.0, -1.0}), ConfigError);
  CrossEntropy<double> wrong({1.0, 2.0, 3.0});
  CHECK_THROWS_AS(wrong.value_and_grad(ctx, z, y, d), ShapeError);
}

TEST_CASE("CrossEntropy: -100 and positions beyond the length count nowhere", "[losses][cross_entropy]") {
  CpuContext ctx(1);
  // Sequence 0 = the hand case plus an ignored position holding NaN; sequence 1 has length 1 and
  // +inf logits in its padding.
  Tensor3<double> z(2, 2, 3);
  z.setZero();
  z(0, 0, 1) = std::log(3.0);
  z(0, 0, 2) = std::numeric_limits<double>::quiet_NaN();
  z(1, 0, 0) = std::log(3.0);
  z(1, 1, 1) = std::numeric_limits<double>::infinity();
  z(1, 0, 2) = -std::numeric_limits<double>::infinity();
  const Labels y = labels({{0, 1, ignore_index}, {0, 1, 1}});
  ctx.set_lengths({3, 1});
  Tensor3<double> d;
  CrossEntropy<double> ce;
  // ln 2, ln 4, and ln(4/3) for sequence 1 position 0
  CHECK(ce.value_and_grad(ctx, z, y, d) == Approx((std::log(2.0) + std::log(4.0) + std::log(4.0 / 3.0)) / 3).epsilon(1e-14));
  CHECK(ce.last_count() == 3);
  for (Index k = 0; k < 2; ++k) {
    CHECK(d(0, k, 2) == 0);
    CHECK(d(1, k, 1) == 0);
    CHECK(d(1, k, 2) == 0);
  }
  // Without lengths the padded targets count (and their logits are read).
  ctx.clear_lengths();
  z(1, 1, 1) = 0;
  z(1, 0, 2) = 0;
  ce.value_and_grad(ctx, z, y, d);
  CHECK(ce.last_count() == 5);

  // Nothing counted: 0 and a zero gradient, not NaN.
  Labels none(2, 3);
  none.setConstant(ignore_index);
  CHECK(ce.value_and_grad(ctx, z, none, d) == 0);
  CHECK(ce.last_count() == 0);
  for (Index i = 0; i < d.size(); ++i) CHECK(d.data()[i] == 0);
}

TEST_CASE("CrossEntropy: bad targets and shapes are refused", "[losses][cross_entropy]") {
  CpuContext ctx(1);
  const auto z = two_by_two();
  Tensor3<double> d;
  CrossEntropy<double> ce;
  CHECK_THROWS_AS(ce.value_and_grad(ctx, z, labels({{0, 2}}), d), ShapeError);
  CHECK_THROWS_AS(ce.value_and_grad(ctx, z, labels({{0, -1}}), d), ShapeError);
  CHECK_THROWS_AS(ce.value_and_grad(ctx, z, labels({{0, 1, 1}}), d), ShapeError);
  CHECK_THROWS_WITH(ce.value_and_grad(ctx, z, labels({{0, 7}}), d), Catch::Contains("position 1"));
}

TEST_CASE("CrossEntropy: gradcheck (double), with ignores, lengths, weights, both reductions", "[losses][cross_entropy]") {
  CpuContext ctx(2);
  const Index B = 3, K = 4, L = 5;
  auto z = random_tensor<double>(B, K, L, 5, -3, 3);
  Labels y(B, L);
  Rng rng(9);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = static_cast<int>(rng.uniform_int(K));
  y(0, 2) = ignore_index;
  y(2, 0) = ignore_index;
  ctx.set_lengths({5, 3, 4});
  CrossEntropy<double> plain;
  REQUIRE_GRADCHECK(loss_gradcheck(plain, ctx, z, y));
  CrossEntropy<double> weighted({0.5, 2.0, 1.0, 3.0});
  REQUIRE_GRADCHECK(loss_gradcheck(weighted, ctx, z, y));
  CrossEntropy<double> summed({0.5, 2.0, 1.0, 3.0}, Reduction::sum);
  REQUIRE_GRADCHECK(loss_gradcheck(summed, ctx, z, y));
}

TEST_CASE("CrossEntropy: stable for logits of magnitude 1e4", "[losses][cross_entropy]") {
  CpuContext ctx(1);
  Tensor3<float> z(1, 3, 2);
  z(0, 0, 0) = 1e4f; z(0, 1, 0) = -1e4f; z(0, 2, 0) = 0;
  z(0, 0, 1) = 1e4f; z(0, 1, 1) = -1e4f; z(0, 2, 1) = 0;
  Labels y(1, 2);
  y(0, 0) = 0;  // correct with certainty: nll = 0
  y(0, 1) = 1;  // wrong: nll = 2e4
  Tensor3<float> d;
  CrossEntropy<float> ce(Reduction::sum);
  const double v = ce.value_and_grad(ctx, z, y, d);
  CHECK(std::isfinite(v));
  CHECK(v == Approx(2e4).epsilon(1e-12));
  for (Index i = 0; i < d.size(); ++i) CHECK(std::isfinite(d.data()[i]));
  CHECK(d(0, 0, 0) == 0.0f);
  CHECK(d(0, 0, 1) == 1.0f);
  CHECK(d(0, 1, 1) == -1.0f);
}

TEST_CASE("CrossEntropy: bit-identical for 1 and 2 threads", "[losses][cross_entropy]") {
  const Index B = 8, K = 9, L = 300;
  auto z = random_tensor<float>(B, K, L, 77, -4, 4);
  Labels y(B, L);
  Rng rng(3);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = rng.bernoulli(0.1) ? ignore_index : static_cast<int>(rng.uniform_int(K));
  std::vector<Index> lens{300, 17, 250, 1, 299, 120, 300, 64};
  CpuContext c1(1), c2(2);
  c1.set_lengths(lens);
  c2.set_lengths(lens);
  CrossEntropy<float> ce({1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor3<float> d1, d2;
  const double v1 = ce.value_and_grad(c1, z, y, d1);
  const double v2 = ce.value_and_grad(c2, z, y, d2);
  CHECK(v1 == v2);
  CHECK(std::memcmp(d1.data(), d2.data(), sizeof(float) * static_cast<std::size_t>(d1.size())) == 0);
}
