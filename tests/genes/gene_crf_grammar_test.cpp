#include "nucleo/genes/gene_crf_grammar.hpp"

#include <catch2/catch.hpp>

#include "support/allowed_set.hpp"

#include <set>
#include <utility>
#include <vector>

using namespace nucleo;
using nucleo::testing::allowed_set;

namespace {
// BEND-style labels of a toy region, genomic order: noncoding, a + strand gene with a 5' UTR exon,
// a UTR intron, two CDS exons, then a - strand gene (CDS exon, intron, CDS exon), noncoding.
std::vector<int> toy_gene_labels() {
  std::vector<int> y;
  auto put = [&](int tag, int n) { y.insert(y.end(), n, tag); };
  put(8, 5);                                     // intergenic
  put(8, 3);                                     // 5' UTR exon (noncoding)
  put(1, 1); put(2, 6); put(3, 1);               // intron inside the 5' UTR
  put(8, 2);                                     // rest of the UTR
  put(0, 9);                                     // CDS exon 1
  put(1, 1); put(2, 4); put(3, 1);               // intron
  put(0, 6);                                     // CDS exon 2
  put(8, 7);                                     // stop codon + 3' UTR + intergenic
  put(4, 5);                                     // - strand gene, genomic left: CDS exon
  put(7, 1); put(6, 5); put(5, 1);               // intron (acceptor on the left, donor on the right)
  put(4, 4);                                     // CDS exon
  put(8, 3);                                     // 5' UTR exon of the - strand gene
  put(7, 1); put(6, 3); put(5, 1);               // intron inside that UTR
  put(8, 4);
  return y;
}
}  // namespace

TEST_CASE("gene_structure_constraints: the gene-structure grammar of BEND's 9 classes", "[genes][crf_grammar]") {
  const CrfConstraints g = gene_structure_constraints();
  REQUIRE(g.num_tags() == 9);
  const std::set<std::pair<int, int>> expected{
      {0, 0}, {2, 2}, {4, 4}, {6, 6}, {8, 8},                  // self-loops: exon, intron, noncoding
      {8, 0}, {0, 1}, {1, 2}, {2, 3}, {3, 0}, {0, 8},          // + strand
      {8, 4}, {4, 7}, {7, 6}, {6, 5}, {5, 4}, {4, 8},          // - strand, genomic order
      {8, 1}, {3, 8}, {8, 7}, {5, 8}};                         // introns bordering UTR (noncoding) exons
  CHECK(allowed_set(g) == expected);
  // Splice sites are single nucleotides; no strand switch inside a gene; no 2-nt introns.
  for (int s : {1, 3, 5, 7}) CHECK_FALSE(g.allowed(s, s));
  CHECK_FALSE(g.allowed(0, 4));
  CHECK_FALSE(g.allowed(4, 0));
  CHECK_FALSE(g.allowed(1, 3));
  CHECK_FALSE(g.allowed(0, 2));
  for (int t = 0; t < 9; ++t) {
    CHECK(g.start_allowed(t));
    CHECK(g.end_allowed(t));
  }
  const CrfConstraints strict = gene_structure_constraints(false);
  CHECK(strict.allowed_transition_count() == 17);
  CHECK_FALSE(strict.allowed(8, 1));
  CHECK_FALSE(strict.allowed(3, 8));

  // A toy region with a UTR intron on each strand is a valid label sequence...
  const std::vector<int> toy = toy_gene_labels();
  Labels y(1, static_cast<Index>(toy.size()));
  for (std::size_t t = 0; t < toy.size(); ++t) y(0, static_cast<Index>(t)) = toy[t];
  CHECK(g.violations(y).empty());
  // ... which the strict (CDS-only) grammar rejects exactly at the UTR-intron borders.
  CHECK(strict.violations(y).size() == 4);
  // The transitions that occur in labels derived BEND-style from the 486 AUGUSTUS fly training genes
  // (CDS only; see docs/crf.md) are all allowed by the strict grammar.
  for (auto [i, j] : std::vector<std::pair<int, int>>{
           {0, 1}, {0, 8}, {1, 2}, {2, 3}, {3, 0}, {4, 7}, {4, 8}, {5, 4}, {6, 5}, {7, 6}, {8, 0}, {8, 4}})
    CHECK(strict.allowed(i, j));
  // The derived set of the toy labels is a subset of the grammar.
  const CrfConstraints d = CrfConstraints::from_labels(y, 9);
  CHECK((d | g) == g);
  CHECK_THAT(g.to_string(), Catch::Contains("from\\to"));
}

TEST_CASE("gene_structure_constraints: the edges read in GeneClass names", "[genes][crf_grammar]") {
  const CrfConstraints g = gene_structure_constraints();
  REQUIRE(g.num_tags() == gene_class_count);
  CHECK(g.allowed(gene_noncoding, gene_exon_fwd));
  CHECK(g.allowed(gene_exon_fwd, gene_donor_fwd));
  CHECK(g.allowed(gene_acceptor_fwd, gene_exon_fwd));
  CHECK(g.allowed(gene_exon_rev, gene_acceptor_rev));
  CHECK(g.allowed(gene_donor_rev, gene_exon_rev));
  CHECK_FALSE(g.allowed(gene_exon_fwd, gene_exon_rev));
  CHECK_FALSE(g.allowed(gene_donor_fwd, gene_donor_fwd));
  CHECK(gene_class_names[gene_noncoding] == "noncoding");
  CHECK(gene_class_names[gene_acceptor_rev] == "acceptor-");
}
