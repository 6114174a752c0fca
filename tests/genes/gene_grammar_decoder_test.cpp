#include "nucleo/genes/gene_grammar_decoder.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"

#include <catch2/catch.hpp>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace nucleo;

namespace {

// ---------------------------------------------------------------------------------------------
// An independent statement of the grammar, written from the rules (not from the decoder's states):
// split a label path into genes, splice each gene's CDS and check motifs, frame and stop codons.
bool in_strict_grammar(int a, int b) {
  static const std::vector<std::pair<int, int>> edges = {{0, 0}, {2, 2}, {4, 4}, {6, 6}, {8, 8}, {8, 0}, {0, 1}, {1, 2}, {2, 3},
                                                         {3, 0}, {0, 8}, {8, 4}, {4, 7}, {7, 6}, {6, 5}, {5, 4}, {4, 8}};
  for (auto [x, y] : edges)
    if (x == a && y == b) return true;
  return false;
}

bool is_gene_structure(const std::string& s, const std::vector<int>& y, bool gc_donors = true) {
  const int L = static_cast<int>(s.size());
  auto at = [&](int i) { return i >= 0 && i < L ? s[static_cast<std::size_t>(i)] : '?'; };
  auto sub = [&](int i, int n) {
    std::string r;
    for (int k = 0; k < n; ++k) r.push_back(at(i + k));
    return r;
  };
  for (int t = 1; t < L; ++t) {
    const int a = y[t - 1], b = y[t];
    if (!in_strict_grammar(a, b)) return false;
    auto labelled = [&](int from, int n, int k) {  // y[from..from+n) all k, inside the sequence
      for (int i = from; i < from + n; ++i)
        if (i < 0 || i >= L || y[static_cast<std::size_t>(i)] != k) return false;
      return true;
    };
    // Start and stop codons: the motif, and all three bases in one exon / in noncoding sequence.
    if (a == 8 && b == 0 && (sub(t, 3) != "ATG" || !labelled(t, 3, 0))) return false;
    if (a == 0 && b == 8 && ((sub(t, 3) != "TAA" && sub(t, 3) != "TAG" && sub(t, 3) != "TGA") || !labelled(t, 3, 8))) return false;
    if (a == 8 && b == 4 && !labelled(t - 3, 3, 8)) return false;
    if (a == 4 && b == 8 && !labelled(t - 3, 3, 4)) return false;
    if (a == 0 && b == 1 && sub(t, 2) != "GT" && !(gc_donors && sub(t, 2) == "GC")) return false;
    if (a == 2 && b == 3 && sub(t - 1, 2) != "AG") return false;
    if (a == 8 && b == 4 && sub(t - 3, 3) != "TTA" && sub(t - 3, 3) != "CTA" && sub(t - 3, 3) != "TCA") return false;
    if (a == 4 && b == 8 && sub(t - 3, 3) != "CAT") return false;
    if (a == 4 && b == 7 && sub(t, 2) != "CT") return false;
    if (a == 6 && b == 5 && sub(t - 1, 2) != "AC" && !(gc_donors && sub(t - 1, 2) == "GC")) return false;
  }
  // Genes: maximal runs of one strand's classes. Frame: exon nucleotides spliced in genomic order.
  int t = 0;
  while (t < L) {
    if (y[t] == 8) { ++t; continue; }
    const bool fwd = y[t] <= 3;
    const int b = t;
    std::string cds;
    while (t < L && y[t] != 8) {
      if (y[t] == (fwd ? 0 : 4)) cds.push_back(s[static_cast<std::size_t>(t)]);
      ++t;
    }
    const bool open_left = b == 0, open_right = t == L;
    const int n = static_cast<int>(cds.size());
    bool some_offset_ok = false;
    for (int p0 = 0; p0 < 3; ++p0) {  // codon position of the first CDS nucleotide
      if (!open_left && p0 != 0) continue;
      if (!open_right && (p0 + n) % 3 != 0) continue;
      bool ok = true;
      for (int i = (3 - p0) % 3; i + 2 < n; i += 3) {
        const std::string c = cds.substr(static_cast<std::size_t>(i), 3);
        if (fwd ? (c == "TAA" || c == "TAG" || c == "TGA") : (c == "TTA" || c == "CTA" || c == "TCA")) ok = false;
      }
      some_offset_ok |= ok;
    }
    if (!some_offset_ok) return false;
  }
  return true;
}

struct Chain {
  std::vector<double> trans = std::vector<double>(81), start = std::vector<double>(9), end = std::vector<double>(9);
};

double path_score(const Chain& c, const std::vector<double>& em, int L, const std::vector<int>& y) {
  double s = c.start[y[0]] + em[y[0] * L + 0] + c.end[y[L - 1]];
  for (int t = 1; t < L; ++t) s += c.trans[y[t - 1] * 9 + y[t]] + em[y[t] * L + t];
  return s;
}

// A random chain (transitions, start, end ~ N(0, 0.25)) and random emissions (N(0, 4)) with
// noncoding lowered by `noncoding_shift`, so that genes are worth finding.
Chain random_chain(std::mt19937& g) {
  std::normal_distribution<double> nd(0.0, 1.0);
  Chain c;
  for (auto& v : c.trans) v = 0.5 * nd(g);
  for (auto& v : c.start) v = 0.5 * nd(g);
  for (auto& v : c.end) v = 0.5 * nd(g);
  return c;
}

std::vector<double> random_emissions(std::mt19937& g, int L, double noncoding_shift) {
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<double> em(static_cast<std::size_t>(9 * L));
  for (auto& v : em) v = 2.0 * nd(g);
  for (int t = 0; t < L; ++t) em[static_cast<std::size_t>(8 * L + t)] -= noncoding_shift;
  return em;
}

// Every label path of the strict 9-class grammar (17 edges), by depth-first search.
template <class F>
void for_each_path(int L, F&& f) {
  std::vector<int> y(static_cast<std::size_t>(L));
  auto rec = [&](auto&& self, int t) -> void {
    if (t == L) return f(y);
    for (int k = 0; k < 9; ++k) {
      if (t > 0 && !in_strict_grammar(y[t - 1], k)) continue;
      y[t] = k;
      self(self, t + 1);
    }
  };
  rec(rec, 0);
}

std::vector<std::uint8_t> ids_of(const std::string& s) { return tokens::encode(s); }

// Random DNA rich in the grammar's motifs, so that genes are possible in a dozen nucleotides.
std::string motif_dna(std::mt19937& g, int L) {
  static const std::vector<std::string> parts = {"ATG", "GT", "AG", "TAA", "TGA", "CAT", "CT", "AC", "TTA", "TCA",
                                                 "GC", "A", "C", "G", "T"};
  std::string s;
  while (static_cast<int>(s.size()) < L) s += parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(g)];
  s.resize(static_cast<std::size_t>(L));
  return s;
}

}  // namespace

