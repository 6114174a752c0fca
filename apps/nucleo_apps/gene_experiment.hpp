#pragma once
/// The gene-finding experiment of the paper (Table 1, first column) as library code, so that the
/// example program stays a thin command-line layer:
///
///   arms (config "arms"; all share the data, the model size and the fine-tuning settings)
///     spt                      MLM pretraining on the training loci (P steps), then fine-tuning (F steps)
///     spt_crf                  the same pretrained encoder, fine-tuned with the linear-chain CRF (F steps)
///     scratch                  no pretraining, P + F fine-tuning steps: equal compute with spt
///     scratch_crf              no pretraining, P + F fine-tuning steps with the CRF: equal compute
///                              with spt_crf, so that SPT's own effect with a CRF is measured
///     scratch_finetune_budget  no pretraining, F steps: the fine-tuning budget alone
///     spt_grammar_crf          the pretrained encoder fine-tuned with the gene grammar CRF (F steps;
///                              config "grammar_crf"); the CRF is its own decoder
///     scratch_grammar_crf      the same from scratch, P + F steps: equal compute
///   One MLM step and one fine-tuning step process the same number of nucleotides through the
///   same encoder (the heads differ by a few percent of the FLOPs), so "equal compute" is counted
///   in optimizer steps over the same batch shape (docs/results.md).
///
///   data  the default fly set (augustus-doc: train 486 loci, test 100) with 10% of the training
///         loci carved out for validation, or GenBank files given in the config; with
///         `data.train_fraction` < 1, fine-tuning uses that fraction of the training loci (chosen
///         by a hash of the locus name, nested: 10% is inside 25%), pretraining always all of them.
///         Empty validation or test splits are refused (choosing and scoring need both).
///
///   scoring  each arm's checkpoint and decoder setting are chosen on the validation loci, and the
///         test loci are scored once with that choice (gene_decoder_selection.hpp); with
///         "genome.enabled" the same is done in genome context: the genome the loci were cut from
///         (augustus-doc's chr2R.2M-7M.fa for the fly set, or "genome.fasta") is predicted whole
///         and scored inside the loci.
///
///   seeds "seeds": N runs the whole compare N times, replicate k with the stage seeds + k, each in
///         its own directory seed-<finetune seed>; the results hold every run and, per arm, the
///         mean and standard deviation of each figure over the runs.
///
/// Output directory: config.json, results.json (the record: configuration, every run, the
/// summary), results.md (the tables), seed-<s>/ per run: config.json, pretrain/, <arm>/
/// (checkpoints, metrics, learning curves, test_predictions.tsv/.gff3 of the chosen decoder,
/// genome_predictions.gff3 in genome context), results.json. Rerunning the same configuration
/// resumes: finished arms are kept as they are, an interrupted one continues from its checkpoint.
#include "nucleo/core/context.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo_apps/fly_data.hpp"
#include "nucleo/genes/gff3_writer.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo_apps/arm_budget.hpp"
#include "nucleo_apps/experiment_config.hpp"
#include "nucleo_apps/finetune_gene.hpp"
#include "nucleo_apps/gene_config.hpp"
#include "nucleo_apps/gene_decoder_selection.hpp"
#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo_apps/pretrain_mlm.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace nucleo::apps {

/// A readable name of an arm for tables and legends.
inline std::string gene_arm_title(const std::string& arm) {
  if (arm == "spt") return "SPT";
  if (arm == "spt_crf") return "SPT + CRF";
  if (arm == "scratch") return "scratch (equal compute)";
  if (arm == "scratch_crf") return "scratch + CRF (equal compute)";
  if (arm == "scratch_finetune_budget") return "scratch (fine-tuning budget)";
  if (arm == "spt_grammar_crf") return "SPT + grammar CRF";
  if (arm == "scratch_grammar_crf") return "scratch + grammar CRF (equal compute)";
  return arm;
}

