#pragma once
/// The multilabel experiments of the paper (Table 1: chromatin accessibility, histone modification,
/// CpG methylation; mean AUROC) as library code, so that the example programs stay thin:
///
///   tasks   chromatin_accessibility K = 125, histone_modification K = 18, cpg_methylation K = 7
///           (BEND, bend.md 1.4); 512-bp sequences, one multi-hot label vector each
///   arms    spt                      MLM pretraining on the task's own training sequences (P steps),
///                                    then fine-tuning (F steps)
///           scratch                  no pretraining, P + F fine-tuning steps: equal compute with spt
///           scratch_finetune_budget  no pretraining, F steps: the fine-tuning budget alone
///           (one MLM step and one fine-tuning step push the same batch shape through the same
///           encoder, so equal compute is counted in optimizer steps, as in gene_experiment.hpp)
///
///   data    `data.bed` + `data.fasta` given: BEND's files. BED with a header row, split = last
///           column (train / valid / test), labels = comma-separated class indices in the "label"
///           column, sequences cut from the FASTA (via its .fai) and reverse-complemented on '-'
///           (BEND's read_strand is true for these three tasks; `data.read_strand`). Without a
///           "valid" split, `data.valid_percent` of the training rows (by a hash of chrom:start-end)
///           become validation rows. `data.max_sequences.{train,valid,test}` > 0 keeps that many rows
///           of a split, evenly spaced in file order (CPU-sized runs of the 2-million-row tasks).
///           Otherwise: SYNTHETIC data (data/synthetic_multilabel.hpp) with the task's K labels and
///           `data.synthetic.{train,valid,test}` sequences. Everything then says SYNTHETIC: the
///           saved configuration's description, results.json "data.source", results.md's title and
///           the programs' stderr banner.
///           A 512-bp sequence has room for the motifs of only about 28 labels (the generator needs
///           2 (motif_max + 1) max_copies bp per label), so the task's K labels are derived from
///           G = `data.synthetic.motif_labels` planted-motif labels (0 = as many as fit, at most K):
///           label k is motif label k mod G, then flipped independently with probability
///           `label_noise` (correlated labels, as BEND's 125 chromatin cell types are).
///   fraction  `data.train_fraction` < 1: fine-tuning uses that fraction of the training sequences
///           (chosen by a hash of the sequence's id, nested: 10% is inside 25%); pretraining always
///           uses all of them (the sample-efficiency study, paper Figure 3).
///
/// Output directory: config.json, pretrain/, <arm>/ (checkpoints, metrics, learning curves,
/// result.json), results.json and results.md (the table).
#include "nucleo/core/context.hpp"
#include "nucleo/data/bed.hpp"
#include "nucleo/data/fasta_index.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/data/synthetic_multilabel.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/detail/atomic_write.hpp"
#include "nucleo_apps/arm_budget.hpp"
#include "nucleo_apps/experiment_config.hpp"
#include "nucleo_apps/finetune_multilabel.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo_apps/pretrain_mlm.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::apps {

/// One of BEND's multilabel tasks.
struct MultilabelTaskInfo {
  std::string_view name;     ///< BEND's task name, e.g. "cpg_methylation"
  std::string_view title;    ///< "CpG methylation"
  int num_labels;            ///< K
  std::string_view program;  ///< the example program, e.g. "nucleo-cpg"
};

inline constexpr std::array<MultilabelTaskInfo, 3> multilabel_tasks = {{
    {"chromatin_accessibility", "Chromatin accessibility", 125, "nucleo-chromatin"},
    {"histone_modification", "Histone modification", 18, "nucleo-histone"},
    {"cpg_methylation", "CpG methylation", 7, "nucleo-cpg"},
}};

inline const MultilabelTaskInfo& multilabel_task(std::string_view name) {
  for (const auto& t : multilabel_tasks)
    if (t.name == name) return t;
  throw ConfigError(fmt::format("unknown multilabel task '{}' (expected chromatin_accessibility, histone_modification "
                                "or cpg_methylation)",
                                name));
}

inline const std::vector<std::string>& multilabel_arm_names() {
  static const std::vector<std::string> names = {"scratch", "spt", "scratch_finetune_budget"};
  return names;
}

