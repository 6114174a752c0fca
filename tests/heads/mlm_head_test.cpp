#include "nucleo/heads/mlm_head.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<MLMHead<16, 7>>);
static_assert(MLMHead<16, 7>::in_channels == 16 && MLMHead<16, 7>::out_channels == 7);

TEST_CASE("MLMHead: Linear, GELU, LayerNorm, Linear by hand", "[heads][mlm_head]") {
  CpuContext ctx(1);
  MLMHead<2, 3, double> head;
  CHECK(head.name() == "mlm_head");
  head.get<0>().weight().value << 1, 0, 0, 1;  // identity
  head.get<0>().bias().value << 0, 0;
  head.get<3>().weight().value << 1, 0, 0, 1, 1, 1;
  head.get<3>().bias().value << 0, 0, 0.5;
  Tensor3<double> x(1, 2, 1), y;
  x(0, 0, 0) = 2;
  x(0, 1, 0) = -1;
  head.forward(ctx, x, y);
  // GELU(2) > GELU(-1): LayerNorm of two values gives (+r, -r), r = 1/sqrt(1 + 4e-5/(g2-g-1)^2)
  const double g2 = 2 * 0.5 * (1 + std::erf(2 / std::sqrt(2.0))), gm = -0.5 * (1 + std::erf(-1 / std::sqrt(2.0)));
  const double half = (g2 - gm) / 2, r = half / std::sqrt(half * half + 1e-5);
  REQUIRE(y.dimension(1) == 3);
  CHECK(y(0, 0, 0) == Approx(r));
  CHECK(y(0, 1, 0) == Approx(-r));
  CHECK(y(0, 2, 0) == Approx(0.5).margin(1e-12));
}

TEST_CASE("MLMHead: gradcheck, names, BEND init, round trip, padding", "[heads][mlm_head]") {
  CpuContext ctx(2);
  MLMHead<3, 4, double> head;
  randomize_params(head, 1);
  REQUIRE_GRADCHECK(gradcheck(head, ctx, random_tensor<double>(2, 3, 5, 2)));
  CHECK(parameter_names(head) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"});
  MLMHead<512, 7> big;
  CHECK(parameter_count(big) == 267271);  // bend.md section 3: +267,271 for the MLM head at H = 512
  Rng rng(2);
  MLMHead<3, 4, double> a(rng);
  CHECK((a.get<2>().weight().value == 1.0).all());
  CHECK(a.get<3>().bias().value.abs().maxCoeff() == 0);
  CHECK(a.get<0>().weight().value.abs().maxCoeff() > 0);
  check_roundtrip(head, MLMHead<3, 4, double>(), ctx, random_tensor<double>(2, 3, 4, 3));
  check_padding_invariance(head, ctx, random_tensor<double>(2, 3, 9, 4), 5);
}
