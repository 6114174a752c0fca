#include "nucleo/genes/genome_loci.hpp"

#include "nucleo_apps/fly_data.hpp"  // where the real fly data is found

#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <set>

#include "nucleo/data/genbank.hpp"

using namespace nucleo;
using nucleo::apps::find_fly_genome;
using nucleo::apps::find_gene_files;

namespace {

// Two records: chrA (20 nt), chrB (10 nt).
const std::vector<FastaRecord> kGenome = {{"chrA", "", "ACGTTGCAACGGATCCTTAG"}, {"chrB", "x", "GGGGCCCCAA"}};

// A locus named <seqid>_<first>-<last>, its sequence cut from kGenome (1-based inclusive).
GeneExample cut(const std::string& seqid, std::int64_t first, std::int64_t last) {
  const auto& rec = seqid == "chrA" ? kGenome[0] : kGenome[1];
  const std::string s = rec.sequence.substr(static_cast<std::size_t>(first - 1), static_cast<std::size_t>(last - first + 1));
  return GeneExample{seqid + "_" + std::to_string(first) + "-" + std::to_string(last), s,
                     std::vector<std::int8_t>(s.size(), 8)};
}

GeneExample named(std::string name, std::string seq) {
  return GeneExample{std::move(name), seq, std::vector<std::int8_t>(seq.size(), 8)};
}

}  // namespace

TEST_CASE("genome loci: locus names", "[data][genome_loci]") {
  std::string seqid;
  std::int64_t a = 0, b = 0;
  REQUIRE(parse_locus_interval("chr2R_60221-63882", seqid, a, b));
  CHECK(seqid == "chr2R");
  CHECK(a == 60221);
  CHECK(b == 63882);
  REQUIRE(parse_locus_interval("my_chr_7_1-1", seqid, a, b));  // the last '_' separates the interval
  CHECK(seqid == "my_chr_7");
  CHECK(a == 1);
  CHECK(b == 1);
  for (const char* bad : {"chr2R", "chr2R_", "_1-5", "chr_5-1", "chr_0-5", "chr_a-5", "chr_1-5x", "chr_1-", "chr_-1-5",
                          "chr_1--5", "chr_1 - 5", "chr_15", "chr_+1-5", "chr_99999999999999999999-1"}) {
    INFO(bad);
    CHECK_FALSE(parse_locus_interval(bad, seqid, a, b));
  }
}

TEST_CASE("genome loci: locate, overlaps and slice", "[data][genome_loci]") {
  const std::vector<GeneExample> loci = {cut("chrA", 3, 7), cut("chrB", 1, 10), cut("chrA", 20, 20), cut("chrA", 7, 9)};
  const GenomeLoci g = GenomeLoci::locate(kGenome, loci);
  REQUIRE(g.size() == 4);
  CHECK(g[0] == GenomeInterval{0, 2, 7});
  CHECK(g[1] == GenomeInterval{1, 0, 10});
  CHECK(g[2] == GenomeInterval{0, 19, 20});
  CHECK(g[3] == GenomeInterval{0, 6, 9});
  CHECK(g[0].length() == 5);
  // chrA_3-7 and chrA_7-9 share base 7; nothing else overlaps
  CHECK(g.overlaps() == std::vector<std::pair<std::size_t, std::size_t>>{{0, 3}});

  std::vector<int> values(20);
  for (int i = 0; i < 20; ++i) values[static_cast<std::size_t>(i)] = 100 + i;
  CHECK(g.slice(0, values) == std::vector<int>{102, 103, 104, 105, 106});
  CHECK(g.slice(2, std::span<const int>(values)) == std::vector<int>{119});
  const std::vector<std::int8_t> b_labels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 8};
  CHECK(g.slice(1, b_labels) == b_labels);
  // the values must cover the locus's record exactly
  CHECK_THROWS_WITH(g.slice(1, values), Catch::Contains("20 values") && Catch::Contains("10 nt"));
  CHECK_THROWS_AS(g.slice(0, std::vector<int>(21)), ShapeError);
  CHECK_THROWS(g.slice(4, values));
}

