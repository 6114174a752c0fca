#pragma once
/// `GeneDataset`: a gene-finding data set from two GenBank files (train and test loci), as
/// per-nucleotide examples in BEND's 9 classes (gene_labels.hpp). The programs' default is
/// AUGUSTUS's fly training genes (apps: nucleo_apps/fly_data.hpp finds them).
///
/// Splits: test = genes.gb.test. valid = the train loci whose name hashes into the first
/// `valid_percent` (default 10) of 100 buckets: FNV-1a 64-bit(name) % 100 < valid_percent; train =
/// the other train loci. The rule depends only on the locus name, so it is stable across runs,
/// machines and file order. For the fly set it puts 49 of the 486 train loci in valid (437 stay in train).
///
/// Example: name, sequence (upper case A/C/G/T/N), labels (int8 0..8, one per nucleotide).
/// Export: "<split>.fa" + "<split>.labels.tsv" with lines "name<TAB>sequence<TAB>labels", labels as
/// one digit per nucleotide; `read_label_tsv` reads it back (ParseError on a wrong label length,
/// a non-digit label or a class > 8).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/genbank.hpp"
#include "nucleo/detail/line_reader.hpp"

namespace nucleo {

struct GeneExample {
  std::string name;
  std::string sequence;
  std::vector<std::int8_t> labels;
  bool operator==(const GeneExample&) const = default;
};

/// Summary of a split.
struct GeneSplitStats {
  std::size_t loci = 0;
  std::size_t nucleotides = 0;
  std::size_t min_length = 0, median_length = 0, max_length = 0;  ///< median: lower middle for even counts
  std::array<std::size_t, gene_class_count> class_counts{};
  std::size_t n_count = 0;  ///< 'N' nucleotides
};

struct GeneDataFiles {
  std::filesystem::path train, test;
};

/// FNV-1a, 64 bit.
inline std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// True if the train locus `name` belongs to the validation split.
inline bool is_validation_locus(std::string_view name, int valid_percent = 10) noexcept {
  return static_cast<int>(fnv1a64(name) % 100) < valid_percent;
}

/// Labels a locus (gene_labels) into an example.
inline GeneExample make_gene_example(const Locus& l, GeneLabelReport* report = nullptr) {
  return GeneExample{l.name, l.sequence, gene_labels(l, report)};
}

inline GeneSplitStats compute_stats(const std::vector<GeneExample>& examples) {
  GeneSplitStats s;
  s.loci = examples.size();
  std::vector<std::size_t> lengths;
  for (const auto& e : examples) {
    lengths.push_back(e.sequence.size());
    s.nucleotides += e.sequence.size();
    for (auto c : e.labels)
      if (c >= 0 && c < gene_class_count) ++s.class_counts[static_cast<std::size_t>(c)];
    s.n_count += static_cast<std::size_t>(std::count(e.sequence.begin(), e.sequence.end(), 'N'));
  }
  if (!lengths.empty()) {
    std::sort(lengths.begin(), lengths.end());
    s.min_length = lengths.front();
    s.max_length = lengths.back();
    s.median_length = lengths[(lengths.size() - 1) / 2];
  }
  return s;
}

class GeneDataset {
 public:
  /// Loads train/test GenBank files and carves valid out of train (see the header comment).
  static GeneDataset load(const GeneDataFiles& files, int valid_percent = 10) {
    if (valid_percent < 0 || valid_percent > 100)
      throw ConfigError(fmt::format("valid_percent must be in [0, 100], got {}", valid_percent));
    GeneDataset d;
    d.files_ = files;
    for (const auto& l : read_genbank(files.train, &d.replaced_)) {
      auto& dst = is_validation_locus(l.name, valid_percent) ? d.valid_ : d.train_;
      dst.push_back(make_gene_example(l, &d.report_));
    }
    for (const auto& l : read_genbank(files.test, &d.replaced_)) d.test_.push_back(make_gene_example(l, &d.report_));
    return d;
  }
  /// Splits already in memory (e.g. loci labelled by other code, or synthetic ones in tests).
  static GeneDataset from_examples(std::vector<GeneExample> train, std::vector<GeneExample> valid,
                                   std::vector<GeneExample> test) {
    GeneDataset d;
    for (auto* split : {&train, &valid, &test})
      for (const auto& e : *split)
        if (e.labels.size() != e.sequence.size())
          throw ShapeError(fmt::format("example '{}': {} labels for {} nucleotides", e.name, e.labels.size(),
                                       e.sequence.size()));
    d.train_ = std::move(train);
    d.valid_ = std::move(valid);
    d.test_ = std::move(test);
    return d;
  }
  const std::vector<GeneExample>& train() const noexcept { return train_; }
  const std::vector<GeneExample>& valid() const noexcept { return valid_; }
  const std::vector<GeneExample>& test() const noexcept { return test_; }
  /// "train", "valid" or "test"; ConfigError otherwise.
  const std::vector<GeneExample>& split(std::string_view name) const {
    if (name == "train") return train_;
    if (name == "valid") return valid_;
    if (name == "test") return test_;
    throw ConfigError(fmt::format("unknown split '{}' (expected train, valid or test)", name));
  }
  const GeneLabelReport& label_report() const noexcept { return report_; }
  /// Letters mapped to N while reading.
  const BaseCounter& replaced() const noexcept { return replaced_; }
  const GeneDataFiles& files() const noexcept { return files_; }