/// The data of a configuration: the fly set by default, else the GenBank files it names.
inline GeneDataset load_gene_data(const GeneDataConfig& d) {
  if (d.train.empty() && d.test.empty()) return load_fly_dataset(d.valid_percent);
  if (d.train.empty() || d.test.empty()) throw ConfigError("data.train and data.test must be given together");
  return GeneDataset::load(GeneDataFiles{d.train, d.test}, d.valid_percent);
}

/// Refuses data that cannot be chosen on or scored: no training, validation or test loci.
inline void check_gene_splits(const GeneDataConfig& d, const GeneDataset& data) {
  const std::string train = d.train.empty() ? std::string("the fly set's genes.gb.train") : d.train;
  if (data.train().empty()) throw ConfigError(fmt::format("{}: no training loci", train));
  if (data.valid().empty())
    throw ConfigError(fmt::format("data.valid_percent = {} leaves no validation loci in {} (checkpoints and decoder "
                                  "settings are chosen on them; use 1..99)",
                                  d.valid_percent, train));
  if (data.test().empty())
    throw ConfigError(fmt::format("{}: no test loci to score", d.test.empty() ? std::string("the fly set's genes.gb.test")
                                                                              : d.test));
}

/// The configuration's "seeds" (replicates of the compare), checked: an integer in 1..1000.
inline int gene_seed_count(const GeneExperimentConfig& cfg) {
  if (cfg.seeds < 1 || cfg.seeds > 1000)
    throw ConfigError(fmt::format("seeds must be an integer in 1..1000 (runs of the whole compare), got {}", cfg.seeds));
  return static_cast<int>(cfg.seeds);
}

/// The configuration of replicate `k` (0-based): stage seeds + k, one seed.
inline GeneExperimentConfig gene_seed_config(const GeneExperimentConfig& cfg, int k) {
  GeneExperimentConfig c = cfg;
  c.seeds = 1;
  c.pretrain.seed = cfg.pretrain.seed + static_cast<std::uint64_t>(k);
  c.finetune.seed = cfg.finetune.seed + static_cast<std::uint64_t>(k);
  c.json["seeds"] = 1;
  c.json["pretrain"]["seed"] = c.pretrain.seed;
  c.json["finetune"]["seed"] = c.finetune.seed;
  return c;
}

/// The genome of genome-context scoring: none unless genome.enabled; "genome.fasta", or the fly
/// genome when the data are the default fly set.
inline std::optional<std::filesystem::path> gene_genome_fasta(const GeneExperimentConfig& cfg) {
  if (!cfg.genome_enabled) return std::nullopt;
  if (!cfg.genome_fasta.empty()) return std::filesystem::path(cfg.genome_fasta);
  if (!cfg.data.train.empty())
    throw ConfigError("genome.enabled with data.train given: name the genome the loci were cut from in genome.fasta");
  return find_fly_genome();
}

/// Fine-tuning options of the configuration (stage, CRF loss weight, head, decoders); the caller
/// sets the CRF, the initial checkpoint and the genome.
inline GeneFinetuneOptions gene_finetune_options(const GeneExperimentConfig& cfg, ProgressOptions progress = {}) {
  GeneFinetuneOptions fo;
  fo.stage = cfg.finetune;
  fo.crf_ce_weight = cfg.crf_ce_weight;
  fo.head_activation = cfg.head_activation;
  fo.predict = cfg.predict;
  fo.decoder_grid = cfg.decoder_grid;
  fo.progress = progress;
  return fo;
}

/// The loci of `train` whose name hashes below `fraction` (nested across fractions).
inline std::vector<GeneExample> train_subset(const std::vector<GeneExample>& train, double fraction) {
  if (checked_train_fraction(fraction) == 1.0) return train;
  std::vector<GeneExample> out;
  for (const auto& g : train)
    if (in_train_fraction(g.name, fraction)) out.push_back(g);
  if (out.empty())
    throw ConfigError(fmt::format("data.train_fraction {} leaves none of the {} training loci", fraction, train.size()));
  return out;
}

