#if !defined(EIGEN_USE_GPU)
#error "include nucleo/core/gpu_device.hpp only from a .cu translation unit compiled with EIGEN_USE_GPU"
#endif
#pragma once
// fmt 9 switches FMT_CONSTEXPR off under __NVCC__, yet in C++20 its consteval format-string checks
// call FMT_CONSTEXPR functions, which nvcc then rejects ("did not produce a valid constant
// expression"). Turning it back on fixes that. Must precede any fmt include, so
// tests/gpu/CMakeLists.txt also passes -DFMT_USE_CONSTEXPR=1 to nvcc.
#if defined(__CUDACC__) && !defined(FMT_USE_CONSTEXPR)
#define FMT_USE_CONSTEXPR 1
#endif
/// GPU execution for nucleo (CUDA through Eigen's `GpuDevice`). Experimental; see docs/gpu.md.
///
/// - `GpuContext`: the GPU twin of `CpuContext` (core/context.hpp). Owns an `Eigen::GpuStreamDevice`
///   (the CUDA default stream of the chosen device) and the `Eigen::GpuDevice` over it; kernels are
///   single Eigen Tensor expressions evaluated as `y.device(ctx.device()) = expr` (detail/gpu_kernels.hpp).
///   Same mode flag (`training()`) and batch lengths (`lengths()`, `length_of(b, L)`) as CpuContext.
/// - `DeviceArray<S>`: an RAII flat device buffer (cudaMalloc/cudaFree), e.g. a `Param`'s device mirror.
/// - `DeviceTensor3<S>`: a `[batch, channels, length]` row-major device tensor (same layout as
///   `Tensor3<S>`, core/tensor.hpp) with explicit host<->device copies and an Eigen `TensorMap` view.
/// - `gpu_device_count()`: number of CUDA devices, 0 when there is none or the driver is missing.
///
/// Copies are explicit and synchronous (`cudaMemcpy` on the legacy default stream, which orders them
/// after the kernels queued by a `GpuContext`), as the house style asks: nothing moves implicitly.
/// Only a .cu translation unit may include this header (Eigen's GPU headers must not reach .cpp TUs).
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"

#include <cuda_runtime.h>
#include <unsupported/Eigen/CXX11/Tensor>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace nucleo {

namespace detail {
/// Throw nucleo::Error naming the failed CUDA call when `st` is not cudaSuccess.
inline void cuda_check(cudaError_t st, const char* what) {
  if (st != cudaSuccess) throw Error(fmt::format("CUDA error in {}: {} ({})", what, cudaGetErrorString(st), int(st)));
}
}  // namespace detail

/// Number of CUDA devices visible to this process; 0 on any error (no driver, no device).
inline int gpu_device_count() {
  int n = 0;
  const cudaError_t st = cudaGetDeviceCount(&n);
  if (st != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error so later calls are not affected
    return 0;
  }
  return n;
}

/// Execution context for GPU kernels: device + stream, mode, batch lengths.
class GpuContext {
 public:
  /// Uses CUDA device `device` (0 = first) and its default stream; makes it the current device, so
  /// DeviceArray/DeviceTensor3 buffers allocated afterwards on this thread live on it.
  explicit GpuContext(int device = 0) : stream_(checked_device(device)), device_(&stream_) {}
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  const Eigen::GpuDevice& device() const { return device_; }
  /// Block until every kernel queued on this context's stream has finished; throws on a kernel error.
  void synchronize() const {
    detail::cuda_check(cudaStreamSynchronize(stream_.stream()), "cudaStreamSynchronize");
    detail::cuda_check(cudaGetLastError(), "kernel launch");
  }

  bool training() const { return training_; }
  void set_training(bool on) { training_ = on; }

  /// Valid length of each sequence in the current batch (empty = all positions valid); host side.
  std::span<const Index> lengths() const { return {lengths_.data(), lengths_.size()}; }
  void set_lengths(std::vector<Index> lengths) { lengths_ = std::move(lengths); }
  void clear_lengths() { lengths_.clear(); }
  Index length_of(Index b, Index L) const {
    return lengths_.empty() ? L : std::min<Index>(L, lengths_[static_cast<std::size_t>(b)]);
  }

