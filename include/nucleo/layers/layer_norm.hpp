#pragma once
/// `LayerNorm<C, Scalar>`: normalisation over the channels of each position (PyTorch `nn.LayerNorm(C)`
/// applied to [B, L, C], as BEND does after transposing).
///
///   mu = mean_c x[b, c, l],  var = mean_c (x[b, c, l] - mu)^2,  r = 1 / sqrt(var + eps)
///   y[b, c, l] = gamma[c] * (x[b, c, l] - mu) * r + beta[c]        for l < len_b
///   y[b, c, l] = 0                                                  for l >= len_b (batch padding)
///
/// Shapes: x [B, C, L] -> y [B, C, L]. Params: "weight" (gamma) {C}, kind norm, init 1;
/// "bias" (beta) {C}, kind bias, init 0 (set by the constructor; `init()` resets them).
/// Backward (xh = (x - mu) r, g = gamma * dy):
///   dx = r * (g - mean_c g - xh * mean_c(g * xh))   ASSIGNED (zero at padded positions)
///   dgamma += sum_{b, l valid} dy * xh,  dbeta += sum_{b, l valid} dy   ACCUMULATED
/// The forward caches mu and r per position for backward. Parameter-gradient partials are kept
/// per column tile and summed in tile order (deterministic for any thread count).
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/detail/batch_tiles.hpp"

#include <cmath>
#include <vector>

namespace nucleo {

template <int C, class Scalar = float>
class LayerNorm {
  static_assert(C > 0, "LayerNorm<C>: C must be positive");

 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = C;
  static constexpr int out_channels = C;

  explicit LayerNorm(double eps = 1e-5) : eps_(eps), weight_({C}, ParamKind::norm), bias_({C}, ParamKind::bias) {
    NUCLEO_CHECK_CONFIG(eps > 0, "LayerNorm: eps must be > 0, got {}", eps);
    init();
  }

  std::string_view name() const { return "layer_norm"; }
  double eps() const { return eps_; }
  Param<Scalar>& weight() { return weight_; }
  Param<Scalar>& bias() { return bias_; }

  /// gamma = 1, beta = 0 (PyTorch and BEND).
  void init() {
    weight_.value.setOnes();
    bias_.value.setZero();
  }
  void init(Rng&) { init(); }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    NUCLEO_CHECK(x.dimension(1) == C, "LayerNorm<{}>: input has {} channels, expected {}", C, x.dimension(1), C);
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(y, B, C, L);
    mean_.resize(std::size_t(B * L));
    rstd_.resize(std::size_t(B * L));
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    const Scalar inv_c = Scalar(1) / Scalar(C), eps = Scalar(eps_);
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        const Index n = l1 - l0;
        const Scalar* xp = x.data() + b * C * L + l0;
        Scalar* yp = y.data() + b * C * L + l0;
        Scalar* mu = mean_.data() + b * L + l0;
        Scalar* r = rstd_.data() + b * L + l0;
        std::fill(mu, mu + n, Scalar(0));
        std::fill(r, r + n, Scalar(0));
        for (Index c = 0; c < C; ++c)
          for (Index l = 0; l < n; ++l) mu[l] += xp[c * L + l];
        for (Index l = 0; l < n; ++l) mu[l] *= inv_c;
        for (Index c = 0; c < C; ++c)
          for (Index l = 0; l < n; ++l) {
            const Scalar d = xp[c * L + l] - mu[l];
            r[l] += d * d;
          }
        for (Index l = 0; l < n; ++l) r[l] = Scalar(1) / std::sqrt(r[l] * inv_c + eps);
        for (Index c = 0; c < C; ++c) {
          const Scalar g = weight_.value[c], be = bias_.value[c];
          for (Index l = 0; l < n; ++l) yp[c * L + l] = (xp[c * L + l] - mu[l]) * r[l] * g + be;
        }
      }
    });
    detail::zero_padding(ctx, y);
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Index B = x.dimension(0), L = x.dimension(2);
    NUCLEO_CHECK(dy.dimensions() == x.dimensions() && x.dimension(1) == C &&
                     mean_.size() == std::size_t(B * L),
                 "LayerNorm<{}>::backward: dy/x shapes differ or forward was not run on this x", C);
    ensure_shape(dx, B, C, L);
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    const Index nt = Index(tiles.size());
    partial_.assign(std::size_t(nt * 2 * C), Scalar(0));
    const Scalar inv_c = Scalar(1) / Scalar(C);
    ctx.parallel_for(nt, 1, [&](Index tb, Index te) {
      Scalar a1[detail::max_tile_columns], a2[detail::max_tile_columns];
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        const Index n = l1 - l0;
        const Scalar* xp = x.data() + b * C * L + l0;
        const Scalar* dyp = dy.data() + b * C * L + l0;
        Scalar* dxp = dx.data() + b * C * L + l0;
        const Scalar* mu = mean_.data() + b * L + l0;
        const Scalar* r = rstd_.data() + b * L + l0;
        Scalar* pg = partial_.data() + t * 2 * C;
        Scalar* pb = pg + C;
        std::fill(a1, a1 + n, Scalar(0));  // mean_c g
        std::fill(a2, a2 + n, Scalar(0));  // mean_c g * xh
        for (Index c = 0; c < C; ++c) {
          const Scalar gam = weight_.value[c];
          Scalar sg = 0, sb = 0;
          for (Index l = 0; l < n; ++l) {
            const Scalar xh = (xp[c * L + l] - mu[l]) * r[l];
            const Scalar d = dyp[c * L + l];
            const Scalar g = gam * d;
            a1[l] += g;
            a2[l] += g * xh;
            sg += d * xh;
            sb += d;
          }
          pg[c] = sg;
          pb[c] = sb;
        }
        for (Index c = 0; c < C; ++c) {
          const Scalar gam = weight_.value[c];
          for (Index l = 0; l < n; ++l) {
            const Scalar xh = (xp[c * L + l] - mu[l]) * r[l];
            dxp[c * L + l] = r[l] * (gam * dyp[c * L + l] - a1[l] * inv_c - xh * a2[l] * inv_c);
          }
        }
      }
    });
    detail::zero_padding(ctx, dx);
    for (Index t = 0; t < nt; ++t) {
      const Scalar* pg = partial_.data() + t * 2 * C;
      for (Index c = 0; c < C; ++c) {
        weight_.grad[c] += pg[c];
        bias_.grad[c] += pg[C + c];
      }
    }
  }

  template <class V>
  void visit_params(V&& v) {
    v("weight", weight_);
    v("bias", bias_);
  }

 private:
  double eps_;
  Param<Scalar> weight_, bias_;
  std::vector<Scalar> mean_, rstd_, partial_;  // per-position cache from forward; scratch
};

}  // namespace nucleo
