#pragma once
/// `FastaIndex`: random access into an uncompressed FASTA file through a samtools `.fai` index.
///
/// The .fai format (samtools faidx), one tab-separated line per record:
///   NAME  LENGTH  OFFSET  LINEBASES  LINEWIDTH
/// OFFSET is the byte offset of the first base, LINEBASES the bases per full line, LINEWIDTH the
/// bytes per full line including the terminator ("\n" = +1, "\r\n" = +2). Base p (0-based) of a
/// record lives at byte OFFSET + (p / LINEBASES) * LINEWIDTH + p % LINEBASES.
///
/// `open(fasta)` reads "<fasta>.fai" if it exists and is not older than the FASTA, otherwise
/// builds the index (same rules as samtools: every line of a record but the last has the same
/// length) and writes it next to the FASTA through a temp file + rename (if the directory is not
/// writable, the in-memory index is used and `written()` is false).
/// `fetch(name, start, end)`: 0-based half-open [start, end), upper-cased, non-ACGT letters -> N.
/// Bounds errors (unknown name, start > end, end > length) throw IoError naming the FASTA.
/// gzip-compressed FASTA files cannot be indexed: decompress them first.
/// `from_string(text)` indexes FASTA text held in memory and fetches from it (fuzzing, tests).
/// A FastaIndex owns an open stream: use one object per thread.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

/// One .fai line.
struct FaiEntry {
  std::string name;
  std::uint64_t length = 0;
  std::uint64_t offset = 0;
  std::uint64_t line_bases = 0;
  std::uint64_t line_width = 0;
  bool operator==(const FaiEntry&) const = default;
};

class FastaIndex {
 public:
  /// Index for `fasta`: reads "<fasta>.fai", or builds (and tries to write) it when missing or stale.
  static FastaIndex open(const std::filesystem::path& fasta) {
    const auto fai = fai_path(fasta);
    std::error_code ec;
    if (std::filesystem::exists(fai, ec)) {
      const auto tf = std::filesystem::last_write_time(fasta, ec);
      const auto ti = std::filesystem::last_write_time(fai, ec);
      if (!ec && ti >= tf) return read(fai, fasta);
    }
    FastaIndex idx = build(fasta);
    try {
      idx.write(fai);
      idx.written_ = true;
    } catch (const IoError&) {
      idx.written_ = false;  // read-only directory: keep the in-memory index
    }
    return idx;
  }

  /// Scans `fasta` and builds the index (nothing is written).
  static FastaIndex build(const std::filesystem::path& fasta) {
    auto lines = detail::LineReader::open(fasta);
    if (lines.compressed())
      throw IoError(fmt::format("{}: random access needs an uncompressed FASTA; decompress it first (gunzip)",
                                fasta.string()));
    FastaIndex idx = scan(lines);
    idx.fasta_ = fasta;
    return idx;
  }

  /// Index of FASTA text held in memory; fetch() reads from that text (`name` appears in errors).
  static FastaIndex from_string(std::string text, std::string name = "<memory>") {
    auto lines = detail::LineReader::from_string(text, name);
    FastaIndex idx = scan(lines);
    idx.fasta_ = std::move(name);
    idx.text_ = std::move(text);
    idx.in_memory_ = true;
    return idx;
  }

