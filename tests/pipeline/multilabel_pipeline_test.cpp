// Multilabel pipeline wiring (apps/nucleo_apps/finetune_multilabel.hpp, multilabel_experiment.hpp) on
// SYNTHETIC data with TinyEncoder and K = 7, a few steps; and the BEND BED + FASTA data path on
// files written to a temp dir.
#include "nucleo_apps/multilabel_experiment.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace nucleo;
using namespace nucleo::apps;

namespace {
nlohmann::json tiny_cpg_config() {
  nlohmann::json cfg = default_multilabel_config("cpg_methylation");
  cfg["model"] = "tiny";
  cfg["data"]["synthetic"]["train"] = 48;
  cfg["data"]["synthetic"]["valid"] = 8;
  cfg["data"]["synthetic"]["test"] = 8;
  cfg["data"]["synthetic"]["positive_rate"] = 0.5;
  for (const char* stage : {"pretrain", "finetune"}) {
    cfg[stage]["steps"] = 4;
    cfg[stage]["batch_size"] = 8;
    cfg[stage]["warmup"] = 1;
    cfg[stage]["checkpoint_every"] = 0;
  }
  return cfg;
}

ProgressOptions quiet() {
  ProgressOptions q;
  q.mode = ProgressOptions::Mode::off;
  return q;
}
}  // namespace

TEST_CASE("multilabel pipeline (SYNTHETIC data): pretrain, SPT fine-tune loads the encoder, compare writes results",
          "[pipeline]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_multilabel_pipeline_test";
  std::filesystem::remove_all(dir);
  CpuContext ctx(2);
  const nlohmann::json cfg = tiny_cpg_config();
  const MultilabelDataset data = load_multilabel_data(multilabel_experiment_config(cfg));
  REQUIRE(data.synthetic);
  CHECK(data.source.find("SYNTHETIC") != std::string::npos);
  CHECK(data.train.size() == 48);
  CHECK(data.valid.size() == 8);
  CHECK(data.test.size() == 8);
  for (const auto& e : data.train) {
    REQUIRE(e.tokens.size() == 512);
    REQUIRE(e.multilabels.size() == 7);
  }

  const auto results = run_multilabel_compare<TinyEncoder<float>, 7>(ctx, multilabel_experiment_config(cfg), data, dir, quiet());
  CHECK(results.at("data").at("synthetic").get<bool>());
  CHECK(results.at("data").at("source").get<std::string>().find("SYNTHETIC") != std::string::npos);
  for (const char* arm : {"scratch", "spt", "scratch_finetune_budget"}) {
    INFO(arm);
    const auto& r = results.at("arms").at(arm);
    const double auroc = r.at("test_mean_auroc").get<double>();
    CHECK(auroc >= 0.0);
    CHECK(auroc <= 1.0);
    CHECK(std::filesystem::exists(dir / arm / "best.ckpt"));
    CHECK(std::filesystem::exists(dir / arm / "result.json"));
    CHECK(std::filesystem::exists(dir / arm / "metrics.jsonl"));
  }
  // equal compute: scratch gets the pretraining steps as extra fine-tuning steps
  CHECK(results.at("arms").at("scratch").at("steps").get<int>() == 8);
  CHECK(results.at("arms").at("spt").at("steps").get<int>() == 4);
  CHECK(results.at("arms").at("scratch_finetune_budget").at("steps").get<int>() == 4);
  // the SPT arm loaded the pretrained encoder by name; the head started fresh
  const auto& load = results.at("arms").at("spt").at("encoder_load");
  CHECK(load.at("used").get<int>() > 0);
  CHECK(load.at("missing").size() > 0);
  CHECK(results.at("arms").at("scratch").at("encoder_load").is_null());
  CHECK(std::filesystem::exists(dir / "pretrain" / "best.ckpt"));
  CHECK(std::filesystem::exists(dir / "results.json"));
  // the saved configuration says SYNTHETIC
  std::ifstream in(dir / "config.json");
  const auto saved = nlohmann::json::parse(in);
  CHECK(saved.at("description").get<std::string>().find("SYNTHETIC") != std::string::npos);
  const std::string md = multilabel_results_markdown(results);
  CHECK(md.find("SYNTHETIC") != std::string::npos);
  CHECK(md.find("| spt | 4 + 4 |") != std::string::npos);
  // the per-label test AUROC of an arm is in its result.json
  std::ifstream rj(dir / "spt" / "result.json");
  const auto spt = nlohmann::json::parse(rj);
  CHECK(spt.at("test_extra").at("auroc").at("values").size() == 7);
  std::filesystem::remove_all(dir);
}

