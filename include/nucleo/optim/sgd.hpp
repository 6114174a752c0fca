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
/// State: one momentum buffer per parameter, keyed by its dotted name ("sgd.momentum.<param>" in
/// checkpoints), and the step count. Updates are element-wise, so `step(ctx, model)` (parameters in
/// parallel) is bit-identical to the serial `step(model)`.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/detail/optimizer_state.hpp"
#include "nucleo/detail/param_list.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace nucleo {

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <class Scalar = float>
class Sgd {
 public:
  using scalar_type = Scalar;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  explicit Sgd(SgdOptions options = {}) : opt_(options) { validate(); }

  const SgdOptions& options() const { return opt_; }
  double lr() const { return opt_.lr; }
  void set_lr(double lr) { opt_.lr = lr; }
  std::int64_t steps() const { return t_; }

  template <class Model>
  void step(Model& model) {
    auto work = prepare(model);
    for (auto& w : work) update(w);
  }

  template <class Ctx, class Model>
  void step(Ctx& ctx, Model& model) {
    auto work = prepare(model);
    ctx.parallel_for(static_cast<Index>(work.size()), 1, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) update(work[static_cast<std::size_t>(i)]);
    });
  }

  nlohmann::json state_json() const {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& [name, b] : bufs_) sizes[name] = b.size();
    return {{"type", "sgd"},         {"step", t_},           {"lr", opt_.lr},
            {"momentum", opt_.momentum}, {"dampening", opt_.dampening}, {"weight_decay", opt_.weight_decay},
            {"nesterov", opt_.nesterov}, {"params", sizes}};
  }

  /// `max_elements` >= 0 bounds the state elements the JSON may ask for (a checkpoint passes what
  /// its file holds, so that a forged size cannot allocate without limit).
  void load_state_json(const nlohmann::json& j, Index max_elements = -1) {
    if (!j.is_object() || j.value("type", std::string()) != "sgd")
      throw ConfigError(fmt::format("Sgd: optimizer state is not SGD's (type '{}')",
                                    j.is_object() ? j.value("type", std::string("?")) : std::string("?")));
    t_ = j.at("step").get<std::int64_t>();
    opt_.lr = j.at("lr").get<double>();
    opt_.momentum = j.at("momentum").get<double>();
    opt_.dampening = j.at("dampening").get<double>();
    opt_.weight_decay = j.at("weight_decay").get<double>();
    opt_.nesterov = j.at("nesterov").get<bool>();
    validate();
    const auto sizes = detail::checked_state_sizes(j, max_elements, 1);
    bufs_.clear();
    for (const auto& [name, n] : sizes) bufs_.emplace(name, Array::Zero(n));
  }

  template <class F>
  void visit_state(F&& f) {
    for (auto& [name, b] : bufs_) f(std::string("sgd.momentum.") + name, b);
  }

  void reset() {
    bufs_.clear();
    t_ = 0;
  }

 private:
  struct Work {
    Param<Scalar>* p;
    Array* buf;  // null without momentum
    bool fresh;
  };

  void validate() const {
    if (!(opt_.lr >= 0) || !(opt_.momentum >= 0) || !(opt_.weight_decay >= 0))
      throw ConfigError(fmt::format("Sgd: invalid options lr={} momentum={} weight_decay={}", opt_.lr, opt_.momentum,
                                    opt_.weight_decay));
    if (opt_.nesterov && (opt_.momentum <= 0 || opt_.dampening != 0))
      throw ConfigError("Sgd: Nesterov momentum needs momentum > 0 and dampening = 0");
  }

  template <class Model>
  std::vector<Work> prepare(Model& model) {
    ++t_;
    std::vector<Work> work;
    for (auto& np : detail::param_list<Scalar>(model)) {
      const Index n = np.param->size();
      NUCLEO_CHECK(np.param->grad.size() == n, "Sgd: parameter '{}' has {} values but {} gradients", np.name, n,
                   np.param->grad.size());
      Work w{np.param, nullptr, false};
      if (opt_.momentum != 0) {
        auto [it, fresh] = bufs_.try_emplace(np.name);
        if (fresh) it->second = Array::Zero(n);
        else if (it->second.size() != n)
          throw ShapeError(fmt::format("Sgd: parameter '{}' has {} elements but its momentum buffer has {}", np.name,
                                       n, it->second.size()));
        w.buf = &it->second;
        w.fresh = fresh;
      }
      work.push_back(w);
    }
    return work;
  }

  void update(Work& w) const {
    auto& p = w.p->value;
    const Scalar lr = static_cast<Scalar>(opt_.lr), wd = static_cast<Scalar>(opt_.weight_decay);
    Array d = w.p->grad;
    if (wd != 0) d += wd * p;
    if (w.buf) {
      const Scalar mu = static_cast<Scalar>(opt_.momentum);
      if (w.fresh) *w.buf = d;
      else *w.buf = mu * *w.buf + static_cast<Scalar>(1.0 - opt_.dampening) * d;
      if (opt_.nesterov) d += mu * *w.buf;
      else d = *w.buf;
    }
    p -= lr * d;
  }

  SgdOptions opt_;
  std::map<std::string, Array> bufs_;
  std::int64_t t_ = 0;
};

}  // namespace nucleo
