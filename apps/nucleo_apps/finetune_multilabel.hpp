#pragma once
/// `finetune_multilabel<Encoder, K>`: BEND's sequence-level multilabel tasks (chromatin
/// accessibility K = 125, histone modification K = 18, CpG methylation K = 7; 512-bp inputs),
/// from scratch or from an SPT checkpoint.
///
///   model   SequenceNet<Encoder, K> = Sequential<Encoder, SequenceClassifier<C, K, 64>>
///           (names "0.*" encoder, "1.*" head); logits [B, K, 1]
///   init    `init_checkpoint` given: its "0.*" tensors (the encoder of an MlmNet) are loaded by name,
///           the head starts fresh; the load report is kept in the result. Otherwise everything
///           starts from the seeded initialisation (the scratch arm).
///   loss    BCEWithLogits, plain mean over B x K (BEND, bend.md 4.2)
///   optim   AdamW(lr, weight_decay), warm-up + cosine schedule, gradient clipping (StageConfig)
///   eval    batched forward over the split (dataset order, `stage.batch_size` sequences a batch),
///           logits collected per label (ScoreCollector); metric = mean AUROC over the labels
///           (BEND's `roc_auc_score(average=None).mean()`, bend.md 5). A label with only one class
///           in the split has no AUROC: it is left out of the mean, named in `warnings` and
///           `undefined_labels` (BEND would crash or count 0). Mean average precision (AUPRC) and
///           the per-label values are reported beside it.
///   select  mean AUROC on the validation split, test evaluated once with the best checkpoint (BEND)
///
/// Writes into `run_dir`: last.ckpt, best.ckpt (model type "SequenceNet"), metrics.jsonl/.csv,
/// learning_curve.svg and result.json (trainer.hpp).
#include "nucleo/core/context.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/heads/activation.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/losses/bce_with_logits.hpp"
#include "nucleo/metrics/auprc.hpp"
#include "nucleo/metrics/auroc.hpp"
#include "nucleo/metrics/score_collector.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo_apps/pretrain_mlm.hpp"
#include "nucleo_apps/stage_config.hpp"
#include "nucleo/train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nucleo::apps {

/// Model type written into the checkpoints of multilabel fine-tuning.
inline constexpr const char* kSequenceNetType = "SequenceNet";

struct MultilabelFinetuneOptions {
  StageConfig stage{};
  std::optional<std::filesystem::path> init_checkpoint{};  ///< SPT encoder; none = scratch
  Activation head_activation = Activation::gelu;
  ProgressOptions progress{};
  std::vector<std::string> label_names{};  ///< empty or K names (reports)
};

/// Mean AUROC / AUPRC of a model on one split.
struct MultilabelEvaluation {
  PerLabelReport auroc, auprc;
  double loss = std::numeric_limits<double>::quiet_NaN();  ///< mean BCE over sequences x labels
  Index sequences = 0;

  double mean_auroc() const { return auroc.mean; }
  double mean_auprc() const { return auprc.mean; }

  /// Labels whose AUROC is undefined on this split (only one class present).
  std::vector<std::string> undefined_labels() const {
    std::vector<std::string> v;
    for (std::size_t k = 0; k < auroc.values.size(); ++k)
      if (!auroc.values[k]) v.push_back(auroc.labels[k]);
    return v;
  }

  nlohmann::json to_json() const {
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json w = auroc.warnings;
    for (const auto& s : auprc.warnings) w.push_back(s);
    return {{"sequences", sequences},
            {"mean_auroc", num(auroc.mean)},
            {"mean_auprc", num(auprc.mean)},
            {"loss", num(loss)},
            {"labels", static_cast<Index>(auroc.values.size())},
            {"auroc_defined_labels", auroc.defined},
            {"undefined_labels", undefined_labels()},
            {"warnings", std::move(w)},
            {"auroc", auroc},
            {"auprc", auprc}};
  }
};

/// Tokens of `in` without labels (MLM pretraining on the task's own sequences).
inline std::vector<Example> unlabelled(const std::vector<Example>& in) {
  std::vector<Example> out;
  out.reserve(in.size());
  for (const Example& e : in) out.push_back(Example{e.tokens, {}, {}});
  return out;
}

/// Batched evaluation of `model` (any Layer giving logits [B, K, 1]) on `examples` (multi-hot labels).
template <class Model>
MultilabelEvaluation evaluate_multilabel(CpuContext& ctx, Model& model, const std::vector<Example>& examples,
                                         Index num_labels, Index batch_size,
                                         const std::vector<std::string>& label_names = {}) {
  using S = typename Model::scalar_type;
  MultilabelEvaluation ev;
  ScoreCollector<float> scores(num_labels, label_names);
  if (examples.empty()) {
    ev.auroc = auroc(scores, ctx);
    ev.auprc = auprc(scores, ctx);
    return ev;
  }
  NUCLEO_CHECK(static_cast<Index>(examples.front().multilabels.size()) == num_labels,
               "evaluate_multilabel: examples carry {} labels, the model predicts {}", examples.front().multilabels.size(),
               num_labels);
  scores.reserve(static_cast<Index>(examples.size()));
  Batcher batcher(examples, BatcherOptions::evaluation(batch_size));
  BCEWithLogits<S> bce;
  Tensor3<S> logits;
  const bool was_training = ctx.training();
  ctx.set_training(false);
  double loss_sum = 0;
  for (Index i = 0; i < batcher.batches_per_epoch(); ++i) {
    const Batch b = batcher.batch({0, i});
    ctx.set_lengths(b.lengths);
    model.forward(ctx, b.tokens, logits);
    ctx.clear_lengths();
    const MultiLabels<S> y = b.multilabels.template cast<S>();
    loss_sum += bce.value(ctx, logits, y) * static_cast<double>(b.size());
    scores.add_batch(logits, y);
    ev.sequences += b.size();
  }
  ctx.set_training(was_training);
  ev.loss = loss_sum / static_cast<double>(ev.sequences);
  ev.auroc = auroc(scores, ctx);
  ev.auprc = auprc(scores, ctx);
  return ev;
}