TEST_CASE("GeneGrammarDecoder: best path equals brute force over all grammar paths", "[losses][gene_grammar]") {
  std::mt19937 g(7);
  int with_exon = 0, with_intron = 0, minus_genes = 0;
  const CrfConstraints strict = gene_structure_constraints(false);
  for (int trial = 0; trial < 160; ++trial) {
    const int L = 9 + trial % 5;  // 9..13
    const std::string s = motif_dna(g, L);
    const Chain c = random_chain(g);
    const std::vector<double> em = random_emissions(g, L, 2.0);
    // The brute force: the best-scoring path that the independent checker accepts.
    double best = -1e300;
    std::vector<int> best_y;
    std::size_t valid_paths = 0;
    for_each_path(L, [&](const std::vector<int>& y) {
      if (!is_gene_structure(s, y)) return;
      ++valid_paths;
      const double sc = path_score(c, em, L, y);
      if (sc > best) best = sc, best_y = y;
    });
    REQUIRE(valid_paths > 0);  // all-noncoding is always one
    const GeneGrammarDecoder dec(std::span<const double>(c.trans), std::span<const double>(c.start),
                                 std::span<const double>(c.end), strict);
    const auto ids = ids_of(s);
    std::vector<std::int8_t> out(static_cast<std::size_t>(L));
    const double score = dec.decode(std::span<const std::uint8_t>(ids), std::span<const double>(em), std::span<std::int8_t>(out));
    INFO("trial " << trial << " seq " << s);
    CHECK(score == Approx(best).margin(1e-9));
    const std::vector<int> y(out.begin(), out.end());
    CHECK(is_gene_structure(s, y));
    CHECK(path_score(c, em, L, y) == Approx(best).margin(1e-9));
    CHECK_FALSE(dec.first_violation(ids, out).has_value());
    with_exon += std::count(best_y.begin(), best_y.end(), 0) + std::count(best_y.begin(), best_y.end(), 4) > 0;
    with_intron += std::count(best_y.begin(), best_y.end(), 2) + std::count(best_y.begin(), best_y.end(), 6) > 0;
    minus_genes += std::count(best_y.begin(), best_y.end(), 4) > 0;
  }
  // The brute force is not trivially all-noncoding: genes, introns and - strand genes win often.
  CHECK(with_exon > 60);
  CHECK(with_intron > 10);
  CHECK(minus_genes > 20);
}

