// libFuzzer target: BEND BED tables (header, label cells, split column) on arbitrary bytes.
#include <cstdint>
#include <string>

#include "nucleo/data/bed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto t = nucleo::BedTable::from_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz.bed");
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i].start >= t[i].end) __builtin_trap();
      try {
        auto v = t.multi_hot(i, 16);
        if (v.size() != 16) __builtin_trap();
      } catch (const nucleo::ParseError&) {
      }
    }
    (void)t.rows_in_split("train");
  } catch (const nucleo::Error&) {
  }
  return 0;
}
