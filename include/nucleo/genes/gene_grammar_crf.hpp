#pragma once
/// `GeneGrammarCrf<S>`: the gene grammar as a conditional random field that is trained end to end
/// and decodes with the same model: no separate hand-tuned decoder.
///
/// Model. The hidden states are those of the gene grammar (genes/gene_lattice.hpp): each of BEND's
/// 9 classes split by reading frame and stop-codon progress, codon chains through start and stop
/// codons, and chains of `intron_states` / `intergenic_states` states for lengths. Which states
/// may follow which at position t depends on the DNA at t-1..t+2 (ATG, stops, GT/GC donors, AG
/// acceptors, frame). A path of hidden states h_0..h_{T-1} scores
///
///     score(h) = start(y(h_0)) + sum_t e_t(y(h_t)) + sum_{t>=1} w(kind(h_{t-1} -> h_t)) + end(y(h_{T-1}))
///
/// where y(h) is the state's 9-class label, e_t the network's 9 logits at t (the emissions), and w
/// one learned score per edge kind (a gene begins, an exon continues or ends at a donor, acceptor,
/// stop or start codon, an intron or intergenic chain state stays or advances; edges the DNA
/// forces score 0). p(h | e, DNA) = exp(score(h)) / Z, Z over every grammar path.
///
/// Loss. Labels give y_t, not h_t: the gold score is the log-sum over every grammar path whose
/// labels agree with the observed labels (label < 0 = unobserved), so
///     NLL = log Z - log Z(labels).
/// Gradients are exact (forward-backward): d/de_t(k) = p(y_t = k) - q(y_t = k), d/dw = expected
/// count of the kind under p minus under q, start/end alike. A sequence whose labels no grammar
/// path fits (a non-canonical splice site, a gene cut inside a codon chain) contributes nothing
/// and is counted in `unfit()`. Reductions as LinearChainCRF (losses/reduction.hpp): `mean` (default)
/// divides by the observed labels of the sequences that fit.
///
/// Decoding: `decode` is the Viterbi path (its labels), `marginals` the posterior of each class.
/// `GeneGrammarCrfEnds` closes a whole locus or chromosome (it then starts and ends in intergenic
/// states); a training crop or a chunk is open.
///
/// Numerics: forward-backward in probability space with per-position scaling, in long double
/// (in double for `marginals`, to halve its memory), the emissions shifted by their per-position
/// maximum. A state whose paths fall so far below the others that its value would underflow (about
/// 11,000 nats in long double, 708 in double) could still lead the best paths later, so the pass
/// watches for it and then reruns the sequence exactly in log space (one exp per edge, several
/// times slower; counted by `log_space_passes()`). Viterbi in log space with a per-position shift. Cost per position: one pass over the context's
/// edges (about 2 x 90 states x 1-3 edges) per direction.
///
/// Memory: training and `marginals` keep the scaled forward variables (states x length, double: a
/// state's forward value may be far below float's range while its posterior is not) of the
/// sequence in flight on each thread, 83 x 8 bytes per position with the default options;
/// `decode` one byte per state and position.
///
/// Parameters (visit_params): "transitions" {num_kinds()} (their names: `kind_names()`), "start"
/// {9}, "end" {9}. `init_lengths` sets them to an HMM-like start from mean run lengths.
#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/genes/gene_lattice.hpp"
#include "nucleo/genes/gene_class.hpp"
#include "nucleo/losses/reduction.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

struct GeneGrammarCrfOptions {
  int intron_states = 3;      ///< states in series per intron: minimum length, length law
  int intergenic_states = 2;  ///< states in series for intergenic sequence
  bool gc_donors = true;      ///< GC-AG introns as well as GT-AG
  /// Learning-rate multiplier of the edge, start and end scores (Param::lr_scale): about 40 scores
  /// that set gene counts and lengths, which at the network's rate move by at most lr per step.
  float lr_scale = 50.0f;
  Reduction reduction = Reduction::mean;
  bool operator==(const GeneGrammarCrfOptions&) const = default;
};

/// Whether a sequence begins / ends outside genes (a whole locus or chromosome) or is open (a
/// crop, a window, a chunk of a chromosome).
struct GeneGrammarCrfEnds {
  bool intergenic_start = false;
  bool intergenic_end = false;
};

/// Mean run lengths (nt) for `GeneGrammarCrf::init_lengths`.
struct GeneRunLengths {
  double exon = 150, intron = 300, intergenic = 2000;
  /// From label tracks (0..8; negative = unobserved, ends a run).
  static GeneRunLengths from_labels(std::span<const std::vector<std::int8_t>> tracks);
};

template <class S = float>
class GeneGrammarCrf {
  static_assert(std::is_floating_point_v<S>, "GeneGrammarCrf<S>: S must be float or double");

 public:
  using scalar_type = S;
  using target_type = Labels;
  static constexpr int num_labels = gene_class_count;

  explicit GeneGrammarCrf(GeneGrammarCrfOptions o = {})
      : options_(o),
        lattice_(o.intron_states, o.intergenic_states, o.gc_donors),
        transitions_({lattice_.num_kinds()}, ParamKind::weight),
        start_({num_labels}, ParamKind::bias),
        end_({num_labels}, ParamKind::bias) {
    for (Param<S>* p : {&transitions_, &start_, &end_}) p->lr_scale = static_cast<S>(o.lr_scale);
  }

