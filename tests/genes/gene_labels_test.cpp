#include "nucleo/genes/gene_labels.hpp"

#include <catch2/catch.hpp>

#include "nucleo/data/sequence_utils.hpp"

using namespace nucleo;

namespace {
std::string digits(const std::vector<std::int8_t>& v) {
  std::string s;
  for (auto c : v) s.push_back(static_cast<char>('0' + c));
  return s;
}
}  // namespace

TEST_CASE("gene_labels: + strand gene, by hand", "[data][gene_labels]") {
  // CC ATGAAAGG GTAAG AGCCC TAA CC : CDS [2,10) and [15,20), intron [10,15), stop codon after the CDS
  Locus l{"plus", "CCATGAAAGGGTAAGAGCCCTAACC", {Transcript{"g", '+', {{2, 10}, {15, 20}}}}};
  GeneLabelReport rep;
  auto lab = gene_labels(l, &rep);
  REQUIRE(lab.size() == l.sequence.size());
  CHECK(digits(lab) == "88" "00000000" "12223" "00000" "888" "88");
  CHECK(l.sequence.substr(10, 2) == "GT");  // donor = first intron nt = G of GT
  CHECK(l.sequence.substr(13, 2) == "AG");  // acceptor = last intron nt = G of AG
  CHECK(rep.transcripts == 1);
  CHECK(rep.stop_after_cds == 1);  // TAA follows the CDS
  CHECK(rep.stop_in_cds == 0);
  CHECK(rep.conflicting_nucleotides == 0);
}

TEST_CASE("gene_labels: - strand gene, by hand (left intron end = acceptor 7, right = donor 5)", "[data][gene_labels]") {
  // The + strand gene above, reverse-complemented: same structure mirrored.
  const std::string fwd = "CCATGAAAGGGTAAGAGCCCTAACC";
  const std::string seq = reverse_complement(fwd);
  const auto n = static_cast<std::int64_t>(seq.size());
  // forward intervals [2,10) [15,20) mirror to [n-10, n-2) and [n-20, n-15)
  Locus l{"minus", seq, {Transcript{"g", '-', {{n - 20, n - 15}, {n - 10, n - 2}}}}};
  GeneLabelReport rep;
  auto lab = gene_labels(l, &rep);
  //                  GGTTA GGGCT 7666 5  CCTTTCAT GG   (genomic left to right)
  CHECK(digits(lab) == "88888" "44444" "76665" "44444444" "88");
  CHECK(rep.stop_after_cds == 1);
  // the splice sites sit on reverse-complemented GT (donor) and AG (acceptor)
  REQUIRE(lab[10] == gene_acceptor_rev);
  REQUIRE(lab[14] == gene_donor_rev);
  CHECK(reverse_complement(seq.substr(10, 2)) == "AG");  // acceptor: last intron nt (transcript order) = G of AG
  CHECK(reverse_complement(seq.substr(13, 2)) == "GT");  // donor: first intron nt (transcript order) = G of GT
}

TEST_CASE("gene_labels: a stop codon inside the CDS is labelled noncoding (both strands)", "[data][gene_labels]") {
  //                          ATG AAA | intron | TAG
  Locus p{"p", "AATGAAAGTAAAAGTAGAA", {Transcript{"g", '+', {{1, 7}, {14, 17}}}}};
  GeneLabelReport rep;
  CHECK(digits(gene_labels(p, &rep)) == "8" "000000" "1222223" "888" "88");
  CHECK(rep.stop_in_cds == 1);
  // a stop codon split by an intron: ...T | intron | AA
  Locus s{"s", "ATGTGTAAAAGAAC", {Transcript{"g", '+', {{0, 4}, {11, 13}}}}};
  //  ATG T GTAAAAAG AA C : last 3 CDS nt = T,A,A (positions 3, 11, 12) -> TAA
  CHECK(digits(gene_labels(s)) == "0008" "1222223" "88" "8");
  Locus m{"m", reverse_complement(p.sequence), {}};
  const auto n = static_cast<std::int64_t>(m.sequence.size());
  m.transcripts.push_back(Transcript{"g", '-', {{n - 17, n - 14}, {n - 7, n - 1}}});
  GeneLabelReport rm;
  CHECK(digits(gene_labels(m, &rm)) == "88" "888" "7666665" "444444" "8");
  CHECK(rm.stop_in_cds == 1);
}

TEST_CASE("gene_labels: overlapping transcripts follow the precedence rule and are counted", "[data][gene_labels]") {
  // isoform 1: exons [2,6) [10,14) ; isoform 2: one exon [2,14) -> intron of 1 is exon of 2 (exon wins)
  Locus l{"iso", std::string(16, 'C'),
          {Transcript{"t1", '+', {{2, 6}, {10, 14}}}, Transcript{"t2", '+', {{2, 14}}}}};
  GeneLabelReport rep;
  CHECK(digits(gene_labels(l, &rep)) == "88" "000000000000" "88");
  CHECK(rep.overlapping_transcripts == 1);
  CHECK(rep.conflicting_nucleotides == 4);
  CHECK(rep.no_stop == 2);
  // genes on opposite strands sharing nucleotides: the earlier transcript keeps a tie
  Locus o{"opp", std::string(12, 'C'), {Transcript{"b", '-', {{4, 10}}}, Transcript{"a", '+', {{2, 6}}}}};
  GeneLabelReport r2;
  CHECK(digits(gene_labels(o, &r2)) == "88" "00" "00" "4444" "88");
  CHECK(r2.conflicting_nucleotides == 2);
  // order of the transcripts in the locus does not matter
  Locus o2 = o;
  std::swap(o2.transcripts[0], o2.transcripts[1]);
  CHECK(gene_labels(o2) == gene_labels(o));
}

TEST_CASE("gene_labels: 1-nt introns and adjacent parts", "[data][gene_labels]") {
  Locus a{"a", std::string(10, 'C'), {Transcript{"t", '+', {{1, 4}, {5, 8}}}}};
  CHECK(digits(gene_labels(a)) == "8" "000" "1" "000" "88");
  Locus b{"b", std::string(10, 'C'), {Transcript{"t", '-', {{1, 4}, {5, 8}}}}};
  CHECK(digits(gene_labels(b)) == "8" "444" "5" "444" "88");
  Locus c{"c", std::string(10, 'C'), {Transcript{"t", '+', {{1, 4}, {4, 8}}}}};
  CHECK(digits(gene_labels(c)) == "8" "0000000" "88");
}

TEST_CASE("gene_labels: malformed structures are ParseErrors naming the locus", "[data][gene_labels]") {
  auto bad = [](Transcript t) { return Locus{"L1", std::string(10, 'A'), {t}}; };
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {{5, 11}}})), Catch::Contains("L1") && Catch::Contains("beyond the sequence"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {{-1, 3}}})), Catch::Contains("bad CDS interval"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {{4, 4}}})), Catch::Contains("bad CDS interval"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {{4, 8}, {1, 3}}})), Catch::Contains("unsorted"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {{1, 5}, {3, 8}}})), Catch::Contains("overlap"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '.', {{1, 5}}})), Catch::Contains("strand"));
  CHECK_THROWS_WITH(gene_labels(bad({"t", '+', {}})), Catch::Contains("no CDS"));
  CHECK_THROWS_AS(gene_labels(bad({"t", '+', {{5, 11}}})), ParseError);
}
