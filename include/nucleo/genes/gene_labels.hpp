#pragma once
/// `gene_labels(locus)`: per-nucleotide gene-finding classes in BEND's 9-class scheme
/// (`labels_simple_direction_DA`, bend.md section 2), one int8 per nucleotide of locus.sequence.
///
///   0 exon+   (CDS, start codon included)     4 exon-
///   1 donor+  (first intron nucleotide)       5 donor-    (genomic-RIGHT intron end)
///   2 intron+                                 6 intron-
///   3 acceptor+ (last intron nucleotide)      7 acceptor- (genomic-LEFT intron end)
///   8 noncoding: intergenic, UTRs, stop codon
///
/// Introns are the gaps between consecutive CDS intervals of a transcript. Splice sites are ONE
/// nucleotide. On the + strand the donor is the first intron nucleotide (the G of GT) and the
/// acceptor the last (the G of AG). On the - strand the transcript runs right to left, so the
/// genomic-right intron end is the donor (5) and the genomic-left end the acceptor (7):
///
///   + strand   5' ..EEEEEE D iiiiiiii A EEEEEE.. 3'     E=0 D=1 i=2 A=3
///                          G T       A G
///   - strand   3' ..EEEEEE A iiiiiiii D EEEEEE.. 5'     E=4 A=7 i=6 D=5   (genomic left to right)
///                          C T       A C                (= AG ... GT read on the - strand)
///
/// A 1-nt intron's single nucleotide is labelled donor (1 or 5).
///
/// Stop codon: BEND maps stop_codon to 8. If the last codon of a transcript's spliced CDS (in
/// transcript direction) is TAA/TAG/TGA, its 3 nucleotides are labelled 8 (GFF3/GTF sources whose
/// CDS includes the stop). AUGUSTUS's GenBank training files exclude it: in genes.gb.train/test,
/// 0 of 586 CDS end with a stop codon and all 586 are followed by one, so nothing is relabelled
/// there. The report counts each case.
///
/// Overlapping transcripts (alternative isoforms, nested or overlapping genes): transcripts are
/// painted in order; at a nucleotide where two transcripts disagree, the higher-precedence class
/// wins: exon (0/4) > splice site (1/3/5/7) > intron (2/6) > stop codon (8); on a tie (e.g. exon+
/// vs exon-), the earlier transcript keeps it. Every such nucleotide is counted once in
/// `GeneLabelReport::conflicting_nucleotides`, and transcripts overlapping an earlier transcript's
/// span in `overlapping_transcripts`; nothing is dropped.
///
/// Malformed structures (strand not +/-, empty or unsorted or overlapping intervals, CDS beyond the
/// sequence or before 0) throw ParseError("<locus name>: ...").
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/gene_structure.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/genes/gene_class.hpp"

namespace nucleo {

/// What gene_labels found; sum over loci with merge().
struct GeneLabelReport {
  std::size_t transcripts = 0;
  std::size_t stop_in_cds = 0;     ///< CDS ends with a stop codon: those 3 nt labelled 8
  std::size_t stop_after_cds = 0;  ///< a stop codon follows the CDS (already outside it, 8)
  std::size_t no_stop = 0;         ///< neither (incomplete gene at the sequence edge, or no stop)
  std::size_t overlapping_transcripts = 0;
  std::size_t conflicting_nucleotides = 0;
  void merge(const GeneLabelReport& o) {
    transcripts += o.transcripts;
    stop_in_cds += o.stop_in_cds;
    stop_after_cds += o.stop_after_cds;
    no_stop += o.no_stop;
    overlapping_transcripts += o.overlapping_transcripts;
    conflicting_nucleotides += o.conflicting_nucleotides;
  }
};

namespace detail {
inline int gene_class_rank(std::int8_t c) {
  switch (c) {
    case gene_exon_fwd: case gene_exon_rev: return 3;
    case gene_donor_fwd: case gene_acceptor_fwd: case gene_donor_rev: case gene_acceptor_rev: return 2;
    case gene_intron_fwd: case gene_intron_rev: return 1;
    default: return 0;
  }
}
inline bool is_stop_codon(std::string_view c) { return c == "TAA" || c == "TAG" || c == "TGA"; }
}  // namespace detail

/// Checks a transcript against its locus; throws ParseError("<locus>: ...") if malformed.
inline void validate_transcript(const Locus& locus, const Transcript& t) {
  const auto len = static_cast<std::int64_t>(locus.sequence.size());
  auto fail = [&](const std::string& what) {
    throw ParseError(locus.name, 0, fmt::format("transcript '{}': {}", t.id, what));
  };
  if (t.strand != '+' && t.strand != '-') fail(fmt::format("strand must be '+' or '-', got '{}'", t.strand));
  if (t.cds.empty()) fail("no CDS intervals");
  for (std::size_t i = 0; i < t.cds.size(); ++i) {
    const Interval& iv = t.cds[i];
    if (iv.begin < 0 || iv.begin >= iv.end)
      fail(fmt::format("bad CDS interval [{}, {}) (need 0 <= begin < end)", iv.begin, iv.end));
    if (iv.end > len)
      fail(fmt::format("CDS interval [{}, {}) extends beyond the sequence ({} bp)", iv.begin, iv.end, len));
    if (i && iv.begin < t.cds[i - 1].end)
      fail(fmt::format("CDS intervals [{}, {}) and [{}, {}) overlap or are unsorted", t.cds[i - 1].begin,
                       t.cds[i - 1].end, iv.begin, iv.end));
  }
}

/// Per-nucleotide classes 0..8 of `locus` (see the header comment). `report` (optional) is added to.
inline std::vector<std::int8_t> gene_labels(const Locus& locus, GeneLabelReport* report = nullptr) {
  const std::size_t n = locus.sequence.size();
  std::vector<std::int8_t> labels(n, gene_noncoding);
  std::vector<std::int8_t> rank(n, -1);  // -1 = no transcript painted here yet
  std::vector<bool> conflicted(n, false);
  GeneLabelReport rep;

  std::vector<std::size_t> order(locus.transcripts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (const auto& t : locus.transcripts) validate_transcript(locus, t);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return locus.transcripts[a].cds.front().begin < locus.transcripts[b].cds.front().begin;
  });

