#include "nucleo/layers/linear.hpp"

#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<Linear<3, 4>>);

TEST_CASE("Linear: known values at every position", "[layers][linear]") {
  CpuContext ctx(1);
  Linear<2, 3, double> lin;
  lin.weight().value << 1, 2,  //
      -1, 0,                   //
      0, 3;
  lin.bias().value << 0.5, 0, -1;
  Tensor3<double> x(1, 2, 2), y;
  x(0, 0, 0) = 1; x(0, 1, 0) = 2;
  x(0, 0, 1) = -3; x(0, 1, 1) = 0.5;
  lin.forward(ctx, x, y);
  REQUIRE(y.dimension(1) == 3);
  CHECK(y(0, 0, 0) == Approx(5.5));
  CHECK(y(0, 1, 0) == Approx(-1));
  CHECK(y(0, 2, 0) == Approx(5));
  CHECK(y(0, 0, 1) == Approx(-1.5));
  CHECK(y(0, 1, 1) == Approx(3));
  CHECK(y(0, 2, 1) == Approx(0.5));
}

TEST_CASE("Linear: gradcheck (double), with and without batch lengths", "[layers][linear]") {
  CpuContext ctx(2);
  Linear<3, 4, double> lin;
  randomize_params(lin, 1);
  REQUIRE_GRADCHECK(gradcheck(lin, ctx, random_tensor<double>(2, 3, 5, 2)));
  ctx.set_lengths({3, 5});
  REQUIRE_GRADCHECK(gradcheck(lin, ctx, random_tensor<double>(2, 3, 5, 3)));
}

TEST_CASE("Linear: multi-tile batches match a plain matrix product", "[layers][linear]") {
  CpuContext ctx(2);
  Linear<5, 7, double> lin;
  randomize_params(lin, 4);
  Tensor3<double> x = random_tensor<double>(3, 5, 1100, 5), dy = random_tensor<double>(3, 7, 1100, 6), y, dx;
  lin.forward(ctx, x, y);
  zero_grad(lin);
  lin.backward(ctx, x, dy, dx);
  RowMatrix<double> W = lin.weight().matrix(7, 5), gW = RowMatrix<double>::Zero(7, 5);
  Eigen::VectorXd gb = Eigen::VectorXd::Zero(7);
  double ey = 0, edx = 0;
  for (Index b = 0; b < 3; ++b) {
    RowMatrix<double> ry = (W * sequence(x, b)).colwise() + lin.bias().value.matrix();
    ey = std::max(ey, (ry - sequence(y, b)).cwiseAbs().maxCoeff());
    edx = std::max(edx, (W.transpose() * sequence(dy, b) - sequence(dx, b)).cwiseAbs().maxCoeff());
    gW += sequence(dy, b) * sequence(x, b).transpose();
    gb += sequence(dy, b).rowwise().sum();
  }
  CHECK(ey < 1e-12);
  CHECK(edx < 1e-12);
  CHECK((gW - lin.weight().grad_matrix(7, 5)).cwiseAbs().maxCoeff() < 1e-9);
  CHECK((gb.array() - lin.bias().grad).abs().maxCoeff() < 1e-9);
}

TEST_CASE("Linear: names, shapes and BEND / PyTorch inits", "[layers][linear]") {
  Linear<64, 32> lin;
  CHECK(lin.name() == "linear");
  CHECK(parameter_names(lin) == std::vector<std::string>{"weight", "bias"});
  CHECK(lin.weight().shape == std::vector<Index>{32, 64});
  CHECK(lin.bias().shape == std::vector<Index>{32});
  CHECK(lin.bias().kind == ParamKind::bias);
  Rng rng(2);
  lin.bias().value.setOnes();
  lin.init(rng);  // BEND: N(0, 0.02), bias 0
  const auto& w = lin.weight().value;
  const double mean = w.mean(), sd = std::sqrt((w - mean).square().mean());
  CHECK(std::abs(mean) < 0.002);
  CHECK(sd == Approx(0.02).epsilon(0.05));
  CHECK(lin.bias().value.abs().maxCoeff() == 0);
  lin.init_pytorch(rng);  // U(+-1/sqrt(64))
  CHECK(lin.weight().value.abs().maxCoeff() <= 0.125);
  CHECK(lin.weight().value.abs().maxCoeff() > 0.12);
  CHECK(lin.bias().value.abs().maxCoeff() > 0);
  CpuContext ctx(1);
  Tensor3<float> x(1, 3, 2), y;
  x.setZero();
  CHECK_THROWS_AS(lin.forward(ctx, x, y), ShapeError);
}

TEST_CASE("Linear: parameter save -> load round trip", "[layers][linear]") {
  CpuContext ctx(1);
  Linear<3, 2, double> a;
  Rng rng(3);
  a.init_pytorch(rng);
  check_roundtrip(a, Linear<3, 2, double>(), ctx, random_tensor<double>(2, 3, 4, 1));
}

TEST_CASE("Linear: a sequence alone or padded in a batch gives the same result", "[layers][linear]") {
  CpuContext ctx(2);
  Linear<3, 4, double> lin;
  randomize_params(lin, 8);
  check_padding_invariance(lin, ctx, random_tensor<double>(2, 3, 10, 9), 6);
}
