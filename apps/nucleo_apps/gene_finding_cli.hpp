#pragma once
/// `gene_finding_main(argc, argv, build)`: the command line of nucleo-gene-finding, the paper's
/// gene-finding experiment assembled from library parts:
///
///   nucleo-gene-finding compare  [--config F] [--out DIR] [--set key=value ...] [--threads N] [--seeds N] [--only-seed S]
///   nucleo-gene-finding sample-efficiency [--config F] [--out DIR] [--set sample_efficiency.fractions=[0.1,0.25,1]]
///   nucleo-gene-finding pretrain [--config F] [--out DIR] [--set ...]
///   nucleo-gene-finding finetune (--init CKPT | --scratch) [--crf] [--config F] [--out DIR] [--set ...]
///   nucleo-gene-finding evaluate --checkpoint CKPT [--split test] [--out FILE.json] [--predictions PREFIX] [--select-decoder]
///                                [--threads N] [--set predict.decoder=grammar ...]   (overrides the checkpoint's configuration)
///   nucleo-gene-finding report   [--records docs/results] [--check] FILE.md ...   (the tables of docs/ from the records)
///
/// Data: BEND's 9 per-nucleotide classes on the real Drosophila genes of Debian's augustus-doc
/// (default), or GenBank files (--set data.train=F --set data.test=F). Every run saves the
/// configuration it used next to its results, and compare records the build (`BuildInfo`, which
/// the program's build generates) with them. Exit codes: 0 success, 1 error, 2 usage, 130 / 143
/// training stopped by SIGINT / SIGTERM (the state is saved; the same command resumes).
#include "nucleo/nucleo.hpp"
#include "nucleo_apps/cli.hpp"
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo_apps/gene_report.hpp"
#include "nucleo_apps/gene_sample_efficiency.hpp"
#include "nucleo_apps/subcommand.hpp"

#include <tbb/version.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace nucleo::apps {

/// The build of a program, recorded with its results (the program's build generates it).
struct BuildInfo {
  std::string git_commit = "unknown";
  std::string type = "unknown";
  std::string flags;
};

namespace gene_cli {

inline constexpr const char* kGeneFindingUsage =
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
    "  report    regenerate the tables of Markdown files from the committed records (docs/results/*.json)\n"
    "\n"
    "Common options: --config FILE (JSON; examples/configs/*.json), --set key=value (any field, repeatable,\n"
    "e.g. --set finetune.steps=500 --set model=medium), --out DIR, --threads N (default: NUCLEO_THREADS or all).\n";

// The command line, machine and build of this run, stored with its results (the records' provenance).

/// A sub-command's configuration, parsed: the gene-finding defaults, --config, --set, --threads
/// (>= 0); and its output directory.
struct GeneArgs {
  GeneExperimentConfig cfg;
  std::string out;
};

inline GeneArgs gene_args(const ArgParser& p, const std::vector<std::string>& sets, const char* default_out) {
  ExperimentArgs c = experiment_args(p, default_gene_config(), sets, default_out);
  if (c.threads < 0)  // as nucleo-annotate: 0 is the only "automatic" value
    throw ConfigError(fmt::format("--threads (config 'threads') must be >= 0 (0 = NUCLEO_THREADS or all cores), got {}", c.threads));
  return {gene_experiment_config(std::move(c.cfg), c.source), std::move(c.out)};
}

inline nlohmann::json provenance(int argc, const char** argv, int threads, const BuildInfo& build) {
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  std::string cpu = "unknown";
  if (std::ifstream in("/proc/cpuinfo"); in)
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) {
        cpu = line.substr(line.find(':') + 2);
        break;
      }
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"command", cmd},
          {"date", date},
          {"cpu", cpu},
          {"threads", threads},
          {"git_commit", build.git_commit},
          {"build", {{"type", build.type}, {"flags", build.flags}, {"compiler", "g++ " __VERSION__}}},
          {"versions",
           {{"nucleo", version_string},
            {"eigen", fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION)},
            {"onetbb", TBB_VERSION_STRING},
            {"fmt", FMT_VERSION},
            {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                          NLOHMANN_JSON_VERSION_PATCH)}}}};
}

