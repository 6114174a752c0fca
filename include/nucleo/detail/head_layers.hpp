#pragma once
// Not API: small layers used inside the task heads (heads/token_classifier.hpp,
// heads/sequence_classifier.hpp). `nucleo::Activation` itself is public (a head constructor option).
#include "nucleo/core/concepts.hpp"
#include "nucleo/detail/batch_tiles.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/relu.hpp"

#include <string_view>

namespace nucleo {

/// Activation of a task head. BEND's code uses GELU (bend/models/downstream.py:138-147); its
/// docstring and the SPT paper say ReLU.
enum class Activation { gelu, relu };

inline std::string_view activation_name(Activation a) { return a == Activation::gelu ? "gelu" : "relu"; }

namespace detail {

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

/// Mean over each sequence's valid positions: [B, C, L] -> [B, C, 1],
/// y[b, c, 0] = (1/len_b) sum_{l < len_b} x[b, c, l] (0 if len_b == 0).
/// Backward: dx[b, c, l] = dy[b, c, 0] / len_b for l < len_b, else 0 (ASSIGNED).
template <class Scalar>
class MaskedMeanPool {
 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = any_channels;
  static constexpr int out_channels = any_channels;

  std::string_view name() const { return "masked_mean_pool"; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    const Index B = x.dimension(0), C = x.dimension(1), L = x.dimension(2);
    check_lengths(ctx, B);
    ensure_shape(y, B, C, 1);
    ctx.parallel_for(B * C, 64, [&](Index rb, Index re) {
      for (Index row = rb; row < re; ++row) {
        const Index len = ctx.length_of(row / C, L);
        const Scalar* xp = x.data() + row * L;
        Scalar s = 0;
        for (Index l = 0; l < len; ++l) s += xp[l];
        y.data()[row] = len > 0 ? s / Scalar(len) : Scalar(0);
      }
    });
  }
  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Index B = x.dimension(0), C = x.dimension(1), L = x.dimension(2);
    NUCLEO_CHECK(dy.dimension(0) == B && dy.dimension(1) == C && dy.dimension(2) == 1,
                 "MaskedMeanPool::backward: dy must be [{}, {}, 1]", B, C);
    ensure_shape_like(dx, x);
    ctx.parallel_for(B * C, 64, [&](Index rb, Index re) {
      for (Index row = rb; row < re; ++row) {
        const Index len = ctx.length_of(row / C, L);
        Scalar* dxp = dx.data() + row * L;
        const Scalar g = len > 0 ? dy.data()[row] / Scalar(len) : Scalar(0);
        for (Index l = 0; l < L; ++l) dxp[l] = l < len ? g : Scalar(0);
      }
    });
  }
  template <class V>
  void visit_params(V&&) {}
};

}  // namespace detail
}  // namespace nucleo
