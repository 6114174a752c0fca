#pragma once
/// `Batcher`: turns a list of tokenised examples into padded, length-bucketed model batches.
///
/// Input: `Example`s = token ids (data/tokens.hpp) plus either per-position labels (same length,
/// gene finding) or a multi-hot label vector (BEND multilabel tasks), or neither (MLM pretraining).
/// All examples of one Batcher carry the same kind of labels (and the same K).
///
/// Output: `Batch`
///   - `tokens`      Tensor3<float> [B, 1, L], L = longest (cropped) example of the batch, padded
///                   with [PAD] (id 6);
///   - `lengths`     valid length of each row (hand it to `CpuContext::set_lengths`);
///   - `labels`      nucleo::Labels [B, L], per-position classes, -100 (ignore_index) on padding;
///                   empty (0 x 0) when the examples have no per-position labels;
///   - `multilabels` MultiLabels<float> [B, K] (0/1), empty when the examples have none;
///   - `example_ids` dataset index of each row; `offsets` crop start of each row in its example;
///   - `position`    the (epoch, batch) this batch is.
///
/// Training mode (`options.training = true`), epoch e:
///   1. a permutation of all examples, seeded by (seed, e);
///   2. the permutation is cut into windows of `bucket_window * batch_size` examples; inside a
///      window examples are sorted by (cropped) length, stably, and cut into batches of
///      `batch_size`, so a batch holds examples of similar length and padding stays small;
///   3. the order of all batches of the epoch is shuffled (same seed), so lengths are not
///      sorted over the epoch. Only the last window can give a short batch; `drop_last` drops it.
///   4. an example longer than `max_length` (> 0) is cropped to a window of `max_length` whose
///      start is uniform over all valid starts, drawn from the stream keyed by (seed, e, example).
/// Evaluation mode (`training = false`): dataset order (or, with `sort_eval_by_length`, stable
/// order of length), consecutive batches, no cropping, nothing random, every epoch the same.
///
/// Everything is a pure function of (examples, options, position): `batch(pos)` gives the same
/// batch whenever and on whichever thread it is called. A run saves `DataPosition` (epoch, batch)
/// in its checkpoint (`to_json` / `from_json`) and, resumed with `seek`, continues with exactly
/// the same batches. The Batcher keeps a *reference* to the examples: they must outlive it (and
/// any `Prefetcher` over it).
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/data/tokens.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <span>
#include <vector>

namespace nucleo {

/// One training/evaluation example. `labels` (per position, classes or -100) and `multilabels`
/// (multi-hot 0/1, K values) are optional; at most one of them is non-empty.
struct Example {
  std::vector<std::uint8_t> tokens;
  std::vector<std::int8_t> labels;
  std::vector<std::uint8_t> multilabels;
};

/// Where a data stream is: the next batch to produce is batch `batch` of epoch `epoch`.
struct DataPosition {
  std::uint64_t epoch = 0;
  Index batch = 0;
  friend bool operator==(const DataPosition&, const DataPosition&) = default;
};

inline void to_json(nlohmann::json& j, const DataPosition& p) { j = {{"epoch", p.epoch}, {"batch", p.batch}}; }
inline void from_json(const nlohmann::json& j, DataPosition& p) {
  p.epoch = j.at("epoch").get<std::uint64_t>();
  p.batch = j.at("batch").get<Index>();
}

struct BatcherOptions {
  Index batch_size = 32;
  /// Training: crop longer examples to this length (random window per epoch); 0 = never crop.
  Index max_length = 0;
  /// true: shuffled, bucketed, cropped; false: evaluation (dataset order, no crop).
  bool training = true;
  /// Bucketing window, in batches (1 = no length sorting beyond one batch).
  Index bucket_window = 50;
  /// Drop the one short batch of a training epoch.
  bool drop_last = false;
  /// Evaluation only: batch examples in order of length (stable) instead of dataset order, which
  /// cuts padding; rows are still identified by `Batch::example_ids`.
  bool sort_eval_by_length = false;
  std::uint64_t seed = 0x5eed;

  static BatcherOptions evaluation(Index batch_size) {
    BatcherOptions o;
    o.batch_size = batch_size;
    o.training = false;
    return o;
  }
};

struct Batch {
  DataPosition position;
  std::vector<Index> example_ids;
  std::vector<Index> offsets;
  std::vector<Index> lengths;
  Tensor3<float> tokens;
  Labels labels;
  MultiLabels<float> multilabels;

