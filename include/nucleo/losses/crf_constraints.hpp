#pragma once
/// `CrfConstraints`: which tag transitions (and which first/last tags) a linear-chain CRF may use.
///
/// A constraint set over K tags is three boolean tables:
///   - `allowed(i, j)`: may tag i at position t be followed by tag j at t+1 ("from i to j");
///   - `start_allowed(j)`: may a sequence begin with tag j;
///   - `end_allowed(j)`: may a sequence end with tag j.
/// `LinearChainCRF` gives every forbidden transition (and start/end) a score of minus infinity, in
/// training (log-partition, marginals, gradients) and in decoding (Viterbi), so a decoded path never
/// contains one, and a training label sequence that contains one is reported as an error (its
/// likelihood would be zero). An empty set (`num_tags() == 0`, the default) means "no constraints".
///
/// Sources:
///   - by hand: `allow_all(K)` / `forbid_all(K)`, then `allow(i, j)` / `forbid(i, j)`;
///   - from data: `from_labels(labels, K)` allows exactly the transitions seen between consecutive
///     observed positions of the training labels (-100 breaks a chain: nothing is learned across an
///     ignored position, nor across the end of a sequence's valid length);
///   - from a domain: e.g. `gene_structure_constraints()` (nucleo/genes/gene_crf_grammar.hpp), the
///     grammar of BEND's 9 gene-finding classes.
/// Sets combine with `|=` (union), e.g. `grammar | from_labels(train, K)`, and
/// `violations(labels)` lists the forbidden transitions that occur in some labels (check your data
/// before training with a grammar).
#include <nlohmann/json.hpp>
#include "nucleo/core/error.hpp"
#include "nucleo/core/labels.hpp"
#include "nucleo/core/tensor.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nucleo {

/// Which first/last tags `from_labels` allows: every tag (sequences are windows that may start or
/// end anywhere in a gene), or only the first/last observed labels of the training sequences.
enum class CrfBoundaries { any, observed };

/// A transition that some labels use although a constraint set forbids it.
struct CrfViolation {
  Index sequence = 0;   ///< row of the labels
  Index position = 0;   ///< position of the second tag (or of the tag, for start/end)
  int from = -1;        ///< previous tag; -1 for a forbidden start tag
  int to = -1;          ///< tag; for a forbidden end tag `from` is the tag and `to` is -1
  std::string describe() const {
    if (from < 0) return fmt::format("sequence {} starts with forbidden tag {}", sequence, to);
    if (to < 0) return fmt::format("sequence {} ends (position {}) with forbidden tag {}", sequence, position, from);
    return fmt::format("sequence {} position {}: forbidden transition {} -> {}", sequence, position, from, to);
  }
};

class CrfConstraints {
 public:
  /// No constraints (every transition allowed, for any K).
  CrfConstraints() = default;

  /// Every transition, start and end allowed.
  static CrfConstraints allow_all(int num_tags) { return CrfConstraints(num_tags, true, true); }

  /// No transition allowed; every start and end allowed (build up with `allow`).
  static CrfConstraints forbid_all(int num_tags) { return CrfConstraints(num_tags, false, true); }

  /// Exactly the transitions that occur between consecutive observed positions of `labels`
  /// ([batch, length], -100 = ignored); positions at or beyond `lengths[b]` (if given) are ignored.
  /// Start/end tags: all (`CrfBoundaries::any`) or the observed first/last labels of each sequence
  /// (`observed`; only sequences whose first/last valid position is labelled count).
  static CrfConstraints from_labels(const Labels& labels, int num_tags, std::span<const Index> lengths = {},
                                    CrfBoundaries boundaries = CrfBoundaries::any) {
    CrfConstraints c(num_tags, false, boundaries == CrfBoundaries::any);
    c.observe(labels, lengths, boundaries);
    return c;
  }