/// Defaults of a multilabel experiment (CPU scale; BEND's own settings are in docs/multilabel.md).
inline nlohmann::json default_multilabel_config(std::string_view task) {
  const MultilabelTaskInfo& t = multilabel_task(task);
  StageConfig pre, fin;
  pre.steps = 300;
  pre.batch_size = 32;
  pre.max_length = 512;
  pre.lr = 2e-3;
  fin = pre;
  // Positive rates of the synthetic stand-in: chromatin labels are sparse, CpG ones common.
  const double positive_rate = t.num_labels > 100 ? 0.1 : t.num_labels > 10 ? 0.2 : 0.3;
  nlohmann::json j;
  j["task"] = std::string(t.name);
  j["num_labels"] = t.num_labels;
  j["description"] = "";
  j["model"] = "small";
  j["threads"] = 0;
  j["data"] = {{"bed", ""},
               {"fasta", ""},
               {"read_strand", true},
               {"valid_percent", 10},
               {"train_fraction", 1.0},
               {"max_sequences", {{"train", 0}, {"valid", 0}, {"test", 0}}},
               {"synthetic",
                {{"train", 2000},
                 {"valid", 250},
                 {"test", 250},
                 {"length", 512},
                 {"motif_labels", 0},
                 {"motif_min", 6},
                 {"motif_max", 8},
                 {"max_copies", 1},
                 {"positive_rate", positive_rate},
                 {"label_noise", 0.02},
                 {"gc_content", 0.41},
                 {"seed", 7}}}};
  j["pretrain"] = pre;
  j["finetune"] = fin;
  j["mask"] = {{"p", 0.15}, {"mask_fraction", 0.8}, {"random_fraction", 0.1}};
  j["head_activation"] = "gelu";
  j["arms"] = multilabel_arm_names();
  return j;
}

/// The SYNTHETIC stand-in's settings ("data.synthetic"; see the file comment).
struct MultilabelSyntheticConfig {
  Index train = 0, valid = 0, test = 0;  ///< sequences per split
  Index length = 512;
  int motif_labels = 0;  ///< planted-motif labels G (0 = as many as fit)
  int motif_min = 6, motif_max = 8, max_copies = 1;
  double positive_rate = 0.3, label_noise = 0.02, gc_content = 0.41;
  std::uint64_t seed = 7;
};

/// Where a multilabel task's data come from ("data"; see the file comment).
struct MultilabelDataConfig {
  std::string bed, fasta;  ///< BEND's files; both empty: SYNTHETIC data
  bool read_strand = true;
  int valid_percent = 10;
  double train_fraction = 1;
  Index max_train = 0, max_valid = 0, max_test = 0;  ///< data.max_sequences (0 = all)
  MultilabelSyntheticConfig synthetic;
};

/// A multilabel configuration, parsed once (multilabel_experiment_config).
struct MultilabelExperimentConfig {
  nlohmann::json json;  ///< the merged configuration as given: saved as config.json, kept in checkpoints
  std::string task;     ///< BEND's task name
  int num_labels = 0;   ///< K, the task's
  std::string description;
  std::string model;
  int threads = 0;
  MultilabelDataConfig data;
  StageConfig pretrain, finetune;
  MlmMaskingOptions masking;
  Activation head_activation = Activation::gelu;
  std::vector<std::string> arms;  ///< checked against multilabel_arm_names()
};

/// "data.synthetic" of a configuration, typed.
inline MultilabelSyntheticConfig multilabel_synthetic_config(const nlohmann::json& s) {
  MultilabelSyntheticConfig c;
  c.train = s.at("train").get<Index>();
  c.valid = s.at("valid").get<Index>();
  c.test = s.at("test").get<Index>();
  c.length = s.at("length").get<Index>();
  c.motif_labels = s.at("motif_labels").get<int>();
  c.motif_min = s.at("motif_min").get<int>();
  c.motif_max = s.at("motif_max").get<int>();
  c.max_copies = s.at("max_copies").get<int>();
  c.positive_rate = s.at("positive_rate").get<double>();
  c.label_noise = s.at("label_noise").get<double>();
  c.gc_content = s.at("gc_content").get<double>();
  c.seed = s.at("seed").get<std::uint64_t>();
  return c;
}

