#include "nucleo/data/batcher.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

using namespace nucleo;

namespace {
Example make_example(std::vector<std::uint8_t> toks, bool with_labels) {
  Example e;
  e.tokens = std::move(toks);
  if (with_labels)
    for (std::size_t i = 0; i < e.tokens.size(); ++i) e.labels.push_back(static_cast<std::int8_t>(i % 9));
  return e;
}

// Examples whose token at position l is (id + l) % 4 and whose label is l % 9, lengths in [lo, hi].
std::vector<Example> ramp_examples(int n, int lo, int hi, std::uint64_t seed) {
  Rng r(seed);
  std::vector<Example> ex;
  for (int i = 0; i < n; ++i) {
    const int len = lo + static_cast<int>(r.uniform_int(static_cast<std::uint64_t>(hi - lo + 1)));
    std::vector<std::uint8_t> t(static_cast<std::size_t>(len));
    for (int l = 0; l < len; ++l) t[static_cast<std::size_t>(l)] = static_cast<std::uint8_t>((i + l) % 4);
    ex.push_back(make_example(std::move(t), true));
  }
  return ex;
}

bool same_batch(const Batch& a, const Batch& b) {
  if (!(a.position == b.position) || a.example_ids != b.example_ids || a.offsets != b.offsets ||
      a.lengths != b.lengths)
    return false;
  if (a.tokens.dimensions() != b.tokens.dimensions()) return false;
  if (!std::equal(a.tokens.data(), a.tokens.data() + a.tokens.size(), b.tokens.data())) return false;
  if (a.labels.rows() != b.labels.rows() || a.labels.cols() != b.labels.cols() || !(a.labels == b.labels).all())
    return false;
  return a.multilabels.rows() == b.multilabels.rows() && a.multilabels.cols() == b.multilabels.cols() &&
         (a.multilabels == b.multilabels).all();
}

Index padding_of(const Batch& b) {
  Index pad = 0;
  for (Index len : b.lengths) pad += b.length() - len;
  return pad;
}
}  // namespace

TEST_CASE("Batcher: evaluation batches by hand (order, PAD, lengths, -100 label padding)", "[data][batcher]") {
  std::vector<Example> ex = {make_example({0, 1, 2}, true), make_example({3}, true),
                             make_example({0, 0, 1, 1}, true), make_example({2, 2}, true),
                             make_example({4, 3, 2, 1, 0}, true)};
  const Batcher b(ex, BatcherOptions::evaluation(2));
  REQUIRE(b.batches_per_epoch() == 3);
  const Batch b0 = b.batch({0, 0});
  CHECK(b0.example_ids == std::vector<Index>{0, 1});
  CHECK(b0.lengths == std::vector<Index>{3, 1});
  CHECK(b0.offsets == std::vector<Index>{0, 0});
  REQUIRE(b0.tokens.dimension(0) == 2);
  REQUIRE(b0.tokens.dimension(1) == 1);
  REQUIRE(b0.tokens.dimension(2) == 3);
  CHECK(b0.tokens(0, 0, 0) == 0);
  CHECK(b0.tokens(0, 0, 2) == 2);
  CHECK(b0.tokens(1, 0, 0) == 3);
  CHECK(b0.tokens(1, 0, 1) == tokens::pad);
  CHECK(b0.tokens(1, 0, 2) == tokens::pad);
  REQUIRE(b0.labels.rows() == 2);
  REQUIRE(b0.labels.cols() == 3);
  CHECK(b0.labels(0, 2) == 2);
  CHECK(b0.labels(1, 0) == 0);
  CHECK(b0.labels(1, 1) == ignore_index);
  CHECK(b0.multilabels.size() == 0);
  const Batch b2 = b.batch({0, 2});
  CHECK(b2.example_ids == std::vector<Index>{4});
  CHECK(b2.length() == 5);
  CHECK(b2.tokens(0, 0, 0) == 4);
  // Evaluation is the same in every epoch.
  CHECK(same_batch(b.batch({7, 1}), [&] { Batch x = b.batch({0, 1}); x.position = {7, 1}; return x; }()));
  // Sorted evaluation: lengths 3 1 4 2 5 -> rows (1 3) (0 2) (4).
  auto o = BatcherOptions::evaluation(2);
  o.sort_eval_by_length = true;
  const Batcher sorted(ex, o);
  CHECK(sorted.batch_indices({0, 0}) == std::vector<Index>{1, 3});
  CHECK(sorted.batch_indices({0, 1}) == std::vector<Index>{0, 2});
  CHECK(sorted.batch_indices({0, 2}) == std::vector<Index>{4});
  CHECK(sorted.batch({0, 1}).length() == 4);
}

