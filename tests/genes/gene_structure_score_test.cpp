#include "nucleo/genes/gene_structure_score.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "nucleo/genes/gene_labels.hpp"
#include "support/label_tracks.hpp"

using namespace nucleo;

namespace {

using nucleo::testing::track;

GeneStructureScore score_one(const std::string& truth, const std::string& pred) {
  GeneStructureScore s;
  s.add(track(truth), track(pred));
  return s;
}

StructureCounts counts(std::int64_t truth, std::int64_t predicted, std::int64_t found) {
  StructureCounts c;
  c.truth = truth;
  c.predicted = predicted;
  c.found = found;
  return c;
}

// A two-exon + gene: exon [1,5), donor 5, intron 6..7, acceptor 8, exon [9,15).
const std::string kPlus = "8" "0000" "1" "22" "3" "000000" "88";
// The same intervals on the - strand: left intron end 5 = acceptor (7), right end 8 = donor (5).
const std::string kMinus = "8" "4444" "7" "66" "5" "444444" "88";

// A truth and a prediction track with the known counts {truth, predicted, found} of each item.
struct HandCase {
  const char* what;
  std::string truth, pred;
  StructureCounts exon, gene, donor, acceptor;
};

}  // namespace

TEST_CASE("structure score: hand-made tracks with known counts", "[metrics][gene_structure]") {
  const std::string single = "88" "000000" "88" "444" "8";  // a + and a - single-exon gene
  const HandCase cases[] = {
      {"equal, + strand", kPlus, kPlus, counts(2, 2, 2), counts(1, 1, 1), counts(1, 1, 1), counts(1, 1, 1)},
      {"equal, - strand", kMinus, kMinus, counts(2, 2, 2), counts(1, 1, 1), counts(1, 1, 1), counts(1, 1, 1)},
      // one boundary off by one costs that exon, its gene and the splice site at that boundary
      {"+, acceptor one later: second exon [10,15)", kPlus, "8" "0000" "1" "222" "3" "00000" "88",  //
       counts(2, 2, 1), counts(1, 1, 0), counts(1, 1, 1), counts(1, 1, 0)},
      {"+, donor one earlier: first exon [1,4)", kPlus, "8" "000" "1" "222" "3" "000000" "88",  //
       counts(2, 2, 1), counts(1, 1, 0), counts(1, 1, 0), counts(1, 1, 1)},
      {"+, gene start one later: exon and gene lost, no splice site", kPlus, "88" "000" "1" "22" "3" "000000" "88",
       counts(2, 2, 1), counts(1, 1, 0), counts(1, 1, 1), counts(1, 1, 1)},
      {"-, right intron end one earlier: the donor moves", kMinus, "8" "4444" "7" "6" "5" "4444444" "88",
       counts(2, 2, 1), counts(1, 1, 0), counts(1, 1, 0), counts(1, 1, 1)},
      {"-, left intron end one later: the acceptor moves", kMinus, "8" "44444" "7" "6" "5" "444444" "88",
       counts(2, 2, 1), counts(1, 1, 0), counts(1, 1, 1), counts(1, 1, 0)},
      {"the strand is part of every item", kPlus, kMinus,  //
       counts(2, 2, 0), counts(1, 1, 0), counts(1, 1, 0), counts(1, 1, 0)},
      // a missing or an extra exon makes the gene wrong
      {"missing: only the first exon, as a single-exon gene", kPlus, "8" "0000" "8888" "888888" "88",
       counts(2, 1, 1), counts(1, 1, 0), counts(1, 0, 0), counts(1, 0, 0)},
      {"extra: a third exon chained after the second", kPlus + "8888888",
       "8" "0000" "1" "22" "3" "000000" "1" "2" "3" "00" "8888",  //
       counts(2, 3, 2), counts(1, 1, 0), counts(1, 2, 1), counts(1, 2, 1)},
      {"the two exons as two single-exon genes: exons found, gene not", kPlus, "8" "0000" "8888" "000000" "88",
       counts(2, 2, 2), counts(1, 2, 0), counts(1, 0, 0), counts(1, 0, 0)},
      // single-exon genes have no splice sites
      {"single-exon genes, equal", single, single, counts(2, 2, 2), counts(2, 2, 2), counts(0, 0, 0), counts(0, 0, 0)},
      {"single-exon genes, the - one shifted by one", single, "88" "000000" "888" "444",  //
       counts(2, 2, 1), counts(2, 2, 1), counts(0, 0, 0), counts(0, 0, 0)},
      // zero denominators
      {"no genes at all", "88888", "88888", counts(0, 0, 0), counts(0, 0, 0), counts(0, 0, 0), counts(0, 0, 0)},
      {"a predicted gene, none true", "88888", "80008", counts(0, 1, 0), counts(0, 1, 0), counts(0, 0, 0), counts(0, 0, 0)},
      {"a true gene, none predicted", "84448", "88888", counts(1, 0, 0), counts(1, 0, 0), counts(0, 0, 0), counts(0, 0, 0)},
  };
  for (const HandCase& c : cases) {
    INFO(c.what << ": " << c.truth << " vs " << c.pred);
    REQUIRE(c.truth.size() == c.pred.size());
    const auto s = score_one(c.truth, c.pred);
    CHECK(s.exons == c.exon);
    CHECK(s.genes == c.gene);
    CHECK(s.donors == c.donor);
    CHECK(s.acceptors == c.acceptor);
  }
}