 private:
  static int checked_device(int device) {
    const int n = gpu_device_count();
    if (device < 0 || device >= n)
      throw Error(fmt::format("GpuContext: CUDA device {} requested, {} device(s) available", device, n));
    detail::cuda_check(cudaSetDevice(device), "cudaSetDevice");
    return device;
  }
  Eigen::GpuStreamDevice stream_;
  Eigen::GpuDevice device_;
  bool training_ = true;
  std::vector<Index> lengths_;
};

/// RAII flat device buffer of `size()` scalars. Move-only.
template <class Scalar = float>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(Index n) { resize(n); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~DeviceArray() { release(); }

  /// Reallocate only when the size changes; contents are then undefined.
  void resize(Index n) {
    NUCLEO_CHECK(n >= 0, "DeviceArray::resize: negative size {}", n);
    if (n == size_) return;
    release();
    if (n > 0) {
      void* p = nullptr;
      detail::cuda_check(cudaMalloc(&p, std::size_t(n) * sizeof(Scalar)), "cudaMalloc");
      ptr_ = static_cast<Scalar*>(p);
    }
    size_ = n;
  }
  /// Copy n host scalars to the device (resizing).
  void to_device(const Scalar* host, Index n) {
    resize(n);
    if (n > 0)
      detail::cuda_check(cudaMemcpy(ptr_, host, std::size_t(n) * sizeof(Scalar), cudaMemcpyHostToDevice),
                         "cudaMemcpy host->device");
  }
  /// Copy size() scalars back to `host` (which must hold size() scalars).
  void to_host(Scalar* host) const {
    if (size_ > 0)
      detail::cuda_check(cudaMemcpy(host, ptr_, std::size_t(size_) * sizeof(Scalar), cudaMemcpyDeviceToHost),
                         "cudaMemcpy device->host");
  }

  Scalar* data() { return ptr_; }
  const Scalar* data() const { return ptr_; }
  Index size() const { return size_; }

 private:
  void release() noexcept {
    if (ptr_) (void)cudaFree(ptr_);
    ptr_ = nullptr;
    size_ = 0;
  }
  Scalar* ptr_ = nullptr;
  Index size_ = 0;
};

/// `[batch, channels, length]` row-major device tensor (the layout of Tensor3, core/tensor.hpp).
template <class Scalar = float>
class DeviceTensor3 {
 public:
  using Map = Eigen::TensorMap<Tensor3<Scalar>, Eigen::Aligned>;
  using ConstMap = Eigen::TensorMap<const Tensor3<Scalar>, Eigen::Aligned>;

  DeviceTensor3() = default;
  DeviceTensor3(Index b, Index c, Index l) { resize(b, c, l); }
  explicit DeviceTensor3(const Tensor3<Scalar>& host) { to_device(host); }

  /// Reallocate only when the element count changes; contents are then undefined.
  void resize(Index b, Index c, Index l) {
    NUCLEO_CHECK(b >= 0 && c >= 0 && l >= 0, "DeviceTensor3::resize: negative shape [{}, {}, {}]", b, c, l);
    buf_.resize(b * c * l);
    dims_ = {b, c, l};
  }
  void resize_like(const DeviceTensor3& o) { resize(o.dimension(0), o.dimension(1), o.dimension(2)); }

  /// Copy a host tensor to the device (resizing to its shape).
  void to_device(const Tensor3<Scalar>& host) {
    resize(host.dimension(0), host.dimension(1), host.dimension(2));
    buf_.to_device(host.data(), host.size());
  }
  /// Copy to a host tensor (resized to this shape only if its shape differs).
  void to_host(Tensor3<Scalar>& host) const {
    ensure_shape(host, dims_[0], dims_[1], dims_[2]);
    buf_.to_host(host.data());
  }

  Index dimension(int i) const { return dims_[std::size_t(i)]; }
  const std::array<Index, 3>& dimensions() const { return dims_; }
  Index size() const { return buf_.size(); }
  Scalar* data() { return buf_.data(); }
  const Scalar* data() const { return buf_.data(); }

  /// Eigen view for device expressions: `x.map().device(ctx.device()) = ...` (cudaMalloc memory is
  /// 256-byte aligned, hence Eigen::Aligned).
  Map map() { return Map(buf_.data(), dims_[0], dims_[1], dims_[2]); }
  ConstMap map() const { return ConstMap(buf_.data(), dims_[0], dims_[1], dims_[2]); }

 private:
  DeviceArray<Scalar> buf_;
  std::array<Index, 3> dims_{0, 0, 0};
};

}  // namespace nucleo
