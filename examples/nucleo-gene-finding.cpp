// nucleo-gene-finding: the paper's gene-finding experiment, assembled from library parts.
//
//   nucleo-gene-finding compare  [--config F] [--out DIR] [--set key=value ...] [--threads N]
//   nucleo-gene-finding sample-efficiency [--config F] [--out DIR] [--set sample_efficiency.fractions=[0.1,0.25,1]]
//   nucleo-gene-finding pretrain [--config F] [--out DIR] [--set ...]
//   nucleo-gene-finding finetune (--init CKPT | --scratch) [--crf] [--config F] [--out DIR] [--set ...]
//   nucleo-gene-finding evaluate --checkpoint CKPT [--split test] [--out FILE.json] [--predictions PREFIX] [--select-decoder]
//                                [--threads N] [--set predict.decoder=grammar ...]   (overrides the checkpoint's configuration)
//
// Data: BEND's 9 per-nucleotide classes on the real Drosophila genes of Debian's augustus-doc
// (default), or GenBank files (--set data.train=F --set data.test=F). Every run saves the
// configuration it used next to its results.
#include "nucleo/nucleo.hpp"
#include "nucleo/train/gene_experiment.hpp"
#include "nucleo/train/gene_sample_efficiency.hpp"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

const char* kUsage =
    "usage: nucleo-gene-finding <command> [options]\n"
    "\n"
    "Gene finding (BEND's 9 classes per nucleotide, pooled MCC) with task-specific self-pretraining.\n"
    "\n"
    "commands:\n"
    "  compare   the whole experiment: scratch vs SPT vs SPT+CRF under equal compute (the paper's Table 1 row)\n"
    "  sample-efficiency  the arms fine-tuned on nested fractions of the training loci (10/25/100%: table + SVG)\n"
    "  pretrain  MLM pretraining of the encoder on the task's own training sequences (SPT)\n"
    "  finetune  fine-tune from an SPT checkpoint (--init) or from scratch (--scratch), optionally with --crf\n"
    "  evaluate  evaluate a fine-tuned checkpoint on a split (MCC, per-class figures, confusion matrix as JSON)\n"
    "\n"
    "Common options: --config FILE (JSON; examples/configs/*.json), --set key=value (any field, repeatable,\n"
    "e.g. --set finetune.steps=500 --set model=medium), --out DIR, --threads N (default: NUCLEO_THREADS or all).\n";

struct Common {
  nlohmann::json cfg;
  std::string out;
  int threads = 0;
};

Common common(nucleo::ArgParser& p, const std::vector<std::string>& sets, const char* default_out) {
  Common c;
  c.cfg = nucleo::default_gene_config();
  if (auto f = p.find("--config")) c.cfg = nucleo::load_config(c.cfg, *f);
  for (const auto& s : sets) nucleo::apply_override(c.cfg, s);
  if (p.given("--threads")) c.cfg["threads"] = p.get_int("--threads");
  c.threads = c.cfg.at("threads").get<int>();
  if (c.threads < 0)  // as nucleo-annotate: 0 is the only "automatic" value
    throw nucleo::ConfigError(fmt::format("--threads (config 'threads') must be >= 0 (0 = NUCLEO_THREADS or all cores), got {}", c.threads));
  c.out = p.find("--out").value_or(default_out);
  return c;
}

void add_common(nucleo::ArgParser& p) {
  p.optional_option("--config", "JSON configuration (fields not given keep their defaults)", "FILE")
      .optional_option("--out", "output directory", "DIR")
      .optional_option("--threads", "worker threads (default: config, NUCLEO_THREADS, or all)", "N")
      .flag("--quiet", "no progress output");
}

nucleo::ProgressOptions progress_of(const nucleo::ArgParser& p) {
  nucleo::ProgressOptions o;
  if (p.flag_set("--quiet")) o.mode = nucleo::ProgressOptions::Mode::off;
  return o;
}

