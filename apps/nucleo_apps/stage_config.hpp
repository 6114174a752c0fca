#pragma once
/// `StageConfig`: the settings of one training stage (MLM pretraining or fine-tuning), shared by
/// every pipeline, with JSON conversion (missing fields keep their defaults, unknown fields are
/// errors so that a typo in a configuration file is not silently ignored).
///
/// The compute budget of a stage is `steps` optimizer steps of `batch_size` sequences cropped to
/// `max_length` nt (gene finding) or of fixed length (multilabel tasks); the trainer runs
/// ceil(steps / batches per epoch) epochs and stops at `steps`, evaluating after every epoch.
/// Learning rate: linear warm-up over `warmup` steps, then cosine decay to `lr * min_lr_ratio`.
///
/// `steps` must be >= 1 (0 used to mean "no budget", which ran one whole epoch whatever its size).
/// `max_length` is 0 (no crop) or at least `min_crop_length` = 64 nt: a shorter crop leaves the
/// encoder's 9-nt kernels looking mostly at padding, and with 15% masking a batch of 8 crops of a
/// few nucleotides often has no masked position at all.
#include "nucleo/core/error.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/data/prefetcher.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo/optim/lr_schedule.hpp"
#include "nucleo/train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace nucleo::apps {

/// The shortest training crop `max_length` may ask for (0 = no crop is also allowed).
inline constexpr Index min_crop_length = 64;

struct StageConfig {
  std::int64_t steps = 300;      ///< optimizer steps (the stage's compute budget)
  Index batch_size = 8;
  Index max_length = 2048;       ///< training crop (random window per epoch); 0 = no crop
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::int64_t warmup = 30;
  double min_lr_ratio = 0.1;
  double clip_norm = 1.0;        ///< 0 = off
  std::int64_t patience = 0;     ///< epochs without improvement before stopping (0 = never)
  std::int64_t checkpoint_every = 100;
  std::uint64_t seed = 1;

  LrSchedule schedule() const { return LrSchedule::cosine(lr, std::min(warmup, steps), steps, lr * min_lr_ratio); }
};

inline void to_json(nlohmann::json& j, const StageConfig& c) {
  j = {{"steps", c.steps},         {"batch_size", c.batch_size}, {"max_length", c.max_length},
       {"lr", c.lr},               {"weight_decay", c.weight_decay}, {"warmup", c.warmup},
       {"min_lr_ratio", c.min_lr_ratio}, {"clip_norm", c.clip_norm}, {"patience", c.patience},
       {"checkpoint_every", c.checkpoint_every}, {"seed", c.seed}};
}

inline void from_json(const nlohmann::json& j, StageConfig& c) {
  nlohmann::json known;
  to_json(known, c);
  for (const auto& [k, v] : j.items())
    if (!known.contains(k)) throw ConfigError(fmt::format("unknown stage setting '{}' (known: {})", k, [&] {
        std::string s;
        for (const auto& [kk, vv] : known.items()) s += (s.empty() ? "" : ", ") + kk;
        return s;
      }()));
  auto get = [&](const char* k, auto& dst) {
    if (j.contains(k)) dst = j.at(k).get<std::decay_t<decltype(dst)>>();
  };
  get("steps", c.steps);
  get("batch_size", c.batch_size);
  get("max_length", c.max_length);
  get("lr", c.lr);
  get("weight_decay", c.weight_decay);
  get("warmup", c.warmup);
  get("min_lr_ratio", c.min_lr_ratio);
  get("clip_norm", c.clip_norm);
  get("patience", c.patience);
  get("checkpoint_every", c.checkpoint_every);
  if (j.contains("seed") && !j.at("seed").is_number_unsigned() &&
      !(j.at("seed").is_number_integer() && j.at("seed").get<std::int64_t>() >= 0))
    throw ConfigError(fmt::format("stage setting 'seed' out of range: {} (must be an integer >= 0)", j.at("seed").dump()));
  get("seed", c.seed);
  auto out_of_range = [](const char* key, const auto& value, const char* allowed) {
    return ConfigError(fmt::format("stage setting '{}' out of range: {} (must be {})", key, value, allowed));
  };
  if (c.steps < 1) throw out_of_range("steps", c.steps, ">= 1: the optimizer steps of the stage");
  if (c.batch_size < 1) throw out_of_range("batch_size", c.batch_size, ">= 1");
  if (c.max_length != 0 && c.max_length < min_crop_length)
    throw out_of_range("max_length", c.max_length, fmt::format("0 (no crop) or >= {} nt", min_crop_length).c_str());
  if (!(c.lr > 0) || !std::isfinite(c.lr)) throw out_of_range("lr", c.lr, "> 0");
  if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) throw out_of_range("weight_decay", c.weight_decay, ">= 0");
  if (c.warmup < 0) throw out_of_range("warmup", c.warmup, ">= 0");
  if (!(c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1)) throw out_of_range("min_lr_ratio", c.min_lr_ratio, "in [0, 1]");
  if (!(c.clip_norm >= 0) || !std::isfinite(c.clip_norm)) throw out_of_range("clip_norm", c.clip_norm, ">= 0 (0 = off)");
  if (c.patience < 0) throw out_of_range("patience", c.patience, ">= 0 (0 = never stop early)");
  if (c.checkpoint_every < 0) throw out_of_range("checkpoint_every", c.checkpoint_every, ">= 0");
}

