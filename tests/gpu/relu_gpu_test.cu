// Backend parity: ReLU on the GPU (detail::relu_forward/backward) against nucleo::ReLU on the CPU.
// ReLU is exact, so GPU and CPU must agree bit for bit (NMSE == 0, and certainly < 1e-10).
#define CATCH_CONFIG_RUNNER
#include "gpu_test_main.hpp"

#include "cpu_reference.hpp"
#include "nucleo/detail/gpu_kernels.hpp"

using namespace nucleo;
using namespace nucleo::gpu_test;

TEST_CASE("ReLU GPU forward/backward match the CPU layer", "[gpu][relu]") {
  GpuContext ctx;
  for (const auto& [B, C, L] : {std::array<Index, 3>{3, 7, 129}, std::array<Index, 3>{2, 64, 777}}) {
    CAPTURE(B, C, L);
    const Tensor3<float> x = random_tensor(B, C, L, 21 + L);
    const Tensor3<float> dy = random_tensor(B, C, L, 22 + L, 1.0);
    Tensor3<float> y_cpu, dx_cpu, y_gpu, dx_gpu;
    cpu_relu_forward(x, y_cpu);
    cpu_relu_backward(x, dy, dx_cpu);

    DeviceTensor3<float> xd(x), dyd(dy), yd, dxd;
    detail::relu_forward(ctx, xd, yd);
    detail::relu_backward(ctx, xd, dyd, dxd);
    ctx.synchronize();
    yd.to_host(y_gpu);
    dxd.to_host(dx_gpu);

    CHECK(nmse(y_gpu, y_cpu) < 1e-10);
    CHECK(nmse(dx_gpu, dx_cpu) < 1e-10);
    // Exactness, including the subgradient 0 at x == 0 (every 17th input is exactly 0).
    Index mismatches = 0;
    for (Index i = 0; i < x.size(); ++i)
      mismatches += (y_gpu.data()[i] != y_cpu.data()[i]) + (dx_gpu.data()[i] != dx_cpu.data()[i]);
    CHECK(mismatches == 0);
  }
}

int main(int argc, char** argv) { return gpu_main(argc, argv); }