TEST_CASE("genome loci: errors name the locus and the problem", "[data][genome_loci]") {
  auto locate_one = [](const GeneExample& l) {
    const std::vector<GeneExample> v = {l};
    return GenomeLoci::locate(kGenome, v, "test locus");
  };
  CHECK_THROWS_AS(locate_one(named("chrA-3-7", "GTTGC")), IoError);
  CHECK_THROWS_WITH(locate_one(named("chrA-3-7", "GTTGC")),
                    Catch::Contains("test locus 'chrA-3-7'") && Catch::Contains("<seqid>_<first>-<last>"));
  CHECK_THROWS_WITH(locate_one(named("chrC_1-3", "ACG")), Catch::Contains("'chrC_1-3'") &&
                                                               Catch::Contains("no record 'chrC'"));
  CHECK_THROWS_WITH(locate_one(named("chrB_8-11", "CAAG")),
                    Catch::Contains("'chrB_8-11'") && Catch::Contains("ends at 11") && Catch::Contains("10 nt"));
  CHECK_THROWS_WITH(locate_one(named("chrA_3-7", "GTTG")), Catch::Contains("'chrA_3-7'") && Catch::Contains("4 nt") &&
                                                                Catch::Contains("spans 5 nt"));
  // one base differs: chrA base 5 is T, the locus says A there
  CHECK_THROWS_WITH(locate_one(named("chrA_3-7", "GTATC")),
                    Catch::Contains("'chrA_3-7'") && Catch::Contains("record 'chrA' at position 5") &&
                        Catch::Contains("A in the locus, T in the genome"));
  // the first base of the locus: position 3
  CHECK_THROWS_WITH(locate_one(named("chrA_3-7", "CTTGC")), Catch::Contains("at position 3"));
  // the same locus shifted by one base is a mismatch, not silently accepted
  CHECK_THROWS_AS(locate_one(named("chrA_4-8", "GTTGC")), IoError);

  const std::vector<FastaRecord> twice = {kGenome[0], kGenome[0]};
  const std::vector<GeneExample> loci = {cut("chrA", 1, 2)};
  CHECK_THROWS_WITH(GenomeLoci::locate(twice, loci), Catch::Contains("'chrA' occurs twice"));
}

TEST_CASE("genome loci: overlaps against all pairs, on random loci", "[data][genome_loci]") {
  std::mt19937 rng(3);
  const std::vector<FastaRecord> genome = {{"r1", "", std::string(300, 'A')}, {"r2", "", std::string(200, 'C')}};
  for (int round = 0; round < 50; ++round) {
    std::vector<GeneExample> loci;
    const int n = std::uniform_int_distribution<int>(1, 12)(rng);
    for (int i = 0; i < n; ++i) {
      const std::size_t r = std::uniform_int_distribution<std::size_t>(0, 1)(rng);
      const auto len = static_cast<std::int64_t>(genome[r].sequence.size());
      const std::int64_t a = std::uniform_int_distribution<std::int64_t>(1, len)(rng);
      const std::int64_t b = std::uniform_int_distribution<std::int64_t>(a, std::min(len, a + 60))(rng);
      loci.push_back(GeneExample{genome[r].name + "_" + std::to_string(a) + "-" + std::to_string(b),
                                 std::string(static_cast<std::size_t>(b - a + 1), r == 0 ? 'A' : 'C'), {}});
    }
    const GenomeLoci g = GenomeLoci::locate(genome, loci);
    std::set<std::pair<std::size_t, std::size_t>> want;
    for (std::size_t i = 0; i < g.size(); ++i)
      for (std::size_t j = i + 1; j < g.size(); ++j)
        if (g[i].record == g[j].record && g[i].begin < g[j].end && g[j].begin < g[i].end) want.emplace(i, j);
    const auto got = g.overlaps();
    CHECK(std::set<std::pair<std::size_t, std::size_t>>(got.begin(), got.end()) == want);
    CHECK(got.size() == want.size());  // each pair once
  }
}

TEST_CASE("genome loci: all 586 fly loci lie in chr2R.2M-7M.fa, base for base", "[data][genome_loci]") {
  std::optional<std::vector<FastaRecord>> genome;
  std::vector<GeneExample> loci;
  try {
    genome = read_fasta(find_fly_genome());
    const auto files = find_gene_files();
    for (const auto& path : {files.train, files.test})
      for (auto& l : read_genbank(path)) loci.push_back(GeneExample{l.name, std::move(l.sequence), {}});
  } catch (const IoError& e) {
    WARN("SKIPPED: augustus-doc not installed (run scripts/setup): " << e.what());
    return;
  }
  REQUIRE(genome->size() == 1);
  CHECK((*genome)[0].name == "chr2R");
  CHECK((*genome)[0].sequence.size() == 5000000);
  REQUIRE(loci.size() == 586);
  const GenomeLoci g = GenomeLoci::locate(*genome, loci);
  CHECK(g.size() == 586);
  CHECK(g.overlaps().empty());
  std::int64_t nt = 0;
  for (std::size_t k = 0; k < g.size(); ++k) {
    nt += g[k].length();
    CHECK(g[k].record == 0);
  }
  CHECK(g[0].begin + 1 == std::stoll(loci[0].name.substr(loci[0].name.find('_') + 1)));
  CHECK(nt == 2655825 + 625369);  // genes.gb.train + genes.gb.test
}
