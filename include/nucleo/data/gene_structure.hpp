#pragma once
/// Gene structures shared by the GenBank and GFF3/GTF readers and the label converter.
///
/// Coordinates are 0-based, half-open genomic intervals [begin, end) on the forward strand of
/// `Locus::sequence`, whatever the gene's strand (GenBank "complement(join(11..20,31..40))" becomes
/// strand '-' with cds {[10,20), [30,40)}). A transcript's `cds` is sorted by begin and its
/// intervals do not overlap; only coding parts are stored (start codon included; whether the stop
/// codon is included depends on the source, see gene_labels.hpp).
#include <cstdint>
#include <string>
#include <vector>

namespace nucleo {

/// [begin, end), 0-based.
struct Interval {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t length() const noexcept { return end - begin; }
  bool operator==(const Interval&) const = default;
};

struct Transcript {
  std::string id;
  char strand = '+';           ///< '+' or '-'
  std::vector<Interval> cds;   ///< sorted, non-overlapping, genomic coordinates
  bool operator==(const Transcript&) const = default;
};

/// A sequence with the transcripts annotated on it.
struct Locus {
  std::string name;
  std::string sequence;  ///< upper case over {A,C,G,T,N}
  std::vector<Transcript> transcripts;
  bool operator==(const Locus&) const = default;
};

}  // namespace nucleo
