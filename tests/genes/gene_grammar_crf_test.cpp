// GeneGrammarCrf (genes/gene_grammar_crf.hpp) and its lattice (genes/gene_lattice.hpp):
//   - log Z, labelled log Z, NLL, Viterbi and marginals against enumeration of every lattice path;
//   - the NLL's gradient against finite differences; the batch loss against per-sequence NLLs;
//   - Viterbi against GeneGrammarDecoder (one-state chains, zero scores), an independent grammar;
//   - gene structures of both strands fit, broken ones (codons, splice sites, frame) do not;
//   - length chains (minimum intron length), GeneRunLengths and init_lengths;
//   - long sequences: log Z against a log-space forward, float S, marginals.
//   - the exact log-space fallback (scores spanning more than the scaled pass holds).
#include "nucleo/genes/gene_grammar_crf.hpp"
#include "nucleo/genes/gene_grammar_decoder.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/data/sequence_utils.hpp"
#include "nucleo/data/tokens.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

using namespace nucleo;

namespace {

using CrfD = GeneGrammarCrf<double>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr GeneGrammarCrfEnds kOpen{};
constexpr GeneGrammarCrfEnds kClosed{true, true};

std::vector<std::uint8_t> ids_of(const std::string& s) { return tokens::encode(s); }

std::string random_dna(std::mt19937& g, int L) {
  static const char bases[] = "ACGT";
  std::string s(static_cast<std::size_t>(L), 'A');
  for (auto& c : s) c = bases[std::uniform_int_distribution<int>(0, 3)(g)];
  return s;
}

// Random DNA rich in the grammar's motifs (start, stop, splice sites of both strands), so that gene
// paths exist in a few nucleotides.
std::string motif_dna(std::mt19937& g, int L, bool with_n = false) {
  static const std::vector<std::string> parts = {"ATG", "GT", "AG", "TAA", "TGA", "CAT", "CT", "AC", "TTA", "TCA",
                                                 "GC", "A", "C", "G", "T"};
  std::string s;
  while (static_cast<int>(s.size()) < L) {
    if (with_n && std::uniform_int_distribution<int>(0, 40)(g) == 0) s += "N";
    s += parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(g)];
  }
  s.resize(static_cast<std::size_t>(L));
  return s;
}

// A value in +-[0.1, 1] * scale: random and never zero.
double nonzero(std::mt19937& g, double scale) {
  std::uniform_real_distribution<double> u(0.1, 1.0);
  return (std::bernoulli_distribution(0.5)(g) ? 1.0 : -1.0) * scale * u(g);
}

template <class S>
void randomize(GeneGrammarCrf<S>& crf, std::mt19937& g, double scale = 1.0) {
  crf.visit_params([&](std::string_view, Param<S>& p) {
    for (Index i = 0; i < p.size(); ++i) p.value[i] = static_cast<S>(nonzero(g, scale));
  });
}

template <class A, class B>
void copy_params(const GeneGrammarCrf<A>& from, GeneGrammarCrf<B>& to) {
  for (Index i = 0; i < from.transitions().size(); ++i) to.transitions().value[i] = static_cast<B>(from.transitions().value[i]);
  for (Index i = 0; i < from.start().size(); ++i) to.start().value[i] = static_cast<B>(from.start().value[i]);
  for (Index i = 0; i < from.end().size(); ++i) to.end().value[i] = static_cast<B>(from.end().value[i]);
}

void zero_grads(CrfD& crf) {
  crf.visit_params([](std::string_view, Param<double>& p) { p.zero_grad(); });
}

// Emissions 9 x T row-major: N(0, sd^2), noncoding lowered by `noncoding_shift` (genes worth finding).
std::vector<double> random_emissions(std::mt19937& g, int T, double sd, double noncoding_shift) {
  std::normal_distribution<double> nd(0.0, sd);
  std::vector<double> em(static_cast<std::size_t>(9 * T));
  for (auto& v : em) v = nd(g);
  for (int t = 0; t < T; ++t) em[static_cast<std::size_t>(8 * T + t)] -= noncoding_shift;
  return em;
}

