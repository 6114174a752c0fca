#pragma once
/// `OptimizerBase<Derived, Scalar, Options, SlotTensors>`: what every nucleo optimizer shares, so that
/// each one (AdamW, Sgd) keeps only its update rule (CRTP).
///
/// Shared here:
///   - options (`options()`, `lr()`, `set_lr()` for the LR schedule) and the step count (`steps()`);
///   - `step(model)` (serial) and `step(ctx, model)` (one parameter per task; bit-identical to the
///     serial one because every element's update depends only on that element);
///   - per-parameter state: `SlotTensors` arrays per parameter, keyed by the parameter's dotted name
///     (not its address, so a copied or reloaded model keeps its state), zero-initialised at the
///     parameter's first step, with a size check against the parameter at every later step;
///   - checkpoints: `state_json()` / `load_state_json()` (type, step, options, the size of every
///     slot) and `visit_state(f)`, which names the tensors "<state_type>.<slot_name>.<param>";
///   - `reset()`.
///
/// What `Derived` provides (the base is its friend, so these may be private):
///   static constexpr std::string_view class_name;     "AdamW": prefix of error messages
///   static constexpr std::string_view state_type;     "adamw": the state JSON's "type", tensor prefix
///   static constexpr std::array<std::string_view, SlotTensors> slot_names;   {"m", "v"}
///   void validate() const;                  ConfigError on bad options (also after load_state_json)
///   bool keeps_state() const;               false: no state slots this step (SGD without momentum)
///   void begin_step(std::int64_t t);        per-step scalars (bias corrections), t = 1, 2, ...
///   void update(Work& w) const;             the update rule for one parameter
///   nlohmann::json options_json() const;    the options, as fields of the state JSON
///   void load_options_json(const nlohmann::json& j);
/// `Options` must have a `double lr` member.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/detail/optimizer_state.hpp"
#include "nucleo/detail/param_list.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nucleo {

template <class Derived, class Scalar, class Options, int SlotTensors>
class OptimizerBase {
  static_assert(SlotTensors >= 1, "OptimizerBase: an optimizer with state keeps at least one tensor per parameter");

 public:
  using scalar_type = Scalar;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  const Options& options() const { return opt_; }
  double lr() const { return opt_.lr; }
  /// The LR schedule sets this before every step.
  void set_lr(double lr) { opt_.lr = lr; }
  /// Number of steps taken so far.
  std::int64_t steps() const { return t_; }

  /// One update of every parameter of `model` from its accumulated gradient (serial).
  template <class Model>
  void step(Model& model) {
    auto work = prepare(model);
    for (auto& w : work) derived().update(w);
  }

  /// The same update with parameters spread over `ctx`'s threads (bit-identical to the serial one).
  template <class Ctx, class Model>
  void step(Ctx& ctx, Model& model) {
    auto work = prepare(model);
    ctx.parallel_for(static_cast<Index>(work.size()), 1, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) derived().update(work[static_cast<std::size_t>(i)]);
    });
  }

  /// Scalars of the state: type, step count, options and the size of every state tensor.
  nlohmann::json state_json() const {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& [name, s] : slots_) sizes[name] = s[0].size();
    nlohmann::json j = derived().options_json();
    j["type"] = std::string(Derived::state_type);
    j["step"] = t_;
    j["params"] = sizes;
    return j;
  }

  /// Restore the scalars and allocate (zeroed) state tensors; `visit_state` then fills them.
  /// `max_elements` >= 0 bounds the state elements the JSON may ask for (a checkpoint passes what
  /// its file holds, so that a forged size cannot allocate without limit).
  void load_state_json(const nlohmann::json& j, Index max_elements = -1) {
    if (!j.is_object() || j.value("type", std::string()) != Derived::state_type)
      throw ConfigError(fmt::format("{}: optimizer state is not of type '{}' (type '{}')", Derived::class_name,
                                    Derived::state_type,
                                    j.is_object() ? j.value("type", std::string("?")) : std::string("?")));
    t_ = j.at("step").get<std::int64_t>();
    derived().load_options_json(j);
    derived().validate();
    const auto sizes = detail::checked_state_sizes(j, max_elements, SlotTensors);
    slots_.clear();
    for (const auto& [name, n] : sizes) {
      Slot s;
      for (auto& a : s) a = Array::Zero(n);
      slots_.emplace(name, std::move(s));
    }
  }

  /// f(std::string name, Array& tensor) for every state tensor, in a fixed order: parameters by
  /// name, then the slots in `slot_names` order.
  template <class F>
  void visit_state(F&& f) {
    for (auto& [name, s] : slots_)
      for (std::size_t i = 0; i < s.size(); ++i)
        f(fmt::format("{}.{}.{}", Derived::state_type, Derived::slot_names[i], name), s[i]);
  }

  /// Forget all state (step count and per-parameter slots).
  void reset() {
    slots_.clear();
    t_ = 0;
  }

 protected:
  using Slot = std::array<Array, SlotTensors>;
  /// One parameter's share of a step: its state (null when the step keeps none) and whether that
  /// state was created by this step.
  struct Work {
    Param<Scalar>* p;
    Slot* s;
    bool fresh;
  };

  explicit OptimizerBase(Options options) : opt_(options) {}

  Options opt_;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  template <class Model>
  std::vector<Work> prepare(Model& model) {
    ++t_;
    derived().begin_step(t_);
    const bool keep = derived().keeps_state();
    std::vector<Work> work;
    for (auto& np : detail::param_list<Scalar>(model)) {
      const Index n = np.param->size();
      NUCLEO_CHECK(np.param->grad.size() == n, "{}: parameter '{}' has {} values but {} gradients", Derived::class_name,
                   np.name, n, np.param->grad.size());
      Work w{np.param, nullptr, false};
      if (keep) {
        auto [it, fresh] = slots_.try_emplace(np.name);
        if (fresh) {
          for (auto& a : it->second) a = Array::Zero(n);
        } else if (it->second[0].size() != n) {
          throw ShapeError(fmt::format("{}: parameter '{}' has {} elements but its optimizer state has {}",
                                       Derived::class_name, np.name, n, it->second[0].size()));
        }
        w.s = &it->second;
        w.fresh = fresh;
      }
      work.push_back(w);
    }
    return work;
  }

  std::map<std::string, Slot> slots_;
  std::int64_t t_ = 0;
};

}  // namespace nucleo