 private:
  GeneDataFiles files_;
  std::vector<GeneExample> train_, valid_, test_;
  GeneLabelReport report_;
  BaseCounter replaced_;
};

/// Writes "name<TAB>sequence<TAB>labels" lines to `out`. ShapeError (before anything is written)
/// for a label count that differs from the sequence length, a name that is empty or holds
/// whitespace, or a label that is not a class 0..8.
inline void write_label_tsv(std::ostream& out, const std::vector<GeneExample>& examples) {
  for (const auto& e : examples) {
    if (e.labels.size() != e.sequence.size())
      throw ShapeError(fmt::format("example '{}': {} labels for {} nucleotides", e.name, e.labels.size(),
                                   e.sequence.size()));
    if (e.name.empty() || e.name.find_first_of("\t\n\r ") != std::string::npos)
      throw ShapeError(fmt::format("example name '{}' is empty or contains whitespace", e.name));
    for (std::size_t i = 0; i < e.labels.size(); ++i)
      if (e.labels[i] < 0 || e.labels[i] >= gene_class_count)
        throw ShapeError(fmt::format("example '{}': label {} at {} is not a class 0..8", e.name, e.labels[i], i));
  }
  std::string digits;
  for (const auto& e : examples) {
    digits.resize(e.labels.size());
    for (std::size_t i = 0; i < e.labels.size(); ++i) digits[i] = static_cast<char>('0' + e.labels[i]);
    out << e.name << '\t' << e.sequence << '\t' << digits << '\n';
  }
}

/// Writes "name<TAB>sequence<TAB>labels" lines (temp file + rename).
inline void write_label_tsv(const std::filesystem::path& path, const std::vector<GeneExample>& examples) {
  detail::write_file_atomically(path, [&](std::ostream& out) { write_label_tsv(out, examples); });
}

/// Reads a label TSV from `lines` (see read_label_tsv).
inline std::vector<GeneExample> read_label_tsv(detail::LineReader lines) {
  std::vector<GeneExample> out;
  std::string_view line;
  while (lines.next(line)) {
    if (line.empty() || line.front() == '#') continue;
    const std::size_t t1 = line.find('\t');
    const std::size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos || line.find('\t', t2 + 1) != std::string_view::npos)
      lines.fail("expected 3 tab-separated columns: name, sequence, labels");
    GeneExample e;
    e.name = std::string(line.substr(0, t1));
    if (e.name.empty()) lines.fail("empty name");
    const std::string_view seq = line.substr(t1 + 1, t2 - t1 - 1), lab = line.substr(t2 + 1);
    if (seq.size() != lab.size())
      lines.fail(fmt::format("'{}': {} labels for {} nucleotides (one digit 0-8 per nucleotide expected)", e.name,
                             lab.size(), seq.size()));
    e.sequence.reserve(seq.size());
    for (char c : seq) {
      if (!is_sequence_letter(c)) lines.fail(fmt::format("'{}': non-letter 0x{:02x} in the sequence", e.name, static_cast<unsigned char>(c)));
      e.sequence.push_back(canonical_base(c));
    }
    e.labels.reserve(lab.size());
    for (char c : lab) {
      if (c < '0' || c > '8') lines.fail(fmt::format("'{}': label '{}' is not a class digit 0-8", e.name, c));
      e.labels.push_back(static_cast<std::int8_t>(c - '0'));
    }
    out.push_back(std::move(e));
  }
  return out;
}

/// Reads a label TSV written by write_label_tsv (plain or gzip). Blank lines and '#' lines are skipped.
inline std::vector<GeneExample> read_label_tsv(const std::filesystem::path& path) {
  return read_label_tsv(detail::LineReader::open(path));
}

/// Parses label TSV text held in memory; `name` appears in error messages.
inline std::vector<GeneExample> parse_label_tsv(std::string text, std::string name = "<memory>") {
  return read_label_tsv(detail::LineReader::from_string(std::move(text), std::move(name)));
}

/// Writes `<dir>/<split>.fa` and `<dir>/<split>.labels.tsv` (creating dir); returns the two paths.
inline std::array<std::filesystem::path, 2> export_gene_split(const std::vector<GeneExample>& examples,
                                                              const std::filesystem::path& dir,
                                                              std::string_view split) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  std::vector<FastaRecord> recs;
  recs.reserve(examples.size());
  for (const auto& e : examples) recs.push_back(FastaRecord{e.name, "", e.sequence});
  const auto fa = dir / (std::string(split) + ".fa"), tsv = dir / (std::string(split) + ".labels.tsv");
  write_fasta(fa, recs);
  write_label_tsv(tsv, examples);
  return {fa, tsv};
}

}  // namespace nucleo