inline int cmd_compare(int argc, const char** argv, const std::vector<std::string>& sets, const BuildInfo& build) {
  ArgParser p("nucleo-gene-finding compare",
                      "scratch, scratch + CRF, SPT and SPT + CRF under equal compute, and scratch at the fine-tuning "
                      "budget; each arm's checkpoint and decoder chosen on the validation loci, the test loci scored once");
  add_experiment_options(p);
  p.optional_option("--seeds", "runs of the whole compare, seeds finetune.seed + 0..N-1 (config \"seeds\")", "N")
      .optional_option("--only-seed", "run only this seed's replicate (run seeds in parallel processes; a later run "
                                      "without it collects them)", "S");
  if (parse_or_help(p, argc, argv)) return 0;
  std::vector<std::string> all_sets = sets;
  if (auto n = p.find("--seeds")) all_sets.push_back("seeds=" + *n);
  const GeneArgs c = gene_args(p, all_sets, "results/gene-finding");
  std::optional<std::uint64_t> only;
  if (p.given("--only-seed")) {
    const auto s = p.get_int("--only-seed");
    if (s < 0) throw ConfigError("--only-seed must be >= 0");
    only = static_cast<std::uint64_t>(s);
  }
  CpuContext ctx(c.cfg.threads);
  const auto data = load_gene_data(c.cfg.data);
  fmt::print(stderr, "gene finding: train {} loci, valid {}, test {}; model {}; {} seed(s); {} threads; output {}\n",
             data.train().size(), data.valid().size(), data.test().size(), c.cfg.model,
             gene_seed_count(c.cfg), ctx.threads(), c.out);
  const auto record = with_encoder(c.cfg.model, [&]<class Enc>() {
    return run_gene_compare_seeds<Enc>(ctx, c.cfg, data, c.out, progress_of(p), provenance(argc, argv, ctx.threads(), build),
                                               only);
  });
  const std::string table = gene_compare_markdown(record);
  nucleo::detail::write_file_atomic(std::filesystem::path(c.out) / "results.md", table);
  std::cout << "\n" << table << "\nresults: " << c.out << "/results.json (the record) and results.md; per seed and arm: "
            << c.out << "/seed-<s>/<arm>/ (best.ckpt, metrics.jsonl, learning_curve.svg, test_predictions.tsv and .gff3"
            << (c.cfg.genome_enabled ? ", genome_predictions.gff3" : "") << ")\n";
  return 0;
}

inline int cmd_sample_efficiency(int argc, const char** argv, const std::vector<std::string>& sets) {
  ArgParser p("nucleo-gene-finding sample-efficiency",
                      "the arms fine-tuned on nested fractions of the training loci (config sample_efficiency.fractions); "
                      "pretraining once on all of them");
  add_experiment_options(p);
  if (parse_or_help(p, argc, argv)) return 0;
  const GeneArgs c = gene_args(p, sets, "results/gene-finding-sample-efficiency");
  CpuContext ctx(c.cfg.threads);
  const auto data = load_gene_data(c.cfg.data);
  fmt::print(stderr, "gene finding, sample efficiency: train {} loci, valid {}, test {}; model {}; {} threads; output {}\n",
             data.train().size(), data.valid().size(), data.test().size(), c.cfg.model,
             ctx.threads(), c.out);
  const auto results = with_encoder(c.cfg.model, [&]<class Enc>() {
    return run_gene_sample_efficiency<Enc>(ctx, c.cfg, data, c.out, progress_of(p));
  });
  const std::filesystem::path out(c.out);
  const std::string table = sample_efficiency_markdown(results);
  nucleo::detail::write_file_atomic(out / "sample_efficiency.md", table);
  sample_efficiency_plot(results).write(out / "sample_efficiency.svg");
  std::cout << "\n" << table << "\nresults: " << (out / "sample_efficiency.json").string() << ", .md and .svg; per fraction: "
            << c.out << "/train-<percent>pct/ (a compare directory each)\n";
  return 0;
}

inline int cmd_pretrain(int argc, const char** argv, const std::vector<std::string>& sets) {
  ArgParser p("nucleo-gene-finding pretrain", "MLM pretraining (SPT) on the training sequences");
  add_experiment_options(p);
  if (parse_or_help(p, argc, argv)) return 0;
  const GeneArgs c = gene_args(p, sets, "results/gene-finding/pretrain");
  // Every setting is checked, and the data read, before --out is claimed: a refused run writes nothing.
  CpuContext ctx(c.cfg.threads);
  const auto data = load_gene_data(c.cfg.data);
  claim_output_dir(c.out, c.cfg.json, {{"command", "pretrain"}});
  const auto r = with_encoder(c.cfg.model, [&]<class Enc>() {
    return pretrain_mlm<Enc>(ctx, gene_examples(data.train()), gene_examples(data.valid()), c.cfg.pretrain,
                             c.cfg.masking, c.out, c.cfg.json, progress_of(p));
  });
  std::cout << r.summary.dump(2) << "\n";
  return 0;
}

