#include "nucleo/layers/resnet_encoder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

#include "nucleo/heads/mlm_head.hpp"
#include "nucleo/heads/token_classifier.hpp"
#include "support/gradcheck.hpp"
#include "support/layer_checks.hpp"

using namespace nucleo;
using namespace nucleo::testing;

static_assert(Layer<SmallEncoder<>>);
static_assert(PaperEncoder<>::channels == 512 && PaperEncoder<>::depth == 30 && PaperEncoder<>::kernel_size == 9);
static_assert(SmallEncoder<>::in_channels == 1 && SmallEncoder<>::out_channels == 64);
static_assert(MediumEncoder<>::channels == 128 && MediumEncoder<>::depth == 12);
static_assert(LargeEncoder<>::channels == 256 && LargeEncoder<>::depth == 12);

namespace {
Tensor3<double> tokens(Index B, Index L, int V, std::uint64_t seed) {
  Tensor3<double> t(B, 1, L);
  Rng rng(seed);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = double(rng.uniform_int(std::uint64_t(V)));
  return t;
}
}  // namespace

TEST_CASE("ResNetEncoder: dilation schedule and receptive field", "[layers][resnet_encoder]") {
  EncoderOptions o;
  std::vector<int> d;
  for (std::size_t i = 0; i < 30; ++i) d.push_back(o.dilation_of(i));
  CHECK(d == std::vector<int>{1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32,
                              1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32});
  // 64 x 6, k = 9: 1 + 8 * (1 + 2 + 4 + 8 + 16 + 32)
  SmallEncoder<> small;
  CHECK(small.receptive_field() == 505);
  CHECK(small.block(5).dilation() == 32);
  CHECK(PaperEncoder<>::depth * 0 + ResNetEncoder<8, 30>().receptive_field() == 1 + 8 * 5 * 63);
  // doubling every 2 layers, capped at 4, cycle 6: 1 1 2 2 4 4 | 1
  ResNetEncoder<8, 7, 3> custom(EncoderOptions{6, 2, 3});
  CHECK(custom.block(4).dilation() == 3);
  CHECK(custom.block(6).dilation() == 1);
  CHECK(custom.receptive_field() == 1 + 2 * (1 + 1 + 2 + 2 + 3 + 3 + 1));
  CHECK_THROWS_AS(EncoderOptions({0, 1, 32}).dilation_of(0), ConfigError);
  // growth 4, max 1024: 1 4 16 64 256 1024, +-5,460 nt at the small model's depth and cost
  ResNetEncoder<8, 6> wide(EncoderOptions{6, 1, 1024, 4});
  std::vector<int> dw;
  for (std::size_t i = 0; i < 6; ++i) dw.push_back(wide.dilation(i));
  CHECK(dw == std::vector<int>{1, 4, 16, 64, 256, 1024});
  CHECK(wide.receptive_field() == 1 + 8 * 1365);
  CHECK(EncoderOptions{6, 1, 100, 4}.dilation_of(4) == 100);  // capped
  CHECK_THROWS_AS(EncoderOptions({6, 1, 32, 0}).dilation_of(0), ConfigError);
}

TEST_CASE("ResNetEncoder: output shape, names, parameter count (bend.md)", "[layers][resnet_encoder]") {
  CpuContext ctx(2);
  Rng rng(1);
  ResNetEncoder<8, 2, 9, 7, float> enc(rng);
  CHECK(enc.name() == "resnet_encoder");
  Tensor3<float> ids = tokens(3, 20, 7, 2).cast<float>(), y;
  enc.forward(ctx, ids, y);
  CHECK(y.dimension(0) == 3);
  CHECK(y.dimension(1) == 8);
  CHECK(y.dimension(2) == 20);
  const auto names = parameter_names(enc);
  CHECK(names.front() == "1.0.0.body.0.weight");
  CHECK(names.back() == "1.1.1.body.2.bias");
  CHECK(names.size() == 16);
  // 256 channels: 656,896 per layer (bend.md section 3)
  ResNetEncoder<256, 2> h256;
  CHECK(parameter_count(h256) == 2 * 656896);
}

TEST_CASE("ResNetEncoder: gradcheck (double) of the parameters through the one-hot input", "[layers][resnet_encoder]") {
  CpuContext ctx(2);
  ResNetEncoder<4, 2, 3, 3, double> enc;
  randomize_params(enc, 3);
  GradcheckOptions o;
  o.check_input = false;
  REQUIRE_GRADCHECK(gradcheck(enc, ctx, tokens(2, 7, 3, 4), o));
}

