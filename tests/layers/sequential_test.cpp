#include "nucleo/layers/sequential.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/toy_layers.hpp"

using namespace nucleo;
using namespace nucleo::testing;

using Net = Sequential<Affine<2, 3>, Square<>, Affine<3, 1>>;
static_assert(Layer<Net>);
static_assert(Net::in_channels == 2 && Net::out_channels == 1);
static_assert(Sequential<Square<>, Affine<4, 2>>::in_channels == 4, "shape-preserving first layer takes the next's");
static_assert(Sequential<Affine<4, 2>, Square<>>::out_channels == 2, "shape-preserving last layer passes through");

TEST_CASE("Sequential: forward is the composition, by hand", "[layers][sequential]") {
  CpuContext ctx(1);
  Net net;
  auto& a = net.get<0>();
  auto& c = net.get<2>();
  // a: y0 = x0 + 2*x1 + 1, y1 = -x0, y2 = x1 ; c: z = y0 + y1 + y2 (bias 0.5)
  a.weight().value << 1, 2, -1, 0, 0, 1;
  a.bias().value << 1, 0, 0;
  c.weight().value << 1, 1, 1;
  c.bias().value << 0.5;
  Tensor3<double> x(1, 2, 2), y;
  x(0, 0, 0) = 1; x(0, 1, 0) = 2;   // y = (6, -1, 2) -> squares 36, 1, 4 -> 41.5
  x(0, 0, 1) = 0; x(0, 1, 1) = -1;  // y = (-1, 0, -1) -> 1, 0, 1 -> 2.5
  net.forward(ctx, x, y);
  REQUIRE(y.dimension(1) == 1);
  CHECK(y(0, 0, 0) == Approx(41.5));
  CHECK(y(0, 0, 1) == Approx(2.5));
}

TEST_CASE("Sequential: gradients pass gradcheck, names are numbered", "[layers][sequential]") {
  CpuContext ctx(1);
  Net net;
  randomize_params(net, 3);
  REQUIRE_GRADCHECK(gradcheck(net, ctx, random_tensor<double>(2, 2, 5, 4)));
  CHECK(parameter_names(net) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(parameter_count(net) == 2 * 3 + 3 + 3 + 1);
}

TEST_CASE("Sequential: nested Sequentials prefix names by position", "[layers][sequential]") {
  Sequential<Sequential<Affine<2, 2>, Square<>>, Affine<2, 1>> net;
  CHECK(parameter_names(net) == std::vector<std::string>{"0.0.weight", "0.0.bias", "1.weight", "1.bias"});
}
