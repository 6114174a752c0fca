#pragma once
// Shared kernel of CrossEntropy and MaskedCrossEntropy (not API).
//
// softmax_cross_entropy(ctx, logits [B,K,L], targets [B,L], weights, reduction, dlogits*, stats):
//   counted positions: targets(b,l) != ignore_index and l < ctx.length_of(b, L);
//   nll = logsumexp_k z_k - z_y (max-shifted, computed in double);
//   value = sum w_y nll / N with N = sum w_y (mean) or 1 (sum); 0 when N == 0;
//   dlogits (if given) = w_y (softmax - onehot(y)) / N at counted positions, 0 elsewhere (ASSIGNED).
// Pass 1 (serial, cheap): validate targets and compute N in a fixed order. Pass 2 (parallel over
// sequences): each sequence's weighted nll sum is a partial; partials are added in sequence order,
// so the value does not depend on the thread count.
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/losses/reduction.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace nucleo::detail {

struct CrossEntropyStats {
  Index count = 0;          // counted positions
  double weight_sum = 0;    // sum of w_y over counted positions (== count without weights)
  Index correct = 0;        // counted positions whose argmax (first maximum) equals the target
};

template <class S, class Ctx>
double softmax_cross_entropy(Ctx& ctx, const Tensor3<S>& logits, const Labels& targets,
                             const std::vector<double>& weights, Reduction reduction, Tensor3<S>* dlogits,
                             CrossEntropyStats& stats, const char* who) {
  const Index B = logits.dimension(0), K = logits.dimension(1), L = logits.dimension(2);
  NUCLEO_CHECK(targets.rows() == B && targets.cols() == L,
               "{}: targets are [{}, {}] but logits [B={}, K={}, L={}] need targets [{}, {}]", who, targets.rows(),
               targets.cols(), B, K, L, B, L);
  NUCLEO_CHECK(K > 0, "{}: logits have no classes (K = 0)", who);
  NUCLEO_CHECK(weights.empty() || static_cast<Index>(weights.size()) == K,
               "{}: {} class weights for {} classes", who, weights.size(), K);

  // Pass 1: validate and count, in a fixed order.
  stats = {};
  for (Index b = 0; b < B; ++b) {
    const Index len = ctx.length_of(b, L);
    for (Index l = 0; l < len; ++l) {
      const std::int32_t y = targets(b, l);
      if (y == ignore_index) continue;
      NUCLEO_CHECK(y >= 0 && y < K, "{}: target {} at (sequence {}, position {}) is outside [0, {}) and is not {}", who,
                   y, b, l, K, ignore_index);
      ++stats.count;
      stats.weight_sum += weights.empty() ? 1.0 : weights[static_cast<std::size_t>(y)];
    }
  }
  const double norm = reduction == Reduction::mean ? stats.weight_sum : 1.0;
  if (dlogits) {
    ensure_shape_like(*dlogits, logits);
    dlogits->setZero();
  }
  if (stats.count == 0 || norm == 0.0) return 0.0;

  std::vector<double> partial(static_cast<std::size_t>(B), 0.0);
  std::vector<Index> correct(static_cast<std::size_t>(B), 0);
  ctx.parallel_for(B, 1, [&](Index b0, Index b1) {
    std::vector<double> e(static_cast<std::size_t>(K));
    for (Index b = b0; b < b1; ++b) {
      const ConstMatrixMap<S> z = sequence(logits, b);
      const Index len = ctx.length_of(b, L);
      double acc = 0;
      Index hits = 0;
      for (Index l = 0; l < len; ++l) {
        const std::int32_t y = targets(b, l);
        if (y == ignore_index) continue;
        Index arg = 0;
        double m = static_cast<double>(z(0, l));
        for (Index k = 1; k < K; ++k) {
          const double v = static_cast<double>(z(k, l));
          if (v > m) {
            m = v;
            arg = k;
          }
        }
        double s = 0;
        for (Index k = 0; k < K; ++k) {
          e[static_cast<std::size_t>(k)] = std::exp(static_cast<double>(z(k, l)) - m);
          s += e[static_cast<std::size_t>(k)];
        }
        const double w = weights.empty() ? 1.0 : weights[static_cast<std::size_t>(y)];
        const double nll = (m + std::log(s)) - static_cast<double>(z(y, l));
        acc += w * nll;
        hits += (arg == y);
        if (dlogits) {
          MatrixMap<S> d = sequence(*dlogits, b);
          const double scale = w / norm;
          for (Index k = 0; k < K; ++k) {
            const double p = e[static_cast<std::size_t>(k)] / s;
            d(k, l) = static_cast<S>(scale * (p - (k == y ? 1.0 : 0.0)));
          }
        }
      }
      partial[static_cast<std::size_t>(b)] = acc;
      correct[static_cast<std::size_t>(b)] = hits;
    }
  });
  double total = 0;
  for (Index b = 0; b < B; ++b) {
    total += partial[static_cast<std::size_t>(b)];
    stats.correct += correct[static_cast<std::size_t>(b)];
  }
  return total / norm;
}

}  // namespace nucleo::detail
