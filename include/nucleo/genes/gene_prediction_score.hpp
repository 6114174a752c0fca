#pragma once
/// Scoring gene predictions of any tool (AUGUSTUS, nucleo-annotate, ...) against a truth split with
/// nucleo's own labels and metric: predictions become per-nucleotide BEND classes 0..8 through the
/// same code as the truth (gene_labels.hpp), then one ConfusionMatrix is pooled over all scored
/// nucleotides and reduced by mcc_report (mcc.hpp): 9-class MCC, per-class precision/recall.
///
///   truth     = make_gene_example(locus) for each truth locus (e.g. genes.gb.test)
///   predicted = read_gene_predictions_gff(gff, truth)   GFF3/GTF, seqid = truth locus name
///             | read_label_tsv(tsv)                     "name<TAB>sequence<TAB>labels"
///   score     = score_gene_predictions(truth, predicted, {.max_length = 14000})
///
/// GFF conversion: `CDS` (+ `start_codon`) of both strands, grouped into transcripts by Parent /
/// transcript_id (gff.hpp), labelled by gene_labels on the truth sequence. Stop codons are class 8
/// whether the CDS includes them (the last codon of the CDS is a stop: relabelled 8) or excludes
/// them (the codon after the CDS is already outside the CDS). The truth GenBank CDS of the fly set
/// excludes the stop, so both AUGUSTUS settings of stopCodonExcludedFromCDS give identical labels.
/// Other features (gene, mRNA, exon, intron, UTR, stop_codon) are ignored: introns are the gaps
/// between CDS parts, as in the truth. In particular an `intron` feature of a partial gene before
/// its first or after its last CDS part is NOT labelled intron (no CDS bounds it); use complete
/// gene models (AUGUSTUS --genemodel=complete) to avoid partial genes at the sequence ends.
/// A truth locus without any predicted transcript is predicted all noncoding (8).
///
/// Matching is by name. Errors: a predicted name not in the truth, a name predicted twice, a
/// predicted sequence (TSV, GFF3 ##FASTA) that differs from the truth sequence, a label count that
/// differs from the sequence length, and (unless `missing_as_noncoding`) a truth locus without a
/// prediction in score_gene_predictions.
///
/// `max_length > 0` scores only the truth loci of at most that many nucleotides (BEND's gene
/// finding windows are up to 14 kb); the others are counted in `loci_skipped`.
///
/// Gene structure: besides the nucleotide MCC, every score holds exon-, gene-, donor- and
/// acceptor-level sensitivity/precision/F1 (GeneStructureScore, gene_structure_score.hpp), read off
/// the same two label tracks and pooled over the scored loci.
///
/// Genome context: a gene finder run on whole genome records (not on the loci) is scored inside the
/// loci, exactly as if it had been run on them:
///
///   genome    = read_fasta(fa)                                   records, e.g. chr2R
///   placed    = GenomeLoci::locate(genome, truth)                loci named <seqid>_<A>-<B>
///   records   = read_gene_predictions_gff_genome(gff, genome)   GFF3/GTF, seqid = genome record
///             | read_label_tsv(tsv)                              one line per genome record
///   predicted = slice_genome_predictions(genome, placed, truth, records)
///   score     = score_gene_predictions(truth, predicted, ...)
///
/// The predictions are labelled over each whole record (gene_labels on the record sequence) and
/// the labels are then cut to each locus interval. So a predicted gene that crosses a locus
/// boundary is scored by its part inside the locus (its outside part is not seen; an exon cut at
/// the boundary ends there and cannot match a true exon that does not), and genes predicted outside
/// every locus change nothing.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "nucleo/core/error.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/genes/genome_loci.hpp"
#include "nucleo/data/gff.hpp"
#include "nucleo/detail/line_reader.hpp"
#include "nucleo/metrics/confusion_matrix.hpp"
#include "nucleo/genes/gene_structure_score.hpp"
#include "nucleo/metrics/mcc.hpp"

