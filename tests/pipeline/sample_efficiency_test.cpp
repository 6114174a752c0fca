// The sample-efficiency experiment wired end to end on SYNTHETIC loci (TinyEncoder, a few steps):
// one pretraining shared by every fraction, nested fine-tuning subsets, table, plot, resume, and
// refusal of an output directory holding another configuration.
#include "nucleo_apps/gene_sample_efficiency.hpp"

#include <catch2/catch.hpp>

#include "pipeline/synthetic_genes.hpp"

#include <filesystem>
#include <fstream>
#include <regex>

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;

namespace {
nlohmann::json tiny_config() {
  nlohmann::json cfg = tiny_gene_config();
  cfg["arms"] = {"spt", "scratch"};
  cfg["sample_efficiency"]["fractions"] = {1.0, 0.5};  // sorted by the run
  return cfg;
}
}  // namespace

TEST_CASE("sample efficiency (SYNTHETIC data): shared pretraining, nested subsets, table and plot", "[pipeline][sample_efficiency]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_sample_efficiency_test";
  std::filesystem::remove_all(dir);
  CpuContext ctx(2);
  const auto data = GeneDataset::from_examples(named(synthetic_set(40, 1), "tr"), named(synthetic_set(6, 2), "va"),
                                               named(synthetic_set(6, 3), "te"));
  const ProgressOptions quiet = quiet_progress();
  const auto cfg = tiny_config();
  const auto r = run_gene_sample_efficiency<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir, quiet);

  REQUIRE(r.at("fractions").size() == 2);
  const auto& half = r["fractions"][0];
  const auto& all = r["fractions"][1];
  CHECK(half.at("fraction").get<double>() == 0.5);
  CHECK(half.at("dir") == "train-50pct");
  CHECK(all.at("dir") == "train-100pct");
  // the subset is what in_train_fraction says, and the whole set at 100%
  std::size_t expected = 0;
  for (const auto& g : data.train()) expected += in_train_fraction(g.name, 0.5) ? 1 : 0;
  CHECK(half.at("finetune_loci").get<std::size_t>() == expected);
  CHECK(expected > 0);
  CHECK(expected < data.train().size());
  CHECK(all.at("finetune_loci").get<std::size_t>() == data.train().size());
  for (const auto& row : r["fractions"])
    for (const char* arm : {"spt", "scratch"}) {
      const double m = row["arms"][arm].at("test_mcc").get<double>();
      CHECK(m >= -1.0);
      CHECK(m <= 1.0);
    }
  // equal compute inside every fraction: scratch gets pretraining + fine-tuning steps
  CHECK(all["arms"]["scratch"]["total_steps"] == 8);
  CHECK(all["arms"]["spt"]["total_steps"] == 8);
  CHECK(all["arms"]["spt"]["pretrain_steps"] == 4);

  // one pretraining, in out/pretrain, none inside the fraction directories
  CHECK(std::filesystem::exists(dir / "pretrain" / "best.ckpt"));
  CHECK_FALSE(std::filesystem::exists(dir / "train-50pct" / "pretrain"));
  CHECK_FALSE(std::filesystem::exists(dir / "train-100pct" / "pretrain"));
  for (const char* d : {"train-50pct", "train-100pct"}) {
    CHECK(std::filesystem::exists(dir / d / "results.json"));
    CHECK(std::filesystem::exists(dir / d / "spt" / "best.ckpt"));
    CHECK(std::filesystem::exists(dir / d / "scratch" / "test_predictions.gff3"));
  }
  // the fraction directories hold their own configuration
  {
    std::ifstream in(dir / "train-50pct" / "config.json");
    const auto c = nlohmann::json::parse(in);
    CHECK(c["data"]["train_fraction"].get<double>() == 0.5);
  }
  nlohmann::json saved;
  {
    std::ifstream in(dir / "sample_efficiency.json");
    saved = nlohmann::json::parse(in);
  }
  CHECK(saved == r);

  const std::string md = sample_efficiency_markdown(r);
  CHECK_THAT(md, Catch::Contains("| training loci | SPT | scratch (equal compute) |"));
  CHECK_THAT(md, Catch::Contains(fmt::format("| 50% ({}) | {:.4f}", expected, half["arms"]["spt"]["test_mcc"].get<double>())));
  const std::string svg = sample_efficiency_plot(r).render();
  const std::regex poly(R"re(<polyline[^>]*points="[^" ]+ [^" ]+")re");  // two points each
  CHECK(std::distance(std::sregex_iterator(svg.begin(), svg.end(), poly), std::sregex_iterator()) == 2);

  // the same configuration resumes to the same figures; another one is refused
  const auto again = run_gene_sample_efficiency<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir, quiet);
  CHECK(again["fractions"] == r["fractions"]);
  auto other = cfg;
  other["finetune"]["steps"] = 5;
  CHECK_THROWS_WITH(run_gene_sample_efficiency<TinyEncoder<float>>(ctx, gene_experiment_config(other), data, dir, quiet),
                    Catch::Contains("different configuration"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("sample efficiency: fractions are checked before any training", "[pipeline][sample_efficiency]") {
  auto cfg = tiny_config();
  cfg["sample_efficiency"]["fractions"] = {0.25, 1.5};
  CHECK_THROWS_WITH(sample_efficiency_fractions(cfg), Catch::Contains("1.5") && Catch::Contains("(0, 1]"));
  cfg["sample_efficiency"]["fractions"] = nlohmann::json::array();
  CHECK_THROWS_AS(sample_efficiency_fractions(cfg), ConfigError);
  cfg["sample_efficiency"]["fractions"] = {0.25, 0.1, 0.25};
  CHECK(sample_efficiency_fractions(cfg) == std::vector<double>{0.1, 0.25});
  CHECK(sample_efficiency_dir_name(0.125) == "train-12.5pct");
  CHECK(sample_efficiency_dir_name(0.1) == "train-10pct");

  // a fraction that leaves no locus fails before pretraining writes anything
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_sample_efficiency_empty";
  std::filesystem::remove_all(dir);
  CpuContext ctx(1);
  const auto data = GeneDataset::from_examples(named(synthetic_set(2, 1), "tr"), named(synthetic_set(1, 2), "va"),
                                               named(synthetic_set(1, 3), "te"));
  cfg["sample_efficiency"]["fractions"] = {1e-6, 1.0};
  CHECK_THROWS_WITH(run_gene_sample_efficiency<TinyEncoder<float>>(ctx, gene_experiment_config(cfg), data, dir),
                    Catch::Contains("leaves none of the 2 training loci"));
  CHECK_FALSE(std::filesystem::exists(dir));
}
