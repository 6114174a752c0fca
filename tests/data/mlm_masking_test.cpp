#include "nucleo/data/mlm_masking.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/context.hpp"
#include "nucleo/data/batcher.hpp"

#include <array>
#include <cmath>
#include <vector>

using namespace nucleo;

namespace {
// 4 sigma of a binomial proportion p estimated from n draws.
double tol(double p, double n) { return 4.0 * std::sqrt(p * (1 - p) / n); }

std::vector<Example> random_examples(int n, int min_len, int max_len, std::uint64_t seed) {
  Rng r(seed);
  std::vector<Example> ex(static_cast<std::size_t>(n));
  for (auto& e : ex) {
    e.tokens.resize(static_cast<std::size_t>(min_len + static_cast<int>(r.uniform_int(max_len - min_len + 1))));
    for (auto& t : e.tokens) t = static_cast<std::uint8_t>(r.uniform_int(5));  // A C G T N
  }
  return ex;
}
}  // namespace

TEST_CASE("MlmMasking: proportions on 10^6 tokens (15% selected, 80/10/10, uniform replacements, no PAD)",
          "[data][mlm_masking]") {
  const MlmMasking masking(MlmMaskingOptions{});  // paper defaults: 0.15, 0.8, 0.1
  const int n_seq = 1000, len = 1100;
  Rng gen(42);
  double non_pad = 0, selected = 0, to_mask = 0, pad_touched = 0, bad_target = 0;
  double selected_acgt = 0, unchanged = 0, to_other = 0;  // over selected A/C/G/T originals
  std::array<std::array<double, 7>, 5> out_by_orig{};  // [original][output] over selected positions
  std::array<double, 5> sel_by_orig{};
  std::vector<std::uint8_t> ids(len), orig(len);
  std::vector<std::int32_t> targets(len);
  for (int s = 0; s < n_seq; ++s) {
    const int valid = 900 + static_cast<int>(gen.uniform_int(201));  // the tail is [PAD]
    for (int i = 0; i < len; ++i)
      ids[i] = orig[i] = i < valid ? static_cast<std::uint8_t>(gen.uniform_int(5)) : tokens::pad;
    masking.apply(ids, targets, /*epoch=*/3, /*example_id=*/static_cast<std::uint64_t>(s));
    for (int i = 0; i < len; ++i) {
      if (orig[i] == tokens::pad) {
        pad_touched += (ids[i] != tokens::pad) || (targets[i] != ignore_index);
        continue;
      }
      ++non_pad;
      if (targets[i] == ignore_index) {
        bad_target += ids[i] != orig[i];  // not selected: must be untouched
        continue;
      }
      bad_target += targets[i] != orig[i];
      ++selected;
      ++sel_by_orig[orig[i]];
      ++out_by_orig[orig[i]][ids[i]];
      if (ids[i] == tokens::mask) ++to_mask;
      if (orig[i] == tokens::N) continue;
      ++selected_acgt;
      if (ids[i] == orig[i]) ++unchanged;
      else if (ids[i] != tokens::mask) ++to_other;
    }
  }
  REQUIRE(non_pad > 900000);
  CHECK(pad_touched == 0);
  CHECK(bad_target == 0);
  CHECK(std::abs(selected / non_pad - 0.15) < tol(0.15, non_pad));
  CHECK(std::abs(to_mask / selected - 0.8) < tol(0.8, selected));
  // Random branch (10%) picks each of A/C/G/T with 1/4, so an A/C/G/T original survives it 1/4 of
  // the time: unchanged 0.1 + 0.025, changed to another nucleotide 0.075.
  CHECK(std::abs(unchanged / selected_acgt - 0.125) < tol(0.125, selected_acgt));
  CHECK(std::abs(to_other / selected_acgt - 0.075) < tol(0.075, selected_acgt));
  // Replacements are uniform over A, C, G, T, never N/MASK-by-random/PAD.
  for (int o = 0; o < 5; ++o) {
    for (int x = 0; x < 4; ++x) {
      if (x == o) continue;
      CHECK(std::abs(out_by_orig[o][x] / sel_by_orig[o] - 0.025) < tol(0.025, sel_by_orig[o]));
    }
    CHECK(out_by_orig[o][tokens::pad] == 0);
  }
  // A selected N is kept as N only by the "unchanged" branch (10%).
  CHECK(std::abs(out_by_orig[4][4] / sel_by_orig[4] - 0.1) < tol(0.1, sel_by_orig[4]));
}

