#pragma once
/// `Dropout<Scalar>`: inverted dropout, active only when `ctx.training()`.
///
///   training:   y = x * m / (1 - p),  m ~ Bernoulli(1 - p) per element
///   evaluation: y = x
///
/// Shapes: any [B, C, L] -> same (any_channels). No params. Runtime option: p in [0, 1).
/// Reproducibility: each forward draws one 64-bit key from `ctx.rng()`; the mask of row (b, c) is
/// the stream `Rng(key, b).fork(c)`, element l its l-th draw. So the mask depends on the context's
/// seed, the call count, the sequence index, channel and position - never on the thread that made
/// it, nor on the padded length L.
/// Backward: dx = dy * m / (1 - p) with the mask of the last forward (dx = dy after an evaluation
/// forward), ASSIGNED.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/rng.hpp"

#include <vector>

namespace nucleo {

template <class Scalar = float>
class Dropout {
 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = any_channels;
  static constexpr int out_channels = any_channels;

  explicit Dropout(double p = 0.1) : p_(p) {
    NUCLEO_CHECK_CONFIG(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got {}", p);
  }

  std::string_view name() const { return "dropout"; }
  double p() const { return p_; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    ensure_shape_like(y, x);
    active_ = ctx.training() && p_ > 0;
    if (!active_) {
      y = x;
      return;
    }
    const Index B = x.dimension(0), C = x.dimension(1), L = x.dimension(2);
    ensure_shape_like(mask_, x);
    const std::uint64_t key = ctx.rng().next_u64();
    // keep iff the 53-bit uniform u >= p, i.e. the top 53 bits >= threshold
    const std::uint64_t threshold = static_cast<std::uint64_t>(p_ * 0x1.0p53);
    const Scalar scale = Scalar(1.0 / (1.0 - p_));
    ctx.parallel_for(B * C, 1, [&](Index rb, Index re) {
      for (Index row = rb; row < re; ++row) {
        const Index b = row / C, c = row % C;
        Rng rng = Rng(key, std::uint64_t(b)).fork(std::uint64_t(c));
        Scalar* m = mask_.data() + row * L;
        const Scalar* xp = x.data() + row * L;
        Scalar* yp = y.data() + row * L;
        for (Index l = 0; l < L; ++l) {
          m[l] = (rng.next_u64() >> 11) >= threshold ? scale : Scalar(0);
          yp[l] = xp[l] * m[l];
        }
      }
    });
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    NUCLEO_CHECK(dy.dimensions() == x.dimensions(), "Dropout::backward: dy and x shapes differ");
    ensure_shape_like(dx, x);
    if (!active_) {
      dx = dy;
      return;
    }
    NUCLEO_CHECK(mask_.dimensions() == dy.dimensions(), "Dropout::backward: no mask for this shape; run forward first");
    ctx.parallel_for(dy.size(), 1 << 15, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) dx.data()[i] = dy.data()[i] * mask_.data()[i];
    });
  }

  template <class V>
  void visit_params(V&&) {}

  /// The scaled mask of the last training forward (0 or 1/(1-p) per element).
  const Tensor& mask() const { return mask_; }

 private:
  double p_;
  bool active_ = false;
  Tensor mask_;
};

}  // namespace nucleo
