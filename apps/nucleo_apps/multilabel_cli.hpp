#pragma once
/// `multilabel_main<K>(argc, argv, task)`: the command-line layer shared by nucleo-chromatin
/// (K = 125), nucleo-histone (K = 18) and nucleo-cpg (K = 7), so that each program is a few lines:
///
///   <program> compare  [--config F] [--out DIR] [--set key=value ...] [--threads N] [--quiet]
///   <program> pretrain [--config F] [--out DIR] [--set ...]
///   <program> finetune (--init CKPT | --scratch) [--config F] [--out DIR] [--set ...]
///   <program> evaluate --checkpoint CKPT [--split test] [--out FILE.json] [--threads N]
///
/// Data: BEND's BED + FASTA with `--set data.bed=F --set data.fasta=F`, else SYNTHETIC data (every
/// output says so; multilabel_experiment.hpp). Model sizes: tiny, small, medium (`with_cpu_encoder`:
/// three instantiations per program keep the build short). Every run saves its configuration next
/// to its results. Exit codes: 0 success, 1 error (message on stderr), 2 usage, 130 / 143 training
/// stopped by SIGINT / SIGTERM (the state is saved; the same command resumes).
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/detail/output_paths.hpp"
#include "nucleo_apps/cli.hpp"
#include "nucleo_apps/multilabel_experiment.hpp"
#include "nucleo_apps/subcommand.hpp"

#include <fmt/format.h>

