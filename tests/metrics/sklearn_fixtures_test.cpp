// Metrics against reference values computed once with scikit-learn by bench/make_metric_fixtures.py
// (committed as tests/data/metric_fixtures.json; the file records the sklearn version).
#include <catch2/catch.hpp>

#include "nucleo/metrics/accuracy.hpp"
#include "nucleo/metrics/auprc.hpp"
#include "nucleo/metrics/auroc.hpp"
#include "nucleo/metrics/mcc.hpp"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

using namespace nucleo;

namespace {
const nlohmann::json& fixtures() {
  static const nlohmann::json j = [] {
    const std::string path = std::string(NUCLEO_TEST_DATA_DIR) + "/metric_fixtures.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (run bench/make_metric_fixtures.py)");
    return nlohmann::json::parse(in);
  }();
  return j;
}

void check_close(double got, double want, double tol) {
  INFO("got " << got << " want " << want);
  CHECK(std::abs(got - want) <= tol);
}
}  // namespace

TEST_CASE("sklearn fixtures: matthews_corrcoef, precision/recall, confusion matrix", "[metrics][sklearn]") {
  const auto& cases = fixtures().at("mcc");
  REQUIRE(cases.size() >= 10);
  for (const auto& c : cases) {
    INFO("case " << c.at("name").get<std::string>());
    const int K = c.at("num_classes");
    const auto yt = c.at("y_true").get<std::vector<int>>();
    const auto yp = c.at("y_pred").get<std::vector<int>>();
    const Index n = static_cast<Index>(yt.size());
    // As batches [1, n + 3]: three padding positions with -100 truth, which must not count.
    Labels truth(1, n + 3), pred(1, n + 3);
    for (Index i = 0; i < n; ++i) {
      truth(0, i) = yt[static_cast<std::size_t>(i)];
      pred(0, i) = yp[static_cast<std::size_t>(i)];
    }
    for (Index i = n; i < n + 3; ++i) {
      truth(0, i) = ignore_index;
      pred(0, i) = 0;
    }
    ConfusionMatrix cm(K);
    cm.add(truth, pred);
    CHECK(cm.to_json() == c.at("confusion_matrix"));
    const auto r = mcc_report(cm);
    check_close(r.mcc, c.at("mcc").get<double>(), 1e-9);
    const auto p = c.at("precision").get<std::vector<double>>();
    const auto rc = c.at("recall").get<std::vector<double>>();
    for (int k = 0; k < K; ++k) {
      check_close(r.precision[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(k)], 1e-12);
      check_close(r.recall[static_cast<std::size_t>(k)], rc[static_cast<std::size_t>(k)], 1e-12);
    }
    CHECK(r.support == c.at("support").get<std::vector<std::int64_t>>());
  }
}

TEST_CASE("sklearn fixtures: matthews_corrcoef on ~10^7 samples", "[metrics][sklearn]") {
  for (const auto& c : fixtures().at("mcc_big")) {
    INFO("case " << c.at("name").get<std::string>());
    const int K = c.at("num_classes");
    ConfusionMatrix cm(K);
    const auto rows = c.at("confusion_matrix").get<std::vector<std::vector<std::int64_t>>>();
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) cm.add(i, j, rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]);
    CHECK(cm.total() >= 10'000'000);
    check_close(matthews_corrcoef(cm), c.at("mcc").get<double>(), 1e-9);
  }
}

TEST_CASE("sklearn fixtures: roc_auc_score and average_precision_score with ties", "[metrics][sklearn]") {
  const auto& cases = fixtures().at("ranking");
  REQUIRE(cases.size() >= 20);
  for (const auto& c : cases) {
    INFO("case " << c.at("name").get<std::string>());
    const auto s = c.at("scores").get<std::vector<double>>();
    const auto t = c.at("targets").get<std::vector<std::uint8_t>>();
    const auto auc = roc_auc_score(s, t);
    if (c.at("roc_auc").is_null()) {
      CHECK_FALSE(auc.has_value());
    } else {
      REQUIRE(auc.has_value());
      check_close(*auc, c.at("roc_auc").get<double>(), 1e-9);
    }
    const auto ap = average_precision_score(s, t);
    if (c.at("positives").get<int>() == 0) {
      CHECK_FALSE(ap.has_value());  // sklearn returns 0 here (see docs/metrics.md)
      CHECK(c.at("average_precision").get<double>() == 0.0);
    } else {
      REQUIRE(ap.has_value());
      check_close(*ap, c.at("average_precision").get<double>(), 1e-9);
    }
  }
}

TEST_CASE("sklearn fixtures: multilabel per-label AUROC/AP and the mean over defined labels", "[metrics][sklearn]") {
  const auto& c = fixtures().at("multilabel");
  const auto s = c.at("scores").get<std::vector<std::vector<double>>>();
  const auto t = c.at("targets").get<std::vector<std::vector<int>>>();
  const Index N = static_cast<Index>(s.size()), K = static_cast<Index>(s[0].size());
  ScoreCollector<double> col(K);
  // Stream in batches of 64 sequences.
  for (Index b0 = 0; b0 < N; b0 += 64) {
    const Index B = std::min<Index>(64, N - b0);
    Tensor3<double> x(B, K, 1);
    MultiLabels<double> y(B, K);
    for (Index b = 0; b < B; ++b)
      for (Index k = 0; k < K; ++k) {
        x(b, k, 0) = s[static_cast<std::size_t>(b0 + b)][static_cast<std::size_t>(k)];
        y(b, k) = t[static_cast<std::size_t>(b0 + b)][static_cast<std::size_t>(k)];
      }
    col.add_batch(x, y);
  }
  const auto ra = auroc(col), rp = auprc(col);
  for (Index k = 0; k < K; ++k) {
    INFO("label " << k);
    const auto& wa = c.at("roc_auc")[static_cast<std::size_t>(k)];
    const auto& wp = c.at("average_precision")[static_cast<std::size_t>(k)];
    CHECK(ra.values[static_cast<std::size_t>(k)].has_value() == !wa.is_null());
    CHECK(rp.values[static_cast<std::size_t>(k)].has_value() == !wp.is_null());
    if (!wa.is_null()) check_close(*ra.values[static_cast<std::size_t>(k)], wa.get<double>(), 1e-9);
    if (!wp.is_null()) check_close(*rp.values[static_cast<std::size_t>(k)], wp.get<double>(), 1e-9);
  }
  check_close(ra.mean, c.at("roc_auc_mean_defined").get<double>(), 1e-9);
  check_close(rp.mean, c.at("average_precision_mean_defined").get<double>(), 1e-9);
  CHECK(ra.warnings.size() == 2);  // label 4 (only negatives) and label 5 (only positives)
  CHECK(rp.warnings.size() == 1);  // label 4
}
