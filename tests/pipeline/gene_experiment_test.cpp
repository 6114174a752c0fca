// The gene-finding comparison (gene_experiment.hpp) on SYNTHETIC loci with TinyEncoder and a few
// steps: equal compute between the arms, results.json, per-arm predictions (TSV and GFF3), the
// Markdown table; train_subset; the prediction writers on hand-made labels.
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo_apps/gene_report.hpp"

#include <catch2/catch.hpp>

#include "pipeline/synthetic_genes.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;

namespace {
std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A fresh directory name under the temp dir (unique, so parallel runs do not collide), removed at
// scope exit; the directory itself is left for the code under test to create.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = std::filesystem::path(tmpl) / "out";
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path.parent_path(), ec);
  }
};

// Settings that run in seconds (as in sample_efficiency_test.cpp), all five arms in a non-sorted order.
nlohmann::json tiny_config() {
  nlohmann::json cfg = tiny_gene_config();
  cfg["finetune"]["steps"] = 3;  // P != F, so the sums below are distinguishable
  cfg["arms"] = {"spt_crf", "scratch_finetune_budget", "spt", "scratch_crf", "scratch"};
  // the decoder scan of every arm: model, and the grammar at 2 x 2 priors
  cfg["predict"]["select"] = {{"enabled", true}, {"gene_penalty", {0.0, 5.0}}, {"deep_intron_penalty", {nullptr, 2.0}},
                              {"one_gene_per_record", {false}}};
  return cfg;
}

ProgressOptions quiet() { return quiet_progress(); }

// The pooled MCC of label rows against the truth.
double mcc_of(const std::vector<GeneExample>& rows, std::span<const GeneExample> truth) {
  ConfusionMatrix cm(gene_class_count);
  REQUIRE(rows.size() == truth.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].labels.size() == truth[i].labels.size());
    for (std::size_t t = 0; t < rows[i].labels.size(); ++t) cm.add(truth[i].labels[t], rows[i].labels[t]);
  }
  return matthews_corrcoef(cm);
}

// Loci named <record>_<first>-<last> as whole genome records of their own, so that genome context
// must reproduce the locus-level figures exactly.
std::vector<GeneExample> as_genome_loci(std::vector<GeneExample> v, const std::string& prefix) {
  for (std::size_t i = 0; i < v.size(); ++i) v[i].name = fmt::format("{}{}_1-{}", prefix, i, v[i].sequence.size());
  return v;
}
std::vector<FastaRecord> genome_of(const std::vector<std::vector<GeneExample>>& sets) {
  std::vector<FastaRecord> g;
  for (const auto& set : sets)
    for (const auto& l : set) g.push_back(FastaRecord{l.name.substr(0, l.name.rfind('_')), "", l.sequence});
  return g;
}
}  // namespace

