#pragma once
// Per-sequence kernels of LinearChainCRF (not API). One sequence at a time, K tags known at
// compile time, every per-position quantity a fixed-size Eigen array of P >= K lanes (P = K
// rounded up to 64 bytes: one AVX-512 register for K <= 16 floats), so each step of the
// recursions is K vertical vector operations (no horizontal reductions except one max per step).
//
// Scores are log-potentials. "Forbidden" is the finite value neg = -1e30 rather than -inf, so that
// no expression can form -inf - (-inf) = NaN; exp(neg - finite) underflows to (at most) the
// smallest positive value, i.e. a relative weight below 1e-38, and a total below neg / 2 means
// "impossible". Pad lanes (j >= K) hold neg as well and are never read back.
//
// Forward (normalised):   a_0 = start + e_0,  a_t(j) = lse_i(a_{t-1}(i) + A(i,j)) + e_t(j),
//   each a_t shifted by c_t = max_j a_t(j) so that max = 0; log Z = sum_t c_t + lse_j(a_{T-1} + end),
//   the sum in double. The lse over i is taken per lane j: m_j = max_i(..), sum_i exp(.. - m_j).
// Backward (normalised), marginals and pairwise marginals, for t = T-1 .. 1 with w = e_t + b_t:
//   m(i) = max_j(A(i,j) + w_j),  X_j(i) = exp(A(i,j) + w_j - m(i)),  b_{t-1} = m + log sum_j X_j,
//   g = exp(a_{t-1} + m - max(a_{t-1} + m)),  xi_t(i,j) = g(i) X_j(i) / S,  p_{t-1}(i) = g(i) sum_j X_j(i) / S,
//   S = sum_i g(i) sum_j X_j(i);  p_{T-1} = softmax(a_{T-1} + end). Every ratio is formed locally, so
//   the marginals stay exact even when log Z is ~1e7 (120 kb with emissions ~100).
// Viterbi: d_t(j) = max_i(d_{t-1}(i) + A(i,j)) + e_t(j), shifted by its max. Back-pointers are not
//   stored: the traceback recomputes argmax_i(d_{t-1}(i) + A(i, j_t)) for the one chosen j_t from
//   the stored rows (same floating-point operations, hence the same maximiser; ties -> lowest i).
//   Long sequences are decoded in segments of W positions: pass 1 keeps one row per segment
//   (checkpoint), pass 2 recomputes each segment's rows from its checkpoint, last segment first,
//   and traces back through it. Adds and max are exact operations, so the recomputed rows, and
//   hence the path, are bit-identical to a single-segment run.
#include "nucleo/core/tensor.hpp"

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

// GCC 12 reports false -W(maybe-)uninitialized positives inside its own AVX-512 intrinsics headers
// (_mm512_undefined_* in Eigen's packet math) when these kernels are inlined with -march=native.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
namespace nucleo::detail::crf {

template <class T>
inline constexpr T neg = T(-1e30);

/// Below this, a log-score means "no allowed path".
inline constexpr double impossible_below = -1e29;

template <class T, int K>
struct Kernel {
  static constexpr int lanes = static_cast<int>(64 / sizeof(T));
  static constexpr int P = ((K + lanes - 1) / lanes) * lanes;
  using Row = Eigen::Array<T, P, 1>;

  /// Log-potentials with forbidden entries (and pad lanes) set to neg.
  struct Potentials {
    std::array<Row, K> from;  ///< from[i](j) = A(i, j): row i of the transitions
    std::array<Row, K> to;    ///< to[j](i) = A(i, j): column j of the transitions
    Row start, end;
  };

  /// Accumulated (positive) marginal sums of one pass over one sequence.
  struct Counts {
    std::array<std::array<double, K>, K> trans{};  ///< [i][j] sum_t xi_t(i, j)
    std::array<double, K> start{}, end{};
    void clear() { *this = Counts{}; }
  };

