// libFuzzer target: FastaReader and the .fai builder on arbitrary bytes, both in memory (no file
// per input). Oracle: when the index builds, fetching every record through it must give exactly
// what the streaming reader returns, and the index must refuse what the reader refuses.
#include <cstdint>
#include <string>
#include <vector>

#include "nucleo/data/fasta.hpp"
#include "nucleo/data/fasta_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<nucleo::FastaRecord> recs;
  bool reader_ok = true;
  try {
    auto r = nucleo::FastaReader::from_string(text, "fuzz.fa");
    nucleo::FastaRecord rec;
    while (r.next(rec)) recs.push_back(rec);
  } catch (const nucleo::Error&) {
    reader_ok = false;
  }
  try {
    auto idx = nucleo::FastaIndex::from_string(text, "fuzz.fa");
    if (!reader_ok) __builtin_trap();  // the index accepted what the reader rejected
    if (idx.entries().size() != recs.size()) __builtin_trap();
    for (std::size_t i = 0; i < recs.size(); ++i) {
      const auto& e = idx.entries()[i];
      if (e.name != recs[i].name || e.length != recs[i].sequence.size()) __builtin_trap();
      if (idx.fetch(e.name, 0, e.length) != recs[i].sequence) __builtin_trap();
      if (e.length > 2 && idx.fetch(e.name, 1, e.length - 1) != recs[i].sequence.substr(1, e.length - 2))
        __builtin_trap();
    }
  } catch (const nucleo::Error&) {
  }
  return 0;
}