// Genes of a label path (maximal runs of non-noncoding labels), and those that begin inside it.
int gene_runs(const std::vector<int>& y, bool inside_only) {
  int n = 0;
  for (std::size_t t = 0; t < y.size(); ++t)
    if (y[t] != 8 && (t == 0 ? !inside_only : y[t - 1] == 8)) ++n;
  return n;
}

// The decoder's best path for chain c (strict 9-class constraints) under options o.
struct Decoded {
  double score = 0;
  std::vector<int> labels;
  std::vector<std::int8_t> raw;  // the same, as the decoder writes them
};
Decoded decode_with(const Chain& c, const GeneGrammarOptions& o, const std::vector<std::uint8_t>& ids,
                    const std::vector<double>& em) {
  const GeneGrammarDecoder dec(std::span<const double>(c.trans), std::span<const double>(c.start),
                               std::span<const double>(c.end), gene_structure_constraints(false), o);
  Decoded d;
  d.raw.resize(ids.size());
  d.score = dec.decode(std::span<const std::uint8_t>(ids), std::span<const double>(em), std::span<std::int8_t>(d.raw));
  d.labels.assign(d.raw.begin(), d.raw.end());
  return d;
}

TEST_CASE("GeneGrammarDecoder: gene_penalty and one_gene equal brute force", "[losses][gene_grammar]") {
  std::mt19937 g(23);
  std::normal_distribution<double> nd(0.0, 1.0);
  int one_gene_wins = 0, penalty_changed = 0, none_fits = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const int L = 9 + (trial / 4) % 4;
    GeneGrammarOptions o;
    o.gene_penalty = trial % 3 == 0 ? 0.0 : 10.0 * std::abs(nd(g));
    o.one_gene = trial % 2 == 0;
    o.noncoding_start = o.noncoding_end = trial % 4 < 2;
    const bool closed = o.noncoding_start;
    // Room for a whole gene beginning inside (ATG, whole codons, TGA, noncoding after it), often.
    std::string s = motif_dna(g, L);
    if (trial % 8 < 6) s.replace(1, 3, "ATG").replace(static_cast<std::size_t>(4 + 3 * ((L - 8) / 3)), 3, "TGA");
    const Chain c = random_chain(g);
    const std::vector<double> em = random_emissions(g, L, 2.5);
    // Brute force: accepted paths, scored with the penalty per gene beginning inside the sequence;
    // one_gene: at most one gene, and with closed ends exactly one unless none fits.
    double best = -1e300, best_unpenalised = -1e300;
    std::vector<int> best_y, unpenalised_y;
    bool some_one = false;
    for_each_path(L, [&](const std::vector<int>& y) {
      if (!is_gene_structure(s, y)) return;
      if (closed && (y.front() != 8 || y.back() != 8)) return;
      const int genes = gene_runs(y, false);
      if (o.one_gene && genes > 1) return;
      if (o.one_gene && closed && genes == 0) return;  // considered below if no one-gene path exists
      const double raw = path_score(c, em, L, y);
      if (raw > best_unpenalised) best_unpenalised = raw, unpenalised_y = y;
      some_one = true;
      const double sc = raw - o.gene_penalty * gene_runs(y, true);
      if (sc > best) best = sc, best_y = y;
    });
    if (!some_one) {  // closed one_gene with no room for a gene: the all-noncoding path
      ++none_fits;
      best_y.assign(static_cast<std::size_t>(L), 8);
      best = path_score(c, em, L, best_y);
    }
    const auto ids = ids_of(s);
    const Decoded d = decode_with(c, o, ids, em);
    const std::vector<int>& y = d.labels;
    INFO("trial " << trial << " seq " << s << " labels " << fmt::format("{}", fmt::join(y, "")));
    CHECK(d.score == Approx(best).margin(1e-9));
    CHECK(path_score(c, em, L, y) - o.gene_penalty * gene_runs(y, true) == Approx(best).margin(1e-9));
    CHECK(is_gene_structure(s, y));
    if (o.one_gene) CHECK(gene_runs(y, false) <= 1);
    CHECK_FALSE(GeneGrammarDecoder(o).first_violation(ids, d.raw).has_value());
    one_gene_wins += o.one_gene && closed && gene_runs(y, false) == 1;
    penalty_changed += some_one && gene_runs(y, true) < gene_runs(unpenalised_y, true);  // fewer genes for it
  }
  CHECK(one_gene_wins > 10);    // closed one-gene decoding does find its gene
  CHECK(penalty_changed >= 5);  // and the penalty is not idle: it removes genes (those inside closed ends)
  CHECK(none_fits < 15);
}