/// `cfg` (defaults merged with a file and --set assignments, or a checkpoint's configuration)
/// parsed and checked; `where` names its source in errors (a file, a checkpoint), or is empty.
inline MultilabelExperimentConfig multilabel_experiment_config(nlohmann::json cfg, const std::string& where = "") {
  MultilabelExperimentConfig m;
  auto setting = [&](const std::string& key, auto&& parse) { return detail::config_setting(where, key, parse); };
  m.task = setting("task", [&] { return std::string(multilabel_task(cfg.at("task").get<std::string>()).name); });
  m.num_labels = setting("num_labels", [&] { return cfg.at("num_labels").get<int>(); });
  const int K = multilabel_task(m.task).num_labels;
  NUCLEO_CHECK(m.num_labels == K, "num_labels {} does not match task {} (K = {})", m.num_labels, m.task, K);
  m.description = setting("description", [&] { return cfg.at("description").get<std::string>(); });
  m.model = setting("model", [&] { return cfg.at("model").get<std::string>(); });
  m.threads = setting("threads", [&] { return cfg.at("threads").get<int>(); });
  setting("data", [&] {
    const auto& d = cfg.at("data");
    m.data.bed = d.at("bed").get<std::string>();
    m.data.fasta = d.at("fasta").get<std::string>();
    m.data.read_strand = d.at("read_strand").get<bool>();
    m.data.valid_percent = d.at("valid_percent").get<int>();
    m.data.train_fraction = checked_train_fraction(d.at("train_fraction").get<double>());
    const auto& limits = d.at("max_sequences");
    m.data.max_train = limits.at("train").get<Index>();
    m.data.max_valid = limits.at("valid").get<Index>();
    m.data.max_test = limits.at("test").get<Index>();
    m.data.synthetic = multilabel_synthetic_config(d.at("synthetic"));
  });
  m.pretrain = setting("pretrain", [&] { return cfg.at("pretrain").get<StageConfig>(); });
  m.finetune = setting("finetune", [&] { return cfg.at("finetune").get<StageConfig>(); });
  m.masking = setting("mask", [&] { return masking_from_config(cfg); });
  m.head_activation = setting("head_activation", [&] { return activation_from_config(cfg); });
  m.arms = setting("arms", [&] { return arms_from_config(cfg, multilabel_arm_names()); });
  m.json = std::move(cfg);
  return m;
}

/// The sequences of a multilabel task, split, with where they came from.
struct MultilabelDataset {
  std::vector<Example> train, valid, test;
  std::vector<std::string> train_ids;  ///< stable id of each training sequence (train_fraction hashing)
  bool synthetic = false;
  std::string source;       ///< one line: "SYNTHETIC ..." or "BEND BED <bed> + FASTA <fasta>"
  std::string description;  ///< details (generator rule, row counts)
  int num_labels = 0;

  const std::vector<Example>& split(std::string_view name) const {
    if (name == "train") return train;
    if (name == "valid" || name == "validation") return valid;
    if (name == "test") return test;
    throw ConfigError(fmt::format("unknown split '{}' (expected train, valid or test)", name));
  }
};

