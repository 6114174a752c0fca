#include "nucleo/metrics/score_collector.hpp"

#include <catch2/catch.hpp>

#include "nucleo/metrics/auroc.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace nucleo;

namespace {

template <class T>
std::vector<T> scores_of(const ScoreCollector<T>& c, Index k) {
  const auto s = c.scores(k);
  return {s.begin(), s.end()};
}
template <class T>
std::vector<int> targets_of(const ScoreCollector<T>& c, Index k) {
  const auto t = c.targets(k);
  return {t.begin(), t.end()};
}

}  // namespace

TEST_CASE("ScoreCollector: construction, names and bad arguments", "[metrics][score_collector]") {
  ScoreCollector<> unnamed(3);
  CHECK(unnamed.num_labels() == 3);
  CHECK(unnamed.label_names().empty());
  CHECK(unnamed.label_name(2) == "2");
  for (Index k = 0; k < 3; ++k) CHECK(unnamed.size(k) == 0);

  ScoreCollector<> named(2, {"H3K4me3", "CTCF"});
  CHECK(named.label_name(0) == "H3K4me3");
  CHECK(named.label_name(1) == "CTCF");

  CHECK_THROWS_WITH(ScoreCollector<>(0), Catch::Contains("num_labels must be > 0, got 0"));
  // Checked before anything is sized: not a std::length_error from a vector of size_t(-1).
  CHECK_THROWS_AS(ScoreCollector<>(-1), ConfigError);
  CHECK_THROWS_WITH(ScoreCollector<>(-1), Catch::Contains("num_labels must be > 0, got -1"));
  CHECK_THROWS_WITH(ScoreCollector<>(3, {"a", "b"}), Catch::Contains("2 label names for 3 labels"));
}

TEST_CASE("ScoreCollector::add: pairs per label in call order, bad label and NaN rejected", "[metrics][score_collector]") {
  ScoreCollector<double> c(2, {"a", "b"});
  c.add(1, 0.5, true);
  c.add(0, -2.0, false);
  c.add(1, 3.0, false);
  CHECK(c.size(0) == 1);
  CHECK(c.size(1) == 2);
  CHECK(scores_of(c, 0) == std::vector<double>{-2.0});
  CHECK(targets_of(c, 0) == std::vector<int>{0});
  CHECK(scores_of(c, 1) == std::vector<double>{0.5, 3.0});
  CHECK(targets_of(c, 1) == std::vector<int>{1, 0});

  CHECK_THROWS_WITH(c.add(2, 1.0, true), Catch::Contains("label 2 is outside [0, 2)"));
  CHECK_THROWS_WITH(c.add(-1, 1.0, true), Catch::Contains("label -1 is outside [0, 2)"));
  CHECK_THROWS_WITH(c.add(1, std::numeric_limits<double>::quiet_NaN(), true),
                    Catch::Contains("NaN score for label b"));
  // A rejected pair leaves nothing behind.
  CHECK(c.size(1) == 2);
  // Infinite logits are valid scores (they order fine).
  c.add(0, std::numeric_limits<double>::infinity(), true);
  CHECK(c.size(0) == 2);
}

TEST_CASE("ScoreCollector<float> stores scores rounded to float", "[metrics][score_collector]") {
  ScoreCollector<float> c(1);
  Tensor3<double> s(1, 1, 1);
  s(0, 0, 0) = 0.1;
  MultiLabels<double> y(1, 1);
  y << 1;
  c.add_batch(s, y);
  CHECK(c.scores(0)[0] == 0.1f);
  CHECK(static_cast<double>(c.scores(0)[0]) != 0.1);  // 0.1 is not a float
}

TEST_CASE("ScoreCollector::add_batch: one score per sequence and label against multi-hot targets", "[metrics][score_collector]") {
  Tensor3<float> scores(2, 3, 1);
  // sequence 0: 0.1 0.2 0.3, sequence 1: 1.1 1.2 1.3
  for (Index b = 0; b < 2; ++b)
    for (Index k = 0; k < 3; ++k) scores(b, k, 0) = static_cast<float>(b) + 0.1f * static_cast<float>(k + 1);
  MultiLabels<float> y(2, 3);
  y << 1, 0, 0,  //
      0, 0, 1;
  ScoreCollector<> c(3);
  c.add_batch(scores, y);
  c.add_batch(scores, y);  // appends
  CHECK(scores_of(c, 0) == std::vector<float>{scores(0, 0, 0), scores(1, 0, 0), scores(0, 0, 0), scores(1, 0, 0)});
  CHECK(targets_of(c, 0) == std::vector<int>{1, 0, 1, 0});
  CHECK(targets_of(c, 1) == std::vector<int>{0, 0, 0, 0});
  CHECK(scores_of(c, 2) == std::vector<float>{scores(0, 2, 0), scores(1, 2, 0), scores(0, 2, 0), scores(1, 2, 0)});
  CHECK(targets_of(c, 2) == std::vector<int>{0, 1, 0, 1});

  // Double scores and targets into a float collector.
  Tensor3<double> sd(1, 3, 1);
  sd.setValues({{{0.25}, {0.5}, {0.75}}});
  MultiLabels<double> yd(1, 3);
  yd << 0, 1, 1;
  c.add_batch(sd, yd);
  CHECK(c.scores(1).back() == 0.5f);
  CHECK(c.targets(1).back() == 1);

  SECTION("bad shapes and targets") {
    ScoreCollector<> d(3);
    Tensor3<float> wrong_l(2, 3, 4);
    wrong_l.setZero();
    CHECK_THROWS_WITH(d.add_batch(wrong_l, y), Catch::Contains("scores must be [B, 3, 1], got [2, 3, 4]"));
    Tensor3<float> wrong_k(2, 2, 1);
    wrong_k.setZero();
    const MultiLabels<float> y22 = MultiLabels<float>::Zero(2, 2), y33 = MultiLabels<float>::Zero(3, 3);
    CHECK_THROWS_WITH(d.add_batch(wrong_k, y22), Catch::Contains("scores must be [B, 3, 1], got [2, 2, 1]"));
    CHECK_THROWS_WITH(d.add_batch(scores, y33),
                      Catch::Contains("targets are [3, 3], scores need [2, 3]"));
    CHECK(d.size(0) == 0);  // a shape error adds nothing
    MultiLabels<float> soft = y;
    soft(1, 2) = 0.5f;
    CHECK_THROWS_WITH(d.add_batch(scores, soft),
                      Catch::Contains("target 0.5 at (sequence 1, label 2) is not 0 or 1"));
  }
}

