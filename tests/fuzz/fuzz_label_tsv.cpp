// libFuzzer target: the label TSV reader (read_label_tsv: nucleo-data score --pred-tsv, the export
// format) on arbitrary bytes, in memory. Oracle: only nucleo::Error escapes; what was read and is
// writable (names without whitespace) writes back with write_label_tsv and reads back equal.
#include <cstdint>
#include <sstream>
#include <string>

#include "nucleo/genes/gene_dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<nucleo::GeneExample> rows;
  try {
    rows = nucleo::parse_label_tsv(std::string(reinterpret_cast<const char*>(data), size), "fuzz.tsv");
  } catch (const nucleo::Error&) {
    return 0;
  }
  for (const auto& r : rows) {
    if (r.labels.size() != r.sequence.size() || r.name.empty()) __builtin_trap();
    for (auto c : r.labels)
      if (c < 0 || c > 8) __builtin_trap();
  }
  std::ostringstream out;
  try {
    nucleo::write_label_tsv(out, rows);
  } catch (const nucleo::ShapeError&) {
    return 0;  // a name with a space reads, but is not written
  }
  if (nucleo::parse_label_tsv(out.str(), "roundtrip.tsv") != rows) __builtin_trap();
  return 0;
}
