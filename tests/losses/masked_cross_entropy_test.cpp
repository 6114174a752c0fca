#include "nucleo/losses/masked_cross_entropy.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "support/gradcheck.hpp"
#include "support/loss_gradcheck.hpp"

#include <cmath>

using namespace nucleo;
using namespace nucleo::testing;
using Catch::Detail::Approx;

static_assert(Loss<MaskedCrossEntropy<float>>);

TEST_CASE("MaskedCrossEntropy: mean over masked positions only, by hand", "[losses][masked_cross_entropy]") {
  CpuContext ctx(1);
  // V = 3 tokens, L = 4; positions 1 and 3 are masked (targets 2 and 0), the rest -100.
  Tensor3<double> z(1, 3, 4);
  z.setZero();
  z(0, 2, 1) = std::log(2.0);  // p(2) = 2/4 -> nll ln 2
  z(0, 1, 3) = std::log(5.0);  // p(0) = 1/7 -> nll ln 7
  z(0, 0, 0) = 100;            // unmasked: ignored
  Labels y(1, 4);
  y << ignore_index, 2, ignore_index, 0;
  MaskedCrossEntropy<double> mlm;
  Tensor3<double> d;
  CHECK(mlm.value_and_grad(ctx, z, y, d) == Approx((std::log(2.0) + std::log(7.0)) / 2).epsilon(1e-14));
  CHECK(mlm.last_count() == 2);
  CHECK(mlm.last_correct() == 1);
  for (Index k = 0; k < 3; ++k) {
    CHECK(d(0, k, 0) == 0);
    CHECK(d(0, k, 2) == 0);
  }
  CHECK(d(0, 2, 1) == Approx((0.5 - 1) / 2));
  CHECK(std::string(mlm.name()) == "masked_cross_entropy");
  // Identical to CrossEntropy on the same targets (shared kernel).
  CrossEntropy<double> ce;
  CHECK(ce.value(ctx, z, y) == mlm.value(ctx, z, y));
}

TEST_CASE("MaskedCrossEntropy: gradcheck (double) and length handling", "[losses][masked_cross_entropy]") {
  CpuContext ctx(1);
  const Index B = 2, V = 7, L = 6;
  auto z = random_tensor<double>(B, V, L, 21, -2, 2);
  Labels y(B, L);
  y.setConstant(ignore_index);
  y(0, 1) = 3; y(0, 4) = 6; y(1, 0) = 0; y(1, 5) = 2;  // (1, 5) lies beyond sequence 1's length
  ctx.set_lengths({6, 4});
  MaskedCrossEntropy<double> mlm;
  REQUIRE_GRADCHECK(loss_gradcheck(mlm, ctx, z, y));
  mlm.value(ctx, z, y);
  CHECK(mlm.last_count() == 3);
}