// The best that deep intron stretches add to a labelled path, by brute force: for each maximal run of
// one intron class, every subset of its positions whose maximal stretches each have an ordinary
// intron nucleotide of the run before and after them, or touch an open end of the sequence; a deep
// position scores max(intron+, intron-) instead of its own class, each stretch costs `price`.
double best_deep_gain(const std::vector<double>& em, int L, const std::vector<int>& y, double price, bool open_start,
                      bool open_end) {
  double total = 0;
  for (int a = 0; a < L;) {
    const int k = y[static_cast<std::size_t>(a)];
    if (k != 2 && k != 6) { ++a; continue; }
    int b = a;
    while (b < L && y[static_cast<std::size_t>(b)] == k) ++b;
    const int n = b - a;
    double best = 0;  // no deep stretch
    for (unsigned mask = 1; mask < (1u << n); ++mask) {
      double gain = 0;
      bool ok = true;
      for (int i = 0; i < n && ok; ++i) {
        if (!(mask >> i & 1u)) continue;
        const int t = a + i;
        gain += std::max(em[static_cast<std::size_t>(2 * L + t)], em[static_cast<std::size_t>(6 * L + t)]) -
                em[static_cast<std::size_t>(k * L + t)];
        const bool first = i == 0 || !(mask >> (i - 1) & 1u), last = i == n - 1 || !(mask >> (i + 1) & 1u);
        if (first) {
          gain -= price;
          ok &= i > 0 || (t == 0 && open_start);
        }
        if (last) ok &= i < n - 1 || (t == L - 1 && open_end);
      }
      if (ok) best = std::max(best, gain);
    }
    total += best;
    a = b;
  }
  return total;
}

