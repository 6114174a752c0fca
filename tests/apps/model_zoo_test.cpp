// Model zoo: the size names map to the documented encoder types, and the task networks put the
// encoder at child 0 ("0.*" names) with heads of the documented shapes.
#include "nucleo_apps/model_zoo.hpp"

#include <catch2/catch.hpp>

#include "nucleo/data/tokens.hpp"
#include "nucleo/testing/gradcheck.hpp"

#include <string>
#include <tuple>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;

namespace {
struct EncoderFacts {
  int channels, depth, kernel, vocab;
  long long params;  // -1: not instantiated (too large for a unit test)
};

// Parameters of ResNetEncoder<C, Depth, K>: per block C*C*K + C (conv) + C*C + C (linear) + 2 * 2C (norms).
constexpr long long encoder_params(long long c, long long depth, long long k) {
  return depth * (c * c * k + c + c * c + c + 4 * c);
}

struct Facts {
  template <class E>
  EncoderFacts operator()() const {
    static_assert(std::is_same_v<typename E::scalar_type, float>);
    long long n = -1;
    if constexpr (E::channels * E::depth <= 128 * 12) {
      E e;
      n = 0;
      e.visit_params([&](std::string_view, auto& p) { n += p.size(); });
    }
    return {E::channels, E::depth, E::kernel_size, E::vocab_size, n};
  }
};

std::string config_error_of(std::string_view name) {
  try {
    with_encoder(name, Facts{});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

Tensor3<float> token_batch(const std::vector<std::vector<std::uint8_t>>& seqs, Index L) {
  Tensor3<float> x(static_cast<Index>(seqs.size()), 1, L);
  x.setConstant(float(tokens::pad));
  for (std::size_t b = 0; b < seqs.size(); ++b)
    for (std::size_t l = 0; l < seqs[b].size(); ++l) x(static_cast<Index>(b), 0, static_cast<Index>(l)) = seqs[b][l];
  return x;
}

template <class Net>
void init_net(Net& net, std::uint64_t seed) {
  Rng rng(seed);
  net.template get<0>().init(rng);
  net.template get<1>().init(rng);
}
}  // namespace

TEST_CASE("with_encoder maps each size name to its encoder type", "[train][model_zoo]") {
  // the documented table: tiny 16x2, small 64x6, medium 128x12, large 256x12, paper 512x30; kernel 9, vocabulary 7
  const std::vector<std::tuple<std::string, int, int>> table = {
      {"tiny", 16, 2}, {"small", 64, 6}, {"medium", 128, 12}, {"large", 256, 12}, {"paper", 512, 30}};
  REQUIRE(model_size_names.size() == table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& [name, c, depth] = table[i];
    INFO(name);
    CHECK(model_size_names[i] == name);
    const EncoderFacts f = with_encoder(name, Facts{});
    CHECK(f.channels == c);
    CHECK(f.depth == depth);
    CHECK(f.kernel == 9);
    CHECK(f.vocab == 7);
    if (f.params >= 0) CHECK(f.params == encoder_params(c, depth, 9));
  }
  // hand-computed counts: tiny 2 * (16*16*9 + 16*16 + 6*16) = 5312; large 12 * (256*256*10 + 6*256) = 7882752
  CHECK(encoder_params(16, 2, 9) == 5312);
  CHECK(with_encoder("tiny", Facts{}).params == 5312);
  CHECK(with_encoder("small", Facts{}).params == 248064);
  CHECK(with_encoder("medium", Facts{}).params == 1975296);
  CHECK(encoder_params(256, 12, 9) == 7882752);     // "7.9 M" in the table
  CHECK(encoder_params(512, 30, 9) == 78735360);    // "78.7 M"
  CHECK(std::is_same_v<TinyEncoder<float>, ResNetEncoder<16, 2, 9, 7, float>>);

  // with_encoder returns what the callable returns (also a reference)
  static int counter = 0;
  int& r = with_encoder("tiny", []<class E>() -> int& { return counter; });
  CHECK(&r == &counter);
}

TEST_CASE("with_encoder / with_cpu_encoder: unknown and unavailable names are ConfigErrors", "[train][model_zoo]") {
  for (const char* bad : {"huge", "", "Tiny", "small "}) {
    const std::string msg = config_error_of(bad);
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains(fmt::format("'{}'", bad)));
    for (auto n : model_size_names) CHECK_THAT(msg, Catch::Contains(std::string(n)));
  }
  auto cpu_facts = [](std::string_view name) { return with_cpu_encoder(name, Facts{}); };
  CHECK(cpu_facts("tiny").channels == 16);
  CHECK(cpu_facts("small").channels == 64);
  CHECK(cpu_facts("medium").channels == 128);
  for (const char* heavy : {"large", "paper"}) {
    CHECK_THROWS_AS(cpu_facts(heavy), ConfigError);
    CHECK_THROWS_WITH(cpu_facts(heavy), Catch::Contains(heavy) && Catch::Contains("not built into this program") &&
                                            Catch::Contains("tiny, small, medium"));
  }
  CHECK_THROWS_WITH(cpu_facts("huge"), Catch::Contains("'huge'") && Catch::Contains("tiny, small or medium"));
}

TEST_CASE("MlmNet, TokenNet, SequenceNet: encoder at child 0, head at child 1", "[train][model_zoo]") {
  using Enc = TinyEncoder<float>;
  auto check_names = [](auto& net, const std::vector<std::pair<std::string, std::vector<Index>>>& head) {
    std::size_t enc = 0;
    std::vector<std::pair<std::string, std::vector<Index>>> got_head;
    net.visit_params([&](std::string_view name, auto& p) {
      const std::string n(name);
      if (n.rfind("0.", 0) == 0) ++enc;
      else got_head.emplace_back(n, p.shape);
    });
    CHECK(enc == 16);  // 2 ResBlocks x 8 tensors, all named "0.*"
    CHECK(got_head == head);
  };
  MlmNet<Enc> mlm;
  check_names(mlm, {{"1.0.weight", {16, 16}},
                    {"1.0.bias", {16}},
                    {"1.2.weight", {16}},
                    {"1.2.bias", {16}},
                    {"1.3.weight", {7, 16}},
                    {"1.3.bias", {7}}});
  TokenNet<Enc> tok;  // K = 9 by default, hidden 64
  check_names(tok, {{"1.0.weight", {64, 16, 3}},
                    {"1.0.bias", {64}},
                    {"1.2.weight", {64, 64, 3}},
                    {"1.2.bias", {64}},
                    {"1.4.weight", {9, 64}},
                    {"1.4.bias", {9}}});
  SequenceNet<Enc, 3> seq;
  check_names(seq, {{"1.0.weight", {64, 16, 3}},
                    {"1.0.bias", {64}},
                    {"1.2.weight", {64, 64, 3}},
                    {"1.2.bias", {64}},
                    {"1.5.weight", {3, 64}},
                    {"1.5.bias", {3}}});
  // the encoder's names are the same in all three networks (so "0.*" loads across them)
  const auto names = [](auto& net) {
    std::vector<std::string> v;
    for (auto& n : parameter_names(net))
      if (n.rfind("0.", 0) == 0) v.push_back(n);
    return v;
  };
  CHECK(names(mlm) == names(tok));
  CHECK(names(mlm) == names(seq));
  CHECK(names(mlm).front() == "0.1.0.0.body.0.weight");
}

TEST_CASE("MlmNet, TokenNet, SequenceNet: forward shapes and padding", "[train][model_zoo]") {
  using Enc = TinyEncoder<float>;
  CpuContext ctx(1);
  const std::vector<std::uint8_t> s0 = {0, 1, 2, 3, 0, 0, 1, 2, 3, 4}, s1 = {3, 2, 1, 0, 1, 2};
  const Tensor3<float> x = token_batch({s0, s1}, 10), x1 = token_batch({s1}, 6);

  auto check_net = [&](auto& net, int out_channels, Index out_len) {
    init_net(net, 11);
    Tensor3<float> y, y1;
    ctx.set_lengths({10, 6});
    net.forward(ctx, x, y);
    REQUIRE(y.dimension(0) == 2);
    REQUIRE(y.dimension(1) == out_channels);
    REQUIRE(y.dimension(2) == out_len);
    for (Index i = 0; i < y.size(); ++i) REQUIRE(std::isfinite(y.data()[i]));
    // sequence 1 alone gives the same outputs as inside the padded batch
    ctx.set_lengths({6});
    net.forward(ctx, x1, y1);
    const Index n1 = out_len == 1 ? 1 : 6;
    REQUIRE(y1.dimension(2) == n1);
    for (int c = 0; c < out_channels; ++c)
      for (Index l = 0; l < n1; ++l) CHECK(y(1, c, l) == Approx(y1(0, c, l)).margin(1e-5));
    // the two sequences differ, and so do their outputs
    CHECK(y(0, 0, 0) != y(1, 0, 0));
    ctx.clear_lengths();
    return y;
  };

  MlmNet<Enc> mlm;
  const auto ym = check_net(mlm, 7, 10);
  TokenNet<Enc> tok;
  const auto yt = check_net(tok, 9, 10);
  SequenceNet<Enc, 3> seq;
  check_net(seq, 3, 1);
  // per-position logits are zero at padded positions (l >= 6 of sequence 1)
  for (Index l = 6; l < 10; ++l) {
    for (int c = 0; c < 7; ++c) CHECK(ym(1, c, l) == 0.0f);
    for (int c = 0; c < 9; ++c) CHECK(yt(1, c, l) == 0.0f);
  }
}
