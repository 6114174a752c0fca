#include "nucleo/data/gene_structure.hpp"

#include <catch2/catch.hpp>

#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/genbank.hpp"
#include "nucleo/data/gff.hpp"

#include <string>
#include <vector>

using namespace nucleo;

TEST_CASE("gene_structure: Interval is 0-based half-open", "[data][gene_structure]") {
  CHECK(Interval{}.length() == 0);
  CHECK(Interval{10, 20}.length() == 10);  // bases 10..19, i.e. GenBank/GFF 11..20
  CHECK(Interval{5, 6}.length() == 1);
  CHECK(Interval{10, 20} == Interval{10, 20});
  CHECK_FALSE(Interval{10, 20} == Interval{10, 21});
  CHECK_FALSE(Interval{10, 20} == Interval{11, 20});
}

TEST_CASE("gene_structure: equality compares every field", "[data][gene_structure]") {
  const Transcript t{"tx1", '-', {{10, 20}, {30, 40}}};
  CHECK(Transcript{}.strand == '+');
  CHECK(Transcript{}.cds.empty());
  CHECK(t == Transcript{"tx1", '-', {{10, 20}, {30, 40}}});
  CHECK_FALSE(t == Transcript{"tx2", '-', {{10, 20}, {30, 40}}});
  CHECK_FALSE(t == Transcript{"tx1", '+', {{10, 20}, {30, 40}}});
  CHECK_FALSE(t == Transcript{"tx1", '-', {{10, 20}}});
  CHECK_FALSE(t == Transcript{"tx1", '-', {{10, 20}, {30, 41}}});

  const Locus l{"chr1", "ACGT", {t}};
  CHECK(l == Locus{"chr1", "ACGT", {t}});
  CHECK_FALSE(l == Locus{"chr2", "ACGT", {t}});
  CHECK_FALSE(l == Locus{"chr1", "ACGA", {t}});
  CHECK_FALSE(l == Locus{"chr1", "ACGT", {}});
}

TEST_CASE("gene_structure: the header's example is what GenBank and GFF3 readers produce", "[data][gene_structure]") {
  // "complement(join(11..20,31..40))" = strand '-', cds {[10,20), [30,40)} on the forward strand.
  const Transcript expected{"g", '-', {{10, 20}, {30, 40}}};
  const std::string seq(50, 'A');  // all A: no stop codon on either strand

  std::string gb = "LOCUS       x   50 bp  DNA\nFEATURES             Location/Qualifiers\n"
                   "     CDS             complement(join(11..20,31..40))\n"
                   "                     /gene=\"g\"\nORIGIN\n";
  for (int i = 0; i < 50; i += 10) gb += fmt::format("{:>9} aaaaaaaaaa\n", i + 1);
  gb += "//\n";
  auto reader = GenBankReader::from_string(gb, "x.gb");
  Locus from_gb;
  REQUIRE(reader.next(from_gb));
  CHECK(from_gb.sequence == seq);
  REQUIRE(from_gb.transcripts.size() == 1);
  CHECK(from_gb.transcripts[0] == expected);

  // GFF3 lists the exons in any order; the reader sorts them by begin.
  const auto from_gff = parse_gff("x\t.\tCDS\t31\t40\t.\t-\t0\tParent=g\nx\t.\tCDS\t11\t20\t.\t-\t2\tParent=g\n"
                                  "##FASTA\n>x\n" + seq + "\n");
  REQUIRE(from_gff.size() == 1);
  CHECK(from_gff[0] == from_gb);

  // And back to the GenBank location text.
  CHECK(genbank_location(expected) == "complement(join(11..20,31..40))");
  CHECK(genbank_location(Transcript{"h", '+', {{0, 3}}}) == "1..3");

  // Coordinates are forward-strand whatever the strand: gene_labels paints exon- (4) exactly on
  // [10,20) and [30,40), the intron [20,30) from its left end (acceptor- 7) to its right (donor- 5).
  const auto labels = gene_labels(from_gb);
  REQUIRE(labels.size() == 50);
  CHECK(labels[9] == gene_noncoding);
  for (int i = 10; i < 20; ++i) CHECK(labels[static_cast<std::size_t>(i)] == gene_exon_rev);
  CHECK(labels[20] == 7);
  CHECK(labels[25] == 6);
  CHECK(labels[29] == 5);
  for (int i = 30; i < 40; ++i) CHECK(labels[static_cast<std::size_t>(i)] == gene_exon_rev);
  CHECK(labels[40] == gene_noncoding);
}