TEST_CASE("Batcher: multilabel examples give MultiLabels B x K", "[data][batcher]") {
  std::vector<Example> ex(3);
  ex[0].tokens = {0, 1};
  ex[0].multilabels = {1, 0, 1};
  ex[1].tokens = {2};
  ex[1].multilabels = {0, 0, 0};
  ex[2].tokens = {3, 3, 3};
  ex[2].multilabels = {0, 1, 1};
  const Batcher b(ex, BatcherOptions::evaluation(3));
  const Batch x = b.batch({0, 0});
  REQUIRE(x.multilabels.rows() == 3);
  REQUIRE(x.multilabels.cols() == 3);
  CHECK(x.multilabels(0, 0) == 1.0f);
  CHECK(x.multilabels(0, 1) == 0.0f);
  CHECK(x.multilabels(2, 2) == 1.0f);
  CHECK(x.labels.size() == 0);
  CHECK(b.num_multilabels() == 3);
}

TEST_CASE("Batcher: a training epoch covers every example once, reshuffled per epoch, seeded", "[data][batcher]") {
  const auto ex = ramp_examples(203, 5, 400, 1);
  BatcherOptions o;
  o.batch_size = 8;
  o.bucket_window = 4;
  o.seed = 3;
  const Batcher b(ex, o);
  REQUIRE(b.batches_per_epoch() == 26);
  std::vector<std::vector<Index>> orders;
  for (std::uint64_t e = 0; e < 3; ++e) {
    std::vector<Index> seen;
    int short_batches = 0;
    for (Index k = 0; k < b.batches_per_epoch(); ++k) {
      const auto ids = b.batch_indices({e, k});
      short_batches += ids.size() < 8;
      seen.insert(seen.end(), ids.begin(), ids.end());
    }
    CHECK(short_batches == 1);
    orders.push_back(seen);
    std::sort(seen.begin(), seen.end());
    std::vector<Index> all(203);
    std::iota(all.begin(), all.end(), Index{0});
    CHECK(seen == all);
  }
  CHECK(orders[0] != orders[1]);
  CHECK(orders[1] != orders[2]);
  const Batcher same(ex, o);
  CHECK(same.batch_indices({1, 5}) == b.batch_indices({1, 5}));
  o.seed = 4;
  const Batcher other(ex, o);
  std::vector<Index> other_order;
  for (Index k = 0; k < other.batches_per_epoch(); ++k) {
    const auto ids = other.batch_indices({0, k});
    other_order.insert(other_order.end(), ids.begin(), ids.end());
  }
  CHECK(other_order != orders[0]);
}

TEST_CASE("Batcher: length bucketing cuts padding versus unbucketed batches", "[data][batcher]") {
  const auto ex = ramp_examples(512, 100, 3000, 2);
  BatcherOptions o;
  o.batch_size = 16;
  o.bucket_window = 16;
  const Batcher bucketed(ex, o);
  o.bucket_window = 1;
  const Batcher plain(ex, o);
  Index pad_bucketed = 0, pad_plain = 0, total = 0;
  for (Index k = 0; k < bucketed.batches_per_epoch(); ++k) {
    const Batch x = bucketed.batch({0, k}), y = plain.batch({0, k});
    pad_bucketed += padding_of(x);
    pad_plain += padding_of(y);
    for (Index len : x.lengths) total += len;
  }
  INFO("padding bucketed " << pad_bucketed << ", unbucketed " << pad_plain << ", tokens " << total);
  CHECK(pad_bucketed * 5 < pad_plain);
  CHECK(pad_bucketed < total / 10);
}

