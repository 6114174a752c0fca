#pragma once
/// `data_main(argc, argv)`: the command line of nucleo-data, the default gene-finding data set
/// (AUGUSTUS fly genes from Debian's augustus-doc).
///
///   nucleo-data stats  [--train F --test F] [--valid-percent P]
///   nucleo-data export --split test --out DIR [--train F --test F] [--valid-percent P]
///   nucleo-data score  (--pred-gff F | --pred-tsv F) [--split S | --truth F.gb] [--genome F.fa]
///                      [--max-length N] [--out F.json]
///
/// `stats` prints per-split counts (loci, nucleotides, length min/median/max, N count, class
/// frequencies in BEND's 9 classes); `export` writes DIR/<split>.fa and DIR/<split>.labels.tsv;
/// `score` scores any gene finder's predictions (GFF3/GTF or a label TSV) against the truth with
/// nucleo's labels and pooled 9-class MCC, plus exon/gene/splice-site sensitivity, precision and F1
/// (genes/gene_prediction_score.hpp); with --genome the predictions are on whole genome records
/// and are scored inside the truth loci. Exit codes: 0 success, 1 error, 2 usage or configuration.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/genes/genome_loci.hpp"
#include "nucleo/detail/line_reader.hpp"
#include "nucleo_apps/cli.hpp"
#include "nucleo_apps/fly_data.hpp"
#include "nucleo_apps/subcommand.hpp"
#include "nucleo/genes/gene_prediction_score.hpp"

