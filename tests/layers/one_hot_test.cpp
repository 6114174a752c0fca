#include "nucleo/layers/one_hot.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<OneHot<7, 16>>);
static_assert(OneHot<7, 16>::in_channels == 1 && OneHot<7, 16>::out_channels == 16);

TEST_CASE("OneHot: ids to a Width-wide one-hot with only the first V channels set", "[layers][one_hot]") {
  CpuContext ctx(1);
  OneHot<3, 5, double> oh;
  CHECK(oh.name() == "one_hot");
  Tensor3<double> x(1, 1, 4), y;
  x(0, 0, 0) = 2; x(0, 0, 1) = 0; x(0, 0, 2) = 1; x(0, 0, 3) = 2;
  oh.forward(ctx, x, y);
  REQUIRE(y.dimension(1) == 5);
  const int expect[4] = {2, 0, 1, 2};
  for (Index l = 0; l < 4; ++l)
    for (Index c = 0; c < 5; ++c) CHECK(y(0, c, l) == (c == expect[l] ? 1.0 : 0.0));
}

TEST_CASE("OneHot: ids outside 0..V-1 or non-integers are ShapeErrors naming value and position",
          "[layers][one_hot]") {
  CpuContext ctx(1);
  OneHot<7, 8> oh;
  Tensor3<float> x(2, 1, 3), y;
  x.setConstant(1);
  x(1, 0, 2) = 7;
  try {
    oh.forward(ctx, x, y);
    FAIL("no error");
  } catch (const ShapeError& e) {
    const std::string m = e.what();
    CHECK(m.find("token id 7") != std::string::npos);
    CHECK(m.find("sequence 1, position 2") != std::string::npos);
  }
  x(1, 0, 2) = -1;
  CHECK_THROWS_AS(oh.forward(ctx, x, y), ShapeError);
  x(1, 0, 2) = 0.5;
  CHECK_THROWS_AS(oh.forward(ctx, x, y), ShapeError);
  // a bad id on a padded position is not read
  ctx.set_lengths({3, 2});
  x(1, 0, 2) = 99;
  CHECK_NOTHROW(oh.forward(ctx, x, y));
  Tensor3<float> two(1, 2, 3);
  two.setZero();
  CHECK_THROWS_AS(oh.forward(ctx, two, y), ShapeError);
}

TEST_CASE("OneHot: input gradient is zero, no params, padding invariance", "[layers][one_hot]") {
  CpuContext ctx(2);
  OneHot<4, 6, double> oh;
  Tensor3<double> x(2, 1, 9), y, dx;
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = double(i % 4);
  GradcheckOptions o;
  o.check_input = false;
  REQUIRE_GRADCHECK(gradcheck(oh, ctx, x, o));
  oh.forward(ctx, x, y);
  Tensor3<double> dy = random_tensor<double>(2, 6, 9, 1);
  dx.resize(2, 1, 9);
  dx.setConstant(std::nan(""));
  oh.backward(ctx, x, dy, dx);
  for (Index i = 0; i < dx.size(); ++i) REQUIRE(dx.data()[i] == 0.0);
  CHECK(parameter_count(oh) == 0);
  check_roundtrip(oh, OneHot<4, 6, double>(), ctx, x);
  check_padding_invariance(oh, ctx, x, 5, 0.0);
}