TEST_CASE("run_gene_compare (SYNTHETIC data): five arms, equal compute, test scored once", "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_test");
  CpuContext ctx(2);
  const auto data = GeneDataset::from_examples(named(synthetic_set(12, 11), "tr"), named(synthetic_set(3, 12), "va"),
                                               named(synthetic_set(4, 13), "te"));
  const auto cfg = tiny_config();
  const auto r = run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet(), nullptr, nullptr,
                                                      nlohmann::json{{"command", "test"}});

  // results.json holds exactly what was returned; config.json the configuration
  CHECK(nlohmann::json::parse(read_text(dir.path / "results.json")) == r);
  CHECK(nlohmann::json::parse(read_text(dir.path / "config.json")) == cfg);
  CHECK(r.at("arm_order") == cfg.at("arms"));
  CHECK(r.at("model") == "tiny");
  CHECK(r.at("threads") == 2);
  CHECK(r.at("provenance").at("command") == "test");
  CHECK(r.at("seeds") == nlohmann::json{{"pretrain", 1}, {"finetune", 1}});
  CHECK(r.at("data").at("train_loci") == 12);
  CHECK(r.at("data").at("finetune_loci") == 12);
  CHECK(r.at("data").at("valid_loci") == 3);
  CHECK(r.at("data").at("test_loci") == 4);
  CHECK_FALSE(r.contains("genome"));
  REQUIRE(r.at("arms").size() == 5);
  REQUIRE(r.contains("pretrain"));
  CHECK(r.at("pretrain").at("steps") == 4);
  CHECK(std::filesystem::exists(dir.path / "pretrain"));

  // equal compute: P = 4 pretraining steps, F = 3 fine-tuning steps
  const auto& arms = r.at("arms");
  for (const char* scratch : {"scratch", "scratch_crf"}) {
    INFO(scratch);
    CHECK(arms.at(scratch).at("total_steps") == 7);
    CHECK(arms.at(scratch).at("finetune_steps") == 7);
    CHECK(arms.at(scratch).at("pretrain_steps") == 0);
    CHECK(arms.at(scratch).at("steps") == 7);  // steps actually taken
    CHECK(arms.at(scratch).at("init") == "scratch");
    CHECK_FALSE(arms.at(scratch).contains("seconds_with_pretrain"));
  }
  CHECK(arms.at("scratch_finetune_budget").at("total_steps") == 3);
  CHECK(arms.at("scratch_finetune_budget").at("finetune_steps") == 3);
  CHECK(arms.at("scratch_finetune_budget").at("pretrain_steps") == 0);
  CHECK(arms.at("scratch_finetune_budget").at("steps") == 3);
  for (const char* spt : {"spt", "spt_crf"}) {
    INFO(spt);
    CHECK(arms.at(spt).at("total_steps") == 7);
    CHECK(arms.at(spt).at("finetune_steps") == 3);
    CHECK(arms.at(spt).at("pretrain_steps") == 4);
    CHECK(arms.at(spt).at("steps") == 3);
    CHECK(arms.at(spt).at("init") == "spt");
    CHECK(arms.at(spt).at("encoder_load").at("used") == 16);  // every encoder tensor of TinyEncoder
    CHECK(arms.at(spt).at("seconds_with_pretrain").get<double>() >= arms.at(spt).at("seconds").get<double>());
  }
  CHECK(arms.at("spt_crf").at("crf") == true);
  CHECK(arms.at("scratch_crf").at("crf") == true);
  CHECK(arms.at("spt").at("crf") == false);
  CHECK(arms.at("scratch").at("crf") == false);

  for (const std::string arm : {"scratch", "scratch_crf", "spt", "spt_crf", "scratch_finetune_budget"}) {
    INFO(arm);
    const double m = arms.at(arm).at("test_mcc").get<double>();
    CHECK(m >= -1.0);
    CHECK(m <= 1.0);
    const auto& test = arms.at(arm).at("test");
    CHECK(test.at("mcc") == arms.at(arm).at("test_mcc"));
    CHECK(test.at("loci") == 4);
    CHECK(test.at("structure").at("gene").at("truth") == 4);  // one planted gene per synthetic locus
    CHECK(test.at("structure").at("exon").at("truth") == 8);
    CHECK(test.contains("report"));
    // The decoder is chosen on the valid split among the 5 settings. The scan holds valid figures
    // only: no setting, chosen or not, has a test figure in it.
    const auto& sel = arms.at(arm).at("decoder_selection");
    const auto& grid = sel.at("grid");
    REQUIRE(grid.size() == 5);
    CHECK(grid[0].at("label") == "model");
    // the model decoder's row is the checkpoint's own validation figure
    CHECK(grid[0].at("valid_mcc").get<double>() == Approx(arms.at(arm).at("valid_mcc").get<double>()).margin(1e-12));
    std::size_t best = 0;
    for (std::size_t i = 0; i < grid.size(); ++i) {
      for (const auto& [k, v] : grid[i].items()) CHECK(k.find("test") == std::string::npos);
      if (grid[i].at("valid_mcc").get<double>() > grid[best].at("valid_mcc").get<double>()) best = i;
    }
    CHECK(sel.at("selected") == best);
    CHECK(sel.at("label") == grid[best].at("label"));
    CHECK_FALSE(sel.contains("test"));
    CHECK(sel.at("valid").at("mcc") == grid[best].at("valid_mcc"));
    // the trainer did not score test: the single test score is the chosen decoder's
    CHECK_FALSE(nlohmann::json::parse(read_text(dir.path / arm / "result.json")).contains("test_mcc"));
    // the written test predictions are the chosen decoder's and score the reported MCC
    const auto rows = read_label_tsv(dir.path / arm / "test_predictions.tsv");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CHECK(rows[i].name == data.test()[i].name);
      CHECK(rows[i].sequence == data.test()[i].sequence);
    }
    CHECK(mcc_of(rows, data.test()) == Approx(m).margin(1e-12));
    const std::string gff = read_text(dir.path / arm / "test_predictions.gff3");
    CHECK_THAT(gff, Catch::StartsWith("##gff-version 3\n"));
    CHECK_FALSE(std::filesystem::exists(dir.path / arm / "test_predictions.chosen.tsv"));
  }

  // A rerun of the same configuration keeps finished arms as they are (nothing is retrained or
  // rescored: a removed checkpoint stays removed) and returns the same figures.
  std::filesystem::remove(dir.path / "spt" / "best.ckpt");
  const auto again = run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet());
  CHECK(again.at("arms") == r.at("arms"));
  CHECK(again.at("provenance") == r.at("provenance"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "spt" / "best.ckpt"));

  // the same output directory with another configuration is refused
  auto other = cfg;
  other["finetune"]["steps"] = 2;
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(other), data, dir.path, quiet()),
                    Catch::Contains("different configuration"));
}

