// nucleo-data: the default gene-finding data set (AUGUSTUS fly genes from Debian's augustus-doc).
//
//   nucleo-data stats  [--train F --test F] [--valid-percent P]
//   nucleo-data export --split test --out DIR [--train F --test F] [--valid-percent P]
//   nucleo-data score  (--pred-gff F | --pred-tsv F) [--truth F.gb] [--max-length N] [--out F.json]
//
// `stats` prints per-split counts (loci, nucleotides, length min/median/max, N count, class
// frequencies in BEND's 9 classes); `export` writes DIR/<split>.fa and DIR/<split>.labels.tsv;
// `score` scores any gene finder's predictions (GFF3/GTF or a label TSV) against the truth with
// nucleo's labels and pooled 9-class MCC (metrics/gene_prediction_score.hpp).
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "nucleo/core/error.hpp"
#include "nucleo/data/gene_dataset.hpp"
#include "nucleo/detail/line_reader.hpp"
#include "nucleo/io/cli.hpp"
#include "nucleo/metrics/gene_prediction_score.hpp"

namespace {

std::string grouped(std::size_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

const char* kUsage =
    "usage: nucleo-data <command> [options]\n"
    "\n"
    "The default gene-finding data set: AUGUSTUS's Drosophila training genes (genes.gb.train / genes.gb.test\n"
    "from Debian's augustus-doc), labelled per nucleotide in BEND's 9 classes; valid = ~10% of the train loci\n"
    "chosen by FNV-1a(locus name) % 100 < valid-percent.\n"
    "\n"
    "commands:\n"
    "  stats    print loci, nucleotides, length min/median/max, N count and class frequencies per split\n"
    "  export   write a split as <out>/<split>.fa and <out>/<split>.labels.tsv (name, sequence, labels)\n"
    "  score    score gene predictions (GFF3/GTF or label TSV) against the truth: pooled 9-class MCC\n"
    "\n"
    "Run 'nucleo-data <command> --help' for the options of a command.\n";

void add_data_options(nucleo::ArgParser& p) {
  p.optional_option("--train", "GenBank training genes (default: augustus-doc genes.gb.train)", "FILE")
      .optional_option("--test", "GenBank test genes (default: augustus-doc genes.gb.test)", "FILE")
      .option("--valid-percent", "percent of train loci carved into valid", "10", "P");
}

nucleo::GeneDataset load(const nucleo::ArgParser& p) {
  const auto train = p.find("--train"), test = p.find("--test");
  if (train.has_value() != test.has_value())
    throw nucleo::ConfigError("nucleo-data: give both --train and --test, or neither (see --help)");
  const int valid = static_cast<int>(p.get_int("--valid-percent"));
  if (train) return nucleo::GeneDataset::load({*train, *test}, valid);
  return nucleo::GeneDataset::load(nucleo::find_gene_files(), valid);
}

int cmd_stats(int argc, const char* const* argv) {
  nucleo::ArgParser p("nucleo-data stats", "Print per-split statistics of the gene-finding data set.");
  add_data_options(p);
  p.parse(argc, argv, 2);
  if (p.help_requested()) {
    std::cout << p.help();
    return 0;
  }
  const auto d = load(p);
  const auto tr = nucleo::compute_stats(d.train()), va = nucleo::compute_stats(d.valid()),
             te = nucleo::compute_stats(d.test());
  std::cout << "files:\n  train+valid: " << d.files().train.string() << "  (" << tr.loci + va.loci << " loci, "
            << grouped(tr.nucleotides + va.nucleotides) << " nt)\n  test:        " << d.files().test.string()
            << "  (" << te.loci << " loci, " << grouped(te.nucleotides) << " nt)\n"
            << "valid rule: FNV-1a-64(locus name) % 100 < " << p.get("--valid-percent") << "\n\n";
  std::cout << fmt::format("{:<6} {:>6} {:>12} {:>8} {:>8} {:>8} {:>6}\n", "split", "loci", "nucleotides", "len_min",
                           "len_med", "len_max", "N");
  const std::pair<const char*, const nucleo::GeneSplitStats*> rows[] = {{"train", &tr}, {"valid", &va}, {"test", &te}};
  for (const auto& [name, s] : rows)
    std::cout << fmt::format("{:<6} {:>6} {:>12} {:>8} {:>8} {:>8} {:>6}\n", name, s->loci, grouped(s->nucleotides),
                             s->min_length, s->median_length, s->max_length, s->n_count);
  std::cout << "\nclass frequencies (nucleotides, % of split):\n";
  std::cout << fmt::format("{:<12} {:>18} {:>18} {:>18}\n", "class", "train", "valid", "test");
  for (int c = 0; c < nucleo::kGeneClasses; ++c) {
    std::string line = fmt::format("{} {:<10}", c, nucleo::kGeneClassNames[static_cast<std::size_t>(c)]);
    for (const auto& [name, s] : rows) {
      const auto n = s->class_counts[static_cast<std::size_t>(c)];
      const double pct = s->nucleotides ? 100.0 * static_cast<double>(n) / static_cast<double>(s->nucleotides) : 0.0;
      line += fmt::format(" {:>10} {:>6.2f}%", grouped(n), pct);
    }
    std::cout << line << '\n';
  }
  const auto& r = d.label_report();
  std::cout << fmt::format(
      "\nlabels: {} transcripts; stop codon inside the CDS (labelled 8): {}, right after the CDS: {}, none: {};\n"
      "        overlapping transcripts: {}, conflicting nucleotides: {}; letters mapped to N: {}{}\n",
      r.transcripts, r.stop_in_cds, r.stop_after_cds, r.no_stop, r.overlapping_transcripts, r.conflicting_nucleotides,
      d.replaced().replaced(), d.replaced().replaced() ? " (" + d.replaced().summary() + ")" : "");
  return 0;
}

int cmd_export(int argc, const char* const* argv) {
  nucleo::ArgParser p("nucleo-data export", "Write a split as <out>/<split>.fa and <out>/<split>.labels.tsv.");
  p.option("--split", "train, valid or test", "test").option("--out", "output directory", std::nullopt, "DIR");
  add_data_options(p);
  p.parse(argc, argv, 2);
  if (p.help_requested()) {
    std::cout << p.help();
    return 0;
  }
  const std::string split = p.get("--split");
  if (split != "train" && split != "valid" && split != "test")
    throw nucleo::ConfigError(fmt::format("nucleo-data export: unknown split '{}' (expected train, valid or test)", split));
  const auto d = load(p);
  const auto& ex = d.split(split);
  const auto files = nucleo::export_gene_split(ex, p.get("--out"), split);
  std::size_t nt = 0;
  for (const auto& e : ex) nt += e.sequence.size();
  std::cout << fmt::format("wrote {} ({} loci, {} nt)\nwrote {}\n", files[0].string(), ex.size(), grouped(nt),
                           files[1].string());
  return 0;
}

void print_score_row(const char* what, const nucleo::GenePredictionScore& s) {
  std::cout << fmt::format("{:<14} {:>5} {:>12} {:>8.4f} {:>9.4f}\n", what, s.loci, grouped(static_cast<std::size_t>(s.nucleotides)),
                           s.report.mcc, s.report.accuracy);
}

int cmd_score(int argc, const char* const* argv) {
  nucleo::ArgParser p("nucleo-data score",
                      "Score gene predictions against a truth split with nucleo's 9-class labels and pooled MCC.\n"
                      "Predictions: GFF3/GTF (seqid = locus name; CDS + start_codon of both strands, stop codons\n"
                      "labelled noncoding whether the CDS includes them or not; loci without genes = all noncoding)\n"
                      "or a label TSV 'name<TAB>sequence<TAB>labels' (the export format; every locus required).");
  p.optional_option("--truth", "GenBank truth loci (default: the fly test split, augustus-doc genes.gb.test)", "FILE")
      .optional_option("--pred-gff", "predictions as GFF3 or GTF (plain or gzip)", "FILE")
      .optional_option("--pred-tsv", "predictions as a per-nucleotide label TSV", "FILE")
      .option("--max-length", "also score the loci of at most N nt (0: all loci only)", "14000", "N")
      .optional_option("--name", "predictor name stored in the JSON (e.g. 'AUGUSTUS 3.5.0')", "TEXT")
      .optional_option("--out", "write the result as JSON (temp file + rename)", "FILE");
  p.parse(argc, argv, 2);
  if (p.help_requested()) {
    std::cout << p.help();
    return 0;
  }
  const auto gff = p.find("--pred-gff"), tsv = p.find("--pred-tsv");
  if (gff.has_value() == tsv.has_value())
    throw nucleo::ConfigError("nucleo-data score: give exactly one of --pred-gff and --pred-tsv (see --help)");
  const std::int64_t max_length = p.get_int("--max-length");
  if (max_length < 0) throw nucleo::ConfigError("nucleo-data score: --max-length must be >= 0 (see --help)");

  const std::filesystem::path truth_path = p.find("--truth") ? std::filesystem::path(*p.find("--truth"))
                                                             : nucleo::find_gene_files().test;
  std::vector<nucleo::GeneExample> truth;
  nucleo::GeneLabelReport truth_rep;
  for (const auto& l : nucleo::read_genbank(truth_path)) truth.push_back(nucleo::make_gene_example(l, &truth_rep));

  nlohmann::json j;
  if (auto n = p.find("--name")) j["predictor"] = *n;
  j["truth"] = truth_path.string();
  std::vector<nucleo::GeneExample> pred;
  nucleo::GeneScoreOptions opt;
  if (gff) {
    nucleo::GeneLabelReport rep;
    nucleo::GffReport grep;
    pred = nucleo::read_gene_predictions_gff(*gff, truth, &rep, &grep);
    opt.missing_as_noncoding = true;  // every truth locus is in `pred` anyway
    std::size_t with_genes = 0;
    for (const auto& e : pred)
      with_genes += std::any_of(e.labels.begin(), e.labels.end(), [](auto c) { return c != nucleo::kNoncoding; });
    j["predictions"] = {{"file", *gff},
                        {"format", "gff"},
                        {"cds_features", grep.cds_features},
                        {"transcripts", grep.transcripts},
                        {"loci_with_genes", with_genes},
                        {"ignored_features", grep.ignored_features},
                        {"stop_codon_in_cds", rep.stop_in_cds},
                        {"stop_codon_after_cds", rep.stop_after_cds},
                        {"no_stop_codon", rep.no_stop},
                        {"overlapping_transcripts", rep.overlapping_transcripts},
                        {"conflicting_nucleotides", rep.conflicting_nucleotides}};
  } else {
    pred = nucleo::read_label_tsv(*tsv);
    j["predictions"] = {{"file", *tsv}, {"format", "tsv"}, {"loci", pred.size()}};
  }
  const auto all = nucleo::score_gene_predictions(truth, pred, opt);
  j["all"] = all;
  std::optional<nucleo::GenePredictionScore> limited;
  if (max_length > 0) {
    opt.max_length = max_length;
    limited = nucleo::score_gene_predictions(truth, pred, opt);
    j["max_length"] = *limited;
  }
  j["classes"] = nucleo::detail::gene_class_name_list();
  j["metric"] = "pooled 9-class MCC (sklearn matthews_corrcoef) over all nucleotides of the scored loci";

  std::cout << fmt::format("truth:       {} ({} loci)\npredictions: {}\n\n", truth_path.string(), truth.size(),
                           gff ? *gff : *tsv);
  std::cout << fmt::format("{:<14} {:>5} {:>12} {:>8} {:>9}\n", "loci", "n", "nucleotides", "MCC", "accuracy");
  print_score_row("all", all);
  if (limited) print_score_row(fmt::format("<= {} nt", max_length).c_str(), *limited);
  std::cout << fmt::format("\nper class (all loci)\n{:<12} {:>9} {:>9} {:>9} {:>9}\n", "class", "support", "predicted",
                           "precision", "recall");
  for (int c = 0; c < nucleo::kGeneClasses; ++c) {
    const auto k = static_cast<std::size_t>(c);
    std::cout << fmt::format("{} {:<10} {:>9} {:>9} {:>9.4f} {:>9.4f}\n", c, nucleo::kGeneClassNames[k],
                             all.report.support[k], all.report.predicted[k], all.report.precision[k],
                             all.report.recall[k]);
  }
  if (auto out = p.find("--out")) {
    nucleo::detail::write_file_atomically(*out, [&](std::ostream& o) { o << j.dump(2) << '\n'; });
    std::cout << "\nwrote " << *out << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      std::cerr << kUsage;
      return 2;
    }
    const std::string cmd = argv[1];
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "stats") return cmd_stats(argc, argv);
    if (cmd == "export") return cmd_export(argc, argv);
    if (cmd == "score") return cmd_score(argc, argv);
    std::cerr << "nucleo-data: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
  } catch (const nucleo::ConfigError& e) {
    const std::string msg = e.what();
    std::cerr << (msg.rfind("nucleo-data", 0) == 0 ? "" : "nucleo-data: ") << msg << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nucleo-data: error: " << e.what() << '\n';
    return 1;
  }
}