/// SYNTHETIC data for a K-label task (see the file comment for the rule).
inline MultilabelDataset make_synthetic_multilabel(int num_labels, const MultilabelSyntheticConfig& s) {
  const Index n_train = s.train, n_valid = s.valid, n_test = s.test;
  NUCLEO_CHECK_CONFIG(n_train > 0 && n_valid > 0 && n_test >= 0,
               "data.synthetic: need train > 0, valid > 0 and test >= 0 sequences, got {}/{}/{}", n_train, n_valid, n_test);
  SyntheticMultilabelOptions o;
  o.num_sequences = n_train + n_valid + n_test;
  o.length = s.length;
  o.motif_min = s.motif_min;
  o.motif_max = s.motif_max;
  o.max_copies = s.max_copies;
  o.positive_rate = s.positive_rate;
  o.gc_content = s.gc_content;
  o.label_noise = 0.0;  // applied below, per derived label
  o.seed = s.seed;
  o.valid_fraction = static_cast<double>(n_valid) / static_cast<double>(o.num_sequences);
  o.test_fraction = static_cast<double>(n_test) / static_cast<double>(o.num_sequences);
  const Index per_label = 2 * static_cast<Index>(o.max_copies) * (o.motif_max + 1);
  int g = s.motif_labels;
  const int fit = static_cast<int>(std::min<Index>(num_labels, o.length / std::max<Index>(1, per_label)));
  if (g <= 0) g = fit;
  NUCLEO_CHECK_CONFIG(g >= 1 && g <= num_labels,
               "data.synthetic: {} bp leave room for no motif label (each needs {} bp); raise length or lower motif_max",
               o.length, per_label);
  o.num_labels = g;
  const double noise = s.label_noise;
  NUCLEO_CHECK_CONFIG(noise >= 0 && noise <= 0.5, "data.synthetic.label_noise must be in [0, 0.5], got {}", noise);
  const SyntheticMultilabel gen(o);

  MultilabelDataset d;
  d.synthetic = true;
  d.num_labels = num_labels;
  const Rng noise_root = Rng(o.seed).fork(0x6e6f697365);  // "noise"
  for (Index i = 0; i < gen.size(); ++i) {
    const auto& clean = gen.clean_labels()[static_cast<std::size_t>(i)];
    Example e;
    e.tokens = tokens::encode(gen.sequences()[static_cast<std::size_t>(i)]);
    e.multilabels.resize(static_cast<std::size_t>(num_labels));
    Rng r = noise_root.fork(static_cast<std::uint64_t>(i));
    for (int k = 0; k < num_labels; ++k) {
      std::uint8_t v = clean[static_cast<std::size_t>(k % g)];
      if (noise > 0 && r.bernoulli(noise)) v = static_cast<std::uint8_t>(1 - v);
      e.multilabels[static_cast<std::size_t>(k)] = v;
    }
    const std::string& sp = gen.splits()[static_cast<std::size_t>(i)];
    if (sp == "train") {
      d.train.push_back(std::move(e));
      d.train_ids.push_back(fmt::format("synthetic:{}", i));
    } else if (sp == "valid") {
      d.valid.push_back(std::move(e));
    } else {
      d.test.push_back(std::move(e));
    }
  }
  d.source = fmt::format("SYNTHETIC data (not biological): {} labels from {} planted motifs, {} bp", num_labels, g,
                         o.length);
  d.description = fmt::format("SYNTHETIC: {} labels, label k = motif label (k mod {}) flipped with p = {}; generator: {}",
                              num_labels, g, noise, gen.description());
  return d;
}

namespace detail {
/// `n` evenly spaced elements of `idx` (all when n <= 0 or n >= size).
inline std::vector<std::size_t> evenly_spaced(const std::vector<std::size_t>& idx, Index n) {
  if (n <= 0 || static_cast<std::size_t>(n) >= idx.size()) return idx;
  std::vector<std::size_t> out;
  out.reserve(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) out.push_back(idx[static_cast<std::size_t>(j) * idx.size() / static_cast<std::size_t>(n)]);
  return out;
}
}  // namespace detail

/// BEND's BED + FASTA (see the file comment).
inline MultilabelDataset load_multilabel_bed(const std::filesystem::path& bed, const std::filesystem::path& fasta,
                                             int num_labels, const MultilabelDataConfig& data_cfg) {
  const BedTable table = BedTable::read(bed);
  FastaIndex fa = FastaIndex::open(fasta);
  const bool read_strand = data_cfg.read_strand;
  const int valid_percent = data_cfg.valid_percent;

  std::map<std::string, std::size_t> split_counts;
  for (const auto& r : table.rows()) ++split_counts[r.split];
  auto list_splits = [&] {
    std::string s;
    for (const auto& [k, v] : split_counts) s += fmt::format("{}{} ({} rows)", s.empty() ? "" : ", ", k, v);
    return s;
  };
  if (!split_counts.count("train") || !split_counts.count("test"))
    throw ConfigError(fmt::format("{}: the last column must name the splits 'train', 'valid' and 'test'; found: {}",
                                  bed.string(), list_splits()));

  auto row_id = [&](std::size_t i) {
    const BedRow& r = table[i];
    return fmt::format("{}:{}-{}{}", r.chrom, r.start, r.end, r.strand == '-' ? "(-)" : "");
  };
  std::vector<std::size_t> train_rows = table.rows_in_split("train"), valid_rows = table.rows_in_split("valid");
  const bool carved = valid_rows.empty();
  if (carved) {  // no valid split: a hash-chosen part of train
    std::vector<std::size_t> keep;
    for (std::size_t i : train_rows)
      (static_cast<int>(fnv1a64(row_id(i)) % 100) < valid_percent ? valid_rows : keep).push_back(i);
    train_rows = std::move(keep);
  }
  train_rows = detail::evenly_spaced(train_rows, data_cfg.max_train);
  valid_rows = detail::evenly_spaced(valid_rows, data_cfg.max_valid);
  const auto test_rows = detail::evenly_spaced(table.rows_in_split("test"), data_cfg.max_test);

  MultilabelDataset d;
  d.num_labels = num_labels;
  Index min_len = std::numeric_limits<Index>::max(), max_len = 0;
  auto fill = [&](const std::vector<std::size_t>& rows, std::vector<Example>& out, std::vector<std::string>* ids) {
    out.reserve(rows.size());
    for (std::size_t i : rows) {
      Example e;
      e.tokens = tokens::encode(table.fetch(i, fa, read_strand));
      e.multilabels = table.multi_hot(i, num_labels);
      min_len = std::min<Index>(min_len, static_cast<Index>(e.tokens.size()));
      max_len = std::max<Index>(max_len, static_cast<Index>(e.tokens.size()));
      out.push_back(std::move(e));
      if (ids) ids->push_back(row_id(i));
    }
  };
  fill(train_rows, d.train, &d.train_ids);
  fill(valid_rows, d.valid, nullptr);
  fill(test_rows, d.test, nullptr);
  NUCLEO_CHECK(!d.train.empty() && !d.valid.empty(), "{}: no training or validation rows after the selection",
               bed.string());
  d.source = fmt::format("BEND BED {} + FASTA {}", bed.string(), fasta.string());
  d.description = fmt::format("{} (splits in the file: {}; used train {}, valid {}{}, test {}; lengths {}..{} bp; "
                              "strand {})",
                              d.source, list_splits(), d.train.size(), d.valid.size(),
                              carved ? fmt::format(" = {}% of train by hash", valid_percent) : "", d.test.size(),
                              min_len, max_len, read_strand ? "read ('-' reverse-complemented)" : "ignored");
  return d;
}

