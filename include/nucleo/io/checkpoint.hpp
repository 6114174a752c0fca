#pragma once
/// Checkpoints: self-describing files of named tensors, written atomically.
///
/// ```
/// save_checkpoint(path, model, meta)                 // parameters + metadata
/// save_checkpoint(path, model, meta, &optimizer)     // + optimizer state (resume)
/// LoadReport r = load_checkpoint(path, model, opts)  // by name and shape
/// LoadReport r = load_checkpoint(path, model, opts, &optimizer)
/// nlohmann::json h = read_checkpoint_header(path)    // inspect without a model
/// load_checkpoint_from_memory(bytes, name, model, ...) // the same from bytes in memory (and
/// read_checkpoint_header_from_memory)
/// ```
///
/// File layout (all integers little-endian):
///
/// | bytes               | content                                                            |
/// |---------------------|--------------------------------------------------------------------|
/// | 0..7                | magic `NUCLEOCK`                                                   |
/// | 8..11               | u32 container version (1)                                          |
/// | 12..15              | u32 reserved (0)                                                   |
/// | 16..23              | u64 H, length of the JSON header                                   |
/// | 24..24+H            | JSON header (UTF-8), see docs/training.md for the fields           |
/// | ..blob_start        | zero padding; blob_start = 24 + H rounded up to a multiple of 64   |
/// | blob                | tensors, each at blob_start + offset (offset a multiple of 64)     |
/// | last 16 bytes       | `NCKPTEND`, u32 CRC-32 (zlib) of every byte before the trailer, u32 0 |
///
/// The header holds format "nucleo-ckpt", version, lib_version, model (type name), config,
/// tensors [{name, role ("param" | "optimizer"), kind, dtype ("f32" | "f64"), shape, offset,
/// nbytes}], optimizer (the optimizer's state_json() or null), rng, epoch, step, data_cursor,
/// metrics, extra, blob_nbytes and checksum ("crc32").
///
/// Writing goes to `<path>.tmp-<pid>-<n>` in the same directory, which is fsync'd, renamed over
/// `path`, and the directory fsync'd: a crash or an error leaves either the old or the new file,
/// never a torn one (the temporary file is removed on error).
///
/// Loading refuses, naming the path and the reason: a file that is not a checkpoint, a truncated
/// file (missing end marker or wrong size), a checksum mismatch (corruption), a tensor whose shape
/// differs from the model's (both shapes are named), and - in strict mode - any model parameter
/// not found or any checkpoint parameter left unused. Nothing is copied into the model before all
/// checks passed. `LoadOptions::prefix_map` maps source-name prefixes to destination prefixes (the
/// encoder "0." of a pretraining model into "0." of a fine-tuning model); only tensors under a
/// mapped prefix are loaded and the report lists used, missing and unused names.
#include "nucleo/core/error.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/detail/param_list.hpp"
#include "nucleo/version.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nucleo {

static_assert(std::endian::native == std::endian::little, "nucleo checkpoints assume a little-endian host");

inline constexpr int checkpoint_version = 1;
inline constexpr std::uint64_t checkpoint_alignment = 64;

/// What a checkpoint records besides tensors.
struct CheckpointMeta {
  std::string model_type{};                              ///< e.g. "PretrainNet"; checked when LoadOptions asks
  nlohmann::json config = nlohmann::json::object();      ///< the model/run configuration
  std::optional<Rng::State> rng{};                       ///< generator state for resuming
  std::int64_t epoch = 0;                                ///< epoch in progress (0-based)
  std::int64_t step = 0;                                 ///< optimizer steps taken
  nlohmann::json data_cursor = nlohmann::json::object(); ///< where the data stream resumes
  nlohmann::json metrics = nlohmann::json::array();      ///< figures so far (e.g. one row per epoch)
  nlohmann::json extra = nlohmann::json::object();       ///< free-form
};