  /// Builds the index from a line source (nothing is written; fetch() needs open(), build() or from_string()).
  static FastaIndex scan(detail::LineReader& lines) {
    FastaIndex idx;
    std::string_view line;
    FaiEntry* cur = nullptr;
    bool short_line_seen = false;  // a line shorter than line_bases (or blank) ends the record's data
    int term = -1;
    while (lines.next(line)) {
      if (!line.empty() && line.front() == '>') {
        std::string_view h = line.substr(1);
        const std::string_view name = h.substr(0, h.find_first_of(" \t"));
        if (name.empty()) lines.fail("FASTA header '>' without a record name");
        if (idx.by_name_.count(std::string(name))) lines.fail(fmt::format("duplicate record name '{}'", name));
        idx.entries_.push_back(FaiEntry{std::string(name), 0,
                                        lines.line_offset() + line.size() + static_cast<std::uint64_t>(lines.terminator_bytes()),
                                        0, 0});
        idx.by_name_.emplace(std::string(name), idx.entries_.size() - 1);
        cur = &idx.entries_.back();
        short_line_seen = false;
        term = -1;
        continue;
      }
      if (!cur) {
        if (line.empty()) continue;
        lines.fail("sequence data before the first '>' header (is this a FASTA file?)");
      }
      if (line.empty()) {
        short_line_seen = true;
        continue;
      }
      for (char c : line)
        if (!is_sequence_letter(c))
          lines.fail(fmt::format("unexpected character (0x{:02x}) in the sequence of record '{}'",
                                 static_cast<unsigned char>(c), cur->name));
      if (short_line_seen)
        lines.fail(fmt::format("record '{}' has lines of different length (only the last line of a record may be "
                               "shorter); reformat it (e.g. with samtools faidx or seqkit seq -w 60)",
                               cur->name));
      if (cur->line_bases == 0) {
        cur->line_bases = line.size();
        cur->line_width = line.size() + static_cast<std::uint64_t>(lines.terminator_bytes());
        term = lines.terminator_bytes();
      } else {
        if (line.size() > cur->line_bases)
          lines.fail(fmt::format("record '{}' has lines of different length (only the last line of a record may be "
                                 "shorter)",
                                 cur->name));
        if (lines.terminator_bytes() != term && lines.terminator_bytes() != 0)
          lines.fail(fmt::format("record '{}' mixes \\n and \\r\\n line ends", cur->name));
        if (line.size() < cur->line_bases) short_line_seen = true;
      }
      cur->length += line.size();
    }
    return idx;
  }

  /// Reads a .fai file; `fasta` is the file it indexes.
  static FastaIndex read(const std::filesystem::path& fai, const std::filesystem::path& fasta) {
    auto lines = detail::LineReader::open(fai);
    FastaIndex idx;
    idx.fasta_ = fasta;
    std::string_view line;
    while (lines.next(line)) {
      if (line.empty()) continue;
      std::string_view cols[6];
      std::size_t n = 0, p = 0;
      for (;;) {
        const std::size_t t = line.find('\t', p);
        if (n == 6) lines.fail("expected 5 tab-separated columns (NAME LENGTH OFFSET LINEBASES LINEWIDTH)");
        cols[n++] = line.substr(p, t == std::string_view::npos ? std::string_view::npos : t - p);
        if (t == std::string_view::npos) break;
        p = t + 1;
      }
      if (n < 5) lines.fail("expected 5 tab-separated columns (NAME LENGTH OFFSET LINEBASES LINEWIDTH)");
      FaiEntry e;
      e.name = std::string(cols[0]);
      if (e.name.empty()) lines.fail("empty sequence name");
      const char* what[4] = {"LENGTH", "OFFSET", "LINEBASES", "LINEWIDTH"};
      std::uint64_t* dst[4] = {&e.length, &e.offset, &e.line_bases, &e.line_width};
      for (int k = 0; k < 4; ++k) {
        const auto c = cols[k + 1];
        auto [ptr, ec] = std::from_chars(c.data(), c.data() + c.size(), *dst[k]);
        if (ec != std::errc() || ptr != c.data() + c.size() || c.empty())
          lines.fail(fmt::format("column {} ({}) is not a non-negative integer: '{}'", k + 2, what[k], c));
      }
      if (e.length > 0 && (e.line_bases == 0 || e.line_width < e.line_bases))
        lines.fail("LINEBASES must be > 0 and LINEWIDTH >= LINEBASES");
      if (idx.by_name_.count(e.name)) lines.fail(fmt::format("duplicate sequence name '{}'", e.name));
      idx.by_name_.emplace(e.name, idx.entries_.size());
      idx.entries_.push_back(std::move(e));
    }
    return idx;
  }

  /// Writes the index in samtools format (temp file + rename).
  void write(const std::filesystem::path& fai) const {
    detail::write_file_atomically(fai, [&](std::ostream& out) {
      for (const auto& e : entries_)
        out << e.name << '\t' << e.length << '\t' << e.offset << '\t' << e.line_bases << '\t' << e.line_width << '\n';
    });
  }

