#pragma once
/// Sample efficiency of SPT for gene finding (the paper's Figure 3, asked here of gene finding):
/// the arms of the compare (by default SPT and scratch at equal compute) fine-tuned on nested
/// fractions of the training loci, e.g. 10%, 25% and 100%.
///
///   pretraining  once, on all training loci (unlabelled sequence is cheap; the labels are what is
///                scarce), into `out`/pretrain; every fraction's spt arms start from it
///   fractions    config "sample_efficiency.fractions"; fraction f keeps the loci whose name hashes
///                below f (in_train_fraction), so 10% lies inside 25%; each fraction is a whole
///                compare (run_gene_compare) in `out`/train-<percent>pct with data.train_fraction = f
///   budget       the same steps at every fraction: a smaller set is seen for more epochs, and the
///                best validation epoch is kept (validation and test loci are the same for all)
///
/// Output: config.json, pretrain/, train-<p>pct/ (a compare directory each), and
/// sample_efficiency.json, .md (the table) and .svg (test MCC against the fraction, one line per arm).
/// Rerunning the same configuration resumes; another configuration in `out` is refused.
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo/train/line_plot_svg.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nucleo::apps {

/// The directory name of a fraction: train-10pct, train-12.5pct, train-100pct.
inline std::string sample_efficiency_dir_name(double fraction) {
  return fmt::format("train-{:g}pct", std::round(fraction * 1e4) / 100.0);
}

/// Run the sample-efficiency experiment of `cfg` into `out`; returns sample_efficiency.json's content.
template <class Encoder>
nlohmann::json run_gene_sample_efficiency(CpuContext& ctx, const GeneExperimentConfig& cfg, const GeneDataset& data,
                                          const std::filesystem::path& out, ProgressOptions progress = {}) {
  const auto& fractions = cfg.sample_efficiency_fractions;
  const auto& arms = cfg.arms;
  // Every fraction must leave loci to train on before hours are spent on pretraining.
  for (double f : fractions) (void)train_subset(data.train(), f);
  claim_output_dir(out, cfg.json);

  std::optional<StageResult> pretrained;
  if (std::any_of(arms.begin(), arms.end(), [](const std::string& a) { return a.rfind("spt", 0) == 0; })) {
    const StageConfig& pre = cfg.pretrain;
    fmt::print(stderr, "== SPT: MLM pretraining on all {} training loci ({} steps), shared by every fraction\n",
               data.train().size(), pre.steps);
    pretrained = pretrain_mlm<Encoder>(ctx, gene_examples(data.train()), gene_examples(data.valid()), pre, cfg.masking,
                                       out / "pretrain", cfg.json, progress);
  }

  nlohmann::json results;
  results["task"] = "gene_finding_sample_efficiency";
  results["model"] = cfg.model;
  results["threads"] = ctx.threads();
  results["arm_order"] = arms;
  results["train_loci"] = data.train().size();
  results["test_loci"] = data.test().size();
  if (pretrained) results["pretrain"] = pretrained->summary;
  results["fractions"] = nlohmann::json::array();
  for (double f : fractions) {
    const GeneExperimentConfig cf = cfg.with_train_fraction(f);
    const std::string name = sample_efficiency_dir_name(f);
    fmt::print(stderr, "== {:g}% of the training loci ({})\n", f * 100, name);
    const nlohmann::json r = run_gene_compare<Encoder>(ctx, cf, data, out / name, progress, pretrained ? &*pretrained : nullptr);
    results["data_source"] = r.at("data").at("source");
    nlohmann::json row;
    row["fraction"] = f;
    row["dir"] = name;
    row["finetune_loci"] = r.at("data").at("finetune_loci");
    row["arms"] = nlohmann::json::object();
    for (const auto& arm : arms) {
      const auto& a = r.at("arms").at(arm);
      nlohmann::json cell;
      for (const char* k : {"valid_mcc", "test_mcc", "test_mcc_short_loci", "total_steps", "finetune_steps", "pretrain_steps"})
        if (a.contains(k)) cell[k] = a.at(k);
      row["arms"][arm] = cell;
    }
    results["fractions"].push_back(row);
    nucleo::detail::write_file_atomic(out / "sample_efficiency.json", results.dump(2) + "\n");
  }
  return results;
}

/// The table: one row per fraction, one column per arm (test MCC, and on loci <= 14 kb).
inline std::string sample_efficiency_markdown(const nlohmann::json& results) {
  const auto arms = results.at("arm_order").get<std::vector<std::string>>();
  std::string s = fmt::format("Sample efficiency, gene finding: {} (model {}, {} threads); pretraining on all {} training "
                              "loci, fine-tuning on a fraction of them; test split: {} loci. Cells: test MCC (loci <= 14 kb).\n\n",
                              results.value("data_source", std::string("?")), results.at("model").get<std::string>(),
                              results.at("threads").get<int>(), results.at("train_loci").get<int>(),
                              results.at("test_loci").get<int>());
  s += "| training loci |";
  for (const auto& a : arms) s += fmt::format(" {} |", gene_arm_title(a));
  s += "\n|---|";
  for (std::size_t i = 0; i < arms.size(); ++i) s += "---|";
  s += "\n";
  for (const auto& row : results.at("fractions")) {
    s += fmt::format("| {:g}% ({}) |", row.at("fraction").get<double>() * 100, row.at("finetune_loci").get<int>());
    for (const auto& a : arms) {
      const auto& c = row.at("arms").at(a);
      s += c.contains("test_mcc")
               ? fmt::format(" {:.4f} ({:.4f}) |", c.at("test_mcc").get<double>(),
                             c.value("test_mcc_short_loci", std::nan("")))
               : std::string(" - |");
    }
    s += "\n";
  }
  return s;
}

/// The plot: test MCC against the percentage of training loci (log axis), one line per arm.
inline LinePlotSvg sample_efficiency_plot(const nlohmann::json& results) {
  LinePlotSvg p;
  p.title = fmt::format("Gene finding: sample efficiency (model {})", results.at("model").get<std::string>());
  p.x_label = "training loci used for fine-tuning (%)";
  p.y_label = "test MCC (9 classes)";
  p.log_x = true;
  for (const auto& row : results.at("fractions")) p.x_ticks.push_back(row.at("fraction").get<double>() * 100);
  for (const auto& a : results.at("arm_order").get<std::vector<std::string>>()) {
    LinePlotSvg::Series se;
    se.name = gene_arm_title(a);
    for (const auto& row : results.at("fractions")) {
      const auto& c = row.at("arms").at(a);
      se.x.push_back(row.at("fraction").get<double>() * 100);
      se.y.push_back(c.contains("test_mcc") ? c.at("test_mcc").get<double>() : std::nan(""));
    }
    p.series.push_back(std::move(se));
  }
  return p;
}

}  // namespace nucleo::apps
