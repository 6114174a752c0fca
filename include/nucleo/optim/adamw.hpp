#pragma once
/// `AdamW<Scalar>`: Adam with decoupled weight decay, as `torch.optim.AdamW` (amsgrad off).
///
/// For each parameter p with gradient g, at step t = 1, 2, ...:
///
///     p  <- p - lr * wd * p                     (decoupled decay; skipped for ParamKind::bias/norm
///                                                 when `decay_bias_and_norm` is false)
///     m  <- b1 * m + (1 - b1) * g
///     v  <- b2 * v + (1 - b2) * g^2
///     p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 (BEND uses
/// lr 3e-3 and applies the decay to every parameter, LayerNorm and biases included).
///
/// State: m and v per parameter, keyed by the parameter's dotted name (not by address), and one step
/// count. A copied or reloaded model therefore keeps its optimizer state, and checkpoints store it
/// as named tensors "adamw.m.<param>" / "adamw.v.<param>" (`visit_state`) plus `state_json()`.
///
/// Threads: `step(ctx, model)` updates parameters in parallel, one parameter per task; every
/// element's update depends only on that element, so results equal the serial `step(model)` bit
/// for bit, for any thread count.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/detail/optimizer_state.hpp"
#include "nucleo/detail/param_list.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

namespace nucleo {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  /// false: parameters of kind bias and norm (LayerNorm gains/shifts) are not decayed.
  bool decay_bias_and_norm = true;
};

template <class Scalar = float>
class AdamW {
 public:
  using scalar_type = Scalar;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  explicit AdamW(AdamWOptions options = {}) : opt_(options) { validate(); }

  const AdamWOptions& options() const { return opt_; }
  double lr() const { return opt_.lr; }
  /// The LR schedule sets this before every step.
  void set_lr(double lr) { opt_.lr = lr; }
  /// Number of steps taken so far.
  std::int64_t steps() const { return t_; }

  /// One update of every parameter of `model` from its accumulated gradient (serial).
  template <class Model>
  void step(Model& model) {
    auto work = prepare(model);
    for (auto& w : work) update(w);
  }

  /// The same update with parameters spread over `ctx`'s threads (bit-identical to the serial one).
  template <class Ctx, class Model>
  void step(Ctx& ctx, Model& model) {
    auto work = prepare(model);
    ctx.parallel_for(static_cast<Index>(work.size()), 1, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) update(work[static_cast<std::size_t>(i)]);
    });
  }

  /// Scalars of the state: type, step count, options and the size of every state tensor.
  nlohmann::json state_json() const {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& [name, s] : slots_) sizes[name] = s.m.size();
    return {{"type", "adamw"},
            {"step", t_},
            {"lr", opt_.lr},
            {"beta1", opt_.beta1},
            {"beta2", opt_.beta2},
            {"eps", opt_.eps},
            {"weight_decay", opt_.weight_decay},
            {"decay_bias_and_norm", opt_.decay_bias_and_norm},
            {"params", sizes}};
  }

  /// Restore the scalars and allocate (zeroed) state tensors; `visit_state` then fills them.
  /// `max_elements` >= 0 bounds the state elements the JSON may ask for (a checkpoint passes what
  /// its file holds, so that a forged size cannot allocate without limit).
  void load_state_json(const nlohmann::json& j, Index max_elements = -1) {
    if (!j.is_object() || j.value("type", std::string()) != "adamw")
      throw ConfigError(fmt::format("AdamW: optimizer state is not AdamW's (type '{}')",
                                    j.is_object() ? j.value("type", std::string("?")) : std::string("?")));
    t_ = j.at("step").get<std::int64_t>();
    opt_.lr = j.at("lr").get<double>();
    opt_.beta1 = j.at("beta1").get<double>();
    opt_.beta2 = j.at("beta2").get<double>();
    opt_.eps = j.at("eps").get<double>();
    opt_.weight_decay = j.at("weight_decay").get<double>();
    opt_.decay_bias_and_norm = j.at("decay_bias_and_norm").get<bool>();
    validate();
    const auto sizes = detail::checked_state_sizes(j, max_elements, 2);
    slots_.clear();
    for (const auto& [name, n] : sizes) {
      Slot s;
      s.m = Array::Zero(n);
      s.v = Array::Zero(n);
      slots_.emplace(name, std::move(s));
    }
  }

  /// f(std::string name, Array& tensor) for every state tensor, in a fixed (name) order.
  template <class F>
  void visit_state(F&& f) {
    for (auto& [name, s] : slots_) {
      f(std::string("adamw.m.") + name, s.m);
      f(std::string("adamw.v.") + name, s.v);
    }
  }

  /// Forget all state (step count and moments).
  void reset() {
    slots_.clear();
    t_ = 0;
  }

 private:
  struct Slot {
    Array m, v;
  };
  struct Work {
    Param<Scalar>* p;
    Slot* s;
    bool decay;
  };

  void validate() const {
    if (!(opt_.lr >= 0) || !(opt_.eps >= 0) || !(opt_.weight_decay >= 0) || !(opt_.beta1 >= 0 && opt_.beta1 < 1) ||
        !(opt_.beta2 >= 0 && opt_.beta2 < 1))
      throw ConfigError(fmt::format("AdamW: invalid options lr={} betas=({}, {}) eps={} weight_decay={}", opt_.lr,
                                    opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay));
  }

  template <class Model>
  std::vector<Work> prepare(Model& model) {
    ++t_;
    const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
    step_size_ = static_cast<Scalar>(opt_.lr / bc1);
    sqrt_bc2_ = static_cast<Scalar>(std::sqrt(bc2));
    decay_factor_ = static_cast<Scalar>(1.0 - opt_.lr * opt_.weight_decay);
    std::vector<Work> work;
    for (auto& np : detail::param_list<Scalar>(model)) {
      auto [it, fresh] = slots_.try_emplace(np.name);
      Slot& s = it->second;
      const Index n = np.param->size();
      if (fresh) {
        s.m = Array::Zero(n);
        s.v = Array::Zero(n);
      } else if (s.m.size() != n) {
        throw ShapeError(fmt::format("AdamW: parameter '{}' has {} elements but its optimizer state has {}",
                                     np.name, n, s.m.size()));
      }
      NUCLEO_CHECK(np.param->grad.size() == n, "AdamW: parameter '{}' has {} values but {} gradients", np.name, n,
                   np.param->grad.size());
      const bool decay = opt_.weight_decay != 0 &&
                         (opt_.decay_bias_and_norm || np.param->kind == ParamKind::weight);
      work.push_back({np.param, &s, decay});
    }
    return work;
  }

  void update(Work& w) const {
    auto& p = w.p->value;
    const auto& g = w.p->grad;
    const Scalar b1 = static_cast<Scalar>(opt_.beta1), b2 = static_cast<Scalar>(opt_.beta2);
    const Scalar eps = static_cast<Scalar>(opt_.eps);
    if (w.decay) p *= decay_factor_;
    w.s->m = b1 * w.s->m + (Scalar(1) - b1) * g;
    w.s->v = b2 * w.s->v + (Scalar(1) - b2) * g.square();
    p -= step_size_ * w.s->m / (w.s->v.sqrt() / sqrt_bc2_ + eps);
  }

  AdamWOptions opt_;
  std::map<std::string, Slot> slots_;
  std::int64_t t_ = 0;
  Scalar step_size_ = 0, sqrt_bc2_ = 1, decay_factor_ = 1;
};

}  // namespace nucleo