  static std::filesystem::path fai_path(const std::filesystem::path& fasta) { return fasta.string() + ".fai"; }

  const std::vector<FaiEntry>& entries() const noexcept { return entries_; }
  bool contains(const std::string& name) const { return by_name_.count(name) != 0; }
  /// The entry of `name`; throws IoError if the FASTA has no such sequence.
  const FaiEntry& entry(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
      throw IoError(fmt::format("{}: no sequence named '{}' (the index has {} sequences)", fasta_.string(), name,
                                entries_.size()));
    return entries_[it->second];
  }
  std::uint64_t length(const std::string& name) const { return entry(name).length; }
  /// True if open() wrote the .fai file.
  bool written() const noexcept { return written_; }
  const std::filesystem::path& fasta_path() const noexcept { return fasta_; }

  /// Bases [start, end) of `name`, upper-cased, non-ACGT letters -> N.
  std::string fetch(const std::string& name, std::uint64_t start, std::uint64_t end) {
    const FaiEntry& e = entry(name);
    if (start > end || end > e.length)
      throw IoError(fmt::format("{}: fetch {}:[{}, {}) is outside the sequence (length {}, 0-based half-open)",
                                fasta_.string(), name, start, end, e.length));
    std::string out;
    if (start == end) return out;
    const std::uint64_t b = byte_of(e, start), last = byte_of(e, end - 1);
    std::string raw;
    if (in_memory_) {
      if (last >= text_.size())
        throw IoError(fmt::format("{}: unexpected end of file while fetching {}:[{}, {}); is the .fai index stale?",
                                  fasta_.string(), name, start, end));
      raw = text_.substr(static_cast<std::size_t>(b), static_cast<std::size_t>(last - b + 1));
    } else {
      raw = read_bytes(b, last, name, start, end);
    }
    out.reserve(static_cast<std::size_t>(end - start));
    for (char c : raw) {
      if (c == '\n' || c == '\r') continue;
      if (!is_sequence_letter(c))
        throw IoError(fmt::format("{}: unexpected byte 0x{:02x} while fetching {}:[{}, {}); is the .fai index stale?",
                                  fasta_.string(), static_cast<unsigned char>(c), name, start, end));
      out.push_back(canonical_base(c));
    }
    if (out.size() != end - start)
      throw IoError(fmt::format("{}: fetched {} bases for {}:[{}, {}); is the .fai index stale?", fasta_.string(),
                                out.size(), name, start, end));
    return out;
  }

 private:
  static std::uint64_t byte_of(const FaiEntry& e, std::uint64_t p) {
    return e.offset + (p / e.line_bases) * e.line_width + p % e.line_bases;
  }

  /// Bytes [b, last] of the FASTA file (opened on first use).
  std::string read_bytes(std::uint64_t b, std::uint64_t last, const std::string& name, std::uint64_t start,
                         std::uint64_t end) {
    if (!in_) {
      in_ = std::make_unique<std::ifstream>(fasta_, std::ios::binary);
      if (!*in_) {
        in_.reset();
        throw IoError(fmt::format("{}: cannot open for reading", fasta_.string()));
      }
    }
    std::string raw(static_cast<std::size_t>(last - b + 1), '\0');
    in_->clear();
    in_->seekg(static_cast<std::streamoff>(b));
    in_->read(raw.data(), static_cast<std::streamsize>(raw.size()));
    if (static_cast<std::uint64_t>(in_->gcount()) != raw.size())
      throw IoError(fmt::format("{}: unexpected end of file while fetching {}:[{}, {}); is the .fai index stale?",
                                fasta_.string(), name, start, end));
    return raw;
  }

  std::filesystem::path fasta_;
  std::vector<FaiEntry> entries_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::unique_ptr<std::ifstream> in_;
  std::string text_;        // the FASTA itself, for an index made by from_string
  bool in_memory_ = false;
  bool written_ = false;
};

}  // namespace nucleo
