// The typed configurations (gene_config.hpp, multilabel_experiment.hpp): every section parsed once
// from the merged JSON, errors naming the setting and the source; replicate and fraction variants
// keeping the JSON in step; the arms' equal-compute budgets (arm_budget.hpp).
#include "nucleo_apps/arm_budget.hpp"
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo_apps/multilabel_experiment.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using namespace nucleo;
using namespace nucleo::apps;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}
}  // namespace

TEST_CASE("gene_experiment_config: the defaults and --set overrides, typed", "[apps][gene_config]") {
  nlohmann::json j = default_gene_config();
  const GeneExperimentConfig d = gene_experiment_config(j);
  CHECK(d.json == j);
  CHECK(d.model == "small");
  // the default compare runs the five arms of the paper's table; the grammar CRF arms are asked for
  CHECK(d.arms == std::vector<std::string>{"scratch", "scratch_crf", "spt", "spt_crf", "scratch_finetune_budget"});
  CHECK(gene_arm_names().size() == 7);
  CHECK(d.pretrain.steps == 300);
  CHECK(d.finetune.steps == 300);
  CHECK(d.masking.p == 0.15);
  CHECK(d.head_activation == Activation::gelu);
  CHECK(d.decoder_grid.size() == 1 + 4 * 4 * 2);
  CHECK(d.sample_efficiency_fractions == std::vector<double>{0.1, 0.25, 1.0});
  CHECK(d.data.train.empty());
  CHECK(d.data.valid_percent == 10);
  CHECK_FALSE(d.genome_enabled);
  CHECK_FALSE(d.crf_constraints.has_value());

  for (const char* s : {"finetune.steps=7", "head_activation=relu", "predict.select.enabled=false", "arms=[\"spt_crf\"]",
                        "data.train_fraction=0.5", "predict.decoder=grammar", "crf_ce_weight=0.25", "mask.p=0.2"})
    apply_override(j, s);
  const GeneExperimentConfig g = gene_experiment_config(j);
  CHECK(g.json == j);
  CHECK(g.finetune.steps == 7);
  CHECK(g.pretrain.steps == 300);
  CHECK(g.head_activation == Activation::relu);
  CHECK(g.decoder_grid.empty());
  CHECK(g.arms == std::vector<std::string>{"spt_crf"});
  CHECK(g.data.train_fraction == 0.5);
  CHECK(g.predict.decoder == GeneDecoder::grammar);
  CHECK(g.crf_ce_weight == 0.25);
  CHECK(g.masking.p == 0.2);
}

TEST_CASE("gene_experiment_config: errors name the setting and the source", "[apps][gene_config]") {
  auto bad = [](const char* assignment) {
    nlohmann::json j = default_gene_config();
    apply_override(j, assignment);
    return error_of([&] { gene_experiment_config(j, "my.json"); });
  };
  CHECK_THAT(bad("arms=[\"sptt\"]"), Catch::StartsWith("my.json: 'arms': unknown arm 'sptt'"));
  CHECK_THAT(bad("finetune.min_lr_ratio=2"),
             Catch::StartsWith("my.json: 'finetune': ") && Catch::Contains("'min_lr_ratio' out of range"));
  CHECK_THAT(bad("data.train_fraction=0"), Catch::StartsWith("my.json: data.train_fraction must be in (0, 1]"));
  CHECK_THAT(bad("predict.decoder=grammer"), Catch::StartsWith("my.json: ") && Catch::Contains("grammer"));
  CHECK_THAT(bad("head_activation=tanh"), Catch::StartsWith("my.json: head_activation must be gelu or relu"));
  CHECK_THAT(bad("sample_efficiency.fractions=[2]"), Catch::Contains("sample_efficiency.fractions: 2 is not a fraction"));
  nlohmann::json j = default_gene_config();
  j["seeds"] = "2";  // a configuration built in code, not read from a file
  CHECK_THAT(error_of([&] { gene_experiment_config(j); }), Catch::StartsWith("seeds must be an integer"));
  j = default_gene_config();
  j["pretrain"]["lr"] = "fast";
  CHECK_THAT(error_of([&] { gene_experiment_config(j); }), Catch::StartsWith("'pretrain': "));
}