namespace nucleo::apps {

namespace data_cli {

inline std::string grouped(std::size_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

inline constexpr const char* kDataUsage =
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

inline void add_data_options(ArgParser& p) {
  p.optional_option("--train", "GenBank training genes (default: augustus-doc genes.gb.train)", "FILE")
      .optional_option("--test", "GenBank test genes (default: augustus-doc genes.gb.test)", "FILE")
      .option("--valid-percent", "percent of train loci carved into valid", "10", "P");
}

inline GeneDataset load(const ArgParser& p) {
  const auto train = p.find("--train"), test = p.find("--test");
  if (train.has_value() != test.has_value())
    throw ConfigError("nucleo-data: give both --train and --test, or neither (see --help)");
  const int valid = static_cast<int>(p.get_int("--valid-percent"));
  if (train) return GeneDataset::load({*train, *test}, valid);
  return GeneDataset::load(find_gene_files(), valid);
}

inline int cmd_stats(int argc, const char** argv) {
  ArgParser p("nucleo-data stats", "Print per-split statistics of the gene-finding data set.");
  add_data_options(p);
  if (parse_or_help(p, argc, argv)) return 0;
  const auto d = load(p);
  const auto tr = compute_stats(d.train()), va = compute_stats(d.valid()),
             te = compute_stats(d.test());
  std::cout << "files:\n  train+valid: " << d.files().train.string() << "  (" << tr.loci + va.loci << " loci, "
            << grouped(tr.nucleotides + va.nucleotides) << " nt)\n  test:        " << d.files().test.string()
            << "  (" << te.loci << " loci, " << grouped(te.nucleotides) << " nt)\n"
            << "valid rule: FNV-1a-64(locus name) % 100 < " << p.get("--valid-percent") << "\n\n";
  std::cout << fmt::format("{:<6} {:>6} {:>12} {:>8} {:>8} {:>8} {:>6}\n", "split", "loci", "nucleotides", "len_min",
                           "len_med", "len_max", "N");
  const std::pair<const char*, const GeneSplitStats*> rows[] = {{"train", &tr}, {"valid", &va}, {"test", &te}};
  for (const auto& [name, s] : rows)
    std::cout << fmt::format("{:<6} {:>6} {:>12} {:>8} {:>8} {:>8} {:>6}\n", name, s->loci, grouped(s->nucleotides),
                             s->min_length, s->median_length, s->max_length, s->n_count);
  std::cout << "\nclass frequencies (nucleotides, % of split):\n";
  std::cout << fmt::format("{:<12} {:>18} {:>18} {:>18}\n", "class", "train", "valid", "test");
  for (int c = 0; c < gene_class_count; ++c) {
    std::string line = fmt::format("{} {:<10}", c, gene_class_names[static_cast<std::size_t>(c)]);
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

inline int cmd_export(int argc, const char** argv) {
  ArgParser p("nucleo-data export", "Write a split as <out>/<split>.fa and <out>/<split>.labels.tsv.");
  p.option("--split", "train, valid or test", "test").option("--out", "output directory", std::nullopt, "DIR");
  add_data_options(p);
  if (parse_or_help(p, argc, argv)) return 0;
  const std::string split = p.get("--split");
  if (split != "train" && split != "valid" && split != "test")
    throw ConfigError(fmt::format("nucleo-data export: unknown split '{}' (expected train, valid or test)", split));
  const auto d = load(p);
  const auto& ex = d.split(split);
  const auto files = export_gene_split(ex, p.get("--out"), split);
  std::size_t nt = 0;
  for (const auto& e : ex) nt += e.sequence.size();
  std::cout << fmt::format("wrote {} ({} loci, {} nt)\nwrote {}\n", files[0].string(), ex.size(), grouped(nt),
                           files[1].string());
  return 0;
}

inline void print_score_row(const char* what, const GenePredictionScore& s) {
  std::cout << fmt::format("{:<14} {:>5} {:>12} {:>8.4f} {:>9.4f}\n", what, s.loci, grouped(static_cast<std::size_t>(s.nucleotides)),
                           s.report.mcc, s.report.accuracy);
}

// Exon, gene, donor and acceptor sensitivity/precision/F1, all loci beside the length-limited ones.
inline void print_structure_table(const GenePredictionScore& all, const GenePredictionScore* limited) {
  auto cells = [](const StructureCounts& c) {
    return fmt::format("{:>7.4f} {:>7.4f} {:>7.4f} {:>13}", c.sensitivity(), c.precision(), c.f1(),
                       fmt::format("{}/{}", c.found, c.truth));
  };
  const std::string head = fmt::format("{:>7} {:>7} {:>7} {:>13}", "Sn", "Pr", "F1", "found/true");
  std::cout << fmt::format("\ngene structure (exact boundaries and strand; predicted items: Pr = found/predicted)\n"
                           "{:<9} {:<37}", "", "all loci");
  if (limited) std::cout << fmt::format(" | <= {} nt", limited->max_length);
  std::cout << fmt::format("\n{:<9} {}{}\n", "level", head, limited ? " | " + head : "");
  const std::pair<const char*, StructureCounts GeneStructureScore::*> rows[] = {
      {"exon", &GeneStructureScore::exons},
      {"gene", &GeneStructureScore::genes},
      {"donor", &GeneStructureScore::donors},
      {"acceptor", &GeneStructureScore::acceptors}};
  for (const auto& [name, member] : rows)
    std::cout << fmt::format("{:<9} {}{}\n", name, cells(all.structure.*member),
                             limited ? " | " + cells(limited->structure.*member) : "");
}

// The truth loci: a GenBank file (--truth) or a split of the fly set (--split, default test).
inline std::vector<GeneExample> score_truth(const ArgParser& p, nlohmann::json& j) {
  if (auto truth = p.find("--truth")) {
    if (p.given("--split") || p.given("--train") || p.given("--test") || p.given("--valid-percent"))
      throw ConfigError(
          "nucleo-data score: --truth excludes --split, --train, --test and --valid-percent (see --help)");
    std::vector<GeneExample> ex;
    for (const auto& l : read_genbank(*truth)) ex.push_back(make_gene_example(l));
    j["truth"] = *truth;
    return ex;
  }
  const std::string split = p.get("--split");
  if (split != "train" && split != "valid" && split != "test")
    throw ConfigError(fmt::format("nucleo-data score: unknown split '{}' (expected train, valid or test)", split));
  auto d = load(p);
  j["truth"] = (split == "test" ? d.files().test : d.files().train).string();
  j["split"] = split;
  if (split == "valid") j["valid_rule"] = fmt::format("FNV-1a-64(locus name) % 100 < {}", p.get("--valid-percent"));
  return d.split(split);
}

inline int cmd_score(int argc, const char** argv) {
  ArgParser p("nucleo-data score",
                      "Score gene predictions against a truth split with nucleo's 9-class labels and pooled MCC,\n"
                      "and exon, gene, donor and acceptor sensitivity/precision/F1 (exact boundaries and strand).\n"
                      "Predictions: GFF3/GTF (seqid = locus name; CDS + start_codon of both strands, stop codons\n"
                      "labelled noncoding whether the CDS includes them or not; loci without genes = all noncoding)\n"
                      "or a label TSV 'name<TAB>sequence<TAB>labels' (the export format; every locus required).\n"
                      "With --genome the predictions are on the genome's records instead (seqid / TSV name = record\n"
                      "name, e.g. chr2R): the truth loci (named <record>_<first>-<last>) are placed in the genome,\n"
                      "checked base for base, and the predictions are labelled over each record and cut to each\n"
                      "locus (a gene crossing a locus boundary is scored by its part inside the locus).");
  p.option("--split", "truth = this split of the fly set: train, valid or test (valid rule as in export)", "test")
      .optional_option("--truth", "truth loci from this GenBank file instead of --split", "FILE")
      .optional_option("--pred-gff", "predictions as GFF3 or GTF (plain or gzip)", "FILE")
      .optional_option("--pred-tsv", "predictions as a per-nucleotide label TSV", "FILE")
      .optional_option("--genome", "predictions are on the records of this genome FASTA (plain or gzip)", "FILE")
      .option("--max-length", "also score the loci of at most N nt (0: all loci only)", "14000", "N")
      .optional_option("--name", "predictor name stored in the JSON (e.g. 'AUGUSTUS 3.5.0')", "TEXT")
      .optional_option("--out", "write the result as JSON (temp file + rename)", "FILE");
  add_data_options(p);
  if (parse_or_help(p, argc, argv)) return 0;
  const auto gff = p.find("--pred-gff"), tsv = p.find("--pred-tsv"), genome_path = p.find("--genome");
  if (gff.has_value() == tsv.has_value())
    throw ConfigError("nucleo-data score: give exactly one of --pred-gff and --pred-tsv (see --help)");
  const std::int64_t max_length = p.get_int("--max-length");
  if (max_length < 0) throw ConfigError("nucleo-data score: --max-length must be >= 0 (see --help)");

  nlohmann::json j;
  if (auto n = p.find("--name")) j["predictor"] = *n;
  const std::vector<GeneExample> truth = score_truth(p, j);

  // Genome context: the records, and each truth locus's place in them.
  std::vector<FastaRecord> genome;
  std::optional<GenomeLoci> placed;
  if (genome_path) {
    genome = read_fasta(*genome_path);
    placed = GenomeLoci::locate(genome, truth, "truth locus");
    std::size_t nt = 0;
    for (const auto& r : genome) nt += r.sequence.size();
    j["genome"] = {{"file", *genome_path},
                   {"records", genome.size()},
                   {"nucleotides", nt},
                   {"overlapping_loci", placed->overlaps().size()},
                   {"boundary_rule", "predictions labelled over each genome record, then cut to each locus"}};
  }

  std::vector<GeneExample> pred;
  GeneScoreOptions opt;
  if (gff) {
    GeneLabelReport rep;
    GffReport grep;
    pred = genome_path ? read_gene_predictions_gff_genome(*gff, genome, &rep, &grep)
                       : read_gene_predictions_gff(*gff, truth, &rep, &grep);
    std::size_t with_genes = 0;
    for (const auto& e : pred)
      with_genes += std::any_of(e.labels.begin(), e.labels.end(), [](auto c) { return c != gene_noncoding; });
    j["predictions"] = {{"file", *gff},
                        {"format", "gff"},
                        {"cds_features", grep.cds_features},
                        {"transcripts", grep.transcripts},
                        {genome_path ? "records_with_genes" : "loci_with_genes", with_genes},
                        {"ignored_features", grep.ignored_features},
                        {"stop_codon_in_cds", rep.stop_in_cds},
                        {"stop_codon_after_cds", rep.stop_after_cds},
                        {"no_stop_codon", rep.no_stop},
                        {"overlapping_transcripts", rep.overlapping_transcripts},
                        {"conflicting_nucleotides", rep.conflicting_nucleotides}};
  } else {
    pred = read_label_tsv(*tsv);
    j["predictions"] = {{"file", *tsv}, {"format", "tsv"}, {genome_path ? "records" : "loci", pred.size()}};
  }
  if (genome_path) {
    pred = slice_genome_predictions(genome, *placed, truth, pred);
    j["predictions"]["on"] = "genome";
  }
  opt.missing_as_noncoding = gff.has_value();  // GFF: every truth locus is in `pred` anyway
  const auto all = score_gene_predictions(truth, pred, opt);
  j["all"] = all;
  std::optional<GenePredictionScore> limited;
  if (max_length > 0) {
    opt.max_length = max_length;
    limited = score_gene_predictions(truth, pred, opt);
    j["max_length"] = *limited;
  }
  j["classes"] = nucleo::detail::gene_class_name_list();
  j["metric"] = "pooled 9-class MCC (sklearn matthews_corrcoef) over all nucleotides of the scored loci";
  j["structure_metric"] =
      "exon: CDS interval exact on both ends and strand; gene: all its coding exons exact; donor/acceptor: "
      "exact intron end; sensitivity = found/true, precision = found/predicted, pooled over the scored loci";

  std::cout << fmt::format("truth:       {}{} ({} loci)\npredictions: {}{}\n\n", j["truth"].get<std::string>(),
                           j.contains("split") ? " split " + j["split"].get<std::string>() : "", truth.size(),
                           gff ? *gff : *tsv, genome_path ? " (on genome " + *genome_path + ")" : "");
  std::cout << fmt::format("{:<14} {:>5} {:>12} {:>8} {:>9}\n", "loci", "n", "nucleotides", "MCC", "accuracy");
  print_score_row("all", all);
  if (limited) print_score_row(fmt::format("<= {} nt", max_length).c_str(), *limited);
  std::cout << fmt::format("\nper class (all loci)\n{:<12} {:>9} {:>9} {:>9} {:>9}\n", "class", "support", "predicted",
                           "precision", "recall");
  for (int c = 0; c < gene_class_count; ++c) {
    const auto k = static_cast<std::size_t>(c);
    std::cout << fmt::format("{} {:<10} {:>9} {:>9} {:>9.4f} {:>9.4f}\n", c, gene_class_names[k],
                             all.report.support[k], all.report.predicted[k], all.report.precision[k],
                             all.report.recall[k]);
  }
  print_structure_table(all, limited ? &*limited : nullptr);
  if (auto out = p.find("--out")) {
    nucleo::detail::write_file_atomically(*out, [&](std::ostream& o) { o << j.dump(2) << '\n'; });
    std::cout << "\nwrote " << *out << '\n';
  }
  return 0;
}

}  // namespace data_cli

/// The whole program nucleo-data.
inline int data_main(int argc, const char** argv) {
  using namespace data_cli;
  SubcommandProgram prog;
  prog.errors = {"nucleo-data", 2, {}};
  prog.usage = kDataUsage;
  prog.takes_set = false;
  prog.usage_to_stderr_without_command = true;
  prog.help_command = true;
  auto no_set = [](int (*cmd)(int, const char**)) -> Subcommand {
    return [cmd](int argc, const char** argv, const std::vector<std::string>&) { return cmd(argc, argv); };
  };
  prog.commands = {{"stats", no_set(cmd_stats)}, {"export", no_set(cmd_export)}, {"score", no_set(cmd_score)}};
  return subcommand_main(argc, argv, prog);
}

}  // namespace nucleo::apps
