// The gene-finding comparison (gene_experiment.hpp) on SYNTHETIC loci with TinyEncoder and a few
// steps: equal compute between the arms, results.json, per-arm predictions (TSV and GFF3), the
// Markdown table; train_subset; the prediction writers on hand-made labels.
#include "nucleo/train/gene_experiment.hpp"

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

// Settings that run in seconds (as in sample_efficiency_test.cpp), all four arms in a non-sorted order.
nlohmann::json tiny_config() {
  nlohmann::json cfg = tiny_gene_config();
  cfg["finetune"]["steps"] = 3;  // P != F, so the sums below are distinguishable
  cfg["arms"] = {"spt_crf", "scratch_finetune_budget", "spt", "scratch"};
  // the decoder scan of every arm: model, and the grammar at 2 x 2 priors
  cfg["predict"]["select"] = {{"enabled", true}, {"gene_penalty", {0.0, 5.0}}, {"deep_intron_penalty", {nullptr, 2.0}},
                              {"one_gene_per_record", {false}}};
  return cfg;
}

ProgressOptions quiet() { return quiet_progress(); }
}  // namespace

TEST_CASE("run_gene_compare (SYNTHETIC data): four arms, equal compute, outputs", "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_test");
  CpuContext ctx(2);
  const auto data = GeneDataset::from_examples(named(synthetic_set(12, 11), "tr"), named(synthetic_set(3, 12), "va"),
                                               named(synthetic_set(4, 13), "te"));
  const auto cfg = tiny_config();
  const auto r = run_gene_compare<TinyEncoder<float>>(ctx, cfg, data, dir.path, quiet());

  // results.json holds exactly what was returned; config.json the configuration
  CHECK(nlohmann::json::parse(read_text(dir.path / "results.json")) == r);
  CHECK(nlohmann::json::parse(read_text(dir.path / "config.json")) == cfg);
  CHECK(r.at("arm_order") == cfg.at("arms"));
  CHECK(r.at("model") == "tiny");
  CHECK(r.at("threads") == 2);
  CHECK(r.at("data").at("train_loci") == 12);
  CHECK(r.at("data").at("finetune_loci") == 12);
  CHECK(r.at("data").at("valid_loci") == 3);
  CHECK(r.at("data").at("test_loci") == 4);
  REQUIRE(r.at("arms").size() == 4);
  REQUIRE(r.contains("pretrain"));
  CHECK(r.at("pretrain").at("steps") == 4);
  CHECK(std::filesystem::exists(dir.path / "pretrain"));

  // equal compute: P = 4 pretraining steps, F = 3 fine-tuning steps
  const auto& arms = r.at("arms");
  CHECK(arms.at("scratch").at("total_steps") == 7);
  CHECK(arms.at("scratch").at("finetune_steps") == 7);
  CHECK(arms.at("scratch").at("pretrain_steps") == 0);
  CHECK(arms.at("scratch").at("steps") == 7);  // steps actually taken
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
  CHECK(arms.at("spt").at("crf") == false);
  CHECK(arms.at("scratch").at("init") == "scratch");
  CHECK_FALSE(arms.at("scratch").contains("seconds_with_pretrain"));

  // each arm's test predictions: one label per nucleotide of every test locus, in order
  for (const std::string arm : {"scratch", "spt", "spt_crf", "scratch_finetune_budget"}) {
    INFO(arm);
    const double m = arms.at(arm).at("test_mcc").get<double>();
    CHECK(m >= -1.0);
    CHECK(m <= 1.0);
    // the same checkpoint scored with the grammar decoder too (the configuration's decoder is "model")
    const double g = arms.at(arm).at("test_grammar").at("mcc").get<double>();
    CHECK(g >= -1.0);
    CHECK(g <= 1.0);
    CHECK(arms.at(arm).at("test_grammar").contains("mcc_short_loci"));
    // the decoder chosen on validation among predict.select's settings: the scan agrees with the
    // arm's own evaluations, and the choice is the highest valid MCC
    const auto& sel = arms.at(arm).at("decoder_selection");
    const auto& grid = sel.at("grid");
    REQUIRE(grid.size() == 5);
    CHECK(grid[0].at("label") == "model");
    CHECK(grid[0].at("valid_mcc").get<double>() == Approx(arms.at(arm).at("valid_mcc").get<double>()).margin(1e-12));
    CHECK(grid[0].at("test_mcc").get<double>() == Approx(m).margin(1e-12));
    CHECK(grid[1].at("label") == "grammar");
    CHECK(grid[1].at("test_mcc").get<double>() == Approx(g).margin(1e-12));
    std::size_t best = 0;
    for (std::size_t i = 0; i < grid.size(); ++i)
      if (grid[i].at("valid_mcc").get<double>() > grid[best].at("valid_mcc").get<double>()) best = i;
    CHECK(sel.at("selected") == best);
    CHECK(sel.at("test_mcc") == grid[best].at("test_mcc"));
    CHECK(sel.at("label") == grid[best].at("label"));
    // the chosen decoder's test predictions are written too, and score what the scan says
    const auto chosen = read_label_tsv(dir.path / arm / "test_predictions.chosen.tsv");
    REQUIRE(chosen.size() == data.test().size());
    ConfusionMatrix cm(kGeneClasses);
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      REQUIRE(chosen[i].labels.size() == data.test()[i].labels.size());
      for (std::size_t t = 0; t < chosen[i].labels.size(); ++t) cm.add(data.test()[i].labels[t], chosen[i].labels[t]);
    }
    CHECK(matthews_corrcoef(cm) == Approx(sel.at("test_mcc").get<double>()).margin(1e-12));
    CHECK_THAT(read_text(dir.path / arm / "test_predictions.chosen.gff3"), Catch::StartsWith("##gff-version 3\n"));
    const auto rows = read_label_tsv(dir.path / arm / "test_predictions.tsv");
    REQUIRE(rows.size() == data.test().size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CHECK(rows[i].name == data.test()[i].name);
      CHECK(rows[i].sequence == data.test()[i].sequence);
      CHECK(rows[i].labels.size() == data.test()[i].sequence.size());
    }
    const std::string gff = read_text(dir.path / arm / "test_predictions.gff3");
    CHECK_THAT(gff, Catch::StartsWith("##gff-version 3\n"));
    CHECK_THAT(gff, Catch::Contains("##sequence-region te0 1 " + std::to_string(data.test()[0].sequence.size())));
  }

  // the table: one row per arm, in the configuration's order
  const std::string md = gene_results_markdown(r);
  CHECK_THAT(md, Catch::StartsWith("Gene finding, ") && Catch::Contains("model tiny") &&
                     Catch::Contains("test split: 4 loci"));
  std::vector<std::string> row_arms;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line) && line.rfind("Decoder chosen", 0) != 0;)
    if (line.rfind("| ", 0) == 0 && line.rfind("| arm ", 0) != 0) row_arms.push_back(line.substr(2, line.find(" |") - 2));
  CHECK(row_arms == cfg.at("arms").get<std::vector<std::string>>());
  CHECK_THAT(md, Catch::Contains("| scratch | 0 + 7 |"));
  CHECK_THAT(md, Catch::Contains("| spt | 4 + 3 |"));
  CHECK_THAT(md, Catch::Contains("| spt_crf | 4 + 3 |"));
  CHECK_THAT(md, Catch::Contains("| scratch_finetune_budget | 0 + 3 |"));
  CHECK_THAT(md, Catch::Contains(fmt::format("| spt | 4 + 3 | {:.4f} | {:.4f} |", arms.at("spt").at("valid_mcc").get<double>(),
                                             arms.at("spt").at("test_mcc").get<double>())));
  CHECK_THAT(md, Catch::Contains("grammar decoder") &&
                     Catch::Contains(fmt::format("| {:.4f} / {:.4f} |", arms.at("spt").at("test_grammar").at("mcc").get<double>(),
                                                 arms.at("spt").at("test_grammar").at("mcc_short_loci").get<double>())));

  // and the decoder each arm chose, in a second table
  const auto& ss = arms.at("spt").at("decoder_selection");
  CHECK_THAT(md, Catch::Contains(fmt::format("| spt | {} | {:.4f} | {:.4f} | {:.4f} |", ss.at("label").get<std::string>(),
                                             ss.at("valid_mcc").get<double>(), ss.at("test_mcc").get<double>(),
                                             ss.at("test_mcc_short_loci").get<double>())));

  // an arm not run yet (an interrupted compare) is left out of the table
  auto partial = r;
  partial["arms"].erase("spt");
  const std::string md2 = gene_results_markdown(partial);
  CHECK_THAT(md2, !Catch::Contains("| spt |"));
  CHECK_THAT(md2, Catch::Contains("| spt_crf |"));

  // the same output directory with another configuration is refused
  auto other = cfg;
  other["finetune"]["steps"] = 2;
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, other, data, dir.path, quiet()),
                    Catch::Contains("different configuration"));
}