struct LoadOptions {
  /// {source prefix, destination prefix} pairs. Empty: every name maps to itself. Otherwise only
  /// checkpoint parameters under a source prefix are loaded (the first matching pair wins).
  std::vector<std::pair<std::string, std::string>> prefix_map{};
  /// Throw unless every model parameter was loaded and every considered checkpoint parameter used.
  bool strict = true;
  /// Restore the optimizer's state when an optimizer is passed and the file has one.
  bool load_optimizer = true;
  /// If not empty, the checkpoint's model type must equal this.
  std::string model_type{};
};

struct LoadReport {
  std::vector<std::string> used;     ///< model parameter names that were loaded
  std::vector<std::string> missing;  ///< model parameter names not found in the checkpoint
  std::vector<std::string> unused;   ///< checkpoint parameter names (source names) not loaded
  bool optimizer_loaded = false;
  CheckpointMeta meta;
  nlohmann::json header;

  /// "12 used, 2 missing (1.weight, 1.bias), 2 unused (1.0.weight, ...)".
  std::string summary() const {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size() && i < 4; ++i) {
        if (i) s += ", ";
        s += v[i];
      }
      if (v.size() > 4) s += ", ...";
      return v.empty() ? std::string() : " (" + s + ")";
    };
    return fmt::format("{} used, {} missing{}, {} unused{}", used.size(), missing.size(), list(missing),
                       unused.size(), list(unused));
  }
};

namespace detail {

struct NoOptimizer {
  using scalar_type = float;
  using Array = Eigen::ArrayXf;
  nlohmann::json state_json() const { return nullptr; }
  void load_state_json(const nlohmann::json&) {}
  template <class F>
  void visit_state(F&&) {}
};

template <class S>
constexpr const char* dtype_name() {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "checkpoints store float or double");
  return std::is_same_v<S, float> ? "f32" : "f64";
}

inline std::uint64_t align_up(std::uint64_t x) {
  return (x + checkpoint_alignment - 1) / checkpoint_alignment * checkpoint_alignment;
}

inline constexpr char ckpt_magic[9] = "NUCLEOCK";
inline constexpr char ckpt_end[9] = "NCKPTEND";
inline constexpr std::uint64_t ckpt_prefix = 24, ckpt_trailer = 16;

inline const char* kind_name(ParamKind k) {
  switch (k) {
    case ParamKind::weight: return "weight";
    case ParamKind::bias: return "bias";
    case ParamKind::norm: return "norm";
  }
  return "weight";
}

inline nlohmann::json rng_to_json(const Rng::State& s) {
  return {{"seed", s.seed}, {"stream", s.stream}, {"counter", s.counter}};
}
inline Rng::State rng_from_json(const nlohmann::json& j) {
  return {j.at("seed").get<std::uint64_t>(), j.at("stream").get<std::uint64_t>(),
          j.at("counter").get<std::uint64_t>()};
}

