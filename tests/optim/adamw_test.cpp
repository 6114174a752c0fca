#include "nucleo/optim/adamw.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/context.hpp"
#include "nucleo/layers/sequential.hpp"
#include "nucleo/testing/gradcheck.hpp"
#include "support/toy_layers.hpp"

#include <cmath>

using namespace nucleo;
using namespace nucleo::testing;

namespace {
/// One scalar weight and one scalar bias, to check updates by hand.
struct Scalars {
  using scalar_type = double;
  static constexpr int in_channels = any_channels, out_channels = any_channels;
  Param<double> w{{1}}, b{{1}, ParamKind::bias}, n{{2}, ParamKind::norm};
  std::string_view name() const { return "scalars"; }
  template <class Ctx> void forward(Ctx&, const Tensor3<double>& x, Tensor3<double>& y) { y = x; }
  template <class Ctx> void backward(Ctx&, const Tensor3<double>&, const Tensor3<double>& dy, Tensor3<double>& dx) { dx = dy; }
  template <class V> void visit_params(V&& v) { v("w", w); v("b", b); v("n", n); }
};

/// torch.optim.AdamW's update for one element, written out in double (the reference).
struct RefAdamW {
  double lr, b1, b2, eps, wd;
  double p, m = 0, v = 0;
  int t = 0;
  void step(double g, bool decay = true) {
    ++t;
    if (decay) p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double denom = std::sqrt(v) / std::sqrt(1 - std::pow(b2, t)) + eps;
    p -= lr / (1 - std::pow(b1, t)) * m / denom;
  }
};

using Net = Sequential<Affine<3, 4>, Square<>, Affine<4, 2>>;

template <class M>
std::vector<double> flat_values(M& model) {
  std::vector<double> out;
  model.visit_params([&](std::string_view, auto& p) { for (Index i = 0; i < p.size(); ++i) out.push_back(p.value[i]); });
  return out;
}

template <class M>
void fill_grads(M& model, std::uint64_t seed) {
  Rng rng(seed, 5);
  model.visit_params([&](std::string_view, auto& p) { for (Index i = 0; i < p.size(); ++i) p.grad[i] = rng.uniform(-1, 1); });
}
}  // namespace

TEST_CASE("AdamW: two steps by hand", "[optim][adamw]") {
  Scalars s;
  s.w.value << 1.0;
  AdamW<double> opt({.lr = 0.1, .weight_decay = 0.01});
  // step 1, g = 0.5: p = 1 * (1 - 0.1*0.01) = 0.999; m = 0.05, v = 0.00025; m^ = 0.5, sqrt(v^) = 0.5
  //   p -= 0.1 * 0.5 / (0.5 + 1e-8)  ->  0.999 - 0.099999998 = 0.899000002
  s.w.grad << 0.5;
  opt.step(s);
  CHECK(s.w.value[0] == Approx(0.899000002).epsilon(1e-12));
  // step 2, g = -0.25: p = 0.899000002 * 0.999; m = 0.045 - 0.025 = 0.02; v = 0.00024975 + 0.0000625 = 0.00031225
  //   m^ = 0.02 / 0.19 = 0.1052631579; v^ = 0.00031225 / 0.001999 = 0.1562031016, sqrt = 0.3952254
  //   p -= 0.1 * 0.1052631579 / 0.3952254 = 0.0266337  ->  0.8714673
  s.w.grad << -0.25;
  opt.step(s);
  CHECK(s.w.value[0] == Approx(0.8714672987058463).epsilon(1e-12));
  CHECK(opt.steps() == 2);
}

TEST_CASE("AdamW: matches torch.optim.AdamW's formula over many steps", "[optim][adamw]") {
  Net net;
  randomize_params(net, 7);
  const AdamWOptions o{.lr = 3e-3, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.05};
  AdamW<double> opt(o);
  std::vector<RefAdamW> ref;
  for (double p : flat_values(net)) ref.push_back({o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, p});
  for (int t = 0; t < 25; ++t) {
    fill_grads(net, 100 + t);
    std::size_t k = 0;
    net.visit_params([&](std::string_view, auto& p) { for (Index i = 0; i < p.size(); ++i) ref[k++].step(p.grad[i]); });
    opt.step(net);
  }
  const auto got = flat_values(net);
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(ref[i].p).epsilon(1e-12).margin(1e-15));
}

TEST_CASE("AdamW: bias and norm parameters can be excluded from weight decay", "[optim][adamw]") {
  Scalars s;
  s.w.value << 2.0;
  s.b.value << 2.0;
  s.n.value << 2.0, -2.0;
  // zero gradients: only the decay moves a parameter
  AdamW<double> all({.lr = 0.1, .weight_decay = 0.5});
  Scalars s1 = s;
  all.step(s1);
  CHECK(s1.w.value[0] == Approx(2.0 * 0.95));
  CHECK(s1.b.value[0] == Approx(2.0 * 0.95));
  CHECK(s1.n.value[1] == Approx(-2.0 * 0.95));
  AdamW<double> weights_only({.lr = 0.1, .weight_decay = 0.5, .decay_bias_and_norm = false});
  weights_only.step(s);
  CHECK(s.w.value[0] == Approx(2.0 * 0.95));
  CHECK(s.b.value[0] == 2.0);
  CHECK(s.n.value[0] == 2.0);
  CHECK(s.n.value[1] == -2.0);
}

