#pragma once
/// `gene_structure_constraints()`: the gene-structure grammar of BEND's 9 classes (`GeneClass`) as
/// a `CrfConstraints` set for `LinearChainCRF<gene_class_count>` (docs/crf.md has the diagram and
/// the reasoning behind each edge):
///   + strand:  noncoding -> exon+ -> donor+ -> intron+ -> acceptor+ -> exon+ -> noncoding
///   - strand (genomic order): noncoding -> exon- -> acceptor- -> intron- -> donor- -> exon- -> noncoding
/// with self-loops on exon, intron and noncoding only (splice-site classes are one nucleotide).
/// `utr_introns` (default true) also allows introns that start or end in noncoding sequence:
/// noncoding -> donor+, acceptor+ -> noncoding, noncoding -> acceptor-, donor- -> noncoding. BEND
/// labels UTR exons (and stop codons) as noncoding (8) but introns by transcript structure, so an
/// intron inside a UTR, or next to a UTR exon, or splitting a stop codon, produces exactly these
/// transitions. Every class may start or end a sequence (windows cut genes anywhere).
/// Combine with data: `gene_structure_constraints() | CrfConstraints::from_labels(train, gene_class_count)`.
#include "nucleo/genes/gene_class.hpp"
#include "nucleo/losses/crf_constraints.hpp"

namespace nucleo {

inline CrfConstraints gene_structure_constraints(bool utr_introns = true) {
  CrfConstraints c = CrfConstraints::forbid_all(gene_class_count);
  for (int t : {gene_exon_fwd, gene_intron_fwd, gene_exon_rev, gene_intron_rev, gene_noncoding}) c.allow(t, t);
  // + strand, genomic order = transcript order.
  c.allow(gene_noncoding, gene_exon_fwd);
  c.allow(gene_exon_fwd, gene_donor_fwd);
  c.allow(gene_donor_fwd, gene_intron_fwd);
  c.allow(gene_intron_fwd, gene_acceptor_fwd);
  c.allow(gene_acceptor_fwd, gene_exon_fwd);
  c.allow(gene_exon_fwd, gene_noncoding);
  // - strand, genomic order (reverse of transcript order).
  c.allow(gene_noncoding, gene_exon_rev);
  c.allow(gene_exon_rev, gene_acceptor_rev);
  c.allow(gene_acceptor_rev, gene_intron_rev);
  c.allow(gene_intron_rev, gene_donor_rev);
  c.allow(gene_donor_rev, gene_exon_rev);
  c.allow(gene_exon_rev, gene_noncoding);
  if (utr_introns) {
    c.allow(gene_noncoding, gene_donor_fwd);
    c.allow(gene_acceptor_fwd, gene_noncoding);
    c.allow(gene_noncoding, gene_acceptor_rev);
    c.allow(gene_donor_rev, gene_noncoding);
  }
  return c;
}

}  // namespace nucleo
