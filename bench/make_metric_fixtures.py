#!/usr/bin/python3
"""Reference values for nucleo's metrics, computed with scikit-learn.

Writes tests/data/metric_fixtures.json, read by tests/metrics/sklearn_fixtures_test.cpp. Run it
with Debian's Python (apt-get install python3-sklearn python3-numpy):

    /usr/bin/python3 bench/make_metric_fixtures.py [output.json]

Everything is seeded, so a rerun with the same sklearn gives the same file. The file records the
sklearn and numpy versions it was made with. Cases:
  mcc:      y_true / y_pred (9 classes, up to 10^4 samples, plus degenerate cases) with
            matthews_corrcoef, confusion_matrix(labels=range(K)) and
            precision_recall_fscore_support(labels=range(K), average=None, zero_division=0)
  mcc_big:  confusion matrices of ~10^7 samples (only the matrix is stored) with matthews_corrcoef
            computed by sklearn on the full arrays
  ranking:  scores / binary targets with ties and varied sizes, with roc_auc_score (null where
            sklearn raises: one class only) and average_precision_score
  multilabel: an N x C case for the per-label report; per-label roc_auc / AP, null where undefined
"""
import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (average_precision_score, confusion_matrix, matthews_corrcoef,
                             precision_recall_fscore_support, roc_auc_score)

rng = np.random.default_rng(20250607)


