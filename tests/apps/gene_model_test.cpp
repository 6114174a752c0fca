#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/gene_experiment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;

namespace {
// Random DNA with many start/stop codons and splice dinucleotides, so that genes are possible.
std::string motif_rich_dna(Rng& rng, int L) {
  static const char* parts[] = {"ATG", "GT", "AG", "TAA", "TGA", "CAT", "CT", "AC", "TTA", "ACG", "GCC", "A", "C", "G", "T"};
  std::string s;
  while (static_cast<int>(s.size()) < L) s += parts[rng.uniform_int(15)];
  s.resize(static_cast<std::size_t>(L));
  return s;
}

// A tiny GeneModel whose head favours exons (so that paths are not all noncoding) and whose CRF has
// random transitions.
GeneModel<TinyEncoder<float>> random_model(bool crf, std::uint64_t seed) {
  GeneModel<TinyEncoder<float>> m(crf);
  Rng rng(seed);
  m.init(rng);
  m.net().visit_params([&](std::string_view name, Param<float>& p) {
    if (name == "1.4.bias") {
      // exon, donor, intron, acceptor (+ then -), noncoding, plus noise
      const float b[gene_class_count] = {1.5f, -0.5f, 0.5f, -0.5f, 1.5f, -0.5f, 0.5f, -0.5f, 0.0f};
      for (int k = 0; k < gene_class_count; ++k) p.value[k] = b[k] + static_cast<float>(rng.uniform(-0.3, 0.3));
    }
  });
  if (crf)
    for (Index i = 0; i < m.crf().transitions().size(); ++i)
      m.crf().transitions().value[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
  return m;
}
}  // namespace

TEST_CASE("GeneModel: the grammar decoder returns gene structures of the sequence, the CRF alone need not",
          "[train][gene_model]") {
  CpuContext ctx(1);
  ctx.set_training(false);
  const GeneGrammarDecoder rules;
  for (const bool crf : {true, false}) {
    auto model = random_model(crf, crf ? 3 : 4);
    Rng rng(9);
    int model_violations = 0, genes = 0;
    for (int i = 0; i < 12; ++i) {
      const std::string s = motif_rich_dna(rng, 400 + 37 * i);
      const auto ids = tokens::encode(s);
      GenePredictOptions o;
      o.window = SlidingWindowOptions{128, 32, 2};
      const GenePrediction plain = model.predict(ctx, ids, o);
      o.decoder = GeneDecoder::grammar;
      const GenePrediction g = model.predict(ctx, ids, o);
      INFO("crf " << crf << " locus " << i);
      REQUIRE(g.labels.size() == s.size());
      CHECK_FALSE(rules.first_violation(ids, g.labels).has_value());
      model_violations += rules.first_violation(ids, plain.labels).has_value();
      genes += std::count_if(g.labels.begin(), g.labels.end(), [](std::int8_t v) { return v == 0 || v == 4; }) > 0;
      for (float c : g.confidence) {
        CHECK(c >= 0.0f);
        CHECK(c <= 1.0001f);
      }
    }
    INFO("crf " << crf);
    CHECK(model_violations > 6);  // the per-nucleotide / 9-class decoding ignores the DNA's rules
    CHECK(genes > 6);             // and the grammar still finds genes
  }
}

TEST_CASE("GeneModel: tie_intron_strands scores intron+ and intron- alike", "[train][gene_model]") {
  CpuContext ctx(1);
  ctx.set_training(false);
  GeneModel<TinyEncoder<float>> m(false);
  Rng rng(5);
  m.init(rng);
  m.net().visit_params([&](std::string_view name, Param<float>& p) {
    if (name == "1.4.bias") p.value[gene_intron_rev] = 50.0f;  // every nucleotide looks like intron-
  });
  Rng seq_rng(6);
  const auto ids = tokens::encode(motif_rich_dna(seq_rng, 300));
  GenePredictOptions o;
  o.window = SlidingWindowOptions{128, 32, 2};
  const auto plain = m.predict(ctx, ids, o);
  CHECK(std::all_of(plain.labels.begin(), plain.labels.end(), [](std::int8_t v) { return v == gene_intron_rev; }));
  o.tie_intron_strands = true;
  const auto tied = m.predict(ctx, ids, o);
  // Both intron classes now score log((p+ + p-)/2): the argmax tie goes to the lower class, intron+,
  // with about half of the intron probability.
  CHECK(std::all_of(tied.labels.begin(), tied.labels.end(), [](std::int8_t v) { return v == gene_intron_fwd; }));
  CHECK(tied.confidence[10] == Approx(plain.confidence[10] / 2).epsilon(1e-3));
}

TEST_CASE("predict_from_config: decoder and tie_intron_strands, with defaults for older configurations",
          "[train][gene_model]") {
  nlohmann::json cfg = default_gene_config();
  CHECK(predict_from_config(cfg).decoder == GeneDecoder::model);
  CHECK_FALSE(predict_from_config(cfg).tie_intron_strands);
  cfg["predict"]["decoder"] = "grammar";
  cfg["predict"]["tie_intron_strands"] = true;
  CHECK(predict_from_config(cfg).decoder == GeneDecoder::grammar);
  CHECK(predict_from_config(cfg).tie_intron_strands);
  cfg["predict"] = {{"window", 128}, {"overlap", 32}, {"batch_size", 2}};  // saved before the keys existed
  CHECK(predict_from_config(cfg).decoder == GeneDecoder::model);
  CHECK(predict_from_config(cfg).grammar.gene_penalty == 0.0);
  CHECK_FALSE(predict_from_config(cfg).grammar.one_gene);
  cfg["predict"]["gene_penalty"] = 640.0;
  cfg["predict"]["one_gene_per_record"] = true;
  CHECK(predict_from_config(cfg).grammar.gene_penalty == 640.0);
  CHECK(predict_from_config(cfg).grammar.one_gene);
  cfg["predict"]["gene_penalty"] = -1.0;
  CHECK_THROWS_WITH(predict_from_config(cfg), Catch::Contains("predict.gene_penalty must be a number >= 0, got -1"));
  cfg["predict"]["gene_penalty"] = 0.0;
  CHECK_FALSE(predict_from_config(cfg).grammar.deep_intron_penalty.has_value());  // absent: off
  CHECK_FALSE(predict_from_config(default_gene_config()).grammar.deep_intron_penalty.has_value());  // null: off
  cfg["predict"]["deep_intron_penalty"] = 320;
  CHECK(predict_from_config(cfg).grammar.deep_intron_penalty == std::optional<double>(320.0));
  cfg["predict"]["deep_intron_penalty"] = -2;
  CHECK_THROWS_WITH(predict_from_config(cfg), Catch::Contains("predict.deep_intron_penalty must be null (off) or a number >= 0, got -2"));
  cfg["predict"]["deep_intron_penalty"] = "high";
  CHECK_THROWS_WITH(predict_from_config(cfg), Catch::Contains("got \"high\""));
  cfg["predict"]["deep_intron_penalty"] = nullptr;
  cfg["predict"]["decoder"] = "viterbi";
  CHECK_THROWS_WITH(predict_from_config(cfg), Catch::Contains("predict.decoder must be \"model\" or \"grammar\""));
  CHECK(gene_decoder_name(gene_decoder_from_name("grammar")) == "grammar");
}

TEST_CASE("GeneModel: one_gene_per_record keeps one gene per record and refuses chunked records",
          "[train][gene_model]") {
  CpuContext ctx(1);
  ctx.set_training(false);
  auto model = random_model(true, 3);
  Rng rng(9);
  int several = 0;
  for (int i = 0; i < 8; ++i) {
    const auto ids = tokens::encode(motif_rich_dna(rng, 600 + 41 * i));
    GenePredictOptions o;
    o.window = SlidingWindowOptions{128, 32, 2};
    o.decoder = GeneDecoder::grammar;
    auto genes = [](const GenePrediction& p) {
      int n = 0;
      for (std::size_t t = 0; t < p.labels.size(); ++t) n += p.labels[t] != 8 && (t == 0 || p.labels[t - 1] == 8);
      return n;
    };
    const int free_genes = genes(model.predict(ctx, ids, o));
    o.grammar.one_gene = true;
    const GenePrediction one = model.predict(ctx, ids, o);
    INFO("record " << i << ": " << free_genes << " genes without the prior");
    CHECK(genes(one) == 1);  // noncoding ends: exactly one gene (these records have room for one)
    several += free_genes > 1;
    o.chunk = 256;
    o.chunk_overlap = 64;
    CHECK_THROWS_WITH(model.predict(ctx, ids, o), Catch::Contains("one gene per chunk is not one gene per record"));
  }
  CHECK(several > 3);  // without it the grammar decoder finds several genes in these records
}

TEST_CASE("GeneModel: predict_each and evaluate_gene_each equal predict / evaluate_gene per setting",
          "[train][gene_model]") {
  CpuContext ctx(1);
  ctx.set_training(false);
  for (const bool crf : {true, false}) {
    auto model = random_model(crf, crf ? 5 : 6);
    std::vector<GenePredictOptions> settings(5);
    for (auto& o : settings) o.window = SlidingWindowOptions{128, 32, 2};
    settings[1].decoder = settings[2].decoder = settings[3].decoder = settings[4].decoder = GeneDecoder::grammar;
    settings[2].grammar.gene_penalty = 3.0;
    settings[3].grammar.deep_intron_penalty = 1.0;
    settings[4].grammar.one_gene = true;
    Rng rng(17);
    std::vector<GeneExample> loci;
    for (int i = 0; i < 5; ++i) {
      GeneExample ex;
      ex.name = fmt::format("locus{}", i);
      ex.sequence = motif_rich_dna(rng, 300 + 90 * i);
      for (std::size_t t = 0; t < ex.sequence.size(); ++t) ex.labels.push_back(static_cast<std::int8_t>(rng.uniform_int(9)));
      loci.push_back(ex);
    }
    int differ = 0;
    for (const auto& ex : loci) {
      const auto ids = tokens::encode(ex.sequence);
      const auto each = model.predict_each(ctx, ids, settings);
      REQUIRE(each.size() == settings.size());
      for (std::size_t i = 0; i < settings.size(); ++i) {
        const GenePrediction one = model.predict(ctx, ids, settings[i]);
        INFO("crf " << crf << " " << ex.name << " setting " << i);
        CHECK(each[i].labels == one.labels);
        CHECK(each[i].confidence == one.confidence);
        differ += i > 0 && each[i].labels != each[0].labels;
      }
    }
    CHECK(differ > 5);  // the settings do decode differently
    const auto evs = evaluate_gene_each(ctx, model, loci, settings, 500);
    for (std::size_t i = 0; i < settings.size(); ++i) {
      const GeneEvaluation ev = evaluate_gene(ctx, model, loci, settings[i], false, 500);
      CHECK(evs[i].mcc() == ev.mcc());
      CHECK(evs[i].mcc_short() == ev.mcc_short());
      CHECK(evs[i].short_count == ev.short_count);
      CHECK(evs[i].all.total() == ev.all.total());
    }
    GenePredictOptions other = settings[0];
    other.tie_intron_strands = true;
    settings.push_back(other);
    CHECK_THROWS_WITH(model.predict_each(ctx, tokens::encode(loci[0].sequence), settings),
                      Catch::Contains("must share window, chunk and tie_intron_strands"));
  }
}

TEST_CASE("GeneModel: predict_each on records decoded in chunks equals the chunks decoded one by one",
          "[train][gene_model]") {
  // A record longer than `chunk` is decoded chunk by chunk, each keeping its central part. With
  // noncoding_ends off, a chunk decodes as the same sequence predicted alone, so the chunked
  // prediction can be rebuilt independently from predict() on the pieces.
  CpuContext ctx(1);
  ctx.set_training(false);
  for (const bool crf : {true, false}) {
    auto model = random_model(crf, crf ? 21 : 22);
    std::vector<GenePredictOptions> settings(4);
    for (auto& o : settings) {
      o.window = SlidingWindowOptions{128, 32, 2};
      o.chunk = 240;
      o.chunk_overlap = 60;
      o.noncoding_ends = false;
    }
    settings[1].decoder = settings[2].decoder = settings[3].decoder = GeneDecoder::grammar;
    settings[2].grammar.gene_penalty = 3.0;
    settings[3].grammar.deep_intron_penalty = 1.0;
    Rng rng(31);
    const std::string seq = motif_rich_dna(rng, 1000);
    const auto ids = tokens::encode(seq);
    std::vector<Index> reported;
    const auto each = model.predict_each(ctx, ids, settings, [&](Index done) { reported.push_back(done); });
    const SlidingWindow plan(static_cast<Index>(seq.size()), 240, 60);
    REQUIRE(plan.windows().size() > 3);
    CHECK(reported.size() == plan.windows().size());
    CHECK(reported.back() == static_cast<Index>(seq.size()));
    for (std::size_t s = 0; s < settings.size(); ++s) {
      INFO("crf " << crf << " setting " << s);
      GenePredictOptions whole = settings[s];
      whole.chunk = Index{1} << 20;  // each piece predicted as a record of its own
      std::vector<std::int8_t> labels(seq.size(), -1);
      std::vector<float> conf(seq.size(), -1.0f);
      for (const Window& w : plan.windows()) {
        const auto part = model.predict(ctx, std::span<const std::uint8_t>(ids).subspan(w.start, w.length), whole);
        for (Index i = w.keep_begin; i < w.keep_end; ++i) {
          labels[i] = part.labels[i - w.start];
          conf[i] = part.confidence[i - w.start];
        }
      }
      CHECK(each[s].labels == labels);
      CHECK(each[s].confidence == conf);
      CHECK(model.predict(ctx, ids, settings[s]).labels == labels);
    }
    CHECK(each[1].labels != each[0].labels);
    // one gene per record cannot be kept chunk by chunk
    auto one = settings;
    one[3].grammar.one_gene = true;
    CHECK_THROWS_WITH(model.predict_each(ctx, ids, one), Catch::Contains("one gene per chunk is not one gene per record"));
  }
}

TEST_CASE("decoder_grid_from_config: the model decoder and the grammar at every listed prior", "[train][gene_model]") {
  nlohmann::json cfg = default_gene_config();
  cfg["predict"]["select"]["one_gene_per_record"] = {false};
  const auto grid = decoder_grid_from_config(cfg);
  REQUIRE(grid.size() == 1 + 4 * 4);  // model, then gene_penalty fastest within deep_intron_penalty
  CHECK(grid[0].decoder == GeneDecoder::model);
  CHECK(grid[1].decoder == GeneDecoder::grammar);
  CHECK(grid[1].grammar.gene_penalty == 0.0);
  CHECK_FALSE(grid[1].grammar.deep_intron_penalty.has_value());
  CHECK(grid[4].grammar.gene_penalty == 2560.0);
  CHECK(grid[5].grammar.deep_intron_penalty == std::optional<double>(80.0));
  CHECK(gene_decoder_setting_label(grid[0]) == "model");
  CHECK(gene_decoder_setting_label(grid[1]) == "grammar");
  CHECK(gene_decoder_setting_label(grid[6]) == "grammar gene_penalty 160 deep_intron 80");
  CHECK(gene_decoder_setting_json(grid[5]) ==
        nlohmann::json{{"decoder", "grammar"}, {"gene_penalty", 0.0}, {"deep_intron_penalty", 80.0}, {"one_gene_per_record", false}});
  CHECK(gene_decoder_setting_json(grid[0]) == nlohmann::json{{"decoder", "model"}});
  cfg["predict"]["select"]["one_gene_per_record"] = {false, true};
  CHECK(decoder_grid_from_config(cfg).size() == 1 + 4 * 4 * 2);
  CHECK(decoder_grid_from_config(cfg).back().grammar.one_gene);
  cfg["predict"]["select"]["enabled"] = false;
  CHECK(decoder_grid_from_config(cfg).empty());
  cfg["predict"]["select"]["enabled"] = true;
  cfg["predict"]["select"]["gene_penalty"] = nlohmann::json::array();
  CHECK_THROWS_WITH(decoder_grid_from_config(cfg), Catch::Contains("predict.select.gene_penalty must be a non-empty list"));
  cfg["predict"]["select"]["gene_penalty"] = {0.0, -5.0};
  CHECK_THROWS_WITH(decoder_grid_from_config(cfg), Catch::Contains("predict.select.gene_penalty: -5.0 is not a number >= 0"));
  cfg["predict"]["select"]["gene_penalty"] = {0.0};
  cfg["predict"]["select"]["deep_intron_penalty"] = {"x"};
  CHECK_THROWS_WITH(decoder_grid_from_config(cfg), Catch::Contains("neither null (off) nor a number >= 0"));
  cfg["predict"].erase("select");  // a configuration saved before predict.select
  CHECK(decoder_grid_from_config(cfg).empty());
}
