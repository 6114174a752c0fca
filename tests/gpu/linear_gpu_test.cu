// Backend parity: position-wise Linear forward on the GPU (detail::linear_forward, an Eigen tensor
// contraction on the GpuDevice) against nucleo::Linear<24, 40> on the CPU, with and without batch
// lengths (padded positions must be exactly 0, as on the CPU). NMSE < 1e-10.
#define CATCH_CONFIG_RUNNER
#include "gpu_test_main.hpp"

#include "cpu_reference.hpp"
#include "nucleo/detail/gpu_kernels.hpp"

#include <vector>

using namespace nucleo;
using namespace nucleo::gpu_test;

TEST_CASE("Linear GPU forward matches the CPU layer", "[gpu][linear]") {
  GpuContext ctx;
  constexpr std::uint64_t seed = 31;
  const LinearReference p = cpu_linear_params(seed);
  DeviceArray<float> w, b;
  w.to_device(p.weight.data(), Index(p.weight.size()));
  b.to_device(p.bias.data(), Index(p.bias.size()));

  const Index B = 3, L = 257;
  const Tensor3<float> x = random_tensor(B, linear_cin, L, 32);
  DeviceTensor3<float> xd(x), yd;

  for (const std::vector<Index>& lengths : {std::vector<Index>{}, std::vector<Index>{257, 100, 1}}) {
    CAPTURE(lengths);
    Tensor3<float> y_cpu, y_gpu;
    cpu_linear_forward(seed, lengths, x, y_cpu);
    ctx.set_lengths(lengths);
    detail::linear_forward(ctx, w, b, xd, yd);
    ctx.synchronize();
    yd.to_host(y_gpu);
    ctx.clear_lengths();

    REQUIRE(y_gpu.dimension(1) == linear_cout);
    CHECK(nmse(y_gpu, y_cpu) < 1e-10);
    Index padded_nonzero = 0;  // the bias must not leak into padding
    if (!lengths.empty())
      for (Index bb = 0; bb < B; ++bb)
        for (Index c = 0; c < linear_cout; ++c)
          for (Index l = lengths[std::size_t(bb)]; l < L; ++l) padded_nonzero += y_gpu(bb, c, l) != 0.0f;
    CHECK(padded_nonzero == 0);
  }
}

int main(int argc, char** argv) { return gpu_main(argc, argv); }
