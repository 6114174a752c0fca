#include "nucleo/optim/grad_clip.hpp"

#include <catch2/catch.hpp>

#include "nucleo/layers/sequential.hpp"
#include "support/toy_layers.hpp"

#include <limits>

using namespace nucleo;
using namespace nucleo::testing;

TEST_CASE("clip_grad_norm: global norm over all parameters, scaled only when above", "[optim][grad_clip]") {
  Sequential<Affine<1, 1>, Affine<1, 1>> net;  // four scalars: 0.weight 0.bias 1.weight 1.bias
  auto set = [&](double a, double b, double c, double d) {
    net.get<0>().weight().grad << a;
    net.get<0>().bias().grad << b;
    net.get<1>().weight().grad << c;
    net.get<1>().bias().grad << d;
  };
  set(3, 0, 0, 4);  // norm 5 spread over two layers
  CHECK(grad_norm(net) == Approx(5.0));
  CHECK(clip_grad_norm(net, 10.0) == Approx(5.0));
  CHECK(net.get<0>().weight().grad[0] == 3.0);  // untouched below the threshold
  CHECK(clip_grad_norm(net, 1.0) == Approx(5.0));
  CHECK(net.get<0>().weight().grad[0] == Approx(0.6).epsilon(1e-6));
  CHECK(net.get<1>().bias().grad[0] == Approx(0.8).epsilon(1e-6));
  CHECK(grad_norm(net) == Approx(1.0).epsilon(1e-6));

  set(std::numeric_limits<double>::infinity(), 1, 1, 1);
  CHECK_FALSE(std::isfinite(clip_grad_norm(net, 1.0)));
  CHECK(net.get<0>().bias().grad[0] == 1.0);  // left for the caller to skip the step
}
