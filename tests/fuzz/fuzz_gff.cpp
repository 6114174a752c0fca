// libFuzzer target: GFF3/GTF with an embedded ##FASTA section, per-sequence and per-region loci,
// then gene_labels on every locus.
#include <cstdint>
#include <string>

#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/gff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (std::int64_t flank : {-1, 0, 7}) {
    try {
      auto loci = nucleo::parse_gff(text, "fuzz.gff", nucleo::GffOptions{flank, flank == 0});
      for (const auto& l : loci) {
        auto labels = nucleo::gene_labels(l);  // readers validated the structures: must not throw
        if (labels.size() != l.sequence.size()) __builtin_trap();
      }
    } catch (const nucleo::Error&) {
    }
  }
  return 0;
}
