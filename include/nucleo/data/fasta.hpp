#pragma once
/// `FastaReader`: streaming FASTA reader (plain or gzip, detected from the magic bytes).
///
/// Accepted input: records "`>name description`" followed by sequence lines of any width
/// (including none); blank lines are skipped; "\r\n" line ends are accepted. Every sequence is
/// returned upper-cased over {A,C,G,T,N}: IUPAC codes and other letters become 'N' and are counted
/// per letter in `replaced()` (nothing is dropped silently). Errors are ParseError("path:line: ..."):
/// sequence data before the first header, an empty record name, or a non-letter character (digit,
/// '-', '*', space...) in a sequence line.
///
/// `write_fasta` writes records with a fixed line width through a temporary file + rename.
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

/// One FASTA record: `name` is the header up to the first whitespace, `description` the rest.
struct FastaRecord {
  std::string name;
  std::string description;
  std::string sequence;
};

class FastaReader {
 public:
  /// Opens a FASTA file (plain or gzip). Throws IoError if it cannot be opened.
  explicit FastaReader(const std::filesystem::path& path) : lines_(detail::LineReader::open(path)) {}
  /// Reads from an already positioned line source (e.g. the ##FASTA section of a GFF3 file).
  explicit FastaReader(detail::LineReader lines) : lines_(std::move(lines)) {}
  /// Parses FASTA text held in memory; `name` appears in error messages.
  static FastaReader from_string(std::string text, std::string name = "<memory>") {
    return FastaReader(detail::LineReader::from_string(std::move(text), std::move(name)));
  }

  /// Reads the next record into `rec`; false at the end of the input.
  bool next(FastaRecord& rec) {
    std::string_view line;
    if (!have_header_) {
      for (;;) {
        if (!lines_.next(line)) return false;
        if (line.empty()) continue;
        if (line.front() != '>')
          lines_.fail("sequence data before the first '>' header (is this a FASTA file?)");
        break;
      }
      set_header(line);
    }
    rec.name = std::move(header_name_);
    rec.description = std::move(header_desc_);
    rec.sequence.clear();
    have_header_ = false;
    while (lines_.next(line)) {
      if (line.empty()) continue;
      if (line.front() == '>') {
        set_header(line);
        break;
      }
      for (char c : line) {
        if (!is_sequence_letter(c))
          lines_.fail(fmt::format("unexpected character '{}' (0x{:02x}) in the sequence of record '{}'",
                                  printable(c), static_cast<unsigned char>(c), rec.name));
        rec.sequence.push_back(replaced_.add(c));
      }
    }
    ++records_;
    return true;
  }

  /// Letters mapped to N so far (IUPAC codes and other letters), by letter.
  const BaseCounter& replaced() const noexcept { return replaced_; }
  /// Records returned so far.
  std::size_t records() const noexcept { return records_; }
  const std::string& path() const noexcept { return lines_.name(); }

 private:
  static char printable(char c) { return (c >= 32 && c < 127) ? c : '?'; }

  void set_header(std::string_view line) {
    std::string_view h = line.substr(1);
    const std::size_t ws = h.find_first_of(" \t");
    const std::string_view name = h.substr(0, ws);
    if (name.empty()) lines_.fail("FASTA header '>' without a record name");
    header_name_ = std::string(name);
    header_desc_.clear();
    if (ws != std::string_view::npos) {
      std::string_view d = h.substr(ws);
      const std::size_t b = d.find_first_not_of(" \t");
      if (b != std::string_view::npos) header_desc_ = std::string(d.substr(b));
    }
    have_header_ = true;
  }

  detail::LineReader lines_;
  BaseCounter replaced_;
  std::string header_name_, header_desc_;
  bool have_header_ = false;
  std::size_t records_ = 0;
};

/// Reads every record of a FASTA file. If `replaced` is given, the N-mapping counts are added to it.
inline std::vector<FastaRecord> read_fasta(const std::filesystem::path& path, BaseCounter* replaced = nullptr) {
  FastaReader reader(path);
  std::vector<FastaRecord> out;
  FastaRecord rec;
  while (reader.next(rec)) out.push_back(std::move(rec));
  if (replaced) replaced->merge(reader.replaced());
  return out;
}

/// Writes one record with `line_width` letters per line (0 = whole sequence on one line).
inline void write_fasta_record(std::ostream& out, const FastaRecord& r, std::size_t line_width = 60) {
  out << '>' << r.name;
  if (!r.description.empty()) out << ' ' << r.description;
  out << '\n';
  if (line_width == 0) line_width = r.sequence.size() ? r.sequence.size() : 1;
  for (std::size_t i = 0; i < r.sequence.size(); i += line_width)
    out << std::string_view(r.sequence).substr(i, line_width) << '\n';
}

/// Writes `records` to `path` (temp file + rename). Names must be non-empty and without whitespace.
inline void write_fasta(const std::filesystem::path& path, const std::vector<FastaRecord>& records,
                        std::size_t line_width = 60) {
  for (const auto& r : records)
    if (r.name.empty() || r.name.find_first_of(" \t\n\r") != std::string::npos)
      throw IoError(fmt::format("{}: invalid FASTA record name '{}'", path.string(), r.name));
  detail::write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& r : records) write_fasta_record(out, r, line_width);
  });
}

}  // namespace nucleo
