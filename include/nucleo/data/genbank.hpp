#pragma once
/// `GenBankReader`: GenBank flat files as AUGUSTUS writes its training gene sets (genes.gb.train),
/// read into `Locus` structures (gene_structure.hpp). Plain or gzip input.
///
/// Record layout understood:
///   LOCUS       name   length bp  DNA          <- name and (optional) declared length
///   (other header lines: DEFINITION, ACCESSION, ... are skipped)
///   FEATURES             Location/Qualifiers
///        source          1..2899               <- feature key at column 5, location at column 21
///        CDS             complement(join(351..622,674..782,
///                        840..986))            <- locations may continue on following lines
///                        /gene="38"            <- qualifiers; quoted values may span lines
///   BASE COUNT ...                             <- skipped
///   ORIGIN
///           1 atttttaaag tgcacatatt ...        <- position numbers and spaces are ignored
///   //
/// Every CDS feature becomes one Transcript: id = /transcript_id, else /gene, else /locus_tag,
/// else "<locus>.cds<k>" (k = 1-based CDS number in the record). Locations: a..b, <a..>b (partial
/// markers accepted), single bases "a", join(...)/order(...) and complement(...) nested in any
/// order, e.g. complement(join(...)) or join(complement(..),complement(..)); all parts of one CDS
/// must be on one strand. Coordinates become 0-based half-open [a-1, b), in ascending order.
/// Other feature keys (source, gene, mRNA, ...) carry no CDS and are counted in
/// `ignored_features()`, not silently lost.
///
/// ParseError (path:line) for: a missing LOCUS/ORIGIN/"//" (truncated record), a location that
/// does not parse, a..b with a > b or a < 1, a position that overflows, the parts of a join out of
/// transcript order, a CDS beyond the sequence, overlapping CDS parts of one transcript, a
/// sequence whose length differs from the LOCUS line, non-letters in the sequence, a locus name
/// used twice. `read_genbank` also refuses a file without any record.
/// Non-ACGT letters become N and are counted in `replaced()`.
///
/// `write_genbank` writes loci back in the same layout (temp file + rename).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/gene_structure.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

namespace detail {

/// Parses a GenBank location string (whitespace removed) into parts with strands.
class GenBankLocationParser {
 public:
  struct Part {
    std::int64_t first = 0, last = 0;  // 1-based inclusive
    char strand = '+';
  };
  GenBankLocationParser(std::string_view s, const LineReader& lines, long line) : s_(s), lines_(lines), line_(line) {}

  std::vector<Part> parse() {
    std::vector<Part> parts;
    parse_loc(parts, 0);
    if (pos_ != s_.size()) fail("unexpected text after the location");
    return parts;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError(lines_.name(), line_, fmt::format("bad CDS location '{}': {} (at character {})", s_, what, pos_ + 1));
  }
  bool eat(std::string_view tok) {
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::int64_t number() {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
    if (ec == std::errc::result_out_of_range) {
      const std::size_t e = s_.find_first_not_of("0123456789", pos_);
      fail(fmt::format("position {} is too large (it overflows a 64-bit integer)",
                       s_.substr(pos_, e == std::string_view::npos ? std::string_view::npos : e - pos_)));
    }
    if (ec != std::errc() || p == s_.data() + pos_) fail("expected a position number");
    pos_ = static_cast<std::size_t>(p - s_.data());
    return v;
  }
  void parse_loc(std::vector<Part>& out, int depth) {
    if (depth > 32) fail("locations nested too deeply");
    if (eat("complement(")) {
      std::vector<Part> inner;
      parse_loc(inner, depth + 1);
      expect(')');
      for (auto it = inner.rbegin(); it != inner.rend(); ++it) {
        Part p = *it;
        p.strand = p.strand == '+' ? '-' : '+';
        out.push_back(p);
      }
      return;
    }
    if (eat("join(") || eat("order(")) {
      for (;;) {
        parse_loc(out, depth + 1);
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        expect(')');
        return;
      }
    }
    eat("<");
    const std::int64_t a = number();
    std::int64_t b = a;
    if (eat("..")) {
      eat(">");
      b = number();
    } else if (pos_ < s_.size() && (s_[pos_] == '^' || s_[pos_] == '.' || s_[pos_] == ':')) {
      fail("only a..b ranges and single positions are supported in CDS locations");
    }
    if (a < 1) fail(fmt::format("position {} < 1 (GenBank positions are 1-based)", a));
    if (a > b) fail(fmt::format("range {}..{} has start > end", a, b));
    out.push_back(Part{a, b, '+'});
  }

  std::string_view s_;
  const LineReader& lines_;
  long line_;
  std::size_t pos_ = 0;
};

}  // namespace detail

class GenBankReader {
 public:
  explicit GenBankReader(const std::filesystem::path& path) : lines_(detail::LineReader::open(path)) {}
  explicit GenBankReader(detail::LineReader lines) : lines_(std::move(lines)) {}
  static GenBankReader from_string(std::string text, std::string name = "<memory>") {
    return GenBankReader(detail::LineReader::from_string(std::move(text), std::move(name)));
  }

