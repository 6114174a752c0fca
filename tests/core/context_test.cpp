#include "nucleo/core/context.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

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

TEST_CASE("CpuContext: a negative thread count is a ConfigError, in every program alike", "[core][context]") {
  // nucleo-gene-finding took --threads -1 as "all cores" while nucleo-annotate refused it
  CHECK_THROWS_AS(CpuContext(-1), nucleo::ConfigError);
  CHECK_THROWS_WITH(nucleo::detail::resolve_threads(-4), Catch::Contains("threads must be >= 0") && Catch::Contains("-4"));
  CHECK(nucleo::detail::resolve_threads(3) == 3);
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
  // Two chunks that wait for each other, so the second one surely runs on a worker thread and not
  // on the calling thread (whose FTZ/DAZ the constructor sets).
  std::atomic<int> started{0};
  std::array<std::thread::id, 2> who{};
  std::array<unsigned, 2> csr{};
  std::array<float, 2> product{1.0f, 1.0f};
  volatile float tiny = 1e-39f;  // a float denormal
  ctx.for_chunks(2, 2, [&](Index k, Index, Index) {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    who[static_cast<std::size_t>(k)] = std::this_thread::get_id();
#if defined(__SSE__) || defined(__x86_64__)
    csr[static_cast<std::size_t>(k)] = _mm_getcsr() & 0x8040u;
#endif
    product[static_cast<std::size_t>(k)] = tiny * 1.0f;
  });
  REQUIRE(started.load() == 2);
  REQUIRE(who[0] != who[1]);  // both ran at once: one of them is a worker
  for (int k = 0; k < 2; ++k) {
    CHECK(product[static_cast<std::size_t>(k)] == 0.0f);
#if defined(__SSE__) || defined(__x86_64__)
    CHECK(csr[static_cast<std::size_t>(k)] == 0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#endif
  }
}

TEST_CASE("CpuContext: lengths default to the full length", "[core][context]") {
  CpuContext ctx(1);
  CHECK(ctx.length_of(0, 50) == 50);
  ctx.set_lengths({10, 60});
  CHECK(ctx.length_of(0, 50) == 10);
  CHECK(ctx.length_of(1, 50) == 50);
}
