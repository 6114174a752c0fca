#pragma once
/// `BedTable`: BED files as BEND ships them (bend.md section 1.1), plus sequence extraction.
///
/// Format: tab-separated with a header row (plain or gzip). Columns are used by position as BEND
/// does: chrom = column 0, start = 1, end = 2 (0-based, half-open), split = the LAST column. The
/// strand column is the one named "strand", else column 3 if the table has more than 4 columns
/// (column 3 is not then the split); the label column is the one named "label", else column 6 if it
/// exists and is not the last column. A label cell holds comma-separated 0-based positive class
/// indices ("1,4,5"); an empty cell or NaN/nan/NA means no positive label.
///
/// `multi_hot(row, C)` gives the C-wide 0/1 vector. `fetch(row, fasta, read_strand)` cuts
/// [start, end) from the FASTA through its .fai index, upper-cased with non-ACGT -> N, and
/// reverse-complements rows on '-' when read_strand is true (BEND: histone, chromatin and CpG tasks;
/// false for gene finding). Strand values: '+', '-' ('.' counts as '+').
///
/// ParseError ("file:line: ...") for: a missing header, fewer than 4 columns, a ragged row,
/// non-integer or negative coordinates, start >= end, a bad label cell, a duplicate label index, a
/// label >= C, an unknown strand, an interval outside the FASTA sequence or an unknown chromosome.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta_index.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

struct BedRow {
  std::string chrom;
  std::int64_t start = 0, end = 0;  ///< 0-based half-open
  char strand = '+';                ///< '+', '-', or '?' when the table has no strand column
  std::vector<int> labels;          ///< positive class indices (empty = none)
  std::string split;                ///< last column
  long line = 0;                    ///< 1-based line in the file
};

class BedTable {
 public:
  /// Reads a BEND BED file (see the header comment).
  static BedTable read(const std::filesystem::path& path) {
    auto lines = detail::LineReader::open(path);
    return parse(lines);
  }
  static BedTable from_string(std::string text, std::string name = "<memory>") {
    auto lines = detail::LineReader::from_string(std::move(text), std::move(name));
    return parse(lines);
  }

  const std::string& path() const noexcept { return path_; }
  const std::vector<std::string>& header() const noexcept { return header_; }
  const std::vector<BedRow>& rows() const noexcept { return rows_; }
  std::size_t size() const noexcept { return rows_.size(); }
  const BedRow& operator[](std::size_t i) const { return rows_[i]; }
  /// Column indices used (-1 if absent).
  int strand_column() const noexcept { return strand_col_; }
  int label_column() const noexcept { return label_col_; }

