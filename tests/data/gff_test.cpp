#include "nucleo/data/gff.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/data/gene_labels.hpp"
#include "nucleo/data/genbank.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

namespace {
std::string seq60() {
  std::string s;
  for (int i = 0; i < 60; ++i) s.push_back("ACGT"[(i * 7 + i / 3) % 4]);
  return s;
}
}  // namespace

TEST_CASE("GFF3 with ##FASTA: CDS grouped by Parent, start_codon united, others counted", "[data][gff]") {
  const std::string gff =
      "##gff-version 3\n"
      "chr1\t.\tgene\t3\t40\t.\t+\t.\tID=g1\n"
      "chr1\t.\tmRNA\t3\t40\t.\t+\t.\tID=t1;Parent=g1\n"
      "chr1\t.\texon\t3\t12\t.\t+\t.\tParent=t1\n"
      "chr1\t.\tCDS\t21\t30\t.\t+\t0\tID=c2;Parent=t1,t2\n"
      "chr1\t.\tCDS\t5\t12\t.\t+\t0\tID=c1;Parent=t1\n"
      "chr1\t.\tCDS\t50\t55\t.\t-\t0\tParent=g%3A2\n"
      "chr1\t.\tstop_codon\t31\t33\t.\t+\t0\tParent=t1\n"
      "##FASTA\n>chr1\n" + seq60() + "\n>chr2\nACGT\n";
  GffReport rep;
  auto loci = parse_gff(gff, "m.gff3", {}, &rep);
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].name == "chr1");
  CHECK(loci[0].sequence == seq60());
  REQUIRE(loci[0].transcripts.size() == 3);
  CHECK(loci[0].transcripts[0] == Transcript{"t1", '+', {{4, 12}, {20, 30}}});
  CHECK(loci[0].transcripts[1] == Transcript{"t2", '+', {{20, 30}}});
  CHECK(loci[0].transcripts[2] == Transcript{"g:2", '-', {{49, 55}}});
  CHECK(rep.ignored_features.at("exon") == 1);
  CHECK(rep.ignored_features.at("stop_codon") == 1);
  CHECK(rep.cds_features == 3);
  CHECK(rep.transcripts == 3);
}

TEST_CASE("GTF + separate FASTA: transcript_id grouping, start codon merged, agrees with GenBank", "[data][gff]") {
  TempDir tmp;
  write_fasta(tmp / "g.fa", {{"chrA", "", seq60()}, {"chrB", "", "ACGTACGT"}});
  tmp.write("a.gtf",
            "chrA\tsrc\tstart_codon\t3\t5\t.\t+\t0\tgene_id \"G\"; transcript_id \"G.1\";\n"
            "chrA\tsrc\tCDS\t3\t10\t.\t+\t0\tgene_id \"G\"; transcript_id \"G.1\";\n"
            "chrA\tsrc\tCDS\t21\t27\t.\t+\t1\tgene_id \"G\"; transcript_id \"G.1\";\n"
            "chrA\tsrc\tstop_codon\t28\t30\t.\t+\t0\tgene_id \"G\"; transcript_id \"G.1\";\n"
            "chrA\tsrc\tCDS\t41\t50\t.\t-\t0\tgene_id \"H\"; transcript_id \"H.1\";\n"
            "chrA\tsrc\tstart_codon\t48\t50\t.\t-\t0\tgene_id \"H\"; transcript_id \"H.1\";\n");
  auto loci = read_gff(tmp / "a.gtf", tmp / "g.fa");
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].transcripts[0] == Transcript{"G.1", '+', {{2, 10}, {20, 27}}});
  CHECK(loci[0].transcripts[1] == Transcript{"H.1", '-', {{40, 50}}});
  // the same structure written as GenBank and read back gives the same labels
  write_genbank(tmp / "a.gb", loci);
  auto gb = read_genbank(tmp / "a.gb");
  CHECK(gene_labels(gb[0]) == gene_labels(loci[0]));
  // keep_unannotated adds chrB
  CHECK(read_gff(tmp / "a.gtf", tmp / "g.fa", GffOptions{-1, true}).size() == 2);
}

TEST_CASE("GFF: gene regions with flank, nearby genes share a region", "[data][gff]") {
  const std::string gff =
      "c\t.\tCDS\t11\t20\t.\t+\t0\tParent=a\n"
      "c\t.\tCDS\t26\t30\t.\t-\t0\tParent=b\n"
      "c\t.\tCDS\t51\t55\t.\t+\t0\tParent=d\n"
      "##FASTA\n>c\n" + seq60() + "\n";
  auto loci = parse_gff(gff, "f.gff", GffOptions{5});
  REQUIRE(loci.size() == 2);
  CHECK(loci[0].name == "c_6-35");
  CHECK(loci[0].sequence == seq60().substr(5, 30));
  CHECK(loci[0].transcripts[0] == Transcript{"a", '+', {{5, 15}}});
  CHECK(loci[0].transcripts[1] == Transcript{"b", '-', {{20, 25}}});
  CHECK(loci[1].name == "c_46-60");  // clipped at the sequence end
  CHECK(loci[1].transcripts[0] == Transcript{"d", '+', {{5, 10}}});
  // gene b ends at 30, gene d starts at 50 (0-based): a flank of 11 merges the regions
  CHECK(parse_gff(gff, "f.gff", GffOptions{10}).size() == 2);  // flanked regions touch, do not overlap
  CHECK(parse_gff(gff, "f.gff", GffOptions{11}).size() == 1);
}

TEST_CASE("GFF: malformed input gives ParseError with file and line", "[data][gff]") {
  const std::string fa = "##FASTA\n>c\n" + seq60() + "\n";
  auto bad = [&](const std::string& body) { return parse_gff(body + fa, "b.gff"); };
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t11\t70\t.\t+\t0\tParent=a\n"), Catch::Contains("b.gff:1:") && Catch::Contains("beyond"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t11\t5\t.\t+\t0\tParent=a\n"), Catch::Contains("start 11 > end 5"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t0\t5\t.\t+\t0\tParent=a\n"), Catch::Contains("< 1"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\tx\t5\t.\t+\t0\tParent=a\n"), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(bad("\nc\t.\tCDS\t1\t5\t.\t.\t0\tParent=a\n"), Catch::Contains("b.gff:2:") && Catch::Contains("strand"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t5\t.\t+\t0\tID=x\n"), Catch::Contains("without a Parent"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t5\t.\t+\n"), Catch::Contains("9 tab-separated"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\nc\t.\tCDS\t5\t20\t.\t+\t0\tParent=a\n"),
                    Catch::Contains("b.gff:2:") && Catch::Contains("overlap"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\nc\t.\tCDS\t15\t20\t.\t-\t0\tParent=a\n"),
                    Catch::Contains("both strands"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\nd\t.\tCDS\t15\t20\t.\t+\t0\tParent=a\n"),
                    Catch::Contains("is on sequence"));
  CHECK_THROWS_WITH(bad("z\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n"), Catch::Contains("sequence 'z' is not in the FASTA"));
  CHECK_THROWS_WITH(parse_gff("c\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n", "n.gff"), Catch::Contains("no sequences"));
}