double logsumexp(const std::vector<double>& v) {
  if (v.empty()) return -kInf;
  const double m = *std::max_element(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

// ---------------------------------------------------------------------------------------------
// Brute force: every hidden-state path of the lattice, by depth-first search over its edges.
struct BrutePath {
  double score;
  std::vector<std::int8_t> y;  // the path's 9-class labels
};

std::vector<BrutePath> all_paths(const CrfD& crf, const std::vector<std::uint8_t>& ids, const std::vector<double>& em,
                                 GeneGrammarCrfEnds ends) {
  const GeneLattice& lat = crf.lattice();
  const int T = static_cast<int>(ids.size()), NS = lat.num_states();
  std::vector<std::vector<std::vector<std::pair<int, int>>>> next(
      static_cast<std::size_t>(T), std::vector<std::vector<std::pair<int, int>>>(static_cast<std::size_t>(NS)));
  for (int t = 1; t < T; ++t)
    for (const auto& e : lat.edges(GeneLattice::context(ids, t)))
      next[static_cast<std::size_t>(t)][e.from].push_back({e.to, e.kind});
  auto w = [&](int kind) { return kind < 0 ? 0.0 : crf.transitions().value[kind]; };
  auto emit = [&](int s, int t) { return em[static_cast<std::size_t>(lat.label(s) * T + t)]; };
  std::vector<int> h(static_cast<std::size_t>(T));
  std::vector<BrutePath> out;
  auto rec = [&](auto&& self, int t, double sc) -> void {
    if (t == T) {
      const int last = h[static_cast<std::size_t>(T - 1)];
      if (!lat.can_end(last, ends.intergenic_end)) return;
      BrutePath p{sc + crf.end().value[lat.label(last)], std::vector<std::int8_t>(static_cast<std::size_t>(T))};
      for (int i = 0; i < T; ++i) p.y[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(lat.label(h[static_cast<std::size_t>(i)]));
      out.push_back(std::move(p));
      return;
    }
    for (auto [to, kind] : next[static_cast<std::size_t>(t)][static_cast<std::size_t>(h[static_cast<std::size_t>(t - 1)])]) {
      h[static_cast<std::size_t>(t)] = to;
      self(self, t + 1, sc + w(kind) + emit(to, t));
    }
  };
  for (int s = 0; s < NS; ++s) {
    if (!lat.can_start(s, ids, ends.intergenic_start)) continue;
    h[0] = s;
    rec(rec, 1, crf.start().value[lat.label(s)] + emit(s, 0));
  }
  return out;
}

bool agrees(const std::vector<std::int8_t>& y, const std::vector<std::int32_t>& labels) {
  for (std::size_t t = 0; t < y.size(); ++t)
    if (labels[t] >= 0 && labels[t] != y[t]) return false;
  return true;
}

std::string str(const std::vector<std::int8_t>& y) { return fmt::format("{}", fmt::join(y, "")); }
std::string str(const std::vector<std::int32_t>& y) { return fmt::format("{}", fmt::join(y, ",")); }

// ---------------------------------------------------------------------------------------------
// Synthetic genes: flank + ATG + codons (+ a split codon) + GT...AG intron + codons + stop + flank.
struct Gene {
  std::string seq;
  std::vector<std::int8_t> y;
};

std::string sense_codon(std::mt19937& g) {  // any codon but TAA, TAG, TGA
  for (;;) {
    const std::string c = random_dna(g, 3);
    if (c != "TAA" && c != "TAG" && c != "TGA") return c;
  }
}

Gene plus_gene(std::mt19937& g, int left, int codons1, int intron_mid, int codons2, int right) {
  Gene gene;
  auto add = [&](const std::string& s, int label) {
    gene.seq += s;
    gene.y.insert(gene.y.end(), s.size(), static_cast<std::int8_t>(label));
  };
  add(random_dna(g, left), gene_noncoding);
  std::string cds1 = "ATG";
  for (int i = 0; i < codons1; ++i) cds1 += sense_codon(g);
  const int split = std::uniform_int_distribution<int>(0, 2)(g);  // bases of a codon before the intron
  const std::string spliced = sense_codon(g);
  cds1 += spliced.substr(0, static_cast<std::size_t>(split));
  add(cds1, gene_exon_fwd);
  add("G", gene_donor_fwd);
  std::string body = random_dna(g, intron_mid + 2);  // T ... A: after the donor's G, before the acceptor's G
  body.front() = 'T';
  body.back() = 'A';
  add(body, gene_intron_fwd);
  add("G", gene_acceptor_fwd);
  std::string cds2 = spliced.substr(static_cast<std::size_t>(split));
  for (int i = 0; i < codons2; ++i) cds2 += sense_codon(g);
  add(cds2, gene_exon_fwd);
  static const char* stops[] = {"TAA", "TAG", "TGA"};
  add(stops[std::uniform_int_distribution<int>(0, 2)(g)], gene_noncoding);
  add(random_dna(g, right), gene_noncoding);
  return gene;
}

std::int8_t to_minus(std::int8_t y) {
  switch (y) {
    case gene_exon_fwd: return gene_exon_rev;
    case gene_donor_fwd: return gene_donor_rev;
    case gene_intron_fwd: return gene_intron_rev;
    case gene_acceptor_fwd: return gene_acceptor_rev;
    default: return y;
  }
}

// The same gene on the - strand: the reverse complement, labels mirrored.
Gene minus_of(const Gene& p) {
  Gene m{reverse_complement(p.seq), std::vector<std::int8_t>(p.y.size())};
  for (std::size_t i = 0; i < p.y.size(); ++i) m.y[i] = to_minus(p.y[p.y.size() - 1 - i]);
  return m;
}

std::vector<std::int32_t> as_int32(const std::vector<std::int8_t>& y) { return std::vector<std::int32_t>(y.begin(), y.end()); }

// Emissions that favour labels y: noise + `bias` on the label's class.
std::vector<double> emissions_for(std::mt19937& g, const std::vector<std::int8_t>& y, double sd, double bias) {
  const int T = static_cast<int>(y.size());
  std::vector<double> em = random_emissions(g, T, sd, 0.0);
  for (int t = 0; t < T; ++t) em[static_cast<std::size_t>(y[static_cast<std::size_t>(t)] * T + t)] += bias;
  return em;
}

// An independent log-space forward over the lattice (log-sum-exp per state, no scaling): log Z,
// or with labels the log-sum over the agreeing paths.
template <class S, class E>
double logspace_log_z(const GeneGrammarCrf<S>& crf, const std::vector<std::uint8_t>& ids, const std::vector<E>& em,
                      const std::vector<std::int32_t>* labels, GeneGrammarCrfEnds ends) {
  const GeneLattice& lat = crf.lattice();
  const int NS = lat.num_states();
  const std::size_t T = ids.size();
  auto lae = [](double a, double b) {
    if (a == -kInf) return b;
    if (b == -kInf) return a;
    const double m = std::max(a, b);
    return m + std::log(std::exp(a - m) + std::exp(b - m));
  };
  auto ok = [&](int s, std::size_t t) { return !labels || (*labels)[t] < 0 || (*labels)[t] == lat.label(s); };
  auto e = [&](int s, std::size_t t) { return static_cast<double>(em[static_cast<std::size_t>(lat.label(s)) * T + t]); };
  std::vector<double> v(static_cast<std::size_t>(NS), -kInf), nv(static_cast<std::size_t>(NS));
  for (int s = 0; s < NS; ++s)
    if (lat.can_start(s, ids, ends.intergenic_start) && ok(s, 0)) v[static_cast<std::size_t>(s)] = crf.start().value[lat.label(s)] + e(s, 0);
  for (std::size_t t = 1; t < T; ++t) {
    std::fill(nv.begin(), nv.end(), -kInf);
    for (const auto& ed : lat.edges(GeneLattice::context(ids, static_cast<Index>(t))))
      if (ok(ed.to, t)) nv[ed.to] = lae(nv[ed.to], v[ed.from] + (ed.kind < 0 ? 0.0 : static_cast<double>(crf.transitions().value[ed.kind])));
    for (int s = 0; s < NS; ++s)
      if (nv[static_cast<std::size_t>(s)] > -kInf) nv[static_cast<std::size_t>(s)] += e(s, t);
    v.swap(nv);
  }
  double z = -kInf;
  for (int s = 0; s < NS; ++s)
    if (lat.can_end(s, ends.intergenic_end)) z = lae(z, v[static_cast<std::size_t>(s)] + crf.end().value[lat.label(s)]);
  return z;
}

std::vector<std::int8_t> decode_of(const CrfD& crf, const std::vector<std::uint8_t>& ids, const std::vector<double>& em,
                                   GeneGrammarCrfEnds ends, double* score = nullptr) {
  std::vector<std::int8_t> out(ids.size());
  const double s = crf.decode(std::span<const std::uint8_t>(ids), std::span<const double>(em), std::span<std::int8_t>(out), ends);
  if (score) *score = s;
  return out;
}

}  // namespace

// =============================================================================================
// 1. Brute force over every hidden-state path.
TEST_CASE("GeneGrammarCrf: log Z, labelled log Z, Viterbi and marginals equal enumeration of all lattice paths",
          "[gene_grammar_crf]") {
  std::mt19937 g(1234);
  int gene_best = 0, intron_trials = 0, minus_best = 0, some_label_path_none = 0, trials = 0;
  std::size_t max_paths = 0;
  for (int trial = 0; trial < 192; ++trial) {
    GeneGrammarCrfOptions o;
    o.intron_states = 1 + trial % 2;
    o.intergenic_states = 1 + (trial / 2) % 2;
    const GeneGrammarCrfEnds ends = (trial / 4) % 2 ? kClosed : kOpen;
    const int T = 5 + (trial / 8) % 4;  // 5..8
    std::string s = trial % 3 == 0 ? random_dna(g, T) : motif_dna(g, T);
    if (trial % 6 == 1 && T >= 6) s.replace(static_cast<std::size_t>(T - 6), 6, "ATGTAA");  // a whole 1-codon gene
    if (trial % 6 == 3 && T >= 6) s.replace(0, 6, "TTACAT");  // a whole 1-codon - strand gene
    if (trial % 6 == 4) s.replace(0, 4, "AGTA");             // donor GT, then an AG
    CrfD crf(o);
    randomize(crf, g);
    const auto ids = ids_of(s);
    const std::vector<double> em = random_emissions(g, T, 1.5, 1.0);
    const std::vector<BrutePath> paths = all_paths(crf, ids, em, ends);
    INFO("trial " << trial << " seq " << s << " ki " << o.intron_states << " kn " << o.intergenic_states << " closed "
                  << ends.intergenic_start);
    REQUIRE(!paths.empty());  // all-intergenic is always one
    max_paths = std::max(max_paths, paths.size());
    ++trials;

    // log Z.
    std::vector<double> scores;
    for (const auto& p : paths) scores.push_back(p.score);
    const double logz = logsumexp(scores);
    CHECK(crf.log_partition(ids, em, {}, ends) == Approx(logz).epsilon(1e-12).margin(1e-10));

    // Viterbi: score and labels of the best path.
    std::size_t best = 0;
    for (std::size_t i = 1; i < paths.size(); ++i)
      if (paths[i].score > paths[best].score) best = i;
    double vs = 0;
    const auto vy = decode_of(crf, ids, em, ends, &vs);
    CHECK(vs == Approx(paths[best].score).epsilon(1e-12).margin(1e-10));
    CHECK(str(vy) == str(paths[best].y));
    gene_best += std::count_if(vy.begin(), vy.end(), [](std::int8_t v) { return v != gene_noncoding; }) > 0;
    minus_best += std::count(vy.begin(), vy.end(), gene_exon_rev) > 0;

    // Marginals: posterior of each class at each position.
    std::vector<double> want(static_cast<std::size_t>(9 * T), 0.0);
    for (const auto& p : paths)
      for (int t = 0; t < T; ++t) want[static_cast<std::size_t>(p.y[static_cast<std::size_t>(t)] * T + t)] += std::exp(p.score - logz);
    std::vector<double> marg(static_cast<std::size_t>(9 * T), -1.0);
    crf.marginals(ids, em, std::span<double>(marg), ends);
    for (std::size_t i = 0; i < marg.size(); ++i) CHECK(marg[i] == Approx(want[i]).margin(1e-10));
    intron_trials += std::any_of(paths.begin(), paths.end(), [](const BrutePath& p) {
      return std::count(p.y.begin(), p.y.end(), gene_intron_fwd) + std::count(p.y.begin(), p.y.end(), gene_intron_rev) > 0;
    });

    // Labelled log Z: labels of a random path, half of them hidden; and random labels (often no path).
    for (int variant = 0; variant < 3; ++variant) {
      std::vector<std::int32_t> labels(static_cast<std::size_t>(T), -1);
      if (variant < 2) {
        const auto& p = paths[std::uniform_int_distribution<std::size_t>(0, paths.size() - 1)(g)];
        for (int t = 0; t < T; ++t)
          if (variant == 0 || std::bernoulli_distribution(0.5)(g)) labels[static_cast<std::size_t>(t)] = p.y[static_cast<std::size_t>(t)];
      } else {
        for (auto& l : labels) l = std::bernoulli_distribution(0.4)(g) ? -1 : std::uniform_int_distribution<int>(0, 8)(g);
      }
      std::vector<double> gold;
      for (const auto& p : paths)
        if (agrees(p.y, labels)) gold.push_back(p.score);
      INFO("labels " << str(labels));
      const double lp = crf.log_partition(ids, em, labels, ends);
      const auto nll = crf.nll(ids, em, labels, ends);
      if (gold.empty()) {
        ++some_label_path_none;
        CHECK(lp == -kInf);
        CHECK_FALSE(nll.has_value());
      } else {
        CHECK(lp == Approx(logsumexp(gold)).epsilon(1e-12).margin(1e-10));
        REQUIRE(nll.has_value());
        CHECK(*nll == Approx(logz - logsumexp(gold)).epsilon(1e-10).margin(1e-10));
      }
    }
  }
  INFO("largest enumeration: " << max_paths << " paths");
  CHECK(trials == 192);
  CHECK(gene_best > 60);             // the best path often holds a gene
  CHECK(minus_best > 15);            // on the - strand too
  CHECK(intron_trials > 60);         // and the enumerations hold introns
  CHECK(some_label_path_none > 40);  // random labels often fit no path: the -inf case is exercised
}

// =============================================================================================
// 2. Finite differences of nll() against its analytic gradient.
namespace {
// The central difference of crf.nll in `v` (an emission or parameter the NLL reads) against
// `analytic`, within 1e-6 relative; returns the numeric derivative.
double check_nll_derivative(CrfD& crf, const std::vector<std::uint8_t>& ids, const std::vector<double>& em,
                            const std::vector<std::int32_t>& labels, GeneGrammarCrfEnds ends, double analytic,
                            double& v, const std::string& where) {
  const double eps = 1e-5, keep = v;
  v = keep + eps;
  const double fp = *crf.nll(ids, em, labels, ends);
  v = keep - eps;
  const double fm = *crf.nll(ids, em, labels, ends);
  v = keep;
  const double numeric = (fp - fm) / (2 * eps);
  INFO(where << ": analytic " << analytic << " numeric " << numeric);
  CHECK(std::abs(analytic - numeric) <= 1e-6 * std::max(1.0, std::abs(numeric)));
  return numeric;
}
}  // namespace

TEST_CASE("GeneGrammarCrf: nll gradient matches finite differences (emissions, transitions, start, end)",
          "[gene_grammar_crf]") {
  std::mt19937 g(77);
  for (int trial = 0; trial < 4; ++trial) {
    const GeneGrammarCrfEnds ends = trial % 2 ? kClosed : kOpen;
    CrfD crf(GeneGrammarCrfOptions{3, 2, true});
    randomize(crf, g, 0.5);
    // A gene (+ or - strand) in a motif-rich flank; labels: the Viterbi path of emissions that
    // favour it (so they fit the grammar), partly hidden.
    Gene gene = plus_gene(g, 3 + trial, 2, 6, 2, 4);
    if (trial >= 2) gene = minus_of(gene);
    const std::string s = motif_dna(g, 8) + gene.seq + motif_dna(g, 6);
    std::vector<std::int8_t> truth(s.size(), gene_noncoding);
    std::copy(gene.y.begin(), gene.y.end(), truth.begin() + 8);
    const int T = static_cast<int>(s.size());
    const auto ids = ids_of(s);
    const auto guide = decode_of(crf, ids, emissions_for(g, truth, 0.5, 4.0), ends);
    std::vector<std::int32_t> labels = as_int32(guide);
    for (auto& l : labels)
      if (std::bernoulli_distribution(0.5)(g)) l = -1;
    INFO("trial " << trial << " T " << T << " seq " << s << " labels " << str(guide));
    REQUIRE(T >= 40);
    REQUIRE(T <= 60);
    REQUIRE(std::count_if(guide.begin(), guide.end(), [](std::int8_t v) { return v != gene_noncoding; }) > 10);
    REQUIRE(std::count_if(guide.begin(), guide.end(), [](std::int8_t v) { return v == gene_intron_fwd || v == gene_intron_rev; }) > 3);

    std::vector<double> em = random_emissions(g, T, 0.4, 0.3);  // soft posteriors: gradients not just 0 / +-1
    zero_grads(crf);
    std::vector<double> d(em.size(), 0.25);  // nll ADDS to it
    const auto f0 = crf.nll(ids, em, labels, ends, std::span<double>(d));
    REQUIRE(f0.has_value());
    CHECK(*f0 > 0);
    for (auto& v : d) v -= 0.25;
    // The scale multiplies every gradient.
    {
      std::vector<double> d2(em.size(), 0.0);
      CrfD other(crf.options());
      copy_params(crf, other);
      CHECK(*other.nll(ids, em, labels, ends, std::span<double>(d2), -2.5) == Approx(*f0).epsilon(1e-12));
      for (std::size_t i = 0; i < d.size(); ++i) CHECK(d2[i] == Approx(-2.5 * d[i]).margin(1e-12));
      for (Index i = 0; i < crf.transitions().size(); ++i)
        CHECK(other.transitions().grad[i] == Approx(-2.5 * crf.transitions().grad[i]).margin(1e-12));
    }

    int checked = 0, nonzero_grads = 0;
    auto check = [&](double analytic, double& v, const std::string& where) {
      const double numeric = check_nll_derivative(crf, ids, em, labels, ends, analytic, v, where);
      ++checked;
      nonzero_grads += std::abs(numeric) > 1e-3;
    };
    for (std::size_t i = 0; i < em.size(); ++i)
      check(d[i], em[i], fmt::format("emission class {} position {}", i / static_cast<std::size_t>(T), i % static_cast<std::size_t>(T)));
    const auto& names = crf.kind_names();
    for (Index i = 0; i < crf.transitions().size(); ++i)
      check(crf.transitions().grad[i], crf.transitions().value[i], "transition " + names[static_cast<std::size_t>(i)]);
    for (Index i = 0; i < 9; ++i) check(crf.start().grad[i], crf.start().value[i], fmt::format("start {}", i));
    for (Index i = 0; i < 9; ++i) check(crf.end().grad[i], crf.end().value[i], fmt::format("end {}", i));
    CHECK(checked == 9 * T + crf.num_kinds() + 18);
    CHECK(nonzero_grads > 30);  // not a vacuous comparison of zeros (classes a position cannot take have 0)
  }
}

// =============================================================================================
// 3. With one state per chain and zero scores, Viterbi is GeneGrammarDecoder's.
TEST_CASE("GeneGrammarCrf: with one-state chains and zero scores, decode equals GeneGrammarDecoder",
          "[gene_grammar_crf]") {
  std::mt19937 g(4321);
  int with_gene = 0, with_intron = 0, with_minus = 0, gene_found = 0, gene_trials = 0;
  for (int trial = 0; trial < 320; ++trial) {
    const bool closed = trial % 2 == 1;
    const bool gc = trial % 7 != 3;
    GeneGrammarCrfOptions co{1, 1, gc};
    CrfD crf(co);  // every parameter 0
    GeneGrammarOptions o;
    o.gc_donors = gc;
    o.noncoding_start = o.noncoding_end = closed;
    const GeneGrammarCrfEnds ends{closed, closed};

    std::string s;
    std::vector<double> em;
    std::vector<std::int8_t> truth;
    const int kind = trial % 4;
    if (kind < 2) {  // random sequences, random emissions
      const int T = std::uniform_int_distribution<int>(20, 200)(g);
      s = kind == 0 ? random_dna(g, T) : motif_dna(g, T, true);
      em = random_emissions(g, T, 2.0, 1.5);
    } else {  // a real-looking gene (and its reverse complement), emissions that favour it
      Gene gene = plus_gene(g, std::uniform_int_distribution<int>(3, 30)(g), std::uniform_int_distribution<int>(2, 12)(g),
                            std::uniform_int_distribution<int>(2, 40)(g), std::uniform_int_distribution<int>(1, 12)(g),
                            std::uniform_int_distribution<int>(3, 30)(g));
      if (kind == 3) gene = minus_of(gene);
      s = gene.seq;
      truth = gene.y;
      em = emissions_for(g, truth, 1.0, trial % 8 < 4 ? 3.0 : 1.0);
      ++gene_trials;
    }
    const auto ids = ids_of(s);
    const int T = static_cast<int>(s.size());
    double crf_score = 0;
    const auto y = decode_of(crf, ids, em, ends, &crf_score);
    std::vector<std::int8_t> ref(static_cast<std::size_t>(T));
    const double ref_score = GeneGrammarDecoder(o).decode(std::span<const std::uint8_t>(ids), std::span<const double>(em),
                                                          std::span<std::int8_t>(ref));
    INFO("trial " << trial << " T " << T << " closed " << closed << " gc " << gc << " seq " << s);
    CHECK(crf_score == Approx(ref_score).epsilon(1e-12).margin(1e-6));
    CHECK(str(y) == str(ref));
    with_gene += std::count_if(y.begin(), y.end(), [](std::int8_t v) { return v != gene_noncoding; }) > 0;
    with_intron += std::count(y.begin(), y.end(), gene_intron_fwd) + std::count(y.begin(), y.end(), gene_intron_rev) > 0;
    with_minus += std::count(y.begin(), y.end(), gene_exon_rev) > 0;
    if (!truth.empty()) gene_found += y == truth;
  }
  CHECK(with_gene > 200);
  CHECK(with_intron > 60);
  CHECK(with_minus > 60);
  CHECK(gene_found > gene_trials / 3);  // strong emissions recover the planted gene exactly
}

// =============================================================================================
// 4. Gene structures of both strands fit; broken ones do not.
TEST_CASE("GeneGrammarCrf: true gene structures of both strands fit, broken codons and splice sites give -inf",
          "[gene_grammar_crf]") {
  // + strand: CCCC | ATG AAA CCG | GTAAGTTTTTTTTAG | TTT GGG | TAA | CCCC
  const std::string plus = std::string("CCCC") + "ATGAAACCG" + "GTAAGTTTTTTTTAG" + "TTTGGG" + "TAA" + "CCCC";
  const int n = static_cast<int>(plus.size());
  std::vector<std::int8_t> y(static_cast<std::size_t>(n), gene_noncoding);
  for (int t = 4; t <= 12; ++t) y[static_cast<std::size_t>(t)] = gene_exon_fwd;
  y[13] = gene_donor_fwd;
  for (int t = 14; t <= 26; ++t) y[static_cast<std::size_t>(t)] = gene_intron_fwd;
  y[27] = gene_acceptor_fwd;
  for (int t = 28; t <= 33; ++t) y[static_cast<std::size_t>(t)] = gene_exon_fwd;
  const Gene fwd{plus, y};
  const Gene rev = minus_of(fwd);
  // The hand-made tracks are the data set's (gene_labels) for this gene on either strand.
  REQUIRE(gene_labels(Locus{"fwd", plus, {Transcript{"t", '+', {{4, 13}, {28, 34}}}}}) == fwd.y);
  REQUIRE(gene_labels(Locus{"rev", rev.seq, {Transcript{"t", '-', {{n - 34, n - 28}, {n - 13, n - 4}}}}}) == rev.y);

  std::mt19937 g(9);
  CrfD crf;  // 3 intron states, 2 intergenic, GC donors
  randomize(crf, g);
  CrfD no_gc(GeneGrammarCrfOptions{3, 2, false});
  copy_params(crf, no_gc);
  // A point mutation given in + strand coordinates: base c at position p of the + strand gene, or
  // its complement at the mirrored position of the - strand gene.
  auto mutate = [&](const Gene& gene, bool minus, int p, char c) {
    Gene m = gene;
    if (!minus) {
      m.seq[static_cast<std::size_t>(p)] = c;
    } else {
      m.seq[static_cast<std::size_t>(n - 1 - p)] = reverse_complement(std::string(1, c))[0];
    }
    return m;
  };
  for (const bool minus : {false, true}) {
    const Gene& gene = minus ? rev : fwd;
    INFO((minus ? "- strand " : "+ strand ") << gene.seq << " " << str(gene.y));
    const std::vector<double> em = random_emissions(g, n, 1.0, 0.0);
    const auto labels = as_int32(gene.y);
    auto lp = [&](const CrfD& c, const Gene& m, GeneGrammarCrfEnds ends) {
      return c.log_partition(ids_of(m.seq), em, as_int32(m.y), ends);
    };
    for (const auto ends : {kOpen, kClosed}) {
      const double gold = lp(crf, gene, ends);
      CHECK(std::isfinite(gold));
      CHECK(gold <= crf.log_partition(ids_of(gene.seq), em, {}, ends) + 1e-9);
      const auto nll = crf.nll(ids_of(gene.seq), em, labels, ends);
      REQUIRE(nll.has_value());
      CHECK(*nll > 0);
    }
    // Half the labels hidden still fits.
    std::vector<std::int32_t> partial = labels;
    for (std::size_t t = 0; t < partial.size(); t += 2) partial[t] = -100;
    CHECK(std::isfinite(crf.log_partition(ids_of(gene.seq), em, partial)));

    // An in-frame TAA inside the first exon (AAA -> TAA at 7..9): no path.
    const Gene stop_in_frame = mutate(gene, minus, 7, 'T');
    CHECK(lp(crf, stop_in_frame, kOpen) == -kInf);
    CHECK_FALSE(crf.nll(ids_of(stop_in_frame.seq), em, labels).has_value());
    // The same TAA out of frame (at 8..10: the codons become ATA, ACG): fits.
    Gene off_frame = mutate(mutate(gene, minus, 8, 'T'), minus, 10, 'A');
    CHECK(std::isfinite(lp(crf, off_frame, kOpen)));
    // The intron starts with GA instead of GT: no path, with or without GC donors.
    const Gene ga = mutate(gene, minus, 14, 'A');
    CHECK(lp(crf, ga, kOpen) == -kInf);
    CHECK(lp(no_gc, ga, kOpen) == -kInf);
    CHECK_FALSE(crf.nll(ids_of(ga.seq), em, labels).has_value());
    // GC: a donor only with gc_donors.
    const Gene gcd = mutate(gene, minus, 14, 'C');
    CHECK(std::isfinite(lp(crf, gcd, kOpen)));
    CHECK(lp(no_gc, gcd, kOpen) == -kInf);
    // The acceptor's AG -> GG: no path.
    CHECK(lp(crf, mutate(gene, minus, 26, 'G'), kOpen) == -kInf);
    // No ATG (ATG -> ACG): noncoding then exon needs a start codon, so no path.
    CHECK(lp(crf, mutate(gene, minus, 5, 'C'), kOpen) == -kInf);
    // The stop codon TAA -> TAC: the exon cannot end there.
    CHECK(lp(crf, mutate(gene, minus, 36, 'C'), kOpen) == -kInf);
    // Frame: one exon nucleotide relabelled noncoding before the stop (exon length 14, not 15).
    Gene short_exon = gene;
    short_exon.y[static_cast<std::size_t>(minus ? n - 1 - 33 : 33)] = gene_noncoding;
    CHECK(lp(crf, short_exon, kOpen) == -kInf);
    // A gene cut by the end of the sequence fits with an open end only.
    Gene cut{gene.seq.substr(0, 20), std::vector<std::int8_t>(gene.y.begin(), gene.y.begin() + 20)};
    const bool cut_has_gene = std::count(cut.y.begin(), cut.y.end(), gene_noncoding) < 20;
    REQUIRE(cut_has_gene);
    std::vector<double> em_cut(em.begin(), em.begin() + 9 * 20);
    for (int k = 0; k < 9; ++k)
      for (int t = 0; t < 20; ++t) em_cut[static_cast<std::size_t>(k * 20 + t)] = em[static_cast<std::size_t>(k * n + t)];
    CHECK(std::isfinite(crf.log_partition(ids_of(cut.seq), em_cut, as_int32(cut.y), kOpen)));
    CHECK(crf.log_partition(ids_of(cut.seq), em_cut, as_int32(cut.y), kClosed) == -kInf);
  }

  // The spliced codon across the intron: ATG AAA T|gt...ag|CA GGG TTT TAA is whole codons (TCA);
  // with AA after the intron the spliced codon is TAA, an in-frame stop.
  auto split_gene = [](const std::string& after) {
    Gene gene;
    auto add = [&](const std::string& s, int label) {
      gene.seq += s;
      gene.y.insert(gene.y.end(), s.size(), static_cast<std::int8_t>(label));
    };
    add("CCCC", gene_noncoding);
    add("ATGAAAT", gene_exon_fwd);
    add("G", gene_donor_fwd);
    add("TAAGTTTTTTTTA", gene_intron_fwd);
    add("G", gene_acceptor_fwd);
    add(after + "GGGTTT", gene_exon_fwd);
    add("TAACCCC", gene_noncoding);
    return gene;
  };
  for (const bool minus : {false, true}) {
    const Gene ok = minus ? minus_of(split_gene("CA")) : split_gene("CA");
    const Gene bad = minus ? minus_of(split_gene("AA")) : split_gene("AA");
    const std::vector<double> em = random_emissions(g, static_cast<int>(ok.seq.size()), 1.0, 0.0);
    INFO((minus ? "- strand " : "+ strand ") << ok.seq << " / " << bad.seq);
    CHECK(std::isfinite(crf.log_partition(ids_of(ok.seq), em, as_int32(ok.y), kClosed)));
    CHECK(crf.log_partition(ids_of(bad.seq), em, as_int32(bad.y), kClosed) == -kInf);
    CHECK_FALSE(crf.nll(ids_of(bad.seq), em, as_int32(bad.y), kClosed).has_value());
  }
}

// =============================================================================================
// 5. The batch loss.
namespace {
struct BatchCase {
  Tensor3<double> tokens, em;
  Labels y;
  std::vector<Index> lengths;
  std::vector<std::vector<std::uint8_t>> ids;        // per sequence, valid part
  std::vector<std::vector<double>> ems;              // 9 x T_b
  std::vector<std::vector<std::int32_t>> labels;     // valid part
};

BatchCase make_batch(std::mt19937& g, const std::vector<Index>& lengths, Index L) {
  const Index B = static_cast<Index>(lengths.size());
  BatchCase c;
  c.lengths = lengths;
  c.tokens.resize(B, 1, L);
  c.em.resize(B, 9, L);
  c.y.resize(B, L);
  std::normal_distribution<double> nd(0.0, 1.5);
  for (Index b = 0; b < B; ++b) {
    const Index T = lengths[static_cast<std::size_t>(b)];
    // Sequence b: a gene (b even: + strand, else -), cut or padded to L; labels partly hidden.
    Gene gene = plus_gene(g, 5, 4, 8, 4, 30);
    if (b % 2) gene = minus_of(gene);
    std::string s = gene.seq + motif_dna(g, static_cast<int>(L));
    std::vector<std::int8_t> truth = gene.y;
    truth.resize(s.size(), gene_noncoding);
    for (Index t = 0; t < L; ++t) {
      c.tokens(b, 0, t) = tokens::encode(s[static_cast<std::size_t>(t)]);
      for (int k = 0; k < 9; ++k) c.em(b, k, t) = nd(g);
      // Beyond the valid length: labels that would fit no path if they were read.
      c.y(b, t) = t < T ? (std::bernoulli_distribution(0.4)(g) ? ignore_index : truth[static_cast<std::size_t>(t)]) : gene_donor_fwd;
    }
    std::vector<std::uint8_t> ids(static_cast<std::size_t>(T));
    std::vector<double> em(static_cast<std::size_t>(9 * T));
    std::vector<std::int32_t> lab(static_cast<std::size_t>(T));
    for (Index t = 0; t < T; ++t) {
      ids[static_cast<std::size_t>(t)] = static_cast<std::uint8_t>(c.tokens(b, 0, t));
      for (int k = 0; k < 9; ++k) em[static_cast<std::size_t>(k * T + t)] = c.em(b, k, t);
      lab[static_cast<std::size_t>(t)] = c.y(b, t);
    }
    c.ids.push_back(ids);
    c.ems.push_back(em);
    c.labels.push_back(lab);
  }
  return c;
}

void set_labels(BatchCase& c, Index b, const std::vector<std::int32_t>& lab) {
  c.labels[static_cast<std::size_t>(b)] = lab;
  for (std::size_t t = 0; t < lab.size(); ++t) c.y(b, static_cast<Index>(t)) = lab[t];
}
}  // namespace

TEST_CASE("GeneGrammarCrf: batch value_and_grad is the per-sequence NLL sum over observed labels, unfit sequences skipped",
          "[gene_grammar_crf]") {
  std::mt19937 g(31);
  const Index L = 64;
  BatchCase c = make_batch(g, {64, 45, 50, 30, 57}, L);
  const Index B = 5;
  // Sequence 2: two donors in a row (a donor is one nucleotide): no path fits.
  {
    std::vector<std::int32_t> lab(50, ignore_index);
    lab[20] = gene_donor_fwd;
    lab[21] = gene_donor_fwd;
    set_labels(c, 2, lab);
  }
  // Sequence 3: nothing observed: fits, adds nothing.
  set_labels(c, 3, std::vector<std::int32_t>(30, ignore_index));

  CpuContext ctx(2);
  ctx.set_lengths(c.lengths);
  for (const Reduction red : {Reduction::mean, Reduction::sum, Reduction::mean_sequences}) {
    INFO("reduction " << reduction_name(red));
    GeneGrammarCrfOptions o;
    o.reduction = red;
    CrfD crf(o);
    std::mt19937 pg(17);
    randomize(crf, pg);

    // Expected, from nll() per sequence.
    double total = 0;
    Index observed = 0, seqs = 0;
    std::vector<bool> fit(static_cast<std::size_t>(B));
    for (Index b = 0; b < B; ++b) {
      const auto& lab = c.labels[static_cast<std::size_t>(b)];
      const auto r = crf.nll(c.ids[static_cast<std::size_t>(b)], c.ems[static_cast<std::size_t>(b)], lab);
      const Index obs = std::count_if(lab.begin(), lab.end(), [](std::int32_t v) { return v >= 0; });
      fit[static_cast<std::size_t>(b)] = r.has_value();
      if (!r) continue;
      total += *r;
      observed += obs;
      seqs += obs > 0;
    }
    REQUIRE(fit == std::vector<bool>{true, true, false, true, true});
    const double denom = red == Reduction::mean ? static_cast<double>(observed) : red == Reduction::sum ? 1.0 : static_cast<double>(seqs);
    REQUIRE(seqs == 3);
    zero_grads(crf);
    std::vector<std::vector<double>> want_d;
    for (Index b = 0; b < B; ++b) {
      std::vector<double> d(c.ems[static_cast<std::size_t>(b)].size(), 0.0);
      if (fit[static_cast<std::size_t>(b)])
        crf.nll(c.ids[static_cast<std::size_t>(b)], c.ems[static_cast<std::size_t>(b)], c.labels[static_cast<std::size_t>(b)], kOpen,
                std::span<double>(d), 1.0 / denom);
      want_d.push_back(d);
    }
    const Param<double>::Array want_tr = crf.transitions().grad, want_st = crf.start().grad, want_en = crf.end().grad;
    zero_grads(crf);

    Tensor3<double> d(B, 9, L);
    d.setConstant(std::numeric_limits<double>::quiet_NaN());  // assigned everywhere
    const double v = crf.value_and_grad(ctx, c.tokens, c.em, c.y, d);
    CHECK(v == Approx(total / denom).epsilon(1e-12));
    CHECK(crf.unfit() == 1);
    CHECK(crf.value(ctx, c.tokens, c.em, c.y) == Approx(v).epsilon(1e-14));
    CHECK(crf.unfit() == 1);
    for (Index b = 0; b < B; ++b) {
      const Index T = c.lengths[static_cast<std::size_t>(b)];
      for (int k = 0; k < 9; ++k)
        for (Index t = 0; t < L; ++t) {
          INFO("b " << b << " k " << k << " t " << t);
          if (t < T)
            CHECK(d(b, k, t) == Approx(want_d[static_cast<std::size_t>(b)][static_cast<std::size_t>(k * T + t)]).margin(1e-12));
          else
            CHECK(d(b, k, t) == 0.0);
        }
    }
    // The skipped and the unlabelled sequences have no gradient; the others do.
    for (Index b : {Index{2}, Index{3}})
      for (int k = 0; k < 9; ++k)
        for (Index t = 0; t < L; ++t) CHECK(d(b, k, t) == 0.0);
    double gnorm = 0;
    for (Index t = 0; t < 64; ++t) gnorm += std::abs(d(0, 0, t)) + std::abs(d(0, 8, t));
    CHECK(gnorm > 1e-3);
    for (Index i = 0; i < crf.transitions().size(); ++i) CHECK(crf.transitions().grad[i] == Approx(want_tr[i]).margin(1e-12));
    for (Index i = 0; i < 9; ++i) {
      CHECK(crf.start().grad[i] == Approx(want_st[i]).margin(1e-12));
      CHECK(crf.end().grad[i] == Approx(want_en[i]).margin(1e-12));
    }
    CHECK(want_tr.abs().sum() > 1e-3);
    // Parameter grads accumulate over calls.
    crf.value_and_grad(ctx, c.tokens, c.em, c.y, d);
    for (Index i = 0; i < crf.transitions().size(); ++i) CHECK(crf.transitions().grad[i] == Approx(2 * want_tr[i]).margin(1e-12));
  }

  // Every sequence unfit: loss 0, zero gradient, all counted.
  {
    CrfD crf;
    BatchCase u = make_batch(g, {40, 40}, 40);
    std::vector<std::int32_t> lab(40, ignore_index);
    lab[3] = gene_acceptor_fwd;
    lab[4] = gene_acceptor_fwd;
    set_labels(u, 0, lab);
    set_labels(u, 1, lab);
    CpuContext one(1);
    Tensor3<double> d;
    CHECK(crf.value_and_grad(one, u.tokens, u.em, u.y, d) == 0.0);
    CHECK(crf.unfit() == 2);
    CHECK(d.dimension(0) == 2);
    double dmax = 0;
    for (Index i = 0; i < d.size(); ++i) dmax = std::max(dmax, std::abs(d.data()[i]));
    CHECK(dmax == 0.0);
  }
}

TEST_CASE("GeneGrammarCrf: an empty sequence of a batch is not counted as unfit", "[gene_grammar_crf]") {
  // A length-0 sequence (batch padding) has no labels, like a sequence with no observed label,
  // which counts as fitting.
  std::mt19937 g(3);
  BatchCase c = make_batch(g, {50, 0}, 50);
  CpuContext ctx(1);
  ctx.set_lengths(c.lengths);
  CrfD crf;
  Tensor3<double> d;
  const double v = crf.value_and_grad(ctx, c.tokens, c.em, c.y, d);
  const auto r = crf.nll(c.ids[0], c.ems[0], c.labels[0]);
  REQUIRE(r.has_value());
  const auto obs = std::count_if(c.labels[0].begin(), c.labels[0].end(), [](std::int32_t x) { return x >= 0; });
  CHECK(v == Approx(*r / static_cast<double>(obs)).epsilon(1e-12));  // the loss is right either way
  CHECK(crf.unfit() == 0);
}

// =============================================================================================
// 6. Length chains, run lengths and init_lengths.
TEST_CASE("GeneGrammarCrf: intron chains set a minimum intron length", "[gene_grammar_crf]") {
  // CC | ATG AAA | G T..A G | CCC | TAA | CC with an intron body (intron-labelled nucleotides) of m.
  auto gene = [](int m) {
    Gene gn;
    auto add = [&](const std::string& s, int label) {
      gn.seq += s;
      gn.y.insert(gn.y.end(), s.size(), static_cast<std::int8_t>(label));
    };
    add("CC", gene_noncoding);
    add("ATGAAA", gene_exon_fwd);
    add("G", gene_donor_fwd);
    std::string body(static_cast<std::size_t>(m), 'A');
    body.front() = 'T';
    add(body, gene_intron_fwd);
    add("G", gene_acceptor_fwd);
    add("CCC", gene_exon_fwd);
    add("TAACC", gene_noncoding);
    return gn;
  };
  std::mt19937 g(2);
  for (const bool minus : {false, true}) {
    for (int ki = 1; ki <= 4; ++ki) {
      CrfD crf(GeneGrammarCrfOptions{ki, 2, true});
      randomize(crf, g);
      for (int m = 2; m <= 6; ++m) {
        const Gene gn = minus ? minus_of(gene(m)) : gene(m);
        REQUIRE(std::count(gn.y.begin(), gn.y.end(), minus ? gene_intron_rev : gene_intron_fwd) == m);
        const std::vector<double> em = random_emissions(g, static_cast<int>(gn.seq.size()), 1.0, 0.0);
        const double lp = crf.log_partition(ids_of(gn.seq), em, as_int32(gn.y), kClosed);
        INFO((minus ? "- " : "+ ") << "intron_states " << ki << " intron of " << m << " nt: " << gn.seq);
        if (m >= ki) CHECK(std::isfinite(lp));
        else CHECK(lp == -kInf);
        // And the loss of such labels is refused.
        if (ki == 3 && m == 2) CHECK_FALSE(crf.nll(ids_of(gn.seq), em, as_int32(gn.y), kClosed).has_value());
      }
    }
  }
}

TEST_CASE("GeneGrammarCrf: GeneRunLengths from labels, init_lengths and chain_mean_lengths", "[gene_grammar_crf]") {
  // Runs: exon 3, 3 | 2, 4; intron (donor/acceptor excluded) 3 | 2; intergenic 3, 2 | 1, 3 (split
  // by an unobserved label) | 1 (a new track starts a new run).
  const std::vector<std::vector<std::int8_t>> tracks = {
      {8, 8, 8, 0, 0, 0, 1, 2, 2, 2, 3, 0, 0, 0, 8, 8},
      {4, 4, 7, 6, 6, 5, 4, 4, 4, 4, 8, -1, 8, 8, 8},
      {8},
  };
  const GeneRunLengths r = GeneRunLengths::from_labels(tracks);
  CHECK(r.exon == 12.0 / 4);
  CHECK(r.intron == 5.0 / 2);
  CHECK(r.intergenic == 10.0 / 5);
  // Classes never seen keep the defaults.
  const std::vector<std::vector<std::int8_t>> only_noncoding = {{8, 8, 8, -1, 8}};
  const GeneRunLengths d = GeneRunLengths::from_labels(only_noncoding);
  CHECK(d.exon == GeneRunLengths{}.exon);
  CHECK(d.intron == GeneRunLengths{}.intron);
  CHECK(d.intergenic == 2.0);
  // Runs that touch at a track boundary are two runs.
  const std::vector<std::vector<std::int8_t>> two = {{0, 0, 0, 0, 0, 0}, {0, 0, 0}};
  CHECK(GeneRunLengths::from_labels(two).exon == 9.0 / 2);

  for (const auto& [ki, kn] : std::vector<std::pair<int, int>>{{3, 2}, {1, 1}, {4, 3}}) {
    INFO("intron_states " << ki << " intergenic_states " << kn);
    CrfD crf(GeneGrammarCrfOptions{ki, kn, true});
    std::mt19937 g(1);
    randomize(crf, g);
    const GeneRunLengths len{120.0, 600.0, 3000.0};
    crf.init_lengths(len);
    const auto j = crf.to_json();
    const auto& cm = j["chain_mean_lengths"];
    REQUIRE(cm["intergenic"].size() == static_cast<std::size_t>(kn));
    REQUIRE(cm["+.intron"].size() == static_cast<std::size_t>(ki));
    REQUIRE(cm["-.intron"].size() == static_cast<std::size_t>(ki));
    double sum_n = 0, sum_f = 0, sum_r = 0;
    for (const auto& v : cm["intergenic"]) {
      CHECK(v.get<double>() == Approx(3000.0 / kn).epsilon(1e-9));
      sum_n += v.get<double>();
    }
    for (const auto& v : cm["+.intron"]) {
      CHECK(v.get<double>() == Approx(600.0 / ki).epsilon(1e-9));
      sum_f += v.get<double>();
    }
    for (const auto& v : cm["-.intron"]) {
      CHECK(v.get<double>() == Approx(600.0 / ki).epsilon(1e-9));
      sum_r += v.get<double>();
    }
    CHECK(sum_n == Approx(3000.0));
    CHECK(sum_f == Approx(600.0));
    CHECK(sum_r == Approx(600.0));
    // The exon scores: continue log(1 - 1/m), every exon end log(1/m); start and end reset to 0.
    const auto& tr = j["transitions"];
    CHECK(tr["+.exon.continue"].get<double>() == Approx(std::log1p(-1.0 / 120)));
    CHECK(tr["-.exon.continue"].get<double>() == Approx(std::log1p(-1.0 / 120)));
    for (const char* k : {"+.exon.donor", "+.exon.stop", "-.exon.acceptor", "-.exon.start"})
      CHECK(tr[k].get<double>() == Approx(std::log(1.0 / 120)));
    CHECK(tr["+.gene_start"].get<double>() == Approx(std::log(kn / 3000.0)));
    CHECK(tr["-.gene_start"].get<double>() == Approx(std::log(kn / 3000.0)));
    CHECK(tr.size() == static_cast<std::size_t>(crf.num_kinds()));
    for (int k = 0; k < 9; ++k) {
      CHECK(crf.start().value[k] == 0.0);
      CHECK(crf.end().value[k] == 0.0);
    }
  }
  // Runs shorter than twice the chain are clamped (stay = advance): each state then means 2 nt.
  CrfD crf(GeneGrammarCrfOptions{3, 2, true});
  crf.init_lengths(GeneRunLengths{150.0, 4.0, 2000.0});
  for (const auto& v : crf.to_json()["chain_mean_lengths"]["+.intron"]) CHECK(v.get<double>() == Approx(2.0));
  // From the label tracks above, one state per chain: intergenic 2.0 (at the clamp), intron 2.5.
  CrfD one(GeneGrammarCrfOptions{1, 1, true});
  one.init_lengths(GeneRunLengths::from_labels(tracks));
  CHECK(one.to_json()["chain_mean_lengths"]["intergenic"][0].get<double>() == Approx(2.0));
  CHECK(one.to_json()["chain_mean_lengths"]["+.intron"][0].get<double>() == Approx(2.5));
}

// =============================================================================================
// 7. Numerics on long sequences.
TEST_CASE("GeneGrammarCrf: 200,000 nt with large emissions: finite log Z in float, marginals sum to 1",
          "[gene_grammar_crf]") {
  std::mt19937 g(99);
  const int T = 200000;
  std::string s = motif_dna(g, T, true);
  const auto ids = ids_of(s);
  std::uniform_real_distribution<float> u(-50.0f, 50.0f);
  std::vector<float> em(static_cast<std::size_t>(9) * T);
  for (auto& v : em) v = u(g);
  GeneGrammarCrf<float> crf;
  randomize(crf, g, 0.5);
  CrfD crfd;
  copy_params(crf, crfd);
  const std::vector<double> emd(em.begin(), em.end());

  for (const auto ends : {kOpen, kClosed}) {
    INFO("closed " << ends.intergenic_start);
    const double lz = crf.log_partition(ids, em, {}, ends);
    REQUIRE(std::isfinite(lz));
    CHECK(lz == Approx(crfd.log_partition(ids, emd, {}, ends)).epsilon(1e-7));  // float S = double S
    std::vector<std::int8_t> out(static_cast<std::size_t>(T));
    const double vs = crf.decode(std::span<const std::uint8_t>(ids), std::span<const float>(em), std::span<std::int8_t>(out), ends);
    CHECK(vs <= lz + 1e-9 * std::abs(lz));  // the best path is one term of Z
    CHECK(vs > 0.9 * lz);
    std::vector<float> marg(em.size());
    crf.marginals(ids, em, std::span<float>(marg), ends);
    double worst = 0, lo = 0, hi = 0;
    for (int t = 0; t < T; ++t) {
      double sum = 0;
      for (int k = 0; k < 9; ++k) {
        const double p = marg[static_cast<std::size_t>(k) * T + t];
        sum += p;
        lo = std::min(lo, p);
        hi = std::max(hi, p);
      }
      worst = std::max(worst, std::abs(sum - 1.0));
    }
    CHECK(worst < 1e-4);
    CHECK(lo >= -1e-6);
    CHECK(hi <= 1.0 + 1e-4);
    // The Viterbi labels' log Z is finite, and at least the Viterbi path's score.
    const std::vector<std::int32_t> labels(out.begin(), out.end());
    const double gold = crf.log_partition(ids, em, labels, ends);
    CHECK(std::isfinite(gold));
    CHECK(gold >= vs - 1e-9 * std::abs(vs));
  }
}

TEST_CASE("GeneGrammarCrf: log Z and labelled log Z equal a log-space forward on long sequences", "[gene_grammar_crf]") {
  std::mt19937 g(123);
  for (int trial = 0; trial < 4; ++trial) {
    const int T = 3000;
    const GeneGrammarCrfEnds ends = trial % 2 ? kClosed : kOpen;
    const auto ids = ids_of(trial < 2 ? motif_dna(g, T, true) : random_dna(g, T));
    CrfD crf(GeneGrammarCrfOptions{2 + trial, 1 + trial % 2, trial != 2});
    randomize(crf, g, 1.0);
    const std::vector<double> em = random_emissions(g, T, 3.0, 1.0);
    const auto vit = decode_of(crf, ids, em, ends);
    std::vector<std::int32_t> labels(vit.begin(), vit.end());
    for (auto& l : labels)
      if (std::bernoulli_distribution(0.3)(g)) l = -1;
    INFO("trial " << trial);
    const double lz = crf.log_partition(ids, em, {}, ends), gold = crf.log_partition(ids, em, labels, ends);
    CHECK(lz == Approx(logspace_log_z(crf, ids, em, nullptr, ends)).epsilon(1e-11));
    CHECK(gold == Approx(logspace_log_z(crf, ids, em, &labels, ends)).epsilon(1e-11));
    const auto nll = crf.nll(ids, em, labels, ends);
    REQUIRE(nll.has_value());
    CHECK(*nll >= 0);
    CHECK(*nll == Approx(lz - gold).epsilon(1e-9));
  }
}

TEST_CASE("GeneGrammarCrf: log Z with emissions of magnitude 50 equals a log-space forward",
          "[gene_grammar_crf]") {
  // With one scale per position, a state whose forward value is more than ~700 nats below the
  // position's total would underflow in double and be lost, though its paths may dominate later
  // (log Z too small, the NLL negative). Random A/C/G/T, emissions uniform in [-50, 50], default
  // options, parameters 0: the long double pass, or its log-space fallback, keeps them.
  const int T = 10000;
  for (const unsigned seed : {1u, 2u, 3u, 4u}) {
    std::mt19937 g(seed);
    std::vector<std::uint8_t> ids(static_cast<std::size_t>(T));
    for (auto& x : ids) x = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 3)(g));
    std::uniform_real_distribution<double> u(-50.0, 50.0);
    std::vector<double> em(static_cast<std::size_t>(9) * T);
    for (auto& v : em) v = u(g);
    CrfD crf;
    const auto vit = decode_of(crf, ids, em, kOpen);
    const std::vector<std::int32_t> labels(vit.begin(), vit.end());
    const double lz = crf.log_partition(ids, em), ref = logspace_log_z(crf, ids, em, nullptr, kOpen);
    const double gold = crf.log_partition(ids, em, labels), ref_gold = logspace_log_z(crf, ids, em, &labels, kOpen);
    INFO(fmt::format("seed {}: log Z {:.6f}, log-space {:.6f}; Viterbi-label log Z {:.6f}, log-space {:.6f}", seed, lz, ref,
                     gold, ref_gold));
    CHECK(gold == Approx(ref_gold).epsilon(1e-11));  // few states per position: right
    CHECK(lz == Approx(ref).epsilon(1e-11));         // too small where states were lost
    CHECK(gold <= lz + 1e-9 * std::abs(lz));
    const auto nll = crf.nll(ids, em, labels);
    REQUIRE(nll.has_value());
    CHECK(*nll >= 0);
  }
}

