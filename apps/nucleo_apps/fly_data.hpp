#pragma once
/// Where the programs find their default data: AUGUSTUS's Drosophila melanogaster training genes
/// shipped by Debian's augustus-doc (tutorial/results/genes.gb.train and genes.gb.test) and the
/// 5 Mb genome piece they were cut from (tutorial/data/chr2R.2M-7M.fa).
///
/// Files: looked up in /usr/share/doc/augustus/tutorial/results/, then in the setup cache
/// ${NUCLEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nucleo}/augustus-doc/usr/share/doc/augustus/tutorial/results/
/// (each as "genes.gb.train" or "genes.gb.train.gz"; same for .test). If absent, IoError says to
/// run scripts/setup.
#include "nucleo/core/error.hpp"
#include "nucleo/genes/gene_dataset.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nucleo::apps {

/// Where the augustus-doc results are looked for, in order.
inline std::vector<std::filesystem::path> augustus_results_dirs() {
  std::vector<std::filesystem::path> dirs = {"/usr/share/doc/augustus/tutorial/results"};
  std::filesystem::path cache;
  if (const char* c = std::getenv("NUCLEO_CACHE"); c && *c) cache = c;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) cache = std::filesystem::path(x) / "nucleo";
  else if (const char* h = std::getenv("HOME"); h && *h) cache = std::filesystem::path(h) / ".cache" / "nucleo";
  if (!cache.empty()) dirs.push_back(cache / "augustus-doc/usr/share/doc/augustus/tutorial/results");
  return dirs;
}

/// genes.gb.train/test in the first of `dirs` holding both (plain or .gz); IoError naming the
/// searched places and `scripts/setup` otherwise.
inline GeneDataFiles find_gene_files(const std::vector<std::filesystem::path>& dirs = augustus_results_dirs()) {
  auto pick = [](const std::filesystem::path& dir, const char* name) -> std::optional<std::filesystem::path> {
    std::error_code ec;
    for (std::string n : {std::string(name), std::string(name) + ".gz"})
      if (std::filesystem::is_regular_file(dir / n, ec) && std::filesystem::file_size(dir / n, ec) > 0) return dir / n;
    return std::nullopt;
  };
  std::string searched;
  for (const auto& d : dirs) {
    auto tr = pick(d, "genes.gb.train"), te = pick(d, "genes.gb.test");
    if (tr && te) return GeneDataFiles{*tr, *te};
    searched += "\n  " + d.string();
  }
  throw IoError(fmt::format(
      "the default gene-finding data (AUGUSTUS fly genes.gb.train / genes.gb.test from Debian's augustus-doc) "
      "was not found in:{}\nRun scripts/setup to install augustus-doc (or to extract it into the cache), or pass "
      "the GenBank files explicitly.",
      searched));
}

/// The genome the fly loci were cut from: augustus-doc's tutorial/data/chr2R.2M-7M.fa (5 Mb of
/// chr2R; locus chr2R_A-B is its bases A..B), plain or .gz, next to the first of `dirs` holding it.
inline std::filesystem::path find_fly_genome(const std::vector<std::filesystem::path>& dirs = augustus_results_dirs()) {
  std::string searched;
  for (const auto& d : dirs) {
    const auto data = d.parent_path() / "data";
    std::error_code ec;
    for (const char* n : {"chr2R.2M-7M.fa", "chr2R.2M-7M.fa.gz"})
      if (std::filesystem::is_regular_file(data / n, ec) && std::filesystem::file_size(data / n, ec) > 0) return data / n;
    searched += "\n  " + data.string();
  }
  throw IoError(fmt::format("the fly genome piece chr2R.2M-7M.fa (Debian's augustus-doc) was not found in:{}\nRun "
                            "scripts/setup, or give the genome FASTA explicitly.",
                            searched));
}

/// The fly set from augustus-doc (find_gene_files()), split by GeneDataset's rule.
inline GeneDataset load_fly_dataset(int valid_percent = 10) { return GeneDataset::load(find_gene_files(), valid_percent); }

}  // namespace nucleo::apps
