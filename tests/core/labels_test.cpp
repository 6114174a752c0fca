#include "nucleo/core/labels.hpp"

#include <catch2/catch.hpp>

#include "nucleo/core/tensor.hpp"

#include <cstdint>
#include <type_traits>
#include <vector>

using namespace nucleo;

TEST_CASE("labels: ignore_index is PyTorch's and BEND's -100, outside every class range", "[core][labels]") {
  STATIC_REQUIRE(ignore_index == -100);
  STATIC_REQUIRE(std::is_same_v<std::remove_cv_t<decltype(ignore_index)>, std::int32_t>);
  // Never a valid class: gene classes are 0..8, token ids and multilabel indices are >= 0.
  STATIC_REQUIRE(ignore_index < 0);
}

TEST_CASE("labels: Labels is int32 batch x length, row-major", "[core][labels]") {
  STATIC_REQUIRE(std::is_same_v<Labels::Scalar, std::int32_t>);
  STATIC_REQUIRE(Labels::IsRowMajor);
  Labels y(2, 3);
  y << 0, 1, 2,  //
      8, ignore_index, 5;
  CHECK(y.rows() == 2);  // batch
  CHECK(y.cols() == 3);  // length
  // Row-major: sequence b occupies data()[b * L, (b + 1) * L), as the batcher fills it.
  const std::vector<std::int32_t> flat(y.data(), y.data() + y.size());
  CHECK(flat == std::vector<std::int32_t>{0, 1, 2, 8, -100, 5});
  // A sequence's row is contiguous, so it can be viewed without a copy.
  CHECK(&y(1, 0) == y.data() + 3);
  // Filling padding with ignore_index, as the batcher does for short sequences.
  const Labels pad = Labels::Constant(2, 4, ignore_index);
  CHECK((pad == ignore_index).all());
  // An external row-major buffer maps with the same layout.
  std::vector<std::int32_t> buf = {3, 4, 5, 6, 7, 8};
  Eigen::Map<Labels> m(buf.data(), 2, 3);
  CHECK(m(1, 0) == 6);
  CHECK(m(0, 2) == 5);
}

TEST_CASE("labels: MultiLabels is row-major batch x labels, float by default", "[core][labels]") {
  STATIC_REQUIRE(std::is_same_v<MultiLabels<>::Scalar, float>);
  STATIC_REQUIRE(std::is_same_v<MultiLabels<double>::Scalar, double>);
  STATIC_REQUIRE(MultiLabels<>::IsRowMajor);
  MultiLabels<> t(2, 3);
  t << 1, 0, 1,  //
      0, 0, 1;
  // Sequence b's multi-hot vector is data()[b * K, (b + 1) * K) and lines up with the logits
  // [B, K, 1] of the same sequence, which are contiguous in Tensor3's row-major layout too.
  Tensor3<float> logits(2, 3, 1);
  for (Index i = 0; i < 6; ++i) logits.data()[i] = static_cast<float>(i);
  for (Index b = 0; b < 2; ++b)
    for (Index k = 0; k < 3; ++k) {
      CHECK(t(b, k) == t.data()[b * 3 + k]);
      CHECK(logits(b, k, 0) == static_cast<float>(b * 3 + k));
    }
  CHECK(t.rowwise().sum()(0) == 2.0f);  // positives of sequence 0
  CHECK(t.colwise().sum()(2) == 2.0f);  // positives of label 2
}
