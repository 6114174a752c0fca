#pragma once
/// `BCEWithLogits<Scalar>`: binary cross-entropy on logits for multilabel classification, as
/// PyTorch's `nn.BCEWithLogitsLoss(pos_weight)` with BEND's plain mean over batch x labels
/// (bend.md 4.2).
///
/// Math, for logit x, target y in [0, 1] (multi-hot; soft targets allowed), pos_weight p (1 if none):
///   l     = p y softplus(-x) + (1 - y) softplus(x)      softplus(t) = max(t, 0) + log1p(exp(-|t|))
///   dl/dx = (1 - y) sigmoid(x) - p y sigmoid(-x)         (= (1 + (p-1) y) sigmoid(x) - p y)
///   mean: loss = sum l / (B K);  sum: loss = sum l.   Both terms are >= 0: no cancellation, finite
///   for any finite x (|x| = 1e4 included).
/// BEND multiplies the per-element loss by pos_weight where target == 1; for 0/1 targets that is
/// the same as PyTorch's pos_weight, which this implements.
///
/// Shapes: logits [B, K, 1] (SequenceClassifier output), targets nucleo::MultiLabels<Scalar> [B, K],
/// dlogits [B, K, 1] ASSIGNED. pos_weight: empty or K non-negative values (ConfigError otherwise).
/// Reduction: mean or sum (mean_sequences throws ConfigError).
/// Numerics: double per element; per-sequence partials added in order (thread-count independent).
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/losses/reduction.hpp"

#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

namespace nucleo {

template <class Scalar = float>
class BCEWithLogits {
 public:
  using scalar_type = Scalar;
  using target_type = MultiLabels<Scalar>;

  explicit BCEWithLogits(Reduction reduction = Reduction::mean)
      : reduction_(detail::per_element_reduction(reduction, "BCEWithLogits")) {}

  /// With a positive-class weight per label (size must equal K at every call).
  explicit BCEWithLogits(std::vector<double> pos_weight, Reduction reduction = Reduction::mean)
      : pos_weight_(std::move(pos_weight)), reduction_(detail::per_element_reduction(reduction, "BCEWithLogits")) {
    for (std::size_t k = 0; k < pos_weight_.size(); ++k)
      NUCLEO_CHECK_CONFIG(std::isfinite(pos_weight_[k]) && pos_weight_[k] >= 0,
                          "BCEWithLogits: pos_weight {} is {}; weights must be finite and >= 0", k, pos_weight_[k]);
  }

  std::string_view name() const { return "bce_with_logits"; }
  Reduction reduction() const { return reduction_; }
  const std::vector<double>& pos_weight() const { return pos_weight_; }

  template <class Ctx>
  double value_and_grad(Ctx& ctx, const Tensor3<Scalar>& logits, const MultiLabels<Scalar>& targets,
                        Tensor3<Scalar>& dlogits) {
    return run(ctx, logits, targets, &dlogits);
  }

  template <class Ctx>
  double value(Ctx& ctx, const Tensor3<Scalar>& logits, const MultiLabels<Scalar>& targets) {
    return run(ctx, logits, targets, nullptr);
  }

  /// Number of elements averaged over by the last call (B * K).
  Index last_count() const { return count_; }

 private:
  static double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }
  static double sigmoid(double t) {
    if (t >= 0) return 1.0 / (1.0 + std::exp(-t));
    const double e = std::exp(t);
    return e / (1.0 + e);
  }

  template <class Ctx>
  double run(Ctx& ctx, const Tensor3<Scalar>& logits, const MultiLabels<Scalar>& targets, Tensor3<Scalar>* dlogits) {
    const Index B = logits.dimension(0), K = logits.dimension(1);
    NUCLEO_CHECK(logits.dimension(2) == 1,
                 "BCEWithLogits: logits must be [B, K, 1] (one prediction per sequence), got [{}, {}, {}]", B, K,
                 logits.dimension(2));
    NUCLEO_CHECK(targets.rows() == B && targets.cols() == K, "BCEWithLogits: targets are [{}, {}], logits need [{}, {}]",
                 targets.rows(), targets.cols(), B, K);
    NUCLEO_CHECK(pos_weight_.empty() || static_cast<Index>(pos_weight_.size()) == K,
                 "BCEWithLogits: {} pos_weight values for {} labels", pos_weight_.size(), K);
    for (Index i = 0; i < targets.size(); ++i) {
      const double y = static_cast<double>(targets.data()[i]);
      NUCLEO_CHECK(y >= 0 && y <= 1, "BCEWithLogits: target {} at (sequence {}, label {}) is outside [0, 1]", y, i / K,
                   i % K);
    }
    count_ = B * K;
    if (dlogits) ensure_shape_like(*dlogits, logits);
    if (count_ == 0) return 0.0;
    const double norm = reduction_ == Reduction::mean ? static_cast<double>(count_) : 1.0;
    std::vector<double> partial(static_cast<std::size_t>(B), 0.0);
    ctx.parallel_for(B, 16, [&](Index b0, Index b1) {
      for (Index b = b0; b < b1; ++b) {
        double acc = 0;
        for (Index k = 0; k < K; ++k) {
          const double x = static_cast<double>(logits(b, k, 0));
          const double y = static_cast<double>(targets(b, k));
          const double p = pos_weight_.empty() ? 1.0 : pos_weight_[static_cast<std::size_t>(k)];
          acc += p * y * softplus(-x) + (1 - y) * softplus(x);
          if (dlogits) (*dlogits)(b, k, 0) = static_cast<Scalar>(((1 - y) * sigmoid(x) - p * y * sigmoid(-x)) / norm);
        }
        partial[static_cast<std::size_t>(b)] = acc;
      }
    });
    double total = 0;
    for (double v : partial) total += v;
    return total / norm;
  }

  std::vector<double> pos_weight_;
  Reduction reduction_ = Reduction::mean;
  Index count_ = 0;
};

static_assert(Loss<BCEWithLogits<float>>);
static_assert(Loss<BCEWithLogits<double>>);

}  // namespace nucleo