  std::string_view name() const { return "gene_grammar_crf"; }
  const GeneGrammarCrfOptions& options() const { return options_; }
  int num_states() const { return lattice_.num_states(); }
  int num_kinds() const { return lattice_.num_kinds(); }
  const std::vector<std::string>& kind_names() const { return lattice_.kind_names(); }
  /// The 9-class label of each hidden state.
  std::span<const std::int8_t> state_labels() const { return lattice_.labels(); }
  const GeneLattice& lattice() const { return lattice_; }

  template <class V>
  void visit_params(V&& v) {
    v(std::string_view("transitions"), transitions_);
    v(std::string_view("start"), start_);
    v(std::string_view("end"), end_);
  }
  Param<S>& transitions() { return transitions_; }
  Param<S>& start() { return start_; }
  Param<S>& end() { return end_; }
  const Param<S>& transitions() const { return transitions_; }
  const Param<S>& start() const { return start_; }
  const Param<S>& end() const { return end_; }

  /// An HMM-like start: a chain of k states for runs of mean length m stays with log(1 - k/m) and
  /// advances (or leaves) with log(k/m); an exon continues with log(1 - 1/m) and ends with
  /// log(1/m). Start and end scores 0.
  void init_lengths(const GeneRunLengths& r) {
    auto stay = [](double m, int k) { const double q = std::clamp(k / std::max(m, 1.0), 1e-6, 0.5); return std::log1p(-q); };
    auto leave = [](double m, int k) { return std::log(std::clamp(k / std::max(m, 1.0), 1e-6, 0.5)); };
    const auto& names = kind_names();
    const int ki = options_.intron_states, kn = options_.intergenic_states;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& n = names[i];
      double v = 0;
      if (n.starts_with("intergenic.stay")) v = stay(r.intergenic, kn);
      else if (n.starts_with("intergenic.next") || n.ends_with("gene_start")) v = leave(r.intergenic, kn);
      else if (n.find("intron.stay") != std::string::npos) v = stay(r.intron, ki);
      else if (n.find("intron.") != std::string::npos) v = leave(r.intron, ki);
      else if (n.ends_with("exon.continue")) v = stay(r.exon, 1);
      else v = leave(r.exon, 1);  // an exon ends: donor, acceptor, stop, start codon
      transitions_.value[static_cast<Index>(i)] = static_cast<S>(v);
    }
    start_.value.setZero();
    end_.value.setZero();
  }

  /// The learned scores by kind name, and for every chain state the mean length its stay and
  /// advance scores alone imply (1 / (1 - p), p = e^stay / (e^stay + e^advance)).
  nlohmann::json to_json() const {
    nlohmann::json j;
    const auto& names = kind_names();
    for (std::size_t i = 0; i < names.size(); ++i) j["transitions"][names[i]] = transitions_.value[static_cast<Index>(i)];
    for (int k = 0; k < num_labels; ++k) {
      j["start"][std::string(gene_class_names[static_cast<std::size_t>(k)])] = start_.value[k];
      j["end"][std::string(gene_class_names[static_cast<std::size_t>(k)])] = end_.value[k];
    }
    auto mean_of = [&](std::string_view stay, std::string_view next) {
      const double s = value_of(stay), a = value_of(next), m = std::max(s, a);
      const double p = std::exp(s - m) / (std::exp(s - m) + std::exp(a - m));
      return 1.0 / (1.0 - p);
    };
    auto chain = [&](const std::string& prefix, int k, const std::string& exit) {
      nlohmann::json c = nlohmann::json::array();
      for (int q = 0; q < k; ++q)
        c.push_back(mean_of(fmt::format("{}stay.{}", prefix, q), q + 1 < k ? fmt::format("{}next.{}", prefix, q) : exit));
      return c;
    };
    j["chain_mean_lengths"] = {{"intergenic", chain("intergenic.", options_.intergenic_states, "+.gene_start")},
                               {"+.intron", chain("+.intron.", options_.intron_states, "+.intron.acceptor")},
                               {"-.intron", chain("-.intron.", options_.intron_states, "-.intron.donor")}};
    return j;
  }

  // ------------------------------------------------------------------ one sequence
  /// log Z of one sequence: ids (token ids, length T), emissions (9 x T, row-major). With `labels`
  /// (length T, negative = unobserved), the log-sum over the grammar paths that agree with them
  /// (-inf if none does).
  double log_partition(std::span<const std::uint8_t> ids, std::span<const S> emissions,
                       std::span<const std::int32_t> labels = {}, GeneGrammarCrfEnds ends = {}) const {
    const Index T = check_sequence(ids, emissions, labels);
    if (T == 0) return 0.0;
    Work w;
    prepare(w, ids, emissions.data(), T);
    return pass(w, ids, emissions.data(), T, T, labels.empty() ? nullptr : labels.data(), ends, 0.0, nullptr);
  }

  /// NLL of one sequence (log Z - log Z(labels)), or nothing if no grammar path fits the labels.
  /// With grads: d NLL / d emissions ADDED to `d_emissions` (9 x T) and to the parameters' grads,
  /// each times `scale`.
  std::optional<double> nll(std::span<const std::uint8_t> ids, std::span<const S> emissions,
                            std::span<const std::int32_t> labels, GeneGrammarCrfEnds ends = {},
                            std::span<S> d_emissions = {}, double scale = 1.0) {
    const Index T = check_sequence(ids, emissions, labels);
    NUCLEO_CHECK(labels.size() == ids.size(), "GeneGrammarCrf::nll: {} labels for {} positions", labels.size(), ids.size());
    NUCLEO_CHECK(d_emissions.empty() || d_emissions.size() == emissions.size(),
                 "GeneGrammarCrf::nll: gradient has {} entries, need {}", d_emissions.size(), emissions.size());
    if (T == 0) return 0.0;
    Work w;
    Grads g;
    const bool grads = !d_emissions.empty();
    if (grads) g.reset(T, num_kinds());
    const auto r = sequence_nll(w, ids, emissions.data(), T, T, labels.data(), ends, grads ? &g : nullptr);
    if (r && grads) {
      for (Index i = 0; i < static_cast<Index>(d_emissions.size()); ++i)
        d_emissions[static_cast<std::size_t>(i)] += static_cast<S>(scale * g.em[static_cast<std::size_t>(i)]);
      add_param_grads(g, scale);
    }
    return r;
  }

  // ------------------------------------------------------------------ batch loss
  /// Batch loss: tokens [B, 1, L] (token ids), emissions [B, 9, L], targets [B, L] (-100 =
  /// unobserved); valid lengths from ctx. d_emissions ASSIGNED, parameter grads ACCUMULATED.
  template <class Ctx, class TokenScalar>
  double value_and_grad(Ctx& ctx, const Tensor3<TokenScalar>& tokens, const Tensor3<S>& emissions,
                        const Labels& targets, Tensor3<S>& d_emissions) {
    return run_batch<true>(ctx, tokens, emissions, targets, &d_emissions);
  }
  template <class Ctx, class TokenScalar>
  double value(Ctx& ctx, const Tensor3<TokenScalar>& tokens, const Tensor3<S>& emissions, const Labels& targets) {
    return run_batch<false>(ctx, tokens, emissions, targets, nullptr);
  }
  /// Sequences of the last batch whose labels no grammar path fits (they were left out).
  Index unfit() const { return unfit_; }
  /// Passes of all batches so far that needed the exact log-space fallback (scores spanning more
  /// than the scaled long double pass holds; see the file comment).
  Index log_space_passes() const { return log_space_passes_; }

  // ------------------------------------------------------------------ decoding
  /// The Viterbi path's labels into `out` (size T); returns its score. Emissions are 9 x T row-major.
  template <class E>
  double decode(std::span<const std::uint8_t> ids, std::span<const E> emissions, std::span<std::int8_t> out,
                GeneGrammarCrfEnds ends = {}) const {
    const Index T = static_cast<Index>(ids.size());
    NUCLEO_CHECK(emissions.size() == static_cast<std::size_t>(num_labels * T),
                 "GeneGrammarCrf::decode: {} emissions for {} positions x {} classes", emissions.size(), T, num_labels);
    NUCLEO_CHECK(out.size() == ids.size(), "GeneGrammarCrf::decode: output has {} positions, need {}", out.size(), T);
    if (T == 0) return 0.0;
    const int NS = num_states();
    const auto lab = lattice_.labels();
    std::vector<double> wk(static_cast<std::size_t>(num_kinds()) + 1, 0.0);
    for (int k = 0; k < num_kinds(); ++k) wk[static_cast<std::size_t>(k) + 1] = transitions_.value[k];
    auto em = [&](int l, Index t) { return static_cast<double>(emissions[static_cast<std::size_t>(l * T + t)]); };
    std::vector<std::uint8_t> back(static_cast<std::size_t>(T * NS));
    std::vector<double> v(static_cast<std::size_t>(NS)), nv(static_cast<std::size_t>(NS));
    for (int s = 0; s < NS; ++s)
      v[static_cast<std::size_t>(s)] = lattice_.can_start(s, ids, ends.intergenic_start)
                                           ? start_.value[lab[static_cast<std::size_t>(s)]] + em(lab[static_cast<std::size_t>(s)], 0)
                                           : kNeg;
    double shift = 0;
    for (Index t = 1; t < T; ++t) {
      std::fill(nv.begin(), nv.end(), kNeg);
      std::uint8_t* bp = back.data() + t * NS;
      for (const auto& e : lattice_.edges(GeneLattice::context(ids, t))) {
        const double c = v[e.from] + wk[static_cast<std::size_t>(e.kind + 1)];
        if (c > nv[e.to]) nv[e.to] = c, bp[e.to] = static_cast<std::uint8_t>(e.from);
      }
      double m = kNeg;
      for (int s = 0; s < NS; ++s) {
        auto& x = nv[static_cast<std::size_t>(s)];
        if (x > kNeg / 2) x += em(lab[static_cast<std::size_t>(s)], t);
        m = std::max(m, x);
      }
      NUCLEO_CHECK(m > kNeg / 2 && std::isfinite(m), "GeneGrammarCrf::decode: no path reaches position {} (emissions must be finite)", t);
      for (int s = 0; s < NS; ++s) v[static_cast<std::size_t>(s)] = nv[static_cast<std::size_t>(s)] - m;
      shift += m;
    }
    int best = -1;
    double bs = kNeg;
    for (int s = 0; s < NS; ++s) {
      const double c = v[static_cast<std::size_t>(s)] + end_.value[lab[static_cast<std::size_t>(s)]];
      if (lattice_.can_end(s, ends.intergenic_end) && c > bs) bs = c, best = s;
    }
    NUCLEO_CHECK(best >= 0 && bs > kNeg / 2, "GeneGrammarCrf::decode: no grammar path ends the sequence");
    for (Index t = T - 1; t >= 0; --t) {
      out[static_cast<std::size_t>(t)] = lab[static_cast<std::size_t>(best)];
      if (t > 0) best = back[static_cast<std::size_t>(t * NS + best)];
    }
    return bs + shift;
  }

  /// Posterior marginals p(y_t = k) into `out` (9 x T row-major).
  void marginals(std::span<const std::uint8_t> ids, std::span<const S> emissions, std::span<S> out,
                 GeneGrammarCrfEnds ends = {}) const {
    const Index T = check_sequence(ids, emissions, {});
    NUCLEO_CHECK(out.size() == emissions.size(), "GeneGrammarCrf::marginals: output has {} entries, need {}", out.size(),
                 emissions.size());
    if (T == 0) return;
    Work w;
    Grads g;
    g.reset(T, num_kinds());
    prepare(w, ids, emissions.data(), T);
    const double z = pass(w, ids, emissions.data(), T, T, nullptr, ends, 1.0, &g, false);  // 8 bytes per state
    NUCLEO_CHECK(std::isfinite(z), "GeneGrammarCrf::marginals: no grammar path (emissions must be finite)");
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<S>(g.em[i]);
  }

 private:
  static constexpr double kNeg = -1e300;

  struct Work {
    std::vector<int> ctx;                  // context per position
    std::vector<double> m;                 // max emission per position
    std::vector<double> wk;                // exp(edge scores), index kind + 1 (0: forced edges)
    std::vector<long double> alpha_long;   // scaled forward variables, T x states
    std::vector<double> alpha;             // the same in double (marginals), or log space
    Index log_space = 0;                   // passes rerun in log space
  };
  struct Grads {
    std::vector<double> em, kind;
    std::array<double, num_labels> start{}, end{};
    /// Posterior mass p of class `label` at position t (of T): the emission gradient, and the
    /// start / end gradients at the first / last position.
    void add(int label, Index t, Index T, double p, bool first, bool last) {
      const auto l = static_cast<std::size_t>(label);
      em[l * static_cast<std::size_t>(T) + static_cast<std::size_t>(t)] += p;
      if (first) start[l] += p;
      if (last) end[l] += p;
    }
    void reset(Index T, int kinds) {
      em.assign(static_cast<std::size_t>(num_labels * T), 0.0);
      kind.assign(static_cast<std::size_t>(kinds), 0.0);
      start.fill(0.0);
      end.fill(0.0);
    }
  };

  double value_of(std::string_view kind) const {
    const auto& names = kind_names();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == kind) return transitions_.value[static_cast<Index>(i)];
    return 0.0;
  }

  Index check_sequence(std::span<const std::uint8_t> ids, std::span<const S> emissions,
                       std::span<const std::int32_t> labels) const {
    const Index T = static_cast<Index>(ids.size());
    NUCLEO_CHECK(emissions.size() == static_cast<std::size_t>(num_labels * T),
                 "GeneGrammarCrf: {} emissions for {} positions x {} classes", emissions.size(), T, num_labels);
    NUCLEO_CHECK(labels.empty() || labels.size() == ids.size(), "GeneGrammarCrf: {} labels for {} positions",
                 labels.size(), T);
    return T;
  }

  /// Contexts, per-position maxima (emission (k, t) at em[k * stride + t]) and exp'd parameters.
  void prepare(Work& w, std::span<const std::uint8_t> ids, const S* em, Index stride) const {
    const Index T = static_cast<Index>(ids.size());
    w.ctx.resize(static_cast<std::size_t>(T));
    w.m.resize(static_cast<std::size_t>(T));
    for (Index t = 0; t < T; ++t) {
      w.ctx[static_cast<std::size_t>(t)] = GeneLattice::context(ids, t);
      double m = static_cast<double>(em[t]);
      for (int k = 1; k < num_labels; ++k) m = std::max(m, static_cast<double>(em[k * stride + t]));
      NUCLEO_CHECK(std::isfinite(m), "GeneGrammarCrf: emissions must be finite (position {})", t);
      w.m[static_cast<std::size_t>(t)] = m;
    }
    w.wk.assign(static_cast<std::size_t>(num_kinds()) + 1, 1.0);
    for (int k = 0; k < num_kinds(); ++k) w.wk[static_cast<std::size_t>(k) + 1] = std::exp(static_cast<double>(transitions_.value[k]));
  }

  /// One forward(-backward) pass: returns log Z, or log Z(labels) when `labels` is given (-inf if
  /// no path fits). With `g`: the marginals (times `sign`) added to g.em, the expected kind and
  /// start/end counts to g.kind / g.start / g.end.
  /// The scaled pass in long double (in double with `long_double` false: 8 bytes per state and
  /// position, for `marginals`); where even that would lose a state, the exact pass in log space.
  /// (Double first, then long double, was measured and is slower: with a trained network nearly
  /// every crop has a state that falls 708 nats behind, so nearly every pass ran twice.)
  double pass(Work& w, std::span<const std::uint8_t> ids, const S* em, Index stride, Index T, const std::int32_t* labels,
              GeneGrammarCrfEnds ends, double sign, Grads* g, bool long_double = true) const {
    const double z = long_double ? pass_scaled<long double>(w, ids, em, stride, T, labels, ends, sign, g)
                                 : pass_scaled<double>(w, ids, em, stride, T, labels, ends, sign, g);
    if (!std::isnan(z)) return z;
    ++w.log_space;
    return pass_log(w, ids, em, stride, T, labels, ends, sign, g);
  }

  /// The fast pass: probabilities scaled per position, in Acc. Returns NaN, having added nothing to
  /// g, where a state that has mass would underflow to 0 (long double reaches ~11,000 nats below
  /// a position's total): the caller then runs the exact log-space pass.
  template <class Acc>
  double pass_scaled(Work& w, std::span<const std::uint8_t> ids, const S* em, Index stride, Index T,
                     const std::int32_t* labels, GeneGrammarCrfEnds ends, double sign, Grads* g) const {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    const int NS = num_states();
    const auto lab = lattice_.labels();
    const std::size_t ns = static_cast<std::size_t>(NS);
    std::vector<Acc>& alpha = alpha_of<Acc>(w);
    alpha.resize(static_cast<std::size_t>(T) * ns);
    std::vector<Acc> c(static_cast<std::size_t>(T)), a(ns), wk(w.wk.size()), sw(ns), ew(ns), beta, nbeta, tmp;
    for (std::size_t k = 0; k < wk.size(); ++k) wk[k] = static_cast<Acc>(w.wk[k]);
    for (int s = 0; s < NS; ++s) {
      const int l = lab[static_cast<std::size_t>(s)];
      sw[static_cast<std::size_t>(s)] = lattice_.can_start(s, ids, ends.intergenic_start) ? std::exp(static_cast<Acc>(start_.value[l])) : Acc(0);
      ew[static_cast<std::size_t>(s)] = lattice_.can_end(s, ends.intergenic_end) ? std::exp(static_cast<Acc>(end_.value[l])) : Acc(0);
    }
    std::array<Acc, num_labels> eb{};
    bool lost = false;
    auto emit = [&](Index t) {  // eb[k] = exp(e_t(k) - m_t), zero where an observed label differs
      const int y = labels ? labels[t] : -1;
      for (int k = 0; k < num_labels; ++k) {
        const bool allowed = y < 0 || y == k;
        const double d = static_cast<double>(em[k * stride + t]) - w.m[static_cast<std::size_t>(t)];
        // exp in double where it cannot underflow (much faster than in long double)
        eb[static_cast<std::size_t>(k)] = !allowed ? Acc(0) : d > -700 ? static_cast<Acc>(std::exp(d)) : std::exp(static_cast<Acc>(d));
        lost |= allowed && !(eb[static_cast<std::size_t>(k)] > 0);
      }
    };
    double logz = 0;
    for (Index t = 0; t < T; ++t) {
      emit(t);
      if (t == 0) {
        a = sw;
      } else {
        std::fill(a.begin(), a.end(), Acc(0));
        const Acc* prev = alpha.data() + static_cast<std::size_t>(t - 1) * ns;
        for (const auto& e : lattice_.edges(w.ctx[static_cast<std::size_t>(t)]))
          a[e.to] += prev[e.from] * wk[static_cast<std::size_t>(e.kind + 1)];
      }
      Acc sum = 0;
      for (int s = 0; s < NS; ++s) {
        Acc& x = a[static_cast<std::size_t>(s)];
        const bool had = x > 0;
        x *= eb[static_cast<std::size_t>(lab[static_cast<std::size_t>(s)])];
        lost |= had && eb[static_cast<std::size_t>(lab[static_cast<std::size_t>(s)])] > 0 && !(x > 0);
        sum += x;
      }
      if (lost) return kNaN;
      if (!(sum > 0)) return -std::numeric_limits<double>::infinity();
      Acc* cur = alpha.data() + static_cast<std::size_t>(t) * ns;
      for (int s = 0; s < NS; ++s) {
        cur[s] = a[static_cast<std::size_t>(s)] / sum;
        if (a[static_cast<std::size_t>(s)] > 0 && !(cur[s] > 0)) return kNaN;
      }
      c[static_cast<std::size_t>(t)] = sum;
      logz += static_cast<double>(std::log(sum)) + w.m[static_cast<std::size_t>(t)];
    }
    Acc cend = 0;
    const Acc* last = alpha.data() + static_cast<std::size_t>(T - 1) * ns;
    for (int s = 0; s < NS; ++s) cend += last[s] * ew[static_cast<std::size_t>(s)];
    if (!(cend > 0)) return -std::numeric_limits<double>::infinity();
    logz += static_cast<double>(std::log(cend));
    if (!g) return logz;

    // Backward: beta_t(s) scaled so that alpha_t(s) beta_t(s) is the posterior of s at t. A state
    // the forward pass cannot reach (alpha 0) has no posterior and no edge count, whatever its
    // beta (which nothing bounds there, so it is never multiplied: 0 x inf would be NaN).
    beta.resize(ns);
    nbeta.resize(ns);
    tmp.resize(ns);
    for (int s = 0; s < NS; ++s) beta[static_cast<std::size_t>(s)] = ew[static_cast<std::size_t>(s)] / cend;
    auto add_posterior = [&](Index t, bool first, bool lastpos) {
      const Acc* al = alpha.data() + static_cast<std::size_t>(t) * ns;
      for (int s = 0; s < NS; ++s) {
        if (al[s] == 0) continue;
        g->add(lab[static_cast<std::size_t>(s)], t, T, sign * static_cast<double>(al[s] * beta[static_cast<std::size_t>(s)]),
               first, lastpos);
      }
    };
    add_posterior(T - 1, T == 1, true);
    for (Index t = T - 1; t >= 1; --t) {
      emit(t);
      const Acc inv = Acc(1) / c[static_cast<std::size_t>(t)];
      for (int s = 0; s < NS; ++s)
        tmp[static_cast<std::size_t>(s)] = eb[static_cast<std::size_t>(lab[static_cast<std::size_t>(s)])] * beta[static_cast<std::size_t>(s)] * inv;
      std::fill(nbeta.begin(), nbeta.end(), Acc(0));
      const Acc* prev = alpha.data() + static_cast<std::size_t>(t - 1) * ns;
      for (const auto& e : lattice_.edges(w.ctx[static_cast<std::size_t>(t)])) {
        if (prev[e.from] == 0) continue;  // beta of an unreachable state is never used
        const Acc x = wk[static_cast<std::size_t>(e.kind + 1)] * tmp[e.to];
        nbeta[e.from] += x;
        if (e.kind >= 0) g->kind[static_cast<std::size_t>(e.kind)] += sign * static_cast<double>(prev[e.from] * x);
      }
      std::swap(beta, nbeta);
      add_posterior(t - 1, t == 1, false);
    }
    return logz;
  }

  template <class Acc>
  static std::vector<Acc>& alpha_of(Work& w) {
    if constexpr (std::is_same_v<Acc, double>) return w.alpha;
    else return w.alpha_long;
  }

  /// The exact pass in log space (one exp per edge): for sequences whose scores span more than the
  /// scaled pass can hold. Same results and accumulation as pass_scaled.
  double pass_log(Work& w, std::span<const std::uint8_t> ids, const S* em, Index stride, Index T,
                  const std::int32_t* labels, GeneGrammarCrfEnds ends, double sign, Grads* g) const {
    const int NS = num_states();
    const auto lab = lattice_.labels();
    const std::size_t ns = static_cast<std::size_t>(NS);
    std::vector<double>& la = w.alpha;
    la.assign(static_cast<std::size_t>(T) * ns, kNeg);
    std::vector<double> lw(w.wk.size(), 0.0), mx(ns), acc(ns), lb(ns), nlb(ns), tmp(ns);
    for (int k = 0; k < num_kinds(); ++k) lw[static_cast<std::size_t>(k) + 1] = static_cast<double>(transitions_.value[k]);
    auto e_of = [&](int s, Index t) {  // emission of state s at t, kNeg where an observed label differs
      const int l = lab[static_cast<std::size_t>(s)], y = labels ? labels[t] : -1;
      return (y >= 0 && y != l) ? kNeg : static_cast<double>(em[l * stride + t]);
    };
    auto lse_add = [](double& m, double& sum, double v) {  // running log-sum-exp as (max, scaled sum)
      if (v <= kNeg / 2) return;
      if (v > m) {
        sum = sum * std::exp(m - v) + 1.0;
        m = v;
      } else {
        sum += std::exp(v - m);
      }
    };
    for (int s = 0; s < NS; ++s)
      if (lattice_.can_start(s, ids, ends.intergenic_start) && e_of(s, 0) > kNeg / 2)
        la[static_cast<std::size_t>(s)] = static_cast<double>(start_.value[lab[static_cast<std::size_t>(s)]]) + e_of(s, 0);
    for (Index t = 1; t < T; ++t) {
      std::fill(mx.begin(), mx.end(), kNeg);
      std::fill(acc.begin(), acc.end(), 0.0);
      const double* prev = la.data() + static_cast<std::size_t>(t - 1) * ns;
      for (const auto& e : lattice_.edges(w.ctx[static_cast<std::size_t>(t)]))
        lse_add(mx[e.to], acc[e.to], prev[e.from] + lw[static_cast<std::size_t>(e.kind + 1)]);
      double* cur = la.data() + static_cast<std::size_t>(t) * ns;
      for (int s = 0; s < NS; ++s) {
        const double e = e_of(s, t);
        if (mx[static_cast<std::size_t>(s)] > kNeg / 2 && e > kNeg / 2)
          cur[s] = mx[static_cast<std::size_t>(s)] + std::log(acc[static_cast<std::size_t>(s)]) + e;
      }
    }
    double zm = kNeg, zs = 0;
    const double* last = la.data() + static_cast<std::size_t>(T - 1) * ns;
    for (int s = 0; s < NS; ++s)
      if (lattice_.can_end(s, ends.intergenic_end))
        lse_add(zm, zs, last[s] + static_cast<double>(end_.value[lab[static_cast<std::size_t>(s)]]));
    if (!(zm > kNeg / 2)) return -std::numeric_limits<double>::infinity();
    const double logz = zm + std::log(zs);
    if (!g) return logz;

    for (int s = 0; s < NS; ++s)
      lb[static_cast<std::size_t>(s)] =
          lattice_.can_end(s, ends.intergenic_end) ? static_cast<double>(end_.value[lab[static_cast<std::size_t>(s)]]) : kNeg;
    auto add_posterior = [&](Index t, bool first, bool lastpos) {
      const double* al = la.data() + static_cast<std::size_t>(t) * ns;
      for (int s = 0; s < NS; ++s) {
        if (al[s] <= kNeg / 2 || lb[static_cast<std::size_t>(s)] <= kNeg / 2) continue;
        g->add(lab[static_cast<std::size_t>(s)], t, T, sign * std::exp(al[s] + lb[static_cast<std::size_t>(s)] - logz),
               first, lastpos);
      }
    };
    add_posterior(T - 1, T == 1, true);
    for (Index t = T - 1; t >= 1; --t) {
      for (int s = 0; s < NS; ++s) {
        const double e = e_of(s, t);
        tmp[static_cast<std::size_t>(s)] = e > kNeg / 2 && lb[static_cast<std::size_t>(s)] > kNeg / 2 ? e + lb[static_cast<std::size_t>(s)] : kNeg;
      }
      std::fill(mx.begin(), mx.end(), kNeg);
      std::fill(acc.begin(), acc.end(), 0.0);
      const double* prev = la.data() + static_cast<std::size_t>(t - 1) * ns;
      for (const auto& e : lattice_.edges(w.ctx[static_cast<std::size_t>(t)])) {
        const double v = lw[static_cast<std::size_t>(e.kind + 1)] + tmp[e.to];
        if (v <= kNeg / 2) continue;
        lse_add(mx[e.from], acc[e.from], v);
        if (e.kind >= 0 && prev[e.from] > kNeg / 2)
          g->kind[static_cast<std::size_t>(e.kind)] += sign * std::exp(prev[e.from] + v - logz);
      }
      for (int s = 0; s < NS; ++s)
        nlb[static_cast<std::size_t>(s)] = mx[static_cast<std::size_t>(s)] > kNeg / 2 ? mx[static_cast<std::size_t>(s)] + std::log(acc[static_cast<std::size_t>(s)]) : kNeg;
      std::swap(lb, nlb);
      add_posterior(t - 1, t == 1, false);
    }
    return logz;
  }

  std::optional<double> sequence_nll(Work& w, std::span<const std::uint8_t> ids, const S* em, Index stride, Index T,
                                     const std::int32_t* labels, GeneGrammarCrfEnds ends, Grads* g) const {
    prepare(w, ids, em, stride);
    const double gold = pass(w, ids, em, stride, T, labels, ends, -1.0, g);
    if (!std::isfinite(gold)) {
      if (g) g->reset(T, num_kinds());
      return std::nullopt;
    }
    const double z = pass(w, ids, em, stride, T, nullptr, ends, 1.0, g);
    NUCLEO_CHECK(std::isfinite(z), "GeneGrammarCrf: log Z is not finite");
    return z - gold;
  }

  void add_param_grads(const Grads& g, double scale) {
    for (int k = 0; k < num_kinds(); ++k) transitions_.grad[k] += static_cast<S>(scale * g.kind[static_cast<std::size_t>(k)]);
    for (int k = 0; k < num_labels; ++k) {
      start_.grad[k] += static_cast<S>(scale * g.start[static_cast<std::size_t>(k)]);
      end_.grad[k] += static_cast<S>(scale * g.end[static_cast<std::size_t>(k)]);
    }
  }

  template <bool Grad, class Ctx, class TokenScalar>
  double run_batch(Ctx& ctx, const Tensor3<TokenScalar>& tokens, const Tensor3<S>& emissions, const Labels& targets,
                   Tensor3<S>* d_emissions) {
    const Index B = emissions.dimension(0), L = emissions.dimension(2);
    NUCLEO_CHECK(emissions.dimension(1) == num_labels, "GeneGrammarCrf: emissions have {} channels, need {}",
                 emissions.dimension(1), num_labels);
    NUCLEO_CHECK(tokens.dimension(0) == B && tokens.dimension(1) == 1 && tokens.dimension(2) == L,
                 "GeneGrammarCrf: tokens [{}, {}, {}] for emissions [{}, 9, {}]", tokens.dimension(0),
                 tokens.dimension(1), tokens.dimension(2), B, L);
    NUCLEO_CHECK(targets.rows() == B && targets.cols() == L, "GeneGrammarCrf: targets [{}, {}] for emissions [{}, 9, {}]",
                 targets.rows(), targets.cols(), B, L);
    if constexpr (Grad) {
      d_emissions->resize(B, num_labels, L);
      d_emissions->setZero();
    }
    std::vector<double> nll(static_cast<std::size_t>(B), 0.0);
    std::vector<Index> observed(static_cast<std::size_t>(B), 0);
    std::vector<char> fits(static_cast<std::size_t>(B), 0);
    std::vector<Grads> grads(static_cast<std::size_t>(B));
    std::vector<Index> log_space(static_cast<std::size_t>(B), 0);
    ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
      Work w;
      std::vector<std::uint8_t> ids;
      std::vector<std::int32_t> y;
      for (Index b = b0; b < b1; ++b) {
        const Index T = ctx.length_of(b, L);
        if (T == 0) {
          fits[static_cast<std::size_t>(b)] = 1;
          continue;
        }
        ids.resize(static_cast<std::size_t>(T));
        y.resize(static_cast<std::size_t>(T));
        Index obs = 0;
        for (Index t = 0; t < T; ++t) {
          ids[static_cast<std::size_t>(t)] = static_cast<std::uint8_t>(tokens(b, 0, t));
          y[static_cast<std::size_t>(t)] = targets(b, t);
          obs += targets(b, t) >= 0;
        }
        if (obs == 0) {
          fits[static_cast<std::size_t>(b)] = 1;
          continue;
        }
        Grads* g = nullptr;
        if constexpr (Grad) {
          grads[static_cast<std::size_t>(b)].reset(T, num_kinds());
          g = &grads[static_cast<std::size_t>(b)];
        }
        const S* em = emissions.data() + b * num_labels * L;
        const Index before = w.log_space;
        const auto r = sequence_nll(w, ids, em, L, T, y.data(), {}, g);
        log_space[static_cast<std::size_t>(b)] = w.log_space - before;
        if (!r) continue;
        fits[static_cast<std::size_t>(b)] = 1;
        nll[static_cast<std::size_t>(b)] = *r;
        observed[static_cast<std::size_t>(b)] = obs;
        if constexpr (Grad) {
          S* d = d_emissions->data() + b * num_labels * L;
          for (int k = 0; k < num_labels; ++k)
            for (Index t = 0; t < T; ++t) d[k * L + t] = static_cast<S>(g->em[static_cast<std::size_t>(k * T + t)]);
        }
      }
    });
    double total = 0, denom = 0;
    unfit_ = 0;
    for (Index n : log_space) log_space_passes_ += n;
    for (Index b = 0; b < B; ++b) {
      if (!fits[static_cast<std::size_t>(b)]) {
        ++unfit_;
        continue;
      }
      total += nll[static_cast<std::size_t>(b)];
      if (options_.reduction == Reduction::mean) denom += static_cast<double>(observed[static_cast<std::size_t>(b)]);
      else if (options_.reduction == Reduction::mean_sequences) denom += observed[static_cast<std::size_t>(b)] > 0;
    }
    if (options_.reduction == Reduction::sum) denom = 1;
    if (denom <= 0) {
      if constexpr (Grad) d_emissions->setZero();
      return 0.0;
    }
    const double scale = 1.0 / denom;
    if constexpr (Grad) {
      S* d = d_emissions->data();
      for (Index i = 0; i < d_emissions->size(); ++i) d[i] = static_cast<S>(d[i] * scale);
      for (Index b = 0; b < B; ++b)  // in batch order: deterministic
        if (fits[static_cast<std::size_t>(b)] && observed[static_cast<std::size_t>(b)] > 0)
          add_param_grads(grads[static_cast<std::size_t>(b)], scale);
    }
    return total * scale;
  }

  GeneGrammarCrfOptions options_;
  GeneLattice lattice_;
  Param<S> transitions_, start_, end_;
  Index unfit_ = 0;
  Index log_space_passes_ = 0;
};

inline GeneRunLengths GeneRunLengths::from_labels(std::span<const std::vector<std::int8_t>> tracks) {
  double n[3] = {0, 0, 0}, total[3] = {0, 0, 0};  // exon, intron, intergenic
  auto group = [](int y) { return y == gene_exon_fwd || y == gene_exon_rev ? 0 : y == gene_intron_fwd || y == gene_intron_rev ? 1 : y == gene_noncoding ? 2 : -1; };
  for (const auto& tr : tracks) {
    int cur = -1;
    for (std::int8_t y : tr) {
      const int gi = group(y);
      if (gi >= 0) {
        if (gi != cur) n[gi] += 1;
        total[gi] += 1;
      }
      cur = gi;
    }
  }
  GeneRunLengths r;
  if (n[0] > 0) r.exon = total[0] / n[0];
  if (n[1] > 0) r.intron = total[1] / n[1];
  if (n[2] > 0) r.intergenic = total[2] / n[2];
  return r;
}

}  // namespace nucleo
