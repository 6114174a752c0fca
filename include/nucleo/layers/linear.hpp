#pragma once
/// `Linear<Cin, Cout, Scalar>`: position-wise affine map (PyTorch `nn.Linear` applied at every position,
/// i.e. a 1x1 convolution).
///
///   y[b, :, l] = W x[b, :, l] + bias          for l < len_b = ctx.length_of(b, L)
///   y[b, :, l] = 0                            for l >= len_b (batch padding)
///
/// Shapes: x [B, Cin, L] -> y [B, Cout, L]. Params: "weight" {Cout, Cin}, "bias" {Cout}.
/// Init: `init(rng)` is BEND's (`_init_weights`): weight ~ N(0, 0.02), bias = 0.
/// `init_pytorch(rng)` is PyTorch's nn.Linear default: weight and bias ~ U(+-1/sqrt(Cin)) (BEND's
/// downstream CNN head keeps it). A default-constructed layer holds zeros until one of them runs.
/// Backward: dx ASSIGNED (zero at padded positions), dW, db ACCUMULATED over valid positions only.
/// Implementation: one GEMM per column tile of each sequence (threads over tiles); dW by
/// (row block, position chunk) tasks fixed by the sizes, chunks summed in order (deterministic), with
/// the partials in the context's workspace (key detail::GradPartialsW/B, shared with DilatedConv1D).
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/detail/batch_tiles.hpp"

#include <cmath>
#include <vector>

namespace nucleo {

template <int Cin, int Cout, class Scalar = float>
class Linear {
  static_assert(Cin > 0 && Cout > 0, "Linear<Cin, Cout>: channel counts must be positive");

 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = Cin;
  static constexpr int out_channels = Cout;

  Linear() : weight_({Cout, Cin}, ParamKind::weight), bias_({Cout}, ParamKind::bias) {}
  explicit Linear(Rng& rng) : Linear() { init(rng); }

  std::string_view name() const { return "linear"; }
  Param<Scalar>& weight() { return weight_; }
  Param<Scalar>& bias() { return bias_; }

