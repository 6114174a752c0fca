#pragma once
/// `MlmMasking`: the paper's masked-language-model corruption (Mupparapu et al. 2025, section 4;
/// BERT's 80/10/10 rule).
///
/// For every position of a sequence whose token is not [PAD]:
///   - with probability `p` (0.15) the position is *selected*; its target is the original id;
///   - a selected position becomes [MASK] with probability `mask_fraction` (0.8), a nucleotide
///     drawn uniformly from {A, C, G, T} with probability `random_fraction` (0.1) - which may equal
///     the original, as in BERT - and stays unchanged otherwise (0.1);
///   - positions not selected (and all [PAD]) get target -100 (`ignore_index`, core/labels.hpp),
///     which the loss skips.
/// N tokens can be selected like any nucleotide (target 4). Selected positions are not forced to
/// be at least one per sequence.
///
/// Reproducibility: the random stream of sequence `i` in epoch `e` is
/// `Rng(seed).fork(stream_tag).fork(e).fork(i)` (core/rng.hpp; the constant tag keeps it apart from
/// the Batcher's streams when both get the same seed), where `i` is the example's *dataset index*
/// (`Batch::example_ids`), never the thread or the batch row. The corruption of an example is
/// therefore the same for any thread count, batch composition or prefetching, and a resumed run
/// re-creates it exactly. Per position the stream draws one uniform (selection) and, if selected,
/// one uniform (branch) and, for the random branch, one uniform_int(4).
///
/// Shapes: `apply(batch)` rewrites `batch.tokens` [B, 1, L] in place and sets `batch.labels` to
/// the targets [B, L] (int32; positions >= lengths[b] are -100).
#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/data/tokens.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace nucleo {

struct MlmMaskingOptions {
  double p = 0.15;                ///< selection probability per non-pad token
  double mask_fraction = 0.8;     ///< of selected: -> [MASK]
  double random_fraction = 0.1;   ///< of selected: -> uniform random A/C/G/T; rest unchanged
  std::uint64_t seed = 0x5eed;
};

class MlmMasking {
 public:
  explicit MlmMasking(MlmMaskingOptions options = {}) : opt_(options) {
    NUCLEO_CHECK_CONFIG(opt_.p >= 0 && opt_.p <= 1, "MlmMasking: p must be in [0, 1], got {}", opt_.p);
    NUCLEO_CHECK_CONFIG(opt_.mask_fraction >= 0 && opt_.random_fraction >= 0 &&
                     opt_.mask_fraction + opt_.random_fraction <= 1 + 1e-12,
                        "MlmMasking: mask_fraction ({}) and random_fraction ({}) must be >= 0 and sum to at most 1",
                        opt_.mask_fraction, opt_.random_fraction);
  }

  const MlmMaskingOptions& options() const { return opt_; }

  /// The random stream of example `example_id` in epoch `epoch`.
  Rng stream(std::uint64_t epoch, std::uint64_t example_id) const {
    return Rng(opt_.seed).fork(stream_tag).fork(epoch).fork(example_id);
  }

  static constexpr std::uint64_t stream_tag = 0x6d6c6d;  // "mlm"

  /// Corrupt one sequence in place (ids 0..6); `targets` (same size) receives the originals at
  /// selected positions and -100 elsewhere.
  void apply(std::span<std::uint8_t> ids, std::span<std::int32_t> targets, std::uint64_t epoch,
             std::uint64_t example_id) const {
    NUCLEO_CHECK(ids.size() == targets.size(), "MlmMasking: {} tokens but {} targets", ids.size(), targets.size());
    Rng r = stream(epoch, example_id);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      targets[i] = ignore_index;
      const std::uint8_t t = ids[i];
      if (t == tokens::pad) continue;
      NUCLEO_CHECK(t < tokens::vocab_size, "MlmMasking: token id {} at position {} is out of range", t, i);
      if (auto out = corrupt(r, t)) {
        targets[i] = t;
        ids[i] = *out;
      }
    }
  }

  /// Corrupt row `b` of a batch (tokens as floats), writing row `b` of `targets`.
  void apply_row(Batch& batch, Index b) const {
    const Index L = batch.length();
    const Index len = batch.lengths[static_cast<std::size_t>(b)];
    Rng r = stream(batch.position.epoch, static_cast<std::uint64_t>(batch.example_ids[static_cast<std::size_t>(b)]));
    float* t = batch.tokens.data() + b * L;
    for (Index l = 0; l < L; ++l) {
      batch.labels(b, l) = ignore_index;
      if (l >= len) continue;
      const auto id = static_cast<std::uint8_t>(t[l]);
      if (id == tokens::pad) continue;
      if (auto out = corrupt(r, id)) {
        batch.labels(b, l) = id;
        t[l] = static_cast<float>(*out);
      }
    }
  }

  /// Corrupt a whole batch (sequentially; for the Prefetcher's worker). Replaces `batch.labels`.
  void apply(Batch& batch) const {
    batch.labels.resize(batch.size(), batch.length());
    for (Index b = 0; b < batch.size(); ++b) apply_row(batch, b);
  }
  void operator()(Batch& batch) const { apply(batch); }

  /// Same, rows in parallel on `ctx` (identical result for any thread count).
  void apply(CpuContext& ctx, Batch& batch) const {
    batch.labels.resize(batch.size(), batch.length());
    ctx.parallel_for(batch.size(), 1, [&](Index b0, Index b1) {
      for (Index b = b0; b < b1; ++b) apply_row(batch, b);
    });
  }

 private:
  /// Selected -> the replacement id; not selected -> nullopt.
  std::optional<std::uint8_t> corrupt(Rng& r, std::uint8_t id) const {
    if (!(r.uniform() < opt_.p)) return std::nullopt;
    const double u = r.uniform();
    if (u < opt_.mask_fraction) return tokens::mask;
    if (u < opt_.mask_fraction + opt_.random_fraction)
      return static_cast<std::uint8_t>(r.uniform_int(tokens::num_nucleotides));
    return id;
  }

  MlmMaskingOptions opt_;
};

}  // namespace nucleo