TEST_CASE("multilabel compare: a bad configuration is refused before the output directory is claimed", "[pipeline]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_multilabel_bad_config_test";
  std::filesystem::remove_all(dir);
  CpuContext ctx(1);
  const nlohmann::json base = tiny_cpg_config();
  const MultilabelDataset data = load_multilabel_data(multilabel_experiment_config(base));
  auto arm = base;
  arm["arms"] = {"spt", "sptt"};
  CHECK_THROWS_WITH((run_multilabel_compare<TinyEncoder<float>, 7>(ctx, multilabel_experiment_config(arm), data, dir, quiet())),
                    Catch::Contains("'sptt'"));
  auto frac = base;
  frac["data"]["train_fraction"] = 0.0;
  CHECK_THROWS_AS((run_multilabel_compare<TinyEncoder<float>, 7>(ctx, multilabel_experiment_config(frac), data, dir, quiet())), ConfigError);
  auto stage = base;
  stage["pretrain"]["weight_decay"] = -1.0;
  CHECK_THROWS_AS((run_multilabel_compare<TinyEncoder<float>, 7>(ctx, multilabel_experiment_config(stage), data, dir, quiet())), ConfigError);
  CHECK_FALSE(std::filesystem::exists(dir / "config.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("multilabel evaluation: mean AUROC leaves out undefined labels and names them", "[pipeline]") {
  CpuContext ctx(1);
  nlohmann::json cfg = tiny_cpg_config();
  cfg["data"]["synthetic"]["train"] = 4;
  cfg["data"]["synthetic"]["valid"] = 4;
  cfg["data"]["synthetic"]["test"] = 4;
  MultilabelDataset data = load_multilabel_data(multilabel_experiment_config(cfg));
  for (auto& e : data.valid) e.multilabels[3] = 0;  // label 3: no positive in this split
  data.valid[0].multilabels[0] = 1;                  // label 0: both classes
  data.valid[1].multilabels[0] = 0;
  SequenceNet<TinyEncoder<float>, 7> model;
  Rng rng(3);
  model.get<0>().init(rng);
  model.get<1>().init(rng);
  const auto ev = evaluate_multilabel(ctx, model, data.valid, 7, 3);
  CHECK(ev.sequences == 4);
  const auto undefined = ev.undefined_labels();
  CHECK(std::find(undefined.begin(), undefined.end(), "3") != undefined.end());
  CHECK(std::find(undefined.begin(), undefined.end(), "0") == undefined.end());
  CHECK(ev.auroc.defined == 7 - static_cast<long>(undefined.size()));
  CHECK(!ev.auroc.warnings.empty());
  const auto j = ev.to_json();
  CHECK(j.at("undefined_labels").size() == undefined.size());
  // batching does not change the result
  const auto ev1 = evaluate_multilabel(ctx, model, data.valid, 7, 1);
  CHECK(ev1.mean_auroc() == Approx(ev.mean_auroc()).epsilon(1e-12));
}

TEST_CASE("multilabel synthetic data: 125 labels derived from the motifs that fit in 512 bp", "[pipeline]") {
  nlohmann::json s = default_multilabel_config("chromatin_accessibility")["data"]["synthetic"];
  s["train"] = 20;
  s["valid"] = 5;
  s["test"] = 5;
  s["label_noise"] = 0.0;
  const MultilabelDataset d = make_synthetic_multilabel(125, multilabel_synthetic_config(s));
  REQUIRE(d.train.size() == 20);
  const int g = 512 / (2 * 1 * (8 + 1));  // 28 motif labels fit
  CHECK(d.source.find(fmt::format("from {} planted motifs", g)) != std::string::npos);
  for (const auto& e : d.train) {
    REQUIRE(e.multilabels.size() == 125);
    for (int k = g; k < 125; ++k) REQUIRE(e.multilabels[k] == e.multilabels[k % g]);
  }
  // same configuration, same data
  const MultilabelDataset d2 = make_synthetic_multilabel(125, multilabel_synthetic_config(s));
  CHECK(d2.train[3].tokens == d.train[3].tokens);
  CHECK(d2.test[1].multilabels == d.test[1].multilabels);
}

TEST_CASE("multilabel data: BEND BED + FASTA (strand, multi-hot labels, split from the last column)", "[pipeline]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_multilabel_bed_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream fa(dir / "genome.fa");
    fa << ">chr1\nACGTACGTAA\nCCGGTTAANN\nGATTACA\n>chr2\nTTTTGGGGCCCCAAAA\n";
  }
  {
    std::ofstream bed(dir / "task.bed");
    bed << "chromosome\tstart\tend\tstrand\tlabel\tsplit\n"
        << "chr1\t0\t6\t+\t0,2\ttrain\n"          // ACGTAC
        << "chr1\t8\t14\t-\t\ttrain\n"            // AACCGG -> reverse complement CCGGTT
        << "chr2\t2\t8\t+\t6\tvalid\n"            // TTGGGG
        << "chr1\t18\t24\t-\t1,3,6\ttest\n"       // NNGATT -> AATCNN
        << "chr2\t10\t16\t.\t5\ttest\n";          // CCAAAA
  }
  nlohmann::json cfg = default_multilabel_config("cpg_methylation");
  cfg["data"]["bed"] = (dir / "task.bed").string();
  cfg["data"]["fasta"] = (dir / "genome.fa").string();
  const MultilabelDataset d = load_multilabel_data(multilabel_experiment_config(cfg));
  CHECK_FALSE(d.synthetic);
  CHECK(d.source.find("SYNTHETIC") == std::string::npos);
  REQUIRE(d.train.size() == 2);
  REQUIRE(d.valid.size() == 1);
  REQUIRE(d.test.size() == 2);
  CHECK(tokens::decode(d.train[0].tokens) == "ACGTAC");
  CHECK(tokens::decode(d.train[1].tokens) == "CCGGTT");
  CHECK(tokens::decode(d.valid[0].tokens) == "TTGGGG");
  CHECK(tokens::decode(d.test[0].tokens) == "AATCNN");
  CHECK(tokens::decode(d.test[1].tokens) == "CCAAAA");
  using V = std::vector<std::uint8_t>;
  CHECK(d.train[0].multilabels == V{1, 0, 1, 0, 0, 0, 0});
  CHECK(d.train[1].multilabels == V{0, 0, 0, 0, 0, 0, 0});
  CHECK(d.valid[0].multilabels == V{0, 0, 0, 0, 0, 0, 1});
  CHECK(d.test[0].multilabels == V{0, 1, 0, 1, 0, 0, 1});
  CHECK(d.test[1].multilabels == V{0, 0, 0, 0, 0, 1, 0});
  CHECK(d.train_ids[1] == "chr1:8-14(-)");

  SECTION("read_strand off keeps the + strand") {
    cfg["data"]["read_strand"] = false;
    const MultilabelDataset p = load_multilabel_data(multilabel_experiment_config(cfg));
    CHECK(tokens::decode(p.train[1].tokens) == "AACCGG");
  }
  SECTION("a label index >= K is an error naming the file") {
    std::ofstream bed(dir / "bad.bed");
    bed << "chromosome\tstart\tend\tstrand\tlabel\tsplit\nchr1\t0\t6\t+\t7\ttrain\nchr1\t0\t6\t+\t1\ttest\n";
    bed.close();
    cfg["data"]["bed"] = (dir / "bad.bed").string();
    CHECK_THROWS_WITH(load_multilabel_data(multilabel_experiment_config(cfg)), Catch::Contains("bad.bed") && Catch::Contains("out of range"));
  }
  SECTION("unknown split names are an error listing the splits found") {
    std::ofstream bed(dir / "folds.bed");
    bed << "chromosome\tstart\tend\tstrand\tlabel\tsplit\nchr1\t0\t6\t+\t1\tfold1\n";
    bed.close();
    cfg["data"]["bed"] = (dir / "folds.bed").string();
    CHECK_THROWS_WITH(load_multilabel_data(multilabel_experiment_config(cfg)), Catch::Contains("fold1"));
  }
  SECTION("bed without fasta is a configuration error") {
    cfg["data"]["fasta"] = "";
    CHECK_THROWS_AS(load_multilabel_data(multilabel_experiment_config(cfg)), ConfigError);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("multilabel data: train_fraction gives nested deterministic subsets", "[pipeline]") {
  nlohmann::json cfg = tiny_cpg_config();
  cfg["data"]["synthetic"]["train"] = 400;
  const MultilabelDataset d = load_multilabel_data(multilabel_experiment_config(cfg));
  const auto f10 = multilabel_train_subset(d, 0.1), f25 = multilabel_train_subset(d, 0.25),
             all = multilabel_train_subset(d, 1.0);
  CHECK(all.size() == 400);
  CHECK(f10.size() > 20);
  CHECK(f10.size() < 60);
  CHECK(f25.size() > 70);
  CHECK(f25.size() < 130);
  for (const auto& e : f10)
    CHECK(std::any_of(f25.begin(), f25.end(), [&](const Example& o) { return o.tokens == e.tokens; }));
  for (double f : {0.0, 1.5}) {
    CHECK_THROWS_AS(multilabel_train_subset(d, f), ConfigError);
    CHECK_THROWS_WITH(multilabel_train_subset(d, f), Catch::Contains("data.train_fraction") && Catch::Contains("(0, 1]"));
  }
  CHECK_THROWS_WITH(multilabel_train_subset(d, 1e-9), Catch::Contains("leaves none of the 400 training sequences"));
}
