#pragma once
/// `ConfusionMatrix`: pooled K x K counts of (true class, predicted class) over a whole split, as
/// sklearn's `confusion_matrix(y_true, y_pred, labels=range(K))`: row = true class, column =
/// predicted class. It is the input of MCC, per-class precision/recall and accuracy.
///
/// - Positions whose truth is `ignore_index` (-100) and positions at or beyond a sequence's length
///   are skipped (BEND masks `y_true != -100`, bend.md 5). Any other class outside [0, K) throws.
/// - Counts are int64; adding batches is order-independent, so per-thread matrices merged with
///   `+=` give exactly the serial result (parallel-safe merge).
/// - Predictions come as Labels [B, L] (e.g. CRF Viterbi paths) or as logits [B, K, L], reduced by
///   argmax over classes (ties -> first maximum, as torch.argmax).
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/detail/argmax.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace nucleo {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes) : k_(num_classes), counts_(static_cast<std::size_t>(num_classes) * num_classes, 0) {
    NUCLEO_CHECK_CONFIG(num_classes > 0, "ConfusionMatrix: num_classes must be > 0, got {}", num_classes);
  }

  int num_classes() const { return k_; }

  /// Count `n` samples of class `truth` predicted as `pred`. `truth == ignore_index` is skipped.
  void add(std::int32_t truth, std::int32_t pred, std::int64_t n = 1) {
    if (truth == ignore_index) return;
    NUCLEO_CHECK(truth >= 0 && truth < k_, "ConfusionMatrix: true class {} is outside [0, {})", truth, k_);
    NUCLEO_CHECK(pred >= 0 && pred < k_, "ConfusionMatrix: predicted class {} is outside [0, {})", pred, k_);
    NUCLEO_CHECK(n >= 0, "ConfusionMatrix: negative count {}", n);
    counts_[static_cast<std::size_t>(truth) * k_ + pred] += n;
  }

  /// Predicted classes `pred` [B, L] against `truth` [B, L]; `lengths` (empty = all valid, else one
  /// per sequence, e.g. ctx.lengths()) limits each sequence.
  void add(const Labels& truth, const Labels& pred, std::span<const Index> lengths = {}) {
    NUCLEO_CHECK(truth.rows() == pred.rows() && truth.cols() == pred.cols(),
                 "ConfusionMatrix: truth is [{}, {}] but predictions are [{}, {}]", truth.rows(), truth.cols(),
                 pred.rows(), pred.cols());
    check_lengths(lengths, truth.rows());
    for (Index b = 0; b < truth.rows(); ++b) {
      const Index len = length_of(lengths, b, truth.cols());
      for (Index l = 0; l < len; ++l) add(truth(b, l), pred(b, l));
    }
  }

  /// Logits [B, K, L] (argmax over K) against `truth` [B, L].
  template <class S>
  void add_logits(const Tensor3<S>& logits, const Labels& truth, std::span<const Index> lengths = {}) {
    NUCLEO_CHECK(logits.dimension(1) == k_, "ConfusionMatrix: logits have {} classes, the matrix {}",
                 logits.dimension(1), k_);
    NUCLEO_CHECK(truth.rows() == logits.dimension(0) && truth.cols() == logits.dimension(2),
                 "ConfusionMatrix: truth is [{}, {}] but logits are [{}, {}, {}]", truth.rows(), truth.cols(),
                 logits.dimension(0), logits.dimension(1), logits.dimension(2));
    check_lengths(lengths, truth.rows());
    for (Index b = 0; b < truth.rows(); ++b) {
      const Index len = length_of(lengths, b, truth.cols());
      for (Index l = 0; l < len; ++l) {
        if (truth(b, l) == ignore_index) continue;
        add(truth(b, l), detail::argmax_at(logits, b, l));
      }
    }
  }

  /// Merge another matrix of the same size (e.g. one accumulated by another thread).
  ConfusionMatrix& operator+=(const ConfusionMatrix& o) {
    NUCLEO_CHECK(o.k_ == k_, "ConfusionMatrix: cannot merge a {}-class matrix into a {}-class one", o.k_, k_);
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    return *this;
  }

  void clear() { std::fill(counts_.begin(), counts_.end(), 0); }

  /// Samples of class `truth` predicted as `pred`.
  std::int64_t operator()(int truth, int pred) const { return counts_[static_cast<std::size_t>(truth) * k_ + pred]; }

  std::int64_t total() const {
    std::int64_t s = 0;
    for (auto c : counts_) s += c;
    return s;
  }
  std::int64_t trace() const {
    std::int64_t s = 0;
    for (int k = 0; k < k_; ++k) s += (*this)(k, k);
    return s;
  }
  /// Row sums: samples per true class (sklearn's "support").
  std::vector<std::int64_t> true_counts() const {
    std::vector<std::int64_t> t(static_cast<std::size_t>(k_), 0);
    for (int i = 0; i < k_; ++i)
      for (int j = 0; j < k_; ++j) t[static_cast<std::size_t>(i)] += (*this)(i, j);
    return t;
  }
  /// Column sums: samples per predicted class.
  std::vector<std::int64_t> predicted_counts() const {
    std::vector<std::int64_t> p(static_cast<std::size_t>(k_), 0);
    for (int i = 0; i < k_; ++i)
      for (int j = 0; j < k_; ++j) p[static_cast<std::size_t>(j)] += (*this)(i, j);
    return p;
  }

  /// `[[c00, c01, ...], [c10, ...], ...]`, rows = true class.
  nlohmann::json to_json() const {
    nlohmann::json rows = nlohmann::json::array();
    for (int i = 0; i < k_; ++i) {
      nlohmann::json r = nlohmann::json::array();
      for (int j = 0; j < k_; ++j) r.push_back((*this)(i, j));
      rows.push_back(std::move(r));
    }
    return rows;
  }

  bool operator==(const ConfusionMatrix&) const = default;

 private:
  static Index length_of(std::span<const Index> lengths, Index b, Index L) {
    return lengths.empty() ? L : std::min<Index>(L, lengths[static_cast<std::size_t>(b)]);
  }
  static void check_lengths(std::span<const Index> lengths, Index B) {
    NUCLEO_CHECK(lengths.empty() || static_cast<Index>(lengths.size()) == B,
                 "ConfusionMatrix: {} lengths for a batch of {}", lengths.size(), B);
  }

  int k_;
  std::vector<std::int64_t> counts_;
};

}  // namespace nucleo
