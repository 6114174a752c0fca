#pragma once
/// The gene-finding experiment of the paper (Table 1, first column) as library code, so that the
/// example program stays a thin command-line layer:
///
///   arms (config "arms"; all share the data, the model size and the fine-tuning settings)
///     spt                      MLM pretraining on the training loci (P steps), then fine-tuning (F steps)
///     spt_crf                  the same pretrained encoder, fine-tuned with the linear-chain CRF (F steps)
///     scratch                  no pretraining, P + F fine-tuning steps: equal compute with spt
///     scratch_finetune_budget  no pretraining, F steps: the fine-tuning budget alone
///   One MLM step and one fine-tuning step process the same number of nucleotides through the
///   same encoder (the heads differ by a few percent of the FLOPs), so "equal compute" is counted
///   in optimizer steps over the same batch shape (docs/results.md).
///
///   data  the default fly set (augustus-doc: train 486 loci, test 100) with 10% of the training
///         loci carved out for validation, or GenBank files given in the config; with
///         `data.train_fraction` < 1, fine-tuning uses that fraction of the training loci (chosen
///         by a hash of the locus name, nested: 10% is inside 25%), pretraining always all of them.
///
/// Output directory: config.json, pretrain/, <arm>/ (checkpoints, metrics, learning curves,
/// result.json, test_predictions.tsv), results.json and results.md (the table).
#include "nucleo/core/context.hpp"
#include "nucleo/data/gene_dataset.hpp"
#include "nucleo/data/gff3_writer.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/train/experiment_config.hpp"
#include "nucleo/train/finetune_gene.hpp"
#include "nucleo/train/gene_model.hpp"
#include "nucleo/train/model_zoo.hpp"
#include "nucleo/train/pretrain_mlm.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nucleo {

inline nlohmann::json default_gene_config() {
  StageConfig pre, fin;
  pre.steps = 300;
  fin.steps = 300;
  nlohmann::json j;
  j["task"] = "gene_finding";
  j["description"] = "";
  j["model"] = "small";
  j["threads"] = 0;
  j["data"] = {{"train", ""}, {"test", ""}, {"valid_percent", 10}, {"train_fraction", 1.0}};
  j["pretrain"] = pre;
  j["finetune"] = fin;
  j["mask"] = {{"p", 0.15}, {"mask_fraction", 0.8}, {"random_fraction", 0.1}};
  j["head_activation"] = "gelu";
  j["crf_ce_weight"] = 1.0;
  j["predict"] = {{"window", 8192}, {"overlap", 1024}, {"batch_size", 4}, {"decoder", "model"}, {"tie_intron_strands", false}, {"noncoding_ends", true}, {"gene_penalty", 0.0}, {"one_gene_per_record", false}, {"deep_intron_penalty", nullptr},
                  // compare: the decoder settings scanned per arm, chosen by valid MCC (decoder_grid_from_config)
                  {"select", {{"enabled", true},
                              {"gene_penalty", {0.0, 160.0, 640.0, 2560.0}},
                              {"deep_intron_penalty", {nullptr, 80.0, 320.0, 1280.0}},
                              {"one_gene_per_record", {false}}}}};
  j["arms"] = {"scratch", "spt", "spt_crf", "scratch_finetune_budget"};
  j["sample_efficiency"] = {{"fractions", {0.1, 0.25, 1.0}}};  // only the sample-efficiency command reads it
  return j;
}

inline const std::vector<std::string>& gene_arm_names() {
  static const std::vector<std::string> names = {"scratch", "spt", "spt_crf", "scratch_finetune_budget"};
  return names;
}