TEST_CASE("run_gene_compare_seeds (SYNTHETIC data): replicates, their summary, one seed per process, the tables",
          "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_seeds");
  CpuContext ctx(1);
  const auto data = GeneDataset::from_examples(named(synthetic_set(8, 21), "tr"), named(synthetic_set(2, 22), "va"),
                                               named(synthetic_set(3, 23), "te"));
  auto cfg = tiny_config();
  cfg["arms"] = {"spt_crf", "scratch"};
  cfg["seeds"] = 2;
  cfg["finetune"]["seed"] = 5;  // replicates: pretrain seeds 1, 2 and finetune seeds 5, 6
  // seed 6 alone first (as a second process would), then the whole command collects and runs seed 5
  const auto part = run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet(), {{"command", "a"}}, 6);
  CHECK_FALSE(part.at("complete").get<bool>());
  REQUIRE(part.at("runs").size() == 1);
  CHECK(part.at("runs")[0].at("seeds") == nlohmann::json{{"pretrain", 2}, {"finetune", 6}});
  CHECK_FALSE(std::filesystem::exists(dir.path / "seed-5"));
  CHECK_THROWS_WITH(run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet(), {}, 7),
                    Catch::Contains("runs seeds 5..6"));

  const auto rec = run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet(), {{"command", "b"}});
  CHECK(nlohmann::json::parse(read_text(dir.path / "results.json")) == rec);
  CHECK(rec.at("kind") == "gene_finding_compare");
  CHECK(rec.at("complete").get<bool>());
  CHECK(rec.at("config") == cfg);
  CHECK(rec.at("provenance").at("command") == "b");
  REQUIRE(rec.at("runs").size() == 2);
  CHECK(rec.at("runs")[0].at("seeds") == nlohmann::json{{"pretrain", 1}, {"finetune", 5}});
  CHECK(rec.at("runs")[1] == part.at("runs")[0]);  // collected, not rerun
  // the record keeps each scan's labels and validation figures; the seed directory keeps the settings too
  const auto& row0 = rec["runs"][0]["arms"]["scratch"]["decoder_selection"]["grid"][0];
  CHECK(row0.at("label") == "model");
  CHECK(row0.contains("valid_mcc"));
  CHECK_FALSE(row0.contains("setting"));
  CHECK(nlohmann::json::parse(read_text(dir.path / "seed-5" / "results.json"))["arms"]["scratch"]["decoder_selection"]["grid"][0]
            .contains("setting"));
  CHECK(rec.at("runs")[1].at("provenance").at("command") == "a");
  // each replicate directory is a compare of its own seeds
  const auto c5 = nlohmann::json::parse(read_text(dir.path / "seed-5" / "config.json"));
  CHECK(c5.at("pretrain").at("seed") == 1);
  CHECK(c5.at("finetune").at("seed") == 5);
  CHECK(c5.at("seeds") == 1);
  // different seeds train differently (their checkpoints differ), the same seed alike
  CHECK(read_text(dir.path / "seed-5" / "scratch" / "best.ckpt") != read_text(dir.path / "seed-6" / "scratch" / "best.ckpt"));

  // the summary: mean and sample standard deviation of each figure over the runs
  for (const char* arm : {"spt_crf", "scratch"}) {
    INFO(arm);
    const double a = rec["runs"][0]["arms"][arm]["test_mcc"].get<double>(), b = rec["runs"][1]["arms"][arm]["test_mcc"].get<double>();
    const auto& f = rec.at("summary").at(arm).at("locus.test_mcc");
    CHECK(f.at("n") == 2);
    CHECK(f.at("mean").get<double>() == Approx((a + b) / 2).margin(1e-15));
    CHECK(f.at("sd").get<double>() == Approx(std::abs(a - b) / std::sqrt(2.0)).margin(1e-15));
    CHECK(f.at("values") == nlohmann::json{a, b});
    CHECK(rec.at("summary").at(arm).at("locus.decoder").size() == 2);
    CHECK_FALSE(rec.at("summary").at(arm).contains("genome.test_mcc"));
  }
  CHECK(rec.at("summary").at("spt_crf").contains("seconds_with_pretrain"));

  // the tables: one summary row per arm in the configuration's order, one seed row per run
  const std::string md = gene_compare_markdown(rec);
  CHECK_THAT(md, Catch::Contains("2 seed(s)"));
  const auto& s = rec.at("summary").at("spt_crf");
  CHECK_THAT(md, Catch::Contains(fmt::format("| SPT + CRF | 4 + 3 | {:.3f} ± {:.3f} |", s["locus.test_mcc"]["mean"].get<double>(),
                                             s["locus.test_mcc"]["sd"].get<double>())));
  CHECK(md.find("| SPT + CRF | 4 + 3 |") < md.find("| scratch (equal compute) | 0 + 7 |"));
  CHECK_THAT(md, Catch::Contains(fmt::format("| SPT + CRF | 6 | {:.3f} |", rec["runs"][1]["arms"]["spt_crf"]["valid_mcc"].get<double>())));

  // a rerun collects again without training; another seed count is another configuration
  const auto again = run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet(), {{"command", "b"}});
  CHECK(again == rec);
  auto three = cfg;
  three["seeds"] = 3;
  CHECK_THROWS_WITH(run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(three), data, dir.path, quiet()),
                    Catch::Contains("different configuration"));
  for (const nlohmann::json bad : {nlohmann::json(0), nlohmann::json(1.5), nlohmann::json("2")}) {
    auto b = cfg;
    b["seeds"] = bad;
    CHECK_THROWS_WITH(run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(b), data, dir.path / "bad", quiet()),
                      Catch::Contains("seeds must be an integer"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path / "bad"));
}