TEST_CASE("gene_seed_config and with_train_fraction keep the typed settings and the JSON in step", "[apps][gene_config]") {
  nlohmann::json j = default_gene_config();
  j["seeds"] = 3;
  j["finetune"]["seed"] = 5;
  const GeneExperimentConfig g = gene_experiment_config(j);
  CHECK(gene_seed_count(g) == 3);
  const GeneExperimentConfig r = gene_seed_config(g, 2);
  CHECK(r.seeds == 1);
  CHECK(r.pretrain.seed == 3);
  CHECK(r.finetune.seed == 7);
  CHECK(r.json.at("seeds") == 1);
  CHECK(r.json.at("pretrain").at("seed") == 3);
  CHECK(r.json.at("finetune").at("seed") == 7);
  CHECK(gene_experiment_config(r.json).finetune.seed == 7);  // the saved JSON reads back as the struct
  const GeneExperimentConfig f = g.with_train_fraction(0.25);
  CHECK(f.data.train_fraction == 0.25);
  CHECK(f.json.at("data").at("train_fraction") == 0.25);
  CHECK(g.data.train_fraction == 1.0);
  j["seeds"] = 0;
  CHECK_THAT(error_of([&] { gene_seed_count(gene_experiment_config(j)); }), Catch::Contains("1..1000"));
}

TEST_CASE("multilabel_experiment_config: the task's defaults typed, a wrong label count refused", "[apps][gene_config]") {
  nlohmann::json j = default_multilabel_config("cpg_methylation");
  apply_override(j, "data.max_sequences.valid=40");
  apply_override(j, "data.synthetic.seed=11");
  const MultilabelExperimentConfig m = multilabel_experiment_config(j);
  CHECK(m.json == j);
  CHECK(m.task == "cpg_methylation");
  CHECK(m.num_labels == 7);
  CHECK(m.arms == multilabel_arm_names());
  CHECK(m.pretrain.batch_size == 32);
  CHECK(m.data.max_valid == 40);
  CHECK(m.data.max_train == 0);
  CHECK(m.data.synthetic.seed == 11);
  CHECK(m.data.synthetic.train == 2000);
  CHECK(m.data.read_strand);
  j["num_labels"] = 8;
  CHECK_THROWS_WITH(multilabel_experiment_config(j), Catch::Contains("num_labels 8 does not match task cpg_methylation"));
  j = default_multilabel_config("cpg_methylation");
  j["arms"] = {"spt_crf"};  // a gene-finding arm
  CHECK_THAT(error_of([&] { multilabel_experiment_config(j, "cpg.json"); }),
             Catch::StartsWith("cpg.json: 'arms': unknown arm 'spt_crf'"));
}

TEST_CASE("arm_budget: equal compute in optimizer steps", "[apps][gene_config]") {
  for (const char* arm : {"spt", "spt_crf"}) {
    const ArmBudget b = arm_budget(arm, 4, 3);
    CHECK(b.from_spt);
    CHECK(b.finetune_steps == 3);
    CHECK(b.pretrain_steps == 4);
    CHECK(b.total_steps() == 7);
  }
  for (const char* arm : {"scratch", "scratch_crf"}) {
    const ArmBudget b = arm_budget(arm, 4, 3);
    CHECK_FALSE(b.from_spt);
    CHECK(b.finetune_steps == 7);
    CHECK(b.pretrain_steps == 0);
    CHECK(b.total_steps() == 7);
  }
  const ArmBudget f = arm_budget("scratch_finetune_budget", 4, 3);
  CHECK_FALSE(f.from_spt);
  CHECK(f.total_steps() == 3);

  StageResult r, pre;
  r.seconds = 2;
  pre.seconds = 5;
  nlohmann::json row;
  add_arm_budget(row, arm_budget("spt", 4, 3), r, pre);
  CHECK(row == nlohmann::json{{"total_steps", 7}, {"finetune_steps", 3}, {"pretrain_steps", 4}, {"seconds_with_pretrain", 7.0}});
  row = nlohmann::json::object();
  add_arm_budget(row, arm_budget("scratch", 4, 3), r, pre);
  CHECK_FALSE(row.contains("seconds_with_pretrain"));
  CHECK(row.at("finetune_steps") == 7);
}