  /// Add the transitions (and, with `observed`, the boundary tags) seen in `labels` to the allowed set.
  void observe(const Labels& labels, std::span<const Index> lengths = {},
               CrfBoundaries boundaries = CrfBoundaries::any) {
    NUCLEO_CHECK(k_ > 0, "CrfConstraints::observe: the set has no tags; start from forbid_all(K)");
    NUCLEO_CHECK(lengths.empty() || static_cast<Index>(lengths.size()) == labels.rows(),
                 "CrfConstraints::observe: {} lengths for {} label rows", lengths.size(), labels.rows());
    for (Index b = 0; b < labels.rows(); ++b) {
      const Index n = lengths.empty() ? labels.cols() : std::min<Index>(labels.cols(), lengths[b]);
      int prev = ignore_index;
      for (Index t = 0; t < n; ++t) {
        const int y = labels(b, t);
        check_label(y, b, t);
        if (y != ignore_index && prev != ignore_index) allow(prev, y);
        prev = y;
      }
      if (boundaries == CrfBoundaries::observed && n > 0) {
        if (labels(b, 0) != ignore_index) start_[labels(b, 0)] = 1;
        if (labels(b, n - 1) != ignore_index) end_[labels(b, n - 1)] = 1;
      }
    }
  }

  /// The forbidden transitions/boundaries that `labels` use (at most `max_count`, in row order).
  /// Chains break at -100 as in `observe`; an empty set forbids nothing.
  std::vector<CrfViolation> violations(const Labels& labels, std::span<const Index> lengths = {},
                                       std::size_t max_count = 100) const {
    std::vector<CrfViolation> out;
    if (empty()) return out;
    for (Index b = 0; b < labels.rows() && out.size() < max_count; ++b) {
      const Index n = lengths.empty() ? labels.cols() : std::min<Index>(labels.cols(), lengths[b]);
      if (n == 0) continue;
      if (labels(b, 0) != ignore_index) {
        check_label(labels(b, 0), b, 0);
        if (!start_allowed(labels(b, 0))) out.push_back({b, 0, -1, labels(b, 0)});
      }
      for (Index t = 1; t < n && out.size() < max_count; ++t) {
        const int p = labels(b, t - 1), y = labels(b, t);
        check_label(y, b, t);
        if (p != ignore_index && y != ignore_index && !allowed(p, y)) out.push_back({b, t, p, y});
      }
      const int last = labels(b, n - 1);
      if (last != ignore_index && !end_allowed(last) && out.size() < max_count) out.push_back({b, n - 1, last, -1});
    }
    return out;
  }

  int num_tags() const { return k_; }
  bool empty() const { return k_ == 0; }

  bool allowed(int from, int to) const { return empty() || trans_[idx(from, to)] != 0; }
  bool start_allowed(int tag) const { return empty() || start_[checked(tag)] != 0; }
  bool end_allowed(int tag) const { return empty() || end_[checked(tag)] != 0; }

  CrfConstraints& allow(int from, int to, bool on = true) {
    trans_[idx(from, to)] = on ? 1 : 0;
    return *this;
  }
  CrfConstraints& forbid(int from, int to) { return allow(from, to, false); }
  CrfConstraints& allow_start(int tag, bool on = true) {
    start_[checked(tag)] = on ? 1 : 0;
    return *this;
  }
  CrfConstraints& allow_end(int tag, bool on = true) {
    end_[checked(tag)] = on ? 1 : 0;
    return *this;
  }

  /// Number of allowed transitions (K*K when empty is not meaningful: returns 0 for an empty set).
  Index allowed_transition_count() const {
    Index n = 0;
    for (auto v : trans_) n += v;
    return n;
  }

  /// Union: a transition is allowed if either set allows it. Both must have the same K (an empty
  /// set allows everything, so the union with it is empty as well).
  CrfConstraints& operator|=(const CrfConstraints& o) {
    if (o.empty()) return *this = o;
    if (empty()) return *this;
    NUCLEO_CHECK(k_ == o.k_, "CrfConstraints: union of sets over {} and {} tags", k_, o.k_);
    for (std::size_t i = 0; i < trans_.size(); ++i) trans_[i] |= o.trans_[i];
    for (std::size_t i = 0; i < start_.size(); ++i) {
      start_[i] |= o.start_[i];
      end_[i] |= o.end_[i];
    }
    return *this;
  }
  friend CrfConstraints operator|(CrfConstraints a, const CrfConstraints& b) { return a |= b; }
  bool operator==(const CrfConstraints& o) const = default;

