#include "nucleo/data/gff.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/genbank.hpp"
#include "nucleo/genes/gff3_writer.hpp"

#include <algorithm>
#include <sstream>

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
  CHECK_THROWS_WITH(bad("z\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n"),
                    Catch::Contains("sequence 'z' is not in the ##FASTA section of b.gff (1 sequence: c)"));
  CHECK_THROWS_WITH(parse_gff("c\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n", "n.gff"), Catch::Contains("no sequences"));
}

TEST_CASE("GFF3: %-escaped seqid and attribute values are decoded", "[data][gff]") {
  // Column 1 "chr%3B1" is the sequence "chr;1"; "a%2Cb" is one parent "a,b" (the ',' is escaped, so
  // it does not split the Parent list), "t%251" is "t%1", and lower-case hex digits decode too.
  const std::string gff =
      "##gff-version 3\n"
      "chr%3B1\t.\tCDS\t3\t10\t.\t+\t0\tID=c1;Parent=a%2Cb\n"
      "chr%3b1\t.\tCDS\t21\t30\t.\t+\t0\tParent=t%251,x%3Dy\n"
      "##FASTA\n>chr;1\n" + seq60() + "\n";
  const auto loci = parse_gff(gff, "e.gff3");
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].name == "chr;1");
  REQUIRE(loci[0].transcripts.size() == 3);
  CHECK(loci[0].transcripts[0] == Transcript{"a,b", '+', {{2, 10}}});
  CHECK(loci[0].transcripts[1] == Transcript{"t%1", '+', {{20, 30}}});
  CHECK(loci[0].transcripts[2] == Transcript{"x=y", '+', {{20, 30}}});

  // Without decoding, the seqid would not match the FASTA name.
  CHECK_THROWS_WITH(parse_gff("chr1\t.\tCDS\t3\t10\t.\t+\t0\tParent=a\n##FASTA\n>chr%311\n" + seq60() + "\n", "d.gff3"),
                    Catch::Contains("sequence 'chr1' is not in the ##FASTA section of d.gff3 (1 sequence: chr%311)"));
  CHECK(parse_gff("chr%311\t.\tCDS\t3\t10\t.\t+\t0\tParent=a\n##FASTA\n>chr11\n" + seq60() + "\n", "d.gff3")
            .at(0)
            .name == "chr11");

  // The helpers themselves.
  CHECK(detail::gff_percent_decode("a%20b%2c%2C%25").value() == "a b,,%");
  CHECK(detail::gff_percent_decode("plain").value() == "plain");
  CHECK_FALSE(detail::gff_percent_decode("%4").has_value());
  CHECK_FALSE(detail::gff_percent_decode("a%zz").has_value());
  CHECK_FALSE(detail::gff_percent_decode("%").has_value());
  CHECK(detail::gff_attribute("ID=x;Name=a%2Cb,c", "Name") == std::vector<std::string>{"a,b", "c"});
  CHECK_THROWS_WITH(detail::gff_attribute("Name=50%", "Name"), Catch::Contains("malformed %-escape '%'"));
}

TEST_CASE("GTF: seqids and values are not %-decoded", "[data][gff]") {
  TempDir tmp;
  write_fasta(tmp / "g.fa", {{"chr%41", "", seq60()}});
  tmp.write("p.gtf", "chr%41\tsrc\tCDS\t3\t10\t.\t+\t0\tgene_id \"G\"; transcript_id \"G%2C1\";\n");
  const auto loci = read_gff(tmp / "p.gtf", tmp / "g.fa");
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].name == "chr%41");
  REQUIRE(loci[0].transcripts.size() == 1);
  CHECK(loci[0].transcripts[0].id == "G%2C1");
  // A '%' that is no escape is fine in GTF.
  CHECK(detail::gff_attribute("transcript_id \"50%\";", "transcript_id") == std::vector<std::string>{"50%"});
}

TEST_CASE("GFF3: a malformed %-escape is a ParseError with file and line", "[data][gff]") {
  const std::string fa = "##FASTA\n>c\n" + seq60() + "\n";
  const std::string ok = "c\t.\tCDS\t1\t5\t.\t+\t0\tParent=a\n";
  auto bad = [&](const std::string& line) { return parse_gff("##gff-version 3\n" + ok + line + fa, "m.gff3"); };
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t11\t15\t.\t+\t0\tParent=t%4\n"),
                    Catch::Contains("m.gff3:3:") && Catch::Contains("malformed %-escape '%4'") &&
                        Catch::Contains("Parent"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t11\t15\t.\t+\t0\tParent=a%zzb\n"),
                    Catch::Contains("m.gff3:3:") && Catch::Contains("'%zz'"));
  CHECK_THROWS_WITH(bad("c%g1\t.\tCDS\t11\t15\t.\t+\t0\tParent=b\n"),
                    Catch::Contains("m.gff3:3:") && Catch::Contains("seqid 'c%g1'") && Catch::Contains("'%g1'"));
  CHECK_THROWS_AS(bad("c%\t.\tCDS\t11\t15\t.\t+\t0\tParent=b\n"), ParseError);
  try {
    bad("c\t.\tstart_codon\t1\t3\t.\t+\t0\tParent=a,%2\n");
    FAIL("no ParseError");
  } catch (const ParseError& e) {
    CHECK(e.line() == 3);
    CHECK(e.path() == "m.gff3");
  }
}

