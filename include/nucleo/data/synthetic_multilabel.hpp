#pragma once
/// `SyntheticMultilabel`: a SYNTHETIC multilabel sequence task with a known rule, for CPU runs of
/// the multilabel pipelines where BEND's human data (chromatin accessibility, histone
/// modification, CpG methylation) is not present. It is not biological data, and everything it
/// exposes says so (`name()` = "synthetic_multilabel", `description()` starts with "SYNTHETIC").
///
/// Rule. Label k (0 <= k < K) has a motif m_k: a random 6..8-mer (`motif_min`..`motif_max`) drawn
/// from the seed; no motif occurs inside another. For each sequence:
///   1. background: `length` i.i.d. nucleotides with P(G) = P(C) = gc/2, P(A) = P(T) = (1-gc)/2;
///   2. each label is chosen positive with probability `positive_rate`; a positive label's motif is
///      planted 1..`max_copies` times at random non-overlapping places (one background base at least
///      between plants);
///   3. chance occurrences of the motif of a negative label are destroyed by re-drawing one of
///      their background bases, until none is left;
///   so `clean_labels[i][k] = 1` **iff m_k occurs in sequence i** (forward strand, exact match).
///   4. label noise: each label is flipped independently with probability `label_noise`, giving
///      `labels` (= `clean_labels` when label_noise = 0).
/// Split: a seeded permutation puts round(n * test_fraction) sequences in "test",
/// round(n * valid_fraction) in "valid", the rest in "train" (BEND's split names).
///
/// Determinism: motifs come from stream (seed, "motifs"); sequence i from stream (seed, i), so a
/// sequence does not depend on how many are generated or on threads; the split from
/// (seed, "split", n). Same options -> identical data.
#include "nucleo/core/error.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/data/batcher.hpp"
#include "nucleo/data/tokens.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

struct SyntheticMultilabelOptions {
  Index num_sequences = 2000;
  Index length = 512;
  int num_labels = 8;
  int motif_min = 6;
  int motif_max = 8;
  double gc_content = 0.41;     ///< background GC fraction (human genome average)
  double positive_rate = 0.3;   ///< P(label positive) before noise
  int max_copies = 2;           ///< plants per positive label: uniform in 1..max_copies
  double label_noise = 0.0;     ///< P(a label is flipped) after the rule
  double valid_fraction = 0.1;
  double test_fraction = 0.1;
  std::uint64_t seed = 0x5eed;
};

class SyntheticMultilabel {
 public:
  explicit SyntheticMultilabel(SyntheticMultilabelOptions options = {}) : opt_(options) {
    const auto& o = opt_;
    NUCLEO_CHECK_CONFIG(o.num_sequences > 0, "synthetic multilabel: num_sequences must be positive, got {}", o.num_sequences);
    NUCLEO_CHECK_CONFIG(o.num_labels > 0, "synthetic multilabel: num_labels must be positive, got {}", o.num_labels);
    NUCLEO_CHECK_CONFIG(o.motif_min >= 4 && o.motif_min <= o.motif_max && o.motif_max <= 32,
                        "synthetic multilabel: need 4 <= motif_min <= motif_max <= 32, got {}..{}", o.motif_min, o.motif_max);
    NUCLEO_CHECK_CONFIG(o.max_copies >= 1, "synthetic multilabel: max_copies must be >= 1, got {}", o.max_copies);
    NUCLEO_CHECK_CONFIG(o.length >= static_cast<Index>(o.num_labels) * o.max_copies * (o.motif_max + 1) * 2,
                        "synthetic multilabel: length {} is too short to plant {} labels x {} copies of up to {}-mers "
                        "(need at least {})",
                        o.length, o.num_labels, o.max_copies, o.motif_max,
                        static_cast<Index>(o.num_labels) * o.max_copies * (o.motif_max + 1) * 2);
    NUCLEO_CHECK_CONFIG(o.gc_content >= 0 && o.gc_content <= 1, "synthetic multilabel: gc_content must be in [0, 1], got {}",
                        o.gc_content);
    NUCLEO_CHECK_CONFIG(o.positive_rate >= 0 && o.positive_rate <= 1,
                        "synthetic multilabel: positive_rate must be in [0, 1], got {}", o.positive_rate);
    NUCLEO_CHECK_CONFIG(o.label_noise >= 0 && o.label_noise <= 0.5,
                        "synthetic multilabel: label_noise must be in [0, 0.5], got {}", o.label_noise);
    NUCLEO_CHECK_CONFIG(o.valid_fraction >= 0 && o.test_fraction >= 0 && o.valid_fraction + o.test_fraction <= 1,
                        "synthetic multilabel: valid_fraction ({}) + test_fraction ({}) must be in [0, 1]", o.valid_fraction,
                        o.test_fraction);
    make_motifs();
    const auto n = static_cast<std::size_t>(o.num_sequences);
    sequences_.resize(n);
    labels_.resize(n);
    clean_labels_.resize(n);
    for (std::size_t i = 0; i < n; ++i) make_sequence(i);
    make_split();
  }

