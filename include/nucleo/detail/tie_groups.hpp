#pragma once
// Ranking helper shared by AUROC and average precision (not API): sort (score, target) pairs by
// score, highest first, and call f(positives, negatives) once per group of exactly equal scores,
// in descending score order. This is sklearn's _binary_clf_curve: one threshold per distinct score.
#include "nucleo/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace nucleo::detail {

template <class T, class F>
void for_each_tie_group(std::span<const T> scores, std::span<const std::uint8_t> targets, F&& f) {
  NUCLEO_CHECK(scores.size() == targets.size(), "ranking metric: {} scores but {} targets", scores.size(), targets.size());
  std::vector<std::pair<T, std::uint8_t>> v(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    NUCLEO_CHECK(!std::isnan(scores[i]), "ranking metric: score {} is NaN", i);
    v[i] = {scores[i], targets[i]};
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::size_t i = 0;
  while (i < v.size()) {
    std::int64_t pos = 0, neg = 0;
    const T s = v[i].first;
    for (; i < v.size() && v[i].first == s; ++i) (v[i].second ? pos : neg) += 1;
    f(pos, neg);
  }
}

}  // namespace nucleo::detail
