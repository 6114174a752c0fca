#pragma once
/// `write_gene_gff3`: per-nucleotide gene-finding classes (BEND's 9, gene_labels.hpp) -> GFF3 gene
/// models, as a genome browser or `nucleo-data score` reads them.
///
/// Gene models (`genes_from_labels`), per strand independently:
///   + strand  exon = a maximal run of class 0; "intron run" = a maximal run of classes {1,2,3}.
///             A gene is a maximal chain exon (intron-run exon)*: consecutive exon runs joined by
///             an intron run with nothing else between them. Its CDS are the exon runs.
///   - strand  the same with exon = 4 and intron runs of {5,6,7}.
///   Any other class (noncoding 8, or a class of the other strand) ends the chain. Genes of the two
///   strands never overlap (a + gene's span holds only classes 0..3).
///   Not part of any gene, dropped and counted in `Gff3Summary`:
///     - an intron run not between two exon runs of its strand (at a sequence end, or next to
///       noncoding/the other strand): `orphan_intron_runs` (holds an intron class 2/6) or
///       `orphan_splice_runs` (only donor/acceptor labels, e.g. an isolated splice site);
///   Kept but not canonical (counted in `noncanonical_introns`): an intron run between two exons
///   whose labels are not gene_labels' pattern (+: donor 1, intron 2..., acceptor 3, or a lone 1
///   for a 1-nt intron; -: acceptor 7, intron 6..., donor 5, or a lone 5). Such a run is still an
///   intron of the gene (the model saw an intron there; the splice-site labels are one nucleotide
///   each and the weakest evidence), so e.g. "exon, 2 2 2, exon" gives one gene with two CDS.
///
/// Output (per gene, genes in order of their first base; IDs numbered from Gff3Options::first_gene):
///   seqid source gene  start end score strand .     ID=<prefix>.g<n>
///   seqid source mRNA  start end score strand .     ID=<prefix>.g<n>.t1;Parent=<prefix>.g<n>
///   seqid source CDS   start end score strand phase ID=<prefix>.g<n>.t1.cds<k>;Parent=<prefix>.g<n>.t1
/// CDS lines in increasing genomic order (k = 1, 2, ... in that order) whatever the strand.
///   - coordinates 1-based inclusive; gene = mRNA = first CDS base .. last CDS base (no UTRs: BEND
///     labels UTRs as noncoding, so the labels carry no UTR/transcript boundary).
///   - phase (GFF3 column 8): bases to skip from the 5' end of the CDS (its start on +, its end on -)
///     to the next codon start, from the cumulative CDS length in transcript direction: the first
///     CDS of the transcript has phase 0, the next (3 - (cumulative length % 3)) % 3, ... On the -
///     strand the first CDS is the rightmost one.
///   - score (column 6) = mean confidence of the feature's nucleotides (gene, mRNA: the whole span
///     including introns; CDS: its bases) with 3 decimals; "." when no confidence is given.
///   - escaping (GFF3 spec): column 1 (seqid) escapes, as %XX, every character outside
///     [a-zA-Z0-9.:^*$@!+_?|-]; column 2 (source) tab, newline, CR, '%' and control characters;
///     attribute values additionally ';', '=', '&' and ','.
/// `write_gff3_header` writes "##gff-version 3"; `write_gene_gff3` writes "##sequence-region <seqid>
/// 1 <length>" (for a non-empty track, unless disabled) and the features of one sequence.
///
/// Round trip: reading the output with read_gff/parse_gff (data/gff.hpp) and labelling it with
/// gene_labels reproduces the input labels exactly when every intron run is canonical and nothing
/// is orphaned. It does not reproduce: orphan runs (they read back as 8), non-canonical introns
/// (they read back in the canonical pattern), and a CDS whose last 3 bases in transcript direction
/// form a stop codon in the sequence (gene_labels relabels them 8; BEND-trained models label the
/// stop codon 8 themselves, so their CDS end before it). Escaped seqids and IDs read back to the
/// original names (data/gff.hpp %-decodes column 1 and attribute values of GFF3 lines).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "nucleo/core/error.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/gene_structure.hpp"

