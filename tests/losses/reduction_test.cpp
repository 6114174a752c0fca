#include "nucleo/losses/reduction.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/context.hpp"
#include "nucleo/losses/bce_with_logits.hpp"
#include "nucleo/losses/cross_entropy.hpp"
#include "nucleo/losses/masked_cross_entropy.hpp"

#include <cmath>
#include <vector>

using namespace nucleo;
using Catch::Detail::Approx;

// Reduction::mean divides by the number of counted elements (or the sum of their class weights),
// Reduction::sum does not divide; the gradients are scaled the same way. Checked by hand on the
// three losses that take a Reduction.

namespace {

// logits [1, 2, 3]: position 0 z = (0, 0), position 1 z = (0, ln 3), position 2 ignored.
// Targets 0, 1, -100. nll_0 = ln 2 (softmax 1/2, 1/2); nll_1 = -ln(3/4) = ln(4/3) (softmax 1/4, 3/4).
Tensor3<double> two_class_logits() {
  Tensor3<double> z(1, 2, 3);
  z.setValues({{{0.0, 0.0, 7.0}, {0.0, std::log(3.0), -7.0}}});
  return z;
}
Labels two_targets() {
  Labels y(1, 3);
  y << 0, 1, ignore_index;
  return y;
}

}  // namespace

TEST_CASE("Reduction: losses default to mean", "[losses][reduction]") {
  CHECK(CrossEntropy<double>().reduction() == Reduction::mean);
  CHECK(CrossEntropy<double>(std::vector<double>{1, 2}).reduction() == Reduction::mean);
  CHECK(BCEWithLogits<double>().reduction() == Reduction::mean);
  CHECK(CrossEntropy<double>(Reduction::sum).reduction() == Reduction::sum);
  CHECK(Reduction::mean != Reduction::sum);
}

TEST_CASE("Reduction: cross-entropy mean divides value and gradient by the counted positions", "[losses][reduction]") {
  CpuContext ctx(1);
  const auto z = two_class_logits();
  const auto y = two_targets();
  const double nll0 = std::log(2.0), nll1 = std::log(4.0 / 3.0);

  CrossEntropy<double> sum(Reduction::sum), mean(Reduction::mean);
  Tensor3<double> ds, dm;
  CHECK(sum.value_and_grad(ctx, z, y, ds) == Approx(nll0 + nll1).epsilon(1e-14));
  CHECK(mean.value_and_grad(ctx, z, y, dm) == Approx((nll0 + nll1) / 2).epsilon(1e-14));  // 2, not 3: -100 is not counted
  CHECK(mean.last_count() == 2);
  // sum: d/dz = softmax - onehot; mean: the same / 2. The ignored position gets 0 in both.
  CHECK(ds(0, 0, 0) == Approx(-0.5));
  CHECK(ds(0, 1, 0) == Approx(0.5));
  CHECK(ds(0, 0, 1) == Approx(0.25));
  CHECK(ds(0, 1, 1) == Approx(-0.25));
  CHECK(dm(0, 0, 0) == Approx(-0.25));
  CHECK(dm(0, 1, 0) == Approx(0.25));
  CHECK(dm(0, 0, 1) == Approx(0.125));
  CHECK(dm(0, 1, 1) == Approx(-0.125));
  CHECK(ds(0, 0, 2) == 0.0);
  CHECK(dm(0, 1, 2) == 0.0);

  // MaskedCrossEntropy passes its reduction through.
  MaskedCrossEntropy<double> msum(Reduction::sum), mmean;
  CHECK(msum.value(ctx, z, y) == Approx(nll0 + nll1).epsilon(1e-14));
  CHECK(mmean.value(ctx, z, y) == Approx((nll0 + nll1) / 2).epsilon(1e-14));
}

