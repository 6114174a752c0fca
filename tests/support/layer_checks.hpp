#pragma once
// Shared checks for layer tests: parameter save->load round trip by name, and padding invariance
// (a sequence alone vs the same sequence padded inside a batch). Use inside a Catch2 TEST_CASE.
#include "nucleo/core/concepts.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "nucleo/testing/gradcheck.hpp"

namespace nucleo::testing {

/// Copy every parameter value of `src` into `dst` by name (what a checkpoint load does); every
/// name of dst must be found in src with the same shape.
template <class A, class B>
void copy_params_by_name(A& src, B& dst) {
  using S = typename A::scalar_type;
  std::map<std::string, Param<S>*> by_name;
  src.visit_params([&](std::string_view n, Param<S>& p) { by_name[std::string(n)] = &p; });
  std::size_t copied = 0;
  dst.visit_params([&](std::string_view n, Param<S>& p) {
    auto it = by_name.find(std::string(n));
    INFO("parameter " << n);
    REQUIRE(it != by_name.end());
    REQUIRE(it->second->shape == p.shape);
    p.value = it->second->value;
    ++copied;
  });
  CHECK(copied == by_name.size());
}

/// `a` (already initialised) and a fresh `b` give identical outputs after copying a's params into b.
template <class M, class Ctx>
void check_roundtrip(M& a, M fresh, Ctx& ctx, const Tensor3<typename M::scalar_type>& x) {
  Tensor3<typename M::scalar_type> ya, yb;
  a.forward(ctx, x, ya);
  fresh.forward(ctx, x, yb);
  bool differs_before = false;
  for (Index i = 0; i < ya.size(); ++i) differs_before |= ya.data()[i] != yb.data()[i];
  copy_params_by_name(a, fresh);
  fresh.forward(ctx, x, yb);
  REQUIRE(ya.dimensions() == yb.dimensions());
  for (Index i = 0; i < ya.size(); ++i) REQUIRE(ya.data()[i] == yb.data()[i]);
  // The fresh copy must have started different, or the test proves nothing (layers with params).
  if (parameter_count(a) > 0) CHECK(differs_before);
}

inline double max_abs_diff_cols(const Tensor3<double>& a, Index ba, const Tensor3<double>& b, Index bb, Index cols) {
  double m = 0;
  for (Index c = 0; c < a.dimension(1); ++c)
    for (Index l = 0; l < cols; ++l) m = std::max(m, std::abs(a(ba, c, l) - b(bb, c, l)));
  return m;
}

/// Padding invariance of `m` (double). `batch` is [2, Cin, L]; its sequence 1 is valid up to `len`
/// (what follows is garbage), sequence 0 is fully valid. Checks that
///  - sequence 1 in the batch gives the outputs of sequence 1 alone ([1, Cin, len]) on its valid
///    positions, and zeros after them (for length-preserving models);
///  - alone vs padded ([1, Cin, L], length len, random dy on the padding too) give the same
///    parameter gradients and the same dx on valid positions, and dx = 0 on the padding.
/// Elementwise layers (GELU, ReLU) do not mix positions and map padding as any other value: pass
/// zeros_on_padding = false to skip the two "zero on the padding" checks.
template <class M>
void check_padding_invariance(M& m, CpuContext& ctx, const Tensor3<double>& batch, Index len, double tol = 1e-12,
                              bool zeros_on_padding = true) {
  const Index Cin = batch.dimension(1), L = batch.dimension(2);
  Tensor3<double> alone(1, Cin, len), padded(1, Cin, L);
  for (Index c = 0; c < Cin; ++c) {
    for (Index l = 0; l < len; ++l) alone(0, c, l) = batch(1, c, l);
    for (Index l = 0; l < L; ++l) padded(0, c, l) = batch(1, c, l);
  }
  // Outputs: alone vs in a batch.
  Tensor3<double> ya, yb, yp;
  ctx.clear_lengths();
  m.forward(ctx, alone, ya);
  const bool keeps_length = ya.dimension(2) == len;
  ctx.set_lengths({L, len});
  m.forward(ctx, batch, yb);
  const Index cols = keeps_length ? len : ya.dimension(2);
  CHECK(max_abs_diff_cols(ya, 0, yb, 1, cols) <= tol);
  if (keeps_length && zeros_on_padding)
    for (Index c = 0; c < yb.dimension(1); ++c)
      for (Index l = len; l < L; ++l) REQUIRE(yb(1, c, l) == 0.0);

  // Gradients: alone vs padded single sequence.
  ctx.set_lengths({len});
  m.forward(ctx, padded, yp);
  Tensor3<double> dyp = random_tensor<double>(1, yp.dimension(1), yp.dimension(2), 99);
  Tensor3<double> dya(1, ya.dimension(1), ya.dimension(2));
  for (Index c = 0; c < ya.dimension(1); ++c)
    for (Index l = 0; l < ya.dimension(2); ++l) dya(0, c, l) = dyp(0, c, l);
  Tensor3<double> dxp, dxa;
  zero_grad(m);
  m.backward(ctx, padded, dyp, dxp);
  std::vector<Param<double>::Array> gp;
  m.visit_params([&](std::string_view, Param<double>& p) { gp.push_back(p.grad); });

  ctx.clear_lengths();
  m.forward(ctx, alone, ya);
  zero_grad(m);
  m.backward(ctx, alone, dya, dxa);
  std::size_t i = 0;
  m.visit_params([&](std::string_view n, Param<double>& p) {
    INFO("parameter " << n);
    const double scale = std::max(1.0, p.grad.abs().maxCoeff());
    CHECK((p.grad - gp[i++]).abs().maxCoeff() <= tol * scale);
  });
  CHECK(max_abs_diff_cols(dxa, 0, dxp, 0, len) <= tol);
  if (zeros_on_padding)
    for (Index c = 0; c < Cin; ++c)
      for (Index l = len; l < L; ++l) REQUIRE(dxp(0, c, l) == 0.0);
  ctx.clear_lengths();
}

}  // namespace nucleo::testing
