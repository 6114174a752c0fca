#pragma once
/// `GeneGrammarDecoder`: Viterbi decoding of BEND's 9 gene classes under a gene grammar that reads
/// the DNA: reading frame, start and stop codons, splice-site dinucleotides, no in-frame stop codon.
///
/// The 9-class CRF (linear_chain_crf.hpp) knows which class may follow which, but not the sequence:
/// it will happily place a 20-nt "exon" that contains stop codons, or switch a long intron to the
/// other strand through such an exon (docs/results.md, error analysis). This decoder keeps the
/// CRF's score of a path,
///
///     score(y) = s(y_0) + sum_t e_t(y_t) + sum_{t>=1} A(y_{t-1}, y_t) + z(y_{T-1})
///
/// (emissions e: [9 x T] row-major, e.g. a TokenClassifier's logits; A, s, z: the CRF's
/// transitions/start/end, forbidden entries -inf), and maximises it over the label paths that are
/// gene structures of the sequence `ids` (token ids, data/tokens.hpp: A=0 C=1 G=2 T=3, N and others
/// never match a motif and never form a stop codon):
///
///   + strand gene, genomic left to right (labels: 8 noncoding, 0 exon, 1 donor, 2 intron, 3 acceptor):
///     8 -> 0 only at an ATG (the first CDS nucleotides; BEND labels the start codon as exon);
///     0 -> 8 only after a whole number of codons, and the noncoding run starts with TAA/TAG/TGA
///       (BEND labels the stop codon 8; AUGUSTUS's GenBank CDS end just before it);
///     0 -> 1 only where the donor reads GT (or GC with `gc_donors`): the donor is the G;
///     2 -> 3 only where the intron ends in AG: the acceptor is the G;
///     no codon of the spliced CDS (codons split by introns included) is TAA, TAG or TGA.
///   - strand gene, genomic left to right (4 exon, 7 acceptor, 6 intron, 5 donor), the mirror image:
///     8 -> 4 only right after TTA/CTA/TCA (the reverse complement of the stop codon);
///     4 -> 8 only after a whole number of codons that end in CAT (reverse complement of ATG);
///     4 -> 7 only where the intron starts with CT (the acceptor is the C); 6 -> 5 only where it
///     ends with AC (or GC; the donor is the C); no genomic triplet of the spliced CDS, counted from
///     its left end, is TTA, CTA or TCA.
///   Start and stop codons are whole: all three bases of the start codon in one exon, all three
///   of the stop codon noncoding (without this a 1-nt first exon could "split" an ATG across an
///   intron, the cheapest way to put a fake gene into a long intron).
///   Strands switch only through noncoding sequence; UTR introns (8 -> splice site) are not part of
///   this grammar (the fly set has CDS only; use the CRF's Viterbi where UTR introns are labelled).
///
/// How: each class is split into hidden states that carry what the grammar needs to remember,
/// namely how far the current codon has got and whether it can still become a stop codon (for the
/// + strand: nothing, "T", other; "TA", "TG", other; six codon states, the same for the - strand's
/// reversed stop codons). Exons, donors, introns and acceptors each have the six, noncoding one,
/// and short chains walk through the start and stop codons (2 + 2 + 2 + 3 states). One more
/// noncoding state follows the gene with `one_gene`, and each of the 12 intron codon states has a
/// "deep" twin (`deep_intron_penalty`): 71 states, so decoding costs O(T x 71) and one byte of
/// back-pointer per state and position. Scores are summed in double with a
/// per-position shift, so a 1 Mb sequence keeps full precision.
///
/// Priors on the number of genes (GeneGrammarOptions): `gene_penalty` is subtracted once per gene,
/// `one_gene` allows at most one (exactly one between closed ends). They are the decoder's knobs,
/// chosen by validation MCC; docs/results.md ("Gene-count priors") measures both.
///
/// Long introns (`deep_intron_penalty`): each intron codon state has a "deep" twin, entered at that
/// price, that scores a position by the better of intron+ and intron-, so that the strand of a long
/// intron is set by its splice sites and exons rather than by the head's guess 50 kb away from
/// them (docs/results.md, "Deep introns"). Also chosen by validation MCC.
///
/// The first position may be in any state (a window or chunk may begin inside a gene; an exon's codon
/// state must fit the first base) and the last too, weighted by s and z as in the CRF; with
/// `noncoding_start` / `noncoding_end` (a whole locus or chromosome) only in noncoding.
/// `first_violation` checks a label track against the grammar (a data set's labels, before choosing
/// this decoder for it; docs/crf.md lists what the fly set gives).
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/genes/gene_class.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/genes/gene_lattice.hpp"
#include "nucleo/losses/crf_constraints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nucleo {

