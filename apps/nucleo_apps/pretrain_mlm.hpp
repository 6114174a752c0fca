#pragma once
/// `pretrain_mlm<Encoder>`: task-specific self-pretraining (SPT) — masked language modelling of an
/// encoder on a task's own unlabelled training sequences (Mupparapu et al. 2025, section 4).
///
///   model   MlmNet<Encoder> = Sequential<Encoder, MLMHead<C, 7>>   (names "0.*" encoder, "1.*" head)
///   input   training sequences cropped to `stage.max_length` (random window per epoch), batches of
///           `stage.batch_size`, masked by MlmMasking (p = 0.15; 80% [MASK], 10% random, 10% kept)
///           keyed by (epoch, example), built on a background thread
///   loss    MaskedCrossEntropy (mean over masked positions)
///   optim   AdamW(lr, weight_decay), warm-up + cosine schedule, gradient clipping
///   select  masked-token accuracy on the validation sequences (cut into max_length pieces, masked
///           once with a fixed seed, so every evaluation sees the same corruption)
///
/// Writes into `run_dir`: last.ckpt, best.ckpt (fine-tuning loads its "0.*" tensors),
/// metrics.jsonl/.csv, learning_curve.svg and result.json (trainer.hpp).
#include "nucleo/core/context.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/losses/masked_cross_entropy.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo_apps/stage_config.hpp"
#include "nucleo/train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <vector>

namespace nucleo::apps {

/// What a training stage produced.
struct StageResult {
  TrainResult train;
  std::filesystem::path best_checkpoint;
  double seconds = 0;  ///< wall time of the stage, earlier sessions of a resumed run included
  nlohmann::json summary = nlohmann::json::object();  ///< the figures quoted in tables
};

template <class Encoder>
StageResult pretrain_mlm(CpuContext& ctx, const std::vector<Example>& train, const std::vector<Example>& valid,
                         const StageConfig& stage, const MlmMaskingOptions& masking_options,
                         const std::filesystem::path& run_dir, const nlohmann::json& config,
                         ProgressOptions progress = {}) {
  using S = typename Encoder::scalar_type;
  NUCLEO_CHECK(!train.empty(), "pretrain_mlm: no training sequences");
  const auto t0 = std::chrono::steady_clock::now();

  MlmNet<Encoder> model(Encoder(encoder_options_from_config(config)),
                        MLMHead<Encoder::channels, Encoder::vocab_size, typename Encoder::scalar_type>());
  {
    Rng rng(stage.seed, 101);
    model.template get<0>().init(rng);
    model.template get<1>().init(rng);
  }
  MlmMaskingOptions mo = masking_options;
  mo.seed = stage.seed;
  const MlmMasking masking(mo);
  StageTraining<S> training(stage, train, [masking](Batch& b) { masking.apply(b); });

  // Validation: fixed pieces, masked once.
  const std::vector<Example> valid_pieces = chunk_examples(valid, stage.max_length > 0 ? stage.max_length : 2048);
  Batcher valid_batcher(valid_pieces, BatcherOptions::evaluation(stage.batch_size));
  MlmMaskingOptions vmo = masking_options;
  vmo.seed = stage.seed ^ 0xE1A1u;
  const MlmMasking valid_masking(vmo);
  std::vector<Batch> valid_batches;
  for (Index i = 0; i < (valid_pieces.empty() ? 0 : valid_batcher.batches_per_epoch()); ++i) {
    Batch b = valid_batcher.batch({0, i});
    valid_masking.apply(b);
    valid_batches.push_back(std::move(b));
  }

  MaskedCrossEntropy<S> loss;
  TrainTask task = training.task(model, [&](CpuContext& c, const Batch& b, const Tensor3<S>& logits,
                                            Tensor3<S>& dlogits) -> double {
    return loss.value_and_grad(c, logits, b.labels, dlogits);
  });
  if (!valid_batches.empty()) {
    task.evaluate = [&](CpuContext& c, Split) {
      Tensor3<S> logits, dlogits;
      double loss_sum = 0;
      std::int64_t count = 0, correct = 0;
      for (const Batch& b : valid_batches) {
        c.set_lengths(b.lengths);
        model.forward(c, b.tokens, logits);
        const double l = loss.value_and_grad(c, logits, b.labels, dlogits);
        loss_sum += l * static_cast<double>(loss.last_count());
        count += loss.last_count();
        correct += loss.last_correct();
      }
      c.clear_lengths();
      EvalResult r;
      r.metric = count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
      r.loss = count ? loss_sum / static_cast<double>(count) : 0.0;
      r.extra = {{"masked_positions", count}};
      return r;
    };
  }

  TrainerOptions to = stage_trainer_options(stage, training.batcher.batches_per_epoch(), run_dir, "masked_accuracy",
                                            "MlmNet", config);
  to.progress = progress;
  to.title = "MLM pretraining (SPT)";
  to.test_at_end = false;
  Trainer trainer(model, training.optimizer, to);
  StageResult r;
  r.train = trainer.run(ctx, task);
  r.best_checkpoint = std::filesystem::exists(trainer.best_checkpoint()) ? trainer.best_checkpoint()
                                                                         : trainer.last_checkpoint();
  // this call's time plus what earlier sessions of a resumed run trained (kept in the checkpoint)
  r.seconds = r.train.resumed_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.summary = {{"stage", "pretrain_mlm"},
               {"steps", r.train.steps},
               {"best_masked_accuracy", r.train.best_metric},
               {"checkpoint", r.best_checkpoint.string()},
               {"seconds", r.seconds}};
  return r;
}

}  // namespace nucleo::apps
