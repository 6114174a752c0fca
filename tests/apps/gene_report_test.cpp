// The tables of docs/ made from records (gene_report.hpp), on hand-made records with known figures.
#include "nucleo_apps/gene_report.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace nucleo;
using namespace nucleo::apps;

namespace {
// One run's arm with the figures the tables read.
nlohmann::json arm_row(double test_mcc, double exon_f1, double gene_f1, int genes, double genome_mcc) {
  auto counts = [](double f1, int found) {
    return nlohmann::json{{"truth", 100}, {"predicted", 100}, {"found", found}, {"sensitivity", f1}, {"precision", f1}, {"f1", f1}};
  };
  nlohmann::json structure = {{"exon", counts(exon_f1, 0)}, {"gene", counts(gene_f1, genes)},
                              {"donor", counts(0.5, 0)}, {"acceptor", counts(0.25, 0)}};
  return {{"pretrain_steps", 250},
          {"finetune_steps", 250},
          {"valid_mcc", 0.5},
          {"test_mcc", test_mcc},
          {"test", {{"mcc", test_mcc}, {"mcc_short_loci", 0.7}, {"structure", structure}}},
          {"decoder_selection", {{"label", "grammar gene_penalty 640"}, {"valid_mcc", 0.55}}},
          {"genome", {{"label", "grammar"}, {"valid_mcc", 0.45}, {"test", {{"mcc", genome_mcc}, {"structure", structure}}}}}};
}

nlohmann::json two_seed_record() {
  nlohmann::json cfg = default_gene_config();
  cfg["arms"] = {"spt_crf", "scratch"};
  cfg["genome"]["enabled"] = true;
  nlohmann::json r1 = {{"seeds", {{"pretrain", 1}, {"finetune", 1}}},
                       {"arms", {{"spt_crf", arm_row(0.8, 0.6, 0.3, 30, 0.7)}, {"scratch", arm_row(0.4, 0.2, 0.1, 10, 0.3)}}}};
  nlohmann::json r2 = {{"seeds", {{"pretrain", 2}, {"finetune", 2}}},
                       {"arms", {{"spt_crf", arm_row(0.6, 0.4, 0.1, 10, 0.5)}, {"scratch", arm_row(0.4, 0.2, 0.1, 10, 0.3)}}}};
  r2["arms"]["scratch"]["pretrain_steps"] = 0;
  r1["arms"]["scratch"]["pretrain_steps"] = 0;
  r1["arms"]["scratch"]["finetune_steps"] = r2["arms"]["scratch"]["finetune_steps"] = 500;
  return gene_compare_record(gene_experiment_config(cfg), {r1, r2}, 2, {{"command", "hand-made"}});
}

nlohmann::json augustus_record() {
  auto score = [](double mcc, double exon, double gene, int found) {
    return nlohmann::json{{"all", {{"mcc", mcc},
                                   {"structure", {{"exon", {{"f1", exon}}}, {"gene", {{"f1", gene}, {"found", found}}}}}}}};
  };
  return {{"kind", "augustus_peer"},
          {"training", {{"loci", 437}}},
          {"locus",
           {{"candidates", {"partial", "exactlyone"}},
            {"default", "partial"},
            {"chosen", "exactlyone"},
            {"valid", {{"partial", score(0.7, 0.8, 0.5, 25)}, {"exactlyone", score(0.9, 0.85, 0.6, 30)}}},
            {"test", {{"default", score(0.65, 0.81, 0.54, 54)}, {"chosen", score(0.92, 0.86, 0.6, 60)}}}}},
          {"genome",
           {{"candidates", {"partial"}},
            {"default", "partial"},
            {"chosen", "partial"},
            {"valid", {{"partial", score(0.6, 0.7, 0.4, 20)}}},
            {"test", {{"default", score(0.62, 0.75, 0.5, 50)}, {"chosen", score(0.62, 0.75, 0.5, 50)}}}}}};
}
}  // namespace

