#pragma once
/// `Sgd<Scalar>`: stochastic gradient descent with momentum, dampening, Nesterov and (coupled) weight
/// decay, as `torch.optim.SGD`:
///
///     g <- g + wd * p                                   (weight_decay, L2 added to the gradient)
///     b <- g                        at a parameter's first step with momentum,
///     b <- mu * b + (1 - dampening) * g                 afterwards
///     d <- g + mu * b  (nesterov)   or   d <- b          (momentum > 0);  d <- g  (momentum 0)
///     p <- p - lr * d
///
/// State: one momentum buffer per parameter (none while momentum is 0), keyed by its dotted name
/// ("sgd.momentum.<param>" in checkpoints), and the step count. Steps, state, checkpoints and
/// threads come from `OptimizerBase` (optimizer_base.hpp); this header holds the options and the
/// update rule.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/optim/optimizer_base.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace nucleo {

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <class Scalar = float>
class Sgd : public OptimizerBase<Sgd<Scalar>, Scalar, SgdOptions, 1> {
  using Base = OptimizerBase<Sgd<Scalar>, Scalar, SgdOptions, 1>;
  friend Base;

 public:
  using typename Base::Array;

  explicit Sgd(SgdOptions options = {}) : Base(options) { validate(); }

 private:
  using typename Base::Work;
  using Base::opt_;

  static constexpr std::string_view class_name = "Sgd";
  static constexpr std::string_view state_type = "sgd";
  static constexpr std::array<std::string_view, 1> slot_names = {"momentum"};

  void validate() const {
    if (!(opt_.lr >= 0) || !(opt_.momentum >= 0) || !(opt_.weight_decay >= 0))
      throw ConfigError(fmt::format("Sgd: invalid options lr={} momentum={} weight_decay={}", opt_.lr, opt_.momentum,
                                    opt_.weight_decay));
    if (opt_.nesterov && (opt_.momentum <= 0 || opt_.dampening != 0))
      throw ConfigError("Sgd: Nesterov momentum needs momentum > 0 and dampening = 0");
  }

  nlohmann::json options_json() const {
    return {{"lr", opt_.lr},
            {"momentum", opt_.momentum},
            {"dampening", opt_.dampening},
            {"weight_decay", opt_.weight_decay},
            {"nesterov", opt_.nesterov}};
  }

  void load_options_json(const nlohmann::json& j) {
    opt_.lr = j.at("lr").get<double>();
    opt_.momentum = j.at("momentum").get<double>();
    opt_.dampening = j.at("dampening").get<double>();
    opt_.weight_decay = j.at("weight_decay").get<double>();
    opt_.nesterov = j.at("nesterov").get<bool>();
  }

  /// Momentum buffers exist only while momentum is on.
  bool keeps_state() const { return opt_.momentum != 0; }

  void begin_step(std::int64_t) {}

  void update(Work& w) const {
    auto& p = w.p->value;
    const Scalar lr = static_cast<Scalar>(opt_.lr), wd = static_cast<Scalar>(opt_.weight_decay);
    Array d = w.p->grad;
    if (wd != 0) d += wd * p;
    if (w.s) {
      Array& buf = (*w.s)[0];
      const Scalar mu = static_cast<Scalar>(opt_.momentum);
      if (w.fresh) buf = d;
      else buf = mu * buf + static_cast<Scalar>(1.0 - opt_.dampening) * d;
      if (opt_.nesterov) d += mu * buf;
      else d = buf;
    }
    p -= (lr * w.p->lr_scale) * d;
  }
};

}  // namespace nucleo