  static constexpr std::string_view name() { return "synthetic_multilabel"; }

  std::string description() const {
    return fmt::format(
        "SYNTHETIC multilabel task (not biological data): {} sequences of {} bp, {} labels; label k is positive "
        "iff its planted motif occurs (motif lengths {}..{}, background GC {:.2f}, positive rate {:.2f}, label noise "
        "{:.3f}, seed {})",
        opt_.num_sequences, opt_.length, opt_.num_labels, opt_.motif_min, opt_.motif_max, opt_.gc_content,
        opt_.positive_rate, opt_.label_noise, opt_.seed);
  }

  const SyntheticMultilabelOptions& options() const { return opt_; }
  Index size() const { return static_cast<Index>(sequences_.size()); }
  int num_labels() const { return opt_.num_labels; }
  /// Motif of label k ("ACGTTGCA"...).
  const std::vector<std::string>& motifs() const { return motifs_; }
  const std::vector<std::string>& sequences() const { return sequences_; }
  /// Multi-hot labels after noise (what a model is trained on).
  const std::vector<std::vector<std::uint8_t>>& labels() const { return labels_; }
  /// Multi-hot labels given by the rule (before noise).
  const std::vector<std::vector<std::uint8_t>>& clean_labels() const { return clean_labels_; }
  /// "train", "valid" or "test" for each sequence.
  const std::vector<std::string>& splits() const { return splits_; }

  /// Indices of the sequences of one split.
  std::vector<Index> indices(std::string_view split) const {
    check_split(split);
    std::vector<Index> ids;
    for (std::size_t i = 0; i < splits_.size(); ++i)
      if (splits_[i] == split) ids.push_back(static_cast<Index>(i));
    return ids;
  }