/// Buffered POSIX writer to a temporary file that computes the CRC-32 of what it writes.
class CheckpointWriter {
 public:
  explicit CheckpointWriter(std::filesystem::path final_path) : final_(std::move(final_path)) {
    static std::atomic<unsigned> counter{0};
    tmp_ = final_;
    tmp_ += fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create temporary file " + tmp_.string());
    buf_.reserve(1 << 20);
  }
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  ~CheckpointWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(tmp_, ec);
    }
  }

  void write(const void* data, std::size_t n) {
    crc_ = crc32_z(crc_, static_cast<const Bytef*>(data), n);
    raw(data, n);
  }
  void zeros(std::size_t n) {
    static const char z[checkpoint_alignment] = {};
    while (n > 0) {
      const std::size_t k = std::min<std::size_t>(n, sizeof z);
      write(z, k);
      n -= k;
    }
  }
  std::uint32_t crc() const { return static_cast<std::uint32_t>(crc_); }
  void raw(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    if (buf_.size() + n > buf_.capacity()) flush();
    if (n >= buf_.capacity()) {
      put(p, n);
      return;
    }
    buf_.insert(buf_.end(), p, p + n);
  }

  /// Flush, fsync, rename over the final path and fsync the directory.
  void commit() {
    flush();
    if (::fsync(fd_) != 0) fail("cannot fsync " + tmp_.string());
    if (::close(fd_) != 0) {
      fd_ = -1;
      fail("cannot close " + tmp_.string());
    }
    fd_ = -1;
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) fail("cannot rename " + tmp_.string() + " to " + final_.string());
    committed_ = true;
    const auto dir = final_.has_parent_path() ? final_.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(fmt::format("checkpoint {}: {}: {}", final_.string(), what, std::strerror(errno)));
  }
  void flush() {
    if (!buf_.empty()) put(buf_.data(), buf_.size());
    buf_.clear();
  }
  void put(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("write to " + tmp_.string() + " failed");
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  std::filesystem::path final_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
  uLong crc_ = crc32_z(0L, Z_NULL, 0);
  std::vector<char> buf_;
};

struct TensorRef {
  std::string name;
  const char* role;
  std::string kind;
  std::vector<Index> shape;
  const void* data;
  std::uint64_t nbytes;
  const char* dtype;
};

template <class Opt>
using opt_array_t = typename Opt::Array;

/// An open checkpoint: the parsed header, the blob start, and the stream (a file, or bytes in memory).
struct OpenedCheckpoint {
  nlohmann::json header;
  std::uint64_t blob_start = 0;
  std::unique_ptr<std::istream> owned;
  std::istream* in = nullptr;
};

[[noreturn]] inline void refuse(const std::filesystem::path& path, const std::string& why) {
  throw IoError(fmt::format("checkpoint {}: refused: {}", path.string(), why));
}

/// The header's structure, checked once so that loading never meets a field of the wrong type
/// (a forged or damaged header is refused by name, not by a JSON library exception), and every
/// tensor lies inside the blob.
inline void check_header_layout(const nlohmann::json& h, const std::filesystem::path& path) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) refuse(path, "malformed header: " + what);
  };
  need(h.contains("blob_nbytes") && h["blob_nbytes"].is_number_unsigned(), "'blob_nbytes' is not an unsigned integer");
  need(h.contains("tensors") && h["tensors"].is_array(), "'tensors' is not a list");
  const std::uint64_t blob = h["blob_nbytes"].get<std::uint64_t>();
  for (const auto& t : h["tensors"]) {
    need(t.is_object(), "a 'tensors' entry is not an object");
    need(t.contains("name") && t["name"].is_string(), "a tensor without a string 'name'");
    const std::string name = t["name"].get<std::string>();
    for (const char* k : {"dtype", "role", "kind"})
      need(!t.contains(k) || t[k].is_string(), fmt::format("tensor '{}': '{}' is not a string", name, k));
    need(t.contains("dtype"), fmt::format("tensor '{}' has no 'dtype'", name));
    need(t.contains("shape") && t["shape"].is_array(), fmt::format("tensor '{}': 'shape' is not a list", name));
    for (const auto& d : t["shape"])
      need(d.is_number_unsigned(), fmt::format("tensor '{}': a dimension is not an unsigned integer", name));
    for (const char* k : {"offset", "nbytes"})
      need(t.contains(k) && t[k].is_number_unsigned(), fmt::format("tensor '{}': '{}' is not an unsigned integer", name, k));
    const std::uint64_t off = t["offset"].get<std::uint64_t>(), n = t["nbytes"].get<std::uint64_t>();
    need(off <= blob && n <= blob - off,
         fmt::format("tensor '{}' ({} bytes at offset {}) lies outside the {}-byte blob", name, n, off, blob));
  }
  need(!h.contains("model") || h["model"].is_string(), "'model' is not a string");
  need(!h.contains("config") || h["config"].is_object(), "'config' is not an object");
  need(!h.contains("optimizer") || h["optimizer"].is_object() || h["optimizer"].is_null(), "'optimizer' is not an object");
  need(!h.contains("rng") || h["rng"].is_null() ||
           (h["rng"].is_object() && h["rng"].contains("seed") && h["rng"]["seed"].is_number_unsigned() &&
            h["rng"].contains("stream") && h["rng"]["stream"].is_number_unsigned() && h["rng"].contains("counter") &&
            h["rng"]["counter"].is_number_unsigned()),
       "'rng' is not {seed, stream, counter}");
  for (const char* k : {"epoch", "step"})
    need(!h.contains(k) || h[k].is_number_integer(), fmt::format("'{}' is not an integer", k));
  need(!h.contains("data_cursor") || h["data_cursor"].is_object(), "'data_cursor' is not an object");
  need(!h.contains("metrics") || h["metrics"].is_array(), "'metrics' is not a list");
  need(!h.contains("extra") || h["extra"].is_object(), "'extra' is not an object");
}

