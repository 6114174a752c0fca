#include "nucleo/metrics/per_label_report.hpp"

#include <catch2/catch.hpp>

#include "nucleo/metrics/auprc.hpp"
#include "nucleo/metrics/auroc.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

using namespace nucleo;
using Catch::Detail::Approx;

namespace {

PerLabelReport report_of(std::vector<std::optional<double>> values) {
  PerLabelReport r;
  r.metric = "auroc";
  for (std::size_t k = 0; k < values.size(); ++k) r.labels.push_back("L" + std::to_string(k));
  r.values = std::move(values);
  return r;
}

// Four labels by hand (scores, 0/1 targets), named like BEND's histone labels:
//   H3K4me3  {0.1, 0.4, 0.35, 0.8} vs {0, 0, 1, 1}: AUROC 3/4 (pairs won 3 of 4); AP 1/2*1 + 1/2*2/3 = 5/6
//   CTCF     {1, 2, 3} vs {0, 0, 0}: no positive -> AUROC and AP undefined
//   DNase    {3, 2, 1} vs {0, 1, 1}: AUROC 0 (the negative outranks both); AP 1/2*1/2 + 1/2*2/3 = 7/12
//   all_pos  {0.2, 0.7} vs {1, 1}: no negative -> AUROC undefined, AP 1
// (sklearn: roc_auc_score / average_precision_score per column give the same defined values.)
ScoreCollector<double> four_labels() {
  ScoreCollector<double> c(4, {"H3K4me3", "CTCF", "DNase", "all_pos"});
  const std::vector<std::vector<std::pair<double, bool>>> data = {
      {{0.1, false}, {0.4, false}, {0.35, true}, {0.8, true}},
      {{1, false}, {2, false}, {3, false}},
      {{3, false}, {2, true}, {1, true}},
      {{0.2, true}, {0.7, true}}};
  for (Index k = 0; k < 4; ++k)
    for (const auto& [s, y] : data[static_cast<std::size_t>(k)]) c.add(k, s, y);
  return c;
}

}  // namespace

TEST_CASE("PerLabelReport::finish: unweighted mean over defined labels only", "[metrics][per_label_report]") {
  auto r = report_of({0.5, std::nullopt, 1.0, 0.25});
  r.finish();
  CHECK(r.defined == 3);
  CHECK(r.mean == Approx(1.75 / 3).epsilon(1e-15));  // not 1.75 / 4: the undefined label is left out

  // finish() recomputes from scratch: stale counts are overwritten, a second call changes nothing.
  r.defined = 99;
  r.mean = -1;
  r.finish();
  CHECK(r.defined == 3);
  CHECK(r.mean == Approx(1.75 / 3).epsilon(1e-15));
  r.values[1] = 0.0;  // a defined value of 0 counts (it is not "undefined")
  r.finish();
  CHECK(r.defined == 4);
  CHECK(r.mean == Approx(1.75 / 4).epsilon(1e-15));
}

TEST_CASE("PerLabelReport::finish: NaN mean when no label is defined", "[metrics][per_label_report]") {
  auto none = report_of({std::nullopt, std::nullopt});
  none.mean = 0.5;
  none.defined = 2;
  none.finish();
  CHECK(none.defined == 0);
  CHECK(std::isnan(none.mean));

  auto empty = report_of({});
  empty.finish();
  CHECK(empty.defined == 0);
  CHECK(std::isnan(empty.mean));

  // A default report has a NaN mean before finish() too.
  CHECK(std::isnan(PerLabelReport{}.mean));
}

TEST_CASE("PerLabelReport: JSON has null for undefined values and a NaN mean", "[metrics][per_label_report]") {
  auto r = report_of({0.5, std::nullopt, 1.0});
  r.warnings = {"auroc: label 'L1' undefined"};
  r.finish();
  const nlohmann::json j = r;
  CHECK(j.at("metric") == "auroc");
  CHECK(j.at("mean").get<double>() == Approx(0.75).epsilon(1e-15));
  CHECK(j.at("defined") == 2);
  CHECK(j.at("labels") == nlohmann::json({"L0", "L1", "L2"}));
  REQUIRE(j.at("values").size() == 3);
  CHECK(j.at("values")[0].get<double>() == 0.5);
  CHECK(j.at("values")[1].is_null());
  CHECK(j.at("values")[2].get<double>() == 1.0);
  CHECK(j.at("warnings") == nlohmann::json({"auroc: label 'L1' undefined"}));

  // Text round trip keeps every field (values exactly: JSON doubles print round-trippably).
  const auto back = nlohmann::json::parse(j.dump());
  CHECK(back == j);

  auto nan = report_of({std::nullopt});
  nan.finish();
  const nlohmann::json jn = nan;
  CHECK(jn.at("mean").is_null());  // not a float NaN, which is not JSON
  CHECK(jn.at("defined") == 0);
  CHECK(jn.at("values")[0].is_null());
  CHECK(nlohmann::json::parse(jn.dump()).at("mean").is_null());
}

TEST_CASE("PerLabelReport from auroc: undefined labels are left out and named in warnings", "[metrics][per_label_report]") {
  const auto c = four_labels();
  const PerLabelReport r = auroc(c);
  CHECK(r.metric == "auroc");
  CHECK(r.labels == std::vector<std::string>{"H3K4me3", "CTCF", "DNase", "all_pos"});
  REQUIRE(r.values.size() == 4);
  REQUIRE(r.values[0].has_value());
  CHECK(*r.values[0] == 0.75);
  CHECK_FALSE(r.values[1].has_value());
  REQUIRE(r.values[2].has_value());
  CHECK(*r.values[2] == 0.0);
  CHECK_FALSE(r.values[3].has_value());
  CHECK(r.defined == 2);
  CHECK(r.mean == Approx((0.75 + 0.0) / 2).epsilon(1e-15));
  REQUIRE(r.warnings.size() == 2);
  CHECK_THAT(r.warnings[0], Catch::Contains("'CTCF'") && Catch::Contains("0 positive and 3 negative"));
  CHECK_THAT(r.warnings[1], Catch::Contains("'all_pos'") && Catch::Contains("2 positive and 0 negative"));
}

TEST_CASE("PerLabelReport from auprc: only labels without a positive are undefined", "[metrics][per_label_report]") {
  const auto c = four_labels();
  const PerLabelReport r = auprc(c);
  CHECK(r.metric == "average_precision");
  REQUIRE(r.values.size() == 4);
  CHECK(*r.values[0] == Approx(5.0 / 6).epsilon(1e-15));
  CHECK_FALSE(r.values[1].has_value());
  CHECK(*r.values[2] == Approx(7.0 / 12).epsilon(1e-15));
  CHECK(*r.values[3] == 1.0);
  CHECK(r.defined == 3);
  CHECK(r.mean == Approx((5.0 / 6 + 7.0 / 12 + 1.0) / 3).epsilon(1e-15));  // 29/36
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("'CTCF'"));
  const nlohmann::json j = r;
  CHECK(j.at("values")[1].is_null());
  CHECK(j.at("mean").get<double>() == Approx(29.0 / 36).epsilon(1e-15));
}