TEST_CASE("GeneGrammarDecoder: deep_intron_penalty equals brute force", "[losses][gene_grammar]") {
  std::mt19937 g(31);
  std::normal_distribution<double> nd(0.0, 1.0);
  int deep_used = 0, strand_kept = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const int L = 10 + trial % 3;
    GeneGrammarOptions o;
    o.deep_intron_penalty = trial % 5 == 0 ? 0.0 : 3.0 * std::abs(nd(g));
    o.noncoding_start = o.noncoding_end = trial % 4 == 0;
    o.one_gene = trial % 6 == 1;
    o.gene_penalty = trial % 7 == 2 ? 2.0 : 0.0;
    const bool closed = o.noncoding_start;
    // Room for an intron: ATG, a donor GT, intron, an AG acceptor (or a - strand CT ... AC), often.
    std::string s = motif_dna(g, L);
    if (trial % 3 == 0) s.replace(0, 6, "ATGAGT").replace(static_cast<std::size_t>(L - 4), 2, "AG");
    if (trial % 3 == 1) s.replace(1, 2, "CT").replace(static_cast<std::size_t>(L - 3), 2, "AC");
    const Chain c = random_chain(g);
    std::vector<double> em = random_emissions(g, L, 1.0);
    for (int t = 0; t < L; ++t) em[static_cast<std::size_t>(2 * L + t)] += 1.5, em[static_cast<std::size_t>(6 * L + t)] += 1.5;
    double best = -1e300;
    std::vector<int> best_y;
    bool some = false;
    for_each_path(L, [&](const std::vector<int>& y) {
      if (!is_gene_structure(s, y)) return;
      if (closed && (y.front() != 8 || y.back() != 8)) return;
      const int genes = gene_runs(y, false);
      if (o.one_gene && (genes > 1 || (closed && genes == 0))) return;
      some = true;
      const double sc = path_score(c, em, L, y) - o.gene_penalty * gene_runs(y, true) +
                        best_deep_gain(em, L, y, *o.deep_intron_penalty, !closed, !closed);
      if (sc > best) best = sc, best_y = y;
    });
    if (!some) {
      best_y.assign(static_cast<std::size_t>(L), 8);
      best = path_score(c, em, L, best_y);
    }
    const auto ids = ids_of(s);
    const Decoded d = decode_with(c, o, ids, em);
    const std::vector<int>& y = d.labels;
    INFO("trial " << trial << " seq " << s << " labels " << fmt::format("{}", fmt::join(y, "")) << " brute "
                  << fmt::format("{}", fmt::join(best_y, "")));
    CHECK(d.score == Approx(best).margin(1e-9));
    const double gain = best_deep_gain(em, L, y, *o.deep_intron_penalty, !closed, !closed);
    CHECK(path_score(c, em, L, y) - o.gene_penalty * gene_runs(y, true) + gain == Approx(best).margin(1e-9));
    CHECK(is_gene_structure(s, y));
    CHECK_FALSE(GeneGrammarDecoder(o).first_violation(ids, d.raw).has_value());
    deep_used += gain > 0;
    // A deep stretch is strand-blind in its score only: the labels keep the intron's own class.
    strand_kept += gain > 0 && std::count(y.begin(), y.end(), 2) > 0 && std::count(y.begin(), y.end(), 6) == 0;
  }
  CHECK(deep_used > 15);   // the deep states are not idle
  CHECK(strand_kept > 3);  // and + strand introns that use them stay intron+
}

TEST_CASE("GeneGrammarDecoder: options are checked", "[losses][gene_grammar]") {
  CHECK_THROWS_WITH(GeneGrammarDecoder(GeneGrammarOptions{.gene_penalty = -1.0}), Catch::Contains("gene_penalty must be >= 0, got -1"));
  CHECK_THROWS_WITH(GeneGrammarDecoder(GeneGrammarOptions{.deep_intron_penalty = -0.5}),
                    Catch::Contains("deep_intron_penalty must be >= 0, got -0.5"));
  CHECK_NOTHROW(GeneGrammarDecoder(GeneGrammarOptions{.deep_intron_penalty = 0.0}));
}

TEST_CASE("GeneGrammarDecoder: first_violation agrees with the independent checker", "[losses][gene_grammar]") {
  std::mt19937 g(11);
  const GeneGrammarDecoder dec;
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int L = 8 + trial % 4;
    const std::string s = motif_dna(g, L);
    const auto ids = ids_of(s);
    for_each_path(L, [&](const std::vector<int>& y) {
      std::vector<std::int8_t> lab(y.begin(), y.end());
      const bool ok = is_gene_structure(s, y);
      const auto v = dec.first_violation(ids, lab);
      INFO("seq " << s << " labels " << fmt::format("{}", fmt::join(y, "")));
      REQUIRE(ok == !v.has_value());
      (ok ? accepted : rejected) += 1;
    });
  }
  CHECK(accepted > 500);
  CHECK(rejected > 1000);
}