/// Write per-locus predictions as `id<TAB>sequence<TAB>labels` (the export format of nucleo-data).
inline void write_prediction_tsv(const std::filesystem::path& path, std::span<const GeneExample> loci,
                                 const std::vector<GenePrediction>& predictions) {
  std::vector<GeneExample> rows;
  rows.reserve(loci.size());
  for (std::size_t i = 0; i < loci.size() && i < predictions.size(); ++i)
    rows.push_back(GeneExample{loci[i].name, loci[i].sequence, predictions[i].labels});
  write_label_tsv(path, rows);
}

/// Write predictions as GFF3 genes (gene, mRNA, CDS with phase and mean confidence): prediction i
/// belongs to `records[i]` (loci, GeneExample, or genome records, FastaRecord: anything with a name).
template <class Records>
Gff3Summary write_prediction_gff3(const std::filesystem::path& path, const Records& records,
                                  const std::vector<GenePrediction>& predictions) {
  std::ostringstream out;
  write_gff3_header(out);
  Gff3Options o;
  Gff3Summary total;
  for (std::size_t i = 0; i < std::size(records) && i < predictions.size(); ++i) {
    const Gff3Summary s = write_gene_gff3(out, records[i].name, predictions[i].labels, predictions[i].confidence, o);
    o.first_gene = s.next_gene;
    total.merge(s);
  }
  nucleo::detail::write_file_atomic(path, out.str());
  return total;
}

/// The checks of a compare that need the data (the splits, the fine-tuning subset): a ConfigError
/// before anything is trained or any directory is claimed. (The settings themselves were checked
/// when the configuration was parsed.) Returns the arms.
inline std::vector<std::string> check_gene_compare_config(const GeneExperimentConfig& cfg, const GeneDataset& data) {
  (void)train_subset(data.train(), cfg.data.train_fraction);
  check_gene_splits(cfg.data, data);
  return cfg.arms;
}

