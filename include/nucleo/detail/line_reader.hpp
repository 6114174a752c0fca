#pragma once
/// Not API. `LineReader`: the line source under every text reader in nucleo/data. It reads a file
/// (plain or gzip, recognised by the magic bytes 1f 8b; zlib's gzread also handles concatenated
/// members) or an in-memory string, hands out lines without their terminator ("\n", "\r\n", or a
/// lone "\r" as old Mac files end their lines), and tracks the 1-based line number and the byte
/// offset of each line in the (uncompressed) stream, which the .fai builder needs. `fail()` throws
/// a ParseError naming file and line.
///
/// A file is opened once and read front to back, so pipes, FIFOs and /dev/stdin work; whether it
/// is gzip is decided from the bytes read (zlib's gzdirect), not by a second open.
/// (Files are written through detail/atomic_write.hpp's `write_file_atomically`, included here.)
#include <zlib.h>

#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

#include "nucleo/core/error.hpp"
#include "nucleo/detail/atomic_write.hpp"

namespace nucleo::detail {

class LineReader {
 public:
  /// Opens `path`; throws IoError if it cannot be opened.
  static LineReader open(const std::filesystem::path& path) {
    LineReader r;
    r.name_ = path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw IoError(fmt::format("{}: is a directory, not a file", r.name_));
    // One open only: a second open of a pipe or FIFO would see the rest of the stream, or block.
    gzFile f = gzopen(r.name_.c_str(), "rb");
    if (!f) throw IoError(fmt::format("{}: cannot open for reading: {}", r.name_, std::strerror(errno)));
    r.gz_ = std::shared_ptr<gzFile_s>(f, [](gzFile g) { gzclose(g); });
    gzbuffer(f, 1 << 17);
    r.compressed_ = gzdirect(f) == 0;  // reads the first bytes to look for the gzip magic
    return r;
  }

  /// Reads lines from `text`; `name` is used in error messages.
  static LineReader from_string(std::string text, std::string name) {
    LineReader r;
    r.name_ = std::move(name);
    r.buf_ = std::move(text);
    r.eof_ = true;
    return r;
  }

  /// Next line without its terminator; false at the end of the input.
  bool next(std::string_view& line) {
    for (;;) {
      // [pos_, pos_ + clean_) was scanned before and holds no '\n' or '\r': a long line is
      // scanned once, not once per refill.
      const char* b = buf_.data() + pos_;
      const std::size_t avail = buf_.size() - pos_;
      const char* nl = static_cast<const char*>(std::memchr(b + clean_, '\n', avail - clean_));
      const std::size_t upto = nl ? static_cast<std::size_t>(nl - b) : avail;
      // A '\r' ends the line unless a '\n' follows it directly ("\r\n"); a '\r' that is the
      // last byte read needs the next byte (or the end of the input) to decide.
      const char* cr = static_cast<const char*>(std::memchr(b + clean_, '\r', upto - clean_));
      if (cr) {
        const std::size_t at = pos_ + static_cast<std::size_t>(cr - b);
        if (at + 1 < buf_.size() && buf_[at + 1] != '\n') return emit(line, at, 1, true);
        if (at + 1 == buf_.size() && eof_) return emit(line, at, 1, true);
      }
      if (nl) return emit(line, pos_ + upto, 1, false);
      if (eof_) {
        if (pos_ >= buf_.size()) return false;
        return emit(line, buf_.size(), 0, false);  // last line without a newline
      }
      clean_ = cr ? avail - 1 : avail;  // a trailing '\r' is looked at again
      refill();
    }
  }

  /// 1-based number of the line last returned by next() (0 before the first).
  long line_number() const noexcept { return line_; }
  /// Byte offset of the start of the line last returned, in the uncompressed stream.
  std::uint64_t line_offset() const noexcept { return line_offset_; }
  /// Bytes of the last line's terminator: 0 (end of input), 1 ("\n" or a lone "\r") or 2 ("\r\n").
  int terminator_bytes() const noexcept { return term_; }
  const std::string& name() const noexcept { return name_; }
  /// True if the file started with the gzip magic bytes.
  bool compressed() const noexcept { return compressed_; }

  /// Throws ParseError(name, current line, what).
  [[noreturn]] void fail(const std::string& what) const { throw ParseError(name_, line_, what); }

 private:
  LineReader() = default;

  /// The line [pos_, end) followed by `nl_bytes` terminator bytes; `lone_cr`: the terminator is
  /// the '\r' at `end` itself (old Mac), else a "\r" before a '\n' at `end` is dropped too.
  bool emit(std::string_view& line, std::size_t end, int nl_bytes, bool lone_cr) {
    std::size_t stop = end;
    int term = nl_bytes;
    if (nl_bytes && !lone_cr && stop > pos_ && buf_[stop - 1] == '\r') {
      --stop;
      ++term;
    }
    line = std::string_view(buf_).substr(pos_, stop - pos_);
    line_offset_ = consumed_ + pos_;
    term_ = term;
    pos_ = end + static_cast<std::size_t>(nl_bytes);
    clean_ = 0;
    ++line_;
    return true;
  }

  void refill() {
    // Drop consumed bytes, then append one chunk.
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      consumed_ += pos_;
      pos_ = 0;
    }
    constexpr std::size_t chunk = 1 << 16;
    const std::size_t old = buf_.size();
    buf_.resize(old + chunk);
    const int n = gzread(gz_.get(), buf_.data() + old, static_cast<unsigned>(chunk));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(gz_.get(), &err);
      throw ParseError(name_, line_ + 1, fmt::format("read error: {}", msg ? msg : "unknown zlib error"));
    }
    buf_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) {
      int err = 0;
      const char* msg = gzerror(gz_.get(), &err);
      if (err != Z_OK && err != Z_STREAM_END)
        throw ParseError(name_, line_ + 1,
                         fmt::format("corrupt or truncated gzip data: {}", msg ? msg : "unknown zlib error"));
      eof_ = true;
    }
  }

  std::string name_;
  std::shared_ptr<gzFile_s> gz_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t clean_ = 0;  // bytes after pos_ known to hold no line terminator
  std::uint64_t consumed_ = 0;
  std::uint64_t line_offset_ = 0;
  long line_ = 0;
  int term_ = 0;
  bool eof_ = false;
  bool compressed_ = false;
};

}  // namespace nucleo::detail