int cmd_compare(int argc, const char** argv, const std::vector<std::string>& sets) {
  nucleo::ArgParser p("nucleo-gene-finding compare", "scratch vs SPT vs SPT+CRF under equal compute");
  add_common(p);
  p.parse(argc, argv, 2);
  if (p.help_requested()) return std::cout << p.help(), 0;
  const Common c = common(p, sets, "results/gene-finding");
  nucleo::CpuContext ctx(c.threads);
  const auto data = nucleo::load_gene_data(c.cfg);
  fmt::print(stderr, "gene finding: train {} loci, valid {}, test {}; model {}; {} threads; output {}\n",
             data.train().size(), data.valid().size(), data.test().size(), c.cfg.at("model").get<std::string>(),
             ctx.threads(), c.out);
  const auto results = nucleo::with_encoder(c.cfg.at("model").get<std::string>(), [&]<class Enc>() {
    return nucleo::run_gene_compare<Enc>(ctx, c.cfg, data, c.out, progress_of(p));
  });
  const std::string table = nucleo::gene_results_markdown(results);
  nucleo::detail::write_file_atomic(std::filesystem::path(c.out) / "results.md", table);
  std::cout << "\n" << table << "\nresults: " << c.out << "/results.json and results.md; per arm: "
            << c.out << "/<arm>/ (best.ckpt, metrics.jsonl, learning_curve.svg, test_predictions.tsv and .gff3, and test_predictions.chosen.* decoded as the valid split chose)\n";
  return 0;
}

int cmd_sample_efficiency(int argc, const char** argv, const std::vector<std::string>& sets) {
  nucleo::ArgParser p("nucleo-gene-finding sample-efficiency",
                      "the arms fine-tuned on nested fractions of the training loci (config sample_efficiency.fractions); "
                      "pretraining once on all of them");
  add_common(p);
  p.parse(argc, argv, 2);
  if (p.help_requested()) return std::cout << p.help(), 0;
  const Common c = common(p, sets, "results/gene-finding-sample-efficiency");
  nucleo::CpuContext ctx(c.threads);
  const auto data = nucleo::load_gene_data(c.cfg);
  fmt::print(stderr, "gene finding, sample efficiency: train {} loci, valid {}, test {}; model {}; {} threads; output {}\n",
             data.train().size(), data.valid().size(), data.test().size(), c.cfg.at("model").get<std::string>(),
             ctx.threads(), c.out);
  const auto results = nucleo::with_encoder(c.cfg.at("model").get<std::string>(), [&]<class Enc>() {
    return nucleo::run_gene_sample_efficiency<Enc>(ctx, c.cfg, data, c.out, progress_of(p));
  });
  const std::filesystem::path out(c.out);
  const std::string table = nucleo::sample_efficiency_markdown(results);
  nucleo::detail::write_file_atomic(out / "sample_efficiency.md", table);
  nucleo::sample_efficiency_plot(results).write(out / "sample_efficiency.svg");
  std::cout << "\n" << table << "\nresults: " << (out / "sample_efficiency.json").string() << ", .md and .svg; per fraction: "
            << c.out << "/train-<percent>pct/ (a compare directory each)\n";
  return 0;
}

/// Runs `body`; a stop request (Ctrl-C, SIGTERM) that interrupted training becomes the exit status
/// 128 + signal (130, 143) after saying where the state was saved.
template <class F>
int exit_on_interrupt(F&& body) {
  try {
    return body();
  } catch (const nucleo::Interrupted& e) {
    std::cerr << "nucleo-gene-finding: " << e.what() << "\n";
    return e.exit_code();
  }
}

int cmd_pretrain(int argc, const char** argv, const std::vector<std::string>& sets) {
  nucleo::ArgParser p("nucleo-gene-finding pretrain", "MLM pretraining (SPT) on the training sequences");
  add_common(p);
  p.parse(argc, argv, 2);
  if (p.help_requested()) return std::cout << p.help(), 0;
  const Common c = common(p, sets, "results/gene-finding/pretrain");
  // Every setting is checked, and the data read, before --out is claimed: a refused run writes nothing.
  const auto stage = c.cfg.at("pretrain").get<nucleo::StageConfig>();
  const auto masking = nucleo::masking_from_config(c.cfg);
  nucleo::CpuContext ctx(c.threads);
  const auto data = nucleo::load_gene_data(c.cfg);
  nucleo::claim_output_dir(c.out, c.cfg, {{"command", "pretrain"}});
  return exit_on_interrupt([&] {
    const auto r = nucleo::with_encoder(c.cfg.at("model").get<std::string>(), [&]<class Enc>() {
      return nucleo::pretrain_mlm<Enc>(ctx, nucleo::gene_examples(data.train()), nucleo::gene_examples(data.valid()),
                                       stage, masking, c.out, c.cfg, progress_of(p));
    });
    std::cout << r.summary.dump(2) << "\n";
    return 0;
  });
}

