#pragma once
/// `Prefetcher`: builds the next batches of a `Batcher` on a background thread while the trainer
/// computes, so the trainer does not wait on cropping, padding and masking.
///
/// A worker `std::thread` produces `batcher.batch(p)` for p = start, next_position(start), ...
/// (across epoch boundaries) into a bounded queue of `depth` batches, applies the optional
/// `transform` (e.g. `MlmMasking`, which is keyed by (epoch, example id)) to each, and blocks when
/// the queue is full. `next()` pops in order. Because each batch is a pure function of its
/// position, the stream is **identical** to calling `batcher.batch(p)` (+ transform) synchronously.
///
/// `position()` is the position of the batch `next()` will return: the value a checkpoint stores;
/// a resumed run constructs a Prefetcher at that position. `end` (exclusive, default: never)
/// stops the stream: `next()` then returns std::nullopt. An exception thrown on the worker (by the
/// transform, say) is rethrown by `next()`. The transform runs on the worker thread only, so it
/// must not touch state the trainer uses; it must not use the trainer's CpuContext.
///
/// The Batcher (and its examples) must outlive the Prefetcher. Destruction stops and joins the
/// worker.
#include "nucleo/data/batcher.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

namespace nucleo {

struct PrefetcherOptions {
  /// Batches built ahead (queue capacity).
  Index depth = 2;
  /// First position not produced (exclusive); default: run forever.
  DataPosition end{std::numeric_limits<std::uint64_t>::max(), 0};
};

class Prefetcher {
 public:
  using Transform = std::function<void(Batch&)>;

  Prefetcher(const Batcher& batcher, DataPosition start, PrefetcherOptions options = {}, Transform transform = {})
      : batcher_(batcher), opt_(options), transform_(std::move(transform)), consumer_pos_(start), producer_pos_(start) {
    NUCLEO_CHECK_CONFIG(opt_.depth > 0, "Prefetcher: depth must be positive, got {}", opt_.depth);
    NUCLEO_CHECK(start.batch >= 0 && start.batch < batcher.batches_per_epoch(),
                 "Prefetcher: start batch {} out of range (an epoch has {} batches)", start.batch,
                 batcher.batches_per_epoch());
    worker_ = std::thread([this] { run(); });
  }
  /// A temporary Batcher would dangle: keep it in a variable.
  Prefetcher(Batcher&&, DataPosition, PrefetcherOptions = {}, Transform = {}) = delete;
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  ~Prefetcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    not_full_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  /// The next batch in order (waits for the worker if needed); nullopt at `end`.
  std::optional<Batch> next() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || error_ || done_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return std::nullopt;
    }
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    consumer_pos_ = batcher_.next_position(b.position);
    lock.unlock();
    not_full_.notify_one();
    return b;
  }

  /// Position of the batch `next()` returns next (save it in checkpoints).
  DataPosition position() const {
    std::lock_guard lock(mutex_);
    return consumer_pos_;
  }

 private:
  static bool before(DataPosition a, DataPosition b) {
    return a.epoch < b.epoch || (a.epoch == b.epoch && a.batch < b.batch);
  }

  void run() {
    try {
      for (;;) {
        DataPosition pos;
        {
          std::unique_lock lock(mutex_);
          not_full_.wait(lock, [&] { return stop_ || static_cast<Index>(queue_.size()) < opt_.depth; });
          if (stop_) return;
          pos = producer_pos_;
          if (!before(pos, opt_.end)) {
            done_ = true;
            break;
          }
        }
        Batch b = batcher_.batch(pos);
        if (transform_) transform_(b);
        {
          std::lock_guard lock(mutex_);
          queue_.push_back(std::move(b));
          producer_pos_ = batcher_.next_position(pos);
        }
        not_empty_.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    not_empty_.notify_all();
  }

  const Batcher& batcher_;
  PrefetcherOptions opt_;
  Transform transform_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Batch> queue_;
  DataPosition consumer_pos_, producer_pos_;
  bool stop_ = false, done_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace nucleo
