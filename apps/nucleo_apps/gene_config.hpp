#pragma once
/// The configuration of the gene-finding experiment: its defaults (`default_gene_config`), and
/// `GeneExperimentConfig`, the merged JSON (defaults, --config file, --set) parsed once into typed
/// settings at the program's boundary; the experiment code below it takes the struct.
///
/// Reading a file or a --set checks every key, type and repetition (experiment_config.hpp); parsing
/// then checks the values (stage ranges, arm names, decoder settings, fractions), and its errors
/// name the setting and, where given, the configuration's source. The JSON itself is kept
/// (`GeneExperimentConfig::json`): it is what config.json beside the results and the checkpoints
/// hold, unchanged.
#include "nucleo/core/error.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/heads/activation.hpp"
#include "nucleo_apps/experiment_config.hpp"
#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/stage_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nucleo::apps {

inline nlohmann::json default_gene_config() {
  StageConfig pre, fin;
  pre.steps = 300;
  fin.steps = 300;
  nlohmann::json j;
  j["task"] = "gene_finding";
  j["description"] = "";
  j["model"] = "small";
  j["encoder"] = {{"dilation_cycle", 6}, {"dilation_growth", 2}, {"max_dilation", 32}};  // BEND's schedule
  j["threads"] = 0;
  j["seeds"] = 1;  // replicates of the whole compare (stage seeds + 0, 1, ...)
  // genome context: the genome the loci were cut from ("" = the fly genome for the default data)
  j["genome"] = {{"enabled", false}, {"fasta", ""}};
  j["data"] = {{"train", ""}, {"test", ""}, {"valid_percent", 10}, {"train_fraction", 1.0}};
  j["pretrain"] = pre;
  j["finetune"] = fin;
  j["mask"] = {{"p", 0.15}, {"mask_fraction", 0.8}, {"random_fraction", 0.1}};
  j["head_activation"] = "gelu";
  j["crf_ce_weight"] = 1.0;
  j["grammar_crf"] = grammar_crf_options_json(GeneGrammarCrfOptions{});  // the *_grammar_crf arms
  j["predict"] = {{"window", 8192}, {"overlap", 1024}, {"batch_size", 4}, {"decoder", "model"}, {"tie_intron_strands", false}, {"noncoding_ends", true}, {"gene_penalty", 0.0}, {"one_gene_per_record", false}, {"deep_intron_penalty", nullptr},
                  // compare: the decoder settings scanned per arm, chosen by valid MCC (decoder_grid_from_config)
                  {"select", {{"enabled", true},
                              {"gene_penalty", {0.0, 160.0, 640.0, 2560.0}},
                              {"deep_intron_penalty", {nullptr, 80.0, 320.0, 1280.0}},
                              {"one_gene_per_record", {false, true}}}}};
  j["arms"] = {"scratch", "scratch_crf", "spt", "spt_crf", "scratch_finetune_budget"};
  j["sample_efficiency"] = {{"fractions", {0.1, 0.25, 1.0}}};  // only the sample-efficiency command reads it
  return j;
}

