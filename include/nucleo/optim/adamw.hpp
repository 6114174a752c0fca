#pragma once
/// `AdamW<Scalar>`: Adam with decoupled weight decay, as `torch.optim.AdamW` (amsgrad off).
///
/// For each parameter p with gradient g, at step t = 1, 2, ...:
///
///     p  <- p - lr * wd * p                     (decoupled decay; skipped for ParamKind::bias/norm
///                                                 when `decay_bias_and_norm` is false)
///     m  <- b1 * m + (1 - b1) * g
///     v  <- b2 * v + (1 - b2) * g^2
///     p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (lr x Param::lr_scale)
///
/// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 (BEND uses
/// lr 3e-3 and applies the decay to every parameter, LayerNorm and biases included).
///
/// State: m and v per parameter, keyed by the parameter's dotted name (not by address), and one step
/// count. A copied or reloaded model therefore keeps its optimizer state, and checkpoints store it
/// as named tensors "adamw.m.<param>" / "adamw.v.<param>" (`visit_state`) plus `state_json()`.
/// Steps, state, checkpoints and threads come from `OptimizerBase` (optimizer_base.hpp); this
/// header holds the options and the update rule.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/optim/optimizer_base.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

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
class AdamW : public OptimizerBase<AdamW<Scalar>, Scalar, AdamWOptions, 2> {
  using Base = OptimizerBase<AdamW<Scalar>, Scalar, AdamWOptions, 2>;
  friend Base;

 public:
  using typename Base::Array;

  explicit AdamW(AdamWOptions options = {}) : Base(options) { validate(); }

 private:
  using typename Base::Work;
  using Base::opt_;

  static constexpr std::string_view class_name = "AdamW";
  static constexpr std::string_view state_type = "adamw";
  static constexpr std::array<std::string_view, 2> slot_names = {"m", "v"};

  void validate() const {
    if (!(opt_.lr >= 0) || !(opt_.eps >= 0) || !(opt_.weight_decay >= 0) || !(opt_.beta1 >= 0 && opt_.beta1 < 1) ||
        !(opt_.beta2 >= 0 && opt_.beta2 < 1))
      throw ConfigError(fmt::format("AdamW: invalid options lr={} betas=({}, {}) eps={} weight_decay={}", opt_.lr,
                                    opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay));
  }

  nlohmann::json options_json() const {
    return {{"lr", opt_.lr},
            {"beta1", opt_.beta1},
            {"beta2", opt_.beta2},
            {"eps", opt_.eps},
            {"weight_decay", opt_.weight_decay},
            {"decay_bias_and_norm", opt_.decay_bias_and_norm}};
  }

  void load_options_json(const nlohmann::json& j) {
    opt_.lr = j.at("lr").get<double>();
    opt_.beta1 = j.at("beta1").get<double>();
    opt_.beta2 = j.at("beta2").get<double>();
    opt_.eps = j.at("eps").get<double>();
    opt_.weight_decay = j.at("weight_decay").get<double>();
    opt_.decay_bias_and_norm = j.at("decay_bias_and_norm").get<bool>();
  }

  bool keeps_state() const { return true; }

  void begin_step(std::int64_t t) {
    const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t));
    step_size_ = static_cast<Scalar>(opt_.lr / bc1);
    sqrt_bc2_ = static_cast<Scalar>(std::sqrt(bc2));
    decay_factor_ = static_cast<Scalar>(1.0 - opt_.lr * opt_.weight_decay);
  }

  void update(Work& w) const {
    auto& p = w.p->value;
    const auto& g = w.p->grad;
    Array& m = (*w.s)[0];
    Array& v = (*w.s)[1];
    const Scalar b1 = static_cast<Scalar>(opt_.beta1), b2 = static_cast<Scalar>(opt_.beta2);
    const Scalar eps = static_cast<Scalar>(opt_.eps);
    const bool decay = opt_.weight_decay != 0 && (opt_.decay_bias_and_norm || w.p->kind == ParamKind::weight);
    if (decay) p *= decay_factor_;
    m = b1 * m + (Scalar(1) - b1) * g;
    v = b2 * v + (Scalar(1) - b2) * g.square();
    p -= (step_size_ * w.p->lr_scale) * m / (v.sqrt() / sqrt_bc2_ + eps);
  }

  Scalar step_size_ = 0, sqrt_bc2_ = 1, decay_factor_ = 1;
};

}  // namespace nucleo