/// The data of a configuration: the fly set by default, else the GenBank files it names.
inline GeneDataset load_gene_data(const nlohmann::json& cfg) {
  const auto& d = cfg.at("data");
  const int vp = d.at("valid_percent").get<int>();
  const std::string train = d.at("train").get<std::string>(), test = d.at("test").get<std::string>();
  if (train.empty() && test.empty()) return GeneDataset::load_default(vp);
  if (train.empty() || test.empty()) throw ConfigError("data.train and data.test must be given together");
  return GeneDataset::load(GeneDataFiles{train, test}, vp);
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

inline GenePredictOptions predict_from_config(const nlohmann::json& cfg) {
  GenePredictOptions p;
  p.window.window = cfg.at("predict").at("window").get<Index>();
  p.window.overlap = cfg.at("predict").at("overlap").get<Index>();
  p.window.batch_size = cfg.at("predict").at("batch_size").get<Index>();
  // Configurations saved before the grammar decoder existed have no "decoder": they used the model's.
  p.decoder = gene_decoder_from_name(cfg.at("predict").value("decoder", std::string("model")));
  p.tie_intron_strands = cfg.at("predict").value("tie_intron_strands", false);
  p.noncoding_ends = cfg.at("predict").value("noncoding_ends", true);
  p.grammar.gene_penalty = cfg.at("predict").value("gene_penalty", 0.0);
  p.grammar.one_gene = cfg.at("predict").value("one_gene_per_record", false);
  if (!(p.grammar.gene_penalty >= 0))
    throw ConfigError(fmt::format("predict.gene_penalty must be a number >= 0, got {}", p.grammar.gene_penalty));
  // null (the default): no deep intron stretches; a number >= 0: their price (GeneGrammarOptions).
  if (const auto d = cfg.at("predict").value("deep_intron_penalty", nlohmann::json()); !d.is_null()) {
    if (!d.is_number() || !(d.get<double>() >= 0))
      throw ConfigError(fmt::format("predict.deep_intron_penalty must be null (off) or a number >= 0, got {}", d.dump()));
    p.grammar.deep_intron_penalty = d.get<double>();
  }
  return p;
}

/// The decoder settings that compare scans for each arm (predict.select): the model decoder, and the
/// grammar decoder at every combination of the listed gene_penalty, deep_intron_penalty (null: off)
/// and one_gene_per_record values, each on top of the configuration's predict settings. Empty when
/// predict.select.enabled is false or the configuration has no predict.select (saved before it).
inline std::vector<GenePredictOptions> decoder_grid_from_config(const nlohmann::json& cfg) {
  const GenePredictOptions base = predict_from_config(cfg);
  std::vector<GenePredictOptions> grid;
  const auto& pr = cfg.at("predict");
  if (!pr.contains("select") || !pr.at("select").value("enabled", false)) return grid;
  const auto& sel = pr.at("select");
  auto list = [&](const char* key) {
    const auto& v = sel.at(key);
    if (!v.is_array() || v.empty())
      throw ConfigError(fmt::format("predict.select.{} must be a non-empty list, got {}", key, v.dump()));
    return v;
  };
  for (const auto& g : list("gene_penalty"))
    if (!g.is_number() || !(g.get<double>() >= 0))
      throw ConfigError(fmt::format("predict.select.gene_penalty: {} is not a number >= 0", g.dump()));
  for (const auto& d : list("deep_intron_penalty"))
    if (!d.is_null() && (!d.is_number() || !(d.get<double>() >= 0)))
      throw ConfigError(fmt::format("predict.select.deep_intron_penalty: {} is neither null (off) nor a number >= 0", d.dump()));
  for (const auto& b : list("one_gene_per_record"))
    if (!b.is_boolean()) throw ConfigError(fmt::format("predict.select.one_gene_per_record: {} is not true or false", b.dump()));
  GenePredictOptions m = base;
  m.decoder = GeneDecoder::model;
  grid.push_back(m);
  for (const auto& b : sel.at("one_gene_per_record"))
    for (const auto& d : sel.at("deep_intron_penalty"))
      for (const auto& g : sel.at("gene_penalty")) {
        GenePredictOptions o = base;
        o.decoder = GeneDecoder::grammar;
        o.grammar.gene_penalty = g.get<double>();
        o.grammar.deep_intron_penalty = d.is_null() ? std::nullopt : std::optional<double>(d.get<double>());
        o.grammar.one_gene = b.get<bool>();
        grid.push_back(o);
      }
  return grid;
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

/// Write per-locus predictions as GFF3 genes (gene, mRNA, CDS with phase and mean confidence).
inline Gff3Summary write_prediction_gff3(const std::filesystem::path& path, std::span<const GeneExample> loci,
                                         const std::vector<GenePrediction>& predictions) {
  std::ostringstream out;
  write_gff3_header(out);
  Gff3Options o;
  Gff3Summary total;
  for (std::size_t i = 0; i < loci.size() && i < predictions.size(); ++i) {
    const Gff3Summary s = write_gene_gff3(out, loci[i].name, predictions[i].labels, predictions[i].confidence, o);
    o.first_gene = s.next_gene;
    total.merge(s);
  }
  detail::write_file_atomic(path, out.str());
  return total;
}

/// Run the arms of `cfg` into `out` and return results.json's content. With `shared_pretrain`
/// (an SPT stage already run on all training loci, e.g. by the sample-efficiency experiment) the
/// spt arms start from it instead of pretraining into `out`/pretrain.
template <class Encoder>
nlohmann::json run_gene_compare(CpuContext& ctx, const nlohmann::json& cfg, const GeneDataset& data,
                                const std::filesystem::path& out, ProgressOptions progress = {},
                                const StageResult* shared_pretrain = nullptr) {
  const StageConfig pre = cfg.at("pretrain").get<StageConfig>();
  const StageConfig fin = cfg.at("finetune").get<StageConfig>();
  const auto arms = arms_from_config(cfg, gene_arm_names());
  const auto fine_train = train_subset(data.train(), cfg.at("data").at("train_fraction").get<double>());
  // An unknown predict.decoder or a bad predict.select is refused before anything is trained.
  const std::vector<GenePredictOptions> decoder_grid = decoder_grid_from_config(cfg);
  // Only a configuration that passed every check above is saved (and claims `out`).
  claim_output_dir(out, cfg);

  nlohmann::json results;
  results["task"] = "gene_finding";
  results["data"] = {{"source", cfg.at("data").at("train").get<std::string>().empty()
                                    ? "Drosophila melanogaster genes from Debian augustus-doc (real data)"
                                    : cfg.at("data").at("train").get<std::string>()},
                     {"train_loci", data.train().size()},
                     {"finetune_loci", fine_train.size()},
                     {"valid_loci", data.valid().size()},
                     {"test_loci", data.test().size()}};
  results["model"] = cfg.at("model");
  results["threads"] = ctx.threads();
  results["arms"] = nlohmann::json::object();
  results["arm_order"] = arms;  // JSON objects are sorted by key; tables follow the configuration's order

  std::optional<StageResult> pretrained;
  const bool need_pretrain = std::any_of(arms.begin(), arms.end(), [](const std::string& a) { return a.rfind("spt", 0) == 0; });
  if (need_pretrain && shared_pretrain) {
    pretrained = *shared_pretrain;
    results["pretrain"] = pretrained->summary;
  } else if (need_pretrain) {
    fmt::print(stderr, "== SPT: MLM pretraining on the {} training loci ({} steps)\n", data.train().size(), pre.steps);
    pretrained = pretrain_mlm<Encoder>(ctx, gene_examples(data.train()), gene_examples(data.valid()), pre,
                                       masking_from_config(cfg), out / "pretrain", cfg, progress);
    results["pretrain"] = pretrained->summary;
  }

  for (const auto& arm : arms) {
    GeneFinetuneOptions fo;
    fo.stage = fin;
    fo.crf = arm == "spt_crf";
    fo.crf_ce_weight = cfg.at("crf_ce_weight").get<double>();
    fo.head_activation = activation_from_config(cfg);
    fo.predict = predict_from_config(cfg);
    fo.decoder_grid = decoder_grid;
    fo.progress = progress;
    std::int64_t total = fin.steps;
    if (arm == "spt" || arm == "spt_crf") {
      fo.init_checkpoint = pretrained->best_checkpoint;
      total += pre.steps;
    } else if (arm == "scratch") {
      fo.stage.steps = fin.steps + pre.steps;
      total = fo.stage.steps;
    }
    fmt::print(stderr, "== arm {}: {} fine-tuning steps{}\n", arm, fo.stage.steps,
               fo.init_checkpoint ? " from the SPT encoder" : " from scratch");
    GeneEvaluation test_ev, chosen_ev;
    const StageResult r =
        finetune_gene<Encoder>(ctx, fine_train, data.valid(), data.test(), fo, out / arm, cfg, &test_ev, &chosen_ev);
    if (!test_ev.predictions.empty()) {
      write_prediction_tsv(out / arm / "test_predictions.tsv", data.test(), test_ev.predictions);
      write_prediction_gff3(out / arm / "test_predictions.gff3", data.test(), test_ev.predictions);
    }
    if (!chosen_ev.predictions.empty()) {  // the same checkpoint, decoded as the validation loci chose
      write_prediction_tsv(out / arm / "test_predictions.chosen.tsv", data.test(), chosen_ev.predictions);
      write_prediction_gff3(out / arm / "test_predictions.chosen.gff3", data.test(), chosen_ev.predictions);
    }
    nlohmann::json row = r.summary;
    row["total_steps"] = total;
    row["finetune_steps"] = fo.stage.steps;
    row["pretrain_steps"] = fo.init_checkpoint ? pre.steps : 0;
    if (pretrained && fo.init_checkpoint) row["seconds_with_pretrain"] = r.seconds + pretrained->seconds;
    if (r.train.test) row["test_mcc_short_loci"] = r.train.test->extra.at("mcc_short_loci");
    results["arms"][arm] = row;
    detail::write_file_atomic(out / "results.json", results.dump(2) + "\n");
  }
  return results;
}

/// The results table as Markdown (one row per arm).
inline std::string gene_results_markdown(const nlohmann::json& results) {
  std::string s = fmt::format("Gene finding, {} (model {}, {} threads); test split: {} loci\n\n",
                              results.at("data").at("source").get<std::string>(), results.at("model").get<std::string>(),
                              results.at("threads").get<int>(), results.at("data").at("test_loci").get<int>());
  s += "| arm | steps (pretrain + finetune) | valid MCC | test MCC | test MCC, loci <= 14 kb | "
       "test MCC, grammar decoder (all / <= 14 kb) | seconds |\n";
  s += "|---|---|---|---|---|---|---|\n";
  for (const auto& arm_name : results.at("arm_order")) {
    const std::string arm = arm_name.get<std::string>();
    if (!results.at("arms").contains(arm)) continue;  // not run yet (an interrupted compare)
    const auto& r = results.at("arms").at(arm);
    const double secs = r.contains("seconds_with_pretrain") ? r.at("seconds_with_pretrain").get<double>()
                                                            : r.at("seconds").get<double>();
    const std::string grammar =
        r.contains("test_grammar") ? fmt::format("{:.4f} / {:.4f}", r.at("test_grammar").at("mcc").get<double>(),
                                                 r.at("test_grammar").at("mcc_short_loci").get<double>())
                                   : "-";
    s += fmt::format("| {} | {} + {} | {:.4f} | {} | {} | {} | {:.0f} |\n", arm, r.at("pretrain_steps").get<std::int64_t>(),
                     r.at("finetune_steps").get<std::int64_t>(), r.at("valid_mcc").get<double>(),
                     r.contains("test_mcc") ? fmt::format("{:.4f}", r.at("test_mcc").get<double>()) : "-",
                     r.contains("test_mcc_short_loci") ? fmt::format("{:.4f}", r.at("test_mcc_short_loci").get<double>()) : "-",
                     grammar, secs);
  }
  // The decoder each arm's validation loci chose (predict.select), and what it scores on test.
  std::string sel;
  for (const auto& arm_name : results.at("arm_order")) {
    const std::string arm = arm_name.get<std::string>();
    if (!results.at("arms").contains(arm) || !results.at("arms").at(arm).contains("decoder_selection")) continue;
    const auto& d = results.at("arms").at(arm).at("decoder_selection");
    sel += fmt::format("| {} | {} | {:.4f} | {:.4f} | {:.4f} |\n", arm, d.at("label").get<std::string>(),
                       d.at("valid_mcc").get<double>(), d.at("test_mcc").get<double>(),
                       d.at("test_mcc_short_loci").get<double>());
  }
  if (!sel.empty())
    s += "\nDecoder chosen per arm by validation MCC among the predict.select settings (the whole scan is in "
         "results.json, decoder_selection.grid):\n\n| arm | decoder | valid MCC | test MCC | test MCC, loci <= 14 kb |\n"
         "|---|---|---|---|---|\n" + sel;
  return s;
}

}  // namespace nucleo
