#include "nucleo/data/sliding_window.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

using namespace nucleo;

namespace {
constexpr Index K = 3;
// The "true" per-position output of an ideal model: a function of the absolute position.
double f(Index pos, Index k) { return static_cast<double>(pos) * 10.0 + static_cast<double>(k); }

std::vector<std::uint8_t> ramp(Index L) {
  std::vector<std::uint8_t> ids(static_cast<std::size_t>(L));
  for (Index i = 0; i < L; ++i) ids[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 7 + i / 3) % 5);
  return ids;
}

// Plan invariants: windows inside [0, L), kept parts tile [0, L) in order, each kept part is inside
// its window with >= floor(O/2) context on both sides except at the sequence ends.
void check_plan(Index L, Index W, Index O) {
  INFO("L=" << L << " W=" << W << " O=" << O);
  const SlidingWindow plan(L, W, O);
  if (L == 0) {
    CHECK(plan.size() == 0);
    return;
  }
  Index covered = 0;
  for (const Window& w : plan.windows()) {
    REQUIRE(w.length == std::min(L, W));
    REQUIRE(w.start >= 0);
    REQUIRE(w.start + w.length <= L);
    REQUIRE(w.keep_begin == covered);
    REQUIRE(w.keep_end > w.keep_begin);
    REQUIRE(w.keep_begin >= w.start);
    REQUIRE(w.keep_end <= w.start + w.length);
    if (w.keep_begin > 0) REQUIRE(w.keep_begin - w.start >= O / 2);
    if (w.keep_end < L) REQUIRE(w.start + w.length - w.keep_end >= O / 2);
    covered = w.keep_end;
  }
  REQUIRE(covered == L);
  // As few windows as the stride allows.
  const Index expect = L <= W ? 1 : 1 + (L - W + (W - O) - 1) / (W - O);
  REQUIRE(plan.size() == expect);
}
}  // namespace

TEST_CASE("SlidingWindow: plans by hand", "[data][sliding_window]") {
  const SlidingWindow a(10, 4, 2);  // stride 2: starts 0 2 4 6, splits at overlap midpoints
  REQUIRE(a.size() == 4);
  CHECK(a[0] == Window{0, 4, 0, 3});
  CHECK(a[1] == Window{2, 4, 3, 5});
  CHECK(a[2] == Window{4, 4, 5, 7});
  CHECK(a[3] == Window{6, 4, 7, 10});
  const SlidingWindow b(11, 4, 2);  // last window aligned to the end (start 7)
  REQUIRE(b.size() == 5);
  CHECK(b[3] == Window{6, 4, 7, 8});
  CHECK(b[4] == Window{7, 4, 8, 11});
  const SlidingWindow c(3, 8, 2);  // shorter than a window: one short window
  REQUIRE(c.size() == 1);
  CHECK(c[0] == Window{0, 3, 0, 3});
  const SlidingWindow d(8, 4, 0);  // no overlap, exact multiple
  REQUIRE(d.size() == 2);
  CHECK(d[1] == Window{4, 4, 4, 8});
  CHECK_THROWS_AS(SlidingWindow(10, 4, 4), ConfigError);
  CHECK_THROWS_AS(SlidingWindow(10, 0, 0), ConfigError);
  CHECK_THROWS_AS(SlidingWindow(10, 4, -1), ConfigError);
}

TEST_CASE("SlidingWindow: plan invariants over many lengths, windows and overlaps", "[data][sliding_window]") {
  for (Index W : {1, 2, 3, 7, 16, 100})
    for (Index O : {Index{0}, Index{1}, W / 2, W - 1}) {
      if (O >= W) continue;
      for (Index L : {Index{0}, Index{1}, Index{2}, W - 1, W, W + 1, 2 * W, 2 * W - O, 3 * (W - O) + O, 5 * W + 3,
                      Index{997}, Index{4096}})
        if (L >= 0) check_plan(L, W, O);
    }
}

