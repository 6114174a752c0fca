#pragma once
// main() for a GPU parity test program (one per .cu, each with CATCH_CONFIG_RUNNER): without a
// CUDA device it prints "no CUDA device: skipped" and returns 77, which tests/gpu/CMakeLists.txt
// registers as SKIP_RETURN_CODE, so CTest reports the test as skipped rather than passed or failed.
#include "nucleo/core/gpu_device.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

namespace nucleo::gpu_test {
inline constexpr int skip_return_code = 77;

inline int gpu_main(int argc, char** argv) {
  if (gpu_device_count() == 0) {
    std::puts("no CUDA device: skipped");
    return skip_return_code;
  }
  return Catch::Session().run(argc, argv);
}
}  // namespace nucleo::gpu_test
