#pragma once
/// Area under the precision-recall curve as sklearn's `average_precision_score` (BEND's enhancer
/// metric, bend.md 5), per label and macro-averaged.
///
/// Math: thresholds are the distinct scores, highest first; after each tie group n the cumulative
/// true/false positives give P_n = TP_n / (TP_n + FP_n) and R_n = TP_n / P, and
///     AP = sum_n (R_n - R_{n-1}) P_n,   R_0 = 0
/// (a step function, no interpolation; a tie group enters as one threshold, as in sklearn).
/// Undefined (std::nullopt) when the label has no positive: sklearn 1.2 warns and returns 0 there.
/// Here the label is left out of the mean with a warning. A label with only positives has AP = 1.
#include "nucleo/detail/tie_groups.hpp"
#include "nucleo/metrics/per_label_report.hpp"
#include "nucleo/metrics/score_collector.hpp"

#include <fmt/format.h>

#include <optional>
#include <span>

namespace nucleo {

namespace detail {
template <class T>
std::optional<double> average_precision_impl(std::span<const T> scores, std::span<const std::uint8_t> targets) {
  std::int64_t positives = 0;
  for (auto y : targets) positives += y != 0;
  if (positives == 0) return std::nullopt;
  long double ap = 0;
  std::int64_t tp = 0, fp = 0;
  for_each_tie_group(scores, targets, [&](std::int64_t p, std::int64_t n) {
    tp += p;
    fp += n;
    if (p > 0) ap += static_cast<long double>(p) * static_cast<long double>(tp) / static_cast<long double>(tp + fp);
  });
  return static_cast<double>(ap / static_cast<long double>(positives));
}

template <class T, class ParallelFor>
PerLabelReport auprc_report(const ScoreCollector<T>& c, ParallelFor&& pfor) {
  PerLabelReport r;
  r.metric = "average_precision";
  const Index K = c.num_labels();
  r.values.resize(static_cast<std::size_t>(K));
  pfor(K, [&](Index k0, Index k1) {
    for (Index k = k0; k < k1; ++k)
      r.values[static_cast<std::size_t>(k)] = average_precision_impl<T>(c.scores(k), c.targets(k));
  });
  for (Index k = 0; k < K; ++k) {
    r.labels.push_back(c.label_name(k));
    if (!r.values[static_cast<std::size_t>(k)])
      r.warnings.push_back(fmt::format(
          "average_precision: label '{}' (index {}) has no positive target among {} in this split; its AP is "
          "undefined and left out of the mean (sklearn would report 0)",
          c.label_name(k), k, c.size(k)));
  }
  r.finish();
  return r;
}
}  // namespace detail

/// sklearn's average_precision_score for one binary label; nullopt if there is no positive.
inline std::optional<double> average_precision_score(std::span<const double> scores,
                                                     std::span<const std::uint8_t> targets) {
  return detail::average_precision_impl<double>(scores, targets);
}
inline std::optional<double> average_precision_score(std::span<const float> scores,
                                                     std::span<const std::uint8_t> targets) {
  return detail::average_precision_impl<float>(scores, targets);
}

/// Average precision of every label of `c` and their unweighted mean over the defined labels.
template <class T>
PerLabelReport auprc(const ScoreCollector<T>& c) {
  return detail::auprc_report(c, [](Index n, auto&& f) { f(Index{0}, n); });
}

/// Same, labels computed in parallel on `ctx`.
template <class T, class Ctx>
PerLabelReport auprc(const ScoreCollector<T>& c, Ctx& ctx) {
  return detail::auprc_report(c, [&](Index n, auto&& f) { ctx.parallel_for(n, 1, f); });
}

}  // namespace nucleo