TEST_CASE("structure score: sensitivity, precision and F1 by hand", "[metrics][gene_structure]") {
  // Sn = 1/4, Pr = 1/2: F1 = 2 (1/8) / (3/4) = 1/3
  const auto c = counts(4, 2, 1);
  CHECK(c.sensitivity() == 0.25);
  CHECK(c.precision() == 0.5);
  CHECK(c.f1() == Approx(1.0 / 3.0));
  CHECK(counts(2, 1, 1).f1() == Approx(2.0 / 3.0));  // a missing exon: Sn 1/2, Pr 1
  CHECK(counts(2, 2, 2).f1() == 1.0);
  // zero denominators give 0, not NaN
  for (const auto& z : {counts(0, 0, 0), counts(0, 3, 0), counts(3, 0, 0)}) {
    CHECK(z.sensitivity() == 0.0);
    CHECK(z.precision() == 0.0);
    CHECK(z.f1() == 0.0);
  }
  // through the scorer: a boundary one base off halves exon Sn and Pr
  const auto s = score_one(kPlus, "8" "0000" "1" "222" "3" "00000" "88");
  CHECK(s.exons.sensitivity() == 0.5);
  CHECK(s.exons.precision() == 0.5);
  CHECK(s.exons.f1() == 0.5);
  CHECK(s.genes.f1() == 0.0);
}

TEST_CASE("structure score: loci are pooled, not averaged", "[metrics][gene_structure]") {
  // locus a: three single-exon genes, all found; locus b: one gene, missed.
  const std::string a = "8008008008";
  GeneStructureScore s;
  s.add(track(a), track(a));
  s.add(track("84448"), track("88888"));
  CHECK(s.exons == counts(4, 3, 3));
  CHECK(s.exons.sensitivity() == 0.75);  // the mean of the per-locus sensitivities would be 0.5
  CHECK(s.exons.precision() == 1.0);

  GeneStructureScore x, y;
  x.add(track(a), track(a));
  y.add(track("84448"), track("88888"));
  x.merge(y);
  CHECK(x == s);

  CHECK_THROWS_AS(s.add(track("888"), track("88")), ShapeError);
  CHECK_THROWS_WITH(s.add(track("888"), track("88")), Catch::Contains("3 true labels but 2 predicted"));
}

TEST_CASE("structure score: JSON", "[metrics][gene_structure]") {
  const auto s = score_one(kPlus, "8" "0000" "1" "222" "3" "00000" "88");
  const nlohmann::json j = s;
  CHECK(j["exon"]["truth"] == 2);
  CHECK(j["exon"]["found"] == 1);
  CHECK(j["exon"]["f1"] == 0.5);
  CHECK(j["gene"]["sensitivity"] == 0.0);
  CHECK(j["donor"]["precision"] == 1.0);
  CHECK(j["acceptor"]["predicted"] == 1);
  CHECK(j.get<GeneStructureScore>() == s);
}