TEST_CASE("GeneGrammarCrf: the log-space fallback gives the same NLL gradient as finite differences",
          "[gene_grammar_crf]") {
  // One emission 12,000 nats below its position's best underflows even in long double: the pass
  // reruns in log space. Its gradients must be exact, and the marginals must still sum to 1.
  std::mt19937 g(5);
  CrfD crf(GeneGrammarCrfOptions{3, 2, true});
  randomize(crf, g, 0.5);
  const int T = 50;
  std::vector<std::uint8_t> ids(static_cast<std::size_t>(T));
  for (auto& x : ids) x = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 3)(g));
  std::normal_distribution<double> nd(0.0, 1.5);
  std::vector<double> em(static_cast<std::size_t>(9 * T)), guide_em(em.size());
  for (auto& v : em) v = nd(g);
  for (auto& v : guide_em) v = 5 * nd(g);
  const auto guide = decode_of(crf, ids, guide_em, kOpen);
  std::vector<std::int32_t> labels = as_int32(guide);
  for (int t = 3; t < T; t += 5) labels[static_cast<std::size_t>(t)] = -1;
  const int far = (guide[20] + 1) % 9;
  em[static_cast<std::size_t>(far * T + 20)] = -12000;

  // the batch loss counts the fallback: the free pass needs it; the labelled pass does not (position
  // 20 is observed, so the far class is excluded there)
  {
    CpuContext ctx(1);
    Tensor3<float> tok(1, 1, T);
    Tensor3<double> e(1, 9, T), d;
    Labels y(1, T);
    for (int t = 0; t < T; ++t) {
      tok(0, 0, t) = ids[static_cast<std::size_t>(t)];
      y(0, t) = labels[static_cast<std::size_t>(t)];
      for (int k = 0; k < 9; ++k) e(0, k, t) = em[static_cast<std::size_t>(k * T + t)];
    }
    CrfD copy(crf.options());
    copy_params(crf, copy);
    CHECK(copy.log_space_passes() == 0);
    copy.value_and_grad(ctx, tok, e, y, d);
    CHECK(copy.log_space_passes() == 1);
  }

  zero_grads(crf);
  std::vector<double> d(em.size(), 0.0);
  const auto f0 = crf.nll(ids, em, labels, kOpen, std::span<double>(d));
  REQUIRE(f0.has_value());
  CHECK(*f0 > 0);
  auto check = [&](double analytic, double& v, const std::string& where) {
    check_nll_derivative(crf, ids, em, labels, kOpen, analytic, v, where);
  };
  for (std::size_t i = 0; i < em.size(); i += 3)
    if (em[i] > -1000) check(d[i], em[i], fmt::format("emission {}", i));
  for (Index i = 0; i < crf.transitions().size(); ++i)
    check(crf.transitions().grad[i], crf.transitions().value[i], "transition " + crf.kind_names()[static_cast<std::size_t>(i)]);
  for (Index i = 0; i < 9; ++i) check(crf.start().grad[i], crf.start().value[i], fmt::format("start {}", i));

  std::vector<double> m(em.size());
  crf.marginals(ids, em, m);
  for (int t = 0; t < T; ++t) {
    double sum = 0;
    for (int k = 0; k < 9; ++k) sum += m[static_cast<std::size_t>(k * T + t)];
    CHECK(sum == Approx(1.0).margin(1e-12));
  }
  CHECK(m[static_cast<std::size_t>(far * T + 20)] == 0.0);
}
