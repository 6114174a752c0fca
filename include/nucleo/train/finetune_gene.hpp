#pragma once
/// `finetune_gene<Encoder>`: gene finding (BEND's 9 classes per nucleotide), from scratch or from an
/// SPT checkpoint, with or without a linear-chain CRF.
///
///   model   GeneModel<Encoder> (encoder + TokenClassifier; + LinearChainCRF<9> with `crf`)
///   init    `init_checkpoint` given: its "0.*" tensors (the encoder of an MlmNet) are loaded by name,
///           the head (and CRF) start fresh; the load report is kept in the result. Otherwise
///           everything starts from the seeded initialisation (the scratch arm).
///   CRF     constraints: BEND's gene-structure grammar united with the transitions seen in the
///           training labels; transitions/start/end initialised to the log-frequencies counted in
///           the training labels (an HMM-like prior the CRF then refines), forbidden ones -inf.
///   loss    cross-entropy (ignore -100); with the CRF, the CRF's negative log-likelihood (mean per
///           token) plus `crf_ce_weight` x the cross-entropy on the same logits. The cross-entropy
///           term keeps the emissions informative per nucleotide from the first step: with the NLL
///           alone the count-initialised transitions explain most of a locus and short runs decode
///           to all-noncoding for many steps (seen on the fly set at 20 steps: MCC 0).
///   select  pooled 9-class MCC on the validation loci (whole loci by sliding windows; Viterbi with
///           the CRF), test evaluated once with the best checkpoint (as BEND); with the model
///           decoder, that checkpoint's test MCC under the grammar decoder is reported beside it
///   decoder with `decoder_grid` (compare's predict.select), that checkpoint is then decoded under
///           each setting; the one of highest valid MCC is chosen and its test MCC reported
///           (summary "decoder_selection"; its test predictions in `chosen_test_evaluation`)
#include "nucleo/core/context.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/data/gene_dataset.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/losses/cross_entropy.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo/train/gene_model.hpp"
#include "nucleo/train/pretrain_mlm.hpp"
#include "nucleo/train/stage_config.hpp"
#include "nucleo/train/trainer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace nucleo {

struct GeneFinetuneOptions {
  StageConfig stage{};
  bool crf = false;
  double crf_ce_weight = 1.0;  ///< weight of the cross-entropy added to the CRF's NLL (0 = NLL alone)
  std::optional<std::filesystem::path> init_checkpoint{};  ///< SPT encoder; none = scratch
  Activation head_activation = Activation::gelu;
  GenePredictOptions predict{};
  bool keep_test_predictions = true;
  /// With predict.decoder = model: also score the test split with the grammar decoder (same
  /// checkpoint, selected by the model decoder's validation MCC), as summary "test_grammar".
  bool test_with_grammar = true;
  /// Decoder settings to choose from by validation MCC after training (compare's predict.select;
  /// empty: none), reported as summary "decoder_selection" (select_gene_decoder).
  std::vector<GenePredictOptions> decoder_grid{};
  ProgressOptions progress{};
};

/// Scores `model` on `valid` and `test` under every setting of `grid` (one network pass per locus)
/// and chooses the setting of highest validation MCC (the first of equals), as BEND chooses
/// checkpoints; the test split plays no part in the choice. Returns the whole scan and the choice;
/// `chosen_test`, if given, receives the chosen setting's test evaluation with its predictions.
template <class Encoder>
nlohmann::json select_gene_decoder(CpuContext& ctx, GeneModel<Encoder>& model, std::span<const GeneExample> valid,
                                   std::span<const GeneExample> test, std::span<const GenePredictOptions> grid,
                                   GeneEvaluation* chosen_test = nullptr) {
  NUCLEO_CHECK(!grid.empty(), "select_gene_decoder: no decoder settings to choose from");
  const auto t0 = std::chrono::steady_clock::now();
  const auto v = evaluate_gene_each(ctx, model, valid, grid);
  std::size_t best = 0;
  for (std::size_t i = 1; i < grid.size(); ++i)
    if (v[i].mcc() > v[best].mcc()) best = i;
  auto t = evaluate_gene_each(ctx, model, test, grid, 14000, chosen_test ? std::optional<std::size_t>(best) : std::nullopt);
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < grid.size(); ++i)
    rows.push_back({{"setting", gene_decoder_setting_json(grid[i])},
                    {"label", gene_decoder_setting_label(grid[i])},
                    {"valid_mcc", v[i].mcc()},
                    {"test_mcc", t[i].mcc()},
                    {"test_mcc_short_loci", t[i].mcc_short()}});
  if (chosen_test) *chosen_test = std::move(t[best]);
  nlohmann::json j = rows[best];
  j["rule"] = "highest valid MCC (first of equals); the test split is not used to choose";
  j["selected"] = best;
  j["grid"] = rows;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return j;
}

