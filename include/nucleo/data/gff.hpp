#pragma once
/// `read_gff`: GFF3 or GTF annotation + FASTA genome -> `Locus` structures (gene_structure.hpp),
/// so that any annotated genome becomes a gene-finding set (labels: gene_labels.hpp).
///
/// Input: 9 tab-separated columns (seqid source type start end score strand phase attributes),
/// 1-based inclusive coordinates; '#' lines are comments; plain or gzip. The attribute syntax is
/// recognised per line: GTF `key "value"; key "value";` or GFF3 `key=value;key=value`. On GFF3
/// lines the seqid (column 1) and the attribute values read (Parent, transcript_id) are %XX-decoded
/// as the GFF3 spec requires ("chr%3B1" -> "chr;1"; "Parent=a%2Cb" is one parent "a,b"); a '%' not
/// followed by two hex digits there is a ParseError. GTF columns are taken as they are. Features used:
///   CDS          -> coding intervals of its transcript(s)
///   start_codon  -> united with the CDS (BEND labels the start codon as exon)
///   anything else (gene, mRNA, exon, UTRs, stop_codon, ...) -> not coding; counted in
///                   GffReport::ignored_features (exons/UTRs/stop codons are class 8 anyway)
/// Transcripts are grouped by `Parent` (GFF3; a comma-separated Parent puts the CDS into each
/// parent) or `transcript_id` (GTF). A CDS on '.'/'?' strand, a transcript spanning two sequences
/// or both strands, overlapping CDS of one transcript, start > end, start < 1, a coordinate that
/// overflows, a line of fewer than 9 columns, a phase other than 0, 1, 2 or '.', a CDS beyond its
/// sequence or a sequence missing from the FASTA (the message names the sequences there are) are
/// ParseErrors naming the GFF file and line.
///
/// Sequences come from `fasta` (plain or gzip), or, when `fasta` is empty, from the GFF3 file's own
/// "##FASTA" section.
///
/// Loci (GffOptions::flank):
///   flank < 0 (default): one Locus per FASTA sequence that carries transcripts, named like the
///                        sequence, with the whole sequence (keep_unannotated adds the others).
///   flank >= 0:          one Locus per gene region: transcripts are clustered so that no flank
///                        contains part of another gene (clusters whose flanked spans overlap are
///                        merged), the region is [first CDS - flank, last CDS + flank) clipped to
///                        the sequence, named "<seqid>_<begin+1>-<end>" as AUGUSTUS names its
///                        training loci, coordinates shifted to the region.
/// Transcripts inside a locus are ordered by their first CDS base, then by first appearance.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/data/gene_structure.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

struct GffOptions {
  std::int64_t flank = -1;        ///< < 0: one locus per sequence; >= 0: per gene region with this flank
  bool keep_unannotated = false;  ///< per-sequence mode: also return sequences without transcripts
  /// Where the sequences come from, for the message about a seqid that is not among them; empty:
  /// "the FASTA file <path>" or "the ##FASTA section of <gff>". A caller that appends sequences
  /// of its own as a ##FASTA section (scoring against truth loci) names them here.
  std::string sequences_label{};
};

struct GffReport {
  std::map<std::string, std::size_t> ignored_features;  ///< by feature type
  std::size_t cds_features = 0;
  std::size_t transcripts = 0;
  BaseCounter replaced;  ///< FASTA letters mapped to N
};

namespace detail {

struct GffTranscript {
  std::string id, seqid;
  char strand = '+';
  long first_line = 0;
  std::vector<std::pair<Interval, long>> cds;          // with GFF line
  std::vector<std::pair<Interval, long>> start_codons;  // with GFF line
};

inline std::string_view gff_trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

inline int gff_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// GFF3 %XX decoding (seqid and attribute values). A '%' not followed by two hex digits is a
/// malformed escape (the spec requires a literal '%' to be written "%25"): returns std::nullopt.
inline std::optional<std::string> gff_percent_decode(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      r.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || gff_hex_digit(s[i + 1]) < 0 || gff_hex_digit(s[i + 2]) < 0) return std::nullopt;
    r.push_back(static_cast<char>(gff_hex_digit(s[i + 1]) * 16 + gff_hex_digit(s[i + 2])));
    i += 2;
  }
  return r;
}

/// The malformed escape in `s` ('%' and up to two following characters), for error messages.
inline std::string_view gff_bad_escape(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%' && (i + 2 >= s.size() || gff_hex_digit(s[i + 1]) < 0 || gff_hex_digit(s[i + 2]) < 0))
      return s.substr(i, 3);
  return {};
}