#include "nucleo_apps/experiment_config.hpp"

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::apps {

namespace detail {

struct MultilabelCli {
  const MultilabelTaskInfo& task;
  std::string program;

  std::string default_out(std::string_view sub = {}) const {
    std::string s = "results/" + std::string(task.program.substr(task.program.find('-') + 1));
    if (!sub.empty()) s += "/" + std::string(sub);
    return s;
  }

  std::string usage() const {
    return fmt::format(
        "usage: {0} <command> [options]\n"
        "\n"
        "{1} (BEND, {2} labels per 512-bp sequence, mean AUROC) with task-specific self-pretraining.\n"
        "Data: BEND's BED + FASTA (--set data.bed=FILE --set data.fasta=FILE); without them a SYNTHETIC\n"
        "stand-in (motif rule, not biological data), and every output says SYNTHETIC.\n"
        "\n"
        "commands:\n"
        "  compare   the whole experiment: scratch vs SPT under equal compute (the paper's Table 1 column)\n"
        "  pretrain  MLM pretraining of the encoder on the task's own training sequences (SPT)\n"
        "  finetune  fine-tune from an SPT checkpoint (--init) or from scratch (--scratch)\n"
        "  evaluate  evaluate a fine-tuned checkpoint on a split (mean AUROC, AUPRC, per-label values as JSON)\n"
        "\n"
        "Common options: --config FILE (JSON; examples/configs/*.json), --set key=value (any field, repeatable,\n"
        "e.g. --set finetune.steps=500 --set model=medium), --out DIR, --threads N (default: NUCLEO_THREADS or all).\n"
        "Model sizes in this program: tiny, small, medium.\n",
        program, task.title, task.num_labels);
  }

  /// A sub-command's configuration, parsed, and its output directory.
  struct Args {
    MultilabelExperimentConfig cfg;
    std::string out;
  };

  /// The sub-command's configuration: the task's defaults, --config, --set, --threads; checked to be
  /// of this task and of a model size built into the program, then parsed.
  Args common(const ArgParser& p, const std::vector<std::string>& sets, const std::string& out) const {
    ExperimentArgs c = experiment_args(p, default_multilabel_config(task.name), sets, out);
    if (c.cfg.at("task").get<std::string>() != task.name)
      throw ConfigError(fmt::format("this configuration is for task '{}', but {} runs '{}'",
                                    c.cfg.at("task").get<std::string>(), program, task.name));
    const std::string model = c.cfg.at("model").get<std::string>();
    if (model != "tiny" && model != "small" && model != "medium")
      throw ConfigError(fmt::format("model size '{}' is not built into {} (available: tiny, small, medium)", model,
                                    program));
    return {multilabel_experiment_config(std::move(c.cfg), c.source), std::move(c.out)};
  }

  MultilabelDataset load_data(const MultilabelExperimentConfig& cfg) const {
    MultilabelDataset data = load_multilabel_data(cfg);
    fmt::print(stderr, "{}{}: train {} sequences, valid {}, test {}; {} labels; data: {}\n",
               data.synthetic ? "SYNTHETIC DATA - " : "", task.title, data.train.size(), data.valid.size(),
               data.test.size(), task.num_labels, data.source);
    return data;
  }
};

}  // namespace detail

/// The whole program for task `task_name` (K must equal its label count).
template <int K>
int multilabel_main(int argc, const char** argv, std::string_view task_name) {
  const MultilabelTaskInfo& task = multilabel_task(task_name);
  const std::string program(task.program);
  SubcommandProgram prog;
  prog.errors.program = program;
  if (const int rc = run_program(prog.errors, [&] {
        NUCLEO_CHECK(task.num_labels == K, "{}: built for K = {} but task {} has {} labels", program, K, task.name,
                     task.num_labels);
        return 0;
      }))
    return rc;
  const detail::MultilabelCli cli{task, program};
  prog.usage = cli.usage();
  prog.commands.emplace_back("compare", [&](int argc, const char** argv, const std::vector<std::string>& sets) {
    ArgParser p(program + " compare", "scratch vs SPT under equal compute");
    add_experiment_options(p);
    if (parse_or_help(p, argc, argv)) return 0;
    const auto c = cli.common(p, sets, cli.default_out());
    CpuContext ctx(c.cfg.threads);
    const MultilabelDataset data = cli.load_data(c.cfg);
    fmt::print(stderr, "{}: model {}; {} threads; output {}\n", program, c.cfg.model,
               ctx.threads(), c.out);
    const auto results = with_cpu_encoder(c.cfg.model, [&]<class Enc>() {
      return run_multilabel_compare<Enc, K>(ctx, c.cfg, data, c.out, progress_of(p));
    });
    const std::string table = multilabel_results_markdown(results);
    nucleo::detail::write_file_atomic(std::filesystem::path(c.out) / "results.md", table);
    std::cout << "\n" << table << "\nresults: " << c.out << "/results.json and results.md; per arm: " << c.out
              << "/<arm>/ (best.ckpt, metrics.jsonl, learning_curve.svg, result.json with per-label AUROC)\n";
    return 0;
  });

  prog.commands.emplace_back("pretrain", [&](int argc, const char** argv, const std::vector<std::string>& sets) {
    ArgParser p(program + " pretrain", "MLM pretraining (SPT) on the task's training sequences");
    add_experiment_options(p);
    if (parse_or_help(p, argc, argv)) return 0;
    const auto c = cli.common(p, sets, cli.default_out("pretrain"));
    CpuContext ctx(c.cfg.threads);
    const MultilabelDataset data = cli.load_data(c.cfg);
    const MultilabelExperimentConfig cfg = describe_data(c.cfg, data);
    claim_output_dir(c.out, cfg.json, {{"command", "pretrain"}});  // after every check: a refused run writes nothing
    const auto r = with_cpu_encoder(cfg.model, [&]<class Enc>() {
      return pretrain_mlm<Enc>(ctx, unlabelled(data.train), unlabelled(data.valid), cfg.pretrain, cfg.masking, c.out,
                               cfg.json,
                               progress_of(p));
    });
    std::cout << r.summary.dump(2) << "\n";
    return 0;
  });

  prog.commands.emplace_back("finetune", [&](int argc, const char** argv, const std::vector<std::string>& sets) {
    ArgParser p(program + " finetune", "fine-tune on the task (from SPT or from scratch)");
    add_experiment_options(p);
    p.optional_option("--init", "SPT checkpoint whose encoder (0.*) initialises the model", "CKPT")
        .flag("--scratch", "start from a random initialisation");
    if (parse_or_help(p, argc, argv)) return 0;
    if (p.given("--init") == p.flag_set("--scratch"))
      throw ConfigError("finetune: give exactly one of --init CKPT or --scratch (see --help)");
    const auto c = cli.common(p, sets, cli.default_out("finetune"));
    CpuContext ctx(c.cfg.threads);
    const MultilabelDataset data = cli.load_data(c.cfg);
    const MultilabelExperimentConfig cfg = describe_data(c.cfg, data);
    MultilabelFinetuneOptions fo;
    fo.stage = cfg.finetune;
    if (auto init = p.find("--init")) {
      read_checkpoint_header(*init);  // exists and is a whole checkpoint
      fo.init_checkpoint = *init;
    }
    fo.head_activation = cfg.head_activation;
    fo.progress = progress_of(p);
    const auto fine_train = multilabel_train_subset(data, cfg.data.train_fraction);
    // after every check (a refused run writes nothing); --init/--scratch are settings of the run too
    claim_output_dir(c.out, cfg.json,
                     {{"command", "finetune"},
                      {"init", fo.init_checkpoint
                                   ? nlohmann::json(std::filesystem::weakly_canonical(*fo.init_checkpoint).string())
                                   : nlohmann::json(nullptr)}});
    const auto r = with_cpu_encoder(cfg.model, [&]<class Enc>() {
      return finetune_multilabel<Enc, K>(ctx, fine_train, data.valid, data.test, fo, c.out, cfg.json);
    });
    nlohmann::json s = r.summary;
    s.erase("test");
    s["data"] = data.source;
    std::cout << s.dump(2) << "\n";
    return 0;
  });

  prog.commands.emplace_back("evaluate", [&](int argc, const char** argv, const std::vector<std::string>& sets) {
    ArgParser p(program + " evaluate", "evaluate a fine-tuned checkpoint on a split");
    p.option("--checkpoint", "fine-tuned checkpoint (best.ckpt of a finetune/compare arm)", std::nullopt, "CKPT")
        .option("--split", "train, valid or test", "test")
        .optional_option("--out", "write the evaluation JSON here", "FILE")
        .optional_option("--threads", "worker threads", "N");
    if (parse_or_help(p, argc, argv)) return 0;
    if (auto out = p.find("--out")) nucleo::detail::check_output_writable(*out, "evaluation output");  // before the work
    const std::filesystem::path ckpt = p.get("--checkpoint");
    const auto header = read_checkpoint_header(ckpt);
    const std::string type = header.value("model", "");
    if (type != kSequenceNetType)
      throw ConfigError(fmt::format("{}: model type '{}' is not a fine-tuned multilabel model{}", ckpt.string(), type,
                                    type == "MlmNet" ? " (this is a pretraining checkpoint; fine-tune it first)" : ""));
    nlohmann::json cfg = default_multilabel_config(task.name);
    cfg.merge_patch(header.value("config", nlohmann::json::object()));
    if (cfg.at("task").get<std::string>() != task.name)
      throw ConfigError(fmt::format("{}: a checkpoint of task '{}', not '{}'", ckpt.string(),
                                    cfg.at("task").get<std::string>(), task.name));
    for (const auto& s : sets) apply_override(cfg, s);  // e.g. other data paths
    const MultilabelExperimentConfig m =
        multilabel_experiment_config(std::move(cfg), fmt::format("{} (its configuration)", ckpt.string()));
    CpuContext ctx(p.given("--threads") ? static_cast<int>(p.get_int("--threads")) : 0);
    const MultilabelDataset data = cli.load_data(m);
    const auto& split = data.split(p.get("--split"));
    const nlohmann::json j = with_cpu_encoder(m.model, [&]<class Enc>() {
      using S = typename Enc::scalar_type;
      SequenceNet<Enc, K> model(Enc(), SequenceClassifier<Enc::channels, K, 64, S>(m.head_activation));
      const auto rep = load_checkpoint(ckpt, model);
      const auto batch = m.finetune.batch_size;
      nlohmann::json r = evaluate_multilabel(ctx, model, split, K, batch).to_json();
      r["checkpoint"] = ckpt.string();
      r["split"] = p.get("--split");
      r["data"] = data.source;
      r["synthetic"] = data.synthetic;
      r["load"] = rep.summary();
      return r;
    });
    if (auto out = p.find("--out")) nucleo::detail::write_file_atomic(*out, j.dump(2) + "\n");
    for (const auto& w : j.at("warnings")) fmt::print(stderr, "warning: {}\n", w.get<std::string>());
    auto num = [](const nlohmann::json& v) { return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : "-"; };
    fmt::print("{}{} split: {} sequences, mean AUROC {} ({} of {} labels defined), mean AUPRC {}\n",
               data.synthetic ? "SYNTHETIC data, " : "", p.get("--split"), j.at("sequences").get<Index>(),
               num(j.at("mean_auroc")), j.at("auroc_defined_labels").get<long>(), K, num(j.at("mean_auprc")));
    return 0;
  });

  return subcommand_main(argc, argv, prog);
}

}  // namespace nucleo::apps
