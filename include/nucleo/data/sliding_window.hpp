#pragma once
/// `SlidingWindow`: inference on sequences of any length (a 118 kb fly locus, a 20 Mb chromosome)
/// with a model trained on windows of `window` nucleotides, in bounded memory.
///
/// The plan: windows of length W = `window` overlapping by O = `overlap` (0 <= O < W), stride
/// S = W - O, starts 0, S, 2S, ..., and the last window aligned to the end of the sequence
/// (start L - W), so every window is full length. A sequence with L <= W is one window of length
/// L. Each pair of neighbouring windows splits their overlap at its midpoint; window k keeps
/// [keep_begin, keep_end), the part between the two midpoints (from 0 for the first window, to L
/// for the last). The kept parts tile [0, L) exactly once, and every kept position has at least
/// floor(O / 2) positions of context on both sides inside its window (fewer only at the sequence
/// ends), so edge effects of the window stay outside what is kept.
///
///     sequence   0 ........................................................ L
///     window 0   [==========kept==========|xxxx]
///     window 1                  [xxxx|==========kept==========|xxxx]
///     window 2 (end-aligned)                          [xxxx|======kept=======]
///                               <-- O -->
///
/// `predict_windows(ids, options, model, sink)` runs the model on `batch_size` windows at a time
/// and streams the stitched output:
///   - model(const WindowBatch& wb, Tensor3<S>& out): wb.tokens [B, 1, Lb] (ids as floats,
///     [PAD] beyond wb.lengths[b]), wb.windows[b] = the window of row b (wb.sequences[b] its
///     sequence for `predict_windows_many`); the model resizes `out`
///     to [B, K, Lb], per-position outputs (logits, probabilities...). K must not change.
///   - sink(Index begin, const RowMatrix<S>& block): block = K x n outputs of positions
///     [begin, begin + n); called in increasing order of `begin`, covering [0, L) exactly once.
/// Memory is O(batch_size * K * W) whatever L is. `predict_full` collects everything into K x L
/// (for loci that fit in memory). `predict_windows_many` packs the windows of many sequences
/// into the same batches (a test set of short loci) and tells the sink which sequence a block is of.
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/data/tokens.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

namespace nucleo {

/// One window of a plan; all coordinates are absolute positions in the sequence.
struct Window {
  Index start = 0;       ///< first position of the window
  Index length = 0;      ///< number of positions (W, or L when L < W)
  Index keep_begin = 0;  ///< kept part [keep_begin, keep_end), inside [start, start + length)
  Index keep_end = 0;
  friend bool operator==(const Window&, const Window&) = default;
};

class SlidingWindow {
 public:
  SlidingWindow(Index total_length, Index window, Index overlap) : L_(total_length), W_(window), O_(overlap) {
    NUCLEO_CHECK_CONFIG(window > 0, "SlidingWindow: window must be positive, got {}", window);
    NUCLEO_CHECK_CONFIG(overlap >= 0 && overlap < window, "SlidingWindow: overlap must be in [0, window) = [0, {}), got {}",
                        window, overlap);
    NUCLEO_CHECK_CONFIG(total_length >= 0, "SlidingWindow: negative sequence length {}", total_length);
    if (L_ == 0) return;
    if (L_ <= W_) {
      w_.push_back({0, L_, 0, L_});
      return;
    }
    const Index S = W_ - O_;
    const Index n = 1 + (L_ - W_ + S - 1) / S;
    std::vector<Index> starts(static_cast<std::size_t>(n));
    for (Index k = 0; k + 1 < n; ++k) starts[static_cast<std::size_t>(k)] = k * S;
    starts.back() = L_ - W_;
    Index begin = 0;
    for (Index k = 0; k < n; ++k) {
      const Index s = starts[static_cast<std::size_t>(k)];
      const Index end = (k + 1 < n) ? (starts[static_cast<std::size_t>(k + 1)] + s + W_) / 2 : L_;
      w_.push_back({s, W_, begin, end});
      begin = end;
    }
  }

  Index total_length() const { return L_; }
  Index window() const { return W_; }
  Index overlap() const { return O_; }
  Index size() const { return static_cast<Index>(w_.size()); }
  const std::vector<Window>& windows() const { return w_; }
  const Window& operator[](Index k) const { return w_[static_cast<std::size_t>(k)]; }