/// True if the attribute column uses GFF3 syntax (its first item is `key=value`), false for GTF
/// (`key "value"`) or an empty column.
inline bool gff3_attribute_syntax(std::string_view attrs) {
  std::size_t p = 0;
  while (p <= attrs.size()) {
    std::size_t e = attrs.find(';', p);
    if (e == std::string_view::npos) e = attrs.size();
    const std::string_view item = gff_trim(attrs.substr(p, e - p));
    p = e + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('='), sp = item.find_first_of(" \t");
    return eq != std::string_view::npos && (sp == std::string_view::npos || eq < sp);
  }
  return false;
}

/// Attribute values for `key` (GFF3 values split at ',' and %-decoded; GTF: one value, as is).
/// A malformed GFF3 escape fails through `lines` (ParseError naming file and line), or throws
/// ShapeError when `lines` is null.
inline std::vector<std::string> gff_attribute(std::string_view attrs, std::string_view key,
                                              const LineReader* lines = nullptr) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p <= attrs.size()) {
    std::size_t e = attrs.find(';', p);
    if (e == std::string_view::npos) e = attrs.size();
    const std::string_view item = gff_trim(attrs.substr(p, e - p));
    p = e + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    const std::size_t sp = item.find_first_of(" \t");
    if (eq != std::string_view::npos && (sp == std::string_view::npos || eq < sp)) {  // GFF3 key=value
      if (item.substr(0, eq) != key) continue;
      std::string_view v = item.substr(eq + 1);
      std::size_t q = 0;
      while (q <= v.size()) {
        std::size_t c = v.find(',', q);
        if (c == std::string_view::npos) c = v.size();
        const auto one = gff_trim(v.substr(q, c - q));
        q = c + 1;
        if (one.empty()) continue;
        auto decoded = gff_percent_decode(one);
        if (!decoded) {
          const std::string what = fmt::format(
              "malformed %-escape '{}' in attribute {} value '{}' (GFF3 escapes are '%' and two hex digits; "
              "a literal '%' is written %25)",
              gff_bad_escape(one), key, one);
          if (lines) lines->fail(what);
          throw ShapeError(what);
        }
        out.push_back(std::move(*decoded));
      }
    } else if (sp != std::string_view::npos) {  // GTF key "value"
      if (item.substr(0, sp) != key) continue;
      std::string_view v = gff_trim(item.substr(sp));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!v.empty()) out.push_back(std::string(v));
    }
  }
  return out;
}

inline std::int64_t gff_coordinate(LineReader& lines, std::string_view cell, const char* what) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec == std::errc::result_out_of_range && p == cell.data() + cell.size())
    lines.fail(fmt::format("{} {} is too large (it overflows a 64-bit integer)", what, cell));
  if (ec != std::errc() || p != cell.data() + cell.size() || cell.empty())
    lines.fail(fmt::format("{} '{}' is not an integer", what, cell));
  if (v < 1) lines.fail(fmt::format("{} {} < 1 (GFF coordinates are 1-based)", what, v));
  return v;
}

