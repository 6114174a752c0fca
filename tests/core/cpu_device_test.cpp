#include "nucleo/core/cpu_device.hpp"

#include <catch2/catch.hpp>

#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace nucleo;

TEST_CASE("TbbThreadPool: thread count and ids follow the arena", "[core][cpu_device]") {
  oneapi::tbb::task_arena arena(2, 1);
  arena.initialize();
  TbbThreadPool pool(arena);
  CHECK(pool.NumThreads() == 2);
  // A thread outside every arena has no slot (Eigen then treats it as an external caller).
  int outside = -2;
  std::thread([&] { outside = pool.CurrentThreadId(); }).join();
  CHECK(outside == -1);
  // Inside it, the caller takes a slot in [0, 2).
  int inside = -2;
  arena.execute([&] { inside = pool.CurrentThreadId(); });
  CHECK(inside >= 0);
  CHECK(inside < 2);

  oneapi::tbb::task_arena one(1, 1);
  one.initialize();
  CHECK(TbbThreadPool(one).NumThreads() == 1);
}

TEST_CASE("TbbThreadPool: Schedule runs every task once, on arena threads", "[core][cpu_device]") {
  oneapi::tbb::task_arena arena(2, 1);
  arena.initialize();
  TbbThreadPool pool(arena);
  constexpr int n = 200;
  std::vector<std::atomic<int>> runs(n);
  std::mutex m;
  std::set<int> ids;
  Eigen::Barrier done(n);
  for (int i = 0; i < n; ++i)
    pool.Schedule([&, i] {
      runs[static_cast<std::size_t>(i)].fetch_add(1);
      {
        std::lock_guard<std::mutex> lock(m);
        ids.insert(pool.CurrentThreadId());
      }
      done.Notify();
    });
  done.Wait();
  for (int i = 0; i < n; ++i) CHECK(runs[static_cast<std::size_t>(i)].load() == 1);
  // Every task ran on a thread of this arena (id in [0, 2)), never outside it (-1).
  REQUIRE_FALSE(ids.empty());
  CHECK(*ids.begin() >= 0);
  CHECK(*ids.rbegin() < 2);
}

TEST_CASE("TbbThreadPool: an Eigen ThreadPoolDevice over it evaluates tensor expressions", "[core][cpu_device]") {
  oneapi::tbb::task_arena arena(2, 1);
  arena.initialize();
  TbbThreadPool pool(arena);
  Eigen::ThreadPoolDevice dev(&pool, 2);
  CHECK(dev.numThreads() == 2);

  // Large enough for Eigen to split the work into several blocks.
  const Eigen::Index n = 1 << 18;
  Eigen::Tensor<double, 1> a(n), b(n), c(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    a(i) = static_cast<double>(i);
    b(i) = 2.0;
  }
  c.device(dev) = a * b + a;  // 3 i
  bool all = true;
  for (Eigen::Index i = 0; i < n; ++i) all = all && c(i) == 3.0 * static_cast<double>(i);
  CHECK(all);

  // A full reduction: sum of 0..n-1 = n (n - 1) / 2 (exact in double at this size).
  Eigen::Tensor<double, 0> s;
  s.device(dev) = a.sum();
  CHECK(s() == static_cast<double>(n) * static_cast<double>(n - 1) / 2);

  // A contraction (matrix product) through the device, against a hand-checkable 2x2 product.
  Eigen::Tensor<double, 2> x(2, 2), y(2, 2), z(2, 2);
  x.setValues({{1, 2}, {3, 4}});
  y.setValues({{5, 6}, {7, 8}});
  const Eigen::array<Eigen::IndexPair<int>, 1> dims = {Eigen::IndexPair<int>(1, 0)};
  z.device(dev) = x.contract(y, dims);
  CHECK(z(0, 0) == 19);
  CHECK(z(0, 1) == 22);
  CHECK(z(1, 0) == 43);
  CHECK(z(1, 1) == 50);
}