/// The data of a configuration: BEND files when `data.bed` and `data.fasta` are given, else SYNTHETIC.
inline MultilabelDataset load_multilabel_data(const MultilabelExperimentConfig& cfg) {
  const auto& d = cfg.data;
  if (d.bed.empty() && d.fasta.empty()) return make_synthetic_multilabel(cfg.num_labels, d.synthetic);
  if (d.bed.empty() || d.fasta.empty()) throw ConfigError("data.bed and data.fasta must be given together");
  return load_multilabel_bed(d.bed, d.fasta, cfg.num_labels, d);
}

/// `cfg` with its description marked SYNTHETIC when `data` is synthetic (saved beside every result).
inline MultilabelExperimentConfig describe_data(MultilabelExperimentConfig cfg, const MultilabelDataset& data) {
  std::string desc = cfg.description;
  if (data.synthetic && desc.find("SYNTHETIC") == std::string::npos)
    desc = "SYNTHETIC data (not biological)" + (desc.empty() ? std::string() : ": " + desc);
  cfg.description = desc;
  cfg.json["description"] = desc;
  return cfg;
}

/// The training sequences whose id hashes below `fraction` (nested across fractions).
inline std::vector<Example> multilabel_train_subset(const MultilabelDataset& data, double fraction) {
  if (checked_train_fraction(fraction) == 1.0) return data.train;
  std::vector<Example> out;
  for (std::size_t i = 0; i < data.train.size(); ++i)
    if (in_train_fraction(data.train_ids[i], fraction))
      out.push_back(data.train[i]);
  if (out.empty())
    throw ConfigError(fmt::format("data.train_fraction {} leaves none of the {} training sequences", fraction,
                                  data.train.size()));
  return out;
}