/// Parses the feature lines; returns true (and leaves `lines` after the directive) at "##FASTA".
inline bool parse_gff_features(LineReader& lines, std::vector<GffTranscript>& tx, GffReport& rep) {
  std::unordered_map<std::string, std::size_t> index;
  std::string_view line;
  while (lines.next(line)) {
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (line.substr(0, 7) == "##FASTA") return true;
      continue;
    }
    if (line.front() == '>') lines.fail("FASTA header inside the annotation without a preceding ##FASTA line");
    std::string_view c[9];
    std::size_t n = 0, p = 0;
    for (;;) {
      const std::size_t t = line.find('\t', p);
      if (n == 9) lines.fail("more than 9 tab-separated columns");
      c[n++] = line.substr(p, t == std::string_view::npos ? std::string_view::npos : t - p);
      if (t == std::string_view::npos) break;
      p = t + 1;
    }
    if (n < 9)
      lines.fail(fmt::format("expected 9 tab-separated columns (GFF3/GTF), got {}{}", n,
                             n == 8 ? " (the attributes column is missing; write '.' when there are none)" : ""));
    const std::string_view type = c[2];
    if (c[7] != "." && c[7] != "0" && c[7] != "1" && c[7] != "2")
      lines.fail(fmt::format("phase '{}' (column 8) must be 0, 1, 2 or '.'", c[7]));
    const bool is_cds = type == "CDS", is_start = type == "start_codon";
    const std::int64_t a = gff_coordinate(lines, c[3], "start"), b = gff_coordinate(lines, c[4], "end");
    if (a > b) lines.fail(fmt::format("start {} > end {}", a, b));
    if (!is_cds && !is_start) {
      ++rep.ignored_features[std::string(type)];
      continue;
    }
    if (is_cds) ++rep.cds_features;
    if (c[6] != "+" && c[6] != "-")
      lines.fail(fmt::format("{} feature with strand '{}' (expected '+' or '-')", type, c[6]));
    const std::string_view attrs = c[8];
    auto ids = gff_attribute(attrs, "transcript_id", &lines);
    if (ids.empty()) ids = gff_attribute(attrs, "Parent", &lines);
    if (ids.empty())
      lines.fail(fmt::format("{} feature without a Parent (GFF3) or transcript_id (GTF) attribute", type));
    std::string seqid(c[0]);
    if (gff3_attribute_syntax(attrs)) {  // GFF3 escapes column 1 too; GTF does not
      auto decoded = gff_percent_decode(c[0]);
      if (!decoded)
        lines.fail(fmt::format("malformed %-escape '{}' in seqid '{}' (GFF3 escapes are '%' and two hex digits; "
                               "a literal '%' is written %25)",
                               gff_bad_escape(c[0]), c[0]));
      seqid = std::move(*decoded);
    }
    for (const auto& id : ids) {
      auto [it, inserted] = index.emplace(id, tx.size());
      if (inserted) {
        GffTranscript t;
        t.id = id;
        t.seqid = seqid;
        t.strand = c[6][0];
        t.first_line = lines.line_number();
        tx.push_back(std::move(t));
      }
      GffTranscript& t = tx[it->second];
      if (t.seqid != seqid)
        lines.fail(fmt::format("transcript '{}' is on sequence '{}' (line {}) and '{}'", id, t.seqid, t.first_line, seqid));
      if (t.strand != c[6][0])
        lines.fail(fmt::format("transcript '{}' has features on both strands (see line {})", id, t.first_line));
      (is_cds ? t.cds : t.start_codons).push_back({Interval{a - 1, b}, lines.line_number()});
    }
  }
  return false;
}

inline Transcript finish_gff_transcript(const GffTranscript& g, std::int64_t seq_len, const std::string& gff_name) {
  auto cds = g.cds;
  std::sort(cds.begin(), cds.end(), [](const auto& x, const auto& y) { return x.first.begin < y.first.begin; });
  for (std::size_t i = 0; i < cds.size(); ++i) {
    if (cds[i].first.end > seq_len)
      throw ParseError(gff_name, cds[i].second,
                       fmt::format("CDS {}..{} of '{}' extends beyond sequence '{}' ({} bp)", cds[i].first.begin + 1,
                                   cds[i].first.end, g.id, g.seqid, seq_len));
    if (i && cds[i].first.begin < cds[i - 1].first.end)
      throw ParseError(gff_name, std::max(cds[i].second, cds[i - 1].second),
                       fmt::format("CDS {}..{} and {}..{} of transcript '{}' overlap", cds[i - 1].first.begin + 1,
                                   cds[i - 1].first.end, cds[i].first.begin + 1, cds[i].first.end, g.id));
  }
  std::vector<Interval> all;
  for (const auto& [iv, line] : cds) all.push_back(iv);
  for (const auto& [iv, line] : g.start_codons) {
    if (iv.end > seq_len)
      throw ParseError(gff_name, line,
                       fmt::format("start_codon of '{}' extends beyond sequence '{}' ({} bp)", g.id, g.seqid, seq_len));
    all.push_back(iv);
  }
  std::sort(all.begin(), all.end(), [](const Interval& x, const Interval& y) { return x.begin < y.begin; });
  Transcript t{g.id, g.strand, {}};
  for (const auto& iv : all) {  // union (start codons overlap their CDS)
    if (!t.cds.empty() && iv.begin < t.cds.back().end)
      t.cds.back().end = std::max(t.cds.back().end, iv.end);
    else
      t.cds.push_back(iv);
  }
  return t;
}

}  // namespace detail