  /// Reads the next record; false at the end of the input.
  bool next(Locus& locus) {
    std::string_view line;
    for (;;) {
      if (!lines_.next(line)) return false;
      if (is_blank(line)) continue;
      if (!starts_with(line, "LOCUS")) lines_.fail("expected a 'LOCUS' line (start of a GenBank record)");
      break;
    }
    locus = Locus{};
    const long locus_line = lines_.line_number();
    std::int64_t declared = -1;
    {
      std::vector<std::string_view> tok = split_ws(line);
      if (tok.size() < 2) lines_.fail("LOCUS line without a name");
      locus.name = std::string(tok[1]);
      if (tok.size() >= 3) {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(tok[2].data(), tok[2].data() + tok[2].size(), v);
        if (ec == std::errc() && p == tok[2].data() + tok[2].size()) declared = v;
        if (ec == std::errc::result_out_of_range)
          lines_.fail(fmt::format("LOCUS length {} is too large (it overflows a 64-bit integer)", tok[2]));
      }
      const auto [seen, fresh] = locus_lines_.emplace(locus.name, lines_.line_number());
      if (!fresh)
        lines_.fail(fmt::format("record name '{}' occurs twice (first LOCUS at line {}); locus names must be unique",
                                locus.name, seen->second));
    }

    struct Feature {
      std::string key, location;
      long line = 0;
      std::map<std::string, std::string> qualifiers;
    };
    std::vector<Feature> features;
    enum class Section { header, features, other, origin } section = Section::header;
    bool in_quote = false;
    std::string* open_value = nullptr;
    bool done = false;
    while (lines_.next(line)) {
      if (starts_with(line, "//")) {
        done = true;
        break;
      }
      if (starts_with(line, "LOCUS")) lines_.fail(fmt::format("record '{}' is not terminated by '//' before the next LOCUS", locus.name));
      if (section == Section::origin) {
        for (char c : line) {
          if (c == ' ' || c == '\t' || (c >= '0' && c <= '9')) continue;
          if (!is_sequence_letter(c))
            lines_.fail(fmt::format("unexpected character (0x{:02x}) in the ORIGIN sequence of '{}'",
                                    static_cast<unsigned char>(c), locus.name));
          locus.sequence.push_back(replaced_.add(c));
        }
        continue;
      }
      if (!line.empty() && line[0] != ' ') {  // a new top-level keyword
        in_quote = false;
        open_value = nullptr;
        if (starts_with(line, "FEATURES")) section = Section::features;
        else if (starts_with(line, "ORIGIN")) section = Section::origin;
        else section = Section::other;
        continue;
      }
      if (section != Section::features) continue;
      // Inside FEATURES.
      if (in_quote && open_value) {
        std::string_view v = trim(line);
        *open_value += ' ';
        *open_value += v;
        if (!v.empty() && v.back() == '"') {
          in_quote = false;
          strip_quotes(*open_value);
          open_value = nullptr;
        }
        continue;
      }
      if (line.size() > 5 && line.find_first_not_of(' ') == 5) {  // new feature key
        std::string_view rest = line.substr(5);
        const std::size_t ke = rest.find(' ');
        Feature f;
        f.key = std::string(rest.substr(0, ke));
        f.line = lines_.line_number();
        if (ke != std::string_view::npos) f.location = remove_ws(rest.substr(ke));
        features.push_back(std::move(f));
        open_value = nullptr;
        continue;
      }
      std::string_view v = trim(line);
      if (v.empty()) continue;
      if (features.empty()) lines_.fail("FEATURES continuation line before the first feature key");
      Feature& f = features.back();
      if (v.front() == '/') {
        const std::size_t eq = v.find('=');
        std::string name(v.substr(1, eq == std::string_view::npos ? std::string_view::npos : eq - 1));
        std::string value = eq == std::string_view::npos ? std::string() : std::string(v.substr(eq + 1));
        std::string& slot = f.qualifiers[name];
        slot = value;
        if (!value.empty() && value.front() == '"' && (value.size() == 1 || value.back() != '"')) {
          in_quote = true;
          open_value = &slot;
        } else {
          strip_quotes(slot);
          open_value = nullptr;
        }
      } else {
        if (!f.qualifiers.empty()) lines_.fail("location text after the qualifiers of a feature");
        f.location += remove_ws(v);
      }
    }
    if (!done)
      throw ParseError(lines_.name(), lines_.line_number(),
                       fmt::format("truncated record '{}' (LOCUS at line {}): end of file before '//'", locus.name,
                                   locus_line));
    const long end_line = lines_.line_number();
    if (section != Section::origin && locus.sequence.empty())
      lines_.fail(fmt::format("record '{}' (LOCUS at line {}) has no ORIGIN sequence block", locus.name, locus_line));
    if (declared >= 0 && declared != static_cast<std::int64_t>(locus.sequence.size()))
      throw ParseError(lines_.name(), end_line,
                       fmt::format("record '{}': LOCUS line declares {} bp but the ORIGIN block holds {} (truncated?)",
                                   locus.name, declared, locus.sequence.size()));

    const std::int64_t len = static_cast<std::int64_t>(locus.sequence.size());
    int cds_no = 0;
    for (const Feature& f : features) {
      if (f.key != "CDS") {
        ++ignored_[f.key];
        continue;
      }
      ++cds_no;
      if (f.location.empty()) throw ParseError(lines_.name(), f.line, "CDS feature without a location");
      auto parts = detail::GenBankLocationParser(f.location, lines_, f.line).parse();
      Transcript t;
      t.strand = parts.front().strand;
      for (std::size_t k = 0; k < parts.size(); ++k) {
        const auto& p = parts[k];
        if (p.strand != t.strand)
          throw ParseError(lines_.name(), f.line,
                           fmt::format("CDS location '{}' mixes both strands", f.location));
        // Parts come in transcript order: ascending on +, descending on - (complement(join(a,b))
        // lists a < b and reads them b, a). Another order is not sorted silently: it is an error.
        if (k > 0 && (t.strand == '+' ? p.first < parts[k - 1].first : p.first > parts[k - 1].first))
          throw ParseError(lines_.name(), f.line,
                           fmt::format("CDS location '{}' lists its parts out of order ({}..{} after {}..{}); "
                                       "GenBank lists them in transcript order, ascending positions on the + strand",
                                       f.location, p.first, p.last, parts[k - 1].first, parts[k - 1].last));
        if (p.last > len)
          throw ParseError(lines_.name(), f.line,
                           fmt::format("CDS part {}..{} extends beyond the sequence of '{}' ({} bp)", p.first, p.last,
                                       locus.name, len));
        t.cds.push_back(Interval{p.first - 1, p.last});
      }
      std::sort(t.cds.begin(), t.cds.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
      for (std::size_t i = 1; i < t.cds.size(); ++i)
        if (t.cds[i].begin < t.cds[i - 1].end)
          throw ParseError(lines_.name(), f.line,
                           fmt::format("CDS parts {}..{} and {}..{} overlap", t.cds[i - 1].begin + 1, t.cds[i - 1].end,
                                       t.cds[i].begin + 1, t.cds[i].end));
      for (const char* q : {"transcript_id", "gene", "locus_tag"}) {
        auto it = f.qualifiers.find(q);
        if (it != f.qualifiers.end() && !it->second.empty()) {
          t.id = it->second;
          break;
        }
      }
      if (t.id.empty()) t.id = fmt::format("{}.cds{}", locus.name, cds_no);
      locus.transcripts.push_back(std::move(t));
    }
    ++records_;
    return true;
  }

  const BaseCounter& replaced() const noexcept { return replaced_; }
  /// Feature keys other than CDS seen so far, with counts (e.g. {"source": 486}).
  const std::map<std::string, std::size_t>& ignored_features() const noexcept { return ignored_; }
  std::size_t records() const noexcept { return records_; }

 private:
  static bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
  static bool is_blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }
  static std::string_view trim(std::string_view s) {
    const std::size_t b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    const std::size_t e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
  }
  static std::string remove_ws(std::string_view s) {
    std::string r;
    for (char c : s)
      if (c != ' ' && c != '\t') r.push_back(c);
    return r;
  }
  static void strip_quotes(std::string& v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  }
  static std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t p = 0;
    while (p < s.size()) {
      const std::size_t b = s.find_first_not_of(" \t", p);
      if (b == std::string_view::npos) break;
      const std::size_t e = s.find_first_of(" \t", b);
      out.push_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
      p = e == std::string_view::npos ? s.size() : e;
    }
    return out;
  }

