#pragma once
// Not API. Checks that programs run on their output paths before any work starts:
//  - `same_file`: two paths name one file (hard links and symlinks included, and paths that do
//    not exist yet but resolve to the same place, e.g. "out/../x.gff3" and "x.gff3");
//  - `refuse_path_clashes`: an output that is an input or another output is a ConfigError, so an
//    input is never replaced by a result and two results never overwrite each other;
//  - `check_output_writable`: the output is not a directory and a file can be created beside it
//    (the OS reason, e.g. "Read-only file system", is named), so a run fails in its first second
//    rather than after hours of work;
//  - `remove_stale_temporaries`: the "<name>.tmp-<pid>-<n>" files (detail/atomic_write.hpp,
//    io/checkpoint.hpp) left by a process that no longer runs (SIGKILL, power loss) are deleted.
//    A process is taken as gone when kill(pid, 0) says so; temporaries of live processes, and of
//    this one, are kept. (Processes of another host sharing the directory cannot be seen.)
#include "nucleo/core/error.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace nucleo::detail {

/// True if `a` and `b` name the same file, whether or not it exists yet.
inline bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ea, eb;
  if (std::filesystem::exists(a, ea) && std::filesystem::exists(b, eb)) {
    std::error_code ec;
    return std::filesystem::equivalent(a, b, ec);
  }
  // absolute, with ".", ".." and the symlinks of the existing part of the path resolved
  std::error_code ca, cb;
  const auto wa = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ca), ca);
  const auto wb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, cb), cb);
  if (ca || cb) return std::filesystem::absolute(a).lexically_normal() == std::filesystem::absolute(b).lexically_normal();
  return wa == wb;
}

/// A path with the role it plays, for messages ("FASTA input", "GFF3 output").
struct RolePath {
  std::string_view role;
  std::filesystem::path path;
};

/// ConfigError if an output names the same file as an input or as another output. Empty paths
/// (an output not asked for) are skipped.
inline void refuse_path_clashes(std::span<const RolePath> inputs, std::span<const RolePath> outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const RolePath& o = outputs[i];
    if (o.path.empty()) continue;
    for (const RolePath& in : inputs)
      if (!in.path.empty() && same_file(o.path, in.path))
        throw ConfigError(fmt::format("the {} '{}' is the {} '{}': refusing to overwrite an input (nothing was written)",
                                      o.role, o.path.string(), in.role, in.path.string()));
    for (std::size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && same_file(o.path, outputs[j].path))
        throw ConfigError(fmt::format("the {} '{}' and the {} '{}' are the same file: give each output its own path "
                                      "(nothing was written)",
                                      outputs[j].role, outputs[j].path.string(), o.role, o.path.string()));
  }
}

/// IoError naming `path` and the reason unless a file can be written at `path` (by creating and
/// removing a temporary file beside it, as the real write will).
inline void check_output_writable(const std::filesystem::path& path, std::string_view role) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw IoError(fmt::format("{}: the {} is a directory; give a file name", path.string(), role));
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::exists(dir, ec))
    throw IoError(fmt::format("{}: cannot write the {}: directory '{}' does not exist", path.string(), role, dir.string()));
  if (!std::filesystem::is_directory(dir, ec))
    throw IoError(fmt::format("{}: cannot write the {}: '{}' is not a directory", path.string(), role, dir.string()));
  static std::atomic<unsigned> counter{0};
  std::filesystem::path probe = path;
  probe += fmt::format(".tmp-{}-probe{}", static_cast<long>(::getpid()), counter++);
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw IoError(fmt::format("{}: cannot write the {}: cannot create a file in '{}': {}", path.string(), role,
                              dir.string(), std::strerror(errno)));
  ::close(fd);
  std::filesystem::remove(probe, ec);
}

/// The pid in a temporary-file name "<name>.tmp-<pid>-<rest>" (the last ".tmp-"), or -1.
inline long temporary_file_pid(std::string_view filename) {
  const std::size_t t = filename.rfind(".tmp-");
  if (t == std::string_view::npos) return -1;
  std::size_t p = t + 5;
  long pid = 0;
  const std::size_t digits_start = p;
  while (p < filename.size() && filename[p] >= '0' && filename[p] <= '9' && p - digits_start < 9)
    pid = pid * 10 + (filename[p++] - '0');
  if (p == digits_start || p >= filename.size() || filename[p] != '-') return -1;
  return pid;
}

/// Removes the regular files "<prefix>...tmp-<pid>-..." in `dir` whose process `pid` is gone;
/// returns how many. `prefix` empty: any name.
inline std::size_t remove_stale_temporaries(const std::filesystem::path& dir, std::string_view prefix = {}) {
  std::size_t removed = 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir.empty() ? std::filesystem::path(".") : dir, ec);
  if (ec) return 0;
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = temporary_file_pid(name);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    std::error_code fe;
    if (!e.is_regular_file(fe)) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    if (std::filesystem::remove(e.path(), fe)) ++removed;
  }
  return removed;
}

}  // namespace nucleo::detail
