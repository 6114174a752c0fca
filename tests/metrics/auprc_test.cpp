#include "nucleo/metrics/auprc.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/rng.hpp"

#include <vector>

using namespace nucleo;
using Catch::Detail::Approx;

using U8 = std::vector<std::uint8_t>;

TEST_CASE("average_precision_score: by hand, with ties", "[metrics][auprc]") {
  // Descending: 0.8 (+) P=1 R=1/2; 0.4 (-); 0.35 (+) P=2/3 R=1 -> 1/2 * 1 + 1/2 * 2/3
  CHECK(*average_precision_score(std::vector<double>{0.1, 0.4, 0.35, 0.8}, U8{0, 0, 1, 1}) ==
        Approx(0.5 + 1.0 / 3).epsilon(1e-15));
  // All tied: one threshold, P = 2/4, R jumps 0 -> 1.
  CHECK(*average_precision_score(std::vector<double>(4, 0.5), U8{1, 0, 1, 0}) == 0.5);
  // A tie group is one step: {0.9: +,-} then {0.1: +}: 1/2 * 1/2 + 1/2 * 2/3
  CHECK(*average_precision_score(std::vector<double>{0.9, 0.9, 0.1}, U8{1, 0, 1}) ==
        Approx(0.25 + 1.0 / 3).epsilon(1e-15));
  CHECK(*average_precision_score(std::vector<float>{0.2f, 0.7f}, U8{1, 1}) == 1.0);  // only positives
  CHECK_FALSE(average_precision_score(std::vector<double>{0.2, 0.7}, U8{0, 0}).has_value());
}

TEST_CASE("average_precision_score: equals the definition computed element by element", "[metrics][auprc]") {
  Rng rng(8);
  std::vector<double> s(200);
  U8 y(200);
  for (std::size_t i = 0; i < s.size(); ++i) {
    y[i] = rng.bernoulli(0.25);
    s[i] = static_cast<double>(rng.uniform_int(20)) + (y[i] ? 4.0 : 0.0);  // heavy ties
  }
  // Definition with thresholds = distinct scores: AP = sum_t (R_t - R_{t-1}) P_t.
  std::vector<double> thr(s);
  std::sort(thr.begin(), thr.end(), std::greater<>());
  thr.erase(std::unique(thr.begin(), thr.end()), thr.end());
  double P = 0;
  for (auto v : y) P += v;
  double ap = 0, r_prev = 0;
  for (double t : thr) {
    double tp = 0, pp = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i] >= t) {
        ++pp;
        tp += y[i];
      }
    ap += (tp / P - r_prev) * (tp / pp);
    r_prev = tp / P;
  }
  CHECK(*average_precision_score(s, y) == Approx(ap).epsilon(1e-13));
}

TEST_CASE("auprc: per-label report, label without positives left out", "[metrics][auprc]") {
  ScoreCollector<double> c(2, {"enhancer", "empty"});
  for (double v : {0.1, 0.4, 0.35, 0.8}) c.add(1, v, false);
  const double s[] = {0.1, 0.4, 0.35, 0.8};
  const bool y[] = {false, false, true, true};
  for (int i = 0; i < 4; ++i) c.add(0, s[i], y[i]);
  const auto r = auprc(c);
  CHECK(*r.values[0] == Approx(0.5 + 1.0 / 3));
  CHECK_FALSE(r.values[1].has_value());
  CHECK(r.mean == *r.values[0]);
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("'empty'"));
  CHECK(r.metric == "average_precision");
}
