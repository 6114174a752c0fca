#pragma once
/// `ResBlock<C, K = 9, Scalar>`: one layer of BEND's dilated ResNet (`ConvLayer`,
/// BEND:bend/models/dilated_cnn.py:115-166):
///
///   x = x + LayerNorm(GELU(DilatedConv1D_{C->C, K, d}(x)))      conv sub-block
///   x = x + LayerNorm(GELU(Linear_{C->C}(x)))                   position-wise sub-block
///
/// Shapes: [B, C, L] -> [B, C, L]. Runtime option: the dilation d of the convolution.
/// Padding: at positions l >= len_b both branches are zero, so y = x there (and dx = dy).
/// Params (stable names, C*C*K + C*C + 6C in all; the names of the Sequential/Residual
/// composition `Sequential<Residual<Sequential<conv, GELU, LN>>, Residual<Sequential<Linear, GELU, LN>>>`):
///   "0.body.0.weight" {C, C, K}, "0.body.0.bias" {C}      convolution
///   "0.body.2.weight" {C}, "0.body.2.bias" {C}             its LayerNorm
///   "1.body.0.weight" {C, C}, "1.body.0.bias" {C}          position-wise Linear
///   "1.body.2.weight" {C}, "1.body.2.bias" {C}             its LayerNorm
/// Init (`init(rng)`, BEND's): convolution PyTorch default U(+-1/sqrt(C*K)); Linear N(0, 0.02) and
/// bias 0; LayerNorm 1 and 0. Gradients: dx ASSIGNED, parameter gradients ACCUMULATED.
///
/// Implementation (fused, same math as the composition of DilatedConv1D, GELU, LayerNorm, Linear
/// and Residual): the forward runs the whole block column tile by column tile (conv, GELU, norm,
/// residual add, linear, GELU, norm, residual add while the tile is in cache). In training mode
/// (`ctx.training()`) it keeps only the two pre-activations z1 = conv(x), z2 = linear(x1) and the
/// per-position mean / inverse std of both norms; backward recomputes GELU and the normalised
/// values from them, and the mid-block activation x1 into a workspace buffer shared by all blocks
/// (ctx.workspace(), keys detail::ResBlock*).
/// In evaluation mode nothing of batch size is kept. The backward must follow a training-mode
/// forward on the same x. Reductions are ordered by tile, so results are bit-identical for any
/// thread count.
#include "nucleo/detail/gelu_norm.hpp"
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/layer_norm.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/residual.hpp"    // the composition ResBlock is defined by (kept for includers)
#include "nucleo/layers/sequential.hpp"

#include <vector>

namespace nucleo {

namespace detail {
/// Workspace keys of ResBlock, shared by all blocks. Evaluation-mode forward, per tile (C x padded
/// n): the two pre-activations. Backward, batch-sized: the recomputed mid-block activation x1,
/// the two pre-activation gradients, and the per-tile LayerNorm gradient partials.
struct ResBlockZ1 {};
struct ResBlockZ2 {};
struct ResBlockX1 {};
struct ResBlockDZ1 {};
struct ResBlockDZ2 {};
struct ResBlockNormPartials {};
}  // namespace detail

template <int C, int K = 9, class Scalar = float>
class ResBlock {
  static_assert(C > 0, "ResBlock<C, K>: C must be positive");

 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = C;
  static constexpr int out_channels = C;

  /// Zero conv/linear weights (LayerNorms at 1/0) until init(rng).
  explicit ResBlock(int dilation = 1) : conv_(dilation) {}
  ResBlock(int dilation, Rng& rng) : ResBlock(dilation) { init(rng); }

  std::string_view name() const { return "res_block"; }

  DilatedConv1D<C, C, K, Scalar>& conv() { return conv_; }
  const DilatedConv1D<C, C, K, Scalar>& conv() const { return conv_; }
  LayerNorm<C, Scalar>& conv_norm() { return norm1_; }
  Linear<C, C, Scalar>& linear() { return lin_; }
  const Linear<C, C, Scalar>& linear() const { return lin_; }
  LayerNorm<C, Scalar>& linear_norm() { return norm2_; }
  int dilation() const { return conv_.dilation(); }

