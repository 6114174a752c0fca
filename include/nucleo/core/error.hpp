#pragma once
/// Error types. Every error nucleo throws derives from nucleo::Error (a std::runtime_error), and its
/// message says where (file, line, tensor name...) and what was expected, so it can be shown as is.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace nucleo {

/// Base of all nucleo errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller broke a precondition: wrong shape, bad argument, etc.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A file could not be read or written, or its content is malformed. The message names the file
/// and, where it applies, the 1-based line.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A malformed input file. `where()` is "path:line".
class ParseError : public IoError {
 public:
  ParseError(const std::string& path, long line, const std::string& what)
      : IoError(line > 0 ? fmt::format("{}:{}: {}", path, line, what) : fmt::format("{}: {}", path, what)),
        path_(path),
        line_(line) {}
  const std::string& path() const noexcept { return path_; }
  long line() const noexcept { return line_; }

 private:
  std::string path_;
  long line_;
};

/// Configuration errors (bad JSON config, unknown option value).
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace nucleo

/// Precondition check that stays on in release builds: throws `nucleo::ShapeError` with a formatted message.
#define NUCLEO_CHECK(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) throw ::nucleo::ShapeError(::fmt::format(__VA_ARGS__));               \
  } while (0)