/// Checks magic, size, end marker, checksum and header layout of a checkpoint held in `in`
/// (`size` bytes; `path` names it in errors).
inline OpenedCheckpoint open_checkpoint(std::istream& in, std::uint64_t size, const std::filesystem::path& path,
                                        bool verify_checksum = true) {
  OpenedCheckpoint oc;
  oc.in = &in;
  auto read_at = [&](std::uint64_t off, void* dst, std::size_t n) {
    in.clear();
    in.seekg(static_cast<std::streamoff>(off));
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!in) refuse(path, fmt::format("read of {} bytes at offset {} failed", n, off));
  };
  if (size < 8) refuse(path, fmt::format("truncated: {} bytes, not even a magic number", size));
  char magic[8];
  read_at(0, magic, 8);
  if (std::memcmp(magic, ckpt_magic, 8) != 0) refuse(path, "not a nucleo checkpoint (bad magic number)");
  if (size < ckpt_prefix + ckpt_trailer) refuse(path, fmt::format("truncated: only {} bytes", size));
  std::uint32_t version = 0;
  std::uint64_t hlen = 0;
  read_at(8, &version, 4);
  read_at(16, &hlen, 8);
  if (version != static_cast<std::uint32_t>(checkpoint_version))
    refuse(path, fmt::format("container version {} is not supported (this is nucleo {}, version {})", version,
                             version_string, checkpoint_version));
  if (hlen > size - ckpt_prefix - ckpt_trailer)
    refuse(path, fmt::format("truncated: the header alone needs {} bytes but the file has {}",
                             ckpt_prefix + hlen + ckpt_trailer, size));
  char end[8];
  read_at(size - ckpt_trailer, end, 8);
  const bool has_end = std::memcmp(end, ckpt_end, 8) == 0;
  std::string text(hlen, '\0');
  read_at(ckpt_prefix, text.data(), hlen);
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!has_end) {
    if (header.is_object() && header.contains("blob_nbytes") && header["blob_nbytes"].is_number_unsigned()) {
      const std::uint64_t blob = header["blob_nbytes"].get<std::uint64_t>();
      const std::uint64_t head = align_up(ckpt_prefix + hlen);
      if (blob <= UINT64_MAX - head - ckpt_trailer && size < head + blob + ckpt_trailer)
        refuse(path, fmt::format("truncated: {} bytes of an expected {}", size, head + blob + ckpt_trailer));
    }
    refuse(path, "truncated or damaged: no end marker");
  }
  if (verify_checksum) {
    std::uint32_t stored = 0;
    read_at(size - ckpt_trailer + 8, &stored, 4);
    uLong crc = crc32_z(0L, Z_NULL, 0);
    std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, size)));
    in.clear();
    in.seekg(0);
    std::uint64_t left = size - ckpt_trailer;
    while (left > 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      in.read(buf.data(), static_cast<std::streamsize>(k));
      if (!in) refuse(path, "read failed while checking the checksum");
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buf.data()), k);
      left -= k;
    }
    if (static_cast<std::uint32_t>(crc) != stored)
      refuse(path, fmt::format("checksum mismatch (stored crc32 {:08x}, computed {:08x}): the file is corrupt", stored,
                               static_cast<std::uint32_t>(crc)));
  }
  if (header.is_discarded() || !header.is_object()) refuse(path, "the JSON header does not parse");
  if (!header.contains("format") || !header["format"].is_string() || header["format"].get<std::string>() != "nucleo-ckpt")
    refuse(path, "header format is not 'nucleo-ckpt'");
  check_header_layout(header, path);
  oc.blob_start = align_up(ckpt_prefix + hlen);
  const std::uint64_t blob = header["blob_nbytes"].get<std::uint64_t>();
  if (blob > size || oc.blob_start + blob + ckpt_trailer != size)
    refuse(path, fmt::format("size {} bytes differs from the {} its header describes", size,
                             blob > size ? std::string("more") : std::to_string(oc.blob_start + blob + ckpt_trailer)));
  oc.header = std::move(header);
  return oc;
}