  detail::LineReader lines_;
  BaseCounter replaced_;
  std::map<std::string, std::size_t> ignored_;
  std::unordered_map<std::string, long> locus_lines_;  // name -> LOCUS line, for duplicate names
  std::size_t records_ = 0;
};

/// Reads every record of a GenBank file; a file without any record is a ParseError.
inline std::vector<Locus> read_genbank(const std::filesystem::path& path, BaseCounter* replaced = nullptr) {
  GenBankReader reader(path);
  std::vector<Locus> out;
  Locus l;
  while (reader.next(l)) out.push_back(std::move(l));
  if (out.empty()) throw ParseError(path.string(), 0, "no GenBank record (an empty file, or no LOCUS line)");
  if (replaced) replaced->merge(reader.replaced());
  return out;
}

/// The GenBank location of a transcript: "a..b", "join(a..b,c..d)", "complement(join(...))".
inline std::string genbank_location(const Transcript& t) {
  std::string s;
  for (std::size_t i = 0; i < t.cds.size(); ++i)
    s += fmt::format("{}{}..{}", i ? "," : "", t.cds[i].begin + 1, t.cds[i].end);
  if (t.cds.size() > 1) s = "join(" + s + ")";
  if (t.strand == '-') s = "complement(" + s + ")";
  return s;
}

