#include "nucleo/data/fasta.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

using namespace nucleo;
using nucleo::testing::TempDir;
using nucleo::testing::slurp;

namespace {
std::vector<FastaRecord> parse(const std::string& text, BaseCounter* c = nullptr) {
  auto r = FastaReader::from_string(text, "mem.fa");
  std::vector<FastaRecord> out;
  FastaRecord rec;
  while (r.next(rec)) out.push_back(rec);
  if (c) c->merge(r.replaced());
  return out;
}
}  // namespace

TEST_CASE("FASTA: multi-record, any line width, upper-cased, description kept", "[data][fasta]") {
  BaseCounter c;
  auto recs = parse(">chr1 first one\nacgt\nAC\n\n>chr2\nGGGGGGGGGG\nTTT\r\n>empty\n>chr3\tdesc\nnnRy", &c);
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].name == "chr1");
  CHECK(recs[0].description == "first one");
  CHECK(recs[0].sequence == "ACGTAC");
  CHECK(recs[1].sequence == "GGGGGGGGGGTTT");
  CHECK(recs[2].name == "empty");
  CHECK(recs[2].sequence.empty());
  CHECK(recs[3].description == "desc");
  CHECK(recs[3].sequence == "NNNN");
  CHECK(c.replaced() == 2);
  CHECK(c.summary() == "R:1 Y:1");
}

TEST_CASE("FASTA: write -> read round trip, plain and gzip", "[data][fasta]") {
  TempDir tmp;
  std::vector<FastaRecord> recs = {{"a", "desc a", std::string(125, 'A') + "CGT"}, {"b", "", "T"}, {"c", "", ""}};
  write_fasta(tmp / "x.fa", recs, 60);
  auto back = read_fasta(tmp / "x.fa");
  REQUIRE(back.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(back[i].name == recs[i].name);
    CHECK(back[i].description == recs[i].description);
    CHECK(back[i].sequence == recs[i].sequence);
  }
  // gzip input is detected by its magic bytes, whatever the file name.
  tmp.write_gz("y.dat", nucleo::testing::slurp(tmp / "x.fa"));
  auto gz = read_fasta(tmp / "y.dat");
  REQUIRE(gz.size() == 3);
  CHECK(gz[0].sequence == recs[0].sequence);
  CHECK(FastaReader(tmp / "y.dat").path() == (tmp / "y.dat").string());
}

TEST_CASE("FASTA: malformed input gives ParseError with path and line", "[data][fasta]") {
  CHECK_THROWS_WITH(parse("ACGT\n>a\nAC\n"), Catch::Contains("mem.fa:1:") && Catch::Contains("before the first"));
  CHECK_THROWS_WITH(parse(">a\nAC\nA-C\n"), Catch::Contains("mem.fa:3:") && Catch::Contains("'-'"));
  CHECK_THROWS_WITH(parse(">a\nAC\n> x\nAC\n"), Catch::Contains("mem.fa:3:") && Catch::Contains("without a record name"));
  CHECK_THROWS_AS(parse(">a\nAC GT\n"), ParseError);
  CHECK(parse("").empty());
}

TEST_CASE("FASTA: missing file and truncated gzip are errors", "[data][fasta]") {
  TempDir tmp;
  CHECK_THROWS_AS(read_fasta(tmp / "missing.fa"), IoError);
  std::string big;
  for (int i = 0; i < 2000; ++i) big += ">r" + std::to_string(i) + "\nACGTTGCAACGTAGCTAGCTAGCTGATCGATCG\n";
  tmp.write_gz("full.fa.gz", big);
  auto bytes = nucleo::testing::slurp(tmp / "full.fa.gz");
  REQUIRE(bytes.size() > 100);
  tmp.write("cut.fa.gz", bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(read_fasta(tmp / "cut.fa.gz"), Catch::Contains("cut.fa.gz") && Catch::Contains("gzip"));
}

TEST_CASE("FASTA: old Mac line ends (a lone CR) end lines like LF and CRLF", "[data][fasta]") {
  const auto cr = parse(">chr1 first\rACGT\rAC\r\r>chr2\rGG\r");
  REQUIRE(cr.size() == 2);
  CHECK(cr[0].name == "chr1");
  CHECK(cr[0].description == "first");
  CHECK(cr[0].sequence == "ACGTAC");
  CHECK(cr[1].sequence == "GG");
  // mixed line ends, and a CR at the very end without a newline
  const auto mixed = parse(">a\r\nAC\rGT\nTT\r");
  REQUIRE(mixed.size() == 1);
  CHECK(mixed[0].sequence == "ACGTTT");
  // the same from a file (read in 64 KiB pieces: a CR at a piece boundary must not split a CRLF)
  TempDir tmp;
  std::string big = ">long\r";
  std::string want;
  for (int i = 0; i < 20000; ++i) {
    big += "ACGTACG\r";
    want += "ACGTACG";
  }
  big += ">crlf\r\n" + std::string(65530, 'C') + "\r\n";
  const auto recs = read_fasta(tmp.write("mac.fa", big));
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].sequence == want);
  CHECK(recs[1].sequence == std::string(65530, 'C'));
  CHECK(read_fasta(tmp.write_gz("mac.fa.gz", big))[0].sequence == want);
}

TEST_CASE("FASTA: a pipe is read once, plain or gzip (no second open)", "[data][fasta]") {
  TempDir tmp;
  const std::string text = ">a\nACGT\n>b\nGG\n";
  const auto gz = tmp.write_gz("x.fa.gz", text);
  for (const bool compressed : {false, true}) {
    INFO("gzip " << compressed);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string bytes = compressed ? slurp(gz) : text;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      const char* p = bytes.data();
      std::size_t left = bytes.size();
      while (left > 0) {
        const ssize_t w = ::write(fds[1], p, left);
        if (w <= 0) std::_Exit(1);
        p += w;
        left -= static_cast<std::size_t>(w);
      }
      std::_Exit(0);
    }
    ::close(fds[1]);
    const auto recs = read_fasta(fmt::format("/proc/self/fd/{}", fds[0]));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    REQUIRE(recs.size() == 2);  // the old reader opened the pipe twice and lost its first bytes
    CHECK(recs[0].name == "a");
    CHECK(recs[0].sequence == "ACGT");
    CHECK(recs[1].sequence == "GG");
  }
}
