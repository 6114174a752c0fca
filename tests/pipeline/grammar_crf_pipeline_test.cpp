// The gene grammar CRF in the pipeline, on SYNTHETIC loci whose genes fit the grammar (random
// noncoding sequence around ATG + stop-free codons split by one GT..AG intron + TAA, on either
// strand): fine-tuning trains it, its predictions are grammar paths, its checkpoint is a
// GeneModel+GrammarCRF that evaluate-style loading and nucleo-annotate decode identically.
#include "nucleo_apps/annotate.hpp"
#include "nucleo_apps/finetune_gene.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/genes/gene_grammar_decoder.hpp"

#include <algorithm>
#include <filesystem>
#include <string>

using namespace nucleo;
using namespace nucleo::apps;
using nucleo::testing::TempDir;

namespace {

std::string random_dna(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back("ACGT"[rng.uniform_int(4)]);
  return s;
}

std::string random_codon(Rng& rng) {
  for (;;) {
    std::string c = random_dna(rng, 3);
    if (c != "TAA" && c != "TAG" && c != "TGA") return c;
  }
}

// noncoding | ATG codons (exon 1) | GT intron AG | codons (exon 2) TAA | noncoding, the intron at a
// random phase; labelled as BEND does (start codon exon, stop codon noncoding, donor = the G of
// GT, acceptor = the G of AG). The minus strand is the reverse complement with mirrored labels.
GeneExample grammar_locus(Rng& rng, int id) {
  const int left = 40 + static_cast<int>(rng.uniform_int(60)), right = 40 + static_cast<int>(rng.uniform_int(60));
  std::string cds = "ATG";
  const int codons = 30 + static_cast<int>(rng.uniform_int(20));
  for (int i = 0; i < codons; ++i) cds += random_codon(rng);
  const std::size_t split = 10 + rng.uniform_int(cds.size() - 20);  // any phase
  // The intron must not create a stop codon across the split: the codon of the split reads the
  // CDS bases, so only the intron body needs care (it is never read as codons).
  std::string intron = "GT" + random_dna(rng, 40 + static_cast<int>(rng.uniform_int(30))) + "AG";
  std::string seq = random_dna(rng, left), lab(static_cast<std::size_t>(left), '8');
  seq += cds.substr(0, split);
  lab += std::string(split, '0');
  seq += intron;
  lab += "1" + std::string(intron.size() - 2, '2') + "3";
  seq += cds.substr(split);
  lab += std::string(cds.size() - split, '0');
  seq += "TAA" + random_dna(rng, right);
  lab += std::string(3 + static_cast<std::size_t>(right), '8');
  if (rng.bernoulli(0.5)) {
    std::reverse(seq.begin(), seq.end());
    for (char& c : seq) c = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A';
    std::reverse(lab.begin(), lab.end());
    for (char& c : lab) c = c == '8' ? '8' : static_cast<char>(c + 4);
  }
  GeneExample g;
  g.name = "grammar_" + std::to_string(id);
  g.sequence = seq;
  for (char c : lab) g.labels.push_back(static_cast<std::int8_t>(c - '0'));
  return g;
}

std::vector<GeneExample> grammar_set(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<GeneExample> v;
  for (int i = 0; i < n; ++i) v.push_back(grammar_locus(rng, i));
  return v;
}

}  // namespace

TEST_CASE("grammar CRF pipeline (SYNTHETIC loci): the generator's loci are grammar paths", "[pipeline][grammar_crf]") {
  GeneGrammarOptions o;
  o.noncoding_start = o.noncoding_end = true;
  const GeneGrammarDecoder dec(o);
  for (const auto& g : grammar_set(40, 5)) {
    const auto v = dec.first_violation(tokens::encode(g.sequence), g.labels);
    INFO(g.name << ": " << (v ? v->to_string() : std::string()));
    CHECK_FALSE(v.has_value());
  }
}