  std::int64_t max_end = -1;  // right end of the spans painted so far
  for (std::size_t ti : order) {
    const Transcript& t = locus.transcripts[ti];
    ++rep.transcripts;
    if (t.cds.front().begin < max_end) ++rep.overlapping_transcripts;
    max_end = std::max(max_end, t.cds.back().end);

    const bool plus = t.strand == '+';
    auto paint = [&](std::int64_t p, std::int8_t c) {
      const auto i = static_cast<std::size_t>(p);
      const int r = detail::gene_class_rank(c);
      if (rank[i] < 0) {
        labels[i] = c;
        rank[i] = static_cast<std::int8_t>(r);
        return;
      }
      if (labels[i] == c) return;
      if (!conflicted[i]) {
        conflicted[i] = true;
        ++rep.conflicting_nucleotides;
      }
      if (r > rank[i]) {
        labels[i] = c;
        rank[i] = static_cast<std::int8_t>(r);
      }
    };
    for (std::size_t k = 0; k < t.cds.size(); ++k) {
      for (std::int64_t p = t.cds[k].begin; p < t.cds[k].end; ++p) paint(p, plus ? gene_exon_fwd : gene_exon_rev);
      if (k + 1 == t.cds.size()) break;
      const std::int64_t s = t.cds[k].end, e = t.cds[k + 1].begin;  // intron [s, e)
      if (e <= s) continue;                                           // adjacent parts: no intron
      for (std::int64_t p = s + 1; p + 1 < e; ++p) paint(p, plus ? gene_intron_fwd : gene_intron_rev);
      if (e - s >= 2) paint(e - 1, plus ? gene_acceptor_fwd : gene_donor_rev);
      paint(s, plus ? gene_donor_fwd : (e - s == 1 ? gene_donor_rev : gene_acceptor_rev));
    }

    // Stop codon: the last 3 CDS nucleotides in transcript direction (possibly spliced).
    std::vector<std::int64_t> last3;
    if (plus) {
      for (auto it = t.cds.rbegin(); it != t.cds.rend() && last3.size() < 3; ++it)
        for (std::int64_t p = it->end - 1; p >= it->begin && last3.size() < 3; --p) last3.push_back(p);
    } else {
      for (auto it = t.cds.begin(); it != t.cds.end() && last3.size() < 3; ++it)
        for (std::int64_t p = it->begin; p < it->end && last3.size() < 3; ++p) last3.push_back(p);
    }
    std::reverse(last3.begin(), last3.end());  // reading order of the codon (5' -> 3' of the transcript)
    auto codon_at = [&](const std::vector<std::int64_t>& pos) {
      std::string c;
      for (std::int64_t p : pos) c.push_back(plus ? locus.sequence[static_cast<std::size_t>(p)]
                                                  : complement_base(locus.sequence[static_cast<std::size_t>(p)]));
      return c;
    };
    if (last3.size() == 3 && detail::is_stop_codon(codon_at(last3))) {
      ++rep.stop_in_cds;
      for (std::int64_t p : last3) {
        const auto i = static_cast<std::size_t>(p);
        // The stop codon is part of this transcript's own CDS: relabel it unless another transcript's
        // exon/splice/intron claims it (counted as a conflict).
        const bool own = labels[i] == (plus ? gene_exon_fwd : gene_exon_rev);
        if (own) {
          labels[i] = gene_noncoding;
          rank[i] = 0;
        } else {
          paint(p, gene_noncoding);
        }
      }
    } else {
      std::vector<std::int64_t> next3;
      if (plus) {
        for (std::int64_t p = t.cds.back().end; p < t.cds.back().end + 3; ++p) next3.push_back(p);
      } else {
        for (std::int64_t p = t.cds.front().begin - 1; p >= t.cds.front().begin - 3; --p) next3.push_back(p);
      }
      const bool inside = std::all_of(next3.begin(), next3.end(),
                                      [&](std::int64_t p) { return p >= 0 && p < static_cast<std::int64_t>(n); });
      if (inside && detail::is_stop_codon(codon_at(next3))) ++rep.stop_after_cds;
      else ++rep.no_stop;
    }
  }
  if (report) report->merge(rep);
  return labels;
}

}  // namespace nucleo