/// Run the arms of `cfg` into `out` and return results.json's content.
template <class Encoder, int K>
nlohmann::json run_multilabel_compare(CpuContext& ctx, const MultilabelExperimentConfig& config, const MultilabelDataset& data,
                                      const std::filesystem::path& out, ProgressOptions progress = {}) {
  const MultilabelTaskInfo& info = multilabel_task(config.task);
  NUCLEO_CHECK(info.num_labels == K && data.num_labels == K, "run_multilabel_compare: task {} has K = {}, built for {}",
               info.name, info.num_labels, K);
  const MultilabelExperimentConfig cfg = describe_data(config, data);
  const StageConfig& pre = cfg.pretrain;
  const StageConfig& fin = cfg.finetune;
  const auto& arms = cfg.arms;
  const auto fine_train = multilabel_train_subset(data, cfg.data.train_fraction);
  // Only a configuration that passed every check above is saved (and claims `out`).
  claim_output_dir(out, cfg.json);

  nlohmann::json results;
  results["task"] = std::string(info.name);
  results["title"] = std::string(info.title);
  results["num_labels"] = K;
  results["metric"] = "mean AUROC over labels (BEND)";
  results["data"] = {{"source", data.source},
                     {"synthetic", data.synthetic},
                     {"description", data.description},
                     {"train_sequences", data.train.size()},
                     {"finetune_sequences", fine_train.size()},
                     {"train_fraction", cfg.data.train_fraction},
                     {"valid_sequences", data.valid.size()},
                     {"test_sequences", data.test.size()}};
  results["model"] = cfg.model;
  results["threads"] = ctx.threads();
  results["arms"] = nlohmann::json::object();

  std::optional<StageResult> pretrained;
  if (std::find(arms.begin(), arms.end(), "spt") != arms.end()) {
    fmt::print(stderr, "== SPT: MLM pretraining on the {} training sequences{} ({} steps)\n", data.train.size(),
               data.synthetic ? " (SYNTHETIC)" : "", pre.steps);
    pretrained = pretrain_mlm<Encoder>(ctx, unlabelled(data.train), unlabelled(data.valid), pre,
                                       cfg.masking, out / "pretrain", cfg.json, progress);
    results["pretrain"] = pretrained->summary;
  }

  for (const auto& arm : arms) {
    MultilabelFinetuneOptions fo;
    fo.stage = fin;
    fo.head_activation = cfg.head_activation;
    fo.progress = progress;
    const ArmBudget budget = arm_budget(arm, pre.steps, fin.steps);
    fo.stage.steps = budget.finetune_steps;
    if (budget.from_spt) fo.init_checkpoint = pretrained->best_checkpoint;
    fmt::print(stderr, "== arm {}: {} fine-tuning steps{}\n", arm, fo.stage.steps,
               fo.init_checkpoint ? " from the SPT encoder" : " from scratch");
    const StageResult r = finetune_multilabel<Encoder, K>(ctx, fine_train, data.valid, data.test, fo, out / arm, cfg.json);
    nlohmann::json row = r.summary;
    row.erase("test");  // per-label figures stay in <arm>/result.json
    add_arm_budget(row, budget, r, pretrained);
    results["arms"][arm] = row;
    nucleo::detail::write_file_atomic(out / "results.json", results.dump(2) + "\n");
  }
  return results;
}

/// The results table as Markdown (one row per arm).
inline std::string multilabel_results_markdown(const nlohmann::json& results) {
  const auto& d = results.at("data");
  const bool synthetic = d.at("synthetic").get<bool>();
  std::string s = fmt::format("{} (K = {}){}, model {}, {} threads\n\nData: {}; train {} ({} for fine-tuning), valid {}, "
                              "test {} sequences\n\n",
                              results.at("title").get<std::string>(), results.at("num_labels").get<int>(),
                              synthetic ? " on SYNTHETIC data (not biological; not comparable with BEND)" : "",
                              results.at("model").get<std::string>(), results.at("threads").get<int>(),
                              d.at("source").get<std::string>(), d.at("train_sequences").get<Index>(),
                              d.at("finetune_sequences").get<Index>(), d.at("valid_sequences").get<Index>(),
                              d.at("test_sequences").get<Index>());
  s += "| arm | steps (pretrain + finetune) | valid mean AUROC | test mean AUROC | test mean AUPRC | undefined test labels | "
       "seconds |\n";
  s += "|---|---|---|---|---|---|---|\n";
  auto fmt4 = [](const nlohmann::json& r, const char* k) {
    return r.contains(k) && r.at(k).is_number() ? fmt::format("{:.4f}", r.at(k).get<double>()) : std::string("-");
  };
  for (const auto& [arm, r] : results.at("arms").items()) {
    const double secs = r.contains("seconds_with_pretrain") ? r.at("seconds_with_pretrain").get<double>()
                                                            : r.at("seconds").get<double>();
    s += fmt::format("| {} | {} + {} | {} | {} | {} | {} | {:.0f} |\n", arm, r.at("pretrain_steps").get<std::int64_t>(),
                     r.at("finetune_steps").get<std::int64_t>(), fmt4(r, "valid_mean_auroc"), fmt4(r, "test_mean_auroc"),
                     fmt4(r, "test_mean_auprc"),
                     r.contains("test_undefined_labels") ? std::to_string(r.at("test_undefined_labels").size()) : "-",
                     secs);
  }
  return s;
}

}  // namespace nucleo::apps