struct GeneGrammarOptions {
  bool gc_donors = true;          ///< accept GC as well as GT donors (about 1% of introns; GC-AG)
  bool noncoding_start = false;   ///< the sequence begins outside genes (a whole locus or chromosome)
  bool noncoding_end = false;     ///< the sequence ends outside genes
  /// Subtracted from a path's score once per gene (at its first codon chain: the ATG of a + gene,
  /// the reversed stop codon of a - gene): a prior against many small genes, as a gene finder's
  /// gene-count prior. 0 = the CRF's scores alone.
  double gene_penalty = 0.0;
  /// At most one gene in the sequence, and with `noncoding_start` and `noncoding_end` exactly one
  /// (if the sequence has room for any gene; else none): for data sets of one gene per locus, as
  /// AUGUSTUS's --genemodel=exactlyone. The noncoding state after the gene is a state of its own.
  bool one_gene = false;
  /// Long introns (off when empty): an intron may hold "deep" stretches whose positions are scored
  /// by the better of intron+ and intron-, at this price per stretch (>= 0). Far from its splice
  /// sites a network with a receptive field of a few kb cannot see an intron's strand; without
  /// this, a 100 kb intron follows the head's weak strand guess at each position, and the other
  /// strand's guesses become fake genes inside it (docs/results.md, "Deep introns"). A stretch
  /// begins and ends inside the intron (at least one ordinary intron nucleotide after the donor
  /// and before the acceptor) or at an open end of the sequence, and keeps the intron's label.
  /// (Scoring deep positions by noncoding as well was measured and is worse: genes then swallow
  /// their flanks.)
  std::optional<double> deep_intron_penalty{};
  bool operator==(const GeneGrammarOptions&) const = default;
};

/// Where labels leave the grammar: the first position that no grammar path agreeing with the labels
/// up to there can reach.
struct GrammarViolation {
  Index position = 0;
  int label = -1;       ///< the label at `position`
  int previous = -1;    ///< the label before it (-1 at position 0)
  std::string to_string() const;
};

class GeneGrammarDecoder {
 public:
  static constexpr int K = 9;
  static constexpr int num_states = 71;
  using Chain = std::array<double, K * K>;

  /// A chain with every transition of the grammar scored 0 and no start/end preference: for
  /// decoding per-nucleotide log-probabilities (a model without CRF).
  explicit GeneGrammarDecoder(GeneGrammarOptions o = {}) : options_(o) {
    check_options();
    trans_.fill(0.0);
    start_.fill(0.0);
    end_.fill(0.0);
  }

  /// The CRF's chain: transitions A (K x K, row = from), start and end scores; entries that
  /// `constraints` forbid become -inf.
  template <class S>
  GeneGrammarDecoder(std::span<const S> transitions, std::span<const S> start, std::span<const S> end,
                     const CrfConstraints& constraints, GeneGrammarOptions o = {})
      : options_(o) {
    check_options();
    NUCLEO_CHECK(transitions.size() == K * K && start.size() == K && end.size() == K,
                 "GeneGrammarDecoder: the chain must be over the {} gene classes ({} transitions, {} start, {} end)",
                 K, transitions.size(), start.size(), end.size());
    NUCLEO_CHECK(constraints.empty() || constraints.num_tags() == K,
                 "GeneGrammarDecoder: constraints over {} tags, need {}", constraints.num_tags(), K);
    for (int i = 0; i < K; ++i) {
      for (int j = 0; j < K; ++j)
        trans_[i * K + j] = constraints.allowed(i, j) ? static_cast<double>(transitions[i * K + j]) : kNeg;
      start_[i] = constraints.start_allowed(i) ? static_cast<double>(start[i]) : kNeg;
      end_[i] = constraints.end_allowed(i) ? static_cast<double>(end[i]) : kNeg;
    }
  }

