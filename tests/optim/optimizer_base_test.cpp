#include "nucleo/optim/optimizer_base.hpp"

#include <catch2/catch.hpp>

#include "nucleo/optim/adamw.hpp"
#include "nucleo/optim/sgd.hpp"

#include <map>
#include <string>
#include <vector>

using namespace nucleo;

// The checkpoint layout both optimizers get from OptimizerBase: tensor names, their order and the
// state JSON, written out literally (a checkpoint written before the base existed must still load).

namespace {
struct Two {
  using scalar_type = double;
  Param<double> w{{3}, ParamKind::weight};
  Param<double> b{{2}, ParamKind::bias};
  template <class V> void visit_params(V&& v) {
    v("w", w);
    v("b", b);
  }
};

template <class Opt>
std::vector<std::pair<std::string, Eigen::Index>> state_names(Opt& opt) {
  std::vector<std::pair<std::string, Eigen::Index>> out;
  opt.visit_state([&](std::string n, Eigen::ArrayXd& t) { out.emplace_back(std::move(n), t.size()); });
  return out;
}
}  // namespace

TEST_CASE("OptimizerBase: AdamW's state tensors and JSON are named as in every checkpoint", "[optim][optimizer_base]") {
  Two m;
  m.w.grad.setConstant(1.0);
  m.b.grad.setConstant(-1.0);
  AdamW<double> opt({.lr = 0.25, .weight_decay = 0.5});
  opt.step(m);
  using P = std::pair<std::string, Eigen::Index>;
  CHECK(state_names(opt) == std::vector<P>{{"adamw.m.b", 2}, {"adamw.v.b", 2}, {"adamw.m.w", 3}, {"adamw.v.w", 3}});
  CHECK(opt.state_json().dump() ==
        R"({"beta1":0.9,"beta2":0.999,"decay_bias_and_norm":true,"eps":1e-08,"lr":0.25,)"
        R"("params":{"b":2,"w":3},"step":1,"type":"adamw","weight_decay":0.5})");
  // First AdamW step by hand: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2: p <- p(1 - lr wd) - lr sign(g).
  CHECK(m.w.value[0] == Approx(-0.25).epsilon(1e-6));
  CHECK(m.b.value[0] == Approx(0.25).epsilon(1e-6));
}

TEST_CASE("OptimizerBase: Sgd's state tensors and JSON are named as in every checkpoint", "[optim][optimizer_base]") {
  Two m;
  m.w.grad.setConstant(2.0);
  m.b.grad.setConstant(1.0);
  Sgd<double> plain({.lr = 0.5});
  plain.step(m);
  CHECK(state_names(plain).empty());  // no momentum: no state
  CHECK(plain.state_json()["params"].empty());
  CHECK(m.w.value[0] == Approx(-1.0));

  Sgd<double> opt({.lr = 0.5, .momentum = 0.9});
  opt.step(m);
  using P = std::pair<std::string, Eigen::Index>;
  CHECK(state_names(opt) == std::vector<P>{{"sgd.momentum.b", 2}, {"sgd.momentum.w", 3}});
  CHECK(opt.state_json().dump() ==
        R"({"dampening":0.0,"lr":0.5,"momentum":0.9,"nesterov":false,"params":{"b":2,"w":3},"step":1,)"
        R"("type":"sgd","weight_decay":0.0})");
}

TEST_CASE("OptimizerBase: lr, steps, reset and the state type check are shared", "[optim][optimizer_base]") {
  Two m;
  AdamW<double> adam;
  Sgd<double> sgd({.momentum = 0.5});
  adam.set_lr(0.125);
  sgd.set_lr(0.0625);
  CHECK(adam.lr() == 0.125);
  CHECK(adam.options().lr == 0.125);
  CHECK(sgd.lr() == 0.0625);
  adam.step(m);
  sgd.step(m);
  sgd.step(m);
  CHECK(adam.steps() == 1);
  CHECK(sgd.steps() == 2);
  CHECK_THROWS_AS(adam.load_state_json(sgd.state_json()), ConfigError);
  CHECK_THROWS_AS(sgd.load_state_json(adam.state_json()), ConfigError);
  sgd.reset();
  CHECK(sgd.steps() == 0);
  CHECK(state_names(sgd).empty());
  // A reloaded state has zeroed tensors of the recorded sizes, under the same names.
  Sgd<double> again;
  nlohmann::json j = Sgd<double>({.momentum = 0.5}).state_json();
  j["params"] = {{"w", 3}, {"b", 2}};
  again.load_state_json(j);
  CHECK(again.options().momentum == 0.5);
  CHECK(state_names(again) == std::vector<std::pair<std::string, Eigen::Index>>{{"sgd.momentum.b", 2}, {"sgd.momentum.w", 3}});
}