TEST_CASE("ResNetEncoder + heads: a sequence alone or padded in a batch gives the same outputs and gradients",
          "[layers][resnet_encoder]") {
  CpuContext ctx(2);
  Rng rng(5);
  using Net = Sequential<ResNetEncoder<4, 3, 3, 3, double>, TokenClassifier<4, 3, 4, double>>;
  Net net;
  randomize_params(net, 6);  // LayerNorm gains and biases random too
  check_padding_invariance(net, ctx, tokens(2, 12, 3, 6), 7);
  using MlmNet = Sequential<ResNetEncoder<4, 2, 3, 3, double>, MLMHead<4, 3, double>>;
  MlmNet mlm;
  mlm.get<0>().init(rng);
  mlm.get<1>().init(rng);
  check_padding_invariance(mlm, ctx, tokens(2, 11, 3, 7), 5);
}

TEST_CASE("ResNetEncoder: parameter save -> load round trip", "[layers][resnet_encoder]") {
  CpuContext ctx(1);
  Rng rng(8);
  ResNetEncoder<4, 2, 3, 3, double> a(rng);
  check_roundtrip(a, ResNetEncoder<4, 2, 3, 3, double>(), ctx, tokens(2, 9, 3, 9));
}

namespace {
template <class S, class M>
void load_named(M& model, const nlohmann::json& j) {
  std::size_t n = 0;
  model.visit_params([&](std::string_view name, Param<S>& p) {
    INFO("parameter " << name);
    REQUIRE(j.contains(std::string(name)));
    const auto& e = j.at(std::string(name));
    REQUIRE(e.at("shape").get<std::vector<Index>>() == p.shape);
    const auto data = e.at("data").get<std::vector<double>>();
    REQUIRE(Index(data.size()) == p.size());
    // the fixture holds float32 values printed with 9 digits: round to float to get them exactly
    for (Index i = 0; i < p.size(); ++i) p.value[i] = S(float(data[std::size_t(i)]));
    ++n;
  });
  CHECK(n == j.size());
}

template <class S>
void check_against_fixture(double tol_abs) {
  std::ifstream in(std::string(NUCLEO_TEST_DATA_DIR) + "/encoder_fixture.json");
  REQUIRE(in.good());
  const nlohmann::json fx = nlohmann::json::parse(in);
  const auto& cfg = fx.at("config");
  REQUIRE(cfg.at("channels") == 16);
  REQUIRE(cfg.at("depth") == 3);
  REQUIRE(cfg.at("kernel") == 9);
  REQUIRE(cfg.at("vocab") == 7);
  const Index B = cfg.at("batch"), L = cfg.at("length");
  ResNetEncoder<16, 3, 9, 7, S> enc(EncoderOptions{cfg.at("dilation_cycle"), cfg.at("dilation_double_every"),
                                                   cfg.at("max_dilation")});
  MLMHead<16, 7, S> head;
  load_named<S>(enc, fx.at("encoder"));
  load_named<S>(head, fx.at("mlm_head"));
  Tensor3<S> ids(B, 1, L), hidden, logits;
  const auto tok = fx.at("tokens").get<std::vector<std::vector<int>>>();
  for (Index b = 0; b < B; ++b)
    for (Index l = 0; l < L; ++l) ids(b, 0, l) = S(tok[std::size_t(b)][std::size_t(l)]);
  CpuContext ctx(2);
  enc.forward(ctx, ids, hidden);
  head.forward(ctx, hidden, logits);
  const auto ref_h = fx.at("hidden").get<std::vector<double>>();
  const auto ref_y = fx.at("logits").get<std::vector<double>>();
  REQUIRE(Index(ref_h.size()) == hidden.size());
  REQUIRE(Index(ref_y.size()) == logits.size());
  double eh = 0, ey = 0, scale = 0;
  for (Index i = 0; i < hidden.size(); ++i) eh = std::max(eh, std::abs(double(hidden.data()[i]) - ref_h[std::size_t(i)]));
  for (Index i = 0; i < logits.size(); ++i) {
    ey = std::max(ey, std::abs(double(logits.data()[i]) - ref_y[std::size_t(i)]));
    scale = std::max(scale, std::abs(ref_y[std::size_t(i)]));
  }
  INFO("max |hidden - torch| " << eh << ", max |logits - torch| " << ey << " (logits up to " << scale << ")");
  CHECK(scale > 0.01);  // the reference is not trivially zero
  CHECK(eh < tol_abs);
  CHECK(ey < tol_abs);
}
}  // namespace

TEST_CASE("ResNetEncoder + MLMHead match PyTorch (bench/make_encoder_fixture.py)", "[layers][resnet_encoder]") {
  SECTION("double, same float32 weights: tight") { check_against_fixture<double>(1e-9); }
  SECTION("float") { check_against_fixture<float>(1e-5); }
}