TEST_CASE("MlmMasking: p = 0 changes nothing, p = 1 with mask_fraction = 1 masks every non-pad token",
          "[data][mlm_masking]") {
  std::vector<std::uint8_t> ids = tokens::encode("ACGTNACGT");
  ids.push_back(tokens::pad);
  const auto orig = ids;
  std::vector<std::int32_t> targets(ids.size(), 7);
  MlmMasking(MlmMaskingOptions{0.0, 0.8, 0.1, 1}).apply(ids, targets, 0, 0);
  CHECK(ids == orig);
  CHECK(targets == std::vector<std::int32_t>(ids.size(), ignore_index));

  MlmMasking(MlmMaskingOptions{1.0, 1.0, 0.0, 1}).apply(ids, targets, 0, 0);
  CHECK(ids == std::vector<std::uint8_t>{5, 5, 5, 5, 5, 5, 5, 5, 5, 6});
  CHECK(targets == std::vector<std::int32_t>{0, 1, 2, 3, 4, 0, 1, 2, 3, -100});
}

TEST_CASE("MlmMasking: batch masking keyed by (epoch, example id): same for 1 and 2 threads, any batch row",
          "[data][mlm_masking]") {
  const auto ex = random_examples(64, 20, 300, 5);
  BatcherOptions bo;
  bo.batch_size = 16;
  bo.max_length = 200;
  bo.seed = 11;
  const Batcher batcher(ex, bo);
  const MlmMasking masking(MlmMaskingOptions{0.15, 0.8, 0.1, 99});
  CpuContext one(1), two(2);
  for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
    for (Index k = 0; k < batcher.batches_per_epoch(); ++k) {
      Batch a = batcher.batch({epoch, k}), b = batcher.batch({epoch, k}), c = batcher.batch({epoch, k});
      masking.apply(one, a);
      masking.apply(two, b);
      masking.apply(c);
      REQUIRE(a.labels.rows() == a.size());
      REQUIRE(a.labels.cols() == a.length());
      CHECK((a.labels == b.labels).all());
      CHECK((a.labels == c.labels).all());
      for (Index i = 0; i < a.tokens.size(); ++i) {
        REQUIRE(a.tokens.data()[i] == b.tokens.data()[i]);
        REQUIRE(a.tokens.data()[i] == c.tokens.data()[i]);
      }
      // Each row equals masking its (cropped) example alone with the same (epoch, id).
      const Batch clean = batcher.batch({epoch, k});
      for (Index r = 0; r < a.size(); ++r) {
        const Index len = a.lengths[static_cast<std::size_t>(r)];
        std::vector<std::uint8_t> ids(static_cast<std::size_t>(len));
        for (Index l = 0; l < len; ++l) ids[static_cast<std::size_t>(l)] = static_cast<std::uint8_t>(clean.tokens(r, 0, l));
        std::vector<std::int32_t> t(ids.size());
        masking.apply(ids, t, epoch, static_cast<std::uint64_t>(a.example_ids[static_cast<std::size_t>(r)]));
        for (Index l = 0; l < a.length(); ++l) {
          if (l < len) {
            REQUIRE(a.tokens(r, 0, l) == ids[static_cast<std::size_t>(l)]);
            REQUIRE(a.labels(r, l) == t[static_cast<std::size_t>(l)]);
          } else {
            REQUIRE(a.tokens(r, 0, l) == tokens::pad);
            REQUIRE(a.labels(r, l) == ignore_index);
          }
        }
      }
    }
  }
}

TEST_CASE("MlmMasking: different epochs, examples and seeds give different masks", "[data][mlm_masking]") {
  const std::vector<std::uint8_t> base(2000, tokens::A);
  auto run = [&](std::uint64_t seed, std::uint64_t epoch, std::uint64_t id) {
    auto ids = base;
    std::vector<std::int32_t> t(ids.size());
    MlmMasking(MlmMaskingOptions{0.15, 0.8, 0.1, seed}).apply(ids, t, epoch, id);
    return t;
  };
  const auto ref = run(1, 0, 0);
  CHECK(run(1, 0, 0) == ref);
  CHECK(run(1, 1, 0) != ref);
  CHECK(run(1, 0, 1) != ref);
  CHECK(run(2, 0, 0) != ref);
}

TEST_CASE("MlmMasking: invalid options and mismatched sizes throw", "[data][mlm_masking]") {
  CHECK_THROWS_AS(MlmMasking(MlmMaskingOptions{1.5, 0.8, 0.1, 0}), ConfigError);
  CHECK_THROWS_AS(MlmMasking(MlmMaskingOptions{0.15, 0.8, 0.3, 0}), ConfigError);
  CHECK_THROWS_AS(MlmMasking(MlmMaskingOptions{0.15, -0.1, 0.1, 0}), ConfigError);
  std::vector<std::uint8_t> ids(3, 0);
  std::vector<std::int32_t> t(2);
  CHECK_THROWS_AS(MlmMasking().apply(ids, t, 0, 0), ShapeError);
}