  Index size() const { return static_cast<Index>(example_ids.size()); }
  Index length() const { return tokens.dimension(2); }
};

class Batcher {
 public:
  Batcher(std::span<const Example> examples, BatcherOptions options) : ex_(examples), opt_(options) {
    NUCLEO_CHECK_CONFIG(opt_.batch_size > 0, "Batcher: batch_size must be positive, got {}", opt_.batch_size);
    NUCLEO_CHECK_CONFIG(opt_.max_length >= 0, "Batcher: max_length must be >= 0 (0 = no crop), got {}", opt_.max_length);
    NUCLEO_CHECK_CONFIG(opt_.bucket_window > 0, "Batcher: bucket_window must be positive, got {}", opt_.bucket_window);
    NUCLEO_CHECK(!ex_.empty(), "Batcher: no examples");
    has_labels_ = !ex_[0].labels.empty();
    num_multilabels_ = static_cast<Index>(ex_[0].multilabels.size());
    NUCLEO_CHECK(!(has_labels_ && num_multilabels_ > 0),
                 "Batcher: example 0 has both per-position labels and multilabels; give one kind");
    for (std::size_t i = 0; i < ex_.size(); ++i) {
      const Example& e = ex_[i];
      NUCLEO_CHECK(!e.tokens.empty(), "Batcher: example {} has no tokens", i);
      if (has_labels_)
        NUCLEO_CHECK(e.labels.size() == e.tokens.size(),
                     "Batcher: example {} has {} tokens but {} per-position labels (they must match)", i,
                     e.tokens.size(), e.labels.size());
      else
        NUCLEO_CHECK(e.labels.empty(), "Batcher: example {} has per-position labels but example 0 has none", i);
      NUCLEO_CHECK(static_cast<Index>(e.multilabels.size()) == num_multilabels_,
                   "Batcher: example {} has {} multilabels but example 0 has {}", i, e.multilabels.size(),
                   num_multilabels_);
      for (std::uint8_t t : e.tokens)
        NUCLEO_CHECK(t < tokens::vocab_size, "Batcher: example {} has token id {} (vocabulary is 0..{})", i, t,
                     tokens::vocab_size - 1);
    }
    const Index n = static_cast<Index>(ex_.size());
    batches_ = (n + opt_.batch_size - 1) / opt_.batch_size;
    if (opt_.training && opt_.drop_last && n % opt_.batch_size != 0) --batches_;
    NUCLEO_CHECK(batches_ > 0, "Batcher: {} examples give no full batch of {} with drop_last", n, opt_.batch_size);
    if (!opt_.training && opt_.sort_eval_by_length) {
      eval_order_.resize(static_cast<std::size_t>(n));
      std::iota(eval_order_.begin(), eval_order_.end(), Index{0});
      std::stable_sort(eval_order_.begin(), eval_order_.end(),
                       [&](Index a, Index b) { return effective_length(a) < effective_length(b); });
    }
  }

  /// A temporary would dangle (the Batcher keeps a view): keep the examples in a variable.
  Batcher(std::vector<Example>&&, BatcherOptions) = delete;

  const BatcherOptions& options() const { return opt_; }
  Index num_examples() const { return static_cast<Index>(ex_.size()); }
  Index batches_per_epoch() const { return batches_; }
  bool has_labels() const { return has_labels_; }
  Index num_multilabels() const { return num_multilabels_; }

  /// The dataset indices of batch `pos.batch` of epoch `pos.epoch`, in row order.
  std::vector<Index> batch_indices(DataPosition pos) const {
    check(pos);
    if (!opt_.training) {
      const Index b0 = pos.batch * opt_.batch_size, b1 = std::min(b0 + opt_.batch_size, num_examples());
      std::vector<Index> ids(static_cast<std::size_t>(b1 - b0));
      std::iota(ids.begin(), ids.end(), b0);
      if (!eval_order_.empty())
        for (Index& id : ids) id = eval_order_[static_cast<std::size_t>(id)];
      return ids;
    }
    const auto plan = plan_for(pos.epoch);
    const auto& [start, end] = plan->batches[static_cast<std::size_t>(pos.batch)];
    return std::vector<Index>(plan->order.begin() + start, plan->order.begin() + end);
  }

  /// Crop start of example `id` in epoch `epoch` (0 when not cropped).
  Index crop_offset(std::uint64_t epoch, Index id) const {
    const Index len = static_cast<Index>(ex_[static_cast<std::size_t>(id)].tokens.size());
    if (!opt_.training || opt_.max_length == 0 || len <= opt_.max_length) return 0;
    Rng r = Rng(opt_.seed).fork(stream_crop).fork(epoch).fork(static_cast<std::uint64_t>(id));
    return static_cast<Index>(r.uniform_int(static_cast<std::uint64_t>(len - opt_.max_length + 1)));
  }

  /// Length of example `id` as it enters a batch (cropped in training mode).
  Index effective_length(Index id) const {
    const Index len = static_cast<Index>(ex_[static_cast<std::size_t>(id)].tokens.size());
    return (opt_.training && opt_.max_length > 0) ? std::min(len, opt_.max_length) : len;
  }

