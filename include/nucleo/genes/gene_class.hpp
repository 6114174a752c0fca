#pragma once
/// `GeneClass`: BEND's 9 gene-finding classes (`labels_simple_direction_DA`, bend.md section 2), in
/// genomic (+ strand) coordinates; the per-nucleotide labels of `gene_labels` and the tags of the
/// gene CRF (`gene_structure_constraints`).
///
///   0 gene_exon_fwd      (CDS, start codon included)   4 gene_exon_rev
///   1 gene_donor_fwd     (first intron nucleotide)      5 gene_donor_rev    (genomic-RIGHT intron end)
///   2 gene_intron_fwd                                   6 gene_intron_rev
///   3 gene_acceptor_fwd  (last intron nucleotide)       7 gene_acceptor_rev (genomic-LEFT intron end)
///   8 gene_noncoding: intergenic, UTRs, stop codon
///
/// An unscoped enum over int8 on purpose: the classes are stored as int8 labels, compared with
/// them, used as array and matrix indices and as the CRF's tag count, and `enum class` would need a
/// cast at each of those uses. The `gene_` prefix keeps the enumerators from clashing in `nucleo`.
#include <array>
#include <cstdint>
#include <string_view>

namespace nucleo {

enum GeneClass : std::int8_t {
  gene_exon_fwd = 0,
  gene_donor_fwd = 1,
  gene_intron_fwd = 2,
  gene_acceptor_fwd = 3,
  gene_exon_rev = 4,
  gene_donor_rev = 5,
  gene_intron_rev = 6,
  gene_acceptor_rev = 7,
  gene_noncoding = 8,
};

/// Number of gene classes (the label range is [0, gene_class_count)).
inline constexpr int gene_class_count = 9;

/// Display name of each class, indexed by its value.
inline constexpr std::array<std::string_view, gene_class_count> gene_class_names = {
    "exon+", "donor+", "intron+", "acceptor+", "exon-", "donor-", "intron-", "acceptor-", "noncoding"};

}  // namespace nucleo
