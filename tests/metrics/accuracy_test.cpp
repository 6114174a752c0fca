#include "nucleo/metrics/accuracy.hpp"

#include <catch2/catch.hpp>

using namespace nucleo;

TEST_CASE("Accuracy: counted positions only, by hand", "[metrics][accuracy]") {
  Labels truth(2, 4), pred(2, 4);
  truth << 1, 2, ignore_index, 0,
           3, 3, 1, 1;
  pred << 1, 0, 2, 0,
          3, 1, 1, 2;
  const std::vector<Index> lengths{4, 2};
  Accuracy acc;
  acc.add(truth, pred, lengths);
  CHECK(acc.total() == 5);   // 3 in sequence 0 (one ignored), 2 in sequence 1
  CHECK(acc.correct() == 3); // (0,0) (0,3) (1,0)
  CHECK(acc.value() == 3.0 / 5);
  Accuracy other;
  other.add_counts(1, 5);
  acc += other;
  CHECK(acc.value() == 4.0 / 10);
  acc.clear();
  CHECK(acc.value() == 0);
  CHECK_THROWS_AS(acc.add_counts(3, 2), ShapeError);
}

TEST_CASE("Accuracy: from logits and from a confusion matrix agree", "[metrics][accuracy]") {
  Tensor3<double> z(1, 3, 4);
  z.setZero();
  z(0, 1, 0) = 2;  // 1
  z(0, 2, 1) = 1;  // 2
  z(0, 0, 2) = 3;  // 0
  z(0, 1, 3) = -1; // 0 (classes 0 and 2 tie -> first)
  Labels y(1, 4);
  y << 1, 1, 0, 2;
  Accuracy acc;
  acc.add_logits(z, y);
  CHECK(acc.correct() == 2);
  CHECK(acc.total() == 4);
  ConfusionMatrix cm(3);
  cm.add_logits(z, y);
  CHECK(accuracy(cm) == acc.value());
  CHECK(accuracy(ConfusionMatrix(3)) == 0);
}
