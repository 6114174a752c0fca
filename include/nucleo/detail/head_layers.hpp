#pragma once
// Not API: the pooling layer inside heads/sequence_classifier.hpp.
#include "nucleo/core/concepts.hpp"
#include "nucleo/detail/batch_tiles.hpp"

namespace nucleo {

namespace detail {

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
