#pragma once
/// `TbbThreadPool`: Eigen's `ThreadPoolInterface` implemented on a oneTBB `task_arena`, so that
/// Eigen Tensor expressions evaluated with `t.device(ctx.device()) = expr` run on the same threads
/// as nucleo's own `parallel_for` (one pool in the process, as the house style asks).
#ifndef EIGEN_USE_THREADS
#error "nucleo needs EIGEN_USE_THREADS; link the nucleo::nucleo CMake target, which defines it"
#endif
#include <oneapi/tbb/task_arena.h>
#include <unsupported/Eigen/CXX11/Tensor>

#include <functional>

namespace nucleo {

class TbbThreadPool final : public Eigen::ThreadPoolInterface {
 public:
  explicit TbbThreadPool(oneapi::tbb::task_arena& arena) : arena_(arena) {}
  void Schedule(std::function<void()> fn) override { arena_.enqueue(std::move(fn)); }
  int NumThreads() const override { return arena_.max_concurrency(); }
  int CurrentThreadId() const override {
    const int id = oneapi::tbb::this_task_arena::current_thread_index();
    return (id < 0 || id >= NumThreads()) ? -1 : id;
  }

 private:
  oneapi::tbb::task_arena& arena_;
};

}  // namespace nucleo