/// Tokenised examples with per-nucleotide labels, for the Batcher.
inline std::vector<Example> gene_examples(std::span<const GeneExample> in) {
  std::vector<Example> out;
  out.reserve(in.size());
  for (const GeneExample& g : in) out.push_back(Example{tokens::encode(g.sequence), g.labels, {}});
  return out;
}

/// Transition log-frequencies of the training labels (+1 smoothing on allowed transitions).
template <int K, class S>
void init_crf_from_counts(LinearChainCRF<K, S>& crf, std::span<const GeneExample> train) {
  std::array<std::array<double, K>, K> trans{};
  std::array<double, K> start{}, end{};
  for (const GeneExample& g : train) {
    if (g.labels.empty()) continue;
    start[static_cast<std::size_t>(g.labels.front())] += 1;
    end[static_cast<std::size_t>(g.labels.back())] += 1;
    for (std::size_t t = 1; t < g.labels.size(); ++t)
      trans[static_cast<std::size_t>(g.labels[t - 1])][static_cast<std::size_t>(g.labels[t])] += 1;
  }
  crf.visit_params([&](std::string_view name, Param<S>& p) {
    if (name == "transitions") {
      for (int i = 0; i < K; ++i) {
        double row = 0;
        for (int j = 0; j < K; ++j) row += trans[i][j] + 1;
        for (int j = 0; j < K; ++j) p.value[i * K + j] = static_cast<S>(std::log((trans[i][j] + 1) / row));
      }
    } else if (name == "start" || name == "end") {
      const auto& c = name == "start" ? start : end;
      double tot = 0;
      for (double v : c) tot += v + 1;
      for (int j = 0; j < K; ++j) p.value[j] = static_cast<S>(std::log((c[static_cast<std::size_t>(j)] + 1) / tot));
    }
  });
}

