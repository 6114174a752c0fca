#pragma once
// Not API. Write a file atomically: into a temporary file in the same directory (so the rename is
// atomic), then rename it over the target; readers never see a half-written file, and a failed
// write leaves the previous file as it was. Checkpoints (io/checkpoint.hpp) add fsync on top.
#include "nucleo/core/error.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace nucleo::detail {

/// Writes `path` through `write(std::ostream&)` (temp file "<path>.tmp-<pid>-<n>", then rename);
/// creates missing parent directories. Throws IoError naming the file on failure.
inline void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw IoError(fmt::format("{}: cannot create temporary file {}: {}", path.string(), tmp.string(), std::strerror(errno)));
    try {
      write(out);
    } catch (...) {
      out.close();
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw;
    }
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError(fmt::format("{}: write failed", path.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: cannot rename the temporary file into place: {}", path.string(), ec.message()));
  }
}

/// Writes `text` to `path` atomically (write_file_atomically).
inline void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

}  // namespace nucleo::detail