// Independent check: gene structures drawn at random, labelled by gene_labels, scored through the
// labels; the expected counts come from the structures themselves (sets of intervals, intron ends).
namespace {
using Exon = std::tuple<char, std::int64_t, std::int64_t>;
using Site = std::pair<char, std::int64_t>;
struct Items {
  std::set<Exon> exons;
  std::set<std::vector<std::int64_t>> genes;
  std::set<Site> donors, acceptors;
};
Items items_of(const std::vector<Transcript>& ts) {
  Items it;
  for (const auto& t : ts) {
    std::vector<std::int64_t> gene = {t.strand == '+' ? 1 : -1};
    for (std::size_t k = 0; k < t.cds.size(); ++k) {
      it.exons.emplace(t.strand, t.cds[k].begin, t.cds[k].end);
      gene.push_back(t.cds[k].begin);
      gene.push_back(t.cds[k].end);
      if (k + 1 < t.cds.size()) {
        const std::int64_t left = t.cds[k].end, right = t.cds[k + 1].begin - 1;  // intron ends, inclusive
        it.donors.emplace(t.strand, t.strand == '+' ? left : right);
        it.acceptors.emplace(t.strand, t.strand == '+' ? right : left);
      }
    }
    it.genes.insert(gene);
  }
  return it;
}
template <class T>
StructureCounts expected(const std::set<T>& truth, const std::set<T>& pred) {
  std::int64_t found = 0;
  for (const auto& x : truth) found += pred.count(x);
  return counts(static_cast<std::int64_t>(truth.size()), static_cast<std::int64_t>(pred.size()), found);
}
}  // namespace

TEST_CASE("structure score: random structures against counts from the structures themselves",
          "[metrics][gene_structure]") {
  std::mt19937 rng(15);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::string seq(600, 'C');  // CCC / GGG: no stop codon, so gene_labels relabels nothing
  GeneStructureScore pooled;
  StructureCounts want_exons, want_genes, want_donors, want_acceptors;
  for (int round = 0; round < 200; ++round) {
    // truth: genes separated by noncoding gaps, 1..4 exons, introns of 1..8 nt
    std::vector<Transcript> truth, pred;
    std::int64_t p = uniform(0, 5);
    while (true) {
      Transcript t{"t", uniform(0, 1) ? '+' : '-', {}};
      const int n = uniform(1, 4);
      std::int64_t q = p;
      for (int e = 0; e < n; ++e) {
        const std::int64_t len = uniform(1, 12);
        t.cds.push_back({q, q + len});
        q += len + uniform(1, 8);
      }
      if (t.cds.back().end + 30 > static_cast<std::int64_t>(seq.size())) break;
      p = t.cds.back().end + uniform(1, 20);
      truth.push_back(t);
      // prediction: the same gene, or one changed in one way
      switch (uniform(0, 6)) {
        case 0: break;                                                   // missed
        case 1: t.strand = t.strand == '+' ? '-' : '+'; pred.push_back(t); break;
        case 2: t.cds.front().begin += t.cds.front().length() > 1 ? 1 : 0; pred.push_back(t); break;
        case 3:                                                           // one exon end shifted if room
          if (t.cds.size() > 1 && t.cds[0].end + 1 < t.cds[1].begin) ++t.cds[0].end;
          pred.push_back(t);
          break;
        case 4:                                                           // last exon dropped
          if (t.cds.size() > 1) t.cds.pop_back();
          pred.push_back(t);
          break;
        default: pred.push_back(t);
      }
    }
    const auto tl = gene_labels(Locus{"r", seq, truth}), pl = gene_labels(Locus{"r", seq, pred});
    GeneStructureScore s;
    s.add(tl, pl);
    const Items ti = items_of(truth), pi = items_of(pred);
    CHECK(s.exons == expected(ti.exons, pi.exons));
    CHECK(s.genes == expected(ti.genes, pi.genes));
    CHECK(s.donors == expected(ti.donors, pi.donors));
    CHECK(s.acceptors == expected(ti.acceptors, pi.acceptors));
    pooled.merge(s);
    want_exons.merge(expected(ti.exons, pi.exons));
    want_genes.merge(expected(ti.genes, pi.genes));
    want_donors.merge(expected(ti.donors, pi.donors));
    want_acceptors.merge(expected(ti.acceptors, pi.acceptors));
  }
  CHECK(pooled.exons == want_exons);
  CHECK(pooled.genes == want_genes);
  CHECK(pooled.donors == want_donors);
  CHECK(pooled.acceptors == want_acceptors);
  // the draw exercises every outcome
  CHECK(want_genes.found > 0);
  CHECK(want_genes.found < want_genes.truth);
  CHECK(want_donors.truth > 100);
  CHECK(want_exons.predicted != want_exons.truth);
}