  // Pairwise (tree) reductions over the K candidate rows: depth log2(K) instead of a K-long
  // dependency chain (each recursion step is latency-bound: it needs the previous step's result).
  static Row tree_max(const std::array<Row, K>& v, std::array<Row, K>& w) {
    w = v;
    for (int s = 1; s < K; s *= 2)
      for (int i = 0; i + s < K; i += 2 * s) w[i] = w[i].max(w[i + s]);
    return w[0];
  }
  static Row tree_sum_inplace(std::array<Row, K>& w) {
    for (int s = 1; s < K; s *= 2)
      for (int i = 0; i + s < K; i += 2 * s) w[i] += w[i + s];
    return w[0];
  }

  /// Flushes float partial sums to double every `flush` steps (keeps float sums short).
  static constexpr Index flush = 256;

  // ---------------------------------------------------------------- forward
  /// Normalised forward rows into alpha[0..n); returns log Z (or -inf if no path is allowed).
  /// `emit(t, e)` writes e(0..K-1) for position t (pads of e are preset to neg).
  template <class Emit>
  static double forward(const Potentials& p, Index n, Emit&& emit, Row* alpha) {
    Row e = Row::Constant(neg<T>);
    emit(Index{0}, e);
    Row a = p.start + e;
    T c = a.maxCoeff();
    double logz = static_cast<double>(c);
    a -= c;
    alpha[0] = a;
    Row m, v;
    std::array<Row, K> cand, tmp;
    for (Index t = 1; t < n; ++t) {
      emit(t, e);
      for (int i = 0; i < K; ++i) cand[i] = p.from[i] + a(i);
      m = tree_max(cand, tmp);
      for (int i = 0; i < K; ++i) tmp[i] = (cand[i] - m).exp();
      v = m + tree_sum_inplace(tmp).log() + e;
      c = v.maxCoeff();
      logz += static_cast<double>(c);
      a = v - c;
      alpha[t] = a;
    }
    const Row f = a + p.end;
    c = f.maxCoeff();
    logz += static_cast<double>(c) + std::log(static_cast<double>((f - c).exp().sum()));
    return logz < impossible_below ? -std::numeric_limits<double>::infinity() : logz;
  }

  // ---------------------------------------------------------------- backward
  /// Given the rows of `forward`, calls `out(t, q)` with the posterior marginals q(0..K-1) of every
  /// position t (from n-1 down to 0) and, if `counts`, adds the pairwise/start/end marginals.
  template <class Emit, class Out>
  static void backward(const Potentials& p, Index n, Emit&& emit, const Row* alpha, Out&& out, Counts* counts) {
    Row beta = p.end - p.end.maxCoeff();
    Row q;
    {
      const Row f = alpha[n - 1] + beta;
      q = (f - f.maxCoeff()).exp();
      q /= q.sum();
      out(n - 1, q);
      if (counts)
        for (int j = 0; j < K; ++j) counts->end[j] += static_cast<double>(q(j));
    }
    std::array<Row, K> acc;
    if (counts)
      for (auto& r : acc) r.setZero();
    Row e = Row::Constant(neg<T>);
    std::array<Row, K> X, cand, tmp;
    Row w, m, sx, h, g;
    Index since_flush = 0;
    for (Index t = n - 1; t >= 1; --t) {
      emit(t, e);
      w = e + beta;
      for (int j = 0; j < K; ++j) cand[j] = p.to[j] + w(j);
      m = tree_max(cand, tmp);
      for (int j = 0; j < K; ++j) X[j] = (cand[j] - m).exp();
      tmp = X;
      sx = tree_sum_inplace(tmp);
      h = alpha[t - 1] + m;
      g = (h - h.maxCoeff()).exp();
      q = g * sx;
      const T S = q.head(K).sum();
      q /= S;
      out(t - 1, q);
      if (counts) {
        g /= S;
        for (int j = 0; j < K; ++j) acc[j] += X[j] * g;  // acc[j](i) += xi_t(i, j)
        if (++since_flush == flush) {
          add_counts(acc, *counts);
          since_flush = 0;
        }
      }
      beta = m + sx.log();
      beta -= beta.maxCoeff();
    }
    if (counts) {
      add_counts(acc, *counts);
      for (int j = 0; j < K; ++j) counts->start[j] += static_cast<double>(q(j));
    }
  }

  static void add_counts(std::array<Row, K>& acc, Counts& c) {
    for (int j = 0; j < K; ++j) {
      for (int i = 0; i < K; ++i) c.trans[i][j] += static_cast<double>(acc[j](i));
      acc[j].setZero();
    }
  }