def mcc_case(name, y_true, y_pred, k):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    labels = list(range(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mcc = matthews_corrcoef(y_true, y_pred)
        p, r, _, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None,
                                                     zero_division=0)
    return {
        "name": name,
        "num_classes": k,
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "mcc": float(mcc),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "precision": [float(v) for v in p],
        "recall": [float(v) for v in r],
        "support": [int(v) for v in s],
    }


def noisy(y, k, flip):
    """Copy of y where a fraction `flip` of entries is replaced by a random class."""
    y = y.copy()
    m = rng.random(y.size) < flip
    y[m] = rng.integers(0, k, m.sum())
    return y


# Gene-finding-like class frequencies: mostly intergenic (8), then exons/introns, rare splice sites.
GENE_P = np.array([0.12, 0.002, 0.10, 0.002, 0.12, 0.002, 0.10, 0.002, 0.55])
GENE_P = GENE_P / GENE_P.sum()


def mcc_cases():
    cases = []
    y = rng.choice(9, size=10000, p=GENE_P)
    cases.append(mcc_case("gene_like_9class_10k", y, noisy(y, 9, 0.3), 9))
    y = rng.integers(0, 9, 2000)
    cases.append(mcc_case("uniform_9class_random", y, rng.integers(0, 9, 2000), 9))
    y = rng.choice(9, size=3000, p=GENE_P)
    cases.append(mcc_case("gene_like_9class_good", y, noisy(y, 9, 0.05), 9))
    y = rng.integers(0, 9, 500)
    cases.append(mcc_case("anti_correlated_9class", y, (y + 1 + rng.integers(0, 2, 500)) % 9, 9))
    y = rng.integers(0, 2, 300)
    cases.append(mcc_case("binary_noisy", y, noisy(y, 2, 0.4), 2))
    cases.append(mcc_case("binary_inverted", y, 1 - y, 2))
    y = rng.integers(0, 3, 50)
    cases.append(mcc_case("perfect_3class", y, y, 3))
    cases.append(mcc_case("constant_prediction", y, np.full(50, 1), 3))
    cases.append(mcc_case("constant_truth", np.full(50, 2), y, 3))
    y = rng.choice([0, 2, 5], size=400)
    cases.append(mcc_case("absent_classes_9", y, noisy(y, 9, 0.2), 9))
    cases.append(mcc_case("single_sample", [4], [4], 9))
    cases.append(mcc_case("two_samples_swapped", [0, 1], [1, 0], 2))
    return cases


def mcc_big_cases():
    cases = []
    for name, n, flip in [("gene_like_10M", 10_000_000, 0.25), ("gene_like_12M_good", 12_000_000, 0.02)]:
        y = rng.choice(9, size=n, p=GENE_P)
        yp = noisy(y, 9, flip)
        cm = confusion_matrix(y, yp, labels=list(range(9)))
        cases.append({"name": name, "num_classes": 9, "confusion_matrix": cm.tolist(),
                      "mcc": float(matthews_corrcoef(y, yp))})
    return cases


def ranking_case(name, scores, targets):
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    try:
        auc = float(roc_auc_score(targets, scores))
    except ValueError:
        auc = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ap = float(average_precision_score(targets, scores))
    return {"name": name, "scores": scores.tolist(), "targets": targets.tolist(), "roc_auc": auc,
            "average_precision": ap, "positives": int(targets.sum())}


def ranking_cases():
    cases = [ranking_case("hand_0.75", [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]),
             ranking_case("all_tied", [0.5] * 6, [0, 1, 0, 1, 1, 0]),
             ranking_case("single_positive", [0.3, 0.2, 0.9, 0.1, 0.4], [0, 0, 0, 0, 1])]
    for n in [2, 5, 10, 37, 100, 500, 2000]:
        for decimals, tag in [(1, "coarse_ties"), (3, "few_ties"), (None, "continuous")]:
            pos_rate = rng.uniform(0.05, 0.6)
            t = (rng.random(n) < pos_rate).astype(np.int64)
            if t.sum() == 0:
                t[rng.integers(0, n)] = 1
            if t.sum() == n:
                t[rng.integers(0, n)] = 0
            s = rng.normal(size=n) + 1.2 * t
            if decimals is not None:
                s = np.round(s, decimals)
            else:
                s = np.round(s, 6)  # short decimal text in the JSON; still essentially no ties
            cases.append(ranking_case(f"n{n}_{tag}", s, t))
    # Scores squashed by a float32 sigmoid saturate to ties, as BEND's probabilities do.
    t = (rng.random(300) < 0.3).astype(np.int64)
    logits = rng.normal(size=300) * 12 + 6 * t
    probs = (1 / (1 + np.exp(-logits.astype(np.float32)))).astype(np.float32).astype(np.float64)
    cases.append(ranking_case("float32_sigmoid_saturated", probs, t))
    # One class only: roc_auc undefined (sklearn raises); AP of all-positive is 1.
    cases.append(ranking_case("only_positives", [0.2, 0.7, 0.7], [1, 1, 1]))
    cases.append(ranking_case("only_negatives", [0.2, 0.7, 0.1], [0, 0, 0]))
    return cases


def multilabel_case():
    n, c = 400, 6
    y = (rng.random((n, c)) < np.array([0.5, 0.2, 0.05, 0.3, 0.0, 0.1])).astype(np.int64)
    y[:, 5] = 1  # label 5: only positives; label 4: only negatives
    s = np.round(rng.normal(size=(n, c)) + 1.5 * y, 2)
    values_auc, values_ap = [], []
    for j in range(c):
        try:
            values_auc.append(float(roc_auc_score(y[:, j], s[:, j])))
        except ValueError:
            values_auc.append(None)
        values_ap.append(float(average_precision_score(y[:, j], s[:, j])) if y[:, j].sum() > 0 else None)
    defined = [v for v in values_auc if v is not None]
    return {"name": "multilabel_6", "scores": s.tolist(), "targets": y.tolist(), "roc_auc": values_auc,
            "roc_auc_mean_defined": float(np.mean(defined)), "average_precision": values_ap,
            "average_precision_mean_defined": float(np.mean([v for v in values_ap if v is not None]))}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                             "metric_fixtures.json")
    data = {"generator": "bench/make_metric_fixtures.py", "sklearn": sklearn.__version__, "numpy": np.__version__,
            "mcc": mcc_cases(), "mcc_big": mcc_big_cases(), "ranking": ranking_cases(),
            "multilabel": multilabel_case()}
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