TEST_CASE("GeneGrammarDecoder: GC donors only with gc_donors", "[losses][gene_grammar]") {
  //                 0         1         2
  //                 0123456789012345678901234
  const std::string s = "CCATGAAAGCAAAAAAAGCCCTAAC";
  std::vector<std::int8_t> y(s.size(), 8);
  for (int t = 2; t <= 7; ++t) y[t] = 0;   // ATGAAA
  y[8] = 1;                                 // G of GC
  for (int t = 9; t <= 16; ++t) y[t] = 2;   // CAAAAAAA
  y[17] = 3;                                // G of AG (A at 16)
  for (int t = 18; t <= 20; ++t) y[t] = 0;  // CCC, then TAA
  const auto ids = ids_of(s);
  CHECK_FALSE(GeneGrammarDecoder().first_violation(ids, y).has_value());
  const auto v = GeneGrammarDecoder(GeneGrammarOptions{.gc_donors = false}).first_violation(ids, y);
  REQUIRE(v.has_value());
  CHECK(v->position == 8);
  CHECK(v->previous == 0);
  CHECK(v->label == 1);
  CHECK_THAT(v->to_string(), Catch::Contains("exon+ -> donor+"));
}

TEST_CASE("GeneGrammarDecoder: a spurious exon with a stop codon is refused where the CRF takes it",
          "[losses][gene_grammar]") {
  // Noncoding around a stretch whose emissions say "exon+" but which holds an in-frame TAA.
  const std::string s = "CCCCATGCCCTAACCCGGGTAGCCCCC";
  const int L = static_cast<int>(s.size());
  Tensor3<double> em(1, 9, L);
  em.setConstant(-3.0);
  for (int t = 0; t < L; ++t) em(0, 8, t) = 0.0;
  for (int t = 4; t < 19; ++t) em(0, 0, t) = 1.0;  // ATGCCCTAACCCGGG looks coding to the network
  LinearChainCRF<9, double> crf(CrfOptions{}, gene_structure_constraints(false));
  CpuContext ctx(1);
  const Labels crf_path = crf.decode(ctx, em);
  int crf_exon = 0;
  for (int t = 0; t < L; ++t) crf_exon += crf_path(0, t) == 0;
  CHECK(crf_exon == 15);  // the CRF alone takes the whole stretch as exon

  const auto dec = GeneGrammarDecoder::from_crf(crf);
  std::vector<std::int8_t> out(static_cast<std::size_t>(L));
  const auto ids = ids_of(s);
  dec.decode(std::span<const std::uint8_t>(ids), std::span<const double>(em.data(), static_cast<std::size_t>(9 * L)),
             std::span<std::int8_t>(out));
  // ATG CCC then TAA ends the ORF: the grammar keeps exactly the 6 coding nucleotides before it.
  std::vector<std::int8_t> want(static_cast<std::size_t>(L), 8);
  for (int t = 4; t < 10; ++t) want[static_cast<std::size_t>(t)] = 0;
  CHECK(out == want);
}

TEST_CASE("GeneGrammarDecoder: gene_labels of both strands satisfy the grammar, broken motifs are found",
          "[losses][gene_grammar]") {
  // + strand gene ATG|AAA CCG|gtaagt...ag|TTT GGG TAA, and its reverse complement as a - strand gene.
  const std::string plus = std::string("CCCC") + "ATGAAACCG" + "GTAAGTTTTTTTTAG" + "TTTGGG" + "TAA" + "CCCC";
  Locus fwd{"fwd", plus, {Transcript{"t", '+', {{4, 13}, {28, 34}}}}};
  Locus rev{"rev", reverse_complement(plus), {}};
  const auto n = static_cast<std::int64_t>(plus.size());
  rev.transcripts.push_back(Transcript{"t", '-', {{n - 34, n - 28}, {n - 13, n - 4}}});
  const GeneGrammarDecoder dec;
  for (const Locus* l : {&fwd, &rev}) {
    const auto y = gene_labels(*l);
    INFO(l->name);
    CHECK_FALSE(dec.first_violation(ids_of(l->sequence), y).has_value());
  }
  // A broken acceptor (AG -> AC) is found at the acceptor.
  std::string broken = plus;
  broken[27] = 'C';
  const auto y = gene_labels(fwd);
  const auto v = dec.first_violation(ids_of(broken), y);
  REQUIRE(v.has_value());
  CHECK(v->position == 27);
  // Frame: one CDS nucleotide fewer leaves the gene without whole codons before its stop.
  Locus short_gene = fwd;
  short_gene.transcripts[0].cds[1].end = 33;
  const auto ys = gene_labels(short_gene);
  CHECK(dec.first_violation(ids_of(plus), ys).has_value());
}

