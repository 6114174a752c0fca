#include "nucleo/core/context.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <vector>

using nucleo::CpuContext;
using nucleo::Index;

TEST_CASE("CpuContext: thread count from argument and from NUCLEO_THREADS", "[core][context]") {
  CpuContext two(2);
  CHECK(two.threads() == 2);
  ::setenv("NUCLEO_THREADS", "3", 1);
  CpuContext env;
  CHECK(env.threads() == 3);
  ::setenv("NUCLEO_THREADS", "lots", 1);
  CHECK_THROWS_WITH(CpuContext(), Catch::Contains("NUCLEO_THREADS='lots'"));
  ::unsetenv("NUCLEO_THREADS");
}

TEST_CASE("CpuContext: parallel_for covers every index exactly once", "[core][context]") {
  CpuContext ctx(2);
  std::vector<std::atomic<int>> hits(10007);
  ctx.parallel_for(10007, 100, [&](Index b, Index e) {
    for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
  });
  for (auto& h : hits) REQUIRE(h.load() == 1);
}

TEST_CASE("CpuContext: for_chunks gives a fixed partition and deterministic reductions", "[core][context]") {
  CpuContext ctx(2);
  const Index n = 1000, chunks = 7;
  std::vector<Index> begins(chunks, -1), ends(chunks, -1);
  ctx.for_chunks(n, chunks, [&](Index k, Index b, Index e) {
    begins[static_cast<std::size_t>(k)] = b;
    ends[static_cast<std::size_t>(k)] = e;
  });
  CHECK(begins.front() == 0);
  CHECK(ends.back() == n);
  for (Index k = 1; k < chunks; ++k) CHECK(begins[static_cast<std::size_t>(k)] == ends[static_cast<std::size_t>(k - 1)]);
}

TEST_CASE("CpuContext: the Eigen device evaluates tensor expressions on the arena", "[core][context]") {
  CpuContext ctx(2);
  Eigen::Tensor<float, 1> a(100000), b(100000), c(100000);
  a.setConstant(1.5f);
  b.setConstant(2.0f);
  c.device(ctx.device()) = a * b + a;
  for (Index i = 0; i < c.size(); i += 9973) CHECK(c(i) == 4.5f);
}

TEST_CASE("CpuContext: worker threads flush denormals to zero", "[core][context]") {
  CpuContext ctx(2);
  std::vector<float> out(64, 1.0f);
  volatile float tiny = 1e-39f;  // a float denormal
  ctx.parallel_for(64, 1, [&](Index b, Index e) {
    for (Index i = b; i < e; ++i) out[static_cast<std::size_t>(i)] = tiny * 1.0f;
  });
  for (float v : out) CHECK(v == 0.0f);
}

TEST_CASE("CpuContext: lengths default to the full length", "[core][context]") {
  CpuContext ctx(1);
  CHECK(ctx.length_of(0, 50) == 50);
  ctx.set_lengths({10, 60});
  CHECK(ctx.length_of(0, 50) == 10);
  CHECK(ctx.length_of(1, 50) == 50);
}
