#include "nucleo/core/workspace.hpp"

#include "nucleo/core/context.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/res_block.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <latch>
#include <map>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using nucleo::CpuContext;
using nucleo::Index;
using nucleo::Workspace;

namespace {

struct KeyA {};
struct KeyB {};

/// Counts what the workspace allocates and frees (the allocation hook), on top of operator new.
class CountingResource final : public std::pmr::memory_resource {
 public:
  std::size_t allocations = 0, deallocations = 0, live_bytes = 0, last_bytes = 0, last_alignment = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    ++allocations;
    live_bytes += bytes;
    last_bytes = bytes;
    last_alignment = alignment;
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    ++deallocations;
    live_bytes -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
};

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

}  // namespace

TEST_CASE("Workspace: distinct keys and element types get distinct memory", "[core][workspace]") {
  Workspace ws;
  const std::size_t n = 1000;
  float* a = ws.get<float, KeyA>(n);
  float* b = ws.get<float, KeyB>(n);
  double* ad = ws.get<double, KeyA>(n);
  std::fill(a, a + n, 1.0f);
  std::fill(b, b + n, 2.0f);
  std::fill(ad, ad + n, 3.0);
  // Writing one buffer leaves the others as they were, so they do not overlap.
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(a[i] == 1.0f);
    REQUIRE(b[i] == 2.0f);
    REQUIRE(ad[i] == 3.0);
  }
  CHECK(ws.bytes() == n * (2 * sizeof(float) + sizeof(double)));
}

TEST_CASE("Workspace: one key on one thread reuses its buffer, grows at least 2x and never shrinks",
          "[core][workspace]") {
  CountingResource mem;
  {
    Workspace ws(&mem);
    CHECK(ws.memory() == &mem);
    float* p = ws.get<float, KeyA>(100);
    CHECK(mem.allocations == 1);
    CHECK(mem.last_bytes == 400);
    CHECK(mem.last_alignment == Workspace::alignment);
    p[99] = 7.0f;
    CHECK(ws.get<float, KeyA>(40) == p);   // smaller: same buffer, no allocation
    CHECK(ws.get<float, KeyA>(100) == p);  // same size again: same buffer
    CHECK(mem.allocations == 1);
    CHECK(ws.bytes() == 400);

    ws.get<float, KeyA>(101);  // just above: doubles (400 -> 800 bytes), frees the old block first
    CHECK(mem.allocations == 2);
    CHECK(mem.deallocations == 1);
    CHECK(mem.last_bytes == 800);
    ws.get<float, KeyA>(1000);  // far above: exactly what is asked
    CHECK(mem.last_bytes == 4000);
    CHECK(mem.allocations == 3);
    ws.get<float, KeyA>(1);  // never shrinks
    CHECK(ws.bytes() == 4000);
    CHECK(mem.live_bytes == 4000);

    ws.release();
    CHECK(mem.live_bytes == 0);
    CHECK(ws.bytes() == 0);
    ws.get<float, KeyB>(10);
    CHECK(mem.allocations == 4);
  }
  // The destructor returns everything to the resource.
  CHECK(mem.deallocations == mem.allocations);
  CHECK(mem.live_bytes == 0);
}

TEST_CASE("Workspace: a new workspace at the address of a destroyed one starts empty", "[core][workspace]") {
  // A thread caches its slot of the last workspace it used; the cache must not outlive the workspace.
  CountingResource mem;
  std::optional<Workspace> ws;
  ws.emplace(&mem);
  ws->get<float, KeyA>(64);
  ws.reset();
  CHECK(mem.live_bytes == 0);
  ws.emplace(&mem);
  ws->get<float, KeyA>(64);
  CHECK(mem.allocations == 2);
  CHECK(ws->bytes() == 64 * sizeof(float));
  ws.reset();
  CHECK(mem.live_bytes == 0);
}

TEST_CASE("Workspace: buffers are aligned for SIMD and to a cache line", "[core][workspace]") {
  STATIC_REQUIRE(Workspace::alignment >= std::size_t(EIGEN_MAX_ALIGN_BYTES));
  STATIC_REQUIRE(Workspace::alignment % 64 == 0);
  Workspace ws;
  for (std::size_t n : {1, 3, 17, 100, 4097}) {
    INFO(n);
    CHECK(aligned(ws.get<float, KeyA>(n), Workspace::alignment));
    CHECK(aligned(ws.get<double, KeyA>(n), Workspace::alignment));
    CHECK(aligned(ws.get<char, KeyB>(n), Workspace::alignment));
  }
}

