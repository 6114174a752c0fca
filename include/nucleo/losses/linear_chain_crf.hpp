#pragma once
/// `LinearChainCRF<K, Scalar>`: a linear-chain conditional random field over K tags, as a loss
/// (negative log-likelihood with exact gradients) and as a decoder (Viterbi, posterior marginals).
///
/// Model. For one sequence of valid length T with emissions e_t(j) (logits of any head) and the
/// trainable transitions A (K x K, from i to j), start s (K) and end z (K) scores, a tag path
/// y_0..y_{T-1} scores
///     score(y) = s(y_0) + sum_{t<T} e_t(y_t) + sum_{1<=t<T} A(y_{t-1}, y_t) + z(y_{T-1}),
/// and p(y | e) = exp(score(y)) / Z with Z = sum over all allowed paths (forward algorithm, log space).
///
/// Shapes. emissions: Tensor3 [batch, K, length] (the layout of every nucleo activation). targets:
/// Labels [batch, length] int32 in [0, K) or -100. The valid length of sequence b is
/// ctx.length_of(b, length): positions at or beyond it are excluded entirely (the chain ends at
/// T-1, their labels are ignored, their gradient is 0, decoding writes -100 there).
///
/// Partially labelled sequences (the -100 rule). A position inside a sequence whose label is -100
/// is *unobserved*: the gold score is the log-sum over every allowed path that agrees with the
/// observed labels, NLL = log Z - log sum_{y consistent} exp(score(y)). With every position
/// observed this is the usual log Z - score(gold). A sequence with no observed label contributes 0.
///
/// Reductions (CrfOptions::reduction, losses/reduction.hpp): `Reduction::sum` of the per-sequence
/// NLLs; `Reduction::mean_sequences` = sum / number of sequences with at least one observed label;
/// `Reduction::mean` (default, the scale of a per-token cross-entropy) = sum / number of observed
/// labels. An empty denominator gives 0.
///
/// As a `Loss` (core/concepts.hpp): scalar_type, target_type = Labels, name(), value_and_grad() and
/// value() below, so a CRF goes wherever a cross-entropy goes.
///
/// Gradients (exact, from forward-backward marginals), scaled by the reduction:
///     dNLL/de_t(j) = p(y_t = j | e) - q(y_t = j)        q = the same marginal given the observed labels
///     dNLL/dA(i,j) = sum_t [p(y_{t-1}=i, y_t=j) - q(..)],  start/end alike at t = 0 and t = T-1.
/// `value_and_grad` ASSIGNS d_emissions (resized to the emissions' shape) and ACCUMULATES into the
/// grads of "transitions", "start" and "end" (visit_params), as layers do, so optimizers, gradient
/// clipping and checkpoints treat them like layer parameters.
///
/// Constraints (CrfConstraints, any grammar over the K tags): a
/// forbidden transition/start/end scores minus infinity in training and decoding; its parameter
/// entry is ignored and gets no gradient. Training labels that use a forbidden transition (so that
/// no allowed path agrees with them) raise nucleo::Error naming the sequence.
///
/// Parameters: transitions {K, K} (row = from, column = to; ParamKind::weight), start {K} and end {K}
/// (ParamKind::bias). Initialised to zeros, or uniform(-r, r) with r = CrfOptions::init_range > 0
/// (pytorch-crf draws uniform(-0.1, 0.1)).
///
/// Numerics: log space with per-step renormalisation (every step's scores are shifted by their max,
/// the shifts summed in double), a stable log-sum-exp per tag, and local normalisation of the
/// marginals, so a 120,000-position sequence with emissions of magnitude ~100 gives a finite NLL
/// and exact marginals in float. Forbidden = -1e30 internally (never -inf - -inf = NaN). Emissions
/// must be finite (checked). See nucleo/detail/crf_kernels.hpp.
///
/// Cost and memory: O(T K^2) per sequence, sequences in parallel (ctx.parallel_for over the batch),
/// every step vectorised over K. Training keeps one row of 64 bytes (K <= 16 floats) per position
/// of the sequence in flight on each thread (7.7 MB for 120 kb). Viterbi keeps at
/// most `decode_segment` rows and recomputes segments from checkpoints (exact), and
/// `viterbi_streaming` decodes a chromosome-scale sequence from an emissions callback in
/// O(segment * K + length / segment * K) memory.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/detail/crf_kernels.hpp"
#include "nucleo/losses/crf_constraints.hpp"
#include "nucleo/losses/reduction.hpp"