/// Reads a GFF3/GTF file and its genome (see the header comment). `fasta` empty = use ##FASTA.
inline std::vector<Locus> read_gff(detail::LineReader lines, const std::filesystem::path& fasta,
                                   const GffOptions& opt = {}, GffReport* report = nullptr) {
  GffReport rep;
  std::vector<detail::GffTranscript> tx;
  const bool embedded = detail::parse_gff_features(lines, tx, rep);
  const std::string gff_name = lines.name();

  std::map<std::string, std::vector<std::size_t>> by_seq;
  for (std::size_t i = 0; i < tx.size(); ++i) by_seq[tx[i].seqid].push_back(i);

  std::vector<FastaRecord> seqs;
  std::vector<std::string> seq_names;
  {
    std::optional<FastaReader> reader;
    if (!fasta.empty()) reader.emplace(fasta);
    else if (embedded) reader.emplace(std::move(lines));
    else
      throw ParseError(gff_name, 0, "no sequences: give a FASTA file or append a ##FASTA section to the GFF3 file");
    FastaRecord r;
    while (reader->next(r)) {
      seq_names.push_back(r.name);
      if (opt.keep_unannotated || by_seq.count(r.name)) seqs.push_back(std::move(r));
    }
    rep.replaced.merge(reader->replaced());
  }
  std::unordered_map<std::string, std::size_t> seq_index;
  for (std::size_t i = 0; i < seqs.size(); ++i) seq_index.emplace(seqs[i].name, i);
  for (const auto& [seqid, ids] : by_seq)
    if (!seq_index.count(seqid)) {
      const std::string source = !opt.sequences_label.empty() ? opt.sequences_label
                                 : fasta.empty()              ? "the ##FASTA section of " + gff_name
                                                              : "the FASTA file " + fasta.string();
      std::string known;  // what there is instead (the sequences read, annotated or not)
      for (std::size_t i = 0; i < seq_names.size() && i < 5; ++i) known += (i ? ", " : "") + seq_names[i];
      if (seq_names.size() > 5) known += ", ...";
      throw ParseError(gff_name, tx[ids.front()].first_line,
                       fmt::format("sequence '{}' is not in {} ({} sequence{}{}{})", seqid, source, seq_names.size(),
                                   seq_names.size() == 1 ? "" : "s", seq_names.empty() ? "" : ": ", known));
    }

  std::vector<Locus> loci;
  for (const auto& rec : seqs) {
    std::vector<Transcript> ts;
    if (auto it = by_seq.find(rec.name); it != by_seq.end())
      for (std::size_t i : it->second) {
        if (tx[i].cds.empty() && tx[i].start_codons.empty()) continue;
        ts.push_back(detail::finish_gff_transcript(tx[i], static_cast<std::int64_t>(rec.sequence.size()), gff_name));
      }
    rep.transcripts += ts.size();
    std::stable_sort(ts.begin(), ts.end(),
                     [](const Transcript& a, const Transcript& b) { return a.cds.front().begin < b.cds.front().begin; });
    if (opt.flank < 0) {
      if (ts.empty() && !opt.keep_unannotated) continue;
      loci.push_back(Locus{rec.name, rec.sequence, std::move(ts)});
      continue;
    }
    const auto len = static_cast<std::int64_t>(rec.sequence.size());
    std::size_t k = 0;
    while (k < ts.size()) {
      std::int64_t b = ts[k].cds.front().begin, e = ts[k].cds.back().end;
      std::size_t j = k + 1;
      while (j < ts.size() && ts[j].cds.front().begin - opt.flank < e + opt.flank) {
        e = std::max(e, ts[j].cds.back().end);
        ++j;
      }
      const std::int64_t rb = std::max<std::int64_t>(0, b - opt.flank), re = std::min(len, e + opt.flank);
      Locus l{fmt::format("{}_{}-{}", rec.name, rb + 1, re),
              rec.sequence.substr(static_cast<std::size_t>(rb), static_cast<std::size_t>(re - rb)),
              {}};
      for (std::size_t q = k; q < j; ++q) {
        Transcript t = ts[q];
        for (auto& iv : t.cds) {
          iv.begin -= rb;
          iv.end -= rb;
        }
        l.transcripts.push_back(std::move(t));
      }
      loci.push_back(std::move(l));
      k = j;
    }
  }
  if (report) {
    for (const auto& [k2, v] : rep.ignored_features) report->ignored_features[k2] += v;
    report->cds_features += rep.cds_features;
    report->transcripts += rep.transcripts;
    report->replaced.merge(rep.replaced);
  }
  return loci;
}

inline std::vector<Locus> read_gff(const std::filesystem::path& gff, const std::filesystem::path& fasta = {},
                                   const GffOptions& opt = {}, GffReport* report = nullptr) {
  return read_gff(detail::LineReader::open(gff), fasta, opt, report);
}

/// Parses GFF3/GTF text held in memory (with a ##FASTA section, or `fasta`).
inline std::vector<Locus> parse_gff(std::string text, std::string name = "<memory>", const GffOptions& opt = {},
                                    GffReport* report = nullptr, const std::filesystem::path& fasta = {}) {
  return read_gff(detail::LineReader::from_string(std::move(text), std::move(name)), fasta, opt, report);
}

}  // namespace nucleo
