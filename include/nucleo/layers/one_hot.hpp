#pragma once
/// `OneHot<V, Width = V, Scalar>`: token ids to one-hot channels.
///
///   y[b, c, l] = 1 if c == x[b, 0, l] else 0        for l < len_b
///   y[b, :, l] = 0                                   for l >= len_b (batch padding; ids not read)
///
/// Shapes: x [B, 1, L] (integral ids stored as Scalar) -> y [B, Width, L]; only the first V channels
/// are ever set. `OneHot<7, C>` reproduces BEND's `OneHotEmbedding(hidden_size)` (an H-wide one-hot
/// of V = 7 ids, bend.md section 3). No params.
/// Errors: an id that is not an integer in [0, V) throws ShapeError naming the value, sequence and
/// position. Backward: ids are not differentiable; dx = 0 (ASSIGNED).
#include "nucleo/core/concepts.hpp"
#include "nucleo/detail/batch_tiles.hpp"

#include <cmath>

namespace nucleo {

template <int V, int Width = V, class Scalar = float>
class OneHot {
  static_assert(V > 0, "OneHot<V, Width>: the vocabulary size V must be positive");
  static_assert(Width >= V, "OneHot<V, Width>: Width must be >= V (every id needs its own channel)");

 public:
  using scalar_type = Scalar;
  using Tensor = Tensor3<Scalar>;
  static constexpr int in_channels = 1;
  static constexpr int out_channels = Width;
  static constexpr int vocab_size = V;

  std::string_view name() const { return "one_hot"; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    NUCLEO_CHECK(x.dimension(1) == 1, "OneHot<{}, {}>: input must be token ids [B, 1, L], got {} channels", V, Width,
                 x.dimension(1));
    const Index B = x.dimension(0), L = x.dimension(2);
    detail::check_lengths(ctx, B);
    // Validate first, so a bad id leaves no half-written output and the error is thrown on this thread.
    for (Index b = 0; b < B; ++b) {
      const Index len = ctx.length_of(b, L);
      for (Index l = 0; l < len; ++l) {
        const Scalar id = x.data()[b * L + l];
        NUCLEO_CHECK(id >= 0 && id < Scalar(V) && id == std::floor(id),
                     "OneHot<{}>: token id {} at sequence {}, position {} is not an integer in [0, {})", V, id, b, l,
                     V);
      }
    }
    ensure_shape(y, B, Width, L);
    ctx.parallel_for(B, 1, [&](Index bb, Index be) {
      for (Index b = bb; b < be; ++b) {
        Scalar* yb = y.data() + b * Width * L;
        std::fill(yb, yb + Index(Width) * L, Scalar(0));
        const Index len = ctx.length_of(b, L);
        for (Index l = 0; l < len; ++l) yb[Index(x.data()[b * L + l]) * L + l] = Scalar(1);
      }
    });
  }

  template <class Ctx>
  void backward(Ctx&, const Tensor& x, const Tensor&, Tensor& dx) {
    ensure_shape_like(dx, x);
    dx.setZero();
  }

  template <class V_>
  void visit_params(V_&&) {}
};

}  // namespace nucleo
