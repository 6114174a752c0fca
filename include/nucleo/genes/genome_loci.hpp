#pragma once
/// `GenomeLoci`: where loci cut from a genome lie in it, so that predictions made on the whole
/// genome (genome context) can be scored inside the loci exactly as predictions made on the loci.
///
/// A locus named `<seqid>_<A>-<B>` is the 1-based inclusive interval A..B of the genome record
/// `<seqid>` (the naming of AUGUSTUS's training loci: `chr2R_60221-63882` is bases 60,221..63,882
/// of record `chr2R` of augustus-doc's chr2R.2M-7M.fa). `locate` checks every locus base for base
/// against the genome (IoError naming the locus otherwise: an unparsable name, an unknown record,
/// an interval outside the record, a sequence that differs) and reports loci that overlap.
///
///   GenomeLoci g = GenomeLoci::locate(genome, test_loci);
///   std::vector<std::int8_t> cut = g.slice(k, genome_labels);   // labels of locus k, from genome-wide ones
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/gene_dataset.hpp"

namespace nucleo {

/// A locus's place in the genome: record index and 0-based half-open interval.
struct GenomeInterval {
  std::size_t record = 0;
  std::int64_t begin = 0, end = 0;
  std::int64_t length() const { return end - begin; }
  bool operator==(const GenomeInterval&) const = default;
};

/// The seqid and 1-based inclusive interval in a locus name `<seqid>_<A>-<B>`; false if the name
/// has no such form (A >= 1 and B >= A required).
inline bool parse_locus_interval(std::string_view name, std::string& seqid, std::int64_t& first, std::int64_t& last) {
  const auto us = name.rfind('_');
  if (us == std::string_view::npos || us == 0) return false;
  const std::string_view range = name.substr(us + 1);
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) return false;
  auto number = [](std::string_view s, std::int64_t& v) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  if (!number(range.substr(0, dash), first) || !number(range.substr(dash + 1), last)) return false;
  if (first < 1 || last < first) return false;
  seqid = std::string(name.substr(0, us));
  return true;
}

class GenomeLoci {
 public:
  /// Places every locus of `loci` in `genome` (see the file comment); `what` names the loci in
  /// errors (e.g. "test locus").
  static GenomeLoci locate(std::span<const FastaRecord> genome, std::span<const GeneExample> loci,
                           std::string_view what = "locus") {
    std::unordered_map<std::string_view, std::size_t> by_name;
    for (std::size_t r = 0; r < genome.size(); ++r)
      if (!by_name.emplace(genome[r].name, r).second)
        throw IoError(fmt::format("genome: record '{}' occurs twice", genome[r].name));
    GenomeLoci g;
    g.loci_.reserve(loci.size());
    for (const GeneExample& l : loci) {
      std::string seqid;
      std::int64_t a = 0, b = 0;
      if (!parse_locus_interval(l.name, seqid, a, b))
        throw IoError(fmt::format("{} '{}': the name does not give its place in the genome (expected "
                                     "<seqid>_<first>-<last>, 1-based inclusive, e.g. chr2R_60221-63882)",
                                     what, l.name));
      const auto it = by_name.find(seqid);
      if (it == by_name.end())
        throw IoError(fmt::format("{} '{}': the genome has no record '{}'", what, l.name, seqid));
      const std::string& s = genome[it->second].sequence;
      if (b > static_cast<std::int64_t>(s.size()))
        throw IoError(fmt::format("{} '{}': ends at {} but record '{}' has {} nt", what, l.name, b, seqid, s.size()));
      if (b - a + 1 != static_cast<std::int64_t>(l.sequence.size()))
        throw IoError(fmt::format("{} '{}': {} nt, but its name spans {} nt", what, l.name, l.sequence.size(), b - a + 1));
      const std::string_view cut(s.data() + (a - 1), static_cast<std::size_t>(b - a + 1));
      if (cut != l.sequence) {
        std::size_t k = 0;
        while (k < cut.size() && cut[k] == l.sequence[k]) ++k;
        throw IoError(fmt::format("{} '{}': differs from genome record '{}' at position {} ({} in the locus, {} "
                                     "in the genome)",
                                     what, l.name, seqid, a + static_cast<std::int64_t>(k), l.sequence[k], cut[k]));
      }
      g.loci_.push_back(GenomeInterval{it->second, a - 1, b});
      g.record_lengths_.push_back(static_cast<std::int64_t>(s.size()));
    }
    return g;
  }

  std::size_t size() const { return loci_.size(); }
  const GenomeInterval& operator[](std::size_t k) const { return loci_[k]; }

  /// Pairs of loci (indices) that share nucleotides.
  std::vector<std::pair<std::size_t, std::size_t>> overlaps() const {
    std::vector<std::size_t> order(loci_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return std::tie(loci_[x].record, loci_[x].begin) < std::tie(loci_[y].record, loci_[y].begin);
    });
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (std::size_t i = 0; i < order.size(); ++i)
      for (std::size_t j = i + 1; j < order.size(); ++j) {
        const auto &a = loci_[order[i]], &b = loci_[order[j]];
        if (b.record != a.record || b.begin >= a.end) break;
        out.emplace_back(std::min(order[i], order[j]), std::max(order[i], order[j]));
      }
    return out;
  }

  /// The part of record-wide `values` (one per nucleotide of locus k's record) inside locus k;
  /// ShapeError if `values` does not cover the record exactly.
  template <class T>
  std::vector<T> slice(std::size_t k, std::span<const T> values) const {
    const GenomeInterval& g = loci_.at(k);
    if (static_cast<std::int64_t>(values.size()) != record_lengths_.at(k))
      throw ShapeError(fmt::format("GenomeLoci::slice: {} values for locus {}, whose genome record has {} nt",
                                   values.size(), k, record_lengths_[k]));
    return std::vector<T>(values.begin() + g.begin, values.begin() + g.end);
  }
  template <class T>
  std::vector<T> slice(std::size_t k, const std::vector<T>& values) const {
    return slice(k, std::span<const T>(values));
  }

 private:
  std::vector<GenomeInterval> loci_;
  std::vector<std::int64_t> record_lengths_;  // length of each locus's record (slice checks it)
};

}  // namespace nucleo
