#pragma once
/// `TokenClassifier<C, K, Hidden = 64, Scalar>`: BEND's downstream `CNN` head for per-position tasks
/// (gene finding; BEND:bend/models/downstream.py:101-202, without its own one-hot):
///
///   h = act(Conv1d_{C->H}(k=3, d=1, 'same')(x));  h = act(Conv1d_{H->H}(k=3)(h));  y = Linear_{H->K}(h)
///
/// act is GELU (BEND's code, the default) or ReLU (the paper), chosen at run time.
/// Shapes: [B, C, L] -> logits [B, K, L] (zero at padded positions). Params:
///   "0.weight" {H, C, 3}, "0.bias" {H}, "2.weight" {H, H, 3}, "2.bias" {H}, "4.weight" {K, H}, "4.bias" {K}.
/// Init (`init(rng)`): PyTorch defaults (BEND's head is a plain nn.Module): U(+-1/sqrt(fan_in)).
#include "nucleo/heads/activation.hpp"
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/sequential.hpp"

namespace nucleo {

namespace detail {
template <int C, int K, int H, class S>
using TokenClassifierBase = Sequential<DilatedConv1D<C, H, 3, S>, SwitchableActivation<S>, DilatedConv1D<H, H, 3, S>,
                                       SwitchableActivation<S>, Linear<H, K, S>>;
}  // namespace detail

template <int C, int K, int Hidden = 64, class Scalar = float>
class TokenClassifier : public detail::TokenClassifierBase<C, K, Hidden, Scalar> {
  using Base = detail::TokenClassifierBase<C, K, Hidden, Scalar>;

 public:
  static constexpr int num_classes = K, hidden = Hidden;

  /// Zero weights until init(rng).
  explicit TokenClassifier(Activation act = Activation::gelu)
      : Base(DilatedConv1D<C, Hidden, 3, Scalar>(1), SwitchableActivation<Scalar>(act),
             DilatedConv1D<Hidden, Hidden, 3, Scalar>(1), SwitchableActivation<Scalar>(act),
             Linear<Hidden, K, Scalar>()),
        act_(act) {}
  explicit TokenClassifier(Rng& rng, Activation act = Activation::gelu) : TokenClassifier(act) { init(rng); }

  std::string_view name() const { return "token_classifier"; }
  Activation activation() const { return act_; }

  void init(Rng& rng) {
    this->template get<0>().init(rng);
    this->template get<2>().init(rng);
    this->template get<4>().init_pytorch(rng);
  }

 private:
  Activation act_;
};

}  // namespace nucleo
