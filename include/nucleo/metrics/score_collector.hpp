#pragma once
/// `ScoreCollector<T>`: streaming storage of (score, binary target) pairs per label for ranking
/// metrics (AUROC, average precision) that need a whole split before they can be computed.
///
/// - Multilabel tasks (BEND histone / chromatin / CpG): `add_batch(scores [B, K, 1], targets
///   MultiLabels [B, K])` appends one pair per sequence to each of the K labels.
/// - Flattened per-position binary tasks: `add_positions(scores [B, 1, L], Labels [B, L], lengths)`
///   appends to label 0, skipping -100 and positions beyond each length.
/// Scores may be logits or probabilities: both metrics depend only on the order of the scores.
/// Logits are the better input: BEND ranks fp32 sigmoid probabilities, which saturate to exactly
/// 1.0f for logits above ~17 and so create ties that the logits do not have.
/// T = float (default) halves the memory (chromatin test split: 372k x 125 pairs = 233 MB as float).
/// `+=` appends another collector's pairs (label by label, in call order).
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nucleo {

template <class T = float>
class ScoreCollector {
 public:
  using score_type = T;

  /// `label_names`: empty or one per label; used in reports and warnings.
  explicit ScoreCollector(Index num_labels, std::vector<std::string> label_names = {})
      : names_(std::move(label_names)), scores_(checked_label_count(num_labels)),
        targets_(static_cast<std::size_t>(num_labels)) {
    NUCLEO_CHECK(names_.empty() || static_cast<Index>(names_.size()) == num_labels,
                 "ScoreCollector: {} label names for {} labels", names_.size(), num_labels);
  }

  Index num_labels() const { return static_cast<Index>(scores_.size()); }
  const std::vector<std::string>& label_names() const { return names_; }
  /// The label's name, or its index as text.
  std::string label_name(Index k) const { return names_.empty() ? fmt::format("{}", k) : names_[static_cast<std::size_t>(k)]; }

  /// One pair for label `k`.
  void add(Index k, T score, bool positive) {
    NUCLEO_CHECK(k >= 0 && k < num_labels(), "ScoreCollector: label {} is outside [0, {})", k, num_labels());
    NUCLEO_CHECK(!std::isnan(score), "ScoreCollector: NaN score for label {}", label_name(k));
    scores_[static_cast<std::size_t>(k)].push_back(score);
    targets_[static_cast<std::size_t>(k)].push_back(positive ? 1 : 0);
  }

  /// scores [B, K, 1] (one score per sequence and label) against multi-hot targets [B, K] (0 or 1).
  template <class S>
  void add_batch(const Tensor3<S>& scores, const MultiLabels<S>& targets) {
    const Index B = scores.dimension(0), K = scores.dimension(1);
    NUCLEO_CHECK(scores.dimension(2) == 1 && K == num_labels(),
                 "ScoreCollector: scores must be [B, {}, 1], got [{}, {}, {}]", num_labels(), B, K, scores.dimension(2));
    NUCLEO_CHECK(targets.rows() == B && targets.cols() == K, "ScoreCollector: targets are [{}, {}], scores need [{}, {}]",
                 targets.rows(), targets.cols(), B, K);
    for (Index b = 0; b < B; ++b)
      for (Index k = 0; k < K; ++k) {
        const S y = targets(b, k);
        NUCLEO_CHECK(y == S(0) || y == S(1), "ScoreCollector: target {} at (sequence {}, label {}) is not 0 or 1",
                     static_cast<double>(y), b, k);
        add(k, static_cast<T>(scores(b, k, 0)), y == S(1));
      }
  }

  /// Per-position scores [B, 1, L] against Labels [B, L] (0/1, -100 skipped) into label 0 of a
  /// one-label collector; `lengths` (empty = all valid) limits each sequence.
  template <class S>
  void add_positions(const Tensor3<S>& scores, const Labels& targets, std::span<const Index> lengths = {}) {
    const Index B = scores.dimension(0), L = scores.dimension(2);
    NUCLEO_CHECK(num_labels() == 1 && scores.dimension(1) == 1,
                 "ScoreCollector::add_positions: needs a one-label collector and scores [B, 1, L], got {} labels and "
                 "[{}, {}, {}]",
                 num_labels(), B, scores.dimension(1), L);
    NUCLEO_CHECK(targets.rows() == B && targets.cols() == L, "ScoreCollector: targets are [{}, {}], scores need [{}, {}]",
                 targets.rows(), targets.cols(), B, L);
    NUCLEO_CHECK(lengths.empty() || static_cast<Index>(lengths.size()) == B, "ScoreCollector: {} lengths for a batch of {}",
                 lengths.size(), B);
    for (Index b = 0; b < B; ++b) {
      const Index len = lengths.empty() ? L : std::min<Index>(L, lengths[static_cast<std::size_t>(b)]);
      for (Index l = 0; l < len; ++l) {
        const std::int32_t y = targets(b, l);
        if (y == ignore_index) continue;
        NUCLEO_CHECK(y == 0 || y == 1, "ScoreCollector: target {} at (sequence {}, position {}) is not 0, 1 or -100", y, b, l);
        add(0, static_cast<T>(scores(b, 0, l)), y == 1);
      }
    }
  }

  /// Append `o`'s pairs (same number of labels).
  ScoreCollector& operator+=(const ScoreCollector& o) {
    NUCLEO_CHECK(o.num_labels() == num_labels(), "ScoreCollector: cannot merge {} labels into {}", o.num_labels(),
                 num_labels());
    for (std::size_t k = 0; k < scores_.size(); ++k) {
      scores_[k].insert(scores_[k].end(), o.scores_[k].begin(), o.scores_[k].end());
      targets_[k].insert(targets_[k].end(), o.targets_[k].begin(), o.targets_[k].end());
    }
    return *this;
  }

  void reserve(Index per_label) {
    for (std::size_t k = 0; k < scores_.size(); ++k) {
      scores_[k].reserve(static_cast<std::size_t>(per_label));
      targets_[k].reserve(static_cast<std::size_t>(per_label));
    }
  }
  void clear() {
    for (std::size_t k = 0; k < scores_.size(); ++k) {
      scores_[k].clear();
      targets_[k].clear();
    }
  }

  std::span<const T> scores(Index k) const { return scores_[static_cast<std::size_t>(k)]; }
  /// 1 = positive, 0 = negative.
  std::span<const std::uint8_t> targets(Index k) const { return targets_[static_cast<std::size_t>(k)]; }
  Index size(Index k) const { return static_cast<Index>(scores_[static_cast<std::size_t>(k)].size()); }

 private:
  // Checked before the member vectors are sized (a negative count would become a huge size_t).
  static std::size_t checked_label_count(Index num_labels) {
    NUCLEO_CHECK_CONFIG(num_labels > 0, "ScoreCollector: num_labels must be > 0, got {}", num_labels);
    return static_cast<std::size_t>(num_labels);
  }

  std::vector<std::string> names_;
  std::vector<std::vector<T>> scores_;
  std::vector<std::vector<std::uint8_t>> targets_;
};

}  // namespace nucleo
