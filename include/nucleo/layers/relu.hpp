#pragma once
/// `ReLU<Scalar>`: y = max(x, 0).
///
/// Shapes: any [B, C, L] -> same (any_channels). No params. Backward: dx = dy * [x > 0], ASSIGNED
/// (the subgradient at x = 0 is taken as 0, as PyTorch does).
#include "nucleo/core/concepts.hpp"

namespace nucleo {

template <class Scalar = float>
class ReLU {
 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = any_channels;
  static constexpr int out_channels = any_channels;

  std::string_view name() const { return "relu"; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    ensure_shape_like(y, x);
    ctx.parallel_for(x.size(), 1 << 15, [&](Index b, Index e) {
      const Scalar* xp = x.data();
      Scalar* yp = y.data();
      for (Index i = b; i < e; ++i) yp[i] = xp[i] > Scalar(0) ? xp[i] : Scalar(0);
    });
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    NUCLEO_CHECK(dy.dimensions() == x.dimensions(), "ReLU::backward: dy and x shapes differ");
    ensure_shape_like(dx, x);
    ctx.parallel_for(x.size(), 1 << 15, [&](Index b, Index e) {
      const Scalar* xp = x.data();
      const Scalar* dyp = dy.data();
      Scalar* dxp = dx.data();
      for (Index i = b; i < e; ++i) dxp[i] = xp[i] > Scalar(0) ? dyp[i] : Scalar(0);
    });
  }

  template <class V>
  void visit_params(V&&) {}
};

}  // namespace nucleo
