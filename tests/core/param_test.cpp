#include "nucleo/core/param.hpp"

#include <catch2/catch.hpp>

using namespace nucleo;

TEST_CASE("Param: shape, zeroed value and grad, matrix view is row-major", "[core][param]") {
  Param<float> p({2, 3}, ParamKind::weight);
  CHECK(p.size() == 6);
  CHECK(p.value.isZero());
  CHECK(p.grad.isZero());
  for (int i = 0; i < 6; ++i) p.value[i] = static_cast<float>(i);
  auto m = p.matrix(2, 3);
  CHECK(m(0, 2) == 2.0f);
  CHECK(m(1, 0) == 3.0f);
  p.grad.setConstant(1);
  p.zero_grad();
  CHECK(p.grad.isZero());
  CHECK(shape_string(p.shape) == "[2, 3]");
}