TEST_CASE("gene_compare_record and the summary table: mean +- sd over seeds, AUGUSTUS below", "[train][gene_report]") {
  const auto rec = two_seed_record();
  const auto& s = rec.at("summary").at("spt_crf");
  CHECK(s.at("locus.test_mcc").at("mean").get<double>() == Approx(0.7));
  CHECK(s.at("locus.test_mcc").at("sd").get<double>() == Approx(0.1414213562).epsilon(1e-9));  // sample sd of 0.8, 0.6
  CHECK(s.at("locus.genes_found").at("mean").get<double>() == Approx(20));
  CHECK(rec.at("summary").at("scratch").at("locus.test_mcc").at("sd").get<double>() == 0.0);
  CHECK(s.at("locus.decoder") == nlohmann::json{"grammar gene_penalty 640", "grammar gene_penalty 640"});

  const nlohmann::json aug = augustus_record();
  const std::string t = gene_summary_table(rec, &aug);
  CHECK_THAT(t, Catch::Contains("| SPT + CRF | 250 + 250 | 0.700 ± 0.141 | 0.500 ± 0.141 | 0.200 ± 0.141 | 20.0 ± 14.1 | "
                                "0.600 ± 0.141 | 0.500 ± 0.141 | 0.200 ± 0.141 | 20.0 ± 14.1 |"));
  CHECK_THAT(t, Catch::Contains("| scratch (equal compute) | 0 + 500 | 0.400 ± 0.000 |"));
  CHECK_THAT(t, Catch::Contains("| AUGUSTUS, default (`partial`); genome: `partial` | trained on the same 437 loci | 0.650 | "
                                "0.810 | 0.540 | 54 | 0.620 | 0.750 | 0.500 | 50 |"));
  CHECK_THAT(t, Catch::Contains("| AUGUSTUS, chosen on valid (`exactlyone`); genome: `partial` | trained on the same 437 loci | "
                                "0.920 |"));
  CHECK(t.find("SPT + CRF") < t.find("scratch (equal compute)"));  // the configuration's order

  const std::string seeds = gene_seed_table(rec);
  CHECK_THAT(seeds, Catch::Contains("| SPT + CRF | 2 | 0.500 | grammar gene_penalty 640 (0.550) | 0.600 | 0.400 | 0.100 | "
                                    "grammar (0.450) | 0.500 | 0.400 | 0.100 |"));
  const std::string aug_t = augustus_table(aug);
  CHECK_THAT(aug_t, Catch::Contains("| locus | `partial` (default) | 0.700 | 0.800 | 0.500 | 0.650 | 0.810 | 0.540 | 54 |"));
  CHECK_THAT(aug_t, Catch::Contains("| locus | `exactlyone` (chosen) | 0.900 | 0.850 | 0.600 | 0.920 |"));
  CHECK_THAT(aug_t, Catch::Contains("| genome | `partial` (default, chosen) | 0.600 |"));
}

TEST_CASE("update_report_blocks: bodies regenerated, the rest kept, idempotent, errors named", "[train][gene_report]") {
  const std::string text = "# Title\nprose 1\n<!-- report: summary gene-demo -->\nold table\n<!-- /report -->\nprose 2\n"
                           "<!-- report: readme a b -->\n<!-- /report -->\nend\n";
  std::vector<std::string> specs;
  auto make = [&](const std::string& spec) {
    specs.push_back(spec);
    return "TABLE(" + spec + ")\n";
  };
  const std::string out = update_report_blocks(text, make, "x.md");
  CHECK(out == "# Title\nprose 1\n<!-- report: summary gene-demo -->\nTABLE(summary gene-demo)\n<!-- /report -->\nprose 2\n"
               "<!-- report: readme a b -->\nTABLE(readme a b)\n<!-- /report -->\nend\n");
  CHECK(specs == std::vector<std::string>{"summary gene-demo", "readme a b"});
  CHECK(update_report_blocks(out, make, "x.md") == out);
  CHECK(update_report_blocks("no blocks\n", make, "x.md") == "no blocks\n");
  CHECK_THROWS_WITH(update_report_blocks("a <!-- report: seeds r -->\ntable\n", make, "x.md"),
                    Catch::Contains("x.md") && Catch::Contains("has no '<!-- /report -->'"));

  // the named tables, from records by name
  std::map<std::string, nlohmann::json> records = {{"gene-demo", two_seed_record()}, {"augustus", augustus_record()}};
  CHECK(gene_report_block("summary gene-demo", records) == gene_summary_table(records["gene-demo"], &records["augustus"]));
  CHECK(gene_report_block("augustus", records) == augustus_table(records["augustus"]));
  CHECK_THAT(gene_report_block("readme gene-demo", records),
             Catch::Contains("| nucleo SPT + CRF, `gene-demo` | 2 | 0.700 ± 0.141 |") &&
                 Catch::Contains("| AUGUSTUS, chosen on valid (`exactlyone`) | - | 0.920 |"));
  CHECK_THROWS_WITH(gene_report_block("summary gene-cpu", records), Catch::Contains("no record 'gene-cpu'"));
  CHECK_THROWS_WITH(gene_report_block("summary augustus", records), Catch::Contains("is not a gene_finding_compare record"));
  CHECK_THROWS_WITH(gene_report_block("plot gene-demo", records), Catch::Contains("unknown table 'plot'"));
  CHECK_THROWS_WITH(gene_report_block("summary", records), Catch::Contains("takes one record name"));
}