namespace nucleo {

struct Gff3Options {
  std::string source = "nucleo";     ///< column 2
  std::string id_prefix = "nucleo";  ///< IDs "<prefix>.g<n>", "<prefix>.g<n>.t1", "<prefix>.g<n>.t1.cds<k>"
  std::size_t first_gene = 1;        ///< n of the first gene; continue with Gff3Summary::next_gene
  bool sequence_region = true;       ///< write "##sequence-region" for a non-empty track
};

/// A gene model read off a label track: strand and CDS intervals (0-based half-open, sorted).
struct PredictedGene {
  char strand = '+';
  std::vector<Interval> cds;
  std::int64_t span_begin() const { return cds.front().begin; }  ///< first base (0-based)
  std::int64_t span_end() const { return cds.back().end; }        ///< one past the last base
  bool operator==(const PredictedGene&) const = default;
};

/// What the label tracks held; add up over sequences with merge().
struct Gff3Summary {
  std::size_t genes = 0;
  std::size_t genes_plus = 0, genes_minus = 0;
  std::size_t cds = 0;                   ///< CDS features (exon runs in genes)
  std::size_t introns = 0;               ///< intron runs joining two exons
  std::size_t noncanonical_introns = 0;  ///< of which not in gene_labels' donor/intron/acceptor pattern
  std::size_t orphan_intron_runs = 0;    ///< intron runs (with an intron class) outside any gene: dropped
  std::size_t orphan_splice_runs = 0;    ///< runs of only donor/acceptor labels outside any gene: dropped
  std::size_t orphan_nucleotides = 0;    ///< nucleotides of the dropped runs
  std::size_t next_gene = 1;             ///< first free gene number (for the next sequence)
  void merge(const Gff3Summary& o) {
    genes += o.genes;
    genes_plus += o.genes_plus;
    genes_minus += o.genes_minus;
    cds += o.cds;
    introns += o.introns;
    noncanonical_introns += o.noncanonical_introns;
    orphan_intron_runs += o.orphan_intron_runs;
    orphan_splice_runs += o.orphan_splice_runs;
    orphan_nucleotides += o.orphan_nucleotides;
    next_gene = std::max(next_gene, o.next_gene);
  }
};

namespace detail {

inline void gff3_percent(std::string& out, unsigned char c) { out += fmt::format("%{:02X}", c); }

inline bool gff3_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

}  // namespace detail

/// Column 1: every character outside [a-zA-Z0-9.:^*$@!+_?|-] as %XX (GFF3 spec, "seqid").
inline std::string gff3_escape_seqid(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(".:^*$@!+_?|-").find(ch) != std::string_view::npos;
    if (ok) out.push_back(ch);
    else detail::gff3_percent(out, c);
  }
  return out;
}

/// Free-text columns (source, type): tab, newline, CR, '%' and control characters as %XX.
inline std::string gff3_escape_column(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (detail::gff3_control(c) || ch == '%') detail::gff3_percent(out, c);
    else out.push_back(ch);
  }
  return out;
}

/// Attribute values (column 9): additionally ';', '=', '&' and ','.
inline std::string gff3_escape_attribute(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (detail::gff3_control(c) || std::string_view("%;=&,").find(ch) != std::string_view::npos)
      detail::gff3_percent(out, c);
    else
      out.push_back(ch);
  }
  return out;
}

/// The gene models of a label track (see the header comment); `summary` (optional) is added to,
/// except `next_gene`.
inline std::vector<PredictedGene> genes_from_labels(std::span<const std::int8_t> labels,
                                                    Gff3Summary* summary = nullptr) {
  const auto n = static_cast<std::int64_t>(labels.size());
  for (std::int64_t i = 0; i < n; ++i)
    if (labels[static_cast<std::size_t>(i)] < 0 || labels[static_cast<std::size_t>(i)] >= gene_class_count)
      throw ShapeError(fmt::format("genes_from_labels: label {} at position {} is not a class 0..8",
                                   labels[static_cast<std::size_t>(i)], i));
  Gff3Summary s;
  std::vector<PredictedGene> plus, minus;
  for (const bool fwd : {true, false}) {
    const std::int8_t exon = fwd ? gene_exon_fwd : gene_exon_rev;
    const std::int8_t lo = fwd ? gene_donor_fwd : gene_donor_rev, hi = fwd ? gene_acceptor_fwd : gene_acceptor_rev;
    const std::int8_t intron = fwd ? gene_intron_fwd : gene_intron_rev;
    auto kind = [&](std::int64_t i) {  // 0 exon, 1 intron run member, 2 other
      const std::int8_t c = labels[static_cast<std::size_t>(i)];
      return c == exon ? 0 : (c >= lo && c <= hi) ? 1 : 2;
    };
    auto canonical = [&](std::int64_t b, std::int64_t e) {  // gene_labels' painting of intron [b, e)
      auto at = [&](std::int64_t i) { return labels[static_cast<std::size_t>(i)]; };
      if (e - b == 1) return at(b) == (fwd ? gene_donor_fwd : gene_donor_rev);
      if (at(b) != (fwd ? gene_donor_fwd : gene_acceptor_rev) || at(e - 1) != (fwd ? gene_acceptor_fwd : gene_donor_rev)) return false;
      for (std::int64_t i = b + 1; i + 1 < e; ++i)
        if (at(i) != intron) return false;
      return true;
    };
    auto orphan = [&](std::int64_t b, std::int64_t e) {
      bool has_intron = false;
      for (std::int64_t i = b; i < e; ++i) has_intron |= labels[static_cast<std::size_t>(i)] == intron;
      ++(has_intron ? s.orphan_intron_runs : s.orphan_splice_runs);
      s.orphan_nucleotides += static_cast<std::size_t>(e - b);
    };
    std::vector<PredictedGene>& out = fwd ? plus : minus;
    PredictedGene cur{fwd ? '+' : '-', {}};
    std::int64_t pend_b = -1, pend_e = -1;  // intron run after the current gene's last exon
    auto close = [&]() {
      if (pend_b >= 0) orphan(pend_b, pend_e);
      pend_b = pend_e = -1;
      if (!cur.cds.empty()) out.push_back(std::move(cur));
      cur = PredictedGene{fwd ? '+' : '-', {}};
    };
    std::int64_t i = 0;
    while (i < n) {
      const int k = kind(i);
      std::int64_t j = i + 1;
      while (j < n && kind(j) == k) ++j;
      if (k == 0) {
        if (pend_b >= 0) {
          ++s.introns;
          if (!canonical(pend_b, pend_e)) ++s.noncanonical_introns;
          pend_b = pend_e = -1;
        }
        cur.cds.push_back(Interval{i, j});
      } else if (k == 1) {
        if (cur.cds.empty()) orphan(i, j);
        else pend_b = i, pend_e = j;
      } else {
        close();
      }
      i = j;
    }
    close();
  }
  std::vector<PredictedGene> genes;
  genes.reserve(plus.size() + minus.size());
  std::size_t a = 0, b = 0;
  while (a < plus.size() || b < minus.size()) {
    if (b == minus.size() || (a < plus.size() && plus[a].span_begin() < minus[b].span_begin())) genes.push_back(std::move(plus[a++]));
    else genes.push_back(std::move(minus[b++]));
  }
  s.genes_plus = plus.size();
  s.genes_minus = minus.size();
  s.genes = genes.size();
  for (const auto& g : genes) s.cds += g.cds.size();
  if (summary) {
    const std::size_t keep = summary->next_gene;
    summary->merge(s);
    summary->next_gene = keep;
  }
  return genes;
}