TEST_CASE("ScoreCollector::add_positions: skips -100 and positions beyond each length", "[metrics][score_collector]") {
  Tensor3<float> s(2, 1, 4);
  s.setValues({{{0.f, 1.f, 2.f, 3.f}}, {{10.f, 11.f, 12.f, 13.f}}});
  Labels y(2, 4);
  y << 1, ignore_index, 0, 1,  //
      0, 1, 1, 1;
  ScoreCollector<> c(1);
  const std::vector<Index> lengths = {4, 2};
  c.add_positions(s, y, lengths);
  // sequence 0: positions 0, 2, 3 (1 is -100); sequence 1: positions 0, 1 (length 2)
  CHECK(scores_of(c, 0) == std::vector<float>{0.f, 2.f, 3.f, 10.f, 11.f});
  CHECK(targets_of(c, 0) == std::vector<int>{1, 0, 1, 0, 1});

  ScoreCollector<> all(1);
  all.add_positions(s, y);  // no lengths: every position
  CHECK(all.size(0) == 7);
  // A length beyond L is clipped to L.
  ScoreCollector<> clipped(1);
  const std::vector<Index> long_lengths = {9, 9};
  clipped.add_positions(s, y, long_lengths);
  CHECK(clipped.size(0) == 7);

  ScoreCollector<> two(2);
  CHECK_THROWS_WITH(two.add_positions(s, y), Catch::Contains("needs a one-label collector") &&
                                                 Catch::Contains("got 2 labels and [2, 1, 4]"));
  CHECK_THROWS_WITH(c.add_positions(s, Labels::Zero(2, 3)), Catch::Contains("targets are [2, 3], scores need [2, 4]"));
  const std::vector<Index> three = {1, 2, 3};
  CHECK_THROWS_WITH(c.add_positions(s, y, three), Catch::Contains("3 lengths for a batch of 2"));
  Labels bad = y;
  bad(1, 0) = 2;
  CHECK_THROWS_WITH(c.add_positions(s, bad), Catch::Contains("target 2 at (sequence 1, position 0) is not 0, 1 or -100"));
}

TEST_CASE("ScoreCollector: += appends label by label, clear empties, and AUROC sees the merged pairs",
          "[metrics][score_collector]") {
  ScoreCollector<double> a(2), b(2);
  a.add(0, 0.1, false);
  a.add(0, 0.4, false);
  a.add(1, 5.0, true);
  b.add(0, 0.35, true);
  b.add(0, 0.8, true);
  b.add(1, 1.0, false);
  a += b;
  CHECK(scores_of(a, 0) == std::vector<double>{0.1, 0.4, 0.35, 0.8});
  CHECK(targets_of(a, 0) == std::vector<int>{0, 0, 1, 1});
  CHECK(scores_of(a, 1) == std::vector<double>{5.0, 1.0});
  CHECK(b.size(0) == 2);  // the source is unchanged
  // Label 0 is the textbook case: 3 of 4 (positive, negative) pairs ordered right -> 0.75.
  // Label 1: one positive above one negative -> 1.
  const auto r = auroc(a);
  CHECK(*r.values[0] == 0.75);
  CHECK(*r.values[1] == 1.0);
  // Neither collector alone has both classes in label 0.
  CHECK_FALSE(auroc(b).values[0].has_value());

  CHECK_THROWS_WITH(a += ScoreCollector<double>(3), Catch::Contains("cannot merge 3 labels into 2"));

  a.reserve(100);
  CHECK(a.size(0) == 4);  // reserve keeps the content
  a.clear();
  CHECK(a.size(0) == 0);
  CHECK(a.size(1) == 0);
  CHECK(a.num_labels() == 2);
}
