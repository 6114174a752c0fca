#include "nucleo/optim/sgd.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/context.hpp"
#include "support/toy_layers.hpp"

using namespace nucleo;
using namespace nucleo::testing;

namespace {
struct One {
  using scalar_type = double;
  static constexpr int in_channels = any_channels, out_channels = any_channels;
  Param<double> w{{1}};
  std::string_view name() const { return "one"; }
  template <class Ctx> void forward(Ctx&, const Tensor3<double>& x, Tensor3<double>& y) { y = x; }
  template <class Ctx> void backward(Ctx&, const Tensor3<double>&, const Tensor3<double>& dy, Tensor3<double>& dx) { dx = dy; }
  template <class V> void visit_params(V&& v) { v("w", w); }
};
}  // namespace

TEST_CASE("Sgd: plain steps by hand", "[optim][sgd]") {
  One m;
  m.w.value << 1.0;
  Sgd<double> opt({.lr = 0.1});
  m.w.grad << 2.0;
  opt.step(m);  // 1 - 0.2
  CHECK(m.w.value[0] == Approx(0.8));
  m.w.grad << -1.0;
  opt.step(m);  // 0.8 + 0.1
  CHECK(m.w.value[0] == Approx(0.9));
}

TEST_CASE("Sgd: momentum and weight decay by hand", "[optim][sgd]") {
  One m;
  m.w.value << 1.0;
  Sgd<double> opt({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5});
  // step 1: d = 2 + 0.5*1 = 2.5; buf = 2.5; p = 1 - 0.25 = 0.75
  m.w.grad << 2.0;
  opt.step(m);
  CHECK(m.w.value[0] == Approx(0.75));
  // step 2: d = 1 + 0.375 = 1.375; buf = 0.9*2.5 + 1.375 = 3.625; p = 0.75 - 0.3625 = 0.3875
  m.w.grad << 1.0;
  opt.step(m);
  CHECK(m.w.value[0] == Approx(0.3875));
}

TEST_CASE("Sgd: Nesterov momentum by hand", "[optim][sgd]") {
  One m;
  m.w.value << 1.0;
  Sgd<double> opt({.lr = 0.1, .momentum = 0.5, .nesterov = true});
  // step 1: buf = 2; d = 2 + 0.5*2 = 3; p = 0.7
  m.w.grad << 2.0;
  opt.step(m);
  CHECK(m.w.value[0] == Approx(0.7));
  // step 2: buf = 0.5*2 + 1 = 2; d = 1 + 1 = 2; p = 0.5
  m.w.grad << 1.0;
  opt.step(m);
  CHECK(m.w.value[0] == Approx(0.5));
  CHECK_THROWS_AS(Sgd<double>({.momentum = 0, .nesterov = true}), ConfigError);
}

TEST_CASE("Sgd: momentum state round trip continues identically", "[optim][sgd]") {
  One a;
  a.w.value << 1.0;
  Sgd<double> opt({.lr = 0.05, .momentum = 0.9});
  a.w.grad << 1.0;
  opt.step(a);
  One b = a;
  Sgd<double> opt_b;
  opt_b.load_state_json(opt.state_json());
  std::map<std::string, Eigen::ArrayXd> saved;
  opt.visit_state([&](std::string n, Eigen::ArrayXd& t) { saved[n] = t; });
  REQUIRE(saved.count("sgd.momentum.w") == 1);
  opt_b.visit_state([&](std::string n, Eigen::ArrayXd& t) { t = saved.at(n); });
  a.w.grad << -0.5;
  b.w.grad << -0.5;
  opt.step(a);
  opt_b.step(b);
  CHECK(a.w.value[0] == b.w.value[0]);
  CHECK_THROWS_AS(opt_b.load_state_json({{"type", "adamw"}}), ConfigError);
}

TEST_CASE("Sgd: Param::lr_scale multiplies the step", "[optim][sgd]") {
  One m;
  m.w.value << 1.0;
  m.w.lr_scale = 4.0;
  Sgd<double> opt({.lr = 0.1});
  m.w.grad << 2.0;
  opt.step(m);  // 1 - 4 * 0.2
  CHECK(m.w.value[0] == Approx(0.2));
}
