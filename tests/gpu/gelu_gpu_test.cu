// Backend parity: GELU on the GPU (detail::gelu_forward/backward, one Eigen expression on the
// GpuDevice) against nucleo::GELU on the CPU, same seeded inputs, NMSE < 1e-10.
#define CATCH_CONFIG_RUNNER
#include "gpu_test_main.hpp"

#include "cpu_reference.hpp"
#include "nucleo/detail/gpu_kernels.hpp"

using namespace nucleo;
using namespace nucleo::gpu_test;

namespace {
constexpr double max_nmse = 1e-10;
}

TEST_CASE("GELU GPU forward/backward match the CPU layer", "[gpu][gelu]") {
  GpuContext ctx;
  // Odd sizes: the element count is not a multiple of Eigen's GPU packet or block size.
  for (const auto& [B, C, L] : {std::array<Index, 3>{3, 7, 129}, std::array<Index, 3>{1, 1, 1},
                                std::array<Index, 3>{4, 64, 1000}}) {
    CAPTURE(B, C, L);
    const Tensor3<float> x = random_tensor(B, C, L, 11 + L);
    const Tensor3<float> dy = random_tensor(B, C, L, 12 + L, 1.0);
    Tensor3<float> y_cpu, dx_cpu, y_gpu, dx_gpu;
    cpu_gelu_forward(x, y_cpu);
    cpu_gelu_backward(x, dy, dx_cpu);

    DeviceTensor3<float> dx_dev(x), ddy(dy), dy_out, ddx;
    detail::gelu_forward(ctx, dx_dev, dy_out);
    detail::gelu_backward(ctx, dx_dev, ddy, ddx);
    ctx.synchronize();
    dy_out.to_host(y_gpu);
    ddx.to_host(dx_gpu);

    CHECK(y_gpu.dimensions() == x.dimensions());
    CHECK(nmse(y_gpu, y_cpu) < max_nmse);
    CHECK(nmse(dx_gpu, dx_cpu) < max_nmse);
    // Known values survive the trip: GELU(0) = 0 exactly (every 17th input is 0).
    if (x.size() > 3) CHECK(y_gpu.data()[3] == 0.0f);
  }
}

int main(int argc, char** argv) { return gpu_main(argc, argv); }