TEST_CASE("predict_windows: stitching a position-exact model reproduces the full-length output",
          "[data][sliding_window]") {
  for (Index W : {1, 5, 16, 64})
    for (Index O : {Index{0}, Index{1}, W / 2, W - 1})
      for (Index L : {Index{1}, Index{3}, W - 1, W, W + 1, 4 * W, 4 * W + 1, 7 * W - 3, Index{1000}})
        for (Index batch : {1, 3}) {
          if (O >= W || L < 1) continue;
          INFO("L=" << L << " W=" << W << " O=" << O << " batch=" << batch);
          const auto ids = ramp(L);
          Index calls = 0, bad_input = 0, max_rows = 0, max_len = 0;
          auto model = [&](const WindowBatch& wb, Tensor3<double>& out) {
            ++calls;
            max_rows = std::max(max_rows, wb.size());
            max_len = std::max(max_len, wb.tokens.dimension(2));
            const Index Lb = wb.tokens.dimension(2);
            out.resize(wb.size(), K, Lb);
            for (Index b = 0; b < wb.size(); ++b) {
              const Window& w = wb.windows[static_cast<std::size_t>(b)];
              bad_input += wb.lengths[static_cast<std::size_t>(b)] != w.length;
              for (Index l = 0; l < Lb; ++l) {
                const bool valid = l < w.length;
                const float expect = valid ? ids[static_cast<std::size_t>(w.start + l)] : tokens::pad;
                bad_input += wb.tokens(b, 0, l) != expect;
                for (Index k = 0; k < K; ++k) out(b, k, l) = valid ? f(w.start + l, k) : std::nan("");
              }
            }
          };
          Index next = 0, bad_order = 0;
          std::vector<double> got(static_cast<std::size_t>(L * K), -1.0);
          const Index k_out = predict_windows<double>(ids, {W, O, batch}, model, [&](Index begin, const RowMatrix<double>& blk) {
            bad_order += begin != next;
            for (Index c = 0; c < blk.cols(); ++c)
              for (Index k = 0; k < K; ++k) got[static_cast<std::size_t>((begin + c) * K + k)] = blk(k, c);
            next = begin + blk.cols();
          });
          CHECK(k_out == K);
          CHECK(bad_input == 0);
          CHECK(bad_order == 0);
          CHECK(next == L);
          CHECK(max_rows <= batch);
          CHECK(max_len <= W);
          const Index n_windows = SlidingWindow(L, W, O).size();
          CHECK(calls == (n_windows + batch - 1) / batch);
          Index wrong = 0;
          for (Index p = 0; p < L; ++p)
            for (Index k = 0; k < K; ++k) wrong += got[static_cast<std::size_t>(p * K + k)] != f(p, k);
          CHECK(wrong == 0);
        }
}

TEST_CASE("predict_full: K x L result, a model that is wrong near window edges is masked by the overlap",
          "[data][sliding_window]") {
  const Index L = 5000, W = 256, O = 64;
  const auto ids = ramp(L);
  // Outputs are exact only at least 16 positions away from a window edge unless the edge is a
  // sequence end (a stand-in for a convolution's receptive field). With O/2 = 32 >= 16 the stitched
  // result is exact.
  auto model = [&](const WindowBatch& wb, Tensor3<float>& out) {
    out.resize(wb.size(), 2, wb.tokens.dimension(2));
    for (Index b = 0; b < wb.size(); ++b) {
      const Window& w = wb.windows[static_cast<std::size_t>(b)];
      for (Index l = 0; l < wb.tokens.dimension(2); ++l) {
        const Index pos = w.start + l;
        const bool near_edge = (l < 16 && w.start > 0) || (l >= w.length - 16 && w.start + w.length < L);
        out(b, 0, l) = near_edge ? -1.0f : static_cast<float>(pos);
        out(b, 1, l) = near_edge ? -1.0f : wb.tokens(b, 0, l);
      }
    }
  };
  const RowMatrix<float> full = predict_full<float>(ids, {W, O, 4}, model);
  REQUIRE(full.rows() == 2);
  REQUIRE(full.cols() == L);
  Index wrong = 0;
  for (Index p = 0; p < L; ++p)
    wrong += full(0, p) != static_cast<float>(p) || full(1, p) != ids[static_cast<std::size_t>(p)];
  CHECK(wrong == 0);
  // Too little overlap exposes the edge errors (so the check above can fail).
  const RowMatrix<float> bad = predict_full<float>(ids, {W, 8, 4}, model);
  CHECK((bad.row(0).array() < 0).any());
}

