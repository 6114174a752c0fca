#include "nucleo/layers/gelu.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<GELU<>>);

TEST_CASE("GELU: exact erf form, known values", "[layers][gelu]") {
  CpuContext ctx(1);
  GELU<double> g;
  Tensor3<double> x(1, 1, 4), y;
  x(0, 0, 0) = 0; x(0, 0, 1) = 1; x(0, 0, 2) = -1; x(0, 0, 3) = 3;
  g.forward(ctx, x, y);
  CHECK(y(0, 0, 0) == 0);
  CHECK(y(0, 0, 1) == Approx(0.8413447460685429));   // Phi(1)
  CHECK(y(0, 0, 2) == Approx(-0.15865525393145707));  // -Phi(-1)
  CHECK(y(0, 0, 3) == Approx(3 * 0.9986501019683699));
  // float path (vectorised erf) agrees with double to float precision
  GELU<float> gf;
  Tensor3<float> xf = random_tensor<float>(1, 3, 1000, 1, -6, 6), yf;
  Tensor3<double> xd = xf.cast<double>(), yd;
  gf.forward(ctx, xf, yf);
  g.forward(ctx, xd, yd);
  double err = 0;
  for (Index i = 0; i < yd.size(); ++i) err = std::max(err, std::abs(double(yf.data()[i]) - yd.data()[i]));
  CHECK(err < 2e-6);
}

TEST_CASE("GELU: gradcheck (double), name, no params", "[layers][gelu]") {
  CpuContext ctx(2);
  GELU<double> g;
  REQUIRE_GRADCHECK(gradcheck(g, ctx, random_tensor<double>(2, 3, 5, 2, -3, 3)));
  CHECK(g.name() == "gelu");
  CHECK(parameter_count(g) == 0);
  check_roundtrip(g, GELU<double>(), ctx, random_tensor<double>(1, 2, 3, 3));
  check_padding_invariance(g, ctx, random_tensor<double>(2, 2, 8, 4), 5, 0.0, /*zeros_on_padding=*/false);
}