TEST_CASE("Reduction: weighted cross-entropy mean divides by the sum of the weights", "[losses][reduction]") {
  CpuContext ctx(1);
  const auto z = two_class_logits();
  const auto y = two_targets();
  const double nll0 = std::log(2.0), nll1 = std::log(4.0 / 3.0);
  // class weights 1 (target of position 0) and 3 (target of position 1): PyTorch's weighted mean
  // sum(w nll) / sum(w) = (ln 2 + 3 ln 4/3) / 4, and the plain weighted sum.
  CrossEntropy<double> wmean(std::vector<double>{1, 3}), wsum(std::vector<double>{1, 3}, Reduction::sum);
  Tensor3<double> dm, ds;
  CHECK(wmean.value_and_grad(ctx, z, y, dm) == Approx((nll0 + 3 * nll1) / 4).epsilon(1e-14));
  CHECK(wmean.last_weight_sum() == 4.0);
  CHECK(wsum.value_and_grad(ctx, z, y, ds) == Approx(nll0 + 3 * nll1).epsilon(1e-14));
  CHECK(ds(0, 0, 1) == Approx(3 * 0.25));
  CHECK(dm(0, 0, 1) == Approx(3 * 0.25 / 4));
  CHECK(dm(0, 0, 0) == Approx(-0.5 / 4));
}

TEST_CASE("Reduction: BCE mean divides by batch x labels", "[losses][reduction]") {
  CpuContext ctx(1);
  // logits [1, 2, 1] = (0, ln 3), targets (1, 0):
  //   l0 = softplus(-0) = ln 2, l1 = softplus(ln 3) = ln 4;  dl0 = -sigmoid(0) = -1/2, dl1 = sigmoid(ln 3) = 3/4.
  Tensor3<double> x(1, 2, 1);
  x.setValues({{{0.0}, {std::log(3.0)}}});
  MultiLabels<double> t(1, 2);
  t << 1, 0;
  BCEWithLogits<double> sum(Reduction::sum), mean;
  Tensor3<double> ds, dm;
  CHECK(sum.value_and_grad(ctx, x, t, ds) == Approx(std::log(8.0)).epsilon(1e-14));
  CHECK(mean.value_and_grad(ctx, x, t, dm) == Approx(std::log(8.0) / 2).epsilon(1e-14));
  CHECK(mean.last_count() == 2);
  CHECK(ds(0, 0, 0) == Approx(-0.5));
  CHECK(ds(0, 1, 0) == Approx(0.75));
  CHECK(dm(0, 0, 0) == Approx(-0.25));
  CHECK(dm(0, 1, 0) == Approx(0.375));
}

TEST_CASE("Reduction: mean of nothing is 0, not NaN", "[losses][reduction]") {
  CpuContext ctx(1);
  const auto z = two_class_logits();
  Labels none(1, 3);
  none.setConstant(ignore_index);
  Tensor3<double> d;
  for (Reduction r : {Reduction::mean, Reduction::sum}) {
    CrossEntropy<double> ce(r);
    CHECK(ce.value_and_grad(ctx, z, none, d) == 0.0);
    CHECK(ce.last_count() == 0);
    CHECK(d(0, 0, 0) == 0.0);
  }
}

TEST_CASE("Reduction: mean_sequences is the CRF's, per-element losses reject it", "[losses][reduction]") {
  CHECK(reduction_name(Reduction::mean) == "mean");
  CHECK(reduction_name(Reduction::sum) == "sum");
  CHECK(reduction_name(Reduction::mean_sequences) == "mean_sequences");
  CHECK_THROWS_AS(CrossEntropy<double>(Reduction::mean_sequences), ConfigError);
  CHECK_THROWS_AS(CrossEntropy<double>(std::vector<double>{1, 2}, Reduction::mean_sequences), ConfigError);
  CHECK_THROWS_AS(MaskedCrossEntropy<double>(Reduction::mean_sequences), ConfigError);
  CHECK_THROWS_AS(BCEWithLogits<double>(Reduction::mean_sequences), ConfigError);
  CHECK_THROWS_AS(BCEWithLogits<double>(std::vector<double>{1, 2}, Reduction::mean_sequences), ConfigError);
  CHECK_THROWS_WITH(CrossEntropy<float>(Reduction::mean_sequences), Catch::Contains("mean_sequences"));
  CHECK_NOTHROW(CrossEntropy<double>(Reduction::sum));
  CHECK_NOTHROW(BCEWithLogits<double>(Reduction::sum));
}