  /// A K x K table ("x" allowed, "." forbidden; rows = from, columns = to) plus start/end rows.
  std::string to_string() const {
    if (empty()) return "(no constraints)\n";
    std::string s = "from\\to";
    for (int j = 0; j < k_; ++j) s += fmt::format(" {:>2}", j);
    s += "\n";
    for (int i = 0; i < k_; ++i) {
      s += fmt::format("{:>7}", i);
      for (int j = 0; j < k_; ++j) s += allowed(i, j) ? "  x" : "  .";
      s += "\n";
    }
    s += "  start";
    for (int j = 0; j < k_; ++j) s += start_allowed(j) ? "  x" : "  .";
    s += "\n    end";
    for (int j = 0; j < k_; ++j) s += end_allowed(j) ? "  x" : "  .";
    return s + "\n";
  }

 private:
  CrfConstraints(int k, bool transitions, bool boundaries)
      : k_(k),
        trans_(static_cast<std::size_t>(k) * k, transitions ? 1 : 0),
        start_(static_cast<std::size_t>(k), boundaries ? 1 : 0),
        end_(static_cast<std::size_t>(k), boundaries ? 1 : 0) {
    NUCLEO_CHECK_CONFIG(k > 0, "CrfConstraints: need at least one tag, got {}", k);
  }
  int checked(int tag) const {
    NUCLEO_CHECK(tag >= 0 && tag < k_, "CrfConstraints: tag {} out of range [0, {})", tag, k_);
    return tag;
  }
  std::size_t idx(int from, int to) const {
    return static_cast<std::size_t>(checked(from)) * static_cast<std::size_t>(k_) + static_cast<std::size_t>(checked(to));
  }
  void check_label(int y, Index b, Index t) const {
    NUCLEO_CHECK(y == ignore_index || (y >= 0 && y < k_),
                 "CrfConstraints: label {} at sequence {} position {} is neither in [0, {}) nor -100", y, b, t, k_);
  }

  int k_ = 0;
  std::vector<std::uint8_t> trans_, start_, end_;
};

/// {"transitions": [[from, to], ...], "start": [tags], "end": [tags]}: the allowed entries.
inline nlohmann::json crf_constraints_to_json(const CrfConstraints& c) {
  if (c.empty()) return nullptr;
  nlohmann::json t = nlohmann::json::array(), s = nlohmann::json::array(), e = nlohmann::json::array();
  for (int i = 0; i < c.num_tags(); ++i) {
    for (int j = 0; j < c.num_tags(); ++j)
      if (c.allowed(i, j)) t.push_back({i, j});
    if (c.start_allowed(i)) s.push_back(i);
    if (c.end_allowed(i)) e.push_back(i);
  }
  return {{"num_tags", c.num_tags()}, {"transitions", t}, {"start", s}, {"end", e}};
}

/// Inverse of crf_constraints_to_json (null = no constraints). ConfigError on a malformed value.
inline CrfConstraints crf_constraints_from_json(const nlohmann::json& j) {
  if (j.is_null()) return {};
  try {
    const int k = j.at("num_tags").get<int>();
    NUCLEO_CHECK_CONFIG(k > 0, "num_tags must be positive");
    CrfConstraints c = CrfConstraints::forbid_all(k);
    for (int i = 0; i < k; ++i) c.allow_start(i, false).allow_end(i, false);
    for (const auto& p : j.at("transitions")) c.allow(p.at(0).get<int>(), p.at(1).get<int>());
    for (const auto& t : j.at("start")) c.allow_start(t.get<int>());
    for (const auto& t : j.at("end")) c.allow_end(t.get<int>());
    return c;
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("crf_constraints: {} (expected {{\"num_tags\": K, \"transitions\": [[from, to], ...], "
                                  "\"start\": [...], \"end\": [...]}})",
                                  e.what()));
  }
}

}  // namespace nucleo