/// GFF3 phase of each CDS of `g` (in g.cds order), from the cumulative CDS length in transcript
/// direction (see the header comment).
inline std::vector<int> cds_phases(const PredictedGene& g) {
  std::vector<int> phase(g.cds.size(), 0);
  std::int64_t cum = 0;
  const std::size_t m = g.cds.size();
  for (std::size_t t = 0; t < m; ++t) {
    const std::size_t k = g.strand == '+' ? t : m - 1 - t;
    phase[k] = static_cast<int>((3 - cum % 3) % 3);
    cum += g.cds[k].end - g.cds[k].begin;
  }
  return phase;
}

/// "##gff-version 3".
inline void write_gff3_header(std::ostream& out) { out << "##gff-version 3\n"; }

/// Writes the gene models of one sequence's label track (see the header comment). `confidence` is
/// empty (score ".") or one value per label. Returns what was written; its `next_gene` is the
/// number to pass as `first_gene` for the next sequence of the same file.
inline Gff3Summary write_gene_gff3(std::ostream& out, std::string_view seqid, std::span<const std::int8_t> labels,
                                   std::span<const float> confidence, const Gff3Options& o = {}) {
  if (seqid.empty()) throw ShapeError("write_gene_gff3: empty sequence id");
  if (!confidence.empty() && confidence.size() != labels.size())
    throw ShapeError(fmt::format("write_gene_gff3: '{}' has {} labels but {} confidence values", seqid,
                                 labels.size(), confidence.size()));
  Gff3Summary s;
  s.next_gene = o.first_gene;
  const std::vector<PredictedGene> genes = genes_from_labels(labels, &s);
  const std::string sid = gff3_escape_seqid(seqid), src = gff3_escape_column(o.source.empty() ? "." : o.source);
  const std::string prefix = gff3_escape_attribute(o.id_prefix);
  if (o.sequence_region && !labels.empty()) out << "##sequence-region " << sid << " 1 " << labels.size() << '\n';

  auto score = [&](std::int64_t b, std::int64_t e) {
    if (confidence.empty()) return std::string(".");
    double sum = 0;
    for (std::int64_t i = b; i < e; ++i) sum += confidence[static_cast<std::size_t>(i)];
    return fmt::format("{:.3f}", sum / static_cast<double>(e - b));
  };
  std::string buf;
  for (const PredictedGene& g : genes) {
    const std::string gid = fmt::format("{}.g{}", prefix, s.next_gene++);
    const std::string tid = gid + ".t1";
    const std::string sc = score(g.span_begin(), g.span_end());
    buf.clear();
    fmt::format_to(std::back_inserter(buf), "{}\t{}\tgene\t{}\t{}\t{}\t{}\t.\tID={}\n", sid, src, g.span_begin() + 1,
                   g.span_end(), sc, g.strand, gid);
    fmt::format_to(std::back_inserter(buf), "{}\t{}\tmRNA\t{}\t{}\t{}\t{}\t.\tID={};Parent={}\n", sid, src,
                   g.span_begin() + 1, g.span_end(), sc, g.strand, tid, gid);
    const std::vector<int> phase = cds_phases(g);
    for (std::size_t k = 0; k < g.cds.size(); ++k)
      fmt::format_to(std::back_inserter(buf), "{}\t{}\tCDS\t{}\t{}\t{}\t{}\t{}\tID={}.cds{};Parent={}\n", sid, src,
                     g.cds[k].begin + 1, g.cds[k].end, score(g.cds[k].begin, g.cds[k].end), g.strand, phase[k], tid,
                     k + 1, tid);
    out << buf;
  }
  return s;
}

}  // namespace nucleo