TEST_CASE("Workspace: two threads holding the same key at once get separate buffers", "[core][workspace]") {
  Workspace ws;
  const std::size_t n = 4096;
  float* ptr[2] = {nullptr, nullptr};
  bool intact[2] = {false, false};
  std::latch written(2), compared(2);
  auto body = [&](int t) {
    float* p = ws.get<float, KeyA>(n);
    ptr[t] = p;
    std::fill(p, p + n, float(t + 1));
    written.arrive_and_wait();  // both buffers are filled before either is read back
    intact[t] = std::all_of(p, p + n, [&](float v) { return v == float(t + 1); });
    compared.arrive_and_wait();  // keep both threads alive until both have compared
  };
  std::thread t0(body, 0), t1(body, 1);
  t0.join();
  t1.join();
  CHECK(ptr[0] != ptr[1]);
  CHECK(intact[0]);
  CHECK(intact[1]);
  CHECK(ws.bytes() == 2 * n * sizeof(float));
}

TEST_CASE("Workspace: under ctx.parallel_for each thread has its own buffer per key", "[core][workspace]") {
  CpuContext ctx(2);
  Workspace& ws = ctx.workspace();
  const std::size_t n = 2048;
  float* caller = ws.get<float, KeyA>(n);
  std::mutex m;
  std::map<const float*, std::thread::id> owner;
  std::map<std::thread::id, const float*> used;
  std::atomic<int> bad{0};
  const Index tasks = 256;
  ctx.parallel_for(tasks, 1, [&](Index b, Index e) {
    for (Index t = b; t < e; ++t) {
      float* p = ws.get<float, KeyA>(n);
      std::fill(p, p + n, float(t));
      for (int spin = 0; spin < 200; ++spin) std::this_thread::yield();  // let other tasks run meanwhile
      if (!std::all_of(p, p + n, [&](float v) { return v == float(t); })) ++bad;
      const std::lock_guard<std::mutex> lock(m);
      owner.emplace(p, std::this_thread::get_id());
      if (owner.at(p) != std::this_thread::get_id()) ++bad;  // a buffer seen by two threads
      if (used.emplace(std::this_thread::get_id(), p).first->second != p) ++bad;  // one thread, one buffer
    }
  });
  CHECK(bad.load() == 0);
  CHECK(owner.size() == used.size());
  // The calling thread keeps the buffer it had before the loop.
  if (auto it = used.find(std::this_thread::get_id()); it != used.end()) CHECK(it->second == caller);
  CHECK(ws.get<float, KeyA>(n) == caller);
}

namespace thirdparty {
/// A key declared outside the library, as a third-party layer would.
struct MyLayerScratch {};
}  // namespace thirdparty

TEST_CASE("Workspace: a user-declared key does not disturb the library's buffers", "[core][workspace]") {
  CpuContext ctx(1);
  nucleo::Rng rng(3);
  nucleo::DilatedConv1D<4, 5, 3> conv(2, rng);
  const float* wk = conv.pack_taps(ctx);
  float* mine = ctx.workspace().get<float, thirdparty::MyLayerScratch>(4 * 5 * 3);
  std::fill(mine, mine + 4 * 5 * 3, std::nanf(""));
  // The packed taps are still W {Cout, Cin, K} as K row-major Cout x Cin matrices.
  const float* w = conv.weight().value.data();
  for (Index k = 0; k < 3; ++k)
    for (Index o = 0; o < 5; ++o)
      for (Index i = 0; i < 4; ++i) REQUIRE(wk[(k * 5 + o) * 4 + i] == w[(o * 4 + i) * 3 + k]);
}

TEST_CASE("Workspace: a stack of blocks shares one buffer per key, so memory does not grow with depth",
          "[core][workspace]") {
  CpuContext ctx(1);
  nucleo::Rng rng(11);
  std::vector<nucleo::ResBlock<8, 3>> blocks;
  for (int d : {1, 2, 4, 8, 16, 32}) blocks.emplace_back(d, rng);
  nucleo::Tensor3<float> x(2, 8, 300), y, dy, dx;
  x.setRandom();
  auto run = [&](std::size_t depth) {
    nucleo::Tensor3<float> h = x;
    for (std::size_t i = 0; i < depth; ++i) {
      blocks[i].forward(ctx, h, y);
      dy = y;
      blocks[i].backward(ctx, h, dy, dx);
      h = y;
    }
  };
  run(1);
  const std::size_t one = ctx.workspace().bytes();
  CHECK(one > 0);
  run(blocks.size());
  CHECK(ctx.workspace().bytes() == one);
  // Evaluation mode adds only the per-tile pre-activation buffers, once for all blocks.
  ctx.set_training(false);
  blocks[0].forward(ctx, x, y);
  const std::size_t eval_one = ctx.workspace().bytes();
  CHECK(eval_one > one);
  for (auto& b : blocks) b.forward(ctx, x, y);
  CHECK(ctx.workspace().bytes() == eval_one);
}
