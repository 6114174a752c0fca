#pragma once
/// `CpuContext`: where and how layers run on the CPU.
///
/// - Threads: a oneTBB `task_arena` of `threads()` threads (constructor argument; 0 = the
///   `NUCLEO_THREADS` environment variable, else all hardware threads). Layers split work with
///   `parallel_for` / `for_chunks`, whose partition depends only on the problem size and the grain,
///   never on timing, so results are bit-identical from run to run for a given thread count.
/// - Eigen: `device()` is an `Eigen::ThreadPoolDevice` over the same arena, for Tensor expressions.
/// - Denormals: every thread that enters the arena (and the constructing thread) sets flush-to-zero
///   and denormals-are-zero, which keeps fine-tuning after pretraining from slowing down 2x.
/// - Mode: `training()` (Dropout active, caches kept for backward) or evaluation.
/// - Batch lengths: `lengths()` holds the valid length of each sequence of the current batch
///   (empty = every position valid). Layers that mix positions (convolutions, pooling) treat
///   positions at or beyond a sequence's length as zero padding, so a sequence's outputs do not
///   depend on the rest of the batch.
/// - Scratch memory: `workspace()` hands out per-thread work buffers by typed key
///   (core/workspace.hpp), shared by all layers that run on this context.
#include "nucleo/core/cpu_device.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/core/workspace.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace nucleo {

namespace detail {
/// Set flush-to-zero (FTZ) and denormals-are-zero (DAZ) on the calling thread.
inline void set_flush_denormals() {
#if defined(__SSE__) || defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040u);
#endif
}

/// Threads from NUCLEO_THREADS, else the hardware's; `requested` > 0 wins; < 0 is a ConfigError.
inline int resolve_threads(int requested) {
  if (requested < 0)
    throw ConfigError(fmt::format("threads must be >= 0 (0 = NUCLEO_THREADS or all cores), got {}", requested));
  if (requested > 0) return requested;
  if (const char* env = std::getenv("NUCLEO_THREADS"); env && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end && *end == '\0' && v > 0 && v <= 4096) return static_cast<int>(v);
    throw ConfigError(fmt::format("NUCLEO_THREADS='{}' is not a positive integer", env));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

class DenormalObserver final : public oneapi::tbb::task_scheduler_observer {
 public:
  explicit DenormalObserver(oneapi::tbb::task_arena& a) : oneapi::tbb::task_scheduler_observer(a) { observe(true); }
  ~DenormalObserver() override { observe(false); }
  void on_scheduler_entry(bool) override { set_flush_denormals(); }
};
}  // namespace detail

class CpuContext {
 public:
  /// `threads` = 0: from NUCLEO_THREADS, else all hardware threads.
  explicit CpuContext(int threads = 0, std::uint64_t seed = 0x5eed)
      // FTZ/DAZ first: the arena (initialised by the observer below) captures the creating thread's
      // floating-point settings and restores them in every task, so they must already be set here.
      : threads_((detail::set_flush_denormals(), detail::resolve_threads(threads))),
        arena_(std::make_unique<oneapi::tbb::task_arena>(threads_, 1)),
        observer_(std::make_unique<detail::DenormalObserver>(*arena_)),
        pool_(std::make_unique<TbbThreadPool>(*arena_)),
        device_(std::make_unique<Eigen::ThreadPoolDevice>(pool_.get(), threads_)),
        rng_(seed) {
    detail::set_flush_denormals();
  }
  CpuContext(const CpuContext&) = delete;
  CpuContext& operator=(const CpuContext&) = delete;
  ~CpuContext() {
    device_.reset();
    pool_.reset();
    observer_.reset();
    arena_->terminate();
  }

  int threads() const { return threads_; }
  const Eigen::ThreadPoolDevice& device() const { return *device_; }
  oneapi::tbb::task_arena& arena() { return *arena_; }

  bool training() const { return training_; }
  void set_training(bool on) { training_ = on; }

  /// Valid length of each sequence in the current batch (empty = all positions valid).
  std::span<const Index> lengths() const { return lengths_; }
  void set_lengths(std::vector<Index> lengths) { lengths_ = std::move(lengths); }
  void clear_lengths() { lengths_.clear(); }
  /// Valid length of sequence `b` of a batch of length `L`.
  Index length_of(Index b, Index L) const {
    return lengths_.empty() ? L : std::min<Index>(L, lengths_[static_cast<std::size_t>(b)]);
  }

  /// Generator for stochastic layers (Dropout); checkpoints save its state.
  Rng& rng() { return rng_; }

  /// Per-thread scratch buffers of the layers that run on this context (core/workspace.hpp).
  Workspace& workspace() { return workspace_; }

  /// Run `f(begin, end)` over [0, n) in chunks of at most `grain` items on the arena's threads.
  /// The split depends only on n and grain (simple_partitioner), never on timing.
  template <class F>
  void parallel_for(Index n, Index grain, F&& f) {
    if (n <= 0) return;
    grain = std::max<Index>(1, grain);
    if (threads_ == 1 || n <= grain) {
      f(Index{0}, n);
      return;
    }
    arena_->execute([&] {
      oneapi::tbb::parallel_for(
          oneapi::tbb::blocked_range<Index>(0, n, grain),
          [&](const oneapi::tbb::blocked_range<Index>& r) { f(r.begin(), r.end()); },
          oneapi::tbb::simple_partitioner());
    });
  }

  /// Split [0, n) into `chunks` near-equal contiguous blocks and run `f(chunk, begin, end)` for
  /// each, in parallel. Deterministic reductions write one partial per chunk and sum the partials
  /// in chunk order afterwards.
  template <class F>
  void for_chunks(Index n, Index chunks, F&& f) {
    chunks = std::max<Index>(1, std::min(chunks, n));
    if (n <= 0) return;
    auto body = [&](Index k) {
      const Index b = n * k / chunks, e = n * (k + 1) / chunks;
      f(k, b, e);
    };
    if (threads_ == 1 || chunks == 1) {
      for (Index k = 0; k < chunks; ++k) body(k);
      return;
    }
    arena_->execute([&] {
      oneapi::tbb::parallel_for(
          oneapi::tbb::blocked_range<Index>(0, chunks, 1),
          [&](const oneapi::tbb::blocked_range<Index>& r) {
            for (Index k = r.begin(); k < r.end(); ++k) body(k);
          },
          oneapi::tbb::simple_partitioner());
    });
  }

 private:
  int threads_;
  std::unique_ptr<oneapi::tbb::task_arena> arena_;
  std::unique_ptr<detail::DenormalObserver> observer_;
  std::unique_ptr<TbbThreadPool> pool_;
  std::unique_ptr<Eigen::ThreadPoolDevice> device_;
  Rng rng_;
  bool training_ = true;
  std::vector<Index> lengths_;
  Workspace workspace_;
};

}  // namespace nucleo
