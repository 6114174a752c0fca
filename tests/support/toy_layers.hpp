#pragma once
// Tiny layers for testing the containers: simple enough to check by hand.
#include "nucleo/core/concepts.hpp"

namespace nucleo::testing {

/// y[b,o,l] = sum_i W[o,i] x[b,i,l] + bias[o]. Params "weight" [Cout, Cin], "bias" [Cout].
template <int Cin, int Cout, class Scalar = double>
class Affine {
 public:
  using scalar_type = Scalar;
  static constexpr int in_channels = Cin, out_channels = Cout;
  Affine() : weight_({Cout, Cin}), bias_({Cout}, ParamKind::bias) {}
  std::string_view name() const { return "affine"; }
  Param<Scalar>& weight() { return weight_; }
  Param<Scalar>& bias() { return bias_; }

  template <class Ctx>
  void forward(Ctx&, const Tensor3<Scalar>& x, Tensor3<Scalar>& y) {
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(y, B, Cout, L);
    for (Index b = 0; b < B; ++b) {
      sequence(y, b).noalias() = weight_.matrix(Cout, Cin) * sequence(x, b);
      sequence(y, b).colwise() += bias_.value.matrix();
    }
  }
  template <class Ctx>
  void backward(Ctx&, const Tensor3<Scalar>& x, const Tensor3<Scalar>& dy, Tensor3<Scalar>& dx) {
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(dx, B, Cin, L);
    for (Index b = 0; b < B; ++b) {
      sequence(dx, b).noalias() = weight_.matrix(Cout, Cin).transpose() * sequence(dy, b);
      weight_.grad_matrix(Cout, Cin).noalias() += sequence(dy, b) * sequence(x, b).transpose();
      bias_.grad.matrix() += sequence(dy, b).rowwise().sum();
    }
  }
  template <class V>
  void visit_params(V&& v) {
    v("weight", weight_);
    v("bias", bias_);
  }

 private:
  Param<Scalar> weight_, bias_;
};

/// y = x * x elementwise; shape-preserving, no parameters.
template <class Scalar = double>
class Square {
 public:
  using scalar_type = Scalar;
  static constexpr int in_channels = any_channels, out_channels = any_channels;
  std::string_view name() const { return "square"; }
  template <class Ctx>
  void forward(Ctx&, const Tensor3<Scalar>& x, Tensor3<Scalar>& y) { y = x * x; }
  template <class Ctx>
  void backward(Ctx&, const Tensor3<Scalar>& x, const Tensor3<Scalar>& dy, Tensor3<Scalar>& dx) {
    dx = dy * x * static_cast<Scalar>(2);
  }
  template <class V>
  void visit_params(V&&) {}
};

}  // namespace nucleo::testing
