#include "nucleo/metrics/auroc.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/context.hpp"
#include "nucleo/core/rng.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace nucleo;
using Catch::Detail::Approx;

using U8 = std::vector<std::uint8_t>;

TEST_CASE("roc_auc_score: the textbook example and ties", "[metrics][auroc]") {
  CHECK(*roc_auc_score(std::vector<double>{0.1, 0.4, 0.35, 0.8}, U8{0, 0, 1, 1}) == 0.75);
  // Ties count 1/2: pos 1.0 vs neg 1.0 -> 1/2, pos 2.0 vs neg 1.0 -> 1.
  CHECK(*roc_auc_score(std::vector<double>{1, 1, 2}, U8{0, 1, 1}) == 0.75);
  CHECK(*roc_auc_score(std::vector<double>(6, 0.5), U8{0, 1, 0, 1, 1, 0}) == 0.5);
  CHECK(*roc_auc_score(std::vector<double>{3, 2, 1}, U8{1, 1, 0}) == 1.0);
  CHECK(*roc_auc_score(std::vector<double>{3, 2, 1}, U8{0, 0, 1}) == 0.0);
  // float scores, same answer
  CHECK(*roc_auc_score(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, U8{0, 0, 1, 1}) == 0.75);
}

TEST_CASE("roc_auc_score: equals the brute-force pair count", "[metrics][auroc]") {
  Rng rng(17);
  std::vector<double> s(300);
  U8 y(300);
  for (std::size_t i = 0; i < s.size(); ++i) {
    y[i] = rng.bernoulli(0.3);
    s[i] = std::round((rng.normal() + y[i]) * 4) / 4;  // many ties
  }
  double wins = 0;
  long pairs = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (y[i] && !y[j]) {
        ++pairs;
        wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      }
  CHECK(*roc_auc_score(s, y) == Approx(wins / pairs).epsilon(1e-14));
}

TEST_CASE("roc_auc_score: one class only is undefined, NaN scores are refused", "[metrics][auroc]") {
  CHECK_FALSE(roc_auc_score(std::vector<double>{0.2, 0.3}, U8{1, 1}).has_value());
  CHECK_FALSE(roc_auc_score(std::vector<double>{0.2, 0.3}, U8{0, 0}).has_value());
  CHECK_FALSE(roc_auc_score(std::vector<double>{}, U8{}).has_value());
  CHECK_THROWS_AS(roc_auc_score(std::vector<double>{0.2, NAN}, U8{0, 1}), ShapeError);
  CHECK_THROWS_AS(roc_auc_score(std::vector<double>{0.2}, U8{0, 1}), ShapeError);
}

TEST_CASE("auroc: per-label report from streamed batches, undefined label left out with a warning",
          "[metrics][auroc]") {
  ScoreCollector<double> c(3, {"H3K4me3", "H3K27ac", "H3K9me3"});
  // Two batches of 2 sequences; label 2 never positive.
  Tensor3<double> s1(2, 3, 1), s2(2, 3, 1);
  MultiLabels<double> y1(2, 3), y2(2, 3);
  s1(0, 0, 0) = 0.1; s1(1, 0, 0) = 0.4; s2(0, 0, 0) = 0.35; s2(1, 0, 0) = 0.8;  // label 0: 0.75
  s1(0, 1, 0) = 1;   s1(1, 1, 0) = 1;   s2(0, 1, 0) = 2;    s2(1, 1, 0) = 0;    // label 1
  s1(0, 2, 0) = 5;   s1(1, 2, 0) = 6;   s2(0, 2, 0) = 7;    s2(1, 2, 0) = 8;
  y1 << 0, 0, 0,
        0, 1, 0;
  y2 << 1, 1, 0,
        1, 0, 0;
  c.add_batch(s1, y1);
  c.add_batch(s2, y2);
  CHECK(c.size(0) == 4);
  const auto r = auroc(c);
  REQUIRE(r.values.size() == 3);
  CHECK(*r.values[0] == 0.75);
  // label 1: positives {1, 2}, negatives {1, 0}: (1 vs 1: 1/2, 1 vs 0: 1, 2 vs 1: 1, 2 vs 0: 1) / 4
  CHECK(*r.values[1] == 0.875);
  CHECK_FALSE(r.values[2].has_value());
  CHECK(r.defined == 2);
  CHECK(r.mean == (0.75 + 0.875) / 2);
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("H3K9me3") && Catch::Contains("0 positive"));
  const nlohmann::json j = r;
  CHECK(j["values"][2].is_null());
  CHECK(j["labels"][0] == "H3K4me3");
  CHECK(j["metric"] == "auroc");

  // No defined label: mean is NaN (null in JSON).
  ScoreCollector<double> none(1);
  none.add(0, 0.3, true);
  const auto rn = auroc(none);
  CHECK(std::isnan(rn.mean));
  CHECK(nlohmann::json(rn)["mean"].is_null());
}

TEST_CASE("auroc: parallel over labels gives the same report, float collector", "[metrics][auroc]") {
  ScoreCollector<float> c(7);
  Rng rng(5);
  for (int i = 0; i < 500; ++i)
    for (Index k = 0; k < 7; ++k) {
      const bool y = rng.bernoulli(0.1 + 0.1 * k);
      c.add(k, static_cast<float>(rng.normal() + (y ? 0.3 * k : 0.0)), y);
    }
  CpuContext ctx(2);
  const auto a = auroc(c), b = auroc(c, ctx);
  CHECK(a.values == b.values);
  CHECK(a.mean == b.mean);
  CHECK(*a.values[6] > *a.values[1]);
  ScoreCollector<float> merged(7), part(7);
  merged += c;
  CHECK(auroc(merged).values == a.values);
  CHECK_THROWS_AS(merged += ScoreCollector<float>(2), ShapeError);
  CHECK_THROWS_AS(c.add(7, 0.f, true), ShapeError);
}

TEST_CASE("ScoreCollector: flattened per-position scores skip -100 and padding", "[metrics][auroc]") {
  ScoreCollector<double> c(1);
  Tensor3<double> s(2, 1, 3);
  s(0, 0, 0) = 0.1; s(0, 0, 1) = 0.4; s(0, 0, 2) = 0.9;
  s(1, 0, 0) = 0.35; s(1, 0, 1) = 0.8; s(1, 0, 2) = 0.0;
  Labels y(2, 3);
  y << 0, 0, ignore_index,
       1, 1, 0;
  c.add_positions(s, y, std::vector<Index>{3, 2});
  CHECK(c.size(0) == 4);
  CHECK(*auroc(c).values[0] == 0.75);
  y(0, 0) = 2;
  CHECK_THROWS_AS(c.add_positions(s, y), ShapeError);
  MultiLabels<double> bad(2, 1);
  bad << 0.5, 1;
  Tensor3<double> sb(2, 1, 1);
  sb.setZero();
  CHECK_THROWS_AS(c.add_batch(sb, bad), ShapeError);
}
