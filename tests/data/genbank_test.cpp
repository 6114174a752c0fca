#include "nucleo/data/genbank.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

namespace {
std::vector<Locus> parse(const std::string& text) {
  auto r = GenBankReader::from_string(text, "mem.gb");
  std::vector<Locus> out;
  Locus l;
  while (r.next(l)) out.push_back(l);
  return out;
}

// 70 bp; two genes on opposite strands, a multi-line location, a multi-line quoted qualifier.
const char* kTwoGenes =
    "LOCUS       chrT_1-70   70 bp  DNA\n"
    "DEFINITION  a test locus\n"
    "            on two lines\n"
    "FEATURES             Location/Qualifiers\n"
    "     source          1..70\n"
    "     CDS             join(3..10,21..25,\n"
    "                     31..33)\n"
    "                     /gene=\"g1\"\n"
    "                     /note=\"a note that\n"
    "                     spans lines\"\n"
    "     CDS             complement(join(41..45,51\n"
    "                     ..60))\n"
    "                     /gene=\"g2\"\n"
    "     CDS             complement(66..70)\n"
    "BASE COUNT     20 a   20 c  20 g   10 t\n"
    "ORIGIN\n"
    "        1 acgtacgtac gtacgtacgt acgtacgtac gtacgtacgt acgtacgtac gtacgtacgt\n"
    "       61 aaaaaccccr\n"
    "//\n";
}  // namespace

TEST_CASE("GenBank: AUGUSTUS-style records with joins, complements and several genes", "[data][genbank]") {
  auto r = GenBankReader::from_string(kTwoGenes, "mem.gb");
  Locus l;
  REQUIRE(r.next(l));
  CHECK(l.name == "chrT_1-70");
  REQUIRE(l.sequence.size() == 70);
  CHECK(l.sequence.substr(0, 8) == "ACGTACGT");
  CHECK(l.sequence.substr(60) == "AAAAACCCCN");
  CHECK(r.replaced().replaced('R') == 1);
  REQUIRE(l.transcripts.size() == 3);
  CHECK(l.transcripts[0] == Transcript{"g1", '+', {{2, 10}, {20, 25}, {30, 33}}});
  CHECK(l.transcripts[1] == Transcript{"g2", '-', {{40, 45}, {50, 60}}});
  CHECK(l.transcripts[2] == Transcript{"chrT_1-70.cds3", '-', {{65, 70}}});
  CHECK(r.ignored_features().at("source") == 1);
  CHECK_FALSE(r.next(l));
}

TEST_CASE("GenBank: join(complement(..),complement(..)) and partial markers", "[data][genbank]") {
  auto loci = parse("LOCUS x 20 bp\nFEATURES\n     CDS             join(complement(12..15),complement(<2..>5))\n"
                    "                     /transcript_id=\"t1\"\n                     /gene=\"g\"\nORIGIN\n"
                    "        1 acgtacgtac gtacgtacgt\n//\n");
  REQUIRE(loci.size() == 1);
  CHECK(loci[0].transcripts[0] == Transcript{"t1", '-', {{1, 5}, {11, 15}}});
}

TEST_CASE("GenBank: write -> read round trip", "[data][genbank]") {
  TempDir tmp;
  std::vector<Locus> loci = parse(kTwoGenes);
  Locus big;
  big.name = "long";
  for (int i = 0; i < 1234; ++i) big.sequence.push_back("ACGT"[(i * 5 + i / 7) % 4]);
  Transcript t{"many", '+', {}};
  for (int k = 0; k < 40; ++k) t.cds.push_back({k * 30, k * 30 + 12});  // a location longer than one line
  big.transcripts.push_back(t);
  loci.push_back(big);
  loci.push_back(Locus{"empty", "", {}});
  write_genbank(tmp / "x.gb", loci);
  auto back = read_genbank(tmp / "x.gb");
  REQUIRE(back.size() == loci.size());
  for (std::size_t i = 0; i < loci.size(); ++i) CHECK(back[i] == loci[i]);
  // gzip too
  tmp.write_gz("x.gb.gz", nucleo::testing::slurp(tmp / "x.gb"));
  CHECK(read_genbank(tmp / "x.gb.gz") == loci);
}