int cmd_finetune(int argc, const char** argv, const std::vector<std::string>& sets) {
  nucleo::ArgParser p("nucleo-gene-finding finetune", "fine-tune for gene finding (from SPT or from scratch)");
  add_common(p);
  p.optional_option("--init", "SPT checkpoint whose encoder (0.*) initialises the model", "CKPT")
      .flag("--scratch", "start from a random initialisation")
      .flag("--crf", "train and decode with the linear-chain CRF");
  p.parse(argc, argv, 2);
  if (p.help_requested()) return std::cout << p.help(), 0;
  if (p.given("--init") == p.flag_set("--scratch"))
    throw nucleo::ConfigError("finetune: give exactly one of --init CKPT or --scratch (see --help)");
  const Common c = common(p, sets, "results/gene-finding/finetune");
  // Every setting is checked, and the data read, before --out is claimed: a refused run writes nothing.
  nucleo::GeneFinetuneOptions fo;
  fo.stage = c.cfg.at("finetune").get<nucleo::StageConfig>();
  fo.crf = p.flag_set("--crf");
  fo.crf_ce_weight = c.cfg.at("crf_ce_weight").get<double>();
  if (auto init = p.find("--init")) {
    nucleo::read_checkpoint_header(*init);  // exists and is a whole checkpoint
    fo.init_checkpoint = *init;
  }
  fo.head_activation = nucleo::activation_from_config(c.cfg);
  fo.predict = nucleo::predict_from_config(c.cfg);
  fo.decoder_grid = nucleo::decoder_grid_from_config(c.cfg);  // predict.select, as compare
  fo.progress = progress_of(p);
  nucleo::CpuContext ctx(c.threads);
  const auto data = nucleo::load_gene_data(c.cfg);
  const auto fine_train = nucleo::train_subset(data.train(), c.cfg.at("data").at("train_fraction").get<double>());
  // --init, --scratch and --crf are settings of the run too: a rerun with others is refused
  const nlohmann::json command = {
      {"command", "finetune"},
      {"init", fo.init_checkpoint ? nlohmann::json(std::filesystem::weakly_canonical(*fo.init_checkpoint).string())
                                  : nlohmann::json(nullptr)},
      {"crf", fo.crf}};
  nucleo::claim_output_dir(c.out, c.cfg, command);
  return exit_on_interrupt([&] {
    nucleo::GeneEvaluation ev, chosen;
    const auto r = nucleo::with_encoder(c.cfg.at("model").get<std::string>(), [&]<class Enc>() {
      return nucleo::finetune_gene<Enc>(ctx, fine_train, data.valid(), data.test(), fo, c.out, c.cfg, &ev, &chosen);
    });
    if (!ev.predictions.empty())
      nucleo::write_prediction_tsv(std::filesystem::path(c.out) / "test_predictions.tsv", data.test(), ev.predictions);
    if (!chosen.predictions.empty())  // decoded with the setting the validation loci chose
      nucleo::write_prediction_tsv(std::filesystem::path(c.out) / "test_predictions.chosen.tsv", data.test(),
                                   chosen.predictions);
    nlohmann::json s = r.summary;
    s.erase("test");
    std::cout << s.dump(2) << "\n";
    return 0;
  });
}