inline OpenedCheckpoint open_checkpoint(const std::filesystem::path& path, bool verify_checksum = true) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError(fmt::format("checkpoint {}: is a directory", path.string()));
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(fmt::format("checkpoint {}: cannot open: {}", path.string(), ec.message()));
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw IoError(fmt::format("checkpoint {}: cannot open for reading", path.string()));
  std::istream& in = *file;
  OpenedCheckpoint oc = open_checkpoint(in, size, path, verify_checksum);
  oc.owned = std::move(file);
  return oc;
}

/// Bytes of a checkpoint held in memory, as a stream (fuzzing, tests, checkpoints received over a network).
inline std::unique_ptr<std::istream> memory_stream(std::string_view bytes) {
  return std::make_unique<std::istringstream>(std::string(bytes), std::ios::binary);
}

inline std::vector<Index> shape_of(const nlohmann::json& t) { return t.at("shape").get<std::vector<Index>>(); }

/// Refuses entry `t` unless its dtype is f32/f64 and it holds `n` elements: checked for every
/// tensor before the first is copied, so that a refused load leaves the model as it was.
inline void check_tensor_entry(const std::filesystem::path& path, const nlohmann::json& t, Index n) {
  const std::string dtype = t.at("dtype").get<std::string>();
  const std::uint64_t nbytes = t.at("nbytes").get<std::uint64_t>();
  const std::uint64_t elem = dtype == "f32" ? 4 : dtype == "f64" ? 8 : 0;
  if (elem == 0) refuse(path, fmt::format("tensor '{}' has unknown dtype '{}'", t.at("name").get<std::string>(), dtype));
  if (n < 0 || nbytes != elem * static_cast<std::uint64_t>(n))
    refuse(path, fmt::format("tensor '{}' holds {} bytes, expected {}", t.at("name").get<std::string>(), nbytes,
                             elem * static_cast<std::uint64_t>(std::max<Index>(n, 0))));
}

/// Read tensor entry `t` of `oc` into `dst` (n elements), converting f32 <-> f64 if needed.
template <class S>
void read_tensor(OpenedCheckpoint& oc, const std::filesystem::path& path, const nlohmann::json& t, S* dst, Index n) {
  check_tensor_entry(path, t, n);
  const std::string dtype = t.at("dtype").get<std::string>();
  const std::uint64_t nbytes = t.at("nbytes").get<std::uint64_t>();
  const std::uint64_t elem = dtype == "f32" ? 4 : 8;
  oc.in->clear();
  oc.in->seekg(static_cast<std::streamoff>(oc.blob_start + t.at("offset").get<std::uint64_t>()));
  auto read = [&](void* p) {
    oc.in->read(static_cast<char*>(p), static_cast<std::streamsize>(nbytes));
    if (!*oc.in) refuse(path, fmt::format("read of tensor '{}' failed", t.at("name").get<std::string>()));
  };
  if (elem == sizeof(S)) {
    read(dst);
  } else if (elem == 4) {
    std::vector<float> tmp(static_cast<std::size_t>(n));
    read(tmp.data());
    for (Index i = 0; i < n; ++i) dst[i] = static_cast<S>(tmp[static_cast<std::size_t>(i)]);
  } else {
    std::vector<double> tmp(static_cast<std::size_t>(n));
    read(tmp.data());
    for (Index i = 0; i < n; ++i) dst[i] = static_cast<S>(tmp[static_cast<std::size_t>(i)]);
  }
}

}  // namespace detail

