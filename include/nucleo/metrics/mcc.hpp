#pragma once
/// Matthews correlation coefficient and per-class precision/recall from a pooled confusion matrix:
/// the gene-finding metric of BEND (bend.md 5), equal to sklearn's `matthews_corrcoef(y_true,
/// y_pred)` and `precision_recall_fscore_support(..., average=None, zero_division=0)`.
///
/// Multiclass MCC (Gorodkin's R_K), confusion matrix C (rows = truth), t = row sums, p = column
/// sums, c = trace, s = total:
///     MCC = (c s - t.p) / sqrt((s^2 - p.p) (s^2 - t.t)),    0 when the denominator is 0
/// (a single class in the truth or in the predictions, or no samples). The three covariance terms
/// are computed exactly in 128-bit integers and divided in long double, so counts of 10^7..10^9
/// lose nothing (sklearn does the same in float64).
/// precision_k = C_kk / p_k, recall_k = C_kk / t_k, 0 when the denominator is 0 (zero_division=0).
/// sklearn reports only classes present in y_true or y_pred; here every class 0..K-1 is reported,
/// with `support` (t_k) and `predicted` (p_k) telling absent classes apart. MCC is unaffected:
/// absent classes add zero rows and columns.
#include "nucleo/metrics/confusion_matrix.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace nucleo {

/// sklearn's matthews_corrcoef over the pooled confusion matrix.
inline double matthews_corrcoef(const ConfusionMatrix& cm) {
  __extension__ typedef __int128 i128;  // GCC/Clang; exact products of int64 counts
  const auto t = cm.true_counts();
  const auto p = cm.predicted_counts();
  const i128 s = cm.total(), c = cm.trace();
  i128 tp = 0, pp = 0, tt = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    tp += static_cast<i128>(t[k]) * p[k];
    pp += static_cast<i128>(p[k]) * p[k];
    tt += static_cast<i128>(t[k]) * t[k];
  }
  const i128 cov_tp = c * s - tp, cov_pp = s * s - pp, cov_tt = s * s - tt;
  if (cov_pp == 0 || cov_tt == 0) return 0.0;
  const long double num = static_cast<long double>(cov_tp);
  return static_cast<double>(num / (std::sqrt(static_cast<long double>(cov_tt)) *
                                    std::sqrt(static_cast<long double>(cov_pp))));
}

/// Everything BEND reports for gene finding, plus the matrix itself.
struct MccReport {
  double mcc = 0;
  std::vector<double> precision, recall;          // per class, zero_division = 0
  std::vector<std::int64_t> support, predicted;   // true / predicted samples per class
  double accuracy = 0;                            // trace / total (0 if empty)
  std::int64_t total = 0;
  std::vector<std::string> class_names;           // optional, for the JSON
  ConfusionMatrix confusion{1};
};

/// MCC, precision/recall per class and accuracy of `cm`; `class_names` (empty or K) label the JSON.
inline MccReport mcc_report(const ConfusionMatrix& cm, std::vector<std::string> class_names = {}) {
  const int K = cm.num_classes();
  NUCLEO_CHECK(class_names.empty() || static_cast<int>(class_names.size()) == K,
               "mcc_report: {} class names for {} classes", class_names.size(), K);
  MccReport r;
  r.mcc = matthews_corrcoef(cm);
  r.support = cm.true_counts();
  r.predicted = cm.predicted_counts();
  r.total = cm.total();
  r.accuracy = r.total > 0 ? static_cast<double>(cm.trace()) / static_cast<double>(r.total) : 0.0;
  r.precision.resize(static_cast<std::size_t>(K));
  r.recall.resize(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) {
    const auto kk = static_cast<double>(cm(k, k));
    const auto i = static_cast<std::size_t>(k);
    r.precision[i] = r.predicted[i] > 0 ? kk / static_cast<double>(r.predicted[i]) : 0.0;
    r.recall[i] = r.support[i] > 0 ? kk / static_cast<double>(r.support[i]) : 0.0;
  }
  r.class_names = std::move(class_names);
  r.confusion = cm;
  return r;
}

/// `{"mcc", "accuracy", "total", "precision": [...], "recall": [...], "support": [...],
///   "predicted": [...], "confusion_matrix": [[...]], "classes": [...] (if named)}`.
inline void to_json(nlohmann::json& j, const MccReport& r) {
  j = nlohmann::json{{"mcc", r.mcc},
                     {"accuracy", r.accuracy},
                     {"total", r.total},
                     {"precision", r.precision},
                     {"recall", r.recall},
                     {"support", r.support},
                     {"predicted", r.predicted},
                     {"confusion_matrix", r.confusion.to_json()}};
  if (!r.class_names.empty()) j["classes"] = r.class_names;
}

}  // namespace nucleo