/// Trainer options for a stage over `batches_per_epoch` batches.
inline TrainerOptions stage_trainer_options(const StageConfig& c, Index batches_per_epoch,
                                            std::filesystem::path run_dir, std::string metric_name,
                                            std::string model_type, nlohmann::json config) {
  TrainerOptions o;
  o.run_dir = std::move(run_dir);
  if (batches_per_epoch < 1)
    throw ConfigError(fmt::format("{}: the training data gives no batch (no sequences?)", o.run_dir.string()));
  if (c.steps < 1)
    throw ConfigError(fmt::format("{}: stage setting 'steps' out of range: {} (must be >= 1)", o.run_dir.string(), c.steps));
  o.max_steps = c.steps;
  o.epochs = std::max<std::int64_t>(1, (c.steps + batches_per_epoch - 1) / batches_per_epoch);
  o.clip_norm = c.clip_norm;
  o.schedule = c.schedule();
  o.patience = c.patience;
  o.checkpoint_every = c.checkpoint_every;
  o.metric_name = std::move(metric_name);
  o.model_type = std::move(model_type);
  o.config = std::move(config);
  return o;
}

/// The stage's optimizer: AdamW(lr, weight_decay) with PyTorch's betas and eps, decay on every
/// parameter (BEND, bend.md section 6).
template <class S>
AdamW<S> stage_optimizer(const StageConfig& c) {
  return AdamW<S>(AdamWOptions{c.lr, 0.9, 0.999, 1e-8, c.weight_decay, true});
}

/// Training batches of the stage: shuffled, length-bucketed, cropped to max_length, seeded.
inline BatcherOptions stage_batcher_options(const StageConfig& c) {
  BatcherOptions bo;
  bo.batch_size = c.batch_size;
  bo.max_length = c.max_length;
  bo.training = true;
  bo.seed = c.seed;
  return bo;
}

/// Valid nucleotides of a batch (for nt/s).
inline std::int64_t batch_nucleotides(const Batch& b) {
  std::int64_t nt = 0;
  for (Index n : b.lengths) nt += n;
  return nt;
}

/// Load the encoder ("0.*") of an SPT checkpoint into `model` by name; the head starts fresh.
/// Returns the load report as JSON (used / missing / unused names) and says it on stderr.
template <class Model>
nlohmann::json load_pretrained_encoder(const std::filesystem::path& checkpoint, Model& model) {
  LoadOptions lo;
  lo.prefix_map = {{"0.", "0."}};
  lo.strict = false;
  lo.load_optimizer = false;
  const LoadReport rep = load_checkpoint(checkpoint, model, lo);
  NUCLEO_CHECK(!rep.used.empty(), "{} holds no encoder tensors ('0.*') for this model size", checkpoint.string());
  fmt::print(stderr, "finetune: loaded encoder from {}: {}\n", checkpoint.string(), rep.summary());
  return {{"checkpoint", checkpoint.string()}, {"summary", rep.summary()},
          {"used", rep.used.size()}, {"missing", rep.missing}, {"unused", rep.unused}};
}