/// Write `model`'s parameters, `meta` and (if given) `optimizer`'s state to `path`, atomically.
template <class Model, class Opt = detail::NoOptimizer>
void save_checkpoint(const std::filesystem::path& path, Model& model, const CheckpointMeta& meta,
                     Opt* optimizer = nullptr) {
  using S = typename Model::scalar_type;
  std::vector<detail::TensorRef> refs;
  for (auto& np : detail::param_list<S>(model))
    refs.push_back({np.name, "param", detail::kind_name(np.param->kind), np.param->shape, np.param->value.data(),
                    static_cast<std::uint64_t>(np.param->size()) * sizeof(S), detail::dtype_name<S>()});
  nlohmann::json opt_json = nullptr;
  if (optimizer) {
    using OS = typename Opt::scalar_type;
    opt_json = optimizer->state_json();
    optimizer->visit_state([&](std::string name, detail::opt_array_t<Opt>& t) {
      refs.push_back({std::move(name), "optimizer", "state", {t.size()}, t.data(),
                      static_cast<std::uint64_t>(t.size()) * sizeof(OS), detail::dtype_name<OS>()});
    });
  }
  nlohmann::json tensors = nlohmann::json::array();
  std::uint64_t off = 0;
  for (const auto& r : refs) {
    tensors.push_back({{"name", r.name}, {"role", r.role}, {"kind", r.kind}, {"dtype", r.dtype},
                       {"shape", r.shape}, {"offset", off}, {"nbytes", r.nbytes}});
    off = detail::align_up(off + r.nbytes);
  }
  const std::uint64_t blob_nbytes = off;
  nlohmann::json header = {{"format", "nucleo-ckpt"},
                           {"version", checkpoint_version},
                           {"lib_version", version_string},
                           {"model", meta.model_type},
                           {"config", meta.config},
                           {"tensors", std::move(tensors)},
                           {"optimizer", std::move(opt_json)},
                           {"rng", meta.rng ? detail::rng_to_json(*meta.rng) : nlohmann::json(nullptr)},
                           {"epoch", meta.epoch},
                           {"step", meta.step},
                           {"data_cursor", meta.data_cursor},
                           {"metrics", meta.metrics},
                           {"extra", meta.extra},
                           {"alignment", checkpoint_alignment},
                           {"blob_nbytes", blob_nbytes},
                           {"checksum", "crc32"}};
  const std::string text = header.dump();

  std::filesystem::path p = path;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  detail::CheckpointWriter w(p);
  const std::uint32_t version = checkpoint_version, reserved = 0;
  const std::uint64_t hlen = text.size();
  w.write(detail::ckpt_magic, 8);
  w.write(&version, 4);
  w.write(&reserved, 4);
  w.write(&hlen, 8);
  w.write(text.data(), text.size());
  w.zeros(detail::align_up(detail::ckpt_prefix + hlen) - (detail::ckpt_prefix + hlen));
  std::uint64_t pos = 0;
  for (const auto& r : refs) {
    w.write(r.data, r.nbytes);
    pos += r.nbytes;
    w.zeros(detail::align_up(pos) - pos);
    pos = detail::align_up(pos);
  }
  const std::uint32_t crc = w.crc();
  w.raw(detail::ckpt_end, 8);
  w.raw(&crc, 4);
  w.raw(&reserved, 4);
  w.commit();
}