  /// The sequences of one split as Batcher examples (tokens + multi-hot labels), in index order.
  std::vector<Example> examples(std::string_view split) const {
    std::vector<Example> out;
    for (Index i : indices(split)) {
      Example e;
      e.tokens = tokens::encode(sequences_[static_cast<std::size_t>(i)]);
      e.multilabels = labels_[static_cast<std::size_t>(i)];
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  static constexpr std::uint64_t stream_motifs = 0x6d6f746966, stream_split = 0x73706c6974,
                                 stream_sequences = 0x736571;

  static void check_split(std::string_view split) {
    NUCLEO_CHECK_CONFIG(split == "train" || split == "valid" || split == "test",
                        "synthetic multilabel: unknown split '{}' (use train, valid or test)", split);
  }

  char background_base(Rng& r) const {
    const double u = r.uniform(), gc = opt_.gc_content;
    if (u < gc / 2) return 'G';
    if (u < gc) return 'C';
    if (u < gc + (1 - gc) / 2) return 'A';
    return 'T';
  }

  void make_motifs() {
    Rng r = Rng(opt_.seed).fork(stream_motifs);
    static constexpr char nt[4] = {'A', 'C', 'G', 'T'};
    for (int attempt = 0; static_cast<int>(motifs_.size()) < opt_.num_labels; ++attempt) {
      NUCLEO_CHECK(attempt < 100000, "synthetic multilabel: could not draw {} distinct motifs", opt_.num_labels);
      const int len = opt_.motif_min + static_cast<int>(r.uniform_int(static_cast<std::uint64_t>(opt_.motif_max - opt_.motif_min + 1)));
      std::string m(static_cast<std::size_t>(len), 'A');
      for (char& c : m) c = nt[r.uniform_int(4)];
      const bool clash = std::any_of(motifs_.begin(), motifs_.end(), [&](const std::string& o) {
        return o.find(m) != std::string::npos || m.find(o) != std::string::npos;
      });
      if (!clash) motifs_.push_back(std::move(m));
    }
  }

  void make_sequence(std::size_t i) {
    Rng r = Rng(opt_.seed).fork(stream_sequences).fork(i);
    const Index L = opt_.length;
    const int K = opt_.num_labels;
    std::string s(static_cast<std::size_t>(L), 'A');
    for (char& c : s) c = background_base(r);
    std::vector<std::uint8_t> planted(static_cast<std::size_t>(L), 0);  // 1 = part of a planted motif
    std::vector<std::uint8_t> clean(static_cast<std::size_t>(K), 0);
    for (int k = 0; k < K; ++k) clean[static_cast<std::size_t>(k)] = r.bernoulli(opt_.positive_rate) ? 1 : 0;
    for (int k = 0; k < K; ++k) {
      if (!clean[static_cast<std::size_t>(k)]) continue;
      const std::string& m = motifs_[static_cast<std::size_t>(k)];
      const Index ml = static_cast<Index>(m.size());
      const int copies = 1 + static_cast<int>(r.uniform_int(static_cast<std::uint64_t>(opt_.max_copies)));
      for (int c = 0; c < copies; ++c) {
        for (int attempt = 0;; ++attempt) {
          NUCLEO_CHECK(attempt < 10000, "synthetic multilabel: no room to plant motif {} in sequence {}", k, i);
          const Index p = static_cast<Index>(r.uniform_int(static_cast<std::uint64_t>(L - ml + 1)));
          const Index lo = std::max<Index>(0, p - 1), hi = std::min<Index>(L, p + ml + 1);
          bool free = true;
          for (Index q = lo; q < hi && free; ++q) free = !planted[static_cast<std::size_t>(q)];
          if (!free) continue;
          for (Index q = 0; q < ml; ++q) {
            s[static_cast<std::size_t>(p + q)] = m[static_cast<std::size_t>(q)];
            planted[static_cast<std::size_t>(p + q)] = 1;
          }
          break;
        }
      }
    }
    // Destroy chance occurrences of negative labels' motifs (re-draw a background base of each).
    for (int round = 0;; ++round) {
      NUCLEO_CHECK(round < 10000, "synthetic multilabel: could not clean sequence {}", i);
      bool changed = false;
      for (int k = 0; k < K; ++k) {
        if (clean[static_cast<std::size_t>(k)]) continue;
        const std::string& m = motifs_[static_cast<std::size_t>(k)];
        for (std::size_t pos = s.find(m); pos != std::string::npos; pos = s.find(m, pos + 1)) {
          std::vector<std::size_t> free;
          for (std::size_t q = pos; q < pos + m.size(); ++q)
            if (!planted[q]) free.push_back(q);
          // Motifs never contain each other and plants are separated by a background base, so an
          // occurrence of a negative motif always has one.
          NUCLEO_CHECK(!free.empty(), "synthetic multilabel: motif {} occurs inside planted motifs", k);
          const std::size_t q = free[r.uniform_int(free.size())];
          const char old = s[q];
          while (s[q] == old) s[q] = background_base(r);
          changed = true;
        }
      }
      if (!changed) break;
    }
    std::vector<std::uint8_t> noisy = clean;
    if (opt_.label_noise > 0)
      for (auto& v : noisy)
        if (r.bernoulli(opt_.label_noise)) v = static_cast<std::uint8_t>(1 - v);
    sequences_[i] = std::move(s);
    clean_labels_[i] = std::move(clean);
    labels_[i] = std::move(noisy);
  }

  void make_split() {
    const Index n = opt_.num_sequences;
    std::vector<Index> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), Index{0});
    Rng r = Rng(opt_.seed).fork(stream_split).fork(static_cast<std::uint64_t>(n));
    for (Index i = n - 1; i > 0; --i)
      std::swap(perm[static_cast<std::size_t>(i)], perm[r.uniform_int(static_cast<std::uint64_t>(i + 1))]);
    const Index n_test = std::llround(static_cast<double>(n) * opt_.test_fraction);
    const Index n_valid = std::min<Index>(n - n_test, std::llround(static_cast<double>(n) * opt_.valid_fraction));
    splits_.assign(static_cast<std::size_t>(n), "train");
    for (Index j = 0; j < n_test; ++j) splits_[static_cast<std::size_t>(perm[static_cast<std::size_t>(j)])] = "test";
    for (Index j = n_test; j < n_test + n_valid; ++j)
      splits_[static_cast<std::size_t>(perm[static_cast<std::size_t>(j)])] = "valid";
  }

  SyntheticMultilabelOptions opt_;
  std::vector<std::string> motifs_;
  std::vector<std::string> sequences_;
  std::vector<std::vector<std::uint8_t>> labels_, clean_labels_;
  std::vector<std::string> splits_;
};

}  // namespace nucleo
