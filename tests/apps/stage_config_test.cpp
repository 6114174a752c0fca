// StageConfig: JSON conversion, its mapping onto trainer / optimizer / batcher options, chunking of
// long examples, and loading a pretrained encoder into a fine-tuning network by name.
#include "nucleo_apps/stage_config.hpp"

#include <catch2/catch.hpp>

#include "nucleo_apps/model_zoo.hpp"
#include "train/tiny_task.hpp"

#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;

namespace {
std::map<std::string, std::vector<float>> param_values(auto& model) {
  std::map<std::string, std::vector<float>> out;
  model.visit_params([&](std::string_view name, auto& p) {
    out[std::string(name)] = std::vector<float>(p.value.data(), p.value.data() + p.size());
  });
  return out;
}

CheckpointMeta meta(std::string type) {
  CheckpointMeta m;
  m.model_type = std::move(type);
  return m;
}

Example make_example(Index n, Index first_token, bool labels, std::vector<std::uint8_t> multi = {}) {
  Example e;
  for (Index i = 0; i < n; ++i) e.tokens.push_back(static_cast<std::uint8_t>((first_token + i) % 4));
  if (labels)
    for (Index i = 0; i < n; ++i) e.labels.push_back(static_cast<std::int8_t>(i % 9));
  e.multilabels = std::move(multi);
  return e;
}
}  // namespace

TEST_CASE("StageConfig: defaults and JSON round trip", "[train][stage_config]") {
  const StageConfig d;
  const nlohmann::json j = d;
  CHECK(j.size() == 11);
  CHECK(j.at("steps") == 300);
  CHECK(j.at("batch_size") == 8);
  CHECK(j.at("max_length") == 2048);
  CHECK(j.at("lr").get<double>() == 1e-3);
  CHECK(j.at("weight_decay").get<double>() == 0.01);
  CHECK(j.at("warmup") == 30);
  CHECK(j.at("min_lr_ratio").get<double>() == 0.1);
  CHECK(j.at("clip_norm").get<double>() == 1.0);
  CHECK(j.at("patience") == 0);
  CHECK(j.at("checkpoint_every") == 100);
  CHECK(j.at("seed") == 1);

  StageConfig c;
  c.steps = 17;
  c.batch_size = 3;
  c.max_length = 0;
  c.lr = 2.5e-4;
  c.weight_decay = 0.0;
  c.warmup = 5;
  c.min_lr_ratio = 0.25;
  c.clip_norm = 0.0;
  c.patience = 2;
  c.checkpoint_every = 7;
  c.seed = 0xFFFFFFFFFFFFFFF1ULL;  // needs all 64 bits
  const nlohmann::json jc = c;
  // through text, as a config.json would be read back
  const auto back = nlohmann::json::parse(jc.dump()).get<StageConfig>();
  CHECK(back.steps == 17);
  CHECK(back.batch_size == 3);
  CHECK(back.max_length == 0);
  CHECK(back.lr == 2.5e-4);
  CHECK(back.weight_decay == 0.0);
  CHECK(back.warmup == 5);
  CHECK(back.min_lr_ratio == 0.25);
  CHECK(back.clip_norm == 0.0);
  CHECK(back.patience == 2);
  CHECK(back.checkpoint_every == 7);
  CHECK(back.seed == 0xFFFFFFFFFFFFFFF1ULL);
  CHECK(nlohmann::json(back) == jc);

  // missing fields keep their defaults
  const auto partial = nlohmann::json{{"steps", 12}, {"lr", 0.5}}.get<StageConfig>();
  CHECK(partial.steps == 12);
  CHECK(partial.lr == 0.5);
  CHECK(partial.batch_size == 8);
  CHECK(partial.warmup == 30);
  CHECK(partial.seed == 1);
  CHECK(nlohmann::json::object().get<StageConfig>().steps == 300);
}

