#pragma once
/// `PerLabelReport`: one value per label of a ranking metric (AUROC, average precision) and their
/// unweighted mean (BEND's `metric.mean()`, bend.md 5), with undefined labels left out.
///
/// A label is undefined when its metric cannot be computed on this split (AUROC: only one class
/// present; average precision: no positive). Its value is std::nullopt, it is excluded from the
/// mean, and `warnings` holds one message naming it. `mean` is NaN when no label is defined.
/// JSON: `{"metric", "mean" (null if NaN), "defined", "labels": [...], "values": [... null ...],
/// "warnings": [...]}`.
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nucleo {

struct PerLabelReport {
  std::string metric;                          // "auroc" or "average_precision"
  std::vector<std::string> labels;             // label names (or indices as text)
  std::vector<std::optional<double>> values;   // one per label; nullopt = undefined
  double mean = std::numeric_limits<double>::quiet_NaN();
  long defined = 0;                            // labels in the mean
  std::vector<std::string> warnings;

  /// Fill `mean` and `defined` from `values` (unweighted, in label order).
  void finish() {
    double s = 0;
    defined = 0;
    for (const auto& v : values)
      if (v) {
        s += *v;
        ++defined;
      }
    mean = defined > 0 ? s / static_cast<double>(defined) : std::numeric_limits<double>::quiet_NaN();
  }
};

inline void to_json(nlohmann::json& j, const PerLabelReport& r) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& v : r.values) values.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
  j = nlohmann::json{{"metric", r.metric},
                     {"mean", std::isnan(r.mean) ? nlohmann::json(nullptr) : nlohmann::json(r.mean)},
                     {"defined", r.defined},
                     {"labels", r.labels},
                     {"values", std::move(values)},
                     {"warnings", r.warnings}};
}

}  // namespace nucleo