  /// From a LinearChainCRF<9, S> (its parameters and constraints as they are now).
  template <class Crf>
  static GeneGrammarDecoder from_crf(const Crf& crf, GeneGrammarOptions o = {}) {
    using S = typename Crf::scalar_type;
    static_assert(Crf::num_tags == K, "GeneGrammarDecoder::from_crf: needs a CRF over BEND's 9 gene classes");
    return GeneGrammarDecoder(std::span<const S>(crf.transitions().value.data(), K * K),
                              std::span<const S>(crf.start().value.data(), K),
                              std::span<const S>(crf.end().value.data(), K), crf.constraints(), o);
  }

  const GeneGrammarOptions& options() const { return options_; }

  /// The 9-class label of each hidden state.
  static constexpr int label_of(int state) {
    if (state >= kDeepF) return state < kDeepR ? 2 : 6;
    if (state == 0 || state == kAfterGene) return 8;
    if (state < kStartF) return kBlockLabel[static_cast<std::size_t>((state - 1) / 6)];
    return state < kStopF ? 0 : state < kStartR ? 8 : 4;  // the codon chains
  }

  /// Best grammar path for `ids` (length T) and `emissions` (K x T row-major); writes its labels to
  /// `out` (size T) and returns its score. Throws if no grammar path exists (cannot happen with
  /// finite emissions and the default chain: all-noncoding is always a path).
  template <class S>
  double decode(std::span<const std::uint8_t> ids, std::span<const S> emissions, std::span<std::int8_t> out) const {
    const Index T = static_cast<Index>(ids.size());
    NUCLEO_CHECK(emissions.size() == static_cast<std::size_t>(K * T),
                 "GeneGrammarDecoder::decode: {} emissions for {} positions x {} classes", emissions.size(), T, K);
    NUCLEO_CHECK(out.size() == ids.size(), "GeneGrammarDecoder::decode: output has {} positions, need {}", out.size(), T);
    if (T == 0) return 0.0;
    auto em = [&](int label, Index t) { return static_cast<double>(emissions[static_cast<std::size_t>(label * T + t)]); };
    std::vector<std::uint8_t> back(static_cast<std::size_t>(T * num_states));
    std::array<double, num_states> v{}, nv{};
    // A deep intron state's emission: the better of the two intron classes (strand-blind).
    auto em_state = [&](int s, Index t) {
      return s >= kDeepF ? std::max(em(2, t), em(6, t)) : em(label_of(s), t);
    };
    const double gene_penalty = options_.gene_penalty;
    const double deep_penalty = options_.deep_intron_penalty.value_or(0.0);
    for (int s = 0; s < num_states; ++s)  // a deep stretch at the start pays its price too
      v[s] = can_start(s, ids) ? start_[label_of(s)] + em_state(s, 0) - (s >= kDeepF ? deep_penalty : 0.0) : kNeg;
    double shift = 0;
    for (Index t = 1; t < T; ++t) {
      std::uint8_t* bp = back.data() + t * num_states;
      step(ids, t, [&](int from, int to) {
        double c = v[from] + trans_[label_of(from) * K + label_of(to)];
        if (from == 0 && (to == kStartF || to == kStopR)) c -= gene_penalty;  // a gene begins
        if (to >= kDeepF && from < kDeepF) c -= deep_penalty;                 // a deep stretch begins
        if (c > nv[to]) nv[to] = c, bp[to] = static_cast<std::uint8_t>(from);
      }, nv);
      double m = kNeg;
      for (int s = 0; s < num_states; ++s) {
        if (nv[s] > kNeg / 2) nv[s] += em_state(s, t);
        m = std::max(m, nv[s]);
      }
      NUCLEO_CHECK(m > kNeg / 2, "GeneGrammarDecoder::decode: no grammar path reaches position {} (emissions must be finite)", t);
      for (int s = 0; s < num_states; ++s) v[s] = nv[s] - m;
      shift += m;
    }
    int best = -1;
    double bs = kNeg;
    for (int s = 0; s < num_states; ++s) {
      const double c = v[s] + end_[label_of(s)];
      if (can_end(s, v) && c > bs) bs = c, best = s;
    }
    NUCLEO_CHECK(best >= 0 && bs > kNeg / 2, "GeneGrammarDecoder::decode: no grammar path ends the sequence");
    for (Index t = T - 1; t >= 0; --t) {
      out[static_cast<std::size_t>(t)] = static_cast<std::int8_t>(label_of(best));
      if (t > 0) best = back[static_cast<std::size_t>(t * num_states + best)];
    }
    return bs + shift;
  }