TEST_CASE("GFF3 writer output with awkward names reads back to the same ids", "[data][gff]") {
  // Seqid and ID prefix hold characters the writer must escape: ';', '%', '=', ',', '&' in both,
  // '/' in the seqid (outside the GFF3 seqid set), a tab in the prefix (a space needs no escape).
  // No space in the seqid: a FASTA name ends at the first space.
  const std::string seqid = "chr;1%x=y,z&w/v";
  Gff3Options o;
  o.id_prefix = "run;7%a=b,c&d e\tf";
  std::ostringstream out;
  write_gff3_header(out);
  const std::vector<std::int8_t> labels = {8, 0, 0, 0, 1, 2, 2, 3, 0, 0, 0, 8, 4, 4, 4, 8};
  const Gff3Summary s = write_gene_gff3(out, seqid, labels, {}, o);
  REQUIRE(s.genes == 2);
  const std::string text = out.str();
  // Nothing unescaped leaks into the file: every feature line still has exactly 9 columns, and
  // the only ';' are attribute separators.
  std::istringstream in(text);
  std::string line;
  int features = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++features;
    CHECK(std::count(line.begin(), line.end(), '\t') == 8);
    CHECK(line.rfind("chr%3B1%25x%3Dy%2Cz%26w%2Fv\t", 0) == 0);
  }
  CHECK(features == 2 + 2 + 3);  // gene + mRNA + CDS per gene: 2 CDS + 1 CDS
  const auto loci = parse_gff(text + "##FASTA\n>" + seqid + "\n" + std::string(labels.size(), 'A') + "\n", "w.gff3");
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].name == seqid);
  REQUIRE(loci[0].transcripts.size() == 2);
  CHECK(loci[0].transcripts[0] == Transcript{"run;7%a=b,c&d e\tf.g1.t1", '+', {{1, 4}, {8, 11}}});
  CHECK(loci[0].transcripts[1] == Transcript{"run;7%a=b,c&d e\tf.g2.t1", '-', {{12, 15}}});
  CHECK(gene_labels(loci[0]) == labels);
}

TEST_CASE("GFF: errors say what is wrong, not a symptom of it", "[data][gff]") {
  const std::string fa = "##FASTA\n>c\n" + seq60() + "\n";
  auto bad = [&](const std::string& body) { return parse_gff(body + fa, "b.gff"); };
  // 8 columns: the missing attributes column is named (it used to say "CDS feature without a Parent")
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t5\t.\t+\t0\n"),
                    Catch::Contains("b.gff:1:") && Catch::Contains("got 8") && Catch::Contains("attributes column") &&
                        !Catch::Contains("Parent"));
  CHECK_THROWS_WITH(bad("c\t.\tgene\t1\t5\t.\t+\t.\n"), Catch::Contains("got 8"));
  // a phase other than 0, 1, 2 or '.' (phase 7 used to pass)
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t6\t.\t+\t7\tParent=a\n"),
                    Catch::Contains("b.gff:1:") && Catch::Contains("phase '7'"));
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t6\t.\t+\t-1\tParent=a\n"), Catch::Contains("phase '-1'"));
  CHECK_NOTHROW(bad("c\t.\tCDS\t1\t6\t.\t+\t2\tParent=a\nc\t.\texon\t1\t6\t.\t+\t.\tParent=a\n"));
  // a coordinate that overflows says so
  CHECK_THROWS_WITH(bad("c\t.\tCDS\t1\t100000000000000000000000\t.\t+\t0\tParent=a\n"),
                    Catch::Contains("end 100000000000000000000000 is too large"));
  // sequences given by the caller are named as the caller says (not "the FASTA section")
  GffOptions o;
  o.sequences_label = "the truth loci";
  CHECK_THROWS_WITH(parse_gff("z\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n" + fa, "p.gff", o),
                    Catch::Contains("p.gff:1:") && Catch::Contains("'z' is not in the truth loci (1 sequence: c)") &&
                        !Catch::Contains("FASTA"));
  // a separate FASTA file is named by its path
  TempDir tmp;
  const auto f = tmp.write("g.fa", ">c\n" + seq60() + "\n>d\nACGT\n");
  CHECK_THROWS_WITH(read_gff(tmp.write("x.gff", "z\t.\tCDS\t1\t10\t.\t+\t0\tParent=a\n"), f),
                    Catch::Contains("is not in the FASTA file " + f.string() + " (2 sequences: c, d)"));
}
