#include "nucleo/losses/crf_constraints.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <utility>

using namespace nucleo;

namespace {
std::set<std::pair<int, int>> allowed_set(const CrfConstraints& c) {
  std::set<std::pair<int, int>> s;
  for (int i = 0; i < c.num_tags(); ++i)
    for (int j = 0; j < c.num_tags(); ++j)
      if (c.allowed(i, j)) s.insert({i, j});
  return s;
}

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

TEST_CASE("CrfConstraints: from_labels allows exactly the observed transitions", "[losses][crf_constraints]") {
  Labels y(3, 8);
  y << 0, 0, 1, 1, 2, -100, 0, 2,        // 0->0, 0->1, 1->1, 1->2; -100 breaks 2->0; 0->2
       2, 1, 99, 99, 99, 99, 99, 99,     // 2->1; positions >= length 2 are ignored (even invalid labels)
       -100, -100, -100, -100, -100, -100, -100, -100;
  const std::vector<Index> lengths{8, 2, 8};
  const CrfConstraints c = CrfConstraints::from_labels(y, 3, lengths);
  CHECK(allowed_set(c) == std::set<std::pair<int, int>>{{0, 0}, {0, 1}, {1, 1}, {1, 2}, {0, 2}, {2, 1}});
  CHECK(c.allowed_transition_count() == 6);
  for (int t = 0; t < 3; ++t) {  // boundaries: any by default
    CHECK(c.start_allowed(t));
    CHECK(c.end_allowed(t));
  }
  const CrfConstraints o = CrfConstraints::from_labels(y, 3, lengths, CrfBoundaries::observed);
  CHECK(allowed_set(o) == allowed_set(c));
  CHECK(o.start_allowed(0));
  CHECK(o.start_allowed(2));
  CHECK_FALSE(o.start_allowed(1));
  CHECK(o.end_allowed(2));  // sequence 0 ends with 2
  CHECK(o.end_allowed(1));  // sequence 1 ends (length 2) with 1
  CHECK_FALSE(o.end_allowed(0));
  // The derived set accepts its own labels.
  CHECK(c.violations(y, lengths).empty());
  CHECK(o.violations(y, lengths).empty());
}

TEST_CASE("CrfConstraints: labels out of range are rejected with their position", "[losses][crf_constraints]") {
  Labels y(1, 3);
  y << 0, 3, 1;
  CHECK_THROWS_WITH(CrfConstraints::from_labels(y, 3), Catch::Contains("label 3") && Catch::Contains("position 1"));
  CHECK_THROWS_AS(CrfConstraints::forbid_all(0), ShapeError);
  CHECK_THROWS_AS(CrfConstraints::allow_all(2).allow(0, 2), ShapeError);
}

TEST_CASE("CrfConstraints: violations name sequence, position and tags", "[losses][crf_constraints]") {
  CrfConstraints c = CrfConstraints::allow_all(3);
  c.forbid(0, 2).allow_start(1, false).allow_end(2, false);
  Labels y(2, 4);
  y << 0, 2, -100, 2,   // 0->2 at position 1 forbidden; 2 -> -100 -> 2 is not a transition; ends with 2
       1, 0, 0, 1;      // starts with forbidden 1
  const auto v = c.violations(y);
  REQUIRE(v.size() == 3);
  CHECK(v[0].sequence == 0);
  CHECK(v[0].position == 1);
  CHECK(v[0].from == 0);
  CHECK(v[0].to == 2);
  CHECK(v[1].from == 2);
  CHECK(v[1].to == -1);  // forbidden end tag
  CHECK(v[2].sequence == 1);
  CHECK(v[2].from == -1);
  CHECK(v[2].to == 1);
  CHECK_THAT(v[0].describe(), Catch::Contains("0 -> 2"));
  CHECK(CrfConstraints().violations(y).empty());  // empty set = no constraints
}

TEST_CASE("CrfConstraints: union and equality", "[losses][crf_constraints]") {
  CrfConstraints a = CrfConstraints::forbid_all(3), b = CrfConstraints::forbid_all(3);
  a.allow(0, 1);
  b.allow(1, 2).allow_start(0, false);
  const CrfConstraints u = a | b;
  CHECK(allowed_set(u) == std::set<std::pair<int, int>>{{0, 1}, {1, 2}});
  CHECK(u.start_allowed(0));  // a allows it
  CHECK((a | CrfConstraints()).empty());
  CHECK(a != b);
  CHECK(a == (CrfConstraints::forbid_all(3).allow(0, 1)));
  CHECK_THROWS_AS(a |= CrfConstraints::forbid_all(4), ShapeError);
}

TEST_CASE("CrfConstraints: the gene-structure grammar of BEND's 9 classes", "[losses][crf_constraints]") {
  const CrfConstraints g = CrfConstraints::gene_structure();
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
  const CrfConstraints strict = CrfConstraints::gene_structure(false);
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