/// Cut every example longer than `max_length` into consecutive pieces of at most `max_length`
/// (evaluation of windowed models on long loci, without random crops).
inline std::vector<Example> chunk_examples(const std::vector<Example>& in, Index max_length) {
  if (max_length <= 0) return in;
  std::vector<Example> out;
  for (const Example& e : in) {
    const Index L = static_cast<Index>(e.tokens.size());
    for (Index s = 0; s < L; s += max_length) {
      const Index n = std::min(max_length, L - s);
      Example c;
      c.tokens.assign(e.tokens.begin() + s, e.tokens.begin() + s + n);
      if (!e.labels.empty()) c.labels.assign(e.labels.begin() + s, e.labels.begin() + s + n);
      c.multilabels = e.multilabels;
      out.push_back(std::move(c));
    }
  }
  return out;
}

/// Training batches built ahead on a background thread (data/prefetcher.hpp). `get(epoch, i)`
/// returns batch i of the epoch; asked for anything but the next position in order (a resumed
/// run, a new epoch after an early stop), it restarts the prefetcher there. The stream equals
/// `batcher.batch(pos)` + transform, so results do not depend on the prefetching.
class PrefetchedBatches {
 public:
  PrefetchedBatches(const Batcher& batcher, Prefetcher::Transform transform = {}, Index depth = 3)
      : batcher_(batcher), transform_(std::move(transform)), depth_(depth) {}

  Batch get(std::int64_t epoch, std::int64_t i) {
    const DataPosition want{static_cast<std::uint64_t>(epoch), static_cast<Index>(i)};
    if (!p_ || !(p_->position() == want)) {
      p_.reset();
      PrefetcherOptions o;
      o.depth = depth_;
      p_ = std::make_unique<Prefetcher>(batcher_, want, o, transform_);
    }
    auto b = p_->next();
    NUCLEO_CHECK(b.has_value(), "PrefetchedBatches: the prefetcher ended before batch {} of epoch {}", i, epoch);
    return std::move(*b);
  }

 private:
  const Batcher& batcher_;
  Prefetcher::Transform transform_;
  Index depth_;
  std::unique_ptr<Prefetcher> p_;
};

/// The training loop's parts that every stage shares: the optimizer (stage_optimizer), the
/// seeded training batches (stage_batcher_options, built ahead by PrefetchedBatches, after
/// `transform`, e.g. MLM masking), and the step (`task`). Not copyable: the batches refer to the
/// batcher.
template <class S>
class StageTraining {
 public:
  StageTraining(const StageConfig& stage, const std::vector<Example>& train, Prefetcher::Transform transform = {})
      : optimizer(stage_optimizer<S>(stage)), batcher(train, stage_batcher_options(stage)),
        batches(batcher, std::move(transform)) {}
  StageTraining(const StageTraining&) = delete;
  StageTraining& operator=(const StageTraining&) = delete;

  /// The TrainTask of `model` with its batches and step: batch (epoch, i) forward through `model`,
  /// `loss(ctx, batch, logits, dlogits)` (returns the batch's loss and writes its gradient into
  /// dlogits), backward; the positions counted (nt/s) are the batch's valid nucleotides. The
  /// activations are kept between steps. The caller adds `evaluate`.
  template <class Model, class Loss>
  TrainTask task(Model& model, Loss loss) {
    TrainTask t;
    t.num_batches = [this](std::int64_t) { return static_cast<std::int64_t>(batcher.batches_per_epoch()); };
    auto buf = std::make_shared<Buffers>();
    t.train_batch = [this, &model, loss = std::move(loss), buf](CpuContext& c, std::int64_t e, std::int64_t i) mutable {
      Batch b = batches.get(e, i);
      c.set_lengths(b.lengths);
      model.forward(c, b.tokens, buf->logits);
      const double l = loss(c, b, buf->logits, buf->dlogits);
      model.backward(c, b.tokens, buf->dlogits, buf->dx);
      const std::int64_t nt = batch_nucleotides(b);
      c.clear_lengths();
      return StepResult{l, nt};
    };
    return t;
  }

  AdamW<S> optimizer;
  Batcher batcher;
  PrefetchedBatches batches;

 private:
  struct Buffers {
    Tensor3<S> logits, dlogits, dx;
  };
};

}  // namespace nucleo::apps
