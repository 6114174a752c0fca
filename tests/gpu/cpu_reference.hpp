#pragma once
// Backend parity support (ggml test-backend-ops style). The CPU side - seeded inputs and nucleo's
// CPU layers - lives in cpu_reference.cpp, compiled by the host C++ compiler with the ordinary
// nucleo target (oneTBB, CpuContext), so the reference really is the CPU layer; the .cu files only
// see these declarations and Tensor3.
#include "nucleo/core/tensor.hpp"

#include <cstdint>
#include <vector>

namespace nucleo::gpu_test {

/// [B, C, L] tensor with values ~ N(0, scale^2) from nucleo::Rng(seed); every few values are
/// exactly 0 and some are +-tiny, so ReLU's kink and GELU near 0 are exercised.
Tensor3<float> random_tensor(Index B, Index C, Index L, std::uint64_t seed, double scale = 2.0);

void cpu_gelu_forward(const Tensor3<float>& x, Tensor3<float>& y);
void cpu_gelu_backward(const Tensor3<float>& x, const Tensor3<float>& dy, Tensor3<float>& dx);
void cpu_relu_forward(const Tensor3<float>& x, Tensor3<float>& y);
void cpu_relu_backward(const Tensor3<float>& x, const Tensor3<float>& dy, Tensor3<float>& dx);

/// The Linear shape the CPU reference is instantiated for (Linear's channels are compile-time).
inline constexpr int linear_cin = 24;
inline constexpr int linear_cout = 40;
/// nucleo::Linear<linear_cin, linear_cout, float> initialised from Rng(seed) with init_pytorch
/// (non-zero bias); its weight ({Cout, Cin} row-major) and bias are returned for the device mirror.
struct LinearReference {
  std::vector<float> weight, bias;
};
LinearReference cpu_linear_params(std::uint64_t seed);
/// Linear::forward on the CPU with the given batch lengths (empty = all valid).
void cpu_linear_forward(std::uint64_t seed, const std::vector<Index>& lengths, const Tensor3<float>& x,
                        Tensor3<float>& y);

/// Normalised mean squared error sum (a - b)^2 / sum b^2 (ggml's nmse; b is the reference).
/// Returns +inf on a shape mismatch and 0 for two all-zero tensors.
double nmse(const Tensor3<float>& a, const Tensor3<float>& b);

}  // namespace nucleo::gpu_test
