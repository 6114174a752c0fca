#pragma once
/// `GeneLattice`: the hidden-state lattice of the trainable gene-structure CRF (genes/gene_grammar_crf.hpp): its
/// states, their 9-class labels, and the edges allowed into a position given the DNA around it.
///
/// The grammar is the one GeneGrammarDecoder applies (start/stop codons whole, reading frame kept
/// across introns, GT/GC-AG splice sites, no in-frame stop codon, strands switch through noncoding
/// sequence), with two changes for learning:
///   - every edge that a gene structure chooses (a gene begins, an exon continues or ends at a
///     splice site or a stop, an intron stays or ends) has a learned score, its "kind"; edges the
///     DNA forces (inside a start or stop codon, donor -> intron) score 0;
///   - introns and intergenic sequence are chains of `intron_states` / `intergenic_states` states
///     in series, each with its own learned stay and advance scores, so their lengths follow a sum
///     of geometric laws (a negative binomial when the scores are equal) with a minimum length of
///     the chain's length, instead of one geometric law.
///
/// Edges into position t depend only on the bases at t-1, t, t+1 and t+2 (each A, C, G, T or
/// "other": N, padding, or beyond the sequence), so the lattice holds one edge list per context
/// (5^4 = 625), built once.
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/genes/gene_class.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nucleo {

class GeneLattice {
 public:
  struct Edge {
    std::uint16_t from, to;
    std::int16_t kind;  ///< index of the learned score; -1 = forced, score 0
  };
  static constexpr int num_contexts = 625;
  static constexpr std::uint8_t kA = 0, kC = 1, kG = 2, kT = 3, kOther = 4;

  GeneLattice(int intron_states, int intergenic_states, bool gc_donors)
      : ki_(intron_states), kn_(intergenic_states), gc_(gc_donors) {
    NUCLEO_CHECK_CONFIG(ki_ >= 1 && ki_ <= 16, "gene grammar CRF: intron_states must be in [1, 16], got {}", ki_);
    NUCLEO_CHECK_CONFIG(kn_ >= 1 && kn_ <= 16, "gene grammar CRF: intergenic_states must be in [1, 16], got {}", kn_);
    layout();
    for (int c = 0; c < num_contexts; ++c) build(c);
  }

  int num_states() const { return static_cast<int>(label_.size()); }
  int num_kinds() const { return static_cast<int>(kind_names_.size()); }
  int intron_states() const { return ki_; }
  int intergenic_states() const { return kn_; }
  bool gc_donors() const { return gc_; }
  int label(int s) const { return label_[static_cast<std::size_t>(s)]; }
  std::span<const std::int8_t> labels() const { return label_; }
  const std::vector<std::string>& kind_names() const { return kind_names_; }
  bool is_intergenic(int s) const { return s < kn_; }
  std::span<const Edge> edges(int context) const { return edges_[static_cast<std::size_t>(context)]; }

  /// A token id as a context base (A, C, G, T, or other).
  static std::uint8_t base(int id) { return id >= 0 && id < 4 ? static_cast<std::uint8_t>(id) : kOther; }
  /// The context of position t of `ids`.
  static int context(std::span<const std::uint8_t> ids, Index t) {
    const Index n = static_cast<Index>(ids.size());
    auto at = [&](Index i) -> int { return i >= 0 && i < n ? base(ids[static_cast<std::size_t>(i)]) : kOther; };
    return ((at(t - 1) * 5 + at(t)) * 5 + at(t + 1)) * 5 + at(t + 2);
  }

  /// May state s be first? With `intergenic_start` only intergenic states. Otherwise any state
  /// but the inner states of codon chains (a codon lies whole in the sequence; the C of a - strand
  /// CAT may come first), and an exon's codon state must be one the first base can give.
  bool can_start(int s, std::span<const std::uint8_t> ids, bool intergenic_start) const {
    if (s < kn_) return true;
    if (intergenic_start) return false;
    if (s == start_f_ || s == start_f_ + 1 || s == stop_f_ || s == stop_f_ + 1 || s == stop_r_ || s == stop_r_ + 1 ||
        s == start_r_ + 1 || s == start_r_ + 2)
      return false;
    if (s == start_r_)
      return ids.size() >= 3 && ids[0] == kC && ids[1] == kA && ids[2] == kT;
    const bool fwd = s >= exon_f_ && s < exon_f_ + 6, rev = s >= exon_r_ && s < exon_r_ + 6;
    if (!fwd && !rev) return true;
    const int c = s - (fwd ? exon_f_ : exon_r_);
    if (c == 0) return true;
    const std::uint8_t b = ids.empty() ? kOther : base(ids[0]);
    for (int prev = 0; prev < 6; ++prev)
      if ((fwd ? next_fwd(prev, b) : next_rev(prev, b)) == c) return true;
    return false;
  }
  /// May state s be last? With `intergenic_end` only intergenic states; otherwise any.
  bool can_end(int s, bool intergenic_end) const { return !intergenic_end || s < kn_; }

  // Codon states (as in GeneGrammarDecoder). + strand, sense order: 0 codon complete, 1 "T",
  // 2 other first base, 3 "TA", 4 "TG", 5 other two bases; -1 = b completes a stop codon.
  static constexpr int next_fwd(int c, std::uint8_t b) {
    switch (c) {
      case 0: return b == kT ? 1 : 2;
      case 1: return b == kA ? 3 : b == kG ? 4 : 5;
      case 2: return 5;
      case 3: return (b == kA || b == kG) ? -1 : 0;
      case 4: return b == kA ? -1 : 0;
      default: return 0;
    }
  }
  // - strand, genomic order (reverse-complemented stops TTA, CTA, TCA): 0 complete, 1 "T", 2 "C",
  // 3 other first base, 4 "TT"/"TC"/"CT", 5 other two bases.
  static constexpr int next_rev(int c, std::uint8_t b) {
    switch (c) {
      case 0: return b == kT ? 1 : b == kC ? 2 : 3;
      case 1: return (b == kT || b == kC) ? 4 : 5;
      case 2: return b == kT ? 4 : 5;
      case 3: return 5;
      case 4: return b == kA ? -1 : 0;
      default: return 0;
    }
  }

 private:
  int add_states(int n, int label) {
    const int first = static_cast<int>(label_.size());
    for (int i = 0; i < n; ++i) label_.push_back(static_cast<std::int8_t>(label));
    return first;
  }
  int add_kind(std::string name) {
    kind_names_.push_back(std::move(name));
    return static_cast<int>(kind_names_.size()) - 1;
  }

  void layout() {
    add_states(kn_, gene_noncoding);
    start_f_ = add_states(2, gene_exon_fwd);  // A, T of ATG (the G is exon codon state 0)
    exon_f_ = add_states(6, gene_exon_fwd);
    donor_f_ = add_states(6, gene_donor_fwd);
    intron_f_ = add_states(6 * ki_, gene_intron_fwd);
    acc_f_ = add_states(6, gene_acceptor_fwd);
    stop_f_ = add_states(2, gene_noncoding);  // first two bases of TAA/TAG/TGA (the third: intergenic)
    stop_r_ = add_states(2, gene_noncoding);  // second, third base of TTA/CTA/TCA (the first: intergenic)
    exon_r_ = add_states(6, gene_exon_rev);
    acc_r_ = add_states(6, gene_acceptor_rev);
    intron_r_ = add_states(6 * ki_, gene_intron_rev);
    donor_r_ = add_states(6, gene_donor_rev);
    start_r_ = add_states(3, gene_exon_rev);  // C, A, T of CAT
    NUCLEO_CHECK(num_states() <= 255, "gene grammar CRF: {} states (at most 255)", num_states());

    for (int j = 0; j < kn_; ++j) k_nself_.push_back(add_kind(fmt::format("intergenic.stay.{}", j)));
    for (int j = 0; j + 1 < kn_; ++j) k_nnext_.push_back(add_kind(fmt::format("intergenic.next.{}", j)));
    k_gene_f_ = add_kind("+.gene_start");
    k_cont_f_ = add_kind("+.exon.continue");
    k_donor_f_ = add_kind("+.exon.donor");
    k_stop_f_ = add_kind("+.exon.stop");
    for (int j = 0; j < ki_; ++j) k_iself_f_.push_back(add_kind(fmt::format("+.intron.stay.{}", j)));
    for (int j = 0; j + 1 < ki_; ++j) k_inext_f_.push_back(add_kind(fmt::format("+.intron.next.{}", j)));
    k_acc_f_ = add_kind("+.intron.acceptor");
    k_gene_r_ = add_kind("-.gene_start");
    k_cont_r_ = add_kind("-.exon.continue");
    k_acc_r_ = add_kind("-.exon.acceptor");
    k_start_r_ = add_kind("-.exon.start");
    for (int j = 0; j < ki_; ++j) k_iself_r_.push_back(add_kind(fmt::format("-.intron.stay.{}", j)));
    for (int j = 0; j + 1 < ki_; ++j) k_inext_r_.push_back(add_kind(fmt::format("-.intron.next.{}", j)));
    k_donor_r_ = add_kind("-.intron.donor");
  }

  void build(int ctx) {
    const auto p = static_cast<std::uint8_t>(ctx / 125), b = static_cast<std::uint8_t>(ctx / 25 % 5),
               n1 = static_cast<std::uint8_t>(ctx / 5 % 5), n2 = static_cast<std::uint8_t>(ctx % 5);
    std::vector<Edge>& out = edges_[static_cast<std::size_t>(ctx)];
    auto e = [&](int from, int to, int kind) {
      out.push_back(Edge{static_cast<std::uint16_t>(from), static_cast<std::uint16_t>(to), static_cast<std::int16_t>(kind)});
    };
    const bool start_fwd = b == kA && n1 == kT && n2 == kG;
    const bool stop_fwd = b == kT && ((n1 == kA && (n2 == kA || n2 == kG)) || (n1 == kG && n2 == kA));
    const bool donor_fwd = b == kG && (n1 == kT || (gc_ && n1 == kC));
    const bool acc_fwd = b == kG && p == kA;
    const bool stop_rev_here = n1 == kA && ((p == kT && b == kT) || (p == kC && b == kT) || (p == kT && b == kC));
    const bool start_rev_here = b == kC && n1 == kA && n2 == kT;
    const bool acc_rev = b == kC && n1 == kT;
    const bool donor_rev = b == kC && (p == kA || (gc_ && p == kG));
    const int n_last = kn_ - 1;

    for (int j = 0; j < kn_; ++j) e(j, j, k_nself_[static_cast<std::size_t>(j)]);
    for (int j = 0; j + 1 < kn_; ++j) e(j, j + 1, k_nnext_[static_cast<std::size_t>(j)]);
    // + strand: ATG, exon codons, stop codon back to intergenic.
    if (start_fwd) e(n_last, start_f_, k_gene_f_);
    e(start_f_, start_f_ + 1, -1);
    e(start_f_ + 1, exon_f_ + 0, -1);
    if (stop_fwd) e(exon_f_ + 0, stop_f_, k_stop_f_);
    e(stop_f_, stop_f_ + 1, -1);
    e(stop_f_ + 1, 0, -1);
    // - strand, genomic order: reversed stop codon, exons, CAT back to intergenic.
    if (stop_rev_here) e(n_last, stop_r_, k_gene_r_);
    e(stop_r_, stop_r_ + 1, -1);
    e(stop_r_ + 1, exon_r_ + next_rev(0, b), -1);
    if (start_rev_here) {
      e(exon_r_ + 0, start_r_, k_start_r_);
      e(donor_r_ + 0, start_r_, k_start_r_);
      e(stop_r_ + 1, start_r_, k_start_r_);
    }
    e(start_r_, start_r_ + 1, -1);
    e(start_r_ + 1, start_r_ + 2, -1);
    e(start_r_ + 2, 0, -1);
    for (int c = 0; c < 6; ++c) {
      if (const int nc = next_fwd(c, b); nc >= 0) {
        e(exon_f_ + c, exon_f_ + nc, k_cont_f_);
        e(acc_f_ + c, exon_f_ + nc, -1);
      }
      if (donor_fwd) e(exon_f_ + c, donor_f_ + c, k_donor_f_);
      e(donor_f_ + c, intron_f_ + c * ki_, -1);
      for (int j = 0; j < ki_; ++j) e(intron_f_ + c * ki_ + j, intron_f_ + c * ki_ + j, k_iself_f_[static_cast<std::size_t>(j)]);
      for (int j = 0; j + 1 < ki_; ++j)
        e(intron_f_ + c * ki_ + j, intron_f_ + c * ki_ + j + 1, k_inext_f_[static_cast<std::size_t>(j)]);
      if (acc_fwd) e(intron_f_ + c * ki_ + ki_ - 1, acc_f_ + c, k_acc_f_);

      if (const int nc = next_rev(c, b); nc >= 0) {
        e(exon_r_ + c, exon_r_ + nc, k_cont_r_);
        e(donor_r_ + c, exon_r_ + nc, -1);
      }
      if (acc_rev) e(exon_r_ + c, acc_r_ + c, k_acc_r_);
      e(acc_r_ + c, intron_r_ + c * ki_, -1);
      for (int j = 0; j < ki_; ++j) e(intron_r_ + c * ki_ + j, intron_r_ + c * ki_ + j, k_iself_r_[static_cast<std::size_t>(j)]);
      for (int j = 0; j + 1 < ki_; ++j)
        e(intron_r_ + c * ki_ + j, intron_r_ + c * ki_ + j + 1, k_inext_r_[static_cast<std::size_t>(j)]);
      if (donor_rev) e(intron_r_ + c * ki_ + ki_ - 1, donor_r_ + c, k_donor_r_);
    }
  }

  int ki_, kn_;
  bool gc_;
  std::vector<std::int8_t> label_;
  std::vector<std::string> kind_names_;
  std::array<std::vector<Edge>, num_contexts> edges_;
  int start_f_ = 0, exon_f_ = 0, donor_f_ = 0, intron_f_ = 0, acc_f_ = 0, stop_f_ = 0;
  int stop_r_ = 0, exon_r_ = 0, acc_r_ = 0, intron_r_ = 0, donor_r_ = 0, start_r_ = 0;
  std::vector<int> k_nself_, k_nnext_, k_iself_f_, k_inext_f_, k_iself_r_, k_inext_r_;
  int k_gene_f_ = 0, k_cont_f_ = 0, k_donor_f_ = 0, k_stop_f_ = 0, k_acc_f_ = 0;
  int k_gene_r_ = 0, k_cont_r_ = 0, k_acc_r_ = 0, k_start_r_ = 0, k_donor_r_ = 0;
};

}  // namespace nucleo
