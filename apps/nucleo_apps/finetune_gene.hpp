#pragma once
/// `finetune_gene<Encoder>`: gene finding (BEND's 9 classes per nucleotide), from scratch or from an
/// SPT checkpoint, with or without a linear-chain CRF.
///
///   model   GeneModel<Encoder> (encoder + TokenClassifier; + LinearChainCRF<9> with `crf`, or +
///           GeneGrammarCrf with `grammar_crf`)
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
///   grammar with `grammar_crf`: the gene grammar CRF's NLL over its lattice (frames, codons, splice
///           sites, length chains) plus `crf_ce_weight` x the cross-entropy; its edge scores start
///           from the training labels' mean run lengths (init_lengths) and are learned with the
///           network. It is the model's decoder: no decoder grid is scanned for it. Training crops
///           whose labels no grammar path fits are left out of the CRF term (counted in the
///           summary as "grammar_unfit_crops").
///   select  checkpoints: pooled 9-class MCC on the validation loci after every epoch (whole loci by
///           sliding windows; Viterbi with the CRF), as BEND; the best checkpoint is kept
///   decoder the best checkpoint is then decoded under each setting of `decoder_grid` (compare's
///           predict.select; empty: `predict` alone) on the validation loci, and the setting of
///           highest valid MCC is chosen (gene_decoder_selection.hpp)
///   test    scored once, with the chosen checkpoint and decoder: summary "test" (MCC, exon/gene/
///           splice-site scores) and "test_mcc"; no other setting is ever scored on test
///   genome  with `genome`: the same choice and single test score in genome context (the genome
///           predicted whole, scored inside the loci), summary "genome"
#include "nucleo/core/context.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/losses/cross_entropy.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo_apps/gene_decoder_selection.hpp"
#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/pretrain_mlm.hpp"
#include "nucleo_apps/stage_config.hpp"
#include "nucleo/train/trainer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace nucleo::apps {

struct GeneFinetuneOptions {
  StageConfig stage{};
  bool crf = false;
  /// The gene grammar CRF instead (exclusive with `crf`).
  std::optional<GeneGrammarCrfOptions> grammar_crf{};
  double crf_ce_weight = 1.0;  ///< weight of the cross-entropy added to the CRF's NLL (0 = NLL alone)
  std::optional<std::filesystem::path> init_checkpoint{};  ///< SPT encoder; none = scratch
  Activation head_activation = Activation::gelu;
  GenePredictOptions predict{};
  /// Decoder settings to choose from by validation MCC after training (compare's predict.select;
  /// empty: `predict` alone), reported as summary "decoder_selection".
  std::vector<GenePredictOptions> decoder_grid{};
  /// Genome context: also choose and score in this genome (summary "genome"); none: locus level only.
  const GeneGenome* genome = nullptr;
  ProgressOptions progress{};
};

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

/// An SPT checkpoint's encoder must have the run's dilation schedule (config "encoder"): the weights
/// fit any schedule, so a mismatch would load silently. ConfigError naming both.
inline void check_init_encoder(const std::filesystem::path& init, const nlohmann::json& config) {
  const nlohmann::json h = read_checkpoint_header(init);
  const EncoderOptions pre = encoder_options_from_config(h.value("config", nlohmann::json::object()));
  const EncoderOptions run = encoder_options_from_config(config);
  if (pre.dilation_cycle != run.dilation_cycle || pre.dilation_growth != run.dilation_growth ||
      pre.max_dilation != run.max_dilation)
    throw ConfigError(fmt::format("{}: its encoder has the dilation schedule cycle {} growth {} max {}, this run "
                                  "cycle {} growth {} max {} (config \"encoder\")",
                                  init.string(), pre.dilation_cycle, pre.dilation_growth, pre.max_dilation,
                                  run.dilation_cycle, run.dilation_growth, run.max_dilation));
}

