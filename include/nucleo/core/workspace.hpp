#pragma once
/// `Workspace`: scratch memory for layers, owned by the context (`ctx.workspace()`).
///
/// A layer asks for a work buffer by a typed key, a tag type declared once per use:
///
/// ```
/// namespace mylib { struct MyLayerPartials {}; }      // the key: one empty type per use
/// float* p = ctx.workspace().get<float, mylib::MyLayerPartials>(n);
/// ```
///
/// The buffer belongs to the pair (element type, key). Two uses with different key types never
/// share memory, and a third-party layer gets its own buffers by declaring its own tag type.
///
/// Sharing: every layer that asks for the same key on the same thread gets the same buffer. Layers
/// run one after another on the calling thread, so one buffer per key and thread serves a whole
/// model (the paper's 30 blocks share one repacked-weights buffer instead of 30 x 9.4 MB). A key
/// therefore names a use, not a layer instance; it must be declared outside class templates when
/// all instantiations should share it.
///
/// Threads: buffers are per thread. `parallel_for` bodies may call `get` on worker threads; each
/// thread gets its own buffer for a key, so tasks never write into another thread's buffer. Tasks
/// of one call that share the calling thread's buffer must write disjoint parts of it.
///
/// Lifetime: the pointer returned by `get<T, Key>(n)` is valid until the next `get` of the same
/// key on the same thread (or the workspace's destruction); `n` elements of T are available. The
/// content is undefined on entry, including after a request for fewer elements. Buffers grow
/// (to at least twice their old size, so a slowly growing request reallocates rarely) and never
/// shrink; `release()` frees them all.
///
/// Alignment: every buffer starts on a multiple of `Workspace::alignment` (at least Eigen's SIMD
/// alignment, EIGEN_MAX_ALIGN_BYTES, and a cache line), so vectorised loops split a buffer the same
/// way on every thread and the results do not depend on which thread ran a task.
///
/// Cost: a key's index is fixed once per (T, Key) type pair; a lookup is a thread-local compare and
/// an array index, as cheap as a `thread_local` array, so `get` may run once per tile in hot loops.
///
/// Memory: every allocation goes through one `std::pmr::memory_resource` given at construction
/// (default: aligned operator new). The workspace never reads or writes the memory itself, so the
/// resource may hand out device memory: a `GpuContext` would own a `Workspace` built on a resource
/// whose `do_allocate(bytes, alignment)` calls `cudaMalloc` (its blocks are 256-byte aligned) and
/// whose `do_deallocate` calls `cudaFree` (which waits for queued kernels, so a buffer is not freed
/// under a running kernel; a stream-ordered resource would use cudaMallocAsync / cudaFreeAsync on
/// the context's stream). Its kernels then receive device pointers from `get`; the host thread that
/// launches them is the "thread" that owns the buffers. The resource must be thread-safe when
/// worker threads call `get`.
#include <Eigen/Core>
#include <oneapi/tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <type_traits>
#include <vector>

namespace nucleo {

class Workspace {
 public:
  /// Alignment of every buffer, in bytes.
  static constexpr std::size_t alignment =
      std::max<std::size_t>({EIGEN_MAX_ALIGN_BYTES, 64, alignof(std::max_align_t)});

  /// `memory` allocates every buffer; it must outlive the workspace.
  explicit Workspace(std::pmr::memory_resource* memory = std::pmr::new_delete_resource())
      : memory_(memory), id_(next_id()) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() { release(); }

  /// The calling thread's buffer for key (T, Key), with room for at least `n` elements of T (see
  /// the header for the lifetime rule). n = 0 may return null.
  template <class T, class Key>
  T* get(std::size_t n) {
    static_assert(std::is_trivial_v<T>, "Workspace::get<T, Key>: T must be a trivial type (no constructors run)");
    static_assert(alignof(T) <= alignment, "Workspace::get<T, Key>: T needs more than Workspace::alignment");
    std::vector<Buffer>& buffers = local();
    const std::size_t k = key_index<T, Key>();
    if (k >= buffers.size()) buffers.resize(k + 1);
    Buffer& buf = buffers[k];
    const std::size_t bytes = n * sizeof(T);
    if (buf.bytes < bytes) grow(buf, bytes);
    return static_cast<T*>(buf.data);
  }

  /// Bytes held by all threads' buffers. Call only while no thread is inside `get`.
  std::size_t bytes() const {
    std::size_t total = 0;
    for (const std::vector<Buffer>& buffers : slots_)
      for (const Buffer& b : buffers) total += b.bytes;
    return total;
  }

  /// Free every buffer of every thread (e.g. after an unusually large batch). Invalidates every
  /// pointer `get` returned; call only while no thread is inside `get`.
  void release() {
    for (std::vector<Buffer>& buffers : slots_)
      for (Buffer& b : buffers) {
        if (b.data) memory_->deallocate(b.data, b.bytes, alignment);
        b = Buffer{};
      }
  }

  /// The resource every buffer comes from.
  std::pmr::memory_resource* memory() const { return memory_; }

 private:
  struct Buffer {
    void* data = nullptr;
    std::size_t bytes = 0;
  };
  using Slots = oneapi::tbb::enumerable_thread_specific<std::vector<Buffer>>;

  /// Process-wide index of the key (T, Key): fixed on first use, dense from 0.
  template <class T, class Key>
  static std::size_t key_index() {
    static const std::size_t index = next_key();
    return index;
  }
  static std::size_t next_key() {
    static std::atomic<std::size_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed);
  }
  /// Never reused, so a thread's cached slot pointer cannot match a later workspace at the same address.
  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  /// The calling thread's buffers. A one-entry thread-local cache skips the enumerable_thread_specific
  /// lookup while a thread keeps using the same workspace.
  std::vector<Buffer>& local() {
    struct Cache {
      std::uint64_t id = 0;
      std::vector<Buffer>* buffers = nullptr;
    };
    thread_local Cache cache;
    if (cache.id != id_) cache = {id_, &slots_.local()};
    return *cache.buffers;
  }

  void grow(Buffer& buf, std::size_t bytes) {
    const std::size_t want = std::max(bytes, 2 * buf.bytes);
    // Free first: the old content is not kept, and peak memory stays at the new size.
    if (buf.data) memory_->deallocate(buf.data, buf.bytes, alignment);
    buf = Buffer{};
    buf.data = memory_->allocate(want, alignment);
    buf.bytes = want;
  }

  std::pmr::memory_resource* memory_;
  std::uint64_t id_;
  Slots slots_;
};

}  // namespace nucleo
