#include "nucleo/core/tensor.hpp"

#include <catch2/catch.hpp>

using namespace nucleo;

TEST_CASE("Tensor3: batch x channels x length row-major, sequence(b) is its C x L matrix", "[core][tensor]") {
  Tensor3<float> t(2, 3, 4);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i);
  CHECK(t(1, 2, 3) == static_cast<float>((1 * 3 + 2) * 4 + 3));
  auto m = sequence(t, 1);
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 4);
  CHECK(m(2, 3) == t(1, 2, 3));
  CHECK(batch_size(t) == 2);
  CHECK(channels(t) == 3);
  CHECK(seq_length(t) == 4);
  float* before = t.data();
  ensure_shape(t, 2, 3, 4);
  CHECK(t.data() == before);
  ensure_shape(t, 1, 1, 5);
  CHECK(t.dimension(2) == 5);
}
