#include "nucleo/layers/layer_norm.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<LayerNorm<8>>);

TEST_CASE("LayerNorm: known values over the channels of each position", "[layers][layer_norm]") {
  CpuContext ctx(1);
  LayerNorm<2, double> ln;
  ln.weight().value << 2, 1;
  ln.bias().value << 0, 10;
  Tensor3<double> x(1, 2, 2), y;
  x(0, 0, 0) = 1; x(0, 1, 0) = 3;  // mean 2, var 1 -> xh = (-1, 1)/sqrt(1 + 1e-5)
  x(0, 0, 1) = 5; x(0, 1, 1) = 5;  // var 0 -> xh = 0
  ln.forward(ctx, x, y);
  const double r = 1 / std::sqrt(1 + 1e-5);
  CHECK(y(0, 0, 0) == Approx(-2 * r));
  CHECK(y(0, 1, 0) == Approx(10 + r));
  CHECK(y(0, 0, 1) == Approx(0).margin(1e-12));
  CHECK(y(0, 1, 1) == Approx(10));
}

TEST_CASE("LayerNorm: gradcheck (double)", "[layers][layer_norm]") {
  CpuContext ctx(2);
  LayerNorm<4, double> ln;
  randomize_params(ln, 1, 0.5, 1.5);
  REQUIRE_GRADCHECK(gradcheck(ln, ctx, random_tensor<double>(2, 4, 6, 2)));
  ctx.set_lengths({6, 2});
  REQUIRE_GRADCHECK(gradcheck(ln, ctx, random_tensor<double>(2, 4, 6, 3)));
}

TEST_CASE("LayerNorm: names, kinds, init and eps", "[layers][layer_norm]") {
  LayerNorm<3> ln;
  CHECK(ln.name() == "layer_norm");
  CHECK(ln.eps() == 1e-5);
  CHECK(parameter_names(ln) == std::vector<std::string>{"weight", "bias"});
  CHECK(ln.weight().kind == ParamKind::norm);
  CHECK(ln.bias().kind == ParamKind::bias);
  CHECK((ln.weight().value == 1.0f).all());
  CHECK((ln.bias().value == 0.0f).all());
  CHECK(LayerNorm<3>(1e-3).eps() == 1e-3);
  CHECK_THROWS_AS(LayerNorm<3>(0.0), ConfigError);
}

TEST_CASE("LayerNorm: parameter save -> load round trip", "[layers][layer_norm]") {
  CpuContext ctx(1);
  LayerNorm<3, double> a;
  randomize_params(a, 4);
  check_roundtrip(a, LayerNorm<3, double>(), ctx, random_tensor<double>(2, 3, 5, 5));
}

TEST_CASE("LayerNorm: a sequence alone or padded in a batch gives the same result", "[layers][layer_norm]") {
  CpuContext ctx(2);
  LayerNorm<3, double> ln;
  randomize_params(ln, 6);
  check_padding_invariance(ln, ctx, random_tensor<double>(2, 3, 9, 7), 4);
}