template <class Encoder, int K>
StageResult finetune_multilabel(CpuContext& ctx, const std::vector<Example>& train, const std::vector<Example>& valid,
                                const std::vector<Example>& test, const MultilabelFinetuneOptions& opt,
                                const std::filesystem::path& run_dir, const nlohmann::json& config,
                                MultilabelEvaluation* test_evaluation = nullptr) {
  using S = typename Encoder::scalar_type;
  using Net = SequenceNet<Encoder, K>;
  NUCLEO_CHECK(!train.empty(), "finetune_multilabel: no training sequences");
  NUCLEO_CHECK(!valid.empty(), "finetune_multilabel: no validation sequences (model selection needs them)");
  for (const auto* split : {&train, &valid, &test})
    for (std::size_t i = 0; i < split->size(); ++i)
      NUCLEO_CHECK(static_cast<int>((*split)[i].multilabels.size()) == K,
                   "finetune_multilabel: example {} has {} labels, the task has K = {}", i, (*split)[i].multilabels.size(),
                   K);
  NUCLEO_CHECK(opt.label_names.empty() || static_cast<int>(opt.label_names.size()) == K,
               "finetune_multilabel: {} label names for K = {}", opt.label_names.size(), K);
  const auto t0 = std::chrono::steady_clock::now();
  const StageConfig& stage = opt.stage;

  Net model(Encoder(), SequenceClassifier<Encoder::channels, K, 64, S>(opt.head_activation));
  {
    Rng rng(stage.seed, 303);
    model.template get<0>().init(rng);
    model.template get<1>().init(rng);
  }
  nlohmann::json load_report = nullptr;
  if (opt.init_checkpoint) load_report = load_pretrained_encoder(*opt.init_checkpoint, model);

  StageTraining<S> training(stage, train);
  BCEWithLogits<S> bce;
  TrainTask task = training.task(model, [&](CpuContext& c, const Batch& b, const Tensor3<S>& logits,
                                            Tensor3<S>& dlogits) -> double {
    const MultiLabels<S> y = b.multilabels.template cast<S>();
    return bce.value_and_grad(c, logits, y, dlogits);
  });
  MultilabelEvaluation test_ev;
  bool warned_valid = false;
  task.evaluate = [&](CpuContext& c, Split split) {
    const bool is_test = split == Split::test;
    MultilabelEvaluation ev = evaluate_multilabel(c, model, is_test ? test : valid, K, stage.batch_size, opt.label_names);
    const auto undefined = ev.undefined_labels();
    if (!undefined.empty() && (is_test || !warned_valid)) {
      fmt::print(stderr, "warning: {} of {} labels have only one class in the {} split; their AUROC is undefined and "
                         "left out of the mean (first: {})\n",
                 undefined.size(), K, is_test ? "test" : "validation", ev.auroc.warnings.front());
      if (!is_test) warned_valid = true;
    }
    EvalResult r;
    r.metric = ev.mean_auroc();
    r.loss = ev.loss;
    r.extra = ev.to_json();
    if (!is_test) {  // keep the per-epoch log rows short: the per-label values only for the test split
      r.extra.erase("auroc");
      r.extra.erase("auprc");
    }
    if (is_test) test_ev = std::move(ev);
    return r;
  };

  TrainerOptions to = stage_trainer_options(stage, training.batcher.batches_per_epoch(), run_dir, "mean_auroc", kSequenceNetType,
                                            config);
  to.progress = opt.progress;
  to.title = fmt::format("multilabel (K = {}): {}", K, opt.init_checkpoint ? "SPT" : "scratch");
  to.test_at_end = !test.empty();
  Trainer trainer(model, training.optimizer, to);
  StageResult r;
  r.train = trainer.run(ctx, task);
  r.best_checkpoint = trainer.best_checkpoint();
  // this call's time plus what earlier sessions of a resumed run trained (kept in the checkpoint)
  r.seconds = r.train.resumed_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  r.summary = {{"stage", "finetune_multilabel"},
               {"labels", K},
               {"init", opt.init_checkpoint ? "spt" : "scratch"},
               {"steps", r.train.steps},
               {"best_epoch", r.train.best_epoch + 1},
               {"valid_mean_auroc", num(r.train.best_metric)},
               {"checkpoint", r.best_checkpoint.string()},
               {"seconds", r.seconds},
               {"encoder_load", load_report}};
  if (r.train.best_epoch >= 0) {
    const auto& row = r.train.history[static_cast<std::size_t>(r.train.best_epoch)];
    if (row.contains("val_extra")) r.summary["valid_mean_auprc"] = row["val_extra"].value("mean_auprc", nlohmann::json());
  }
  if (r.train.test) {
    r.summary["test_mean_auroc"] = num(r.train.test->metric);
    r.summary["test_mean_auprc"] = r.train.test->extra.at("mean_auprc");
    r.summary["test_undefined_labels"] = r.train.test->extra.at("undefined_labels");
    r.summary["test"] = r.train.test->extra;
  }
  if (test_evaluation) *test_evaluation = std::move(test_ev);
  return r;
}

}  // namespace nucleo::apps
