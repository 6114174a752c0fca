#if !defined(EIGEN_USE_GPU)
#error "include nucleo/detail/gpu_kernels.hpp only from a .cu translation unit compiled with EIGEN_USE_GPU"
#endif
#pragma once
// Not API (yet). GPU twins of the elementwise layers and of Linear's forward, each ONE Eigen Tensor
// expression evaluated on the context's Eigen::GpuDevice (`y.device(ctx.device()) = expr`): no
// per-op backend branches, Eigen generates the CUDA kernel. Same math and conventions as the CPU
// layers, which remain the reference (tests/gpu/*_gpu_test.cu check parity):
//
//   gelu_forward   y  = 0.5 x (1 + erf(x / sqrt 2))                      layers/gelu.hpp
//   gelu_backward  dx = dy (Phi(x) + x phi(x))                 (ASSIGNED)
//   relu_forward   y  = max(x, 0)                                         layers/relu.hpp
//   relu_backward  dx = dy [x > 0]                             (ASSIGNED)
//   linear_forward y[b, :, l] = W x[b, :, l] + bias, 0 at l >= ctx.length_of(b, L)   layers/linear.hpp
//                  W: {Cout, Cin} row-major, bias: {Cout} (device mirrors of Linear's params).
//
// Outputs are resized (DeviceTensor3::resize keeps the buffer when the size is unchanged). Kernels
// are queued on the context's stream; DeviceTensor3::to_host (cudaMemcpy) waits for them.
#include "nucleo/core/gpu_device.hpp"
#include "nucleo/detail/gelu_constants.hpp"

#include <unsupported/Eigen/CXX11/Tensor>
#include <unsupported/Eigen/SpecialFunctions>

namespace nucleo::detail {

template <class S>
void gelu_forward(GpuContext& ctx, const DeviceTensor3<S>& x, DeviceTensor3<S>& y) {
  y.resize_like(x);
  const auto xs = x.map();  // a TensorMap (a view), not an expression
  y.map().device(ctx.device()) = S(0.5) * xs * (S(1) + (xs * S(gelu_inv_sqrt2)).erf());
}

template <class S>
void gelu_backward(GpuContext& ctx, const DeviceTensor3<S>& x, const DeviceTensor3<S>& dy, DeviceTensor3<S>& dx) {
  NUCLEO_CHECK(dy.dimensions() == x.dimensions(), "gelu_backward (GPU): dy and x shapes differ");
  dx.resize_like(x);
  const auto xs = x.map();
  dx.map().device(ctx.device()) =
      dy.map() * (S(0.5) * (S(1) + (xs * S(gelu_inv_sqrt2)).erf()) +
                  xs * (xs.square() * S(-0.5)).exp() * S(gelu_inv_sqrt_2pi));
}

template <class S>
void relu_forward(GpuContext& ctx, const DeviceTensor3<S>& x, DeviceTensor3<S>& y) {
  y.resize_like(x);
  y.map().device(ctx.device()) = x.map().cwiseMax(S(0));
}

template <class S>
void relu_backward(GpuContext& ctx, const DeviceTensor3<S>& x, const DeviceTensor3<S>& dy, DeviceTensor3<S>& dx) {
  NUCLEO_CHECK(dy.dimensions() == x.dimensions(), "relu_backward (GPU): dy and x shapes differ");
  dx.resize_like(x);
  const auto ds = dy.map();
  dx.map().device(ctx.device()) = (x.map() > S(0)).select(ds, ds.constant(S(0)));
}

/// Position-wise Linear forward by a device tensor contraction. `weight` holds Cout * Cin values
/// (row-major {Cout, Cin}), `bias` Cout values. Padded positions (ctx.lengths()) are zeroed through
/// a [B, 1, L] 0/1 mask built on the host, so the result matches Linear::forward on the CPU.
template <class S>
void linear_forward(GpuContext& ctx, const DeviceArray<S>& weight, const DeviceArray<S>& bias,
                    const DeviceTensor3<S>& x, DeviceTensor3<S>& y) {
  const Index B = x.dimension(0), Cin = x.dimension(1), L = x.dimension(2);
  const Index Cout = bias.size();
  NUCLEO_CHECK(weight.size() == Cout * Cin, "linear_forward (GPU): weight has {} values, expected {} x {}",
               weight.size(), Cout, Cin);
  y.resize(B, Cout, L);
  using W2 = Eigen::TensorMap<const Eigen::Tensor<S, 2, Eigen::RowMajor, Index>, Eigen::Aligned>;
  using B3 = Eigen::TensorMap<const Tensor3<S>, Eigen::Aligned>;
  const W2 w(weight.data(), Cout, Cin);
  const B3 b3(bias.data(), 1, Cout, 1);
  const Eigen::array<Eigen::IndexPair<Index>, 1> over_cin{Eigen::IndexPair<Index>(1, 1)};
  const Eigen::array<Index, 3> to_bcl{1, 0, 2};  // contraction gives [Cout, B, L]
  const Eigen::array<Index, 3> bias_bcast{B, 1, L};

  // Host-built mask of valid positions; only when the batch has lengths.
  DeviceTensor3<S> mask;
  if (!ctx.lengths().empty()) {
    NUCLEO_CHECK(Index(ctx.lengths().size()) >= B, "linear_forward (GPU): {} lengths for a batch of {}",
                 ctx.lengths().size(), B);
    Tensor3<S> m(B, 1, L);
    for (Index b = 0; b < B; ++b)
      for (Index l = 0; l < L; ++l) m(b, 0, l) = l < ctx.length_of(b, L) ? S(1) : S(0);
    mask.to_device(m);
  }
  if (mask.size() == 0) {
    y.map().device(ctx.device()) = w.contract(x.map(), over_cin).shuffle(to_bcl) + b3.broadcast(bias_bcast);
  } else {
    const Eigen::array<Index, 3> mask_bcast{1, Cout, 1};
    y.map().device(ctx.device()) =
        (w.contract(x.map(), over_cin).shuffle(to_bcl) + b3.broadcast(bias_bcast)) * mask.map().broadcast(mask_bcast);
    ctx.synchronize();  // the kernel reads `mask`, which is freed on return
  }
}

}  // namespace nucleo::detail