TEST_CASE("StageConfig: unknown fields and out-of-range values are ConfigErrors", "[train][stage_config]") {
  CHECK_THROWS_WITH(nlohmann::json({{"stpes", 3}}).get<StageConfig>(),
                    Catch::Contains("unknown stage setting 'stpes'") && Catch::Contains("steps") &&
                        Catch::Contains("checkpoint_every"));
  CHECK_THROWS_AS(nlohmann::json({{"stpes", 3}}).get<StageConfig>(), ConfigError);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& bad : {nlohmann::json{{"steps", -1}}, nlohmann::json{{"batch_size", 0}},
                          nlohmann::json{{"max_length", -5}}, nlohmann::json{{"lr", 0.0}},
                          nlohmann::json{{"lr", -1e-3}}, nlohmann::json{{"lr", nan}}, nlohmann::json{{"warmup", -1}},
                          nlohmann::json{{"weight_decay", -0.01}}, nlohmann::json{{"min_lr_ratio", -0.1}},
                          nlohmann::json{{"min_lr_ratio", 1.5}}, nlohmann::json{{"clip_norm", -1.0}},
                          nlohmann::json{{"patience", -2}}, nlohmann::json{{"checkpoint_every", -10}},
                          nlohmann::json{{"seed", -1}}, nlohmann::json{{"seed", 2.5}}}) {
    INFO(bad.dump());
    CHECK_THROWS_AS(bad.get<StageConfig>(), ConfigError);
    CHECK_THROWS_WITH(bad.get<StageConfig>(),
                      Catch::Contains("out of range") && Catch::Contains("'" + bad.items().begin().key() + "'"));
  }
  // the boundaries are allowed
  CHECK_NOTHROW(nlohmann::json({{"steps", 1}, {"batch_size", 1}, {"max_length", 0}, {"warmup", 0}}).get<StageConfig>());
  CHECK(nlohmann::json({{"max_length", 64}}).get<StageConfig>().max_length == 64);
  const auto edge = nlohmann::json({{"weight_decay", 0.0}, {"min_lr_ratio", 0.0}, {"clip_norm", 0.0}, {"patience", 0},
                                    {"checkpoint_every", 0}, {"seed", 0}}).get<StageConfig>();
  CHECK(edge.seed == 0);
  CHECK(nlohmann::json({{"min_lr_ratio", 1.0}}).get<StageConfig>().min_lr_ratio == 1.0);
  // a value of the wrong JSON type is refused (by nlohmann's conversion)
  CHECK_THROWS(nlohmann::json({{"steps", "ten"}}).get<StageConfig>());
}

TEST_CASE("StageConfig::schedule: warm-up clamped to the steps, cosine down to lr * min_lr_ratio", "[train][stage_config]") {
  StageConfig c;
  c.lr = 0.01;
  c.steps = 100;
  c.warmup = 10;
  c.min_lr_ratio = 0.1;
  const LrSchedule s = c.schedule();
  CHECK(s.kind == LrSchedule::Kind::cosine);
  CHECK(s.warmup == 10);
  CHECK(s.total == 100);
  CHECK(s(0) == Approx(0.001));                       // 0.01 * 1 / 10
  CHECK(s(9) == Approx(0.01));
  CHECK(s(55) == Approx(0.001 + 0.009 * 0.5));        // half-way through the decay
  CHECK(s(100) == Approx(0.001));
  c.steps = 4;  // shorter than the warm-up: warm-up = all steps
  CHECK(c.schedule().warmup == 4);
  CHECK(c.schedule()(3) == Approx(0.01));
}

