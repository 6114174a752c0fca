#pragma once
/// `Activation`: the activation of a task head (a head constructor option), and
/// `SwitchableActivation`, the layer that applies the one chosen at run time.
#include "nucleo/core/concepts.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/relu.hpp"

#include <string_view>

namespace nucleo {

/// Activation of a task head. BEND's code uses GELU (bend/models/downstream.py:138-147); its
/// docstring and the SPT paper say ReLU.
enum class Activation { gelu, relu };

inline std::string_view activation_name(Activation a) { return a == Activation::gelu ? "gelu" : "relu"; }

/// GELU or ReLU, chosen at run time. Shape-preserving, no params.
template <class Scalar>
class SwitchableActivation {
 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = any_channels;
  static constexpr int out_channels = any_channels;

  explicit SwitchableActivation(Activation a = Activation::gelu) : a_(a) {}
  std::string_view name() const { return activation_name(a_); }
  Activation kind() const { return a_; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    if (a_ == Activation::gelu) gelu_.forward(ctx, x, y); else relu_.forward(ctx, x, y);
  }
  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    if (a_ == Activation::gelu) gelu_.backward(ctx, x, dy, dx); else relu_.backward(ctx, x, dy, dx);
  }
  template <class V>
  void visit_params(V&&) {}

 private:
  Activation a_;
  GELU<Scalar> gelu_;
  ReLU<Scalar> relu_;
};

}  // namespace nucleo
