#pragma once
/// `MLMHead<C, V, Scalar>`: BEND's masked-LM head (`ConvNetOnlyMLMHead`,
/// BEND:bend/models/dilated_cnn.py:280-285), applied at every position:
///
///   logits = Linear_{C->V}(LayerNorm(GELU(Linear_{C->C}(x))))
///
/// Shapes: [B, C, L] -> logits [B, V, L] (zero at padded positions). Params:
///   "0.weight" {C, C}, "0.bias" {C}, "2.weight" {C}, "2.bias" {C} (LayerNorm), "3.weight" {V, C}, "3.bias" {V}.
/// Init (`init(rng)`, BEND's _init_weights): Linear N(0, 0.02) and bias 0, LayerNorm 1 and 0.
/// Pair it with a masked cross-entropy over the logits' channel axis.
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/layer_norm.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/sequential.hpp"

namespace nucleo {

template <int C, int V, class Scalar = float>
class MLMHead : public Sequential<Linear<C, C, Scalar>, GELU<Scalar>, LayerNorm<C, Scalar>, Linear<C, V, Scalar>> {
  using Base = Sequential<Linear<C, C, Scalar>, GELU<Scalar>, LayerNorm<C, Scalar>, Linear<C, V, Scalar>>;

 public:
  static constexpr int vocab_size = V;

  MLMHead() = default;
  explicit MLMHead(Rng& rng) { init(rng); }

  std::string_view name() const { return "mlm_head"; }

  void init(Rng& rng) {
    this->template get<0>().init(rng);
    this->template get<2>().init();
    this->template get<3>().init(rng);
  }
};

}  // namespace nucleo
