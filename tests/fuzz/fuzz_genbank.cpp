// libFuzzer target: GenBankReader + gene_labels on arbitrary bytes. Oracle: a parsed record written
// back with write_genbank_record parses to the same Locus.
#include <cstdint>
#include <sstream>
#include <string>

#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/genbank.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto r = nucleo::GenBankReader::from_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz.gb");
    nucleo::Locus l;
    while (r.next(l)) {
      try {
        auto labels = nucleo::gene_labels(l);
        if (labels.size() != l.sequence.size()) __builtin_trap();
      } catch (const nucleo::ParseError&) {
      }
      bool simple_ids = true;
      for (const auto& t : l.transcripts) simple_ids &= t.id.find('"') == std::string::npos;
      if (!simple_ids) continue;
      std::ostringstream out;
      nucleo::write_genbank_record(out, l);
      auto again = nucleo::GenBankReader::from_string(out.str(), "roundtrip.gb");
      nucleo::Locus back;
      if (!again.next(back) || !(back == l)) __builtin_trap();
    }
  } catch (const nucleo::Error&) {
  }
  return 0;
}