  /// Build batch `pos`. Thread-safe; a pure function of (examples, options, pos).
  Batch batch(DataPosition pos) const {
    Batch b;
    b.position = pos;
    b.example_ids = batch_indices(pos);
    const Index B = b.size();
    b.offsets.resize(static_cast<std::size_t>(B));
    b.lengths.resize(static_cast<std::size_t>(B));
    Index L = 0;
    for (Index r = 0; r < B; ++r) {
      const Index id = b.example_ids[static_cast<std::size_t>(r)];
      b.offsets[static_cast<std::size_t>(r)] = crop_offset(pos.epoch, id);
      b.lengths[static_cast<std::size_t>(r)] = effective_length(id);
      L = std::max(L, b.lengths[static_cast<std::size_t>(r)]);
    }
    b.tokens.resize(B, 1, L);
    b.tokens.setConstant(static_cast<float>(tokens::pad));
    if (has_labels_) b.labels = Labels::Constant(B, L, ignore_index);
    if (num_multilabels_ > 0) b.multilabels.resize(B, num_multilabels_);
    for (Index r = 0; r < B; ++r) {
      const Example& e = ex_[static_cast<std::size_t>(b.example_ids[static_cast<std::size_t>(r)])];
      const Index off = b.offsets[static_cast<std::size_t>(r)], len = b.lengths[static_cast<std::size_t>(r)];
      float* t = b.tokens.data() + r * L;
      for (Index l = 0; l < len; ++l) t[l] = static_cast<float>(e.tokens[static_cast<std::size_t>(off + l)]);
      if (has_labels_)
        for (Index l = 0; l < len; ++l) b.labels(r, l) = e.labels[static_cast<std::size_t>(off + l)];
      for (Index k = 0; k < num_multilabels_; ++k)
        b.multilabels(r, k) = static_cast<float>(e.multilabels[static_cast<std::size_t>(k)]);
    }
    return b;
  }

  /// The position after `pos` (wraps into the next epoch).
  DataPosition next_position(DataPosition pos) const {
    return pos.batch + 1 < batches_ ? DataPosition{pos.epoch, pos.batch + 1} : DataPosition{pos.epoch + 1, 0};
  }

  /// Stateful use: `next()` returns the batch at the cursor and advances it; `position()` is the
  /// batch `next()` will return, which is what a checkpoint saves; `seek()` restores it.
  Batch next() {
    Batch b = batch(cursor_);
    cursor_ = next_position(cursor_);
    return b;
  }
  DataPosition position() const { return cursor_; }
  void seek(DataPosition pos) {
    check(pos);
    cursor_ = pos;
  }

 private:
  static constexpr std::uint64_t stream_plan = 0x706c616e, stream_crop = 0x63726f70;  // "plan", "crop"

  struct Plan {
    std::uint64_t epoch = 0;
    std::vector<Index> order;                         // examples in batch order
    std::vector<std::pair<Index, Index>> batches;     // [start, end) into order
  };

  void check(DataPosition pos) const {
    NUCLEO_CHECK(pos.batch >= 0 && pos.batch < batches_, "Batcher: batch {} out of range (an epoch has {} batches)",
                 pos.batch, batches_);
  }

  std::shared_ptr<const Plan> plan_for(std::uint64_t epoch) const {
    {
      std::lock_guard lock(cache_->mutex);
      if (cache_->plan && cache_->plan->epoch == epoch) return cache_->plan;
    }
    auto p = std::make_shared<const Plan>(make_plan(epoch));
    std::lock_guard lock(cache_->mutex);
    cache_->plan = p;
    return p;
  }

  Plan make_plan(std::uint64_t epoch) const {
    Plan p;
    p.epoch = epoch;
    const Index n = num_examples(), B = opt_.batch_size;
    std::vector<Index> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), Index{0});
    Rng rng = Rng(opt_.seed).fork(stream_plan).fork(epoch);
    // Fisher-Yates with our own uniform_int, so the order does not depend on the standard library.
    for (Index i = n - 1; i > 0; --i)
      std::swap(perm[static_cast<std::size_t>(i)],
                perm[static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(i + 1)))]);
    const Index window = opt_.bucket_window * B;
    std::vector<std::pair<Index, Index>> batches;  // ranges into perm after sorting windows
    for (Index w0 = 0; w0 < n; w0 += window) {
      const Index w1 = std::min(n, w0 + window);
      std::stable_sort(perm.begin() + w0, perm.begin() + w1,
                       [&](Index a, Index b) { return effective_length(a) < effective_length(b); });
      for (Index b0 = w0; b0 < w1; b0 += B) batches.emplace_back(b0, std::min(w1, b0 + B));
    }
    if (opt_.drop_last && n % B != 0) {
      // Exactly one short batch exists (the end of the last window); drop it.
      auto it = std::find_if(batches.begin(), batches.end(), [&](auto& r) { return r.second - r.first < B; });
      batches.erase(it);
    }
    for (Index i = static_cast<Index>(batches.size()) - 1; i > 0; --i)
      std::swap(batches[static_cast<std::size_t>(i)],
                batches[static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(i + 1)))]);
    p.order = std::move(perm);
    p.batches = std::move(batches);
    return p;
  }

  std::span<const Example> ex_;
  BatcherOptions opt_;
  Index batches_ = 0;
  bool has_labels_ = false;
  Index num_multilabels_ = 0;
  DataPosition cursor_{};
  std::vector<Index> eval_order_;  // evaluation with sort_eval_by_length
  struct PlanCache {
    std::mutex mutex;
    std::shared_ptr<const Plan> plan;
  };
  std::unique_ptr<PlanCache> cache_ = std::make_unique<PlanCache>();  // movable Batcher
};

}  // namespace nucleo
