// Pipeline wiring on a tiny synthetic gene set (SYNTHETIC: random sequences with planted
// exon/intron structures), TinyEncoder, a few steps: pretrain -> fine-tune (SPT, SPT+CRF, scratch).
#include "nucleo_apps/finetune_gene.hpp"
#include "nucleo_apps/pretrain_mlm.hpp"

#include <catch2/catch.hpp>

#include "pipeline/synthetic_genes.hpp"

#include <filesystem>
#include <fstream>

using namespace nucleo;
using namespace nucleo::apps;

using namespace nucleo::testing;

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
  CHECK_FALSE(fin.train.test.has_value());  // the trainer does not score test; finetune_gene does, once
  CHECK(fin.summary.at("test").at("loci") == test.size());
  CHECK(fin.summary.at("test_mcc") == fin.summary.at("test").at("mcc"));
  CHECK(fin.summary.at("decoder_selection").at("grid").size() == 1);  // no scan: the configured decoder
  CHECK(ev.loci == test.size());
  CHECK(ev.mcc() == fin.summary.at("test_mcc").get<double>());
  REQUIRE(ev.predictions.size() == test.size());
  std::int64_t nt = 0;
  for (const auto& g : test) nt += static_cast<std::int64_t>(g.sequence.size());
  CHECK(ev.all.total() == nt);
  // CRF decoding never produces a forbidden transition
  const auto grammar = gene_structure_constraints();
  for (const auto& p : ev.predictions)
    for (std::size_t i = 1; i < p.labels.size(); ++i) REQUIRE(grammar.allowed(p.labels[i - 1], p.labels[i]));
  CHECK(std::filesystem::exists(dir / "spt_crf" / "learning_curve.svg"));
  CHECK(std::filesystem::exists(dir / "spt_crf" / "metrics.jsonl"));
  std::filesystem::remove_all(dir);
}