TEST_CASE("grammar CRF pipeline (SYNTHETIC loci): fine-tune, decode, save, reload, annotate", "[pipeline][grammar_crf]") {
  TempDir dir;
  CpuContext ctx(2);
  const auto train = grammar_set(24, 1), valid = grammar_set(6, 2), test = grammar_set(6, 3);
  GeneFinetuneOptions fo;
  fo.stage.steps = 8;
  fo.stage.batch_size = 4;
  fo.stage.max_length = 0;  // whole loci: every training sequence fits the grammar
  fo.stage.warmup = 1;
  fo.stage.checkpoint_every = 0;
  fo.grammar_crf = GeneGrammarCrfOptions{};
  fo.progress.mode = ProgressOptions::Mode::off;
  fo.predict.window = {128, 32, 2};
  fo.decoder_grid = {fo.predict, fo.predict};  // a grid is replaced by the model's own decoder
  fo.decoder_grid[1].decoder = GeneDecoder::grammar;
  const nlohmann::json config = {{"model", "tiny"}, {"head_activation", "gelu"}};
  GeneEvaluation ev;
  const auto r = finetune_gene<TinyEncoder<float>>(ctx, train, valid, test, fo, dir / "run", config, &ev);

  CHECK(r.summary.at("grammar_unfit_crops").get<int>() == 0);
  CHECK(r.summary.at("grammar_crf").at("intron_states") == 3);
  CHECK(r.summary.at("decoder_selection").at("grid").size() == 1);
  const auto& learned = r.summary.at("grammar_crf_learned");
  CHECK(learned.at("transitions").size() == GeneGrammarCrf<float>().num_kinds());
  // the training moved the edge scores away from their count-based start
  GeneGrammarCrf<float> start;
  std::vector<std::vector<std::int8_t>> tracks;
  for (const auto& g : train) tracks.push_back(g.labels);
  start.init_lengths(GeneRunLengths::from_labels(tracks));
  double moved = 0;
  for (int k = 0; k < start.num_kinds(); ++k)
    moved += std::abs(learned.at("transitions").at(start.kind_names()[static_cast<std::size_t>(k)]).get<double>() -
                      start.transitions().value[k]);
  CHECK(moved > 1e-4);

  // every prediction is a gene structure of its locus (whole loci: noncoding ends)
  GeneGrammarOptions go;
  go.noncoding_start = go.noncoding_end = true;
  const GeneGrammarDecoder checker(go);
  REQUIRE(ev.predictions.size() == test.size());
  for (std::size_t i = 0; i < test.size(); ++i) {
    const auto v = checker.first_violation(tokens::encode(test[i].sequence), ev.predictions[i].labels);
    INFO(test[i].name << ": " << (v ? v->to_string() : std::string()));
    CHECK_FALSE(v.has_value());
    for (float c : ev.predictions[i].confidence) REQUIRE((c >= 0.0f && c <= 1.0001f));
  }

  // the checkpoint: its type, the CRF's tensors, and the same predictions after reloading
  const auto ckpt = r.best_checkpoint;
  REQUIRE(std::filesystem::exists(ckpt));
  const auto info = inspect_gene_checkpoint(ckpt);
  CHECK(info.model_type == "GeneModel+GrammarCRF");
  REQUIRE(info.grammar_crf.has_value());
  CHECK(*info.grammar_crf == GeneGrammarCrfOptions{});
  GeneModel<TinyEncoder<float>> reloaded(*info.grammar_crf, info.head_activation);
  load_checkpoint(ckpt, reloaded);
  ctx.set_training(false);
  const auto again = evaluate_gene(ctx, reloaded, test, fo.predict, true);
  CHECK(again.mcc() == ev.mcc());
  for (std::size_t i = 0; i < test.size(); ++i) CHECK(again.predictions[i].labels == ev.predictions[i].labels);

  // nucleo-annotate's path: the loci as a FASTA, labels equal to predict's
  std::string fa;
  for (const auto& g : test) fa += ">" + g.name + "\n" + g.sequence + "\n";
  const auto fasta = dir.write("test.fa", fa);
  AnnotateOptions ao;
  ao.predict = fo.predict;
  ao.progress = {};
  const auto sum = annotate_fasta(ctx, ckpt, fasta, dir / "out.gff3", dir / "out.tsv", ao);
  CHECK(sum.sequences == test.size());
  const auto rows = read_label_tsv(dir / "out.tsv");
  REQUIRE(rows.size() == test.size());
  for (std::size_t i = 0; i < test.size(); ++i) CHECK(rows[i].labels == ev.predictions[i].labels);

  // the separate grammar decoder does not apply to this model
  AnnotateOptions bad = ao;
  bad.predict.decoder = GeneDecoder::grammar;
  CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, fasta, dir / "bad.gff3", {}, bad), ConfigError);
}

TEST_CASE("grammar CRF pipeline: an SPT checkpoint with another dilation schedule is refused", "[pipeline][grammar_crf]") {
  TempDir dir;
  CpuContext ctx(1);
  const auto train = grammar_set(8, 11), valid = grammar_set(2, 12);
  StageConfig st;
  st.steps = 1;
  st.batch_size = 4;
  st.max_length = 0;
  st.warmup = 1;
  st.checkpoint_every = 0;
  ProgressOptions quiet;
  quiet.mode = ProgressOptions::Mode::off;
  const nlohmann::json wide = {{"model", "tiny"}, {"encoder", {{"dilation_growth", 4}, {"max_dilation", 64}}}};
  const auto pre = pretrain_mlm<TinyEncoder<float>>(ctx, gene_examples(train), gene_examples(valid), st, {},
                                                    dir / "pre", wide, quiet);
  CHECK_NOTHROW(check_init_encoder(pre.best_checkpoint, wide));
  const nlohmann::json bend = {{"model", "tiny"}};
  CHECK_THROWS_AS(check_init_encoder(pre.best_checkpoint, bend), ConfigError);
  CHECK_THROWS_AS(check_init_encoder(pre.best_checkpoint, nlohmann::json{{"encoder", {{"dilation_growth", 0}}}}),
                  ConfigError);
}
