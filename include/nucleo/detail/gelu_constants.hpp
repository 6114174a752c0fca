#pragma once
// Not API. The constants of the exact (erf) GELU, defined once for every implementation of it
// (layers/gelu.hpp, detail/gelu_norm.hpp, detail/gpu_kernels.hpp):
//   GELU(x)  = x Phi(x),            Phi(x) = 0.5 (1 + erf(x * gelu_inv_sqrt2))
//   GELU'(x) = Phi(x) + x phi(x),   phi(x) = exp(-x^2 / 2) * gelu_inv_sqrt_2pi
// Written as decimal literals (not std::numbers expressions) so that each is the double nearest the
// exact value, and every implementation rounds the same double to its Scalar.

namespace nucleo::detail {

inline constexpr double gelu_inv_sqrt2 = 0.70710678118654752440;     // 1 / sqrt(2)
inline constexpr double gelu_inv_sqrt_2pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)

}  // namespace nucleo::detail