/// The JSON header of a checkpoint (magic, size, end marker and - unless `verify` is false - the
/// checksum are checked first).
inline nlohmann::json read_checkpoint_header(const std::filesystem::path& path, bool verify = true) {
  return detail::open_checkpoint(path, verify).header;
}

/// The header of a checkpoint held in memory (`name` appears in errors).
inline nlohmann::json read_checkpoint_header_from_memory(std::string_view bytes, const std::string& name,
                                                         bool verify = true) {
  const auto in = detail::memory_stream(bytes);
  return detail::open_checkpoint(*in, bytes.size(), name, verify).header;
}

namespace detail {
template <class Model, class Opt>
LoadReport load_opened_checkpoint(OpenedCheckpoint& oc, const std::filesystem::path& path, Model& model,
                                  const LoadOptions& options, Opt* optimizer) {
  using S = typename Model::scalar_type;
  const auto& h = oc.header;
  LoadReport rep;
  if (!options.model_type.empty() && h.value("model", std::string()) != options.model_type)
    throw ConfigError(fmt::format("checkpoint {}: holds a '{}' model, expected '{}'", path.string(),
                                  h.value("model", std::string()), options.model_type));

  auto params = detail::param_list<S>(model);
  std::map<std::string, Param<S>*> by_name;
  for (auto& np : params) by_name.emplace(np.name, np.param);

  std::vector<std::pair<const nlohmann::json*, Param<S>*>> plan;
  std::map<std::string, bool> loaded;
  std::map<std::string, const nlohmann::json*> opt_tensors;
  for (const auto& t : h.at("tensors")) {
    const std::string name = t.at("name").get<std::string>();
    if (t.value("role", std::string("param")) == "optimizer") {
      opt_tensors.emplace(name, &t);
      continue;
    }
    std::optional<std::string> dst;
    if (options.prefix_map.empty()) {
      dst = name;
    } else {
      for (const auto& [from, to] : options.prefix_map)
        if (name.compare(0, from.size(), from) == 0) {
          dst = to + name.substr(from.size());
          break;
        }
    }
    auto it = dst ? by_name.find(*dst) : by_name.end();
    if (it == by_name.end() || loaded.count(*dst)) {
      rep.unused.push_back(name);
      continue;
    }
    const auto shape = detail::shape_of(t);
    if (shape != it->second->shape) {
      const std::string as = *dst == name ? std::string() : fmt::format(" (loaded as '{}')", *dst);
      throw ShapeError(fmt::format("checkpoint {}: tensor '{}'{} has shape {} in the checkpoint but {} in the model",
                                   path.string(), name, as, shape_string(shape), shape_string(it->second->shape)));
    }
    detail::check_tensor_entry(path, t, it->second->size());
    loaded[*dst] = true;
    plan.emplace_back(&t, it->second);
  }
  for (auto& np : params) {
    if (loaded.count(np.name)) rep.used.push_back(np.name);
    else rep.missing.push_back(np.name);
  }
  if (options.strict && (!rep.missing.empty() || !rep.unused.empty())) {
    if (!rep.missing.empty())
      throw ShapeError(fmt::format("checkpoint {}: model parameter '{}' is not in the checkpoint ({}); load with "
                                   "strict = false to accept a partial load",
                                   path.string(), rep.missing.front(), rep.summary()));
    throw ShapeError(fmt::format("checkpoint {}: checkpoint tensor '{}' matches no model parameter ({}); load with "
                                 "strict = false to accept a partial load",
                                 path.string(), rep.unused.front(), rep.summary()));
  }

  // Optimizer: its state is staged in a copy and matched tensor by tensor before anything is copied;
  // the sizes its JSON asks for are bounded by the bytes the file holds for optimizer tensors.
  std::vector<std::pair<const nlohmann::json*, detail::opt_array_t<Opt>*>> opt_plan;
  std::optional<Opt> staged;
  if (optimizer && options.load_optimizer && h.contains("optimizer") && !h["optimizer"].is_null()) {
    staged.emplace(*optimizer);
    std::uint64_t opt_bytes = 0;
    for (const auto& [name, t] : opt_tensors) opt_bytes += t->at("nbytes").template get<std::uint64_t>();
    try {
      if constexpr (requires(Opt& o) { o.load_state_json(h["optimizer"], Index{}); })
        staged->load_state_json(h["optimizer"], static_cast<Index>(opt_bytes / 4));
      else
        staged->load_state_json(h["optimizer"]);
    } catch (const ConfigError& e) {  // another optimizer's state, or sizes the file cannot hold
      detail::refuse(path, e.what());
    }
    staged->visit_state([&](std::string name, detail::opt_array_t<Opt>& t) {
      auto it = opt_tensors.find(name);
      if (it == opt_tensors.end())
        detail::refuse(path, fmt::format("optimizer state tensor '{}' is missing", name));
      const auto shape = detail::shape_of(*it->second);
      if (shape.size() != 1 || shape[0] != t.size())
        throw ShapeError(fmt::format("checkpoint {}: optimizer tensor '{}' has shape {}, expected [{}]",
                                     path.string(), name, shape_string(shape), t.size()));
      detail::check_tensor_entry(path, *it->second, t.size());
      opt_plan.emplace_back(it->second, &t);
    });
    rep.optimizer_loaded = true;
  }

  for (auto& [t, a] : opt_plan) detail::read_tensor(oc, path, *t, a->data(), a->size());
  for (auto& [t, p] : plan) detail::read_tensor(oc, path, *t, p->value.data(), p->size());
  if (staged) *optimizer = std::move(*staged);

  rep.meta.model_type = h.value("model", std::string());
  rep.meta.config = h.value("config", nlohmann::json::object());
  if (h.contains("rng") && !h["rng"].is_null()) rep.meta.rng = detail::rng_from_json(h["rng"]);
  rep.meta.epoch = h.value("epoch", std::int64_t{0});
  rep.meta.step = h.value("step", std::int64_t{0});
  rep.meta.data_cursor = h.value("data_cursor", nlohmann::json::object());
  rep.meta.metrics = h.value("metrics", nlohmann::json::array());
  rep.meta.extra = h.value("extra", nlohmann::json::object());
  rep.header = h;
  return rep;
}
}  // namespace detail