inline int cmd_finetune(int argc, const char** argv, const std::vector<std::string>& sets) {
  ArgParser p("nucleo-gene-finding finetune", "fine-tune for gene finding (from SPT or from scratch)");
  add_experiment_options(p);
  p.optional_option("--init", "SPT checkpoint whose encoder (0.*) initialises the model", "CKPT")
      .flag("--scratch", "start from a random initialisation")
      .flag("--crf", "train and decode with the linear-chain CRF")
      .flag("--grammar-crf", "train and decode with the gene grammar CRF (settings: grammar_crf.*)");
  if (parse_or_help(p, argc, argv)) return 0;
  if (p.flag_set("--crf") && p.flag_set("--grammar-crf"))
    throw ConfigError("finetune: give at most one of --crf and --grammar-crf");
  if (p.given("--init") == p.flag_set("--scratch"))
    throw ConfigError("finetune: give exactly one of --init CKPT or --scratch (see --help)");
  const GeneArgs c = gene_args(p, sets, "results/gene-finding/finetune");
  // Every setting is checked, and the data read, before --out is claimed: a refused run writes nothing.
  GeneFinetuneOptions fo = gene_finetune_options(c.cfg, progress_of(p));  // predict.select chooses, as in compare
  fo.crf = p.flag_set("--crf");
  if (p.flag_set("--grammar-crf")) fo.grammar_crf = c.cfg.grammar_crf;
  if (auto init = p.find("--init")) {
    check_init_encoder(*init, c.cfg.json);  // exists, is a whole checkpoint, has this run's encoder
    fo.init_checkpoint = *init;
  }
  CpuContext ctx(c.cfg.threads);
  const auto data = load_gene_data(c.cfg.data);
  check_gene_splits(c.cfg.data, data);
  const auto fine_train = train_subset(data.train(), c.cfg.data.train_fraction);
  std::optional<GeneGenome> genome;
  if (const auto fasta = gene_genome_fasta(c.cfg)) genome = GeneGenome::load(*fasta, data.valid(), data.test());
  fo.genome = genome ? &*genome : nullptr;
  // --init, --scratch and --crf are settings of the run too: a rerun with others is refused
  const nlohmann::json command = {
      {"command", "finetune"},
      {"init", fo.init_checkpoint ? nlohmann::json(std::filesystem::weakly_canonical(*fo.init_checkpoint).string())
                                  : nlohmann::json(nullptr)},
      {"crf", fo.crf},
      {"grammar_crf", fo.grammar_crf.has_value()}};
  claim_output_dir(c.out, c.cfg.json, command);
  GeneEvaluation ev;
  std::vector<GenePrediction> genome_pred;
  const auto r = with_encoder(c.cfg.model, [&]<class Enc>() {
    return finetune_gene<Enc>(ctx, fine_train, data.valid(), data.test(), fo, c.out, c.cfg.json, &ev, &genome_pred);
  });
  const std::filesystem::path out(c.out);
  if (!ev.predictions.empty()) {  // decoded with the setting the validation loci chose
    write_prediction_tsv(out / "test_predictions.tsv", data.test(), ev.predictions);
    write_prediction_gff3(out / "test_predictions.gff3", data.test(), ev.predictions);
  }
  if (genome && !genome_pred.empty())
    write_prediction_gff3(out / "genome_predictions.gff3", genome->records, genome_pred);
  nlohmann::json s = r.summary;
  s.erase("test");
  std::cout << s.dump(2) << "\n";
  return 0;
}