TEST_CASE("genome context (SYNTHETIC data): loci that are whole genome records score as at locus level",
          "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_genome");
  CpuContext ctx(1);
  const auto valid = as_genome_loci(synthetic_set(3, 32), "va"), test = as_genome_loci(synthetic_set(4, 33), "te");
  const auto data = GeneDataset::from_examples(named(synthetic_set(8, 31), "tr"), valid, test);
  const auto fasta = dir.path.parent_path() / "genome.fa";
  write_fasta(fasta, genome_of({valid, test}));
  auto cfg = tiny_config();
  cfg["arms"] = {"spt_crf", "scratch"};
  cfg["genome"] = {{"enabled", true}, {"fasta", fasta.string()}};
  const auto rec = run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet());
  REQUIRE(rec.at("runs").size() == 1);
  const auto& run = rec.at("runs")[0];
  CHECK(run.at("genome").at("records") == 7);
  for (const char* arm : {"spt_crf", "scratch"}) {
    INFO(arm);
    const auto& a = run.at("arms").at(arm);
    const auto& g = a.at("genome");
    // every setting scores inside the genome as at locus level, so the same setting is chosen, and
    // the single test score is the locus-level one
    REQUIRE(g.at("grid").size() == a.at("decoder_selection").at("grid").size());
    for (std::size_t i = 0; i < g.at("grid").size(); ++i) {
      CHECK(g["grid"][i]["label"] == a["decoder_selection"]["grid"][i]["label"]);
      CHECK(g["grid"][i]["valid_mcc"].get<double>() ==
            Approx(a["decoder_selection"]["grid"][i]["valid_mcc"].get<double>()).margin(1e-12));
    }
    CHECK(g.at("selected") == a.at("decoder_selection").at("selected"));
    CHECK(g.at("test").at("mcc").get<double>() == Approx(a.at("test_mcc").get<double>()).margin(1e-12));
    CHECK(g.at("test").at("structure") == a.at("test").at("structure"));
    CHECK(rec.at("summary").at(arm).at("genome.test_mcc").at("mean").get<double>() ==
          Approx(a.at("test_mcc").get<double>()).margin(1e-12));
    // the genome-wide predictions are written as GFF3, one sequence-region per record
    const std::string gff = read_text(dir.path / "seed-1" / arm / "genome_predictions.gff3");
    CHECK_THAT(gff, Catch::StartsWith("##gff-version 3\n"));
  }
  // a locus that is not where its name says is refused before any training
  auto moved = test;
  moved[0].name = fmt::format("te0_2-{}", moved[0].sequence.size() + 1);
  const auto bad = GeneDataset::from_examples(named(synthetic_set(8, 31), "tr"), valid, moved);
  CHECK_THROWS_WITH(run_gene_compare_seeds<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), bad, dir.path / "moved", quiet()),
                    Catch::Contains("test locus 'te0_2-"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "moved"));
}

