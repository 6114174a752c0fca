#include "nucleo/data/bed.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/data/fasta.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

TEST_CASE("BED: BEND multilabel layout, labels by name, split = last column", "[data][bed]") {
  auto t = BedTable::from_string(
      "chromosome\tstart\tend\tstrand\tlabel\tsplit\n"
      "chr1\t0\t4\t+\t1,4,0\ttrain\n"
      "chr1\t2\t6\t-\t\tvalid\n"
      "chr2\t1\t3\t.\tNaN\ttest\n"
      "\n"
      "chr2\t0\t2\t-\t 3 \ttrain\n",
      "m.bed");
  REQUIRE(t.size() == 4);
  CHECK(t.strand_column() == 3);
  CHECK(t.label_column() == 4);
  CHECK(t[0].labels == std::vector<int>{0, 1, 4});
  CHECK(t[1].labels.empty());
  CHECK(t[2].labels.empty());
  CHECK(t[2].strand == '+');
  CHECK(t[3].labels == std::vector<int>{3});
  CHECK(t[3].line == 6);
  CHECK(t.rows_in_split("train") == std::vector<std::size_t>{0, 3});
  CHECK(t.multi_hot(0, 6) == std::vector<std::uint8_t>{1, 1, 0, 0, 1, 0});
  CHECK_THROWS_WITH(t.multi_hot(0, 4), Catch::Contains("m.bed:2:") && Catch::Contains("out of range"));
}

TEST_CASE("BED: positional strand (3) and label (6) columns, gene-finding layout without labels", "[data][bed]") {
  auto t = BedTable::from_string("c\ts\te\tname\tscore\tdir\tlabs\tsplit\nchr1\t0\t5\t-\t0\t+\t2,3\ttrain\n");
  CHECK(t.strand_column() == 3);
  CHECK(t.label_column() == 6);
  CHECK(t[0].strand == '-');
  CHECK(t[0].labels == std::vector<int>{2, 3});
  auto g = BedTable::from_string("chromosome\tstart\tend\tstrand\tsplit\nchr1\t0\t5\t+\ttest\n");
  CHECK(g.label_column() == -1);
  CHECK(g[0].split == "test");
  auto four = BedTable::from_string("chromosome\tstart\tend\tsplit\nchr1\t0\t5\ttest\n");
  CHECK(four.strand_column() == -1);
  CHECK(four[0].strand == '?');
}

TEST_CASE("BED: sequences cut via .fai, reverse-complemented on '-' when read_strand", "[data][bed]") {
  TempDir tmp;
  write_fasta(tmp / "g.fa", {{"chr1", "", "AACCGGTTAC"}, {"chr2", "", "acgtRacgt"}}, 4);
  auto fa = FastaIndex::open(tmp / "g.fa");
  auto t = BedTable::read(tmp.write("x.bed",
                                    "chromosome\tstart\tend\tstrand\tsplit\n"
                                    "chr1\t0\t4\t+\ttrain\n"
                                    "chr1\t2\t7\t-\ttrain\n"
                                    "chr2\t3\t6\t-\ttest\n"
                                    "chr1\t8\t11\t+\ttest\n"
                                    "chrX\t0\t1\t+\ttest\n"));
  CHECK(t.fetch(0, fa, true) == "AACC");
  CHECK(t.fetch(1, fa, false) == "CCGGT");
  CHECK(t.fetch(1, fa, true) == "ACCGG");
  CHECK(t.fetch(2, fa, false) == "TNA");
  CHECK(t.fetch(2, fa, true) == "TNA");
  CHECK_THROWS_WITH(t.fetch(3, fa, false), Catch::Contains("x.bed:5:") && Catch::Contains("beyond the sequence"));
  CHECK_THROWS_WITH(t.fetch(4, fa, false), Catch::Contains("x.bed:6:") && Catch::Contains("'chrX'"));
  auto nostrand = BedTable::from_string("chromosome\tstart\tend\tsplit\nchr1\t0\t5\ttest\n", "n.bed");
  CHECK(nostrand.fetch(0, fa, false) == "AACCG");
  CHECK_THROWS_WITH(nostrand.fetch(0, fa, true), Catch::Contains("no strand column"));
}

TEST_CASE("BED: malformed rows give ParseError with file and line", "[data][bed]") {
  const std::string h = "chromosome\tstart\tend\tstrand\tlabel\tsplit\n";
  auto bad = [&](const std::string& row) { return BedTable::from_string(h + row, "b.bed"); };
  CHECK_THROWS_WITH(bad("chr1\t5\t3\t+\t1\ttrain\n"), Catch::Contains("b.bed:2:") && Catch::Contains("start 5 >= end 3"));
  CHECK_THROWS_WITH(bad("chr1\t-1\t3\t+\t1\ttrain\n"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(bad("chr1\tx\t3\t+\t1\ttrain\n"), Catch::Contains("start 'x' is not an integer"));
  CHECK_THROWS_WITH(bad("chr1\t0\t3\t+\t1\n"), Catch::Contains("expected 6 columns"));
  CHECK_THROWS_WITH(bad("chr1\t0\t3\t*\t1\ttrain\n"), Catch::Contains("strand '*'"));
  CHECK_THROWS_WITH(bad("chr1\t0\t3\t+\t1,,2\ttrain\n"), Catch::Contains("not a non-negative class index"));
  CHECK_THROWS_WITH(bad("chr1\t0\t3\t+\t1,a\ttrain\n"), Catch::Contains("'a'"));
  CHECK_THROWS_WITH(bad("chr1\t0\t3\t+\t2,2\ttrain\n"), Catch::Contains("twice"));
  CHECK_THROWS_WITH(BedTable::from_string("chr1\t0\t3\t+\ttrain\n", "h.bed"), Catch::Contains("h.bed:1:") && Catch::Contains("header row"));
  CHECK_THROWS_WITH(BedTable::from_string("", "e.bed"), Catch::Contains("empty file"));
  CHECK_THROWS_WITH(BedTable::from_string("a\tb\tc\n", "c.bed"), Catch::Contains("at least 4"));
}