TEST_CASE("GeneGrammarDecoder: shapes are checked, long sequences keep precision", "[losses][gene_grammar]") {
  const GeneGrammarDecoder dec;
  std::vector<std::uint8_t> ids(5, tokens::A);
  std::vector<float> em(9 * 4);
  std::vector<std::int8_t> out(5);
  CHECK_THROWS_AS(dec.decode(std::span<const std::uint8_t>(ids), std::span<const float>(em), std::span<std::int8_t>(out)),
                  ShapeError);
  // 200,000 positions with emissions ~100: the score is the exact all-noncoding sum.
  const int L = 200000;
  std::vector<std::uint8_t> big(L, tokens::C);
  std::vector<float> e(9 * static_cast<std::size_t>(L), -1000.0f);
  for (int t = 0; t < L; ++t) e[8 * static_cast<std::size_t>(L) + t] = 100.25f;
  std::vector<std::int8_t> o(L);
  const double sc = dec.decode(std::span<const std::uint8_t>(big), std::span<const float>(e), std::span<std::int8_t>(o));
  CHECK(sc == 100.25 * L);
  CHECK(std::all_of(o.begin(), o.end(), [](std::int8_t v) { return v == 8; }));
}

TEST_CASE("GeneGrammarDecoder: noncoding_start / noncoding_end keep genes inside the sequence", "[losses][gene_grammar]") {
  // A gene cut by the left end (intron+, acceptor, exon, stop) and one cut by the right end (ATG...).
  //                      0      7  10 13   18
  const std::string s = "TTTTTAGCCCTAACCCCCATGAAACCC";
  const int L = static_cast<int>(s.size());
  const auto ids = ids_of(s);
  std::vector<float> em(static_cast<std::size_t>(9 * L), -2.0f);
  auto set = [&](int k, int b, int e, float v) { for (int t = b; t < e; ++t) em[static_cast<std::size_t>(k * L + t)] = v; };
  set(8, 0, L, 0.0f);
  set(2, 0, 6, 3.0f);    // intron+ at the left end
  set(0, 7, 10, 3.0f);   // its last exon
  set(0, 18, L, 3.0f);   // exon+ running out of the right end
  std::vector<std::int8_t> open(static_cast<std::size_t>(L)), closed(static_cast<std::size_t>(L));
  GeneGrammarDecoder().decode(std::span<const std::uint8_t>(ids), std::span<const float>(em), std::span<std::int8_t>(open));
  std::vector<std::int8_t> want(static_cast<std::size_t>(L), 8);
  for (int t = 0; t < 6; ++t) want[static_cast<std::size_t>(t)] = 2;
  want[6] = 3;
  for (int t : {7, 8, 9}) want[static_cast<std::size_t>(t)] = 0;
  for (int t = 18; t < L; ++t) want[static_cast<std::size_t>(t)] = 0;
  CHECK(open == want);  // open ends: genes may run in from outside the sequence and out of it
  const GeneGrammarDecoder closed_dec(GeneGrammarOptions{.noncoding_start = true, .noncoding_end = true});
  closed_dec.decode(std::span<const std::uint8_t>(ids), std::span<const float>(em), std::span<std::int8_t>(closed));
  CHECK(closed.front() == 8);
  CHECK(closed.back() == 8);
  CHECK_FALSE(closed_dec.first_violation(ids, closed).has_value());
  const auto v = closed_dec.first_violation(ids, open);
  REQUIRE(v.has_value());
  CHECK(v->position == 0);
  std::vector<std::int8_t> ends_in_exon(static_cast<std::size_t>(L), 8);
  for (int t = 18; t < L; ++t) ends_in_exon[static_cast<std::size_t>(t)] = 0;
  CHECK_FALSE(GeneGrammarDecoder().first_violation(ids, ends_in_exon).has_value());
  const auto w = GeneGrammarDecoder(GeneGrammarOptions{.noncoding_end = true}).first_violation(ids, ends_in_exon);
  CHECK((w.has_value() && w->position == L - 1));
}