  /// The first position where `labels` (0..8; negative = unobserved) leave the grammar on `ids`,
  /// or nothing if some grammar path agrees with every observed label. The chain's scores and
  /// forbidden transitions play no part: this checks the sequence rules alone.
  std::optional<GrammarViolation> first_violation(std::span<const std::uint8_t> ids,
                                                  std::span<const std::int8_t> labels) const {
    NUCLEO_CHECK(labels.size() == ids.size(), "GeneGrammarDecoder::first_violation: {} labels for {} positions",
                 labels.size(), ids.size());
    const Index T = static_cast<Index>(ids.size());
    auto fits = [&](int s, Index t) { return labels[static_cast<std::size_t>(t)] < 0 || labels[static_cast<std::size_t>(t)] == label_of(s); };
    auto violation = [&](Index t) {
      return GrammarViolation{t, labels[static_cast<std::size_t>(t)], t ? labels[static_cast<std::size_t>(t - 1)] : -1};
    };
    std::array<double, num_states> v{}, nv{};
    bool any = false;
    for (int s = 0; s < num_states && T; ++s) any |= (v[s] = fits(s, 0) && can_start(s, ids) ? 0.0 : kNeg) == 0.0;
    if (T && !any) return violation(0);
    for (Index t = 1; t < T; ++t) {
      step(ids, t, [&](int from, int to) { if (v[from] == 0.0 && fits(to, t)) nv[to] = 0.0; }, nv);
      any = false;
      for (int s = 0; s < num_states; ++s) any |= nv[s] == 0.0;
      if (!any) return violation(t);
      v = nv;
    }
    if (T) {
      bool ends = false;
      for (int s = 0; s < num_states; ++s) ends |= v[s] == 0.0 && can_end(s, v);
      if (!ends) return violation(T - 1);
    }
    return std::nullopt;
  }

 private:
  static constexpr double kNeg = -1e300;
  // States: 0 noncoding; then blocks of six codon states: + exon, donor, intron, acceptor; - exon,
  // acceptor, intron, donor (genomic order of a - strand intron); then the codon chains: + start
  // (A, T of ATG; the G is exon state 0), + stop (first two bases; the third is noncoding state 0),
  // - stop (second and third base of TTA/CTA/TCA; the first is state 0), - start (C, A, T of CAT).
  // Last, the deep twins of the + and - intron codon states.
  enum Block : int { kExonF = 1, kDonorF = 7, kIntronF = 13, kAccF = 19, kExonR = 25, kAccR = 31, kIntronR = 37, kDonorR = 43,
                     kStartF = 49, kStopF = 51, kStopR = 53, kStartR = 55, kAfterGene = 58, kDeepF = 59, kDeepR = 65 };
  static constexpr std::array<int, 8> kBlockLabel = {0, 1, 2, 3, 4, 7, 6, 5};
  static constexpr std::uint8_t kA = 0, kC = 1, kG = 2, kT = 3;