template <class Encoder>
StageResult finetune_gene(CpuContext& ctx, std::span<const GeneExample> train, std::span<const GeneExample> valid,
                          std::span<const GeneExample> test, const GeneFinetuneOptions& opt,
                          const std::filesystem::path& run_dir, const nlohmann::json& config,
                          GeneEvaluation* test_evaluation = nullptr,
                          std::vector<GenePrediction>* genome_predictions = nullptr) {
  using S = typename Encoder::scalar_type;
  NUCLEO_CHECK(!train.empty(), "finetune_gene: no training loci");
  NUCLEO_CHECK(!valid.empty(), "finetune_gene: no validation loci (checkpoints and decoders are chosen on them)");
  const auto t0 = std::chrono::steady_clock::now();
  const StageConfig& stage = opt.stage;

  const std::vector<Example> train_ex = gene_examples(train);
  CrfConstraints constraints = gene_structure_constraints();
  if (opt.crf) {
    for (const Example& e : train_ex) {
      Labels one(1, static_cast<Index>(e.labels.size()));
      for (std::size_t i = 0; i < e.labels.size(); ++i) one(0, static_cast<Index>(i)) = e.labels[i];
      constraints |= CrfConstraints::from_labels(one, gene_class_count);
    }
  }
  NUCLEO_CHECK_CONFIG(!(opt.crf && opt.grammar_crf), "finetune_gene: choose the chain CRF or the grammar CRF, not both");
  const EncoderOptions enc = encoder_options_from_config(config);
  GeneModel<Encoder> model = opt.grammar_crf ? GeneModel<Encoder>(*opt.grammar_crf, opt.head_activation, enc)
                                             : GeneModel<Encoder>(opt.crf, opt.head_activation, constraints, enc);
  {
    Rng rng(stage.seed, 202);
    model.init(rng);
  }
  if (opt.crf) init_crf_from_counts(model.crf(), train);
  if (opt.grammar_crf) {
    std::vector<std::vector<std::int8_t>> tracks;
    for (const GeneExample& g : train) tracks.push_back(g.labels);
    model.grammar_crf().init_lengths(GeneRunLengths::from_labels(tracks));
  }
  nlohmann::json load_report = nullptr;
  if (opt.init_checkpoint) {
    check_init_encoder(*opt.init_checkpoint, config);
    load_report = load_pretrained_encoder(*opt.init_checkpoint, model);
  }

  StageTraining<S> training(stage, train_ex);
  CrossEntropy<S> ce;
  Tensor3<S> dce;
  Index unfit_crops = 0;
  TrainTask task = training.task(model, [&](CpuContext& c, const Batch& b, const Tensor3<S>& logits,
                                            Tensor3<S>& dlogits) -> double {
    if (!opt.crf && !opt.grammar_crf) return ce.value_and_grad(c, logits, b.labels, dlogits);
    double l = 0;
    if (opt.grammar_crf) {
      l = model.grammar_crf().value_and_grad(c, b.tokens, logits, b.labels, dlogits);
      unfit_crops += model.grammar_crf().unfit();
    } else {
      l = model.crf().value_and_grad(c, logits, b.labels, dlogits);
    }
    if (opt.crf_ce_weight > 0) {
      l += opt.crf_ce_weight * ce.value_and_grad(c, logits, b.labels, dce);
      const auto w = static_cast<S>(opt.crf_ce_weight);
      S* d = dlogits.data();
      const S* e = dce.data();
      for (Index k = 0; k < dlogits.size(); ++k) d[k] += w * e[k];
    }
    return l;
  });
  task.evaluate = [&](CpuContext& c, Split split) {
    NUCLEO_CHECK(split == Split::validation, "finetune_gene: the test split is scored after training, once");
    GeneEvaluation ev = evaluate_gene(c, model, valid, opt.predict);
    EvalResult r;
    r.metric = ev.mcc();
    r.extra = ev.to_json();
    return r;
  };

  const std::string model_type = std::string(opt.grammar_crf ? "GeneModel+GrammarCRF" : opt.crf ? "GeneModel+CRF" : "GeneModel");
  nlohmann::json ckpt_config = config;  // the checkpoint says how to rebuild the model (nucleo-annotate)
  if (opt.crf) ckpt_config["crf_constraints"] = crf_constraints_to_json(constraints);
  if (opt.grammar_crf) ckpt_config["grammar_crf"] = grammar_crf_options_json(*opt.grammar_crf);
  TrainerOptions to = stage_trainer_options(stage, training.batcher.batches_per_epoch(), run_dir, "mcc", model_type, ckpt_config);
  to.progress = opt.progress;
  to.title = fmt::format("gene finding: {}{}", opt.init_checkpoint ? "SPT" : "scratch",
                         opt.grammar_crf ? " + grammar CRF" : opt.crf ? " + CRF" : "");
  to.test_at_end = false;  // scored below, once, with the decoder the validation loci choose
  Trainer trainer(model, training.optimizer, to);
  StageResult r;
  r.train = trainer.run(ctx, task);
  r.best_checkpoint = trainer.best_checkpoint();
  if (std::filesystem::exists(r.best_checkpoint)) load_checkpoint(r.best_checkpoint, model);
  r.summary = {{"stage", "finetune_gene"},
               {"crf", opt.crf},
               {"grammar_crf", opt.grammar_crf ? grammar_crf_options_json(*opt.grammar_crf) : nlohmann::json()},
               {"init", opt.init_checkpoint ? "spt" : "scratch"},
               {"steps", r.train.steps},
               {"best_epoch", r.train.best_epoch},
               {"valid_mcc", r.train.best_metric},
               {"checkpoint", r.best_checkpoint.string()},
               {"encoder_load", load_report}};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opt.grammar_crf) {
    r.summary["grammar_unfit_crops"] = unfit_crops;
    r.summary["grammar_crf_learned"] = model.grammar_crf().to_json();
  }
  r.summary["seconds"] = r.seconds;  // training (with the per-epoch validation), before the scoring below

  std::vector<GenePredictOptions> grid =
      opt.decoder_grid.empty() ? std::vector<GenePredictOptions>{opt.predict} : opt.decoder_grid;
  if (opt.grammar_crf) {  // the model is its own decoder: one setting, the model's
    GenePredictOptions p = opt.predict;
    p.decoder = GeneDecoder::model;
    p.grammar = {};
    p.tie_intron_strands = false;
    grid = {p};
  }
  fmt::print(stderr, "decoder: choosing among {} settings on the {} validation loci\n", grid.size(), valid.size());
  nlohmann::json sel = select_gene_decoder(ctx, model, valid, test, grid, test_evaluation);
  if (sel.contains("test")) {
    const auto& t = sel.at("test");
    fmt::print(stderr, "decoder {} (valid MCC {:.4f}); test, scored once: MCC {:.4f}, exon F1 {:.4f}, gene F1 {:.4f}\n",
               sel.at("label").get<std::string>(), sel.at("valid_mcc").get<double>(), t.at("mcc").get<double>(),
               t.at("structure").at("exon").at("f1").get<double>(), t.at("structure").at("gene").at("f1").get<double>());
    r.summary["test_mcc"] = t.at("mcc");
    r.summary["test"] = t;
    sel.erase("test");
  }
  r.summary["decoder_selection"] = sel;
  if (opt.genome) {
    fmt::print(stderr, "genome context: {} ({} nt), choosing on the {} validation loci inside it\n",
               opt.genome->fasta.string(), opt.genome->nucleotides(), opt.genome->valid.size());
    const nlohmann::json g = evaluate_gene_genome(ctx, model, *opt.genome, grid, genome_predictions,
                                                  opt.progress.mode == ProgressOptions::Mode::off);
    r.summary["genome"] = g;
    if (g.contains("test"))
      fmt::print(stderr, "genome context: decoder {} (valid MCC {:.4f}); test, scored once: MCC {:.4f}, exon F1 {:.4f}, "
                         "gene F1 {:.4f} ({:.0f} s)\n",
                 g.at("label").get<std::string>(), g.at("valid_mcc").get<double>(), g.at("test").at("mcc").get<double>(),
                 g.at("test").at("structure").at("exon").at("f1").get<double>(),
                 g.at("test").at("structure").at("gene").at("f1").get<double>(), g.at("seconds").get<double>());
  }
  return r;
}

}  // namespace nucleo::apps
