#pragma once
/// `DilatedConv1D<Cin, Cout, K, Scalar>`: 1-D convolution with runtime dilation and 'same' zero padding
/// (PyTorch `Conv1d(Cin, Cout, K, dilation=d, padding=d*(K-1)/2, bias=True)`).
///
///   y[b, o, l] = bias[o] + sum_{i<Cin} sum_{k<K} W[o, i, k] * x[b, i, l + k*d - p],   p = d*(K-1)/2
///
/// where x outside [0, len_b) counts as zero; len_b = ctx.length_of(b, L) is the valid length of
/// sequence b (positions >= len_b are batch padding).
/// Shapes: x [B, Cin, L] -> y [B, Cout, L]; y[b, :, l] = 0 for l >= len_b.
/// Params: "weight" {Cout, Cin, K} (PyTorch's order, so weights map 1:1), "bias" {Cout}.
/// Init (`init(rng)`): PyTorch's default, kaiming-uniform with a = sqrt(5), i.e. weight and bias
/// ~ U(-1/sqrt(Cin*K), +1/sqrt(Cin*K)). A default-constructed layer holds zeros until init().
/// Backward: dx ASSIGNED (zero at padded positions; dy at padded positions is ignored),
/// dW and db ACCUMULATED, summed over valid positions only.
///
/// Implementation: K shifted GEMMs on row-major C x L blocks, Y[:, tile] += W_k * X[:, tile + k*d - p],
/// with W repacked once per call into K row-major Cout x Cin matrices. Tiles of at most 512 columns
/// per sequence are spread over ctx's threads. dW is split into (tap, row block, position chunk)
/// tasks whose partition depends on the sizes only, and position chunks are summed in order, so
/// gradients are bit-identical from run to run and for any thread count. Repacked weights and
/// gradient partials live in the context's per-thread workspace (ctx.workspace(), keys
/// detail::ConvTaps and detail::GradPartialsW/B), shared by all layers, not in the layer.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/detail/batch_tiles.hpp"

#include <cmath>
#include <vector>

namespace nucleo {

namespace detail {
/// Workspace key of the repacked taps (DilatedConv1D::pack_taps), shared by every convolution.
struct ConvTaps {};
}  // namespace detail

template <int Cin, int Cout, int K, class Scalar = float>
class DilatedConv1D {
  static_assert(Cin > 0 && Cout > 0, "DilatedConv1D<Cin, Cout, K>: channel counts must be positive");
  static_assert(K > 0 && K % 2 == 1,
                "DilatedConv1D<Cin, Cout, K>: 'same' padding needs an odd kernel width K (use 3, 5, 9, ...)");

 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = Cin;
  static constexpr int out_channels = Cout;
  static constexpr int kernel_size = K;

  /// Zero parameters; call init(rng) (or use the Rng constructor) before training.
  explicit DilatedConv1D(int dilation = 1)
      : dilation_(dilation), weight_({Cout, Cin, K}, ParamKind::weight), bias_({Cout}, ParamKind::bias) {
    NUCLEO_CHECK_CONFIG(dilation >= 1, "DilatedConv1D: dilation must be >= 1, got {}", dilation);
  }
  DilatedConv1D(int dilation, Rng& rng) : DilatedConv1D(dilation) { init(rng); }

  std::string_view name() const { return "dilated_conv1d"; }
  int dilation() const { return dilation_; }
  /// Zero padding on each side, d*(K-1)/2.
  Index padding() const { return Index(dilation_) * (K - 1) / 2; }
  Param<Scalar>& weight() { return weight_; }
  Param<Scalar>& bias() { return bias_; }