int cmd_evaluate(int argc, const char** argv, const std::vector<std::string>& sets) {
  nucleo::ArgParser p("nucleo-gene-finding evaluate", "evaluate a fine-tuned checkpoint on a split");
  p.option("--checkpoint", "fine-tuned checkpoint (best.ckpt of a finetune/compare arm)", std::nullopt, "CKPT")
      .option("--split", "train, valid or test", "test")
      .optional_option("--out", "write the evaluation JSON here", "FILE")
      .optional_option("--predictions", "write the split's predictions as PREFIX.tsv and PREFIX.gff3", "PREFIX")
      .optional_option("--threads", "worker threads", "N")
      .flag("--select-decoder",
            "first choose the decoder on the valid split among the predict.select settings (highest valid MCC; "
            "each is also scored on --split), then evaluate --split with it");
  p.parse(argc, argv, 2);
  if (p.help_requested()) return std::cout << p.help(), 0;
  const std::filesystem::path ckpt = p.get("--checkpoint");
  const auto header = nucleo::read_checkpoint_header(ckpt);
  const std::string type = header.value("model", "");
  if (type != "GeneModel" && type != "GeneModel+CRF")
    throw nucleo::ConfigError(fmt::format("{}: model type '{}' is not a fine-tuned gene model{}", ckpt.string(), type,
                                          type == "MlmNet" ? " (this is a pretraining checkpoint; fine-tune it first)" : ""));
  nlohmann::json cfg = nucleo::default_gene_config();
  cfg.merge_patch(header.at("config"));
  for (const auto& s : sets) nucleo::apply_override(cfg, s);  // e.g. predict.decoder=grammar
  nucleo::GenePredictOptions predict = nucleo::predict_from_config(cfg);
  const bool select = p.flag_set("--select-decoder");
  const auto grid = select ? nucleo::decoder_grid_from_config(cfg) : std::vector<nucleo::GenePredictOptions>{};
  if (select && grid.empty())
    throw nucleo::ConfigError("evaluate --select-decoder: predict.select.enabled is false, no settings to choose from");
  nucleo::CpuContext ctx(p.given("--threads") ? static_cast<int>(p.get_int("--threads")) : 0);
  const auto data = nucleo::load_gene_data(cfg);
  const auto& split = data.split(p.get("--split"));
  const nlohmann::json j = nucleo::with_encoder(cfg.at("model").get<std::string>(), [&]<class Enc>() {
    nucleo::GeneModel<Enc> model(type == "GeneModel+CRF", nucleo::activation_from_config(cfg),
                                 cfg.contains("crf_constraints") ? nucleo::crf_constraints_from_json(cfg["crf_constraints"])
                                                                 : nucleo::CrfConstraints::gene_structure());
    const auto rep = nucleo::load_checkpoint(ckpt, model);
    const auto prefix = p.find("--predictions");
    nlohmann::json selection;
    nucleo::GeneEvaluation ev;
    if (select) {  // the chosen setting's evaluation (with predictions) comes from the scan itself
      fmt::print(stderr, "evaluate: choosing among {} decoder settings on the valid split\n", grid.size());
      selection = nucleo::select_gene_decoder(ctx, model, data.valid(), split, grid, &ev);
      predict = grid[selection.at("selected").get<std::size_t>()];
    } else {
      ev = nucleo::evaluate_gene(ctx, model, split, predict, prefix.has_value());
    }
    if (prefix) {
      nucleo::write_prediction_tsv(*prefix + ".tsv", split, ev.predictions);
      nucleo::write_prediction_gff3(*prefix + ".gff3", split, ev.predictions);
    }
    nlohmann::json r = ev.to_json();
    r["decoder"] = nucleo::gene_decoder_name(predict.decoder);
    r["decoder_setting"] = nucleo::gene_decoder_setting_json(predict);
    r["decoder_label"] = nucleo::gene_decoder_setting_label(predict);
    if (select) r["decoder_selection"] = selection;
    r["checkpoint"] = ckpt.string();
    r["split"] = p.get("--split");
    r["load"] = rep.summary();
    return r;
  });
  if (auto out = p.find("--out")) nucleo::detail::write_file_atomic(*out, j.dump(2) + "\n");
  if (select) {
    fmt::print("decoder settings (valid MCC / {} MCC / {} MCC on loci <= 14 kb):\n", p.get("--split"), p.get("--split"));
    for (const auto& row : j.at("decoder_selection").at("grid"))
      fmt::print("  {:<44} {:.4f} / {:.4f} / {:.4f}\n", row.at("label").get<std::string>(), row.at("valid_mcc").get<double>(),
                 row.at("test_mcc").get<double>(), row.at("test_mcc_short_loci").get<double>());
  }
  fmt::print("{} split: {} loci, MCC {:.4f} (loci <= 14 kb: {:.4f}), decoder {}{}\n", p.get("--split"),
             j.at("loci").get<int>(), j.at("mcc").get<double>(), j.at("mcc_short_loci").get<double>(),
             j.at("decoder_label").get<std::string>(), select ? " (chosen on the valid split)" : "");
  return 0;
}

}  // namespace

int main(int argc, const char** argv) {
  try {
    const auto sets = nucleo::take_set_overrides(argc, argv);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
      std::cout << kUsage;
      return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    if (cmd == "compare") return cmd_compare(argc, argv, sets);
    if (cmd == "sample-efficiency") return cmd_sample_efficiency(argc, argv, sets);
    if (cmd == "pretrain") return cmd_pretrain(argc, argv, sets);
    if (cmd == "finetune") return cmd_finetune(argc, argv, sets);
    if (cmd == "evaluate") return cmd_evaluate(argc, argv, sets);
    std::cerr << "nucleo-gene-finding: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nucleo-gene-finding: error: " << e.what() << "\n";
    return 1;
  }
}
