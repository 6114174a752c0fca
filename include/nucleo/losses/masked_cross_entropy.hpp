#pragma once
/// `MaskedCrossEntropy<Scalar>`: the MLM loss. Cross-entropy over the vocabulary at the masked
/// positions only: `targets` [B, L] hold the original token id at masked positions and -100
/// everywhere else (as BEND's `ConvNetForMaskedLM`, bend.md 3); the loss is the mean over masked
/// positions (positions >= ctx.length_of(b, L) never count).
///
/// Math and gradient: exactly `CrossEntropy` without class weights (the same kernel,
/// detail/softmax_cross_entropy.hpp); logits [B, V, L], dlogits ASSIGNED, 0 at unmasked positions.
/// `last_count()` = number of masked positions, `last_correct()` = masked positions predicted
/// right (MLM accuracy = last_correct / last_count).
#include "nucleo/losses/cross_entropy.hpp"

#include <string_view>

namespace nucleo {

template <class Scalar = float>
class MaskedCrossEntropy {
 public:
  using scalar_type = Scalar;
  using target_type = Labels;

  explicit MaskedCrossEntropy(Reduction reduction = Reduction::mean) : ce_(reduction) {}

  std::string_view name() const { return "masked_cross_entropy"; }

  template <class Ctx>
  double value_and_grad(Ctx& ctx, const Tensor3<Scalar>& logits, const Labels& targets, Tensor3<Scalar>& dlogits) {
    return ce_.value_and_grad(ctx, logits, targets, dlogits);
  }

  template <class Ctx>
  double value(Ctx& ctx, const Tensor3<Scalar>& logits, const Labels& targets) {
    return ce_.value(ctx, logits, targets);
  }

  Index last_count() const { return ce_.last_count(); }
  Index last_correct() const { return ce_.last_correct(); }

 private:
  CrossEntropy<Scalar> ce_;
};

static_assert(Loss<MaskedCrossEntropy<float>>);
static_assert(Loss<MaskedCrossEntropy<double>>);

}  // namespace nucleo