TEST_CASE("predict_windows: a model returning the wrong shape is an error, empty input gives K = 0",
          "[data][sliding_window]") {
  const auto ids = ramp(100);
  auto wrong = [](const WindowBatch& wb, Tensor3<float>& out) { out.resize(wb.size(), 2, 3); };
  CHECK_THROWS_AS(predict_full<float>(ids, {32, 8, 2}, wrong), ShapeError);
  Index calls = 0;
  const Index k = predict_windows<float>(std::span<const std::uint8_t>{}, {32, 8, 2},
                                         [&](const WindowBatch&, Tensor3<float>&) { ++calls; },
                                         [&](Index, const RowMatrix<float>&) { ++calls; });
  CHECK(k == 0);
  CHECK(calls == 0);
}

TEST_CASE("predict_windows_many: windows of many sequences share batches, each sequence stitched exactly once",
          "[data][sliding_window]") {
  const std::vector<Index> lens = {0, 5, 100, 1, 37, 250, 32};
  std::vector<std::vector<std::uint8_t>> seqs;
  for (Index L : lens) seqs.push_back(ramp(L));
  const Index W = 32, O = 8;
  auto g = [](Index seq, Index pos) { return static_cast<double>(seq * 100000 + pos); };
  Index mixed_batches = 0, bad_input = 0;
  auto model = [&](const WindowBatch& wb, Tensor3<double>& out) {
    out.resize(wb.size(), 1, wb.tokens.dimension(2));
    out.setConstant(-1);
    std::set<Index> in_batch(wb.sequences.begin(), wb.sequences.end());
    mixed_batches += in_batch.size() > 1;
    for (Index b = 0; b < wb.size(); ++b) {
      const Window& w = wb.windows[static_cast<std::size_t>(b)];
      const Index s = wb.sequences[static_cast<std::size_t>(b)];
      for (Index l = 0; l < w.length; ++l) {
        bad_input += wb.tokens(b, 0, l) != seqs[static_cast<std::size_t>(s)][static_cast<std::size_t>(w.start + l)];
        out(b, 0, l) = g(s, w.start + l);
      }
    }
  };
  std::vector<std::vector<double>> got(lens.size());
  for (std::size_t i = 0; i < lens.size(); ++i) got[i].assign(static_cast<std::size_t>(lens[i]), -2);
  Index last_seq = -1, next = 0, bad_order = 0;
  predict_windows_many<double>(seqs, {W, O, 5}, model, [&](Index s, Index begin, const RowMatrix<double>& blk) {
    if (s != last_seq) {  // a new sequence: the previous one must be complete
      bad_order += s < last_seq;
      if (last_seq >= 0) bad_order += next != lens[static_cast<std::size_t>(last_seq)];
      last_seq = s;
      next = 0;
    }
    bad_order += begin != next;
    for (Index c = 0; c < blk.cols(); ++c) got[static_cast<std::size_t>(s)][static_cast<std::size_t>(begin + c)] = blk(0, c);
    next = begin + blk.cols();
  });
  CHECK(bad_input == 0);
  CHECK(bad_order == 0);
  CHECK(mixed_batches > 0);
  Index wrong = 0;
  for (std::size_t i = 0; i < lens.size(); ++i)
    for (Index p = 0; p < lens[i]; ++p) wrong += got[i][static_cast<std::size_t>(p)] != g(static_cast<Index>(i), p);
  CHECK(wrong == 0);
}
