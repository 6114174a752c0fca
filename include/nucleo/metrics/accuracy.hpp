#pragma once
/// `Accuracy`: the fraction of counted positions whose predicted class equals the target
/// (sklearn's `accuracy_score` on the non-padding positions). Counted positions: target !=
/// ignore_index (-100) and position < the sequence's length, as in ConfusionMatrix and the losses.
/// Streaming: add batches, read `value()` at the end; `+=` merges per-thread counters exactly.
/// `value()` is 0 when nothing was counted (check `total()`). For MLM, this is the masked-token
/// accuracy when the targets are -100 outside the masked positions.
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/detail/argmax.hpp"
#include "nucleo/metrics/confusion_matrix.hpp"

#include <cstdint>
#include <span>

namespace nucleo {

class Accuracy {
 public:
  /// Predicted classes `pred` [B, L] against `truth` [B, L].
  void add(const Labels& truth, const Labels& pred, std::span<const Index> lengths = {}) {
    NUCLEO_CHECK(truth.rows() == pred.rows() && truth.cols() == pred.cols(),
                 "Accuracy: truth is [{}, {}] but predictions are [{}, {}]", truth.rows(), truth.cols(), pred.rows(),
                 pred.cols());
    check_lengths(lengths, truth.rows());
    for (Index b = 0; b < truth.rows(); ++b) {
      const Index len = lengths.empty() ? truth.cols() : std::min<Index>(truth.cols(), lengths[static_cast<std::size_t>(b)]);
      for (Index l = 0; l < len; ++l) {
        if (truth(b, l) == ignore_index) continue;
        ++total_;
        correct_ += truth(b, l) == pred(b, l);
      }
    }
  }

  /// Logits [B, K, L] (argmax over K, ties -> first) against `truth` [B, L].
  template <class S>
  void add_logits(const Tensor3<S>& logits, const Labels& truth, std::span<const Index> lengths = {}) {
    NUCLEO_CHECK(truth.rows() == logits.dimension(0) && truth.cols() == logits.dimension(2),
                 "Accuracy: truth is [{}, {}] but logits are [{}, {}, {}]", truth.rows(), truth.cols(),
                 logits.dimension(0), logits.dimension(1), logits.dimension(2));
    check_lengths(lengths, truth.rows());
    for (Index b = 0; b < truth.rows(); ++b) {
      const Index len = lengths.empty() ? truth.cols() : std::min<Index>(truth.cols(), lengths[static_cast<std::size_t>(b)]);
      for (Index l = 0; l < len; ++l) {
        if (truth(b, l) == ignore_index) continue;
        ++total_;
        correct_ += truth(b, l) == detail::argmax_at(logits, b, l);
      }
    }
  }

  /// Counts from elsewhere (e.g. CrossEntropy::last_correct() / last_count()).
  void add_counts(std::int64_t correct, std::int64_t total) {
    NUCLEO_CHECK(correct >= 0 && total >= correct, "Accuracy: bad counts {} correct of {}", correct, total);
    correct_ += correct;
    total_ += total;
  }

  Accuracy& operator+=(const Accuracy& o) {
    correct_ += o.correct_;
    total_ += o.total_;
    return *this;
  }

  void clear() { correct_ = total_ = 0; }
  std::int64_t correct() const { return correct_; }
  std::int64_t total() const { return total_; }
  double value() const { return total_ > 0 ? static_cast<double>(correct_) / static_cast<double>(total_) : 0.0; }

 private:
  static void check_lengths(std::span<const Index> lengths, Index B) {
    NUCLEO_CHECK(lengths.empty() || static_cast<Index>(lengths.size()) == B, "Accuracy: {} lengths for a batch of {}",
                 lengths.size(), B);
  }
  std::int64_t correct_ = 0, total_ = 0;
};

/// Accuracy of a confusion matrix: trace / total (0 when empty).
inline double accuracy(const ConfusionMatrix& cm) {
  const auto n = cm.total();
  return n > 0 ? static_cast<double>(cm.trace()) / static_cast<double>(n) : 0.0;
}

}  // namespace nucleo