inline int cmd_evaluate(int argc, const char** argv, const std::vector<std::string>& sets) {
  ArgParser p("nucleo-gene-finding evaluate", "evaluate a fine-tuned checkpoint on a split");
  p.option("--checkpoint", "fine-tuned checkpoint (best.ckpt of a finetune/compare arm)", std::nullopt, "CKPT")
      .option("--split", "train, valid or test", "test")
      .optional_option("--out", "write the evaluation JSON here", "FILE")
      .optional_option("--predictions", "write the split's predictions as PREFIX.tsv and PREFIX.gff3", "PREFIX")
      .optional_option("--threads", "worker threads", "N")
      .flag("--select-decoder",
            "first choose the decoder on the valid split among the predict.select settings (highest valid MCC), "
            "then evaluate --split with the chosen setting only")
      .flag("--genome",
            "genome context: predict the genome the loci were cut from (genome.fasta, or the fly genome) and score "
            "inside the loci; with --select-decoder the choice is made inside the validation loci");
  if (parse_or_help(p, argc, argv)) return 0;
  const std::filesystem::path ckpt = p.get("--checkpoint");
  const auto header = read_checkpoint_header(ckpt);
  const std::string type = header.value("model", "");
  if (type != "GeneModel" && type != "GeneModel+CRF" && type != "GeneModel+GrammarCRF")
    throw ConfigError(fmt::format("{}: model type '{}' is not a fine-tuned gene model{}", ckpt.string(), type,
                                          type == "MlmNet" ? " (this is a pretraining checkpoint; fine-tune it first)" : ""));
  nlohmann::json cfg = default_gene_config();
  // Checkpoints written before a setting existed lack it; the defaults fill it in.
  cfg.merge_patch(header.at("config"));
  for (const auto& s : sets) apply_override(cfg, s);  // e.g. predict.decoder=grammar
  GeneExperimentConfig g = gene_experiment_config(std::move(cfg), fmt::format("{} (its configuration)", ckpt.string()));
  const std::string split_name = p.get("--split");
  const bool select = p.flag_set("--select-decoder"), in_genome = p.flag_set("--genome");
  if (in_genome && split_name == "train")
    throw ConfigError("evaluate --genome: scores the valid or test loci inside the genome, not train");
  const std::vector<GenePredictOptions> grid = select ? g.decoder_grid : std::vector<GenePredictOptions>{g.predict};
  if (grid.empty())
    throw ConfigError("evaluate --select-decoder: predict.select.enabled is false, no settings to choose from");
  if (auto out = p.find("--out")) {  // before the work, not after it
    const auto parent = std::filesystem::absolute(*out).parent_path();
    if (!std::filesystem::is_directory(parent) || ::access(parent.c_str(), W_OK) != 0)
      throw IoError(fmt::format("{}: cannot write here ({} is not a writable directory)", *out, parent.string()));
  }
  CpuContext ctx(p.given("--threads") ? static_cast<int>(p.get_int("--threads")) : 0);
  const auto data = load_gene_data(g.data);
  const auto& split = data.split(split_name);
  if (split.empty()) throw ConfigError(fmt::format("evaluate: the {} split holds no loci", split_name));
  const std::span<const GeneExample> none;
  std::optional<GeneGenome> genome;
  if (in_genome) {
    g.genome_enabled = true;
    genome = GeneGenome::load(*gene_genome_fasta(g), data.valid(), split_name == "test" ? split : none);
  }
  const nlohmann::json j = with_encoder(g.model, [&]<class Enc>() {
    const EncoderOptions enc = encoder_options_from_config(g.json);
    GeneModel<Enc> model = type == "GeneModel+GrammarCRF"
                               ? GeneModel<Enc>(g.grammar_crf, g.head_activation, enc)
                               : GeneModel<Enc>(type == "GeneModel+CRF", g.head_activation,
                                                g.crf_constraints.value_or(gene_structure_constraints()), enc);
    const auto rep = load_checkpoint(ckpt, model);
    const auto prefix = p.find("--predictions");
    nlohmann::json r;
    if (in_genome) {
      std::vector<GenePrediction> chosen;
      r = evaluate_gene_genome(ctx, model, *genome, grid, &chosen);
      if (split_name == "valid") r["split"] = r.at("valid");
      else r["split"] = r.at("test");
      if (prefix) write_prediction_gff3(*prefix + ".gff3", genome->records, chosen);
    } else {
      // the valid split chooses; --split is then scored once, with the chosen setting
      GeneEvaluation ev;
      const bool split_is_valid = split_name == "valid";
      r = grid.size() > 1 ? select_gene_decoder(ctx, model, data.valid(), split_is_valid ? none : split, grid, &ev)
                          : nlohmann::json{{"label", gene_decoder_setting_label(grid[0])},
                                           {"setting", gene_decoder_setting_json(grid[0])}};
      if (grid.size() == 1 || split_is_valid)
        ev = evaluate_gene(ctx, model, split,
                                   grid[grid.size() > 1 ? r.at("selected").get<std::size_t>() : 0], prefix.has_value());
      r["split"] = ev.to_json();
      r.erase("test");
      if (prefix) {
        write_prediction_tsv(*prefix + ".tsv", split, ev.predictions);
        write_prediction_gff3(*prefix + ".gff3", split, ev.predictions);
      }
    }
    r["checkpoint"] = ckpt.string();
    r["split_name"] = split_name;
    r["context"] = in_genome ? "genome" : "locus";
    r["load"] = rep.summary();
    return r;
  });
  if (auto out = p.find("--out")) nucleo::detail::write_file_atomic(*out, j.dump(2) + "\n");
  if (j.contains("grid")) {
    fmt::print("decoder settings on the valid loci{} (MCC / exon F1 / gene F1):\n", in_genome ? " inside the genome" : "");
    for (const auto& row : j.at("grid"))
      fmt::print("  {:<48} {:.4f} / {:.4f} / {:.4f}\n", row.at("label").get<std::string>(), row.at("valid_mcc").get<double>(),
                 row.at("valid_exon_f1").get<double>(), row.at("valid_gene_f1").get<double>());
  }
  const auto& e = j.at("split");
  fmt::print("{} split{}: {} loci, MCC {:.4f} (loci <= 14 kb: {:.4f}), exon F1 {:.4f}, gene F1 {:.4f} ({} of {} genes "
             "exact); decoder {}{}\n",
             split_name, in_genome ? " in genome context" : "", e.at("loci").get<int>(), e.at("mcc").get<double>(),
             e.at("mcc_short_loci").get<double>(), e.at("structure").at("exon").at("f1").get<double>(),
             e.at("structure").at("gene").at("f1").get<double>(), e.at("structure").at("gene").at("found").get<int>(),
             e.at("structure").at("gene").at("truth").get<int>(), j.at("label").get<std::string>(),
             j.contains("grid") ? " (chosen on the valid split)" : "");
  return 0;
}

