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

/// Data that does not fit: a tensor of the wrong shape, an index or label outside the range its
/// tensor allows. Thrown by NUCLEO_CHECK.
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

/// Configuration errors: a bad JSON config, an unknown option value, an option, size or range
/// chosen by the caller that is out of its domain (a negative learning rate, a dropout p of 1, an
/// overlap as long as the window). Thrown by NUCLEO_CHECK_CONFIG.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace nucleo

/// Shape / data check that stays on in release builds: throws `nucleo::ShapeError` with a
/// formatted message. For tensor shapes and indices or labels out of their tensor's range.
#define NUCLEO_CHECK(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) throw ::nucleo::ShapeError(::fmt::format(__VA_ARGS__));               \
  } while (0)

/// Configuration / argument check that stays on in release builds: throws `nucleo::ConfigError`
/// with a formatted message. For option values, sizes and ranges the caller chose (constructor
/// arguments, options structs, config values), not for the shapes of the data.
#define NUCLEO_CHECK_CONFIG(cond, ...)                                                 \
  do {                                                                                 \
    if (!(cond)) throw ::nucleo::ConfigError(::fmt::format(__VA_ARGS__));              \
  } while (0)