 private:
  Index L_, W_, O_;
  std::vector<Window> w_;
};

struct SlidingWindowOptions {
  Index window = 12000;
  Index overlap = 2000;
  Index batch_size = 8;  ///< windows per model call
  bool operator==(const SlidingWindowOptions&) const = default;
};

/// A batch of windows handed to the model callback.
struct WindowBatch {
  std::vector<Window> windows;   ///< row b's window (absolute coordinates in its sequence)
  std::vector<Index> sequences;  ///< row b's sequence index (always 0 for `predict_windows`)
  Tensor3<float> tokens;         ///< [B, 1, Lb], [PAD] beyond lengths[b]
  std::vector<Index> lengths;    ///< valid length of each row (= windows[b].length)
  Index size() const { return static_cast<Index>(windows.size()); }
};

namespace detail {
inline std::span<const std::uint8_t> window_token_span(std::span<const std::uint8_t> s) { return s; }
inline std::span<const std::uint8_t> window_token_span(const std::vector<std::uint8_t>& s) { return s; }
}  // namespace detail

/// Many sequences at once: windows of all sequences are packed `batch_size` per model call (a
/// test set of 6 kb loci with W = 12 kb is one window each), and
/// `sink(Index sequence, Index begin, const RowMatrix<S>& block)` receives the stitched outputs,
/// sequence by sequence in index order, each in increasing position order, covering every
/// sequence exactly once. `seqs[i]` is a `std::vector<std::uint8_t>` or a span of ids. Returns K
/// (0 when there is no position at all).
template <class Scalar = float, class Sequences, class Model, class Sink>
Index predict_windows_many(const Sequences& seqs, const SlidingWindowOptions& opt, Model&& model, Sink&& sink) {
  NUCLEO_CHECK_CONFIG(opt.batch_size > 0, "predict_windows: batch_size must be positive, got {}", opt.batch_size);
  Index K = -1;
  WindowBatch wb;
  Tensor3<Scalar> out;
  RowMatrix<Scalar> block;
  auto flush = [&] {
    const Index B = wb.size();
    if (B == 0) return;
    Index Lb = 0;
    wb.lengths.resize(static_cast<std::size_t>(B));
    for (Index b = 0; b < B; ++b) {
      wb.lengths[static_cast<std::size_t>(b)] = wb.windows[static_cast<std::size_t>(b)].length;
      Lb = std::max(Lb, wb.windows[static_cast<std::size_t>(b)].length);
    }
    ensure_shape(wb.tokens, B, 1, Lb);
    wb.tokens.setConstant(static_cast<float>(tokens::pad));
    for (Index b = 0; b < B; ++b) {
      const Window& w = wb.windows[static_cast<std::size_t>(b)];
      const auto ids = detail::window_token_span(seqs[static_cast<std::size_t>(wb.sequences[static_cast<std::size_t>(b)])]);
      float* t = wb.tokens.data() + b * Lb;
      for (Index l = 0; l < w.length; ++l) t[l] = static_cast<float>(ids[static_cast<std::size_t>(w.start + l)]);
    }
    model(static_cast<const WindowBatch&>(wb), out);
    NUCLEO_CHECK(out.dimension(0) == B && out.dimension(2) == Lb,
                 "predict_windows: the model returned [{}, {}, {}] for a window batch of [{}, 1, {}]",
                 out.dimension(0), out.dimension(1), out.dimension(2), B, Lb);
    if (K < 0) K = out.dimension(1);
    NUCLEO_CHECK(out.dimension(1) == K, "predict_windows: the model returned {} channels, earlier {}",
                 out.dimension(1), K);
    for (Index b = 0; b < B; ++b) {
      const Window& w = wb.windows[static_cast<std::size_t>(b)];
      const ConstMatrixMap<Scalar> row = sequence(static_cast<const Tensor3<Scalar>&>(out), b);
      block = row.middleCols(w.keep_begin - w.start, w.keep_end - w.keep_begin);
      sink(wb.sequences[static_cast<std::size_t>(b)], w.keep_begin, static_cast<const RowMatrix<Scalar>&>(block));
    }
    wb.windows.clear();
    wb.sequences.clear();
  };
  const std::size_t n = std::size(seqs);
  for (std::size_t i = 0; i < n; ++i) {
    const SlidingWindow plan(static_cast<Index>(detail::window_token_span(seqs[i]).size()), opt.window, opt.overlap);
    for (const Window& w : plan.windows()) {
      wb.windows.push_back(w);
      wb.sequences.push_back(static_cast<Index>(i));
      if (wb.size() == opt.batch_size) flush();
    }
  }
  flush();
  return std::max<Index>(K, 0);
}

/// Run `model` over windows of `ids` and stream the stitched per-position outputs to `sink`
/// (see the header comment for both signatures). Returns K (0 for an empty sequence).
template <class Scalar = float, class Model, class Sink>
Index predict_windows(std::span<const std::uint8_t> ids, const SlidingWindowOptions& opt, Model&& model, Sink&& sink) {
  const std::span<const std::uint8_t> one[1] = {ids};
  return predict_windows_many<Scalar>(one, opt, model, [&](Index, Index begin, const RowMatrix<Scalar>& block) {
    sink(begin, block);
  });
}

/// All stitched outputs as one K x L matrix (K x 0 for an empty sequence; K = 0 then).
template <class Scalar = float, class Model>
RowMatrix<Scalar> predict_full(std::span<const std::uint8_t> ids, const SlidingWindowOptions& opt, Model&& model) {
  RowMatrix<Scalar> full;
  const Index L = static_cast<Index>(ids.size());
  predict_windows<Scalar>(ids, opt, model, [&](Index begin, const RowMatrix<Scalar>& block) {
    if (full.cols() != L) full.resize(block.rows(), L);
    full.middleCols(begin, block.cols()) = block;
  });
  return full;
}

}  // namespace nucleo