  // ---------------------------------------------------------------- Viterbi
  static T viterbi_first(const Potentials& p, const Row& e, Row& d) {
    d = p.start + e;
    const T c = d.maxCoeff();
    d -= c;
    return c;
  }
  static T viterbi_step(const Potentials& p, const Row& prev, const Row& e, Row& d) {
    std::array<Row, K> cand, tmp;
    for (int i = 0; i < K; ++i) cand[i] = p.from[i] + prev(i);
    d = tree_max(cand, tmp) + e;
    const T c = d.maxCoeff();
    d -= c;
    return c;
  }
  /// argmax_i(prev(i) + A(i, j)), ties to the lowest i (the same sums viterbi_step maximised).
  static int best_prev(const Potentials& p, const Row& prev, int j) {
    int arg = 0;
    T best = p.from[0](j) + prev(0);
    for (int i = 1; i < K; ++i) {
      const T v = p.from[i](j) + prev(i);
      if (v > best) {
        best = v;
        arg = i;
      }
    }
    return arg;
  }

  /// Best path of a sequence of n positions. `src.load(begin, end)` is called before the positions
  /// [begin, end) of a segment are read through `src(t, e)`; `sink(begin, tags, count)` receives the
  /// decoded tags of each segment, last segment first. Returns the path score (-inf if no path is
  /// allowed; then sink is not called). Memory: min(n, W) rows + one row per segment.
  template <class Src, class Sink>
  static double viterbi(const Potentials& p, Index n, Index W, Src& src, Sink&& sink, std::vector<Row>& rows,
                        std::vector<std::int32_t>& path) {
    W = std::max<Index>(1, std::min(W, n));
    const Index nseg = (n + W - 1) / W;
    Row e = Row::Constant(neg<T>);
    double score = 0;
    rows.resize(static_cast<std::size_t>(W));
    path.resize(static_cast<std::size_t>(W));
    std::vector<Row> ckpt(static_cast<std::size_t>(nseg));  // ckpt[k]: row of position k*W - 1
    // Pass 1: scores and checkpoints (for one segment: the rows themselves).
    Row d = Row::Constant(neg<T>);
    for (Index k = 0; k < nseg; ++k) {
      const Index b = k * W, en = std::min(n, b + W);
      src.load(b, en);
      for (Index t = b; t < en; ++t) {
        src(t, e);
        const T c = t == 0 ? viterbi_first(p, e, d) : viterbi_step(p, d, e, d);
        score += static_cast<double>(c);
        if (nseg == 1) rows[static_cast<std::size_t>(t)] = d;
      }
      if (k + 1 < nseg) ckpt[static_cast<std::size_t>(k + 1)] = d;
    }
    const Row f = d + p.end;
    Index jl;
    const T fmax = f.head(K).maxCoeff(&jl);
    score += static_cast<double>(fmax);
    if (score < impossible_below) return -std::numeric_limits<double>::infinity();
    int j = static_cast<int>(jl);
    // Pass 2: per segment, last first, recompute the rows and trace back.
    for (Index k = nseg - 1; k >= 0; --k) {
      const Index b = k * W, en = std::min(n, b + W), len = en - b;
      if (nseg > 1) {
        src.load(b, en);
        for (Index t = b; t < en; ++t) {
          src(t, e);
          Row& r = rows[static_cast<std::size_t>(t - b)];
          if (t == 0)
            viterbi_first(p, e, r);
          else
            viterbi_step(p, t == b ? ckpt[static_cast<std::size_t>(k)] : rows[static_cast<std::size_t>(t - b - 1)], e, r);
        }
      }
      path[static_cast<std::size_t>(len - 1)] = j;
      for (Index t = len - 1; t >= 1; --t) {
        j = best_prev(p, rows[static_cast<std::size_t>(t - 1)], j);
        path[static_cast<std::size_t>(t - 1)] = j;
      }
      if (k > 0) j = best_prev(p, ckpt[static_cast<std::size_t>(k)], j);
      sink(b, path.data(), len);
    }
    return score;
  }
};

}  // namespace nucleo::detail::crf
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
