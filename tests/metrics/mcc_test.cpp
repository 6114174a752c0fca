#include "nucleo/metrics/mcc.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nucleo;
using Catch::Detail::Approx;

namespace {
ConfusionMatrix from_rows(int k, std::initializer_list<std::int64_t> counts, std::int64_t scale = 1) {
  ConfusionMatrix cm(k);
  int i = 0;
  for (auto c : counts) {
    cm.add(i / k, i % k, c * scale);
    ++i;
  }
  return cm;
}
}  // namespace

TEST_CASE("MCC: binary case equals the textbook formula", "[metrics][mcc]") {
  // TN = 4, FP = 1, FN = 2, TP = 3 (rows = truth 0/1)
  const auto cm = from_rows(2, {4, 1, 2, 3});
  const double expect = (3.0 * 4 - 1.0 * 2) / std::sqrt((3.0 + 1) * (3.0 + 2) * (4.0 + 1) * (4.0 + 2));
  CHECK(matthews_corrcoef(cm) == Approx(expect).epsilon(1e-15));
}

TEST_CASE("MCC: 3x3 by hand, precision and recall per class", "[metrics][mcc]") {
  const auto cm = from_rows(3, {5, 1, 0, 2, 3, 1, 0, 1, 4});
  // t = (6, 6, 5), p = (7, 5, 5), c = 12, s = 17: (12*17 - 97) / sqrt((289 - 99)(289 - 97))
  CHECK(matthews_corrcoef(cm) == Approx(107.0 / std::sqrt(190.0 * 192.0)).epsilon(1e-15));
  const auto r = mcc_report(cm, {"a", "b", "c"});
  CHECK(r.precision[0] == Approx(5.0 / 7));
  CHECK(r.precision[1] == Approx(3.0 / 5));
  CHECK(r.recall[1] == Approx(3.0 / 6));
  CHECK(r.recall[2] == Approx(4.0 / 5));
  CHECK(r.accuracy == Approx(12.0 / 17));
  CHECK(r.support == std::vector<std::int64_t>{6, 6, 5});
  const nlohmann::json j = r;
  CHECK(j["mcc"].get<double>() == r.mcc);
  CHECK(j["confusion_matrix"][1][2] == 1);
  CHECK(j["classes"][2] == "c");
  CHECK(j["recall"].size() == 3);
  CHECK(j["total"] == 17);
}

TEST_CASE("MCC: 0 when undefined, perfect and inverted", "[metrics][mcc]") {
  CHECK(matthews_corrcoef(ConfusionMatrix(9)) == 0);                   // empty
  CHECK(matthews_corrcoef(from_rows(3, {5, 0, 0, 3, 0, 0, 2, 0, 0})) == 0);  // one predicted class
  CHECK(matthews_corrcoef(from_rows(3, {0, 0, 0, 0, 0, 0, 2, 3, 4})) == 0);  // one true class
  CHECK(matthews_corrcoef(from_rows(3, {4, 0, 0, 0, 2, 0, 0, 0, 9})) == 1);
  CHECK(matthews_corrcoef(from_rows(2, {0, 5, 7, 0})) == Approx(-1).epsilon(1e-15));
  // A class that never occurs leaves MCC unchanged and gets precision = recall = 0.
  const auto r = mcc_report(from_rows(3, {5, 1, 0, 2, 3, 0, 0, 0, 0}));
  CHECK(r.mcc == Approx(matthews_corrcoef(from_rows(2, {5, 1, 2, 3}))).epsilon(1e-15));
  CHECK(r.precision[2] == 0);
  CHECK(r.recall[2] == 0);
  CHECK(r.support[2] == 0);
}

TEST_CASE("MCC: exact with huge counts (scale invariance at 10^10 samples)", "[metrics][mcc]") {
  // s^2 ~ 10^21 overflows int64 and s^4 overflows double's exact range; MCC is scale invariant.
  const auto small = from_rows(3, {5, 1, 0, 2, 3, 1, 0, 1, 4});
  const auto big = from_rows(3, {5, 1, 0, 2, 3, 1, 0, 1, 4}, 600'000'007);
  CHECK(big.total() == 17LL * 600'000'007);
  CHECK(matthews_corrcoef(big) == Approx(matthews_corrcoef(small)).epsilon(1e-15));
  // Nearly perfect with 10^9 per class: 1 - tiny, not rounded to 1 or broken by cancellation.
  const auto near = from_rows(2, {1'000'000'000, 1, 0, 1'000'000'000});
  const double m = matthews_corrcoef(near);
  CHECK(m < 1.0);
  CHECK(1.0 - m == Approx(1e-9).epsilon(1e-3));
}
