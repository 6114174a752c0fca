#include "nucleo/data/synthetic_multilabel.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

using namespace nucleo;

namespace {
SyntheticMultilabelOptions small(std::uint64_t seed = 7) {
  SyntheticMultilabelOptions o;
  o.num_sequences = 400;
  o.seed = seed;
  return o;
}
}  // namespace

TEST_CASE("SyntheticMultilabel: is named synthetic everywhere", "[data][synthetic_multilabel]") {
  const SyntheticMultilabel d(small());
  CHECK(std::string(SyntheticMultilabel::name()).find("synthetic") != std::string::npos);
  CHECK(d.description().rfind("SYNTHETIC", 0) == 0);
  CHECK(d.description().find("400 sequences of 512 bp, 8 labels") != std::string::npos);
}

TEST_CASE("SyntheticMultilabel: label k is positive iff motif k occurs (no noise)", "[data][synthetic_multilabel]") {
  for (int motif_len : {6, 8}) {
    for (double gc : {0.41, 0.8}) {
      auto o = small();
      o.motif_min = o.motif_max = motif_len;  // 6-mers occur by chance often: the cleanup must work
      o.gc_content = gc;
      const SyntheticMultilabel d(o);
      INFO("motif length " << motif_len << ", gc " << gc);
      REQUIRE(d.size() == 400);
      REQUIRE(d.motifs().size() == 8);
      Index wrong = 0, positives = 0, gc_count = 0;
      for (Index i = 0; i < d.size(); ++i) {
        const std::string& s = d.sequences()[static_cast<std::size_t>(i)];
        REQUIRE(s.size() == 512);
        REQUIRE(s.find_first_not_of("ACGT") == std::string::npos);
        for (char c : s) gc_count += c == 'G' || c == 'C';
        for (int k = 0; k < 8; ++k) {
          const bool occurs = s.find(d.motifs()[static_cast<std::size_t>(k)]) != std::string::npos;
          const auto label = d.clean_labels()[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)];
          wrong += occurs != (label == 1);
          positives += label;
          REQUIRE(d.labels()[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)] == label);
        }
      }
      CHECK(wrong == 0);
      const double n = 400.0 * 8;
      CHECK(std::abs(positives / n - 0.3) < 4 * std::sqrt(0.3 * 0.7 / n));
      // Motif bases shift the composition a little; the background dominates.
      CHECK(std::abs(gc_count / (400.0 * 512) - gc) < 0.03);
    }
  }
}

TEST_CASE("SyntheticMultilabel: motifs are 6..8-mers, none inside another", "[data][synthetic_multilabel]") {
  auto o = small();
  o.num_labels = 18;
  o.max_copies = 1;
  const SyntheticMultilabel d(o);
  REQUIRE(d.motifs().size() == 18);
  for (std::size_t a = 0; a < 18; ++a) {
    const auto& m = d.motifs()[a];
    CHECK(m.size() >= 6);
    CHECK(m.size() <= 8);
    for (std::size_t b = 0; b < 18; ++b)
      if (a != b) CHECK(d.motifs()[b].find(m) == std::string::npos);
  }
}

TEST_CASE("SyntheticMultilabel: deterministic from the seed, sequence i independent of the count",
          "[data][synthetic_multilabel]") {
  const SyntheticMultilabel a(small(7)), b(small(7)), c(small(8));
  CHECK(a.sequences() == b.sequences());
  CHECK(a.labels() == b.labels());
  CHECK(a.splits() == b.splits());
  CHECK(a.motifs() == b.motifs());
  CHECK(a.sequences() != c.sequences());
  CHECK(a.motifs() != c.motifs());
  auto fewer = small(7);
  fewer.num_sequences = 50;
  const SyntheticMultilabel f(fewer);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(f.sequences()[i] == a.sequences()[i]);
    CHECK(f.labels()[i] == a.labels()[i]);
  }
}

TEST_CASE("SyntheticMultilabel: label noise flips labels at the given rate, sequences unchanged",
          "[data][synthetic_multilabel]") {
  auto o = small();
  o.num_sequences = 1000;
  const SyntheticMultilabel clean(o);
  o.label_noise = 0.1;
  const SyntheticMultilabel noisy(o);
  CHECK(noisy.sequences() == clean.sequences());
  CHECK(noisy.clean_labels() == clean.labels());
  double flipped = 0;
  for (std::size_t i = 0; i < 1000; ++i)
    for (std::size_t k = 0; k < 8; ++k) flipped += noisy.labels()[i][k] != noisy.clean_labels()[i][k];
  const double n = 8000;
  CHECK(std::abs(flipped / n - 0.1) < 4 * std::sqrt(0.1 * 0.9 / n));
}

TEST_CASE("SyntheticMultilabel: train/valid/test split sizes and Batcher examples", "[data][synthetic_multilabel]") {
  auto o = small();
  o.num_sequences = 1000;
  o.valid_fraction = 0.15;
  o.test_fraction = 0.2;
  const SyntheticMultilabel d(o);
  const auto train = d.indices("train"), valid = d.indices("valid"), test = d.indices("test");
  CHECK(train.size() == 650);
  CHECK(valid.size() == 150);
  CHECK(test.size() == 200);
  std::set<Index> all(train.begin(), train.end());
  all.insert(valid.begin(), valid.end());
  all.insert(test.begin(), test.end());
  CHECK(all.size() == 1000);
  const auto ex = d.examples("valid");
  REQUIRE(ex.size() == 150);
  CHECK(ex[3].tokens == tokens::encode(d.sequences()[static_cast<std::size_t>(valid[3])]));
  CHECK(ex[3].multilabels == d.labels()[static_cast<std::size_t>(valid[3])]);
  CHECK(ex[3].labels.empty());
  CHECK_THROWS_AS(d.indices("validation"), ConfigError);
}

TEST_CASE("SyntheticMultilabel: impossible options are rejected", "[data][synthetic_multilabel]") {
  auto o = small();
  o.length = 100;  // 8 labels x 2 copies x 8-mers do not fit
  CHECK_THROWS_WITH(SyntheticMultilabel(o), Catch::Contains("too short"));
  o = small();
  o.motif_min = 9;
  o.motif_max = 6;
  CHECK_THROWS_AS(SyntheticMultilabel(o), ConfigError);
  o = small();
  o.valid_fraction = 0.7;
  o.test_fraction = 0.5;
  CHECK_THROWS_AS(SyntheticMultilabel(o), ConfigError);
}