  // Codon states and their steps: the lattice's (+ strand: complete, "T", other, "TA", "TG", other
  // two; - strand the same for the reversed stops), -1 where the base completes a stop codon.
  static constexpr int next_fwd(int c, std::uint8_t b) { return GeneLattice::next_fwd(c, b); }
  static constexpr int next_rev(int c, std::uint8_t b) { return GeneLattice::next_rev(c, b); }

  /// May state s be the first of a sequence `ids`? Only noncoding with `noncoding_start`; else
  /// any state, except that an exon state's codon must be one that the first base can give (the
  /// bases before the sequence are unknown) and a codon chain must have its whole codon inside
  /// the sequence (only the C of a - strand CAT can come first; the others are covered by the
  /// exon and noncoding states).
  constexpr bool can_start(int s, std::span<const std::uint8_t> ids) const {
    if (options_.noncoding_start) return s == 0;
    if (s == kAfterGene) return false;  // only a gene's end leads there
    if (s >= kDeepF) return options_.deep_intron_penalty.has_value();  // a window inside a long intron
    if (s >= kStartF) return s == kStartR && ids.size() >= 3 && ids[0] == kC && ids[1] == kA && ids[2] == kT;
    const std::uint8_t b = ids[0];
    const bool fwd = s >= kExonF && s < kExonF + 6, rev = s >= kExonR && s < kExonR + 6;
    if (!fwd && !rev) return true;
    const int c = s - (fwd ? kExonF : kExonR);
    if (c == 0) return true;
    for (int prev = 0; prev < 6; ++prev)
      if ((fwd ? next_fwd(prev, b) : next_rev(prev, b)) == c) return true;
    return false;
  }

  /// May state s be the last, given the final scores v (-inf = unreachable)? Any state, or with
  /// `noncoding_end` noncoding only; with `one_gene` and both ends closed, only the noncoding
  /// after the gene, unless no gene fits (then the all-noncoding path).
  bool can_end(int s, const std::array<double, num_states>& v) const {
    if (!options_.noncoding_end) return true;
    if (!options_.one_gene) return s == 0;
    if (!options_.noncoding_start) return s == 0 || s == kAfterGene;
    return s == kAfterGene || (s == 0 && !(v[kAfterGene] > kNeg / 2));
  }

