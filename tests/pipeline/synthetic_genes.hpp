#pragma once
// SYNTHETIC gene loci for pipeline tests: random sequences with one planted two-exon gene (exon,
// intron with GT..AG, exon) on either strand, in BEND's 9 classes; and the tiny gene-finding
// configuration and quiet progress the pipeline tests run them with.
#include "nucleo/core/rng.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo/train/progress.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nucleo::testing {
// A synthetic locus: noncoding, exon+ (ATG...), intron GT..AG, exon+, noncoding; or its mirror.
inline GeneExample synthetic_locus(Rng& rng, int id) {
  const char* nt = "ACGT";
  GeneExample g;
  g.name = "synthetic_" + std::to_string(id);
  const int L = 300 + static_cast<int>(rng.uniform_int(200));
  for (int i = 0; i < L; ++i) g.sequence += nt[rng.uniform_int(4)];
  g.labels.assign(static_cast<std::size_t>(L), 8);
  const bool minus = rng.bernoulli(0.5);
  const int a = 50 + static_cast<int>(rng.uniform_int(50)), b = a + 60, c = b + 40 + static_cast<int>(rng.uniform_int(30)),
            d = c + 60;
  for (int i = a; i < b; ++i) g.labels[i] = minus ? 4 : 0;
  for (int i = b; i < c; ++i) g.labels[i] = minus ? 6 : 2;
  g.labels[b] = minus ? 7 : 1;
  g.labels[c - 1] = minus ? 5 : 3;
  for (int i = c; i < d; ++i) g.labels[i] = minus ? 4 : 0;
  // splice signals so there is something to learn
  g.sequence[b] = minus ? 'C' : 'G';
  g.sequence[b + 1] = minus ? 'T' : 'T';
  g.sequence[c - 2] = minus ? 'A' : 'A';
  g.sequence[c - 1] = minus ? 'C' : 'G';
  return g;
}

inline std::vector<GeneExample> synthetic_set(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<GeneExample> v;
  for (int i = 0; i < n; ++i) v.push_back(synthetic_locus(rng, i));
  return v;
}

// `v` with the loci renamed prefix0, prefix1, ... (train_subset hashes names).
inline std::vector<GeneExample> named(std::vector<GeneExample> v, const std::string& prefix) {
  for (std::size_t i = 0; i < v.size(); ++i) v[i].name = prefix + std::to_string(i);
  return v;
}

// The default gene-finding configuration shrunk to the tiny model and 4 steps per stage.
inline nlohmann::json tiny_gene_config() {
  nlohmann::json cfg = apps::default_gene_config();
  for (const char* stage : {"pretrain", "finetune"}) {
    cfg[stage]["steps"] = 4;
    cfg[stage]["batch_size"] = 4;
    cfg[stage]["max_length"] = 256;
    cfg[stage]["warmup"] = 1;
    cfg[stage]["checkpoint_every"] = 0;
  }
  cfg["model"] = "tiny";
  cfg["predict"] = {{"window", 128}, {"overlap", 32}, {"batch_size", 2}};
  return cfg;
}

inline ProgressOptions quiet_progress() {
  ProgressOptions q;
  q.mode = ProgressOptions::Mode::off;
  return q;
}

}  // namespace nucleo::testing
