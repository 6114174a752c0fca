#include "nucleo/layers/relu.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<ReLU<>>);

TEST_CASE("ReLU: known values and gradient", "[layers][relu]") {
  CpuContext ctx(1);
  ReLU<double> r;
  Tensor3<double> x(1, 1, 3), y, dy(1, 1, 3), dx;
  x(0, 0, 0) = -2; x(0, 0, 1) = 0; x(0, 0, 2) = 1.5;
  dy.setConstant(3);
  r.forward(ctx, x, y);
  CHECK(y(0, 0, 0) == 0);
  CHECK(y(0, 0, 1) == 0);
  CHECK(y(0, 0, 2) == 1.5);
  r.backward(ctx, x, dy, dx);
  CHECK(dx(0, 0, 0) == 0);
  CHECK(dx(0, 0, 1) == 0);
  CHECK(dx(0, 0, 2) == 3);
}

TEST_CASE("ReLU: gradcheck (double) away from the kink, name, no params", "[layers][relu]") {
  CpuContext ctx(2);
  ReLU<double> r;
  Tensor3<double> x = random_tensor<double>(2, 3, 5, 2);
  GradcheckOptions o;
  o.skip_input = [&](Index i) { return std::abs(x.data()[i]) < 1e-3; };
  REQUIRE_GRADCHECK(gradcheck(r, ctx, x, o));
  CHECK(r.name() == "relu");
  CHECK(parameter_count(r) == 0);
  check_roundtrip(r, ReLU<double>(), ctx, random_tensor<double>(1, 2, 3, 3));
  check_padding_invariance(r, ctx, random_tensor<double>(2, 2, 8, 4), 5, 0.0, /*zeros_on_padding=*/false);
}
