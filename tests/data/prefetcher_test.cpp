#include "nucleo/data/prefetcher.hpp"

#include <catch2/catch.hpp>

#include "nucleo/data/mlm_masking.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

using namespace nucleo;

namespace {
std::vector<Example> examples(int n, std::uint64_t seed) {
  Rng r(seed);
  std::vector<Example> ex(static_cast<std::size_t>(n));
  for (auto& e : ex) {
    e.tokens.resize(10 + r.uniform_int(200));
    for (auto& t : e.tokens) t = static_cast<std::uint8_t>(r.uniform_int(5));
  }
  return ex;
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.position == b.position && a.example_ids == b.example_ids && a.offsets == b.offsets &&
         a.lengths == b.lengths && a.tokens.dimensions() == b.tokens.dimensions() &&
         std::equal(a.tokens.data(), a.tokens.data() + a.tokens.size(), b.tokens.data()) &&
         a.labels.rows() == b.labels.rows() && a.labels.cols() == b.labels.cols() && (a.labels == b.labels).all();
}

BatcherOptions options() {
  BatcherOptions o;
  o.batch_size = 6;
  o.max_length = 128;
  o.bucket_window = 3;
  o.seed = 21;
  return o;
}
}  // namespace

TEST_CASE("Prefetcher: background stream (with MLM masking) equals synchronous batching", "[data][prefetcher]") {
  const auto ex = examples(45, 1);
  const Batcher batcher(ex, options());  // 8 batches per epoch
  const MlmMasking masking(MlmMaskingOptions{0.15, 0.8, 0.1, 5});
  for (Index depth : {1, 3}) {
    PrefetcherOptions po;
    po.depth = depth;
    po.end = {3, 2};
    Prefetcher pf(batcher, {0, 3}, po, masking);
    DataPosition pos{0, 3};
    int produced = 0;
    while (auto b = pf.next()) {
      Batch expect = batcher.batch(pos);
      masking.apply(expect);
      REQUIRE(same_batch(*b, expect));
      pos = batcher.next_position(pos);
      CHECK(pf.position() == pos);
      ++produced;
    }
    CHECK(produced == 5 + 8 + 8 + 2);
    CHECK(pos == DataPosition{3, 2});
    CHECK(!pf.next().has_value());
  }
}

TEST_CASE("Prefetcher: a run resumed from a saved position continues with the same batches", "[data][prefetcher]") {
  const auto ex = examples(30, 2);
  const Batcher batcher(ex, options());  // 5 batches per epoch
  std::vector<Batch> straight;
  DataPosition saved;
  {
    Prefetcher pf(batcher, {0, 0});
    for (int i = 0; i < 12; ++i) {
      if (i == 7) saved = pf.position();
      straight.push_back(*pf.next());
    }
  }
  CHECK(saved == DataPosition{1, 2});
  Prefetcher resumed(batcher, saved);
  for (int i = 7; i < 12; ++i) REQUIRE(same_batch(*resumed.next(), straight[static_cast<std::size_t>(i)]));
}

TEST_CASE("Prefetcher: worker errors are rethrown by next(), destruction with a full queue returns",
          "[data][prefetcher]") {
  const auto ex = examples(30, 3);
  const Batcher batcher(ex, options());
  std::atomic<int> calls{0};
  Prefetcher failing(batcher, {0, 0}, {}, [&](Batch& b) {
    if (++calls == 3) throw std::runtime_error("transform failed on purpose");
  });
  CHECK(failing.next().has_value());
  CHECK(failing.next().has_value());
  CHECK_THROWS_WITH(failing.next(), Catch::Contains("on purpose"));
  {
    Prefetcher idle(batcher, {0, 0}, PrefetcherOptions{4, {1000, 0}});
    CHECK(idle.next().has_value());
  }  // the worker blocks on the full queue; the destructor must wake and join it
  CHECK_THROWS_AS(Prefetcher(batcher, {0, 99}), ShapeError);
}