  /// Calls relax(from, to) for every grammar transition into position t (nv is reset to -inf first).
  template <class Relax>
  void step(std::span<const std::uint8_t> ids, Index t, Relax&& relax, std::array<double, num_states>& nv) const {
    nv.fill(kNeg);
    const Index len = static_cast<Index>(ids.size());
    auto at = [&](Index i) -> int { return i >= 0 && i < len ? ids[static_cast<std::size_t>(i)] : -1; };
    const int b = at(t);
    const auto base = static_cast<std::uint8_t>(b);
    auto tri = [&](Index i, int x, int y, int z) { return at(i) == x && at(i + 1) == y && at(i + 2) == z; };
    const bool gc = options_.gc_donors;
    const bool deep = options_.deep_intron_penalty.has_value();
    const bool start_fwd = tri(t, kA, kT, kG);
    const bool stop_fwd = tri(t, kT, kA, kA) || tri(t, kT, kA, kG) || tri(t, kT, kG, kA);
    const bool donor_fwd = b == kG && (at(t + 1) == kT || (gc && at(t + 1) == kC));
    const bool acc_fwd = b == kG && at(t - 1) == kA;
    const bool stop_rev_here = tri(t - 1, kT, kT, kA) || tri(t - 1, kC, kT, kA) || tri(t - 1, kT, kC, kA);
    const bool start_rev_here = tri(t, kC, kA, kT);
    const bool acc_rev = b == kC && at(t + 1) == kT;
    const bool donor_rev = b == kC && (at(t - 1) == kA || (gc && at(t - 1) == kG));

    relax(0, 0);
    // Start and stop codons lie whole in one exon / in noncoding sequence: short chains of states
    // walk through their three bases (without them a 1-nt exon could "split" a start codon
    // across an intron, or a gene begin inside the previous one's stop codon).
    if (start_fwd) relax(0, kStartF);                  // A of ATG
    relax(kStartF, kStartF + 1);                       // T
    relax(kStartF + 1, kExonF + 0);                    // G: the first codon is complete
    if (stop_fwd) relax(kExonF + 0, kStopF);           // first base of TAA/TAG/TGA (noncoding)
    relax(kStopF, kStopF + 1);
    const int after = options_.one_gene ? kAfterGene : 0;  // where a gene's end leads
    if (options_.one_gene) relax(kAfterGene, kAfterGene);
    relax(kStopF + 1, after);                          // third base
    if (stop_rev_here) relax(0, kStopR);               // t-1 began TTA/CTA/TCA: second base
    relax(kStopR, kStopR + 1);                         // third base (A)
    relax(kStopR + 1, kExonR + next_rev(0, base));     // the exon after it
    if (start_rev_here) {                              // C of CAT, after a whole codon
      relax(kExonR + 0, kStartR);
      relax(kDonorR + 0, kStartR);
      relax(kStopR + 1, kStartR);
    }
    relax(kStartR, kStartR + 1);                       // A
    relax(kStartR + 1, kStartR + 2);                   // T
    relax(kStartR + 2, after);
    for (int c = 0; c < 6; ++c) {
      if (const int nc = next_fwd(c, base); nc >= 0) {
        relax(kExonF + c, kExonF + nc);
        relax(kAccF + c, kExonF + nc);
      }
      if (donor_fwd) relax(kExonF + c, kDonorF + c);
      relax(kDonorF + c, kIntronF + c);
      relax(kIntronF + c, kIntronF + c);
      if (acc_fwd) relax(kIntronF + c, kAccF + c);

      if (const int nc = next_rev(c, base); nc >= 0) {
        relax(kExonR + c, kExonR + nc);
        relax(kDonorR + c, kExonR + nc);
      }
      if (acc_rev) relax(kExonR + c, kAccR + c);
      relax(kAccR + c, kIntronR + c);
      relax(kIntronR + c, kIntronR + c);
      if (donor_rev) relax(kIntronR + c, kDonorR + c);

      if (deep) {  // an intron's deep stretches: in from and back to the same codon state
        for (const int in : {kIntronF, kIntronR}) {
          const int d = in == kIntronF ? kDeepF : kDeepR;
          relax(in + c, d + c);
          relax(d + c, d + c);
          relax(d + c, in + c);
        }
      }
    }
  }

  void check_options() const {
    if (!(options_.gene_penalty >= 0))
      throw ConfigError(fmt::format("GeneGrammarOptions: gene_penalty must be >= 0, got {}", options_.gene_penalty));
    if (options_.deep_intron_penalty && !(*options_.deep_intron_penalty >= 0))
      throw ConfigError(fmt::format("GeneGrammarOptions: deep_intron_penalty must be >= 0, got {}", *options_.deep_intron_penalty));
  }

  GeneGrammarOptions options_;
  Chain trans_{};
  std::array<double, K> start_{}, end_{};
};

inline std::string GrammarViolation::to_string() const {
  auto name = [](int l) -> std::string {
    return l >= 0 && l < gene_class_count ? std::string(gene_class_names[static_cast<std::size_t>(l)]) : fmt::format("{}", l);
  };
  if (previous < 0) return fmt::format("position {}: no gene-grammar state has label {}", position, name(label));
  return fmt::format("position {}: {} -> {} breaks the gene grammar here (codon, frame or splice-site rule)",
                     position, name(previous), name(label));
}

}  // namespace nucleo
