#include "nucleo/heads/sequence_classifier.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<SequenceClassifier<64, 18>>);
static_assert(SequenceClassifier<64, 18>::out_channels == 18);

TEST_CASE("SequenceClassifier: mean over valid positions, by hand", "[heads][sequence_classifier]") {
  CpuContext ctx(1);
  SequenceClassifier<1, 2, 1, double> head(Activation::relu);
  CHECK(head.name() == "sequence_classifier");
  head.get<0>().weight().value << 0, 1, 0;  // identity
  head.get<2>().weight().value << 0, 1, 0;
  head.get<5>().weight().value << 1, -2;
  head.get<5>().bias().value << 0, 1;
  Tensor3<double> x(2, 1, 4), y;
  for (Index l = 0; l < 4; ++l) {
    x(0, 0, l) = double(l);  // relu keeps 0 1 2 3 -> mean 1.5
    x(1, 0, l) = 10.0 * double(l + 1);  // valid length 2: 10, 20 -> mean 15 (padding 30, 40 ignored)
  }
  ctx.set_lengths({4, 2});
  head.forward(ctx, x, y);
  REQUIRE(y.dimension(0) == 2);
  REQUIRE(y.dimension(1) == 2);
  REQUIRE(y.dimension(2) == 1);
  CHECK(y(0, 0, 0) == Approx(1.5));
  CHECK(y(0, 1, 0) == Approx(-2));
  CHECK(y(1, 0, 0) == Approx(15));
  CHECK(y(1, 1, 0) == Approx(-29));
}

TEST_CASE("SequenceClassifier: gradcheck, names, init, round trip, padding", "[heads][sequence_classifier]") {
  CpuContext ctx(2);
  SequenceClassifier<3, 2, 4, double> head;
  randomize_params(head, 1);
  REQUIRE_GRADCHECK(gradcheck(head, ctx, random_tensor<double>(2, 3, 6, 2)));
  ctx.set_lengths({6, 3});
  REQUIRE_GRADCHECK(gradcheck(head, ctx, random_tensor<double>(2, 3, 6, 3)));
  ctx.clear_lengths();
  CHECK(parameter_names(head) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"});
  Rng rng(4);
  SequenceClassifier<3, 2, 4, double> a(rng, Activation::relu);
  CHECK(a.activation() == Activation::relu);
  CHECK(a.get<5>().weight().value.abs().maxCoeff() <= 0.5);
  check_roundtrip(a, SequenceClassifier<3, 2, 4, double>(Activation::relu), ctx, random_tensor<double>(2, 3, 5, 5));
  check_padding_invariance(head, ctx, random_tensor<double>(2, 3, 11, 6), 7);
}