  /// Indices of the rows whose split column equals `split`, in file order.
  std::vector<std::size_t> rows_in_split(std::string_view split) const {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].split == split) idx.push_back(i);
    return idx;
  }

  /// 0/1 vector of `num_classes` for row i; ParseError if a label index is >= num_classes.
  std::vector<std::uint8_t> multi_hot(std::size_t i, int num_classes) const {
    std::vector<std::uint8_t> v(static_cast<std::size_t>(num_classes), 0);
    for (int c : rows_.at(i).labels) {
      if (c >= num_classes)
        throw ParseError(path_, rows_[i].line,
                         fmt::format("label index {} is out of range for {} classes", c, num_classes));
      v[static_cast<std::size_t>(c)] = 1;
    }
    return v;
  }

  /// Sequence of row i from `fasta` (see the header comment).
  std::string fetch(std::size_t i, FastaIndex& fasta, bool read_strand) const {
    const BedRow& r = rows_.at(i);
    if (!fasta.contains(r.chrom))
      throw ParseError(path_, r.line,
                       fmt::format("chromosome '{}' is not in {}", r.chrom, fasta.fasta_path().string()));
    const auto len = static_cast<std::int64_t>(fasta.length(r.chrom));
    if (r.end > len)
      throw ParseError(path_, r.line,
                       fmt::format("interval {}:[{}, {}) extends beyond the sequence ({} bp in {})", r.chrom, r.start,
                                   r.end, len, fasta.fasta_path().string()));
    std::string s = fasta.fetch(r.chrom, static_cast<std::uint64_t>(r.start), static_cast<std::uint64_t>(r.end));
    if (read_strand) {
      if (r.strand == '?')
        throw ParseError(path_, r.line, "read_strand is on but the table has no strand column");
      if (r.strand == '-') s = reverse_complement(s);
    }
    return s;
  }

 private:
  static std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> cols;
    std::size_t p = 0;
    for (;;) {
      const std::size_t t = line.find('\t', p);
      cols.push_back(line.substr(p, t == std::string_view::npos ? std::string_view::npos : t - p));
      if (t == std::string_view::npos) break;
      p = t + 1;
    }
    return cols;
  }
  static std::string_view trim(std::string_view s) {
    const std::size_t b = s.find_first_not_of(" \"");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \"") - b + 1);
  }
  static std::int64_t coordinate(detail::LineReader& lines, std::string_view cell, const char* what) {
    std::int64_t v = 0;
    cell = trim(cell);
    auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (ec != std::errc() || p != cell.data() + cell.size() || cell.empty())
      lines.fail(fmt::format("{} '{}' is not an integer", what, cell));
    if (v < 0) lines.fail(fmt::format("{} {} is negative", what, v));
    return v;
  }

  static BedTable parse(detail::LineReader& lines) {
    BedTable t;
    t.path_ = lines.name();
    std::string_view line;
    while (lines.next(line) && (line.empty() || line.front() == '#')) {
    }
    if (lines.line_number() == 0 || line.empty()) {
      if (lines.line_number() == 0) throw ParseError(t.path_, 0, "empty file: expected a header row");
      lines.fail("expected a header row");
    }
    for (auto c : split_tabs(line)) t.header_.emplace_back(trim(c));
    const int ncol = static_cast<int>(t.header_.size());
    if (ncol < 4)
      lines.fail(fmt::format("expected at least 4 tab-separated columns (chrom start end ... split), got {}", ncol));
    {
      std::int64_t dummy = 0;
      const std::string& h1 = t.header_[1];
      auto [p, ec] = std::from_chars(h1.data(), h1.data() + h1.size(), dummy);
      if (ec == std::errc() && p == h1.data() + h1.size())
        lines.fail("the first row looks like data, but BEND BED files start with a header row "
                   "(e.g. chromosome<TAB>start<TAB>end<TAB>strand<TAB>split)");
    }
    auto named = [&](std::string_view n) {
      for (int i = 0; i < ncol; ++i)
        if (t.header_[static_cast<std::size_t>(i)] == n) return i;
      return -1;
    };
    t.strand_col_ = named("strand");
    if (t.strand_col_ < 0 && ncol > 4) t.strand_col_ = 3;
    t.label_col_ = named("label");
    if (t.label_col_ < 0 && ncol > 7) t.label_col_ = 6;
    if (t.strand_col_ == ncol - 1 || t.label_col_ == ncol - 1)
      lines.fail("the last column is the split; it cannot also be the strand or label column");

    while (lines.next(line)) {
      if (line.empty() || line.front() == '#') continue;
      auto cols = split_tabs(line);
      if (static_cast<int>(cols.size()) != ncol)
        lines.fail(fmt::format("expected {} columns like the header, got {}", ncol, cols.size()));
      BedRow r;
      r.line = lines.line_number();
      r.chrom = std::string(trim(cols[0]));
      if (r.chrom.empty()) lines.fail("empty chromosome name");
      r.start = coordinate(lines, cols[1], "start");
      r.end = coordinate(lines, cols[2], "end");
      if (r.start >= r.end) lines.fail(fmt::format("start {} >= end {} (0-based half-open)", r.start, r.end));
      r.split = std::string(trim(cols.back()));
      if (t.strand_col_ >= 0) {
        const std::string_view s = trim(cols[static_cast<std::size_t>(t.strand_col_)]);
        if (s == "+" || s == ".") r.strand = '+';
        else if (s == "-") r.strand = '-';
        else lines.fail(fmt::format("strand '{}' is not '+', '-' or '.'", s));
      } else {
        r.strand = '?';
      }
      if (t.label_col_ >= 0) {
        const std::string_view cell = trim(cols[static_cast<std::size_t>(t.label_col_)]);
        if (!(cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA")) {
          std::size_t p = 0;
          for (;;) {
            const std::size_t c = cell.find(',', p);
            const std::string_view tok = trim(cell.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p));
            int v = 0;
            auto [q, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
            if (ec != std::errc() || q != tok.data() + tok.size() || tok.empty() || v < 0)
              lines.fail(fmt::format("label cell '{}': '{}' is not a non-negative class index", cell, tok));
            if (std::find(r.labels.begin(), r.labels.end(), v) != r.labels.end())
              lines.fail(fmt::format("label cell '{}' lists class {} twice", cell, v));
            r.labels.push_back(v);
            if (c == std::string_view::npos) break;
            p = c + 1;
          }
          std::sort(r.labels.begin(), r.labels.end());
        }
      }
      t.rows_.push_back(std::move(r));
    }
    return t;
  }

  std::string path_;
  std::vector<std::string> header_;
  std::vector<BedRow> rows_;
  int strand_col_ = -1, label_col_ = -1;
};

}  // namespace nucleo