template <class Encoder>
StageResult finetune_gene(CpuContext& ctx, std::span<const GeneExample> train, std::span<const GeneExample> valid,
                          std::span<const GeneExample> test, const GeneFinetuneOptions& opt,
                          const std::filesystem::path& run_dir, const nlohmann::json& config,
                          GeneEvaluation* test_evaluation = nullptr, GeneEvaluation* chosen_test_evaluation = nullptr) {
  using S = typename Encoder::scalar_type;
  NUCLEO_CHECK(!train.empty(), "finetune_gene: no training loci");
  const auto t0 = std::chrono::steady_clock::now();
  const StageConfig& stage = opt.stage;

  const std::vector<Example> train_ex = gene_examples(train);
  CrfConstraints constraints = CrfConstraints::gene_structure();
  if (opt.crf) {
    for (const Example& e : train_ex) {
      Labels one(1, static_cast<Index>(e.labels.size()));
      for (std::size_t i = 0; i < e.labels.size(); ++i) one(0, static_cast<Index>(i)) = e.labels[i];
      constraints |= CrfConstraints::from_labels(one, kGeneClasses);
    }
  }
  GeneModel<Encoder> model(opt.crf, opt.head_activation, constraints);
  {
    Rng rng(stage.seed, 202);
    model.init(rng);
  }
  if (opt.crf) init_crf_from_counts(model.crf(), train);
  nlohmann::json load_report = nullptr;
  if (opt.init_checkpoint) load_report = load_pretrained_encoder(*opt.init_checkpoint, model);

  AdamW<S> optimizer = stage_optimizer<S>(stage);
  Batcher batcher(train_ex, stage_batcher_options(stage));
  PrefetchedBatches batches(batcher);

  CrossEntropy<S> ce;
  Tensor3<S> logits, dlogits, dce, dx;
  TrainTask task;
  task.num_batches = [&](std::int64_t) { return static_cast<std::int64_t>(batcher.batches_per_epoch()); };
  task.train_batch = [&](CpuContext& c, std::int64_t e, std::int64_t i) {
    Batch b = batches.get(e, i);
    c.set_lengths(b.lengths);
    model.forward(c, b.tokens, logits);
    double l = 0;
    if (!opt.crf) {
      l = ce.value_and_grad(c, logits, b.labels, dlogits);
    } else {
      l = model.crf().value_and_grad(c, logits, b.labels, dlogits);
      if (opt.crf_ce_weight > 0) {
        l += opt.crf_ce_weight * ce.value_and_grad(c, logits, b.labels, dce);
        const auto w = static_cast<S>(opt.crf_ce_weight);
        S* d = dlogits.data();
        const S* e = dce.data();
        for (Index k = 0; k < dlogits.size(); ++k) d[k] += w * e[k];
      }
    }
    model.backward(c, b.tokens, dlogits, dx);
    const std::int64_t nt = batch_nucleotides(b);
    c.clear_lengths();
    return StepResult{l, nt};
  };
  GeneEvaluation test_ev;
  task.evaluate = [&](CpuContext& c, Split split) {
    const bool is_test = split == Split::test;
    GeneEvaluation ev = evaluate_gene(c, model, is_test ? test : valid, opt.predict,
                                      is_test && opt.keep_test_predictions);
    EvalResult r;
    r.metric = ev.mcc();
    r.extra = ev.to_json();
    if (is_test) test_ev = std::move(ev);
    return r;
  };

  const std::string model_type = std::string(opt.crf ? "GeneModel+CRF" : "GeneModel");
  nlohmann::json ckpt_config = config;  // the checkpoint says how to rebuild the model (nucleo-annotate)
  if (opt.crf) ckpt_config["crf_constraints"] = crf_constraints_to_json(constraints);
  TrainerOptions to = stage_trainer_options(stage, batcher.batches_per_epoch(), run_dir, "mcc", model_type, ckpt_config);
  to.progress = opt.progress;
  to.title = fmt::format("gene finding: {}{}", opt.init_checkpoint ? "SPT" : "scratch", opt.crf ? " + CRF" : "");
  to.test_at_end = !test.empty();
  Trainer trainer(model, optimizer, to);
  StageResult r;
  r.train = trainer.run(ctx, task);
  r.best_checkpoint = trainer.best_checkpoint();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.summary = {{"stage", "finetune_gene"},
               {"crf", opt.crf},
               {"init", opt.init_checkpoint ? "spt" : "scratch"},
               {"steps", r.train.steps},
               {"best_epoch", r.train.best_epoch},
               {"valid_mcc", r.train.best_metric},
               {"checkpoint", r.best_checkpoint.string()},
               {"seconds", r.seconds},
               {"encoder_load", load_report}};
  if (r.train.test) {
    r.summary["test_mcc"] = r.train.test->metric;
    r.summary["test"] = r.train.test->extra;
    // The trainer left the best weights loaded.
    nlohmann::json sel;
    if (!opt.decoder_grid.empty()) {
      fmt::print(stderr, "decoder selection: {} settings on the valid and test splits\n", opt.decoder_grid.size());
      sel = select_gene_decoder(ctx, model, valid, test, opt.decoder_grid, chosen_test_evaluation);
      fmt::print(stderr, "decoder selection: {} (valid MCC {:.4f}, test MCC {:.4f}) in {:.0f} s\n",
                 sel.at("label").get<std::string>(), sel.at("valid_mcc").get<double>(), sel.at("test_mcc").get<double>(),
                 sel.at("seconds").get<double>());
      r.summary["decoder_selection"] = sel;
    }
    if (opt.test_with_grammar && opt.predict.decoder != GeneDecoder::grammar) {
      GenePredictOptions g = opt.predict;
      g.decoder = GeneDecoder::grammar;
      // The scan holds this setting when the grid was built from the same predict options: reuse it.
      const auto in_scan = std::find(opt.decoder_grid.begin(), opt.decoder_grid.end(), g);
      if (in_scan != opt.decoder_grid.end()) {
        const auto& row = sel.at("grid")[static_cast<std::size_t>(in_scan - opt.decoder_grid.begin())];
        r.summary["test_grammar"] = {{"mcc", row.at("test_mcc")}, {"mcc_short_loci", row.at("test_mcc_short_loci")}};
      } else {
        const GeneEvaluation ev = evaluate_gene(ctx, model, test, g);
        r.summary["test_grammar"] = {{"mcc", ev.mcc()}, {"mcc_short_loci", ev.mcc_short()}};
      }
    }
  }
  if (test_evaluation) *test_evaluation = std::move(test_ev);
  return r;
}

}  // namespace nucleo