inline int cmd_report(int argc, const char** argv, const std::vector<std::string>& sets) {
  const char* usage =
      "usage: nucleo-gene-finding report [--records DIR] [--check] FILE.md [FILE.md ...]\n\n"
      "Regenerate the tables between '<!-- report: NAME ARGS -->' and '<!-- /report -->' in Markdown files from\n"
      "the committed records (tables: summary R, seeds R, splice R, augustus, readme R..., genome-resources R...).\n\n"
      "  --records DIR  directory of the records, *.json (default docs/results)\n"
      "  --check        change nothing; exit 1 if a file's tables are not what the records give\n";
  std::filesystem::path dir = "docs/results";
  bool check = false;
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return std::cout << usage, 0;
    if (a == "--check") {
      check = true;
    } else if (a == "--records" || a.rfind("--records=", 0) == 0) {
      if (a == "--records" && i + 1 >= argc) throw ConfigError("report: --records needs a directory");
      dir = a == "--records" ? std::string(argv[++i]) : a.substr(10);
    } else if (a.rfind("--", 0) == 0) {
      throw ConfigError(fmt::format("report: unknown option '{}'\n{}", a, usage));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) throw ConfigError(fmt::format("report: name the Markdown files to update\n{}", usage));
  if (!sets.empty()) throw ConfigError("report takes no --set");
  if (!std::filesystem::is_directory(dir)) throw IoError(fmt::format("{}: not a directory of records", dir.string()));
  std::map<std::string, nlohmann::json> records;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    std::ifstream in(f.path());
    try {
      records[f.path().stem().string()] = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      throw IoError(fmt::format("{}: not valid JSON: {}", f.path().string(), e.what()));
    }
  }
  int stale = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw IoError(fmt::format("{}: cannot open", f));
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string updated = update_report_blocks(
        text, [&](const std::string& spec) { return gene_report_block(spec, records); }, f);
    if (updated == text) {
      fmt::print("{}: up to date\n", f);
    } else if (check) {
      fmt::print("{}: its tables differ from the records (run nucleo-gene-finding report {})\n", f, f);
      ++stale;
    } else {
      nucleo::detail::write_file_atomic(f, updated);
      fmt::print("{}: tables regenerated\n", f);
    }
  }
  return stale ? 1 : 0;
}

}  // namespace gene_cli

/// The whole program nucleo-gene-finding; `build` is recorded with compare's results.
inline int gene_finding_main(int argc, const char** argv, const BuildInfo& build = {}) {
  using namespace gene_cli;
  SubcommandProgram prog;
  prog.errors.program = "nucleo-gene-finding";
  prog.usage = kGeneFindingUsage;
  prog.commands = {
      {"compare", [&](int c, const char** v, const auto& sets) { return cmd_compare(c, v, sets, build); }},
      {"sample-efficiency", cmd_sample_efficiency},
      {"pretrain", cmd_pretrain},
      {"finetune", cmd_finetune},
      {"evaluate", cmd_evaluate},
      {"report", cmd_report}};
  return subcommand_main(argc, argv, prog);
}

}  // namespace nucleo::apps