  /// BEND's init: weight ~ N(0, stddev = 0.02), bias = 0.
  void init(Rng& rng, double stddev = 0.02) {
    for (Index i = 0; i < weight_.size(); ++i) weight_.value[i] = Scalar(rng.normal(0.0, stddev));
    bias_.value.setZero();
  }
  /// PyTorch's nn.Linear default: weight and bias ~ U(+-1/sqrt(Cin)).
  void init_pytorch(Rng& rng) {
    const double bound = 1.0 / std::sqrt(double(Cin));
    for (Index i = 0; i < weight_.size(); ++i) weight_.value[i] = Scalar(rng.uniform(-bound, bound));
    for (Index i = 0; i < bias_.size(); ++i) bias_.value[i] = Scalar(rng.uniform(-bound, bound));
  }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    NUCLEO_CHECK(x.dimension(1) == Cin, "Linear<{}, {}>: input has {} channels, expected {}", Cin, Cout,
                 x.dimension(1), Cin);
    const Index B = x.dimension(0), L = x.dimension(2);
    ensure_shape(y, B, Cout, L);
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        forward_tile(x.data() + b * Cin * L + l0, L, y.data() + b * Cout * L + l0, L, l1 - l0);
      }
    });
    detail::zero_padding(ctx, y);
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Index B = x.dimension(0), L = x.dimension(2);
    NUCLEO_CHECK(dy.dimension(0) == B && dy.dimension(1) == Cout && dy.dimension(2) == L,
                 "Linear::backward: dy is [{}, {}, {}], expected [{}, {}, {}]", dy.dimension(0), dy.dimension(1),
                 dy.dimension(2), B, Cout, L);
    ensure_shape(dx, B, Cin, L);
    const std::vector<detail::Tile> tiles = detail::make_tiles(ctx, B, L);
    ctx.parallel_for(Index(tiles.size()), 1, [&](Index tb, Index te) {
      for (Index t = tb; t < te; ++t) {
        const auto [b, l0, l1] = tiles[std::size_t(t)];
        backward_data_tile(dy.data() + b * Cout * L + l0, L, dx.data() + b * Cin * L + l0, L, l1 - l0, false);
      }
    });
    detail::zero_padding(ctx, dx);
    accumulate_param_grads(ctx, x.data(), L, dy.data(), L, L, tiles);
  }

  // ---- Kernels, public for fused blocks (ResBlock, MLMHead); layers should call forward/backward. ----

  /// Y = W X + bias for n columns: X = Cin rows at `xs` (row stride ldx), Y = Cout rows at `ys` (ldy).
  void forward_tile(const Scalar* xs, Index ldx, Scalar* ys, Index ldy, Index n) const {
    ConstStrided X(xs, Cin, n, Eigen::OuterStride<>(ldx));
    Strided Y(ys, Cout, n, Eigen::OuterStride<>(ldy));
    Y.noalias() = weight_.matrix(Cout, Cin) * X;
    for (Index o = 0; o < Cout; ++o) Y.row(o).array() += bias_.value[o];
  }

  /// DX (=, or += when `accumulate`) W^T DY for n columns (DY: Cout rows at `dys`, DX: Cin rows at `dxs`).
  void backward_data_tile(const Scalar* dys, Index lddy, Scalar* dxs, Index lddx, Index n, bool accumulate) const {
    ConstStrided DY(dys, Cout, n, Eigen::OuterStride<>(lddy));
    Strided DX(dxs, Cin, n, Eigen::OuterStride<>(lddx));
    if (accumulate)
      DX.noalias() += weight_.matrix(Cout, Cin).transpose() * DY;
    else
      DX.noalias() = weight_.matrix(Cout, Cin).transpose() * DY;
  }

  /// dW += sum over the tiles' columns of dY X^T, db += sum dY. x: [B, Cin, *] with per-sequence
  /// stride Cin * ldx, dy: [B, Cout, *] with stride Cout * lddy (rows of length ldx / lddy); tile
  /// columns index both. Tasks = (row block, position chunk), chunk partials summed in order.
  template <class Ctx>
  void accumulate_param_grads(Ctx& ctx, const Scalar* x, Index ldx, const Scalar* dy, Index lddy, Index L,
                              const std::vector<detail::Tile>& tiles) {
    (void)L;
    const Index nt = Index(tiles.size());
    const Index rb = detail::row_blocks_for(Cout);
    const Index nc = detail::reduction_chunks(rb, nt);
    const Index wsize = Index(Cout) * Cin;
    Scalar* partial_w = ctx.workspace().template get<Scalar, detail::GradPartialsW>(std::size_t(nc * wsize));
    Scalar* partial_b = ctx.workspace().template get<Scalar, detail::GradPartialsB>(std::size_t(nc * Cout));
    std::fill(partial_w, partial_w + nc * wsize, Scalar(0));
    std::fill(partial_b, partial_b + nc * Cout, Scalar(0));
    ctx.parallel_for(rb * nc, 1, [&](Index jb, Index je) {
      for (Index j = jb; j < je; ++j) {
        const Index c = j % nc, r = j / nc;
        const Index o0 = Cout * r / rb, o1 = Cout * (r + 1) / rb;
        const Index t0 = nt * c / nc, t1 = nt * (c + 1) / nc;
        MatrixMap<Scalar> P(partial_w + c * wsize, Cout, Cin);
        Scalar* pb = partial_b + c * Cout;
        for (Index t = t0; t < t1; ++t) {
          const auto [b, l0, l1] = tiles[std::size_t(t)];
          const Index n = l1 - l0;
          ConstStrided DY(dy + b * Cout * lddy + o0 * lddy + l0, o1 - o0, n, Eigen::OuterStride<>(lddy));
          ConstStrided X(x + b * Cin * ldx + l0, Cin, n, Eigen::OuterStride<>(ldx));
          P.middleRows(o0, o1 - o0).noalias() += DY * X.transpose();
          for (Index o = o0; o < o1; ++o) pb[o] += DY.row(o - o0).sum();
        }
      }
    });
    for (Index c = 0; c < nc; ++c) {
      weight_.grad += Eigen::Map<const typename Param<Scalar>::Array>(partial_w + c * wsize, wsize);
      bias_.grad += Eigen::Map<const typename Param<Scalar>::Array>(partial_b + c * Cout, Cout);
    }
  }

  template <class V>
  void visit_params(V&& v) {
    v("weight", weight_);
    v("bias", bias_);
  }

 private:
  using Strided = Eigen::Map<RowMatrix<Scalar>, 0, Eigen::OuterStride<>>;
  using ConstStrided = Eigen::Map<const RowMatrix<Scalar>, 0, Eigen::OuterStride<>>;
  Param<Scalar> weight_, bias_;
};

}  // namespace nucleo