TEST_CASE("Batcher: random crop to max_length per (epoch, example), labels cropped alike", "[data][batcher]") {
  auto ex = ramp_examples(40, 5, 60, 9);
  ex[0].tokens.resize(12);
  ex[0].labels.resize(12);
  BatcherOptions o;
  o.batch_size = 5;
  o.max_length = 10;
  o.seed = 17;
  const Batcher b(ex, o);
  std::set<Index> offsets_of_0;
  for (std::uint64_t e = 0; e < 40; ++e) {
    for (Index k = 0; k < b.batches_per_epoch(); ++k) {
      const Batch x = b.batch({e, k});
      CHECK(x.length() <= 10);
      for (Index r = 0; r < x.size(); ++r) {
        const Index id = x.example_ids[static_cast<std::size_t>(r)];
        const Example& src = ex[static_cast<std::size_t>(id)];
        const Index full = static_cast<Index>(src.tokens.size()), off = x.offsets[static_cast<std::size_t>(r)];
        CHECK(x.lengths[static_cast<std::size_t>(r)] == std::min<Index>(full, 10));
        CHECK(off >= 0);
        CHECK(off + x.lengths[static_cast<std::size_t>(r)] <= full);
        CHECK(off == b.crop_offset(e, id));
        if (id == 0) offsets_of_0.insert(off);
        for (Index l = 0; l < x.lengths[static_cast<std::size_t>(r)]; ++l) {
          REQUIRE(x.tokens(r, 0, l) == src.tokens[static_cast<std::size_t>(off + l)]);
          REQUIRE(x.labels(r, l) == src.labels[static_cast<std::size_t>(off + l)]);
        }
      }
    }
  }
  CHECK(offsets_of_0 == std::set<Index>{0, 1, 2});  // every valid start is drawn over 40 epochs
  // Evaluation never crops.
  o.training = false;
  const Batcher ev(ex, o);
  CHECK(ev.batch({0, 0}).lengths[0] == 12);
}

TEST_CASE("Batcher: drop_last keeps only full batches", "[data][batcher]") {
  const auto ex = ramp_examples(21, 5, 50, 4);
  BatcherOptions o;
  o.batch_size = 4;
  o.bucket_window = 2;
  o.drop_last = true;
  const Batcher b(ex, o);
  REQUIRE(b.batches_per_epoch() == 5);
  std::set<Index> seen;
  for (Index k = 0; k < 5; ++k) {
    const auto ids = b.batch_indices({2, k});
    CHECK(ids.size() == 4);
    seen.insert(ids.begin(), ids.end());
  }
  CHECK(seen.size() == 20);
}

TEST_CASE("Batcher: the data position resumes exactly the same batches (and survives JSON)", "[data][batcher]") {
  const auto ex = ramp_examples(50, 5, 120, 6);
  BatcherOptions o;
  o.batch_size = 7;
  o.max_length = 64;
  o.seed = 8;
  Batcher run(ex, o);
  std::vector<Batch> first;
  for (int i = 0; i < 12; ++i) first.push_back(run.next());
  CHECK(first[7].position == DataPosition{0, 7});
  CHECK(first[8].position == DataPosition{1, 0});  // 8 batches per epoch
  const DataPosition saved = run.position();
  CHECK(saved == DataPosition{1, 4});
  const nlohmann::json j = saved;
  std::vector<Batch> rest;
  for (int i = 0; i < 10; ++i) rest.push_back(run.next());

  Batcher resumed(ex, o);
  resumed.seek(j.get<DataPosition>());
  for (int i = 0; i < 10; ++i) REQUIRE(same_batch(resumed.next(), rest[static_cast<std::size_t>(i)]));
  CHECK_THROWS_AS(resumed.seek({0, 8}), ShapeError);
}

TEST_CASE("Batcher: malformed examples are rejected with the example index", "[data][batcher]") {
  std::vector<Example> ex = {make_example({0, 1, 2}, true), make_example({1, 2}, true)};
  ex[1].labels.pop_back();
  CHECK_THROWS_WITH(Batcher(ex, BatcherOptions{}), Catch::Contains("example 1 has 2 tokens but 1"));
  ex[1].labels.clear();
  CHECK_THROWS_WITH(Batcher(ex, BatcherOptions{}), Catch::Contains("example 1 has 2 tokens but 0"));
  ex = {make_example({0, 1}, false), make_example({}, false)};
  CHECK_THROWS_WITH(Batcher(ex, BatcherOptions{}), Catch::Contains("example 1 has no tokens"));
  ex = {make_example({0, 9}, false)};
  CHECK_THROWS_WITH(Batcher(ex, BatcherOptions{}), Catch::Contains("token id 9"));
  ex = {make_example({0, 1}, false), make_example({0}, false)};
  ex[0].multilabels = {1, 0};
  CHECK_THROWS_WITH(Batcher(ex, BatcherOptions{}), Catch::Contains("example 1 has 0 multilabels"));
  CHECK_THROWS_AS(Batcher(std::span<const Example>{}, BatcherOptions{}), ShapeError);
  BatcherOptions bad;
  bad.batch_size = 0;
  CHECK_THROWS_AS(Batcher(ex, bad), ConfigError);
}
