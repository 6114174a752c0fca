#include "nucleo/heads/token_classifier.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<TokenClassifier<64, 9>>);
static_assert(TokenClassifier<64, 9>::in_channels == 64 && TokenClassifier<64, 9>::out_channels == 9);

TEST_CASE("TokenClassifier: conv, act, conv, act, linear by hand (ReLU)", "[heads][token_classifier]") {
  CpuContext ctx(1);
  TokenClassifier<1, 1, 1, double> head(Activation::relu);
  CHECK(head.name() == "token_classifier");
  CHECK(head.activation() == Activation::relu);
  head.get<0>().weight().value << 1, 1, 1;  // moving sum of 3
  head.get<0>().bias().value << -1;
  head.get<2>().weight().value << 0, 2, 0;  // times 2
  head.get<2>().bias().value << 0;
  head.get<4>().weight().value << 3;
  head.get<4>().bias().value << 1;
  Tensor3<double> x(1, 1, 4), y;
  x(0, 0, 0) = 1; x(0, 0, 1) = -2; x(0, 0, 2) = 4; x(0, 0, 3) = 0;
  head.forward(ctx, x, y);
  // sums: -1, 3, 2, 4 ; -1 -> relu(-2,2,1,3) = (0,2,1,3) ; *2 -> relu(0,4,2,6) ; *3 + 1
  CHECK(y(0, 0, 0) == Approx(1));
  CHECK(y(0, 0, 1) == Approx(13));
  CHECK(y(0, 0, 2) == Approx(7));
  CHECK(y(0, 0, 3) == Approx(19));
  TokenClassifier<1, 1, 1, double> gelu;
  CHECK(gelu.activation() == Activation::gelu);
}

TEST_CASE("TokenClassifier: gradcheck with GELU and ReLU", "[heads][token_classifier]") {
  CpuContext ctx(2);
  TokenClassifier<3, 2, 4, double> g(Activation::gelu);
  randomize_params(g, 1);
  REQUIRE_GRADCHECK(gradcheck(g, ctx, random_tensor<double>(2, 3, 6, 2)));
  TokenClassifier<3, 2, 4, double> r(Activation::relu);
  randomize_params(r, 3);
  ctx.set_lengths({6, 4});
  // ReLU kinks sit inside the network: a kink is hit only with probability ~0, checked by the tolerance
  REQUIRE_GRADCHECK(gradcheck(r, ctx, random_tensor<double>(2, 3, 6, 4)));
}

TEST_CASE("TokenClassifier: names, PyTorch init, round trip, padding", "[heads][token_classifier]") {
  CpuContext ctx(2);
  Rng rng(5);
  TokenClassifier<4, 3, 5, double> a(rng);
  CHECK(parameter_names(a) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  CHECK(a.get<0>().weight().shape == std::vector<Index>{5, 4, 3});
  CHECK(a.get<4>().weight().shape == std::vector<Index>{3, 5});
  CHECK(a.get<4>().weight().value.abs().maxCoeff() <= 1 / std::sqrt(5.0));
  CHECK(a.get<4>().bias().value.abs().maxCoeff() > 0);  // PyTorch default, not BEND's zero
  check_roundtrip(a, TokenClassifier<4, 3, 5, double>(), ctx, random_tensor<double>(2, 4, 6, 6));
  check_padding_invariance(a, ctx, random_tensor<double>(2, 4, 10, 7), 6);
}