TEST_CASE("run_gene_compare: an unknown arm is a ConfigError before any training", "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_bad_arm");
  CpuContext ctx(1);
  const auto data = GeneDataset::from_examples(named(synthetic_set(2, 1), "tr"), named(synthetic_set(1, 2), "va"),
                                               named(synthetic_set(1, 3), "te"));
  auto cfg = tiny_config();
  cfg["arms"] = {"spt", "sptt"};
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet()), ConfigError);
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir.path, quiet()),
                    Catch::Contains("'sptt'") && Catch::Contains("scratch_finetune_budget") && Catch::Contains("scratch_crf"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "pretrain"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "spt"));
  // a refused configuration is not saved as the directory's run
  CHECK_FALSE(std::filesystem::exists(dir.path / "config.json"));

  // the same for a bad train_fraction and a bad stage setting
  auto frac = tiny_config();
  frac["data"]["train_fraction"] = 0.0;
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(frac), data, dir.path, quiet()), ConfigError);
  auto stage = tiny_config();
  stage["finetune"]["min_lr_ratio"] = 2.0;
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(stage), data, dir.path, quiet()), ConfigError);
  auto decoder = tiny_config();
  decoder["predict"]["decoder"] = "grammer";
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(decoder), data, dir.path, quiet()),
                    Catch::Contains("predict.decoder") && Catch::Contains("grammer"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "pretrain"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "config.json"));
  // data that cannot be chosen on or scored: no validation loci (data.valid_percent = 0), no test loci
  const auto no_valid = GeneDataset::from_examples(named(synthetic_set(2, 1), "tr"), {}, named(synthetic_set(1, 3), "te"));
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(tiny_config()), no_valid, dir.path, quiet()),
                    Catch::Contains("leaves no validation loci") && Catch::Contains("data.valid_percent"));
  const auto no_test = GeneDataset::from_examples(named(synthetic_set(2, 1), "tr"), named(synthetic_set(1, 2), "va"), {});
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(tiny_config()), no_test, dir.path, quiet()),
                    Catch::Contains("no test loci"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "config.json"));
  // and a good one can still claim the directory afterwards (checked without training: zero arms)
  auto good = tiny_config();
  good["arms"] = nlohmann::json::array();
  run_gene_compare<TinyEncoder<float>>(ctx, gene_experiment_config(good), data, dir.path, quiet());
  CHECK(nlohmann::json::parse(read_text(dir.path / "config.json")) == good);
}