TEST_CASE("genome-resources table: nucleo-annotate records, then AUGUSTUS's genome runs", "[train][gene_report]") {
  nlohmann::json aug = augustus_record();
  aug["augustus_version"] = "3.5.0";
  aug["genome"]["candidates"] = {"partial", "complete"};
  aug["genome"]["resources"] = {
      {"partial", {{"seconds", 533.9}, {"max_rss_mb", 539.2}, {"shared_cpu", false}, {"nt_per_s", 9365}, {"load_average_before", 2.27}}},
      {"complete", {{"seconds", 1924.1}, {"max_rss_mb", 539.2}, {"shared_cpu", true}, {"nt_per_s", 2599}}}};
  const nlohmann::json ann = {{"kind", "nucleo_annotate_genome"}, {"options", "--decoder grammar --gene-penalty 640"},
                              {"threads", 2}, {"seconds", 61.04}, {"cpu_seconds", 118.6}, {"max_rss_mb", 412.6},
                              {"nt_per_s", 81913}, {"load_average_before", 0.5}, {"test", {{"all", {{"mcc", 0.6361}}}}}};
  std::map<std::string, nlohmann::json> records = {{"augustus", aug}, {"annotate-genome-spt_crf", ann}};
  const std::string t = gene_report_block("genome-resources annotate-genome-spt_crf", records);
  CHECK_THAT(t, Catch::Contains("| nucleo-annotate, `annotate-genome-spt_crf` | `--decoder grammar --gene-penalty 640` | 2 | "
                                "61 | 119 | 413 | 81913 | 0.50 | 0.636 |"));
  CHECK_THAT(t, Catch::Contains("| AUGUSTUS 3.5.0 | `--genemodel=partial` | 1 | 534 | - | 539 | 9365 | 2.27 | 0.620 |"));
  CHECK_THAT(t, Catch::Contains("| AUGUSTUS 3.5.0 | `--genemodel=complete` (beside another AUGUSTUS run) | 1 | 1924 | - | 539 | "
                                "2599 | - | not scored on test |"));
  CHECK(t.find("nucleo-annotate") < t.find("AUGUSTUS"));
  CHECK_THROWS_WITH(gene_report_block("genome-resources augustus", records),
                    Catch::Contains("is not a nucleo_annotate_genome record"));
}

TEST_CASE("ablation table: one row per record and arm, what each has on, AUGUSTUS below", "[train][gene_report]") {
  nlohmann::json cfg = default_gene_config();
  cfg["arms"] = {"spt_grammar_crf", "spt_crf"};
  cfg["genome"]["enabled"] = true;
  cfg["encoder"]["dilation_growth"] = 4;
  cfg["encoder"]["max_dilation"] = 1024;
  cfg["finetune"]["batch_size"] = 2;
  cfg["finetune"]["max_length"] = 8192;
  cfg["grammar_crf"]["intron_states"] = 1;
  cfg["grammar_crf"]["intergenic_states"] = 1;
  nlohmann::json r1 = {{"seeds", {{"pretrain", 1}, {"finetune", 1}}},
                       {"arms", {{"spt_grammar_crf", arm_row(0.8, 0.6, 0.3, 30, 0.7)}, {"spt_crf", arm_row(0.5, 0.2, 0.1, 10, 0.3)}}}};
  nlohmann::json r2 = r1;
  r2["seeds"] = {{"pretrain", 2}, {"finetune", 2}};
  r2["arms"]["spt_grammar_crf"] = arm_row(0.6, 0.4, 0.1, 10, 0.5);
  const auto rec = gene_compare_record(gene_experiment_config(cfg), {r1, r2}, 2, {{"command", "hand-made"}});
  const nlohmann::json aug = augustus_record();
  const std::string t = gene_ablation_table({{"wide:spt_grammar_crf", &rec}, {"wide:spt_crf", &rec}}, &aug);
  // small encoder, growth 4 to 1024: 8 * (1 + 4 + 16 + 64 + 256 + 1024) / 2 = 5460 nt each side
  CHECK_THAT(t, Catch::Contains("| `wide` | SPT + grammar CRF | grammar, trained | geometric | ±5460 nt | 2 x 8192 | 2 | "
                                "0.700 ± 0.141 | 0.500 ± 0.141 | 0.200 ± 0.141 | 20.0 ± 14.1 | 0.500 ± 0.000 / 0.500 ± 0.000 | "
                                "0.250 ± 0.000 / 0.250 ± 0.000 | 0.600 ± 0.141 |"));
  CHECK_THAT(t, Catch::Contains("| `wide` | SPT + CRF | 9-state chain + decoder grid | - | ±5460 nt |"));
  CHECK_THAT(t, Catch::Contains("| `augustus` | AUGUSTUS, default (`partial`) | generalized HMM | explicit | - | whole loci | - | "
                                "0.650 | 0.810 | 0.540 | 54 |"));
  CHECK_THROWS_AS(gene_report_block("ablation wide", {{"wide", rec}}), ConfigError);            // not record:arm
  CHECK_THROWS_AS(gene_report_block("ablation wide:scratch", {{"wide", rec}}), ConfigError);    // no such arm
  CHECK(gene_report_block("ablation wide:spt_crf", {{"wide", rec}}).find("9-state chain") != std::string::npos);
}
