#pragma once
// Not API. Fused GELU -> LayerNorm over channels, on one column tile (C rows x n columns), for the
// fused blocks (ResBlock, MLMHead). Same math as layers/gelu.hpp and layers/layer_norm.hpp:
//
//   forward:  g = z * Phi(z),  mu = mean_c g,  r = 1 / sqrt(mean_c (g - mu)^2 + eps)
//             out[c, l] (+)= (g - mu) r gamma[c] + beta[c]
//   backward: from dout (gradient of the LayerNorm output) and z, mu, r (recomputes g; xh = (g-mu) r):
//             dg = r (gamma dout - mean_c(gamma dout) - xh mean_c(gamma dout xh))
//             dz = dg (Phi(z) + z phi(z));  dgamma_c += sum_l dout xh,  dbeta_c += sum_l dout
//
// Only the pre-activation z and the per-position mu, r are kept between forward and backward, so a
// block caches one tensor per GELU/LayerNorm pair instead of three. Per-column statistics are
// summed in channel order, independent of the thread count. Work buffers: the calling thread's
// workspace buffers GeluNormValues and GeluNormDerivs (core/workspace.hpp).
#include "nucleo/core/workspace.hpp"
#include "nucleo/detail/batch_tiles.hpp"
#include "nucleo/detail/gelu_constants.hpp"

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include <cmath>

namespace nucleo::detail {

/// Workspace keys: GELU output (forward) or normalised GELU output (backward), C x padded(n);
/// GELU'(z) and the two per-column sums (backward), C x padded(n) + 2 padded(n).
struct GeluNormValues {};
struct GeluNormDerivs {};

template <class Scalar>
struct GeluNorm {
  using Arr = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
  using ConstArr = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;

  /// Row stride of the work buffers: n rounded up to a whole number of 64-byte lines, so every row
  /// starts aligned and the vectorised GELU splits each row the same way in forward and backward.
  static Index padded(Index n) {
    constexpr Index per_line = Index(64 / sizeof(Scalar)) > 0 ? Index(64 / sizeof(Scalar)) : 1;
    return (n + per_line - 1) / per_line * per_line;
  }

  /// out = (accumulate ? out : 0) + LN(GELU(z)) on C x n; z row stride ldz, out row stride ldo.
  /// `res` (row stride ldr), when not null, is added first: out = res + LN(GELU(z)).
  /// Stores mu[l], r[l] for l < n.
  static void forward(Workspace& ws, Index C, Index n, const Scalar* z, Index ldz, const Scalar* gamma,
                      const Scalar* beta, double eps, const Scalar* res, Index ldr, Scalar* out, Index ldo,
                      Scalar* mu, Scalar* r) {
    const Index w = padded(n);
    Scalar* g = ws.get<Scalar, GeluNormValues>(std::size_t(C * w));
    const Scalar inv_c = Scalar(1) / Scalar(C);
    std::fill(mu, mu + n, Scalar(0));
    std::fill(r, r + n, Scalar(0));
    for (Index c = 0; c < C; ++c) {
      const ConstArr zs(z + c * ldz, n);
      Arr gs(g + c * w, n);
      gs = Scalar(0.5) * zs * (Scalar(1) + (zs * Scalar(gelu_inv_sqrt2)).erf());
      for (Index l = 0; l < n; ++l) mu[l] += g[c * w + l];
    }
    for (Index l = 0; l < n; ++l) mu[l] *= inv_c;
    for (Index c = 0; c < C; ++c)
      for (Index l = 0; l < n; ++l) {
        const Scalar d = g[c * w + l] - mu[l];
        r[l] += d * d;
      }
    for (Index l = 0; l < n; ++l) r[l] = Scalar(1) / std::sqrt(r[l] * inv_c + Scalar(eps));
    for (Index c = 0; c < C; ++c) {
      const Scalar gm = gamma[c], be = beta[c];
      const Scalar* gc = g + c * w;
      Scalar* oc = out + c * ldo;
      if (res) {
        const Scalar* rc = res + c * ldr;
        for (Index l = 0; l < n; ++l) oc[l] = (gc[l] - mu[l]) * r[l] * gm + be + rc[l];
      } else {
        for (Index l = 0; l < n; ++l) oc[l] = (gc[l] - mu[l]) * r[l] * gm + be;
      }
    }
  }

  /// Backward on C x n (see the header). dz (row stride lddz) is ASSIGNED; pg/pb (C each) ACCUMULATE
  /// dgamma/dbeta. When `recon` is not null, also writes recon = res + LN(GELU(z)) (the forward
  /// output with residual `res`), recomputed from z, mu, r.
  static void backward(Workspace& ws, Index C, Index n, const Scalar* z, Index ldz, const Scalar* mu, const Scalar* r,
                       const Scalar* gamma, const Scalar* beta, const Scalar* dout, Index lddo, Scalar* dz,
                       Index lddz, Scalar* pg, Scalar* pb, const Scalar* res = nullptr, Index ldr = 0,
                       Scalar* recon = nullptr, Index ldrc = 0) {
    const Index w = padded(n);
    Scalar* xh = ws.get<Scalar, GeluNormValues>(std::size_t(C * w));            // normalised GELU output
    Scalar* dphi = ws.get<Scalar, GeluNormDerivs>(std::size_t(C * w + 2 * w));  // GELU'(z), then a1, a2
    Scalar* a1 = dphi + C * w;
    Scalar* a2 = a1 + w;
    const Scalar inv_c = Scalar(1) / Scalar(C);
    std::fill(a1, a1 + n, Scalar(0));
    std::fill(a2, a2 + n, Scalar(0));
    for (Index c = 0; c < C; ++c) {
      const ConstArr zs(z + c * ldz, n);
      Arr xs(xh + c * w, n), ds(dphi + c * w, n);
      xs = Scalar(0.5) * (Scalar(1) + (zs * Scalar(gelu_inv_sqrt2)).erf());            // Phi(z)
      ds = xs + zs * (zs.square() * Scalar(-0.5)).exp() * Scalar(gelu_inv_sqrt_2pi);  // GELU'(z)
      xs = (zs * xs - ConstArr(mu, n)) * ConstArr(r, n);                               // xh
      const Scalar gm = gamma[c];
      const Scalar* dc = dout + c * lddo;
      const Scalar* xc = xh + c * w;
      Scalar sg = 0, sb = 0;
      for (Index l = 0; l < n; ++l) {
        const Scalar d = dc[l], gd = gm * d;
        a1[l] += gd;
        a2[l] += gd * xc[l];
        sg += d * xc[l];
        sb += d;
      }
      pg[c] += sg;
      pb[c] += sb;
      if (recon) {
        const Scalar be = beta[c];
        const Scalar* rc = res + c * ldr;
        Scalar* oc = recon + c * ldrc;
        for (Index l = 0; l < n; ++l) oc[l] = xc[l] * gm + be + rc[l];
      }
    }
    for (Index l = 0; l < n; ++l) {
      a1[l] *= inv_c;
      a2[l] *= inv_c;
    }
    for (Index c = 0; c < C; ++c) {
      const Scalar gm = gamma[c];
      const Scalar* dc = dout + c * lddo;
      const Scalar* xc = xh + c * w;
      const Scalar* pc = dphi + c * w;
      Scalar* oc = dz + c * lddz;
      for (Index l = 0; l < n; ++l) oc[l] = r[l] * (gm * dc[l] - a1[l] - xc[l] * a2[l]) * pc[l];
    }
  }
};

}  // namespace nucleo::detail
