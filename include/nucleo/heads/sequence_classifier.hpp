#pragma once
/// `SequenceClassifier<C, K, Hidden = 64, Scalar>`: BEND's downstream `CNN` head for sequence-level
/// (multilabel) tasks: the two k=3 convolutions of TokenClassifier, then the mean over each
/// sequence's valid positions, then a Linear to K logits:
///
///   h = act(Conv_{C->H}(x));  h = act(Conv_{H->H}(h));  p[b, :] = mean_{l < len_b} h[b, :, l];  y = Linear_{H->K}(p)
///
/// Shapes: [B, C, L] -> logits [B, K, 1] (apply a sigmoid/BCE per label). Params:
///   "0.weight" {H, C, 3}, "0.bias" {H}, "2.weight" {H, H, 3}, "2.bias" {H}, "5.weight" {K, H}, "5.bias" {K}.
/// Padding: positions >= len_b are neither convolved nor pooled, so the logits of a sequence do not
/// depend on how much padding follows it (BEND averages over the whole padded window; its
/// multilabel inputs all have length 512, so there is no difference there).
/// Init (`init(rng)`): PyTorch defaults, U(+-1/sqrt(fan_in)).
#include "nucleo/detail/head_layers.hpp"
#include "nucleo/heads/activation.hpp"
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/sequential.hpp"

namespace nucleo {

namespace detail {
template <int C, int K, int H, class S>
using SequenceClassifierBase =
    Sequential<DilatedConv1D<C, H, 3, S>, SwitchableActivation<S>, DilatedConv1D<H, H, 3, S>, SwitchableActivation<S>,
               MaskedMeanPool<S>, Linear<H, K, S>>;
}  // namespace detail

template <int C, int K, int Hidden = 64, class Scalar = float>
class SequenceClassifier : public detail::SequenceClassifierBase<C, K, Hidden, Scalar> {
  using Base = detail::SequenceClassifierBase<C, K, Hidden, Scalar>;

 public:
  static constexpr int num_classes = K, hidden = Hidden;

  /// Zero weights until init(rng).
  explicit SequenceClassifier(Activation act = Activation::gelu)
      : Base(DilatedConv1D<C, Hidden, 3, Scalar>(1), SwitchableActivation<Scalar>(act),
             DilatedConv1D<Hidden, Hidden, 3, Scalar>(1), SwitchableActivation<Scalar>(act),
             detail::MaskedMeanPool<Scalar>(), Linear<Hidden, K, Scalar>()),
        act_(act) {}
  explicit SequenceClassifier(Rng& rng, Activation act = Activation::gelu) : SequenceClassifier(act) { init(rng); }

  std::string_view name() const { return "sequence_classifier"; }
  Activation activation() const { return act_; }

  void init(Rng& rng) {
    this->template get<0>().init(rng);
    this->template get<2>().init(rng);
    this->template get<5>().init_pytorch(rng);
  }

 private:
  Activation act_;
};

}  // namespace nucleo