/// Load `model`'s parameters (and `optimizer`'s state) from `path`; see the file comment.
template <class Model, class Opt = detail::NoOptimizer>
LoadReport load_checkpoint(const std::filesystem::path& path, Model& model, const LoadOptions& options = {},
                           Opt* optimizer = nullptr) {
  auto oc = detail::open_checkpoint(path);
  try {
    return detail::load_opened_checkpoint(oc, path, model, options, optimizer);
  } catch (const nlohmann::json::exception& e) {  // a field the layout check does not cover (optimizer state)
    detail::refuse(path, fmt::format("malformed header: {}", e.what()));
  }
}

/// The same from a checkpoint held in memory (`name` appears in errors).
template <class Model, class Opt = detail::NoOptimizer>
LoadReport load_checkpoint_from_memory(std::string_view bytes, const std::string& name, Model& model,
                                       const LoadOptions& options = {}, Opt* optimizer = nullptr) {
  const auto in = detail::memory_stream(bytes);
  auto oc = detail::open_checkpoint(*in, bytes.size(), name);
  try {
    return detail::load_opened_checkpoint(oc, name, model, options, optimizer);
  } catch (const nlohmann::json::exception& e) {
    detail::refuse(name, fmt::format("malformed header: {}", e.what()));
  }
}

}  // namespace nucleo