  /// BEND's init (see the header comment).
  void init(Rng& rng) {
    conv_.init(rng);
    norm1_.init();
    lin_.init(rng);
    norm2_.init();
  }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    NUCLEO_CHECK(x.dimension(1) == C, "ResBlock<{}>: input has {} channels, expected {}", C, x.dimension(1), C);
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(y, B, C, L);
    const bool keep = ctx.training();
    if (keep) {
      ensure_shape(z1_, B, C, L);
      ensure_shape(z2_, B, C, L);
    } else {
      z1_ = Tensor();
      z2_ = Tensor();
    }
    stats_.resize(std::size_t(4 * B * L));
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    const Scalar* wk = conv_.pack_taps(ctx);  // the calling thread's ConvTaps buffer, valid during this call
    Workspace& ws = ctx.workspace();
    const Scalar *g1 = norm1_.weight().value.data(), *b1 = norm1_.bias().value.data();
    const Scalar *g2 = norm2_.weight().value.data(), *b2 = norm2_.bias().value.data();
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        const Index n = l1 - l0, o = b * C * L + l0, len = ctx.length_of(b, L);
        const Index w = detail::GeluNorm<Scalar>::padded(n);
        Scalar* z1 = keep ? z1_.data() + o : ws.get<Scalar, detail::ResBlockZ1>(std::size_t(C * w));
        Scalar* z2 = keep ? z2_.data() + o : ws.get<Scalar, detail::ResBlockZ2>(std::size_t(C * w));
        const Index ldz = keep ? L : w;
        Scalar* yt = y.data() + o;
        conv_.forward_tile(wk, x.data() + b * C * L, L, z1, ldz, l0, l1, len);
        detail::GeluNorm<Scalar>::forward(ws, C, n, z1, ldz, g1, b1, norm1_.eps(), x.data() + o, L, yt, L,
                                          mu1(b, L) + l0, r1(b, L) + l0);
        lin_.forward_tile(yt, L, z2, ldz, n);
        detail::GeluNorm<Scalar>::forward(ws, C, n, z2, ldz, g2, b2, norm2_.eps(), yt, L, yt, L, mu2(b, L) + l0,
                                          r2(b, L) + l0);
      }
    });
    copy_padding(ctx, x, y);
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Index B = x.dimension(0), L = x.dimension(2);
    NUCLEO_CHECK(dy.dimensions() == x.dimensions() && x.dimension(1) == C,
                 "ResBlock<{}>::backward: dy and x shapes differ", C);
    NUCLEO_CHECK(z1_.dimensions() == x.dimensions(),
                 "ResBlock<{}>::backward: run forward on this x in training mode (ctx.training()) first", C);
    ensure_shape(dx, B, C, L);
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    const Index nt = Index(tiles.size()), n_all = B * C * L;
    // Batch-sized buffers of the calling thread, shared by all blocks: x1 (recomputed), dz1, dz2.
    Workspace& ws = ctx.workspace();
    Scalar* x1 = ws.get<Scalar, detail::ResBlockX1>(std::size_t(n_all));
    Scalar* dz1 = ws.get<Scalar, detail::ResBlockDZ1>(std::size_t(n_all));
    Scalar* dz2 = ws.get<Scalar, detail::ResBlockDZ2>(std::size_t(n_all));
    Scalar* partial = ws.get<Scalar, detail::ResBlockNormPartials>(std::size_t(nt * 4 * C));
    std::fill(partial, partial + nt * 4 * C, Scalar(0));
    const Scalar *g1 = norm1_.weight().value.data(), *b1 = norm1_.bias().value.data();
    const Scalar *g2 = norm2_.weight().value.data(), *b2 = norm2_.bias().value.data();

    // Per tile: dz2 from dy; dx1 = dy + W2^T dz2 (into dx); x1 recomputed; dz1 from dx1.
    ctx.parallel_for(nt, 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        const Index n = l1 - l0, o = b * C * L + l0;
        Scalar* p = partial + t * 4 * C;
        detail::GeluNorm<Scalar>::backward(ws, C, n, z2_.data() + o, L, mu2(b, L) + l0, r2(b, L) + l0, g2, b2,
                                           dy.data() + o, L, dz2 + o, L, p + 2 * C, p + 3 * C);
        Scalar* dxt = dx.data() + o;
        lin_.backward_data_tile(dz2 + o, L, dxt, L, n, false);
        for (Index c = 0; c < C; ++c) {
          const Scalar* d = dy.data() + o + c * L;
          for (Index l = 0; l < n; ++l) dxt[c * L + l] += d[l];
        }
        detail::GeluNorm<Scalar>::backward(ws, C, n, z1_.data() + o, L, mu1(b, L) + l0, r1(b, L) + l0, g1, b1, dxt, L,
                                           dz1 + o, L, p, p + C, x.data() + o, L, x1 + o, L);
      }
    });
    copy_padding(ctx, dy, dx);
    // dx += conv^T dz1 (needs dz1 of neighbouring tiles, hence a second pass).
    const Scalar* wk = conv_.pack_taps(ctx);
    ctx.parallel_for(nt, 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        conv_.backward_data_tile(wk, dz1 + b * C * L, dx.data() + b * C * L, L, l0, l1, ctx.length_of(b, L));
      }
    });
    conv_.accumulate_param_grads(ctx, x.data(), dz1, B, L, tiles);
    lin_.accumulate_param_grads(ctx, x1, L, dz2, L, L, tiles);
    for (Index t = 0; t < nt; ++t) {
      const Scalar* p = partial + t * 4 * C;
      for (Index c = 0; c < C; ++c) {
        norm1_.weight().grad[c] += p[c];
        norm1_.bias().grad[c] += p[C + c];
        norm2_.weight().grad[c] += p[2 * C + c];
        norm2_.bias().grad[c] += p[3 * C + c];
      }
    }
  }

  template <class V>
  void visit_params(V&& v) {
    conv_.visit_params(detail::prefixed("0.body.0.", v));
    norm1_.visit_params(detail::prefixed("0.body.2.", v));
    lin_.visit_params(detail::prefixed("1.body.0.", v));
    norm2_.visit_params(detail::prefixed("1.body.2.", v));
  }

 private:
  // Per-position statistics of the two norms: [mu1 | r1 | mu2 | r2], each B x L.
  Scalar* stat(int k, Index b, Index L) { return stats_.data() + (k * (stats_.size() / 4)) + b * L; }
  Scalar* mu1(Index b, Index L) { return stat(0, b, L); }
  Scalar* r1(Index b, Index L) { return stat(1, b, L); }
  Scalar* mu2(Index b, Index L) { return stat(2, b, L); }
  Scalar* r2(Index b, Index L) { return stat(3, b, L); }

  /// dst[b, :, len_b:L) = src[b, :, len_b:L) (identity path at padded positions).
  template <class Ctx>
  static void copy_padding(const Ctx& ctx, const Tensor& src, Tensor& dst) {
    const Index B = src.dimension(0), L = src.dimension(2);
    for (Index b = 0; b < B; ++b) {
      const Index len = std::max<Index>(0, ctx.length_of(b, L));
      if (len >= L) continue;
      for (Index c = 0; c < C; ++c) {
        const Index o = (b * C + c) * L;
        std::copy(src.data() + o + len, src.data() + o + L, dst.data() + o + len);
      }
    }
  }

  DilatedConv1D<C, C, K, Scalar> conv_;
  LayerNorm<C, Scalar> norm1_;
  Linear<C, C, Scalar> lin_;
  LayerNorm<C, Scalar> norm2_;
  Tensor z1_, z2_;             // pre-activations of the two GELUs (training mode only)
  std::vector<Scalar> stats_;  // per-position mean and 1/std of both norms
};

}  // namespace nucleo