#include <fmt/format.h>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace nucleo {

struct CrfOptions {
  Reduction reduction = Reduction::mean;  ///< how the per-sequence NLLs are combined (see above)
  double init_range = 0.0;             ///< 0: zeros; > 0: uniform(-init_range, init_range)
  std::uint64_t seed = 0x5eed;         ///< for the uniform initialisation
  Index decode_segment = Index{1} << 16;  ///< Viterbi keeps at most this many rows per sequence
};

/// Result of Viterbi decoding of a batch.
struct CrfPaths {
  Labels tags;                  ///< [batch, length]: best tag per position, -100 at or beyond the length
  std::vector<double> scores;   ///< score(best path) per sequence (0 for an empty sequence)
  std::vector<Index> lengths;   ///< valid length per sequence

  /// The decoded path of sequence b (its valid positions only).
  std::vector<int> path(Index b) const {
    std::vector<int> p(static_cast<std::size_t>(lengths[static_cast<std::size_t>(b)]));
    for (std::size_t t = 0; t < p.size(); ++t) p[t] = tags(b, static_cast<Index>(t));
    return p;
  }
};

template <int K, class Scalar = float>
class LinearChainCRF {
  static_assert(K >= 1, "LinearChainCRF<K>: K is the number of tags and must be at least 1");
  static_assert(std::is_floating_point_v<Scalar>, "LinearChainCRF<K, Scalar>: Scalar must be float or double");
  using Kern = detail::crf::Kernel<Scalar, K>;
  using Row = typename Kern::Row;
  using Potentials = typename Kern::Potentials;
  using Counts = typename Kern::Counts;

 public:
  using scalar_type = Scalar;
  using target_type = Labels;
  static constexpr int num_tags = K;
  static constexpr int in_channels = K;

  explicit LinearChainCRF(CrfOptions options = {}, CrfConstraints constraints = {})
      : options_(options),
        transitions_({K, K}, ParamKind::weight),
        start_({K}, ParamKind::bias),
        end_({K}, ParamKind::bias) {
    set_constraints(std::move(constraints));
    if (options_.init_range > 0) {
      Rng rng(options_.seed, 0xC4F);
      for (Param<Scalar>* p : {&transitions_, &start_, &end_})
        for (Index i = 0; i < p->size(); ++i)
          p->value[i] = static_cast<Scalar>(rng.uniform(-options_.init_range, options_.init_range));
    }
  }

  std::string_view name() const { return "linear_chain_crf"; }

  const CrfOptions& options() const { return options_; }
  void set_reduction(Reduction r) { options_.reduction = r; }

  const CrfConstraints& constraints() const { return constraints_; }
  /// An empty set removes all constraints; otherwise it must be over K tags.
  void set_constraints(CrfConstraints c) {
    NUCLEO_CHECK(c.empty() || c.num_tags() == K, "LinearChainCRF<{}>: constraints over {} tags", K, c.num_tags());
    constraints_ = std::move(c);
  }

  template <class V>
  void visit_params(V&& v) {
    v(std::string_view("transitions"), transitions_);
    v(std::string_view("start"), start_);
    v(std::string_view("end"), end_);
  }

  Param<Scalar>& transitions() { return transitions_; }
  Param<Scalar>& start() { return start_; }
  Param<Scalar>& end() { return end_; }
  const Param<Scalar>& transitions() const { return transitions_; }
  const Param<Scalar>& start() const { return start_; }
  const Param<Scalar>& end() const { return end_; }

  // ------------------------------------------------------------------ loss
  /// Loss (NLL with the chosen reduction); d_emissions ASSIGNED, parameter grads ACCUMULATED.
  template <class Ctx>
  double value_and_grad(Ctx& ctx, const Tensor3<Scalar>& emissions, const Labels& targets,
                        Tensor3<Scalar>& d_emissions) {
    return run_loss<true>(ctx, emissions, targets, &d_emissions);
  }

  /// Loss only (forward passes only).
  template <class Ctx>
  double value(Ctx& ctx, const Tensor3<Scalar>& emissions, const Labels& targets) {
    return run_loss<false>(ctx, emissions, targets, nullptr);
  }

