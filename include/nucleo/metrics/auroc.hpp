#pragma once
/// Area under the ROC curve, equal to sklearn's `roc_auc_score`, per label and macro-averaged
/// (BEND's multilabel metric: `roc_auc_score(y_true, y_prob, average=None).mean()`, bend.md 5).
///
/// Math: with P positives and N negatives, AUROC = P(score_pos > score_neg) + 1/2 P(equal)
///   = sum over tie groups g (descending score) of n_g (p_before + p_g / 2) / (P N),
/// the Mann-Whitney U statistic with ties counting 1/2, which is exactly the trapezoid-rule area
/// sklearn integrates over its ROC curve (one point per distinct score). The numerator is an exact
/// integer (2x, in 128 bits); one long double division gives the result.
/// Undefined (std::nullopt) when P == 0 or N == 0: sklearn 1.2 raises ValueError there, later
/// versions warn and return 0 or NaN, and BEND counts whatever it gets. Here the label is left out
/// of the mean and a warning names it (see docs/metrics.md).
/// Scores: any order-preserving score (logits are best); NaN scores throw.
#include "nucleo/detail/tie_groups.hpp"
#include "nucleo/metrics/per_label_report.hpp"
#include "nucleo/metrics/score_collector.hpp"

#include <fmt/format.h>

#include <optional>
#include <span>

namespace nucleo {

namespace detail {
template <class T>
std::optional<double> roc_auc_impl(std::span<const T> scores, std::span<const std::uint8_t> targets) {
  __extension__ typedef __int128 i128;  // GCC/Clang; exact products of int64 counts
  i128 twice_u = 0;
  std::int64_t p_before = 0, n_total = 0;
  for_each_tie_group(scores, targets, [&](std::int64_t p, std::int64_t n) {
    twice_u += static_cast<i128>(n) * (2 * static_cast<i128>(p_before) + p);
    p_before += p;
    n_total += n;
  });
  if (p_before == 0 || n_total == 0) return std::nullopt;
  return static_cast<double>(static_cast<long double>(twice_u) /
                             (2.0L * static_cast<long double>(p_before) * static_cast<long double>(n_total)));
}

template <class T, class ParallelFor>
PerLabelReport auroc_report(const ScoreCollector<T>& c, ParallelFor&& pfor) {
  PerLabelReport r;
  r.metric = "auroc";
  const Index K = c.num_labels();
  r.values.resize(static_cast<std::size_t>(K));
  pfor(K, [&](Index k0, Index k1) {
    for (Index k = k0; k < k1; ++k) r.values[static_cast<std::size_t>(k)] = roc_auc_impl<T>(c.scores(k), c.targets(k));
  });
  for (Index k = 0; k < K; ++k) {
    r.labels.push_back(c.label_name(k));
    if (r.values[static_cast<std::size_t>(k)]) continue;
    Index pos = 0;
    for (auto y : c.targets(k)) pos += y;
    r.warnings.push_back(fmt::format(
        "auroc: label '{}' (index {}) has {} positive and {} negative targets in this split; its AUROC is undefined "
        "and left out of the mean (BEND would crash or count it as 0)",
        c.label_name(k), k, pos, c.size(k) - pos));
  }
  r.finish();
  return r;
}
}  // namespace detail

/// sklearn's roc_auc_score for one binary label; nullopt if only one class is present.
inline std::optional<double> roc_auc_score(std::span<const double> scores, std::span<const std::uint8_t> targets) {
  return detail::roc_auc_impl<double>(scores, targets);
}
inline std::optional<double> roc_auc_score(std::span<const float> scores, std::span<const std::uint8_t> targets) {
  return detail::roc_auc_impl<float>(scores, targets);
}

/// AUROC of every label of `c` and their unweighted mean over the defined labels.
template <class T>
PerLabelReport auroc(const ScoreCollector<T>& c) {
  return detail::auroc_report(c, [](Index n, auto&& f) { f(Index{0}, n); });
}

/// Same, labels computed in parallel on `ctx` (each label is independent: same result).
template <class T, class Ctx>
PerLabelReport auroc(const ScoreCollector<T>& c, Ctx& ctx) {
  return detail::auroc_report(c, [&](Index n, auto&& f) { ctx.parallel_for(n, 1, f); });
}

}  // namespace nucleo