TEST_CASE("train_subset: nested subsets by locus name, errors for empty ones", "[pipeline][gene_experiment]") {
  const auto train = named(synthetic_set(60, 5), "locus");
  CHECK(train_subset(train, 1.0) == train);

  const auto half = train_subset(train, 0.5), quarter = train_subset(train, 0.25);
  std::vector<GeneExample> expected;
  for (const auto& g : train)
    if (in_train_fraction(g.name, 0.5)) expected.push_back(g);
  CHECK(half == expected);  // the hash rule, in the input order
  CHECK(!quarter.empty());
  CHECK(quarter.size() < half.size());
  CHECK(half.size() < train.size());
  std::set<std::string> half_names;
  for (const auto& g : half) half_names.insert(g.name);
  for (const auto& g : quarter) CHECK(half_names.count(g.name) == 1);  // nested
  // order-free: the subset of a reversed input is the reversed subset
  auto rev = train;
  std::reverse(rev.begin(), rev.end());
  auto rev_half = train_subset(rev, 0.5);
  std::reverse(rev_half.begin(), rev_half.end());
  CHECK(rev_half == half);

  // a fraction that leaves no locus, and fractions outside (0, 1]: configuration errors
  const auto two = named(synthetic_set(2, 1), "tr");
  CHECK_THROWS_AS(train_subset(two, 1e-6), ConfigError);
  CHECK_THROWS_WITH(train_subset(two, 1e-6), Catch::Contains("leaves none of the 2 training loci"));
  for (double f : {0.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    INFO(f);
    CHECK_THROWS_AS(train_subset(train, f), ConfigError);
    CHECK_THROWS_WITH(train_subset(train, f), Catch::Contains("data.train_fraction") && Catch::Contains("(0, 1]"));
  }
}

TEST_CASE("write_prediction_tsv / write_prediction_gff3 on hand-made predictions", "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_writers");
  std::filesystem::create_directories(dir.path);
  std::vector<GeneExample> loci(3);
  loci[0].name = "chrA";
  loci[0].sequence = "ACGTATGAAATAGCCCCCCC";  // 20 nt
  loci[1].name = "chrB";
  loci[1].sequence = "ACGTACGTACGT";  // 12 nt
  loci[2].name = "chrC";  // no prediction for it: skipped
  loci[2].sequence = "AAAA";
  for (auto& l : loci) l.labels.assign(l.sequence.size(), 8);

  std::vector<GenePrediction> pred(2);
  // chrA: one single-exon gene on +, 0-based [3, 9) -> 1-based 4..9
  pred[0].labels = {8, 8, 8, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  pred[0].confidence.assign(20, 0.5f);
  pred[0].confidence[3] = 1.0f;  // CDS mean (1 + 5 * 0.5) / 6 = 0.58333
  // chrB: a two-exon gene on -: exon 1..3, intron (acceptor 7, intron 6, donor 5), exon 7..10; no confidence
  pred[1].labels = {4, 4, 4, 7, 6, 5, 4, 4, 4, 4, 8, 8};

  const auto tsv = dir.path / "pred.tsv";
  write_prediction_tsv(tsv, loci, pred);
  const auto rows = read_label_tsv(tsv);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == GeneExample{"chrA", loci[0].sequence, pred[0].labels});
  CHECK(rows[1] == GeneExample{"chrB", loci[1].sequence, pred[1].labels});

  const auto gff = dir.path / "pred.gff3";
  const Gff3Summary s = write_prediction_gff3(gff, loci, pred);
  CHECK(s.genes == 2);
  CHECK(s.genes_plus == 1);  // every per-locus count is summed, not only genes and CDS
  CHECK(s.genes_minus == 1);
  CHECK(s.cds == 3);
  CHECK(s.introns == 1);
  CHECK(s.next_gene == 3);
  CHECK(read_text(gff) ==
        "##gff-version 3\n"
        "##sequence-region chrA 1 20\n"
        "chrA\tnucleo\tgene\t4\t9\t0.583\t+\t.\tID=nucleo.g1\n"
        "chrA\tnucleo\tmRNA\t4\t9\t0.583\t+\t.\tID=nucleo.g1.t1;Parent=nucleo.g1\n"
        "chrA\tnucleo\tCDS\t4\t9\t0.583\t+\t0\tID=nucleo.g1.t1.cds1;Parent=nucleo.g1.t1\n"
        "##sequence-region chrB 1 12\n"
        "chrB\tnucleo\tgene\t1\t10\t.\t-\t.\tID=nucleo.g2\n"
        "chrB\tnucleo\tmRNA\t1\t10\t.\t-\t.\tID=nucleo.g2.t1;Parent=nucleo.g2\n"
        // on -, the rightmost CDS (4 nt) comes first in the transcript: phase 0; then (3 - 4 % 3) % 3 = 2
        "chrB\tnucleo\tCDS\t1\t3\t.\t-\t2\tID=nucleo.g2.t1.cds1;Parent=nucleo.g2.t1\n"
        "chrB\tnucleo\tCDS\t7\t10\t.\t-\t0\tID=nucleo.g2.t1.cds2;Parent=nucleo.g2.t1\n");

  // a prediction whose length does not match its locus is refused, and nothing is written
  auto bad = pred;
  bad[0].labels.pop_back();
  const auto bad_tsv = dir.path / "bad.tsv";
  CHECK_THROWS_AS(write_prediction_tsv(bad_tsv, loci, bad), ShapeError);
  CHECK_FALSE(std::filesystem::exists(bad_tsv));
}
