// libFuzzer target: detail::LineReader::open, the path every nucleo reader takes for a file, plain
// or gzip. The bytes go through an in-memory file (memfd_create, opened by its /proc path as a
// file is), so no temporary file is written per input.
//   mode 0 (first byte % 3): the rest is the file as is (gzip or not, whatever it holds);
//   mode 1: the rest is text that zlib compresses; the lines read must equal those of the text
//           read from memory (content, terminator bytes, offsets);
//   mode 2: as 1, the compressed stream cut short: a ParseError, never a silent partial read.
// Oracle besides: only nucleo::Error may escape, and plain (not gzip) files read as from memory.
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "nucleo/detail/line_reader.hpp"

namespace {

using Line = std::tuple<std::string, int, std::uint64_t, long>;

struct Read {
  std::vector<Line> lines;
  bool failed = false;
};

Read read_all(nucleo::detail::LineReader r) {
  Read out;
  try {
    std::string_view line;
    while (r.next(line))
      out.lines.emplace_back(std::string(line), r.terminator_bytes(), r.line_offset(), r.line_number());
  } catch (const nucleo::Error&) {
    out.failed = true;
  }
  return out;
}

std::string gzip(const std::string& text, int level) {
  static z_stream z = [] {  // one deflate state for the whole run (deflateReset, not Init/End per input)
    z_stream s{};
    deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    return s;
  }();
  deflateReset(&z);
  deflateParams(&z, level, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) __builtin_trap();
  out.resize(z.total_out);
  return out;
}

/// Reads `bytes` through LineReader::open on an in-memory file.
Read read_file(const std::string& bytes) {
  static const int fd = memfd_create("nucleo-fuzz-gzip", 0);
  if (fd < 0) __builtin_trap();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    return read_all(nucleo::detail::LineReader::open(path));
  } catch (const nucleo::Error&) {
    Read r;
    r.failed = true;
    return r;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    const Read got = read_file(rest);
    const bool gz = rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1f &&
                    static_cast<unsigned char>(rest[1]) == 0x8b;
    if (!gz) {  // a plain file reads exactly as the same bytes from memory
      const Read want = read_all(nucleo::detail::LineReader::from_string(rest, "fuzz"));
      if (got.failed != want.failed || got.lines != want.lines) __builtin_trap();
    }
    return 0;
  }
  const std::string packed = gzip(rest, 1 + (data[0] / 3) % 9);
  const Read want = read_all(nucleo::detail::LineReader::from_string(rest, "fuzz"));
  if (mode == 1) {
    const Read got = read_file(packed);
    if (got.failed != want.failed || got.lines != want.lines) __builtin_trap();
  } else {
    // cut inside the deflate data or the trailer (a cut inside the 10-byte header reads as a short plain file)
    if (packed.size() <= 11) return 0;
    const std::size_t cut = 10 + (rest.size() * 7919 + data[0]) % (packed.size() - 10);
    if (!read_file(packed.substr(0, cut)).failed) __builtin_trap();
  }
  return 0;
}
