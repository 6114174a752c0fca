#pragma once
/// `LrSchedule`: the learning rate as a pure function of the optimizer step (0-based), so that a
/// resumed run continues the schedule exactly.
///
/// - constant:        lr(s) = base
/// - warm-up (all decaying kinds): for s < warmup, lr(s) = base * (s + 1) / warmup
/// - cosine:          after warm-up, p = clamp((s - warmup) / max(1, total - warmup), 0, 1),
///                    lr(s) = floor + (base - floor) * (1 + cos(pi * p)) / 2
/// - linear:          lr(s) = floor + (base - floor) * (1 - p)
/// Steps at or beyond `total` stay at `floor`. `constant` with warmup > 0 warms up, then stays.
#include "nucleo/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace nucleo {

struct LrSchedule {
  enum class Kind { constant, cosine, linear };

  Kind kind = Kind::constant;
  double base = 1e-3;           ///< peak learning rate
  double floor = 0;             ///< final learning rate of the decaying kinds
  std::int64_t warmup = 0;      ///< linear warm-up steps
  std::int64_t total = 0;       ///< step at which the decay reaches `floor` (decaying kinds)

  static LrSchedule constant(double lr, std::int64_t warmup = 0) { return {Kind::constant, lr, lr, warmup, 0}; }
  static LrSchedule cosine(double lr, std::int64_t warmup, std::int64_t total, double floor = 0) {
    return checked({Kind::cosine, lr, floor, warmup, total});
  }
  static LrSchedule linear(double lr, std::int64_t warmup, std::int64_t total, double floor = 0) {
    return checked({Kind::linear, lr, floor, warmup, total});
  }

  /// The learning rate for optimizer step `step` (0 = the first step).
  double operator()(std::int64_t step) const {
    if (step < 0) step = 0;
    if (warmup > 0 && step < warmup) return base * static_cast<double>(step + 1) / static_cast<double>(warmup);
    if (kind == Kind::constant) return base;
    const double span = static_cast<double>(std::max<std::int64_t>(1, total - warmup));
    const double p = std::clamp(static_cast<double>(step - warmup) / span, 0.0, 1.0);
    if (kind == Kind::cosine) return floor + (base - floor) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * p));
    return floor + (base - floor) * (1.0 - p);
  }

  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::constant: return "constant";
      case Kind::cosine: return "cosine";
      case Kind::linear: return "linear";
    }
    return "?";
  }

  nlohmann::json to_json() const {
    return {{"kind", kind_name(kind)}, {"base", base}, {"floor", floor}, {"warmup", warmup}, {"total", total}};
  }

  static LrSchedule from_json(const nlohmann::json& j) {
    LrSchedule s;
    const std::string k = j.value("kind", std::string("constant"));
    if (k == "constant") s.kind = Kind::constant;
    else if (k == "cosine") s.kind = Kind::cosine;
    else if (k == "linear") s.kind = Kind::linear;
    else throw ConfigError(fmt::format("LrSchedule: unknown kind '{}' (constant, cosine, linear)", k));
    s.base = j.value("base", 1e-3);
    s.floor = j.value("floor", s.kind == Kind::constant ? s.base : 0.0);
    s.warmup = j.value("warmup", std::int64_t{0});
    s.total = j.value("total", std::int64_t{0});
    return s.kind == Kind::constant ? s : checked(s);
  }

 private:
  static LrSchedule checked(LrSchedule s) {
    if (!(s.base >= 0) || !(s.floor >= 0) || s.warmup < 0 || s.total < s.warmup)
      throw ConfigError(fmt::format("LrSchedule: need base >= 0, floor >= 0, 0 <= warmup <= total (got base={} "
                                    "floor={} warmup={} total={})",
                                    s.base, s.floor, s.warmup, s.total));
    return s;
  }
};

}  // namespace nucleo