TEST_CASE("stage_trainer_options / stage_optimizer / stage_batcher_options carry the stage's values", "[train][stage_config]") {
  StageConfig c;
  c.steps = 10;
  c.batch_size = 5;
  c.max_length = 128;
  c.lr = 0.02;
  c.weight_decay = 0.05;
  c.warmup = 2;
  c.min_lr_ratio = 0.5;
  c.clip_norm = 0.75;
  c.patience = 3;
  c.checkpoint_every = 4;
  c.seed = 99;

  const nlohmann::json cfg = {{"model", "tiny"}};
  const TrainerOptions o = stage_trainer_options(c, 4, "runs/x", "mcc", "GeneNet", cfg);
  CHECK(o.run_dir == std::filesystem::path("runs/x"));
  CHECK(o.max_steps == 10);
  CHECK(o.epochs == 3);  // ceil(10 / 4)
  CHECK(o.clip_norm == 0.75);
  REQUIRE(o.schedule.has_value());
  CHECK(o.schedule->base == 0.02);
  CHECK(o.schedule->warmup == 2);
  CHECK(o.schedule->total == 10);
  CHECK(o.schedule->floor == Approx(0.01));
  CHECK(o.patience == 3);
  CHECK(o.checkpoint_every == 4);
  CHECK(o.metric_name == "mcc");
  CHECK(o.model_type == "GeneNet");
  CHECK(o.config == cfg);
  CHECK(stage_trainer_options(c, 5, "r", "m", "t", {}).epochs == 2);   // exact division
  CHECK(stage_trainer_options(c, 100, "r", "m", "t", {}).epochs == 1);  // one partial epoch
  c.steps = 1;
  CHECK(stage_trainer_options(c, 4, "r", "m", "t", {}).epochs == 1);  // at least one
  c.steps = 0;  // not a silent "one whole epoch"
  CHECK_THROWS_WITH(stage_trainer_options(c, 4, "runs/zero", "m", "t", {}),
                    Catch::Contains("runs/zero") && Catch::Contains("'steps'"));
  c.steps = 10;
  // no batch at all (empty training data) is an error naming the run, not a silent 9-epoch loop
  CHECK_THROWS_AS(stage_trainer_options(c, 0, "runs/empty", "m", "t", {}), ConfigError);
  CHECK_THROWS_WITH(stage_trainer_options(c, 0, "runs/empty", "m", "t", {}), Catch::Contains("runs/empty"));

  const AdamW<float> opt = stage_optimizer<float>(c);
  CHECK(opt.lr() == 0.02);
  CHECK(opt.options().weight_decay == 0.05);
  CHECK(opt.options().beta1 == 0.9);
  CHECK(opt.options().beta2 == 0.999);
  CHECK(opt.options().eps == 1e-8);
  CHECK(opt.options().decay_bias_and_norm);

  const BatcherOptions bo = stage_batcher_options(c);
  CHECK(bo.batch_size == 5);
  CHECK(bo.max_length == 128);
  CHECK(bo.training);
  CHECK(bo.seed == 99);
}

TEST_CASE("batch_nucleotides counts the valid positions of a batch", "[train][stage_config]") {
  std::vector<Example> ex = {make_example(3, 0, true), make_example(5, 1, true), make_example(9, 2, true)};
  const Batcher eval(ex, BatcherOptions::evaluation(3));
  const Batch b = eval.batch(DataPosition{0, 0});
  REQUIRE(b.size() == 3);
  CHECK(b.length() == 9);                // padded to the longest
  CHECK(batch_nucleotides(b) == 17);     // 3 + 5 + 9, not 3 * 9

  // training batches are cropped to max_length: 3 + 4 + 4
  StageConfig c;
  c.batch_size = 3;
  c.max_length = 4;
  const Batcher train(ex, stage_batcher_options(c));
  CHECK(batch_nucleotides(train.batch(DataPosition{0, 0})) == 11);

  Batch empty;
  CHECK(batch_nucleotides(empty) == 0);
}

TEST_CASE("chunk_examples cuts long examples into consecutive pieces", "[train][stage_config]") {
  const std::vector<Example> in = {make_example(10, 0, true), make_example(4, 1, true), make_example(3, 2, false, {1, 0})};
  const auto out = chunk_examples(in, 4);
  REQUIRE(out.size() == 5);  // 10 -> 4 + 4 + 2; 4 -> 4; 3 -> 3
  const std::vector<std::size_t> lengths = {4, 4, 2, 4, 3};
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].tokens.size() == lengths[i]);
  }
  // the pieces of the first example are its tokens and labels in order
  std::vector<std::uint8_t> tokens;
  std::vector<std::int8_t> labels;
  for (int i = 0; i < 3; ++i) {
    tokens.insert(tokens.end(), out[i].tokens.begin(), out[i].tokens.end());
    labels.insert(labels.end(), out[i].labels.begin(), out[i].labels.end());
  }
  CHECK(tokens == in[0].tokens);
  CHECK(labels == in[0].labels);
  CHECK(out[2].labels == std::vector<std::int8_t>{8, 0});  // positions 8 and 9: labels i % 9
  // an example of exactly max_length is one piece, equal to it
  CHECK(out[3].tokens == in[1].tokens);
  CHECK(out[3].labels == in[1].labels);
  // without per-position labels the pieces have none; multilabels are copied to every piece
  CHECK(out[4].labels.empty());
  CHECK(out[4].multilabels == std::vector<std::uint8_t>{1, 0});

  // max_length 0 (or negative) leaves everything as it is; a large one too
  for (Index m : {Index{0}, Index{-3}, Index{100}}) {
    const auto same = chunk_examples(in, m);
    REQUIRE(same.size() == in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      CHECK(same[i].tokens == in[i].tokens);
      CHECK(same[i].labels == in[i].labels);
    }
  }
  // max_length 1: one piece per position
  CHECK(chunk_examples(in, 1).size() == 17);
}

