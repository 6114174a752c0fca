#pragma once
// Not API. Work partitioning shared by the layers in layers/ and heads/.
//
// A batch [B, C, L] with valid lengths len_b (ctx.length_of) is cut into column tiles
// (b, l0, l1) covering [0, len_b) of each sequence. The tiling of a sequence depends only on its
// own valid length, never on the padded length L, the batch size or the thread count, so a
// sequence gets bit-identical results alone or padded inside a batch, with any number of threads.
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <vector>

namespace nucleo::detail {

/// Widest tile, in columns: large enough for efficient GEMMs, small enough to stay in L2 and to
/// give several tasks per batch.
inline constexpr Index max_tile_columns = 512;

struct Tile {
  Index b, l0, l1;  // sequence b, columns [l0, l1)
};

/// ctx.lengths() must be empty or hold one length per sequence of the batch.
template <class Ctx>
void check_lengths(const Ctx& ctx, Index B) {
  NUCLEO_CHECK(ctx.lengths().empty() || Index(ctx.lengths().size()) == B,
               "the context holds {} sequence lengths but the batch has {} sequences (ctx.set_lengths)",
               ctx.lengths().size(), B);
}

/// Tiles over the valid columns of every sequence of a [B, *, L] batch.
template <class Ctx>
std::vector<Tile> make_tiles(const Ctx& ctx, Index B, Index L, Index max_cols = max_tile_columns) {
  check_lengths(ctx, B);
  std::vector<Tile> tiles;
  tiles.reserve(static_cast<std::size_t>(B * ((L + max_cols - 1) / max_cols)));
  for (Index b = 0; b < B; ++b) {
    const Index len = ctx.length_of(b, L);
    if (len <= 0) continue;
    const Index nt = (len + max_cols - 1) / max_cols;
    for (Index t = 0; t < nt; ++t) tiles.push_back({b, len * t / nt, len * (t + 1) / nt});
  }
  return tiles;
}

/// Set columns [len_b, L) of every sequence of `t` to zero (the padding rule).
template <class Ctx, class S>
void zero_padding(const Ctx& ctx, Tensor3<S>& t) {
  const Index B = t.dimension(0), C = t.dimension(1), L = t.dimension(2);
  for (Index b = 0; b < B; ++b) {
    const Index len = std::max<Index>(0, ctx.length_of(b, L));
    if (len >= L) continue;
    S* base = t.data() + b * C * L;
    for (Index c = 0; c < C; ++c) std::fill(base + c * L + len, base + c * L + L, S(0));
  }
}

/// Number of position chunks for a deterministic weight-gradient reduction, so that
/// row_blocks * chunks >= 4 tasks when there are enough tiles. Depends on sizes only.
inline Index reduction_chunks(Index row_blocks, Index n_tiles) {
  const Index want = std::max<Index>(1, (4 + row_blocks - 1) / row_blocks);
  return std::max<Index>(1, std::min(want, n_tiles));
}

/// Row blocks of a weight gradient with `rows` rows: blocks of >= 64 rows, at most 8.
inline Index row_blocks_for(Index rows) { return std::clamp<Index>(rows / 64, 1, 8); }

/// Workspace keys (core/workspace.hpp) of the weight-gradient reductions above: the per-chunk
/// partials of dW and db. Shared by DilatedConv1D and Linear, whose reductions never overlap on a
/// thread, so a model holds one partials buffer per thread, not one per layer type.
struct GradPartialsW {};
struct GradPartialsB {};

}  // namespace nucleo::detail