/// Writes one record in AUGUSTUS's layout (lower-case ORIGIN, 60 bases per line).
inline void write_genbank_record(std::ostream& out, const Locus& l) {
  out << fmt::format("LOCUS       {}   {} bp  DNA\n", l.name, l.sequence.size());
  out << "FEATURES             Location/Qualifiers\n";
  out << fmt::format("     source          1..{}\n", l.sequence.size());
  for (const auto& t : l.transcripts) {
    const std::string loc = genbank_location(t);
    constexpr std::size_t width = 58;  // 21 + 58 = 79 columns
    for (std::size_t i = 0; i < loc.size() || i == 0; i += width)
      out << (i == 0 ? "     CDS             " : "                     ") << loc.substr(i, width) << '\n';
    out << "                     /gene=\"" << t.id << "\"\n";
  }
  out << "ORIGIN\n";
  for (std::size_t i = 0; i < l.sequence.size(); i += 60) {
    out << fmt::format("{:>9}", i + 1);
    for (std::size_t j = i; j < std::min(i + 60, l.sequence.size()); j += 10) {
      out << ' ';
      for (std::size_t k = j; k < std::min(j + 10, l.sequence.size()); ++k)
        out << static_cast<char>(l.sequence[k] >= 'A' && l.sequence[k] <= 'Z' ? l.sequence[k] - 'A' + 'a' : l.sequence[k]);
    }
    out << '\n';
  }
  out << "//\n";
}

/// Writes loci to a GenBank file (temp file + rename).
inline void write_genbank(const std::filesystem::path& path, const std::vector<Locus>& loci) {
  detail::write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& l : loci) write_genbank_record(out, l);
  });
}

}  // namespace nucleo