TEST_CASE("AdamW: state is keyed by name, survives copying and a state_json/visit_state round trip", "[optim][adamw]") {
  Net a;
  randomize_params(a, 3);
  AdamW<double> opt({.lr = 0.01});
  for (int t = 0; t < 3; ++t) { fill_grads(a, t); opt.step(a); }

  // Continue on a copy of the model with the same optimizer ...
  Net b = a;
  AdamW<double> opt_b = opt;
  // ... and on another copy with an optimizer rebuilt from its saved state.
  Net c = a;
  AdamW<double> opt_c;
  opt_c.load_state_json(nlohmann::json::parse(opt.state_json().dump()));
  std::map<std::string, Eigen::ArrayXd> saved;
  opt.visit_state([&](std::string name, Eigen::ArrayXd& t) { saved[name] = t; });
  CHECK(saved.count("adamw.m.0.weight") == 1);
  CHECK(saved.count("adamw.v.2.bias") == 1);
  CHECK(saved.size() == 2 * parameter_names(a).size());
  opt_c.visit_state([&](std::string name, Eigen::ArrayXd& t) { t = saved.at(name); });

  for (int t = 3; t < 6; ++t) {
    fill_grads(a, t); opt.step(a);
    fill_grads(b, t); opt_b.step(b);
    fill_grads(c, t); opt_c.step(c);
  }
  CHECK(flat_values(a) == flat_values(b));
  CHECK(flat_values(a) == flat_values(c));
  CHECK(opt_c.steps() == 6);
}

TEST_CASE("AdamW: the parallel step is bit-identical to the serial one", "[optim][adamw]") {
  CpuContext ctx(2);
  Net a;
  randomize_params(a, 9);
  Net b = a;
  AdamW<double> oa, ob;
  for (int t = 0; t < 4; ++t) {
    fill_grads(a, t); oa.step(a);
    fill_grads(b, t); ob.step(ctx, b);
  }
  CHECK(flat_values(a) == flat_values(b));
}

TEST_CASE("AdamW: bad state and options are refused", "[optim][adamw]") {
  CHECK_THROWS_AS(AdamW<double>({.lr = -1}), ConfigError);
  CHECK_THROWS_AS(AdamW<double>({.beta1 = 1.0}), ConfigError);
  AdamW<double> opt;
  CHECK_THROWS_AS(opt.load_state_json({{"type", "sgd"}}), ConfigError);
  nlohmann::json j = opt.state_json();
  j["params"] = {{"0.weight", 5}};  // Net's 0.weight has 12 elements
  opt.load_state_json(j);
  Net net;
  try {
    opt.step(net);
    FAIL("expected a ShapeError");
  } catch (const ShapeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("0.weight") && Catch::Contains("12") && Catch::Contains("5"));
  }
}

TEST_CASE("Gradient accumulation: two micro-batches of one == one batch of two", "[optim][adamw]") {
  // Loss summed over the batch: L = sum_b 0.5 * |y_b - t_b|^2, dL/dy = y - t. Param grads accumulate,
  // so zero_grad once, backward per micro-batch, then one optimizer step.
  CpuContext ctx(1);
  Net whole;
  randomize_params(whole, 11);
  Net micro = whole;
  const Tensor3<double> x = random_tensor<double>(2, 3, 5, 21);
  const Tensor3<double> target = random_tensor<double>(2, 2, 5, 22);
  AdamW<double> o1({.lr = 0.01}), o2({.lr = 0.01});

  auto run = [&](Net& net, const Tensor3<double>& xb, const Tensor3<double>& tb) {
    Tensor3<double> y, dx;
    net.forward(ctx, xb, y);
    Tensor3<double> dy = y - tb;
    net.backward(ctx, xb, dy, dx);
  };
  auto slice = [](const Tensor3<double>& t, Index b) {
    Tensor3<double> s(1, t.dimension(1), t.dimension(2));
    for (Index i = 0; i < s.size(); ++i) s.data()[i] = t.data()[b * s.size() + i];
    return s;
  };
  for (int step = 0; step < 3; ++step) {
    zero_grad(whole);
    run(whole, x, target);
    o1.step(whole);
    zero_grad(micro);
    run(micro, slice(x, 0), slice(target, 0));
    run(micro, slice(x, 1), slice(target, 1));
    o2.step(micro);
  }
  const auto a = flat_values(whole), b = flat_values(micro);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-12));
}

TEST_CASE("AdamW: Param::lr_scale multiplies the step, not the decay", "[optim][adamw]") {
  Scalars s;
  s.w.value << 1.0;
  s.w.lr_scale = 3.0;
  AdamW<double> opt({.lr = 0.1, .weight_decay = 0.01});
  // as "two steps by hand", step 1, with the Adam step times 3: 0.999 - 3 * 0.099999998
  s.w.grad << 0.5;
  opt.step(s);
  CHECK(s.w.value[0] == Approx(0.999 - 3 * 0.099999998).epsilon(1e-12));
}
