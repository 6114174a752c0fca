#include "nucleo/layers/residual.hpp"

#include <catch2/catch.hpp>

#include "nucleo/layers/sequential.hpp"
#include "support/gradcheck.hpp"
#include "support/toy_layers.hpp"

using namespace nucleo;
using namespace nucleo::testing;

TEST_CASE("Residual: y = x + body(x), by hand", "[layers][residual]") {
  CpuContext ctx(1);
  Residual<Square<>> r;
  Tensor3<double> x(1, 1, 3), y;
  x(0, 0, 0) = 1; x(0, 0, 1) = -2; x(0, 0, 2) = 3;
  r.forward(ctx, x, y);
  CHECK(y(0, 0, 0) == 2);
  CHECK(y(0, 0, 1) == 2);
  CHECK(y(0, 0, 2) == 12);
}

TEST_CASE("Residual: gradients include the identity path, names get 'body.'", "[layers][residual]") {
  CpuContext ctx(1);
  Residual<Sequential<Affine<3, 3>, Square<>>> r;
  randomize_params(r, 7);
  REQUIRE_GRADCHECK(gradcheck(r, ctx, random_tensor<double>(2, 3, 4, 10)));
  CHECK(parameter_names(r) == std::vector<std::string>{"body.0.weight", "body.0.bias"});
}
