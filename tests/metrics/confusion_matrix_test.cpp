#include "nucleo/metrics/confusion_matrix.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/rng.hpp"

#include <vector>

using namespace nucleo;

TEST_CASE("ConfusionMatrix: 3x3 by hand, -100 and lengths skipped", "[metrics][confusion_matrix]") {
  Labels truth(2, 5), pred(2, 5);
  truth << 0, 1, 2, ignore_index, 2,
           1, 1, 0, 2, 0;
  pred << 0, 2, 2, 1, 2,
          1, 0, 0, 1, 2;
  const std::vector<Index> lengths{5, 3};  // sequence 1: only positions 0..2 count
  ConfusionMatrix cm(3);
  cm.add(truth, pred, lengths);
  // counted pairs (t,p): (0,0) (1,2) (2,2) (2,2) | (1,1) (1,0) (0,0)
  CHECK(cm(0, 0) == 2);
  CHECK(cm(1, 2) == 1);
  CHECK(cm(2, 2) == 2);
  CHECK(cm(1, 1) == 1);
  CHECK(cm(1, 0) == 1);
  CHECK(cm.total() == 7);
  CHECK(cm.trace() == 5);
  CHECK(cm.true_counts() == std::vector<std::int64_t>{2, 3, 2});
  CHECK(cm.predicted_counts() == std::vector<std::int64_t>{3, 1, 3});
  CHECK(cm.to_json() == nlohmann::json::parse("[[2,0,0],[1,1,1],[0,0,2]]"));
  ConfusionMatrix all(3);
  all.add(truth, pred);  // no lengths: positions (1,3) (1,4) count too
  CHECK(all.total() == 9);
}

TEST_CASE("ConfusionMatrix: argmax of logits, first maximum on ties", "[metrics][confusion_matrix]") {
  Tensor3<float> z(1, 3, 3);
  z.setZero();
  z(0, 2, 0) = 1;                // predicts 2
  z(0, 1, 1) = 5; z(0, 2, 1) = 5;  // tie between 1 and 2 -> 1
  z(0, 0, 2) = -1;               // classes 1 and 2 tie at 0 -> 1
  Labels y(1, 3);
  y << 2, 2, 1;
  ConfusionMatrix cm(3);
  cm.add_logits(z, y);
  CHECK(cm(2, 2) == 1);
  CHECK(cm(2, 1) == 1);
  CHECK(cm(1, 1) == 1);
  CHECK_THROWS_AS(ConfusionMatrix(4).add_logits(z, y), ShapeError);
}

TEST_CASE("ConfusionMatrix: merging partial matrices equals one pass", "[metrics][confusion_matrix]") {
  Labels truth(6, 40), pred(6, 40);
  Rng rng(4);
  for (Index i = 0; i < truth.size(); ++i) {
    truth.data()[i] = rng.bernoulli(0.1) ? ignore_index : static_cast<int>(rng.uniform_int(9));
    pred.data()[i] = static_cast<int>(rng.uniform_int(9));
  }
  ConfusionMatrix whole(9), a(9), b(9);
  whole.add(truth, pred);
  const Labels t1 = truth.topRows(2), p1 = pred.topRows(2), t2 = truth.bottomRows(4), p2 = pred.bottomRows(4);
  b.add(t2, p2);
  a.add(t1, p1);
  a += b;
  CHECK(a == whole);
  CHECK_THROWS_AS(a += ConfusionMatrix(3), ShapeError);
}

TEST_CASE("ConfusionMatrix: out-of-range classes are refused", "[metrics][confusion_matrix]") {
  ConfusionMatrix cm(3);
  CHECK_THROWS_AS(cm.add(3, 0), ShapeError);
  CHECK_THROWS_AS(cm.add(0, -1), ShapeError);
  CHECK_THROWS_AS(ConfusionMatrix(0), ConfigError);
  cm.add(ignore_index, 7);  // ignored truth: the prediction is never looked at
  CHECK(cm.total() == 0);
  Labels t(1, 2), p(1, 3);
  t.setZero();
  p.setZero();
  CHECK_THROWS_AS(cm.add(t, p), ShapeError);
}
