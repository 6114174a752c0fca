// Pipeline wiring on a tiny synthetic gene set (SYNTHETIC: random sequences with planted
// exon/intron structures), TinyEncoder, a few steps: pretrain -> fine-tune (SPT, SPT+CRF, scratch).
#include "nucleo/train/finetune_gene.hpp"
#include "nucleo/train/pretrain_mlm.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace nucleo;

namespace {
// A synthetic locus: noncoding, exon+ (ATG...), intron GT..AG, exon+, noncoding; or its mirror.
GeneExample synthetic_locus(Rng& rng, int id) {
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

std::vector<GeneExample> synthetic_set(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<GeneExample> v;
  for (int i = 0; i < n; ++i) v.push_back(synthetic_locus(rng, i));
  return v;
}
}  // namespace

TEST_CASE("gene pipeline (SYNTHETIC data): pretrain, then SPT+CRF fine-tune loads the encoder", "[pipeline]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_gene_pipeline_test";
  std::filesystem::remove_all(dir);
  CpuContext ctx(2);
  const auto train = synthetic_set(24, 1), valid = synthetic_set(6, 2), test = synthetic_set(6, 3);
  StageConfig st;
  st.steps = 6;
  st.batch_size = 4;
  st.max_length = 256;
  st.warmup = 1;
  st.checkpoint_every = 0;
  ProgressOptions quiet;
  quiet.mode = ProgressOptions::Mode::off;

  const auto pre = pretrain_mlm<TinyEncoder<float>>(ctx, gene_examples(train), gene_examples(valid), st, {},
                                                    dir / "pretrain", {{"test", true}}, quiet);
  REQUIRE(std::filesystem::exists(pre.best_checkpoint));
  CHECK(pre.train.steps == 6);
  CHECK(pre.train.best_metric >= 0.0);
  CHECK(pre.train.best_metric <= 1.0);

  GeneFinetuneOptions fo;
  fo.stage = st;
  fo.crf = true;
  fo.init_checkpoint = pre.best_checkpoint;
  fo.progress = quiet;
  fo.predict.window = {128, 32, 2};
  GeneEvaluation ev;
  const auto fin = finetune_gene<TinyEncoder<float>>(ctx, train, valid, test, fo, dir / "spt_crf", {}, &ev);
  CHECK(fin.summary["encoder_load"]["used"].get<int>() > 0);
  CHECK(fin.summary["encoder_load"]["missing"].size() > 0);  // the head and the CRF start fresh
  REQUIRE(fin.train.test.has_value());
  CHECK(ev.loci == test.size());
  REQUIRE(ev.predictions.size() == test.size());
  std::int64_t nt = 0;
  for (const auto& g : test) nt += static_cast<std::int64_t>(g.sequence.size());
  CHECK(ev.all.total() == nt);
  // CRF decoding never produces a forbidden transition
  const auto grammar = CrfConstraints::gene_structure();
  for (const auto& p : ev.predictions)
    for (std::size_t i = 1; i < p.labels.size(); ++i) REQUIRE(grammar.allowed(p.labels[i - 1], p.labels[i]));
  CHECK(std::filesystem::exists(dir / "spt_crf" / "learning_curve.svg"));
  CHECK(std::filesystem::exists(dir / "spt_crf" / "metrics.jsonl"));
  std::filesystem::remove_all(dir);
}
