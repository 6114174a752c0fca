#pragma once
/// `CrossEntropy<Scalar>`: softmax cross-entropy over classes at every position, as PyTorch's
/// `nn.CrossEntropyLoss(weight, ignore_index=-100, reduction)` applied to `logits` [B, K, L] and
/// `targets` [B, L] (BEND's gene-finding loss, bend.md 4.2).
///
/// Math, at each counted position (b, l) with target y in [0, K):
///   nll  = log sum_k exp(z_k) - z_y         computed as m + log sum_k exp(z_k - m), m = max_k z_k
///   w    = class_weights[y]                  (1 without weights)
///   mean:  loss = sum w nll / sum w           (PyTorch's weighted mean)
///   sum:   loss = sum w nll
///   dloss/dz_k = w (softmax(z)_k - [k == y]) / N,   N = sum w (mean) or 1 (sum)
/// Counted positions: target != ignore_index (-100) and l < ctx.length_of(b, L). All other
/// positions contribute nothing, their logits are never read (padding may hold anything) and their
/// dlogits are 0. With no counted position the loss is 0 and dlogits is 0 (PyTorch: NaN).
///
/// Shapes: logits [B, K, L] (Tensor3), targets nucleo::Labels [B, L] (int32), dlogits [B, K, L]
/// ASSIGNED (resized if needed). A target outside [0, K) other than -100 throws ShapeError; a
/// negative or non-finite class weight, or Reduction::mean_sequences, throws ConfigError.
/// Numerics: per-position work in double; the loss is a sum of per-sequence partials added in
/// sequence order, so it is bit-identical for any thread count.
/// After each call, `last_count()` = counted positions, `last_weight_sum()` = sum of their weights
/// (the mean's denominator), `last_correct()` = counted positions whose argmax is the target.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/detail/softmax_cross_entropy.hpp"
#include "nucleo/losses/reduction.hpp"

#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

namespace nucleo {

template <class Scalar = float>
class CrossEntropy {
 public:
  using scalar_type = Scalar;
  using target_type = Labels;

  /// Unweighted; mean over counted positions unless `reduction` says otherwise.
  explicit CrossEntropy(Reduction reduction = Reduction::mean)
      : reduction_(detail::per_element_reduction(reduction, "CrossEntropy")) {}

  /// With one non-negative weight per class (size must equal K at every call).
  explicit CrossEntropy(std::vector<double> class_weights, Reduction reduction = Reduction::mean)
      : weights_(std::move(class_weights)), reduction_(detail::per_element_reduction(reduction, "CrossEntropy")) {
    for (std::size_t k = 0; k < weights_.size(); ++k)
      NUCLEO_CHECK_CONFIG(std::isfinite(weights_[k]) && weights_[k] >= 0,
                          "CrossEntropy: class weight {} is {}; weights must be finite and >= 0", k, weights_[k]);
  }

  std::string_view name() const { return "cross_entropy"; }
  Reduction reduction() const { return reduction_; }
  const std::vector<double>& class_weights() const { return weights_; }

  /// Loss value; dlogits = dloss/dlogits (ASSIGNED).
  template <class Ctx>
  double value_and_grad(Ctx& ctx, const Tensor3<Scalar>& logits, const Labels& targets, Tensor3<Scalar>& dlogits) {
    return detail::softmax_cross_entropy(ctx, logits, targets, weights_, reduction_, &dlogits, stats_, "CrossEntropy");
  }

  /// Loss value only (evaluation).
  template <class Ctx>
  double value(Ctx& ctx, const Tensor3<Scalar>& logits, const Labels& targets) {
    return detail::softmax_cross_entropy<Scalar>(ctx, logits, targets, weights_, reduction_, nullptr, stats_,
                                                 "CrossEntropy");
  }

  Index last_count() const { return stats_.count; }
  double last_weight_sum() const { return stats_.weight_sum; }
  Index last_correct() const { return stats_.correct; }

 private:
  std::vector<double> weights_;
  Reduction reduction_ = Reduction::mean;
  detail::CrossEntropyStats stats_;
};

static_assert(Loss<CrossEntropy<float>>);
static_assert(Loss<CrossEntropy<double>>);

}  // namespace nucleo