TEST_CASE("run_gene_compare: an unknown arm is a ConfigError before any training", "[pipeline][gene_experiment]") {
  ScratchDir dir("nucleo_gene_experiment_bad_arm");
  CpuContext ctx(1);
  const auto data = GeneDataset::from_examples(named(synthetic_set(2, 1), "tr"), named(synthetic_set(1, 2), "va"),
                                               named(synthetic_set(1, 3), "te"));
  auto cfg = tiny_config();
  cfg["arms"] = {"spt", "sptt"};
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, cfg, data, dir.path, quiet()), ConfigError);
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, cfg, data, dir.path, quiet()),
                    Catch::Contains("'sptt'") && Catch::Contains("scratch_finetune_budget"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "pretrain"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "spt"));
  // a refused configuration is not saved as the directory's run
  CHECK_FALSE(std::filesystem::exists(dir.path / "config.json"));

  // the same for a bad train_fraction and a bad stage setting
  auto frac = tiny_config();
  frac["data"]["train_fraction"] = 0.0;
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, frac, data, dir.path, quiet()), ConfigError);
  auto stage = tiny_config();
  stage["finetune"]["min_lr_ratio"] = 2.0;
  CHECK_THROWS_AS(run_gene_compare<TinyEncoder<float>>(ctx, stage, data, dir.path, quiet()), ConfigError);
  auto decoder = tiny_config();
  decoder["predict"]["decoder"] = "grammer";
  CHECK_THROWS_WITH(run_gene_compare<TinyEncoder<float>>(ctx, decoder, data, dir.path, quiet()),
                    Catch::Contains("predict.decoder") && Catch::Contains("grammer"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "pretrain"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "config.json"));
  // and a good one can still claim the directory afterwards (checked without training: zero arms)
  auto good = tiny_config();
  good["arms"] = nlohmann::json::array();
  run_gene_compare<TinyEncoder<float>>(ctx, good, data, dir.path, quiet());
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
