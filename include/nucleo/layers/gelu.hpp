#pragma once
/// `GELU<Scalar>`: Gaussian error linear unit, exact erf form (PyTorch `nn.GELU()` default, BEND).
///
///   y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
///   dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
///
/// Shapes: any [B, C, L] -> same (any_channels). No params. Elementwise, so padded positions map
/// 0 -> 0. Backward: dx = dy * dy/dx(x), ASSIGNED.
/// Implementation: Eigen array expressions (vectorised erf for float) over contiguous slices,
/// split over ctx's threads.
#include "nucleo/core/concepts.hpp"
#include "nucleo/detail/gelu_constants.hpp"

#include <unsupported/Eigen/SpecialFunctions>

namespace nucleo {

template <class Scalar = float>
class GELU {
 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = any_channels;
  static constexpr int out_channels = any_channels;

  std::string_view name() const { return "gelu"; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    ensure_shape_like(y, x);
    ctx.parallel_for(x.size(), 1 << 14, [&](Index b, Index e) {
      const ConstArr xs(x.data() + b, e - b);
      Arr ys(y.data() + b, e - b);
      ys = Scalar(0.5) * xs * (Scalar(1) + (xs * Scalar(detail::gelu_inv_sqrt2)).erf());
    });
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    NUCLEO_CHECK(dy.dimensions() == x.dimensions(), "GELU::backward: dy and x shapes differ");
    ensure_shape_like(dx, x);
    ctx.parallel_for(x.size(), 1 << 14, [&](Index b, Index e) {
      const ConstArr xs(x.data() + b, e - b), ds(dy.data() + b, e - b);
      Arr dxs(dx.data() + b, e - b);
      dxs = ds * (Scalar(0.5) * (Scalar(1) + (xs * Scalar(detail::gelu_inv_sqrt2)).erf()) +
                  xs * (xs.square() * Scalar(-0.5)).exp() * Scalar(detail::gelu_inv_sqrt_2pi));
    });
  }

  template <class V>
  void visit_params(V&&) {}

 private:
  using Arr = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
  using ConstArr = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
};

}  // namespace nucleo
