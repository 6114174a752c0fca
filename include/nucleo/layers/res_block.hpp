#pragma once
/// `ResBlock<C, K = 9, Scalar>`: one layer of BEND's dilated ResNet (`ConvLayer`,
/// BEND:bend/models/dilated_cnn.py:115-166), composed from Sequential and Residual:
///
///   x = x + LayerNorm(GELU(DilatedConv1D_{C->C, K, d}(x)))      conv sub-block
///   x = x + LayerNorm(GELU(Linear_{C->C}(x)))                   position-wise sub-block
///
/// Shapes: [B, C, L] -> [B, C, L]. Runtime option: the dilation d of the convolution.
/// Params (stable names, C*C*K + C*C + 6C in all):
///   "0.body.0.weight" {C, C, K}, "0.body.0.bias" {C}      convolution
///   "0.body.2.weight" {C}, "0.body.2.bias" {C}             its LayerNorm
///   "1.body.0.weight" {C, C}, "1.body.0.bias" {C}          position-wise Linear
///   "1.body.2.weight" {C}, "1.body.2.bias" {C}             its LayerNorm
/// Init (`init(rng)`, BEND's): convolution PyTorch default U(+-1/sqrt(C*K)); Linear N(0, 0.02) and
/// bias 0; LayerNorm 1 and 0. Gradients: as Sequential/Residual (dx assigned, params accumulated).
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/layer_norm.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/residual.hpp"
#include "nucleo/layers/sequential.hpp"

namespace nucleo {

namespace detail {
template <int C, int K, class S>
using ResBlockBase = Sequential<Residual<Sequential<DilatedConv1D<C, C, K, S>, GELU<S>, LayerNorm<C, S>>>,
                                Residual<Sequential<Linear<C, C, S>, GELU<S>, LayerNorm<C, S>>>>;
}  // namespace detail

template <int C, int K = 9, class Scalar = float>
class ResBlock : public detail::ResBlockBase<C, K, Scalar> {
  using Base = detail::ResBlockBase<C, K, Scalar>;
  using ConvBranch = Sequential<DilatedConv1D<C, C, K, Scalar>, GELU<Scalar>, LayerNorm<C, Scalar>>;
  using MixBranch = Sequential<Linear<C, C, Scalar>, GELU<Scalar>, LayerNorm<C, Scalar>>;

 public:
  /// Zero conv/linear weights (LayerNorms at 1/0) until init(rng).
  explicit ResBlock(int dilation = 1)
      : Base(Residual<ConvBranch>(ConvBranch(DilatedConv1D<C, C, K, Scalar>(dilation), GELU<Scalar>(),
                                             LayerNorm<C, Scalar>())),
             Residual<MixBranch>(MixBranch(Linear<C, C, Scalar>(), GELU<Scalar>(), LayerNorm<C, Scalar>()))) {}
  ResBlock(int dilation, Rng& rng) : ResBlock(dilation) { init(rng); }

  std::string_view name() const { return "res_block"; }

  DilatedConv1D<C, C, K, Scalar>& conv() { return this->template get<0>().body().template get<0>(); }
  const DilatedConv1D<C, C, K, Scalar>& conv() const { return this->template get<0>().body().template get<0>(); }
  Linear<C, C, Scalar>& linear() { return this->template get<1>().body().template get<0>(); }
  int dilation() const { return conv().dilation(); }

  /// BEND's init (see the header comment).
  void init(Rng& rng) {
    conv().init(rng);
    this->template get<0>().body().template get<2>().init();
    linear().init(rng);
    this->template get<1>().body().template get<2>().init();
  }
};

}  // namespace nucleo