/// Run the arms of `cfg` into `out` (one run, the stage seeds of `cfg`) and return results.json's
/// content. With `shared_pretrain` (an SPT stage already run on all training loci, e.g. by the
/// sample-efficiency experiment) the spt arms start from it instead of pretraining into
/// `out`/pretrain. With `genome`, every arm is also chosen and scored in genome context.
/// `provenance` (command line, machine, versions) is stored with the results.
template <class Encoder>
nlohmann::json run_gene_compare(CpuContext& ctx, const GeneExperimentConfig& cfg, const GeneDataset& data,
                                const std::filesystem::path& out, ProgressOptions progress = {},
                                const StageResult* shared_pretrain = nullptr, const GeneGenome* genome = nullptr,
                                const nlohmann::json& provenance = nullptr) {
  const StageConfig& pre = cfg.pretrain;
  const StageConfig& fin = cfg.finetune;
  const auto arms = check_gene_compare_config(cfg, data);
  const auto fine_train = train_subset(data.train(), cfg.data.train_fraction);
  // Only a configuration that passed every check above is saved (and claims `out`).
  claim_output_dir(out, cfg.json);

  // Arms finished by an earlier run of this configuration are kept as they are.
  nlohmann::json previous;
  if (std::filesystem::exists(out / "results.json")) {
    std::ifstream in(out / "results.json");
    previous = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  auto finished = [&](const std::string& arm) {
    return previous.is_object() && previous.contains("arms") && previous["arms"].contains(arm) &&
           previous["arms"][arm].contains("test_mcc");
  };

  nlohmann::json results;
  results["task"] = "gene_finding";
  results["data"] = {{"source", cfg.data.train.empty()
                                    ? "Drosophila melanogaster genes from Debian augustus-doc (real data)"
                                    : cfg.data.train},
                     {"train_loci", data.train().size()},
                     {"finetune_loci", fine_train.size()},
                     {"valid_loci", data.valid().size()},
                     {"test_loci", data.test().size()}};
  if (genome)
    results["genome"] = {{"fasta", genome->fasta.filename().string()},
                         {"records", genome->records.size()},
                         {"nucleotides", genome->nucleotides()}};
  results["model"] = cfg.model;
  results["threads"] = ctx.threads();
  results["seeds"] = {{"pretrain", pre.seed}, {"finetune", fin.seed}};
  results["provenance"] = previous.is_object() && previous.contains("provenance") ? previous["provenance"] : provenance;
  results["arms"] = nlohmann::json::object();
  results["arm_order"] = arms;  // JSON objects are sorted by key; tables follow the configuration's order

  std::optional<StageResult> pretrained;
  const bool need_pretrain = std::any_of(arms.begin(), arms.end(), [&](const std::string& a) {
    return a.rfind("spt", 0) == 0 && !finished(a);
  });
  if (need_pretrain && shared_pretrain) {
    pretrained = *shared_pretrain;
    results["pretrain"] = pretrained->summary;
  } else if (need_pretrain) {
    fmt::print(stderr, "== SPT: MLM pretraining on the {} training loci ({} steps)\n", data.train().size(), pre.steps);
    pretrained = pretrain_mlm<Encoder>(ctx, gene_examples(data.train()), gene_examples(data.valid()), pre, cfg.masking,
                                       out / "pretrain", cfg.json, progress);
    results["pretrain"] = pretrained->summary;
  } else if (previous.is_object() && previous.contains("pretrain")) {
    results["pretrain"] = previous["pretrain"];
  }

  for (const auto& arm : arms) {
    if (finished(arm)) {
      fmt::print(stderr, "== arm {}: finished earlier, kept ({})\n", arm, (out / "results.json").string());
      results["arms"][arm] = previous["arms"][arm];
      continue;
    }
    GeneFinetuneOptions fo = gene_finetune_options(cfg, progress);
    fo.crf = arm == "spt_crf" || arm == "scratch_crf";
    if (arm.ends_with("_grammar_crf")) fo.grammar_crf = cfg.grammar_crf;
    fo.genome = genome;
    const ArmBudget budget = arm_budget(arm, pre.steps, fin.steps);
    fo.stage.steps = budget.finetune_steps;
    if (budget.from_spt) fo.init_checkpoint = pretrained->best_checkpoint;
    fmt::print(stderr, "== arm {}: {} fine-tuning steps{}{}\n", arm, fo.stage.steps,
               fo.init_checkpoint ? " from the SPT encoder" : " from scratch",
               fo.grammar_crf ? ", with the grammar CRF" : fo.crf ? ", with the CRF" : "");
    GeneEvaluation test_ev;
    std::vector<GenePrediction> genome_pred;
    const StageResult r =
        finetune_gene<Encoder>(ctx, fine_train, data.valid(), data.test(), fo, out / arm, cfg.json, &test_ev, &genome_pred);
    if (!test_ev.predictions.empty()) {  // the chosen checkpoint, decoded as the validation loci chose
      write_prediction_tsv(out / arm / "test_predictions.tsv", data.test(), test_ev.predictions);
      write_prediction_gff3(out / arm / "test_predictions.gff3", data.test(), test_ev.predictions);
    }
    if (genome && !genome_pred.empty()) write_prediction_gff3(out / arm / "genome_predictions.gff3", genome->records, genome_pred);
    nlohmann::json row = r.summary;
    add_arm_budget(row, budget, r, pretrained);
    results["arms"][arm] = row;
    nucleo::detail::write_file_atomic(out / "results.json", results.dump(2) + "\n");
  }
  nucleo::detail::write_file_atomic(out / "results.json", results.dump(2) + "\n");
  return results;
}

/// The figures summarised over seeds: name and where each lies in an arm's results.
inline const std::vector<std::pair<std::string, std::string>>& gene_compare_figures() {
  static const std::vector<std::pair<std::string, std::string>> f = {
      {"valid_mcc", "/valid_mcc"},  // the checkpoint's, model decoder
      {"locus.valid_mcc", "/decoder_selection/valid_mcc"},
      {"locus.test_mcc", "/test/mcc"},
      {"locus.test_mcc_short", "/test/mcc_short_loci"},
      {"locus.exon_f1", "/test/structure/exon/f1"},
      {"locus.exon_sensitivity", "/test/structure/exon/sensitivity"},
      {"locus.exon_precision", "/test/structure/exon/precision"},
      {"locus.gene_f1", "/test/structure/gene/f1"},
      {"locus.genes_found", "/test/structure/gene/found"},
      {"locus.donor_f1", "/test/structure/donor/f1"},
      {"locus.acceptor_f1", "/test/structure/acceptor/f1"},
      {"locus.donor_precision", "/test/structure/donor/precision"},
      {"locus.donor_sensitivity", "/test/structure/donor/sensitivity"},
      {"locus.acceptor_precision", "/test/structure/acceptor/precision"},
      {"locus.acceptor_sensitivity", "/test/structure/acceptor/sensitivity"},
      {"genome.valid_mcc", "/genome/valid_mcc"},
      {"genome.test_mcc", "/genome/test/mcc"},
      {"genome.test_mcc_short", "/genome/test/mcc_short_loci"},
      {"genome.exon_f1", "/genome/test/structure/exon/f1"},
      {"genome.gene_f1", "/genome/test/structure/gene/f1"},
      {"genome.genes_found", "/genome/test/structure/gene/found"},
      {"genome.donor_f1", "/genome/test/structure/donor/f1"},
      {"genome.acceptor_f1", "/genome/test/structure/acceptor/f1"},
      {"genome.exon_precision", "/genome/test/structure/exon/precision"},
      {"genome.exon_sensitivity", "/genome/test/structure/exon/sensitivity"},
      {"seconds", "/seconds"},
      {"seconds_with_pretrain", "/seconds_with_pretrain"},
  };
  return f;
}

/// Mean, sample standard deviation (n - 1; null for one value), n and the values.
inline nlohmann::json mean_sd_json(const std::vector<double>& v) {
  nlohmann::json j;
  const double n = static_cast<double>(v.size());
  double mean = 0;
  for (double x : v) mean += x;
  mean /= n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  j["mean"] = mean;
  j["sd"] = v.size() > 1 ? nlohmann::json(std::sqrt(ss / (n - 1))) : nlohmann::json(nullptr);
  j["n"] = v.size();
  j["values"] = v;
  return j;
}

/// An arm's results as the record keeps them: every figure, and the test evaluations whole (per-class
/// figures, confusion matrices); the decoder scans keep each setting's label and validation figures
/// (the seed directory's results.json keeps the rest).
inline nlohmann::json record_arm_row(nlohmann::json row) {
  auto slim_selection = [](nlohmann::json& sel) {
    for (auto& r : sel["grid"]) r.erase("setting");
    if (sel.contains("valid"))
      sel["valid"] = {{"mcc", sel["valid"]["mcc"]}, {"mcc_short_loci", sel["valid"]["mcc_short_loci"]},
                      {"structure", sel["valid"]["structure"]}};
  };
  if (row.contains("decoder_selection")) slim_selection(row["decoder_selection"]);
  if (row.contains("genome")) slim_selection(row["genome"]);
  return row;
}

/// The record of a compare over seeds: the configuration, every run (results.json of each seed
/// directory, arms as record_arm_row keeps them), and per arm the mean and standard deviation of
/// each figure (gene_compare_figures) and the decoder each run chose.
inline nlohmann::json gene_compare_record(const GeneExperimentConfig& cfg, const std::vector<nlohmann::json>& runs,
                                          int seeds_planned, const nlohmann::json& provenance) {
  nlohmann::json rec;
  rec["kind"] = "gene_finding_compare";
  rec["description"] = cfg.description;
  rec["config"] = cfg.json;
  rec["provenance"] = provenance;
  rec["seeds_planned"] = seeds_planned;
  rec["complete"] = static_cast<int>(runs.size()) == seeds_planned;
  rec["arm_order"] = cfg.arms;
  rec["runs"] = nlohmann::json::array();
  for (nlohmann::json r : runs) {
    for (auto& [arm, row] : r["arms"].items()) row = record_arm_row(row);
    rec["runs"].push_back(std::move(r));
  }
  nlohmann::json summary = nlohmann::json::object();
  for (const std::string& arm : cfg.arms) {
    nlohmann::json a = nlohmann::json::object();
    for (const auto& [name, where] : gene_compare_figures()) {
      std::vector<double> v;
      for (const auto& r : runs) {
        if (!r.at("arms").contains(arm)) continue;
        const auto ptr = nlohmann::json::json_pointer(where);
        if (r.at("arms").at(arm).contains(ptr) && r.at("arms").at(arm).at(ptr).is_number())
          v.push_back(r.at("arms").at(arm).at(ptr).get<double>());
      }
      if (!v.empty()) a[name] = mean_sd_json(v);
    }
    nlohmann::json locus = nlohmann::json::array(), genome = nlohmann::json::array();
    for (const auto& r : runs) {
      if (!r.at("arms").contains(arm)) continue;
      const auto& row = r.at("arms").at(arm);
      locus.push_back(row.contains("decoder_selection") ? row["decoder_selection"]["label"] : nlohmann::json(nullptr));
      genome.push_back(row.contains("genome") ? row["genome"]["label"] : nlohmann::json(nullptr));
    }
    a["locus.decoder"] = locus;
    a["genome.decoder"] = genome;
    summary[arm] = a;
  }
  rec["summary"] = summary;
  return rec;
}

/// The seeds of a compare: replicate k runs with the stage seeds + k (gene_seed_config) in
/// `out`/seed-<finetune seed>. With `only_seed`, only the replicate of that finetune seed is run
/// (seeds can run in parallel processes; a later run without it collects them). Returns the record
/// (gene_compare_record), also written as `out`/results.json.
template <class Encoder>
nlohmann::json run_gene_compare_seeds(CpuContext& ctx, const GeneExperimentConfig& cfg, const GeneDataset& data,
                                      const std::filesystem::path& out, ProgressOptions progress = {},
                                      const nlohmann::json& provenance = nullptr,
                                      std::optional<std::uint64_t> only_seed = std::nullopt) {
  const int n = gene_seed_count(cfg);
  (void)check_gene_compare_config(cfg, data);
  const std::uint64_t first = cfg.finetune.seed;
  if (only_seed && (*only_seed < first || *only_seed >= first + static_cast<std::uint64_t>(n)))
    throw ConfigError(fmt::format("--only-seed {}: the configuration runs seeds {}..{} (finetune.seed + 0..seeds-1)",
                                  *only_seed, first, first + static_cast<std::uint64_t>(n) - 1));
  std::optional<GeneGenome> genome;
  if (const auto fasta = gene_genome_fasta(cfg)) {
    genome = GeneGenome::load(*fasta, data.valid(), data.test());
    fmt::print(stderr, "genome context: {} ({} records, {} nt); {} validation and {} test loci placed in it\n",
               fasta->string(), genome->records.size(), genome->nucleotides(), genome->valid.size(), genome->test.size());
  }
  claim_output_dir(out, cfg.json);
  std::vector<nlohmann::json> runs;
  for (int k = 0; k < n; ++k) {
    const std::uint64_t seed = first + static_cast<std::uint64_t>(k);
    const auto dir = out / fmt::format("seed-{}", seed);
    if (only_seed && *only_seed != seed) {  // another process's seed: collected when it is complete
      std::ifstream in(dir / "results.json");
      const auto r = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
      const nlohmann::json want = gene_seed_config(cfg, k).json;
      bool done = r.is_object() && r.contains("arms");
      for (const auto& arm : cfg.arms) done = done && r["arms"].contains(arm) && r["arms"][arm].contains("test_mcc");
      std::ifstream cfg_in(dir / "config.json");
      const auto saved = cfg_in ? nlohmann::json::parse(cfg_in, nullptr, false) : nlohmann::json();
      if (done && saved == want) runs.push_back(r);
      continue;
    }
    fmt::print(stderr, "==== seed {} ({} of {}): {}\n", seed, k + 1, n, dir.string());
    runs.push_back(run_gene_compare<Encoder>(ctx, gene_seed_config(cfg, k), data, dir, progress, nullptr,
                                             genome ? &*genome : nullptr, provenance));
  }
  const nlohmann::json rec = gene_compare_record(cfg, runs, n, provenance);
  nucleo::detail::write_file_atomic(out / "results.json", rec.dump(1) + "\n");
  return rec;
}


}  // namespace nucleo::apps