namespace nucleo {

struct GeneScoreOptions {
  std::int64_t max_length = 0;        ///< > 0: score only truth loci with length <= max_length
  bool missing_as_noncoding = false;  ///< a truth locus absent from the predictions counts as all 8
};

struct GenePredictionScore {
  MccReport report;                 ///< pooled 9-class MCC, per-class precision/recall, confusion matrix
  std::size_t loci = 0;             ///< truth loci scored
  std::size_t loci_skipped = 0;     ///< truth loci longer than max_length
  std::size_t loci_missing = 0;     ///< scored loci without a prediction (all noncoding)
  std::int64_t nucleotides = 0;     ///< nucleotides scored
  std::int64_t max_length = 0;      ///< the limit used (0 = none)
  GeneStructureScore structure;     ///< exon, gene, donor, acceptor counts pooled over the scored loci
};

namespace detail {
inline std::vector<std::string> gene_class_name_list() {
  std::vector<std::string> names;
  for (auto n : gene_class_names) names.emplace_back(n);
  return names;
}
/// For each of `targets` (truth loci or genome records; names unique) the prediction of the same
/// name, or nullptr. ShapeError for a repeated target name, a predicted name that is no target and
/// a target predicted twice; `what` names the targets ("truth locus").
template <class Targets, class Predictions>
auto match_predictions(const Targets& targets, const Predictions& predicted, std::string_view what) {
  using P = std::remove_cvref_t<decltype(*std::begin(predicted))>;
  std::unordered_map<std::string_view, std::size_t> idx;
  std::size_t n = 0;
  for (const auto& t : targets)
    if (!idx.emplace(t.name, n++).second)
      throw ShapeError(fmt::format("gene scoring: {} '{}' occurs twice", what, t.name));
  std::vector<const P*> by_target(n, nullptr);
  for (const auto& p : predicted) {
    const auto it = idx.find(p.name);
    if (it == idx.end())
      throw ShapeError(fmt::format("gene scoring: predicted sequence '{}' is not a {}", p.name, what));
    if (by_target[it->second]) throw ShapeError(fmt::format("gene scoring: {} '{}' is predicted twice", what, p.name));
    by_target[it->second] = &p;
  }
  return by_target;
}

/// A sequence predictions are made on: a truth locus or a genome record.
struct NamedSequence {
  std::string_view name, sequence;
};

/// Labels `predicted` (matched to `seqs` by name) in the order of `seqs`; a sequence without a
/// predicted locus is all noncoding. `what` names the sequences in errors ("truth locus").
inline std::vector<GeneExample> label_predicted_loci(std::span<const NamedSequence> seqs,
                                                     const std::vector<Locus>& predicted, GeneLabelReport* report,
                                                     std::string_view what) {
  const auto by_seq = match_predictions(seqs, predicted, what);
  for (std::size_t i = 0; i < seqs.size(); ++i)
    if (by_seq[i] && by_seq[i]->sequence != seqs[i].sequence)
      throw ShapeError(fmt::format("gene scoring: the sequence of predicted '{}' ({} nt) differs from the {} ({} nt)",
                                   seqs[i].name, by_seq[i]->sequence.size(), what, seqs[i].sequence.size()));
  std::vector<GeneExample> out;
  out.reserve(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (by_seq[i]) {
      out.push_back(make_gene_example(*by_seq[i], report));
    } else {
      out.push_back(GeneExample{std::string(seqs[i].name), std::string(seqs[i].sequence),
                                std::vector<std::int8_t>(seqs[i].sequence.size(), gene_noncoding)});
    }
  }
  return out;
}

/// Reads a GFF3/GTF (plain or gzip) whose seqids are `seqs` and labels it on them (a ##FASTA
/// section in the file, if any, must hold the same sequences).
inline std::vector<GeneExample> label_gff_predictions(const std::filesystem::path& gff,
                                                      std::span<const NamedSequence> seqs, std::string_view what,
                                                      GeneLabelReport* label_report, GffReport* gff_report) {
  auto lines = LineReader::open(gff);
  std::string text;
  std::string_view line;
  bool has_fasta = false;
  while (lines.next(line)) {
    if (line.substr(0, 7) == "##FASTA") has_fasta = true;
    text.append(line);
    text.push_back('\n');
  }
  if (!has_fasta) {  // the sequences, appended after the last GFF line (line numbers unchanged)
    text += "##FASTA\n";
    for (const auto& e : seqs) {
      text += '>';
      text += e.name;
      text += '\n';
      text += e.sequence;
      text += '\n';
    }
  }
  const auto loci = parse_gff(std::move(text), gff.string(), GffOptions{}, gff_report);
  return label_predicted_loci(seqs, loci, label_report, what);
}

inline std::vector<NamedSequence> named_sequences(std::span<const GeneExample> examples) {
  std::vector<NamedSequence> v;
  v.reserve(examples.size());
  for (const auto& e : examples) v.push_back({e.name, e.sequence});
  return v;
}
}  // namespace detail

/// Per-nucleotide predicted labels for every truth example, from predicted loci (matched by name;
/// a truth locus without a predicted locus is all noncoding). `report` collects the label counts of
/// the predicted transcripts (e.g. how many CDS include their stop codon).
inline std::vector<GeneExample> predicted_gene_examples(const std::vector<GeneExample>& truth,
                                                        const std::vector<Locus>& predicted,
                                                        GeneLabelReport* report = nullptr) {
  return detail::label_predicted_loci(detail::named_sequences(truth), predicted, report, "truth locus");
}

/// Reads predictions as GFF3/GTF (plain or gzip; seqid = truth locus name) and labels them on the
/// truth sequences (a ##FASTA section in the file, if any, must hold the same sequences).
inline std::vector<GeneExample> read_gene_predictions_gff(const std::filesystem::path& gff,
                                                          const std::vector<GeneExample>& truth,
                                                          GeneLabelReport* label_report = nullptr,
                                                          GffReport* gff_report = nullptr) {
  return detail::label_gff_predictions(gff, detail::named_sequences(truth), "truth locus", label_report, gff_report);
}

/// Genome context: reads predictions as GFF3/GTF (plain or gzip; seqid = genome record name) and
/// labels them over each whole record of `genome`, in its order (a record without predicted genes
/// is all noncoding). Slice the result into loci with slice_genome_predictions.
inline std::vector<GeneExample> read_gene_predictions_gff_genome(const std::filesystem::path& gff,
                                                                 std::span<const FastaRecord> genome,
                                                                 GeneLabelReport* label_report = nullptr,
                                                                 GffReport* gff_report = nullptr) {
  std::vector<detail::NamedSequence> seqs;
  seqs.reserve(genome.size());
  for (const auto& r : genome) seqs.push_back({r.name, r.sequence});
  return detail::label_gff_predictions(gff, seqs, "genome record", label_report, gff_report);
}

/// Genome context: the predictions of each locus of `loci` (placed in `genome` by
/// GenomeLoci::locate(genome, loci)), cut from `records`, predicted labels over whole genome
/// records (read_gene_predictions_gff_genome, or a label TSV with one line per record). `records`
/// are matched to genome records by name; their labels must cover the whole record and their
/// sequence, if not empty, must be the record's. Every record holding a locus needs a prediction
/// (ShapeError naming the record and the locus otherwise); a name that is no genome record, or a
/// record predicted twice, is an error. Returns one example per locus: its name, its sequence and
/// the record's predicted labels over its interval (see the header comment for the boundary rule).
inline std::vector<GeneExample> slice_genome_predictions(std::span<const FastaRecord> genome, const GenomeLoci& placed,
                                                         std::span<const GeneExample> loci,
                                                         std::span<const GeneExample> records) {
  if (placed.size() != loci.size())
    throw ShapeError(fmt::format("slice_genome_predictions: {} loci but {} placed in the genome", loci.size(),
                                 placed.size()));
  const auto by_record = detail::match_predictions(genome, records, "genome record");
  for (std::size_t r = 0; r < genome.size(); ++r) {
    const GeneExample* p = by_record[r];
    if (!p) continue;
    const std::string& seq = genome[r].sequence;
    if (p->labels.size() != seq.size())
      throw ShapeError(fmt::format("gene scoring: genome record '{}' has {} predicted labels for {} nucleotides",
                                   p->name, p->labels.size(), seq.size()));
    if (!p->sequence.empty() && p->sequence != seq)
      throw ShapeError(fmt::format("gene scoring: the predicted sequence of genome record '{}' differs from the genome",
                                   p->name));
  }
  std::vector<GeneExample> out;
  out.reserve(loci.size());
  for (std::size_t k = 0; k < loci.size(); ++k) {
    const GenomeInterval& g = placed[k];
    if (g.record >= genome.size() || g.length() != static_cast<std::int64_t>(loci[k].sequence.size()))
      throw ShapeError(fmt::format("slice_genome_predictions: locus '{}' was placed in another genome", loci[k].name));
    const GeneExample* p = by_record[g.record];
    if (!p)
      throw ShapeError(fmt::format("gene scoring: no prediction for genome record '{}' (holding locus '{}')",
                                   genome[g.record].name, loci[k].name));
    out.push_back(GeneExample{loci[k].name, loci[k].sequence, placed.slice(k, std::span<const std::int8_t>(p->labels))});
  }
  return out;
}

/// Pools predicted vs true labels over the truth loci (see the header comment).
inline GenePredictionScore score_gene_predictions(const std::vector<GeneExample>& truth,
                                                  const std::vector<GeneExample>& predicted,
                                                  const GeneScoreOptions& opt = {}) {
  const auto by_truth = detail::match_predictions(truth, predicted, "truth locus");
  GenePredictionScore s;
  s.max_length = opt.max_length;
  ConfusionMatrix cm(gene_class_count);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const GeneExample& t = truth[i];
    NUCLEO_CHECK(t.labels.size() == t.sequence.size(), "gene scoring: truth '{}' has {} labels for {} nucleotides",
                 t.name, t.labels.size(), t.sequence.size());
    if (opt.max_length > 0 && static_cast<std::int64_t>(t.sequence.size()) > opt.max_length) {
      ++s.loci_skipped;
      continue;
    }
    ++s.loci;
    s.nucleotides += static_cast<std::int64_t>(t.sequence.size());
    const GeneExample* p = by_truth[i];
    if (!p) {
      if (!opt.missing_as_noncoding)
        throw ShapeError(fmt::format("gene scoring: no prediction for truth locus '{}'", t.name));
      ++s.loci_missing;
      for (auto c : t.labels) cm.add(c, gene_noncoding);
      s.structure.add(t.labels, std::vector<std::int8_t>(t.labels.size(), gene_noncoding));
      continue;
    }
    if (p->labels.size() != t.labels.size())
      throw ShapeError(fmt::format("gene scoring: '{}' has {} predicted labels for {} nucleotides", t.name,
                                   p->labels.size(), t.labels.size()));
    if (!p->sequence.empty() && p->sequence != t.sequence)
      throw ShapeError(fmt::format("gene scoring: the predicted sequence of '{}' differs from the truth sequence", t.name));
    for (std::size_t k = 0; k < t.labels.size(); ++k) cm.add(t.labels[k], p->labels[k]);
    s.structure.add(t.labels, p->labels);
  }
  s.report = mcc_report(cm, detail::gene_class_name_list());
  return s;
}

/// `{"loci", "loci_skipped", "loci_missing", "nucleotides", "max_length", "mcc", "accuracy",
///   "precision", "recall", "support", "predicted", "confusion_matrix", "classes", "total",
///   "structure": {"exon", "gene", "donor", "acceptor"}}`.
inline void to_json(nlohmann::json& j, const GenePredictionScore& s) {
  j = s.report;
  j["loci"] = s.loci;
  j["loci_skipped"] = s.loci_skipped;
  j["loci_missing"] = s.loci_missing;
  j["nucleotides"] = s.nucleotides;
  j["max_length"] = s.max_length;
  j["structure"] = s.structure;
}

}  // namespace nucleo
