#include "nucleo/data/fasta_index.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/data/fasta.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

TEST_CASE("FastaIndex: build matches samtools' .fai layout", "[data][fasta_index]") {
  TempDir tmp;
  // chr1: 10 bases in lines of 4; chr2 with CRLF ends; chr3 empty.
  tmp.write("g.fa", ">chr1 desc\nACGT\nacgt\nNR\n>chr2\r\nGGG\r\nTT\r\n>chr3\n");
  auto idx = FastaIndex::open(tmp / "g.fa");
  CHECK(idx.written());
  REQUIRE(idx.entries().size() == 3);
  CHECK(idx.entries()[0] == FaiEntry{"chr1", 10, 11, 4, 5});
  CHECK(idx.entries()[1] == FaiEntry{"chr2", 5, 31, 3, 5});
  CHECK(idx.entries()[2].name == "chr3");
  CHECK(idx.entries()[2].length == 0);
  CHECK(nucleo::testing::slurp(tmp / "g.fa.fai") == "chr1\t10\t11\t4\t5\nchr2\t5\t31\t3\t5\nchr3\t0\t46\t0\t0\n");
  // reading the written index gives the same entries
  auto again = FastaIndex::read(tmp / "g.fa.fai", tmp / "g.fa");
  CHECK(again.entries() == idx.entries());
}

TEST_CASE("FastaIndex: fetch is 0-based half-open and agrees with the reader", "[data][fasta_index]") {
  TempDir tmp;
  std::vector<FastaRecord> recs;
  std::string s;
  const char* letters = "ACGTacgtNRY";
  for (int i = 0; i < 1000; ++i) s.push_back(letters[(i * 7 + i / 13) % 11]);
  recs.push_back({"a", "", s});
  recs.push_back({"b", "", s.substr(0, 77)});
  for (std::size_t width : {1u, 7u, 60u, 0u}) {
    // write raw (write_fasta keeps the letters as given)
    write_fasta(tmp / "s.fa", recs, width);
    std::filesystem::remove(tmp / "s.fa.fai");
    auto idx = FastaIndex::open(tmp / "s.fa");
    auto canon = read_fasta(tmp / "s.fa");
    for (const auto& [st, en] : std::vector<std::pair<int, int>>{{0, 1000}, {0, 1}, {999, 1000}, {13, 14}, {59, 61}, {100, 333}, {5, 5}})
      CHECK(idx.fetch("a", st, en) == canon[0].sequence.substr(st, en - st));
    CHECK(idx.fetch("b", 70, 77) == canon[1].sequence.substr(70));
  }
}

TEST_CASE("FastaIndex: bounds, unknown names and stale or bad indexes are errors", "[data][fasta_index]") {
  TempDir tmp;
  tmp.write("g.fa", ">chr1\nACGT\nAC\n");
  auto idx = FastaIndex::open(tmp / "g.fa");
  CHECK_THROWS_WITH(idx.fetch("chr1", 2, 7), Catch::Contains("outside") && Catch::Contains("length 6"));
  CHECK_THROWS_WITH(idx.fetch("chr1", 3, 2), Catch::Contains("outside"));
  CHECK_THROWS_WITH(idx.fetch("chrX", 0, 1), Catch::Contains("no sequence named 'chrX'"));
  tmp.write("bad.fai", "chr1\t6\tx\t4\t5\n");
  CHECK_THROWS_WITH(FastaIndex::read(tmp / "bad.fai", tmp / "g.fa"), Catch::Contains("bad.fai:1:") && Catch::Contains("OFFSET"));
  tmp.write("bad2.fai", "chr1\t6\t6\n");
  CHECK_THROWS_WITH(FastaIndex::read(tmp / "bad2.fai", tmp / "g.fa"), Catch::Contains("5 tab-separated"));
  // an index that claims more bases than the file holds
  tmp.write("stale.fai", "chr1\t60\t6\t4\t5\n");
  auto stale = FastaIndex::read(tmp / "stale.fai", tmp / "g.fa");
  CHECK_THROWS_WITH(stale.fetch("chr1", 0, 60), Catch::Contains("stale"));
}

TEST_CASE("FastaIndex: inconsistent line widths, duplicates and gzip are rejected", "[data][fasta_index]") {
  TempDir tmp;
  tmp.write("w.fa", ">a\nACGT\nAC\nACGT\n");
  CHECK_THROWS_WITH(FastaIndex::build(tmp / "w.fa"), Catch::Contains("w.fa:4:") && Catch::Contains("different length"));
  tmp.write("l.fa", ">a\nAC\nACGT\n");
  CHECK_THROWS_WITH(FastaIndex::build(tmp / "l.fa"), Catch::Contains("l.fa:3:"));
  tmp.write("d.fa", ">a\nAC\n>a\nAC\n");
  CHECK_THROWS_WITH(FastaIndex::build(tmp / "d.fa"), Catch::Contains("duplicate record name 'a'"));
  tmp.write_gz("z.fa", ">a\nAC\n");
  CHECK_THROWS_WITH(FastaIndex::build(tmp / "z.fa"), Catch::Contains("uncompressed"));
}

TEST_CASE("FastaIndex: from_string indexes and fetches text in memory, as from a file", "[data][fasta_index]") {
  const std::string text = ">a\nACGTA\nCG\n>b x\r\nTTTT\r\nGG\r\n>c\rAAC\rA\r";
  TempDir tmp;
  auto file = FastaIndex::build(tmp.write("m.fa", text));
  auto mem = FastaIndex::from_string(text, "m.fa");
  CHECK(mem.entries() == file.entries());
  for (const auto& e : mem.entries()) {
    CHECK(mem.fetch(e.name, 0, e.length) == file.fetch(e.name, 0, e.length));
    CHECK(mem.fetch(e.name, 1, e.length) == file.fetch(e.name, 1, e.length));
  }
  CHECK(mem.fetch("a", 0, 7) == "ACGTACG");
  CHECK(mem.fetch("c", 0, 4) == "AACA");  // old Mac line ends index like the others
  CHECK_THROWS_AS(mem.fetch("a", 0, 8), IoError);
}