  // ------------------------------------------------------------------ inference
  /// log Z per sequence (0 for an empty sequence, -inf if the constraints allow no path).
  template <class Ctx>
  std::vector<double> log_partition(Ctx& ctx, const Tensor3<Scalar>& emissions) const {
    check_emissions(emissions);
    const Index B = emissions.dimension(0), L = emissions.dimension(2);
    const Potentials pot = potentials();
    std::vector<double> out(static_cast<std::size_t>(B), 0.0);
    ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
      std::vector<Row> alpha;
      for (Index b = b0; b < b1; ++b) {
        const Index n = ctx.length_of(b, L);
        if (n == 0) continue;
        check_finite(emissions, b, n);
        alpha.resize(static_cast<std::size_t>(n));
        out[static_cast<std::size_t>(b)] = Kern::forward(pot, n, emitter(emissions, b), alpha.data());
      }
    });
    return out;
  }

  /// Posterior marginals p(y_t = k | e) into out [batch, K, length] (0 at or beyond the length).
  template <class Ctx>
  void marginals(Ctx& ctx, const Tensor3<Scalar>& emissions, Tensor3<Scalar>& out) const {
    check_emissions(emissions);
    const Index B = emissions.dimension(0), L = emissions.dimension(2);
    ensure_shape_like(out, emissions);
    const Potentials pot = potentials();
    ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
      std::vector<Row> alpha;
      for (Index b = b0; b < b1; ++b) {
        const Index n = ctx.length_of(b, L);
        Scalar* o = out.data() + b * K * L;
        zero_tail(o, n, L);
        if (n == 0) continue;
        check_finite(emissions, b, n);
        alpha.resize(static_cast<std::size_t>(n));
        const auto emit = emitter(emissions, b);
        if (!std::isfinite(Kern::forward(pot, n, emit, alpha.data()))) throw no_path(b, n);
        Kern::backward(pot, n, emit, alpha.data(),
                       [&](Index t, const Row& q) {
                         for (int k = 0; k < K; ++k) o[k * L + t] = q(k);
                       },
                       nullptr);
      }
    });
  }

  /// Viterbi decoding: best allowed path and its score per sequence.
  template <class Ctx>
  CrfPaths viterbi(Ctx& ctx, const Tensor3<Scalar>& emissions) const {
    check_emissions(emissions);
    const Index B = emissions.dimension(0), L = emissions.dimension(2);
    CrfPaths r;
    r.tags = Labels::Constant(B, L, ignore_index);
    r.scores.assign(static_cast<std::size_t>(B), 0.0);
    r.lengths.resize(static_cast<std::size_t>(B));
    for (Index b = 0; b < B; ++b) r.lengths[static_cast<std::size_t>(b)] = ctx.length_of(b, L);
    const Potentials pot = potentials();
    ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
      std::vector<Row> rows;
      std::vector<std::int32_t> path;
      for (Index b = b0; b < b1; ++b) {
        const Index n = r.lengths[static_cast<std::size_t>(b)];
        if (n == 0) continue;
        check_finite(emissions, b, n);
        TensorSource src{emitter(emissions, b)};
        const double s = Kern::viterbi(pot, n, options_.decode_segment, src,
                                       [&](Index begin, const std::int32_t* tags, Index count) {
                                         for (Index t = 0; t < count; ++t) r.tags(b, begin + t) = tags[t];
                                       },
                                       rows, path);
        if (!std::isfinite(s)) throw no_path(b, n);
        r.scores[static_cast<std::size_t>(b)] = s;
      }
    });
    return r;
  }

  /// The Viterbi tags only ([batch, length], -100 beyond each length); for metrics.
  template <class Ctx>
  Labels decode(Ctx& ctx, const Tensor3<Scalar>& emissions) const {
    return viterbi(ctx, emissions).tags;
  }

  /// Exact Viterbi decoding of one (chromosome-scale) sequence of `length` positions whose
  /// emissions come from a callback, in bounded memory.
  ///   fill(Index begin, Index end, RowMatrix<Scalar>& out): write the emissions of positions
  ///     [begin, end) into out, already sized K x (end - begin). It is called twice per segment
  ///     (a forward pass in order, then a traceback pass from the last segment to the first), with
  ///     segments of `segment` positions (0 = options().decode_segment).
  ///   sink(Index begin, std::span<const std::int32_t> tags): receives the decoded tags of
  ///     [begin, begin + tags.size()), once per segment, last segment first.
  /// Returns the best path score. The path equals viterbi()'s on the same emissions exactly.
  /// Memory: segment * 64 B of rows + K x segment emissions + 64 B per segment.
  template <class Fill, class Sink>
  double viterbi_streaming(Index length, Fill&& fill, Sink&& sink, Index segment = 0) const {
    NUCLEO_CHECK_CONFIG(length >= 0, "LinearChainCRF::viterbi_streaming: negative length {}", length);
    if (length == 0) return 0.0;
    if (segment <= 0) segment = options_.decode_segment;
    const Potentials pot = potentials();
    CallbackSource<Fill> src{fill, RowMatrix<Scalar>(), 0};
    std::vector<Row> rows;
    std::vector<std::int32_t> path;
    const double s = Kern::viterbi(pot, length, segment, src,
                                   [&](Index begin, const std::int32_t* tags, Index count) {
                                     sink(begin, std::span<const std::int32_t>(tags, static_cast<std::size_t>(count)));
                                   },
                                   rows, path);
    if (!std::isfinite(s)) throw Error(fmt::format("LinearChainCRF: the constraints allow no tag path of length {}", length));
    return s;
  }

 private:
  // Reads the emissions of sequence b, position t (K values strided by L) into e.
  struct Emitter {
    const Scalar* x;
    Index L;
    void operator()(Index t, Row& e) const {
      for (int k = 0; k < K; ++k) e(k) = x[k * L + t];
    }
  };
  // The same, restricted to the observed label where there is one (others -> forbidden).
  struct ClampedEmitter {
    const Scalar* x;
    Index L;
    const std::int32_t* y;
    void operator()(Index t, Row& e) const {
      const int yt = y[t];
      if (yt == ignore_index) {
        for (int k = 0; k < K; ++k) e(k) = x[k * L + t];
      } else {
        for (int k = 0; k < K; ++k) e(k) = detail::crf::neg<Scalar>;
        e(yt) = x[yt * L + t];
      }
    }
  };
  struct TensorSource {
    Emitter emit;
    void load(Index, Index) {}
    void operator()(Index t, Row& e) const { emit(t, e); }
  };
  template <class Fill>
  struct CallbackSource {
    Fill& fill;
    RowMatrix<Scalar> buf;
    Index begin;
    void load(Index b, Index e) {
      buf.resize(K, e - b);
      fill(b, e, buf);
      NUCLEO_CHECK(buf.rows() == K && buf.cols() == e - b,
                   "LinearChainCRF::viterbi_streaming: fill() resized its output to {} x {}, expected {} x {}",
                   buf.rows(), buf.cols(), K, e - b);
      NUCLEO_CHECK(buf.allFinite(), "LinearChainCRF::viterbi_streaming: non-finite emissions in positions [{}, {})",
                   b, e);
      begin = b;
    }
    void operator()(Index t, Row& e) const {
      for (int k = 0; k < K; ++k) e(k) = buf(k, t - begin);
    }
  };

  static Emitter emitter(const Tensor3<Scalar>& x, Index b) {
    return Emitter{x.data() + b * K * x.dimension(2), x.dimension(2)};
  }

  Potentials potentials() const {
    constexpr Scalar ng = detail::crf::neg<Scalar>;
    Potentials p;
    for (int i = 0; i < K; ++i) {
      p.from[static_cast<std::size_t>(i)].setConstant(ng);
      p.to[static_cast<std::size_t>(i)].setConstant(ng);
    }
    p.start.setConstant(ng);
    p.end.setConstant(ng);
    for (int i = 0; i < K; ++i) {
      for (int j = 0; j < K; ++j) {
        const Scalar a = constraints_.allowed(i, j) ? transitions_.value[i * K + j] : ng;
        p.from[static_cast<std::size_t>(i)](j) = a;
        p.to[static_cast<std::size_t>(j)](i) = a;
      }
      p.start(i) = constraints_.start_allowed(i) ? start_.value[i] : ng;
      p.end(i) = constraints_.end_allowed(i) ? end_.value[i] : ng;
    }
    return p;
  }

  static void check_emissions(const Tensor3<Scalar>& x) {
    NUCLEO_CHECK(x.dimension(1) == K, "LinearChainCRF<{}>: emissions have {} channels, expected {} (shape [{}, {}, {}])",
                 K, x.dimension(1), K, x.dimension(0), x.dimension(1), x.dimension(2));
  }
  static void check_finite(const Tensor3<Scalar>& x, Index b, Index n) {
    const Index L = x.dimension(2);
    for (int k = 0; k < K; ++k) {
      const Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>> row(x.data() + (b * K + k) * L, n);
      if (!row.allFinite()) {
        Index t = 0;
        while (std::isfinite(row[t])) ++t;
        throw Error(fmt::format("LinearChainCRF: emission of tag {} at sequence {} position {} is {}", k, b, t,
                                static_cast<double>(row[t])));
      }
    }
  }
  static void zero_tail(Scalar* o, Index n, Index L) {
    for (int k = 0; k < K; ++k)
      for (Index t = n; t < L; ++t) o[k * L + t] = Scalar(0);
  }
  static Error no_path(Index b, Index n) {
    return Error(fmt::format("LinearChainCRF: the constraints allow no tag path for sequence {} (length {})", b, n));
  }
  Error no_gold_path(const Labels& y, Index b, Index n) const {
    std::string why;
    const Labels row = y.block(b, 0, 1, n);
    const auto v = constraints_.violations(row, {}, 1);
    if (!v.empty()) {
      CrfViolation first = v.front();
      first.sequence = b;
      why = ": " + first.describe();
    }
    return Error(fmt::format(
        "LinearChainCRF: no allowed tag path agrees with the labels of sequence {} (length {}){}; fix the labels "
        "or the constraints (CrfConstraints::violations lists them)",
        b, n, why));
  }

  struct SeqResult {
    double nll = 0;
    Counts counts;  // (model marginals) - (marginals given the labels), unscaled
  };

  template <bool Grad, class Ctx>
  double run_loss(Ctx& ctx, const Tensor3<Scalar>& emissions, const Labels& targets, Tensor3<Scalar>* d) {
    check_emissions(emissions);
    const Index B = emissions.dimension(0), L = emissions.dimension(2);
    NUCLEO_CHECK(targets.rows() == B && targets.cols() == L,
                 "LinearChainCRF: targets are [{}, {}], emissions [{}, {}, {}]: expected targets [{}, {}]",
                 targets.rows(), targets.cols(), B, K, L, B, L);
    std::vector<Index> len(static_cast<std::size_t>(B)), observed(static_cast<std::size_t>(B), 0);
    Index n_seq = 0, n_tok = 0;
    for (Index b = 0; b < B; ++b) {
      const Index n = ctx.length_of(b, L);
      len[static_cast<std::size_t>(b)] = n;
      Index c = 0;
      for (Index t = 0; t < n; ++t) {
        const int y = targets(b, t);
        if (y == ignore_index) continue;
        NUCLEO_CHECK(y >= 0 && y < K, "LinearChainCRF<{}>: label {} at sequence {} position {} is neither in [0, {}) nor -100",
                     K, y, b, t, K);
        ++c;
      }
      observed[static_cast<std::size_t>(b)] = c;
      n_tok += c;
      n_seq += c > 0 ? 1 : 0;
    }
    double scale = 1.0;
    switch (options_.reduction) {
      case Reduction::sum: break;
      case Reduction::mean_sequences: scale = n_seq > 0 ? 1.0 / static_cast<double>(n_seq) : 0.0; break;
      case Reduction::mean: scale = n_tok > 0 ? 1.0 / static_cast<double>(n_tok) : 0.0; break;
    }
    if constexpr (Grad) ensure_shape_like(*d, emissions);
    const Potentials pot = potentials();
    const Scalar sc = static_cast<Scalar>(scale);
    std::vector<SeqResult> res(static_cast<std::size_t>(B));

    ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
      std::vector<Row> alpha;
      for (Index b = b0; b < b1; ++b) {
        const Index n = len[static_cast<std::size_t>(b)];
        Scalar* g = Grad ? d->data() + b * K * L : nullptr;
        if constexpr (Grad) zero_tail(g, observed[static_cast<std::size_t>(b)] > 0 ? n : 0, L);
        if (observed[static_cast<std::size_t>(b)] == 0) continue;
        check_finite(emissions, b, n);
        SeqResult& r = res[static_cast<std::size_t>(b)];
        alpha.resize(static_cast<std::size_t>(n));
        const Emitter emit = emitter(emissions, b);
        const double logz = Kern::forward(pot, n, emit, alpha.data());
        if (!std::isfinite(logz)) throw no_path(b, n);
        Counts model;
        if constexpr (Grad)
          Kern::backward(pot, n, emit, alpha.data(),
                         [&](Index t, const Row& q) {
                           for (int k = 0; k < K; ++k) g[k * L + t] = sc * q(k);
                         },
                         &model);
        const std::int32_t* y = targets.data() + b * L;
        double gold;
        Counts given;
        if (observed[static_cast<std::size_t>(b)] == n) {
          // Fully labelled: the gold path's score, its one-hot marginals.
          gold = gold_score(pot, emit, y, n);
          if (!(gold > detail::crf::impossible_below)) throw no_gold_path(targets, b, n);
          if constexpr (Grad) {
            for (Index t = 0; t < n; ++t) g[y[t] * L + t] -= sc;
            given.start[y[0]] = 1;
            given.end[y[n - 1]] = 1;
            for (Index t = 1; t < n; ++t) given.trans[y[t - 1]][y[t]] += 1;
          }
        } else {
          // Partially labelled: log-sum over the paths consistent with the observed labels.
          const ClampedEmitter cemit{emit.x, L, y};
          gold = Kern::forward(pot, n, cemit, alpha.data());
          if (!std::isfinite(gold)) throw no_gold_path(targets, b, n);
          if constexpr (Grad)
            Kern::backward(pot, n, cemit, alpha.data(),
                           [&](Index t, const Row& q) {
                             for (int k = 0; k < K; ++k) g[k * L + t] -= sc * q(k);
                           },
                           &given);
        }
        r.nll = logz - gold;
        if constexpr (Grad) {
          for (int i = 0; i < K; ++i) {
            r.counts.start[i] = model.start[i] - given.start[i];
            r.counts.end[i] = model.end[i] - given.end[i];
            for (int j = 0; j < K; ++j) r.counts.trans[i][j] = model.trans[i][j] - given.trans[i][j];
          }
        }
      }
    });

    // Reduce in sequence order (deterministic for any thread count).
    double total = 0;
    Counts sum;
    for (const SeqResult& r : res) {
      total += r.nll;
      if constexpr (Grad) {
        for (int i = 0; i < K; ++i) {
          sum.start[i] += r.counts.start[i];
          sum.end[i] += r.counts.end[i];
          for (int j = 0; j < K; ++j) sum.trans[i][j] += r.counts.trans[i][j];
        }
      }
    }
    if constexpr (Grad) {
      for (int i = 0; i < K; ++i) {
        if (constraints_.start_allowed(i)) start_.grad[i] += static_cast<Scalar>(scale * sum.start[i]);
        if (constraints_.end_allowed(i)) end_.grad[i] += static_cast<Scalar>(scale * sum.end[i]);
        for (int j = 0; j < K; ++j)
          if (constraints_.allowed(i, j)) transitions_.grad[i * K + j] += static_cast<Scalar>(scale * sum.trans[i][j]);
      }
    }
    return total * scale;
  }

  // score(y) in double; below impossible_below if y uses a forbidden transition/start/end.
  static double gold_score(const Potentials& p, const Emitter& emit, const std::int32_t* y, Index n) {
    double s = static_cast<double>(p.start(y[0])) + static_cast<double>(emit.x[y[0] * emit.L]);
    for (Index t = 1; t < n; ++t)
      s += static_cast<double>(p.from[static_cast<std::size_t>(y[t - 1])](y[t])) +
           static_cast<double>(emit.x[y[t] * emit.L + t]);
    return s + static_cast<double>(p.end(y[n - 1]));
  }

  CrfOptions options_;
  CrfConstraints constraints_;
  Param<Scalar> transitions_, start_, end_;
};

static_assert(Loss<LinearChainCRF<2, float>>);
static_assert(Loss<LinearChainCRF<9, double>>);

}  // namespace nucleo