TEST_CASE("load_pretrained_encoder loads the 0.* tensors of an MLM checkpoint into a TokenNet", "[train][stage_config]") {
  using Enc = TinyEncoder<float>;
  TempDir dir;
  const auto ckpt = dir.path / "mlm.ckpt";
  MlmNet<Enc> mlm;
  Rng rng(7);
  mlm.get<0>().init(rng);
  mlm.get<1>().init(rng);
  save_checkpoint(ckpt, mlm, meta("MlmNet"));

  TokenNet<Enc> net;  // zero weights until init
  Rng rng2(8);
  net.get<1>().init(rng2);
  const auto head_before = param_values(net.get<1>());
  const nlohmann::json rep = load_pretrained_encoder(ckpt, net);

  // every encoder tensor is loaded, by name; the head keeps its own values
  const auto src = param_values(mlm), dst = param_values(net);
  std::size_t encoder_tensors = 0, head_tensors = 0;
  for (const auto& [name, value] : dst) {
    if (name.rfind("0.", 0) == 0) {
      ++encoder_tensors;
      REQUIRE(src.count(name) == 1);
      CHECK(value == src.at(name));
    } else {
      ++head_tensors;
    }
  }
  CHECK(encoder_tensors == 16);  // 2 blocks x (conv w/b, norm w/b, linear w/b, norm w/b)
  CHECK(head_tensors == 6);
  CHECK(param_values(net.get<1>()) == head_before);
  CHECK(rep.at("checkpoint") == ckpt.string());
  CHECK(rep.at("used") == 16);
  CHECK(rep.at("missing").size() == 6);  // the token head, "1.*"
  for (const auto& m : rep.at("missing")) CHECK(m.get<std::string>().rfind("1.", 0) == 0);
  CHECK(rep.at("unused").size() == 6);  // the MLM head, "1.*", is not loaded
  for (const auto& u : rep.at("unused")) CHECK(u.get<std::string>().rfind("1.", 0) == 0);
  CHECK_THAT(rep.at("summary").get<std::string>(), Catch::StartsWith("16 used, 6 missing") && Catch::Contains("6 unused"));

  // a checkpoint of an encoder of another size: the first mismatching tensor is named
  using Other = ResNetEncoder<8, 2, 9, 7, float>;
  MlmNet<Other> small;
  const auto other = dir.path / "other.ckpt";
  save_checkpoint(other, small, meta("MlmNet"));
  TokenNet<Enc> net2;
  CHECK_THROWS_AS(load_pretrained_encoder(other, net2), ShapeError);
  CHECK_THROWS_WITH(load_pretrained_encoder(other, net2), Catch::Contains("0.1.0."));

  // a checkpoint without any "0.*" tensor is refused, naming the file
  Sequential<GELU<float>, Linear<16, 16, float>> no_encoder;
  const auto none = dir.path / "none.ckpt";
  save_checkpoint(none, no_encoder, meta("Other"));
  TokenNet<Enc> net3;
  CHECK_THROWS_WITH(load_pretrained_encoder(none, net3),
                    Catch::Contains(none.string()) && Catch::Contains("no encoder tensors"));
  // a missing file
  CHECK_THROWS_AS(load_pretrained_encoder(dir.path / "missing.ckpt", net3), IoError);
}

TEST_CASE("StageConfig: steps = 0 and crops shorter than 64 nt are refused, not run silently", "[train][stage_config]") {
  // steps 0 used to mean "no budget": one whole epoch was trained, whatever its size
  CHECK_THROWS_WITH(nlohmann::json({{"steps", 0}}).get<StageConfig>(),
                    Catch::Contains("'steps'") && Catch::Contains(">= 1"));
  // max_length 1 used to be accepted: single-nucleotide crops
  for (const int bad : {1, 8, 63}) {
    INFO(bad);
    CHECK_THROWS_WITH(nlohmann::json({{"max_length", bad}}).get<StageConfig>(),
                      Catch::Contains("'max_length'") && Catch::Contains("0 (no crop) or >= 64"));
  }
  CHECK(nlohmann::json({{"max_length", 0}}).get<StageConfig>().max_length == 0);
}