  /// PyTorch's default Conv1d init: U(+-1/sqrt(Cin*K)) for weight and bias.
  void init(Rng& rng) {
    const double bound = 1.0 / std::sqrt(double(Cin) * K);
    for (Index i = 0; i < weight_.size(); ++i) weight_.value[i] = Scalar(rng.uniform(-bound, bound));
    for (Index i = 0; i < bias_.size(); ++i) bias_.value[i] = Scalar(rng.uniform(-bound, bound));
  }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    NUCLEO_CHECK(x.dimension(1) == Cin, "DilatedConv1D<{}, {}, {}>: input has {} channels, expected {}", Cin, Cout,
                 K, x.dimension(1), Cin);
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(y, B, Cout, L);
    const Scalar* wk = pack_taps(ctx);  // the calling thread's ConvTaps buffer, valid during this call
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        forward_tile(wk, x.data() + b * Cin * L, L, y.data() + b * Cout * L + l0, L, l0, l1, ctx.length_of(b, L));
      }
    });
    detail::zero_padding(ctx, y);
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Index B = x.dimension(0), L = x.dimension(2);
    NUCLEO_CHECK(dy.dimension(0) == B && dy.dimension(1) == Cout && dy.dimension(2) == L,
                 "DilatedConv1D::backward: dy is [{}, {}, {}], expected [{}, {}, {}]", dy.dimension(0),
                 dy.dimension(1), dy.dimension(2), B, Cout, L);
    ensure_shape(dx, B, Cin, L);
    const Scalar* wk = pack_taps(ctx);  // the calling thread's ConvTaps buffer, valid during this call
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        MatrixMap<Scalar>(dx.data() + b * Cin * L, Cin, L).middleCols(l0, l1 - l0).setZero();
        backward_data_tile(wk, dy.data() + b * Cout * L, dx.data() + b * Cin * L, L, l0, l1, ctx.length_of(b, L));
      }
    });
    detail::zero_padding(ctx, dx);
    accumulate_param_grads(ctx, x.data(), dy.data(), B, L, tiles);
  }

  // ---- Kernels, public for fused blocks (ResBlock); layers should call forward/backward. ----
  // Activations are raw row-major [B, C, L] buffers; a tile is columns [l0, l1) of one sequence,
  // inside its valid length len.

  /// W {Cout, Cin, K} repacked as K row-major Cout x Cin matrices, in the calling thread's ConvTaps
  /// workspace buffer (shared by all layers; valid until the next pack_taps() on this thread).
  template <class Ctx>
  const Scalar* pack_taps(Ctx& ctx) const {
    Scalar* wk = ctx.workspace().template get<Scalar, detail::ConvTaps>(std::size_t(K) * Cout * Cin);
    const Scalar* w = weight_.value.data();
    for (Index o = 0; o < Cout; ++o)
      for (Index i = 0; i < Cin; ++i)
        for (Index k = 0; k < K; ++k) wk[(k * Cout + o) * Cin + i] = w[(o * Cin + i) * K + k];
    return wk;
  }

  /// out[:, 0 : l1-l0) = bias + sum_k W_k X[:, l + s_k] for l in [l0, l1); X = the Cin x L sequence at
  /// `xs`; `out` = output column l0, row stride `ldo`.
  void forward_tile(const Scalar* wk, const Scalar* xs, Index L, Scalar* out, Index ldo, Index l0, Index l1,
                    Index len) const {
    const Index n = l1 - l0, pad = padding();
    ConstMatrixMap<Scalar> X(xs, Cin, L);
    StridedMap Y(out, Cout, n, Eigen::OuterStride<>(ldo));
    for (Index o = 0; o < Cout; ++o) Y.row(o).setConstant(bias_.value[o]);
    for (int k = 0; k < K; ++k) {
      const Index s = Index(k) * dilation_ - pad;
      const Index lo = std::max(l0, -s), hi = std::min(l1, len - s);
      if (hi <= lo) continue;
      Y.middleCols(lo - l0, hi - lo).noalias() += tap(wk, k) * X.middleCols(lo + s, hi - lo);
    }
  }

  /// DX[:, l0:l1) += sum_k W_k^T DY[:, l - s_k] over DY columns inside [0, len); DY is Cout x L at `dys`,
  /// DX is Cin x L at `dxs`.
  void backward_data_tile(const Scalar* wk, const Scalar* dys, Scalar* dxs, Index L, Index l0, Index l1,
                          Index len) const {
    const Index pad = padding();
    ConstMatrixMap<Scalar> DY(dys, Cout, L);
    MatrixMap<Scalar> DX(dxs, Cin, L);
    for (int k = 0; k < K; ++k) {
      const Index s = Index(k) * dilation_ - pad;
      const Index lo = std::max(l0, s), hi = std::min(l1, len + s);
      if (hi <= lo) continue;
      DX.middleCols(lo, hi - lo).noalias() += tap(wk, k).transpose() * DY.middleCols(lo - s, hi - lo);
    }
  }

  /// dW_k[o, i] += sum over valid l of dY[o, l] X[i, l + s_k], db += sum dY, over `tiles` of the
  /// [B, Cin, L] input `x` and [B, Cout, L] gradient `dy`. Tasks = (tap, row block, position chunk),
  /// fixed by the sizes; chunk partials are summed in order (bit-identical for any thread count).
  template <class Ctx>
  void accumulate_param_grads(Ctx& ctx, const Scalar* x, const Scalar* dy, Index B, Index L,
                              const std::vector<detail::Tile>& tiles) {
    (void)B;
    const Index pad = padding();
    const Index nt = Index(tiles.size());
    const Index rb = detail::row_blocks_for(Cout);
    const Index nc = detail::reduction_chunks(K * rb, nt);
    const Index wsize = Index(K) * Cout * Cin;
    Scalar* partial_w = ctx.workspace().template get<Scalar, detail::GradPartialsW>(std::size_t(nc * wsize));
    Scalar* partial_b = ctx.workspace().template get<Scalar, detail::GradPartialsB>(std::size_t(nc * Cout));
    std::fill(partial_w, partial_w + nc * wsize, Scalar(0));
    std::fill(partial_b, partial_b + nc * Cout, Scalar(0));
    ctx.parallel_for(Index(K) * rb * nc, 1, [&](Index jb, Index je) {
      for (Index j = jb; j < je; ++j) {
        const Index c = j % nc, r = (j / nc) % rb, k = j / (nc * rb);
        const Index o0 = Cout * r / rb, o1 = Cout * (r + 1) / rb;
        const Index t0 = nt * c / nc, t1 = nt * (c + 1) / nc;
        const Index s = k * dilation_ - pad;
        MatrixMap<Scalar> P(partial_w + c * wsize + k * Cout * Cin, Cout, Cin);
        for (Index t = t0; t < t1; ++t) {
          const auto [b, l0, l1] = tiles[std::size_t(t)];
          const Index len = ctx.length_of(b, L);
          ConstMatrixMap<Scalar> X(x + b * Cin * L, Cin, L);
          ConstMatrixMap<Scalar> DY(dy + b * Cout * L, Cout, L);
          const Index lo = std::max(l0, -s), hi = std::min(l1, len - s);
          if (hi > lo)
            P.middleRows(o0, o1 - o0).noalias() +=
                DY.block(o0, lo, o1 - o0, hi - lo) * X.middleCols(lo + s, hi - lo).transpose();
          if (k == 0) {
            Scalar* pb = partial_b + c * Cout;
            for (Index o = o0; o < o1; ++o) pb[o] += DY.row(o).segment(l0, l1 - l0).sum();
          }
        }
      }
    });
    // Sum the chunk partials in chunk order into the {Cout, Cin, K} gradient.
    ctx.parallel_for(Cout, 8, [&](Index ob, Index oe) {
      for (Index o = ob; o < oe; ++o)
        for (Index c = 0; c < nc; ++c) {
          const Scalar* P = partial_w + c * wsize;
          Scalar* g = weight_.grad.data() + o * Cin * K;
          for (Index i = 0; i < Cin; ++i)
            for (Index k = 0; k < K; ++k) g[i * K + k] += P[(k * Cout + o) * Cin + i];
        }
    });
    for (Index c = 0; c < nc; ++c)
      for (Index o = 0; o < Cout; ++o) bias_.grad[o] += partial_b[c * Cout + o];
  }

  template <class V>
  void visit_params(V&& v) {
    v("weight", weight_);
    v("bias", bias_);
  }

 private:
  using StridedMap = Eigen::Map<RowMatrix<Scalar>, 0, Eigen::OuterStride<>>;
  static ConstMatrixMap<Scalar> tap(const Scalar* wk, Index k) {
    return ConstMatrixMap<Scalar>(wk + k * Cout * Cin, Cout, Cin);
  }

  int dilation_;
  Param<Scalar> weight_, bias_;
};

}  // namespace nucleo