inline const std::vector<std::string>& gene_arm_names() {
  static const std::vector<std::string> names = {"scratch", "scratch_crf", "spt", "spt_crf", "scratch_finetune_budget",
                                                 "spt_grammar_crf", "scratch_grammar_crf"};
  return names;
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

/// The configuration's "sample_efficiency.fractions", checked (each in (0, 1]), sorted and without repeats.
inline std::vector<double> sample_efficiency_fractions(const nlohmann::json& cfg) {
  const auto& j = cfg.at("sample_efficiency").at("fractions");
  if (!j.is_array() || j.empty())
    throw ConfigError("sample_efficiency.fractions must be a non-empty list of fractions in (0, 1], e.g. [0.1, 0.25, 1]");
  std::vector<double> f;
  for (const auto& v : j) {
    if (!v.is_number() || !(v.get<double>() > 0.0) || v.get<double>() > 1.0)
      throw ConfigError(fmt::format("sample_efficiency.fractions: {} is not a fraction in (0, 1]", v.dump()));
    f.push_back(v.get<double>());
  }
  std::sort(f.begin(), f.end());
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return f;
}

/// Where the data come from and how they are split.
struct GeneDataConfig {
  std::string train, test;    ///< GenBank files; both empty: the fly set of augustus-doc
  int valid_percent = 10;     ///< training loci carved into validation (by a hash of the name)
  double train_fraction = 1;  ///< of the training loci used for fine-tuning, in (0, 1]
};

/// A gene-finding configuration, parsed once (gene_experiment_config).
struct GeneExperimentConfig {
  nlohmann::json json;  ///< the merged configuration as given: saved as config.json, kept in checkpoints
  std::string description;
  std::string model;                ///< model size (model_zoo.hpp)
  int threads = 0;                  ///< 0: NUCLEO_THREADS or all cores
  std::int64_t seeds = 1;           ///< replicates of compare (gene_seed_count checks the range)
  bool genome_enabled = false;      ///< genome context
  std::string genome_fasta;         ///< "" = the fly genome for the default data
  GeneDataConfig data;
  StageConfig pretrain, finetune;
  MlmMaskingOptions masking;        ///< the seed comes from the stage
  Activation head_activation = Activation::gelu;
  double crf_ce_weight = 1.0;
  GeneGrammarCrfOptions grammar_crf;               ///< the *_grammar_crf arms' CRF
  GenePredictOptions predict;                      ///< predict.*
  std::vector<GenePredictOptions> decoder_grid;    ///< predict.select (empty: off)
  std::vector<std::string> arms;                   ///< checked against gene_arm_names()
  std::vector<double> sample_efficiency_fractions;
  std::optional<CrfConstraints> crf_constraints;   ///< a fine-tuned checkpoint's CRF transitions

  /// This configuration with `data.train_fraction` = f (the JSON too).
  GeneExperimentConfig with_train_fraction(double f) const {
    GeneExperimentConfig c = *this;
    c.json["data"]["train_fraction"] = f;
    c.data.train_fraction = f;
    return c;
  }
};

/// `cfg` (defaults merged with a file and --set assignments, or a checkpoint's configuration)
/// parsed and checked; `where` names its source in errors (a file, a checkpoint), or is empty.
inline GeneExperimentConfig gene_experiment_config(nlohmann::json cfg, const std::string& where = "") {
  GeneExperimentConfig g;
  auto setting = [&](const std::string& key, auto&& parse) { return detail::config_setting(where, key, parse); };
  g.description = setting("description", [&] { return cfg.at("description").get<std::string>(); });
  g.model = setting("model", [&] { return cfg.at("model").get<std::string>(); });
  g.threads = setting("threads", [&] { return cfg.at("threads").get<int>(); });
  g.seeds = setting("seeds", [&] {
    const auto& v = cfg.at("seeds");
    if (!v.is_number_integer())
      throw ConfigError(fmt::format("seeds must be an integer in 1..1000 (runs of the whole compare), got {}", v.dump()));
    return v.get<std::int64_t>();
  });
  setting("genome", [&] {
    g.genome_enabled = cfg.at("genome").at("enabled").get<bool>();
    g.genome_fasta = cfg.at("genome").at("fasta").get<std::string>();
  });
  setting("data", [&] {
    const auto& d = cfg.at("data");
    g.data.train = d.at("train").get<std::string>();
    g.data.test = d.at("test").get<std::string>();
    g.data.valid_percent = d.at("valid_percent").get<int>();
    g.data.train_fraction = checked_train_fraction(d.at("train_fraction").get<double>());
  });
  g.pretrain = setting("pretrain", [&] { return cfg.at("pretrain").get<StageConfig>(); });
  g.finetune = setting("finetune", [&] { return cfg.at("finetune").get<StageConfig>(); });
  g.masking = setting("mask", [&] { return masking_from_config(cfg); });
  g.head_activation = setting("head_activation", [&] { return activation_from_config(cfg); });
  g.crf_ce_weight = setting("crf_ce_weight", [&] { return cfg.at("crf_ce_weight").get<double>(); });
  setting("encoder", [&] { return encoder_options_from_config(cfg); });  // checked here, read where built
  if (cfg.contains("grammar_crf"))  // configurations saved before the grammar CRF have none
    g.grammar_crf = setting("grammar_crf", [&] { return grammar_crf_options_from_json(cfg.at("grammar_crf")); });
  g.predict = setting("predict", [&] { return predict_from_config(cfg); });
  g.decoder_grid = setting("predict.select", [&] { return decoder_grid_from_config(cfg); });
  g.arms = setting("arms", [&] { return arms_from_config(cfg, gene_arm_names()); });
  g.sample_efficiency_fractions =
      setting("sample_efficiency.fractions", [&] { return sample_efficiency_fractions(cfg); });
  if (cfg.contains("crf_constraints"))
    g.crf_constraints = setting("crf_constraints", [&] { return crf_constraints_from_json(cfg.at("crf_constraints")); });
  g.json = std::move(cfg);
  return g;
}

}  // namespace nucleo::apps