TEST_CASE("GenBank: malformed records give ParseError with file and line", "[data][genbank]") {
  const std::string head = "LOCUS x 10 bp\nFEATURES\n";
  const std::string origin = "ORIGIN\n        1 acgtacgtac\n";
  // truncated: no '//'
  CHECK_THROWS_WITH(parse(head + "     CDS             1..9\n" + origin),
                    Catch::Contains("mem.gb:5:") && Catch::Contains("truncated"));
  // declared length differs from the sequence
  CHECK_THROWS_WITH(parse("LOCUS x 12 bp\nORIGIN\n 1 acgt\n//\n"), Catch::Contains("declares 12 bp"));
  // CDS beyond the sequence
  CHECK_THROWS_WITH(parse(head + "     CDS             join(1..3,8..11)\n" + origin + "//\n"),
                    Catch::Contains("mem.gb:3:") && Catch::Contains("beyond the sequence"));
  // bad coordinates
  CHECK_THROWS_WITH(parse(head + "     CDS             5..3\n" + origin + "//\n"), Catch::Contains("start > end"));
  CHECK_THROWS_WITH(parse(head + "     CDS             0..3\n" + origin + "//\n"), Catch::Contains("< 1"));
  CHECK_THROWS_WITH(parse(head + "     CDS             join(1..3,x)\n" + origin + "//\n"),
                    Catch::Contains("bad CDS location"));
  CHECK_THROWS_WITH(parse(head + "     CDS             join(1..3\n" + origin + "//\n"), Catch::Contains("expected ')'"));
  CHECK_THROWS_WITH(parse(head + "     CDS             join(1..5,3..8)\n" + origin + "//\n"), Catch::Contains("overlap"));
  CHECK_THROWS_WITH(parse(head + "     CDS             join(1..3,complement(5..8))\n" + origin + "//\n"),
                    Catch::Contains("both strands"));
  // no ORIGIN, garbage before LOCUS, next LOCUS without '//', non-letters in the sequence
  CHECK_THROWS_WITH(parse(head + "     CDS             1..3\n//\n"), Catch::Contains("no ORIGIN"));
  CHECK_THROWS_WITH(parse("hello\n"), Catch::Contains("mem.gb:1:") && Catch::Contains("LOCUS"));
  CHECK_THROWS_WITH(parse(head + origin + "LOCUS y 3 bp\n"), Catch::Contains("not terminated"));
  CHECK_THROWS_WITH(parse("LOCUS x 4 bp\nORIGIN\n 1 ac-g\n//\n"), Catch::Contains("mem.gb:3:"));
  // deep nesting is rejected, not a stack overflow
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "complement(";
  CHECK_THROWS_WITH(parse(head + "     CDS             " + deep + "1..3\n" + origin + "//\n"), Catch::Contains("nested"));
}

TEST_CASE("GenBank: the real AUGUSTUS fly training file parses", "[data][genbank][fly]") {
  const std::filesystem::path p = "/usr/share/doc/augustus/tutorial/results/genes.gb.test";
  if (!std::filesystem::exists(p)) {
    WARN("SKIPPED: " << p << " not installed (run scripts/setup)");
    return;
  }
  GenBankReader r(p);
  Locus l;
  std::size_t n = 0, nt = 0, minus = 0;
  while (r.next(l)) {
    ++n;
    nt += l.sequence.size();
    REQUIRE(l.transcripts.size() == 1);
    minus += l.transcripts[0].strand == '-';
  }
  CHECK(n == 100);
  CHECK(nt == 625369);
  CHECK(minus > 0);
  CHECK(minus < n);
  CHECK(r.ignored_features().at("source") == 100);
}

TEST_CASE("GenBank: join parts out of order, duplicate loci, overflowing positions and empty files are refused",
          "[data][genbank]") {
  const std::string origin = "ORIGIN\n        1 acgtacgtac gtacgtacgt\n//\n";
  auto rec = [&](const std::string& name, const std::string& cds) {
    return "LOCUS       " + name + " 20 bp\nFEATURES\n     CDS             " + cds + "\n" + origin;
  };
  // out of transcript order: used to be sorted without a word
  CHECK_THROWS_WITH(parse(rec("x", "join(11..15,1..3)")),
                    Catch::Contains("mem.gb:3:") && Catch::Contains("out of order") && Catch::Contains("1..3 after 11..15"));
  CHECK_THROWS_WITH(parse(rec("x", "complement(join(11..15,1..3))")), Catch::Contains("out of order"));
  CHECK_THROWS_WITH(parse(rec("x", "join(complement(1..3),complement(11..15))")), Catch::Contains("out of order"));
  // transcript order on both strands is accepted and stored ascending
  CHECK(parse(rec("x", "join(1..3,11..15)"))[0].transcripts[0].cds == std::vector<Interval>{{0, 3}, {10, 15}});
  CHECK(parse(rec("x", "complement(join(1..3,11..15))"))[0].transcripts[0].cds == std::vector<Interval>{{0, 3}, {10, 15}});
  CHECK(parse(rec("x", "join(complement(11..15),complement(1..3))"))[0].transcripts[0].cds ==
        std::vector<Interval>{{0, 3}, {10, 15}});
  // a locus name used twice (used to pass `nucleo-data stats`)
  CHECK_THROWS_WITH(parse(rec("a", "1..3") + rec("b", "1..3") + rec("a", "4..6")),
                    Catch::Contains("mem.gb:13:") && Catch::Contains("'a' occurs twice") &&
                        Catch::Contains("first LOCUS at line 1"));
  // positions beyond 64 bits: said, not "expected a position number"
  CHECK_THROWS_WITH(parse(rec("x", "1..100000000000000000000000")),
                    Catch::Contains("position 100000000000000000000000 is too large"));
  CHECK_THROWS_WITH(parse("LOCUS x 100000000000000000000000 bp\n" + origin), Catch::Contains("LOCUS length"));
  // a file without any record: no silent "0 loci"
  TempDir tmp;
  CHECK_THROWS_WITH(read_genbank(tmp.write("empty.gb", "")),
                    Catch::Contains("empty.gb") && Catch::Contains("no GenBank record"));
  CHECK_THROWS_WITH(read_genbank(tmp.write("blank.gb", "\n\n")), Catch::Contains("no GenBank record"));
}
