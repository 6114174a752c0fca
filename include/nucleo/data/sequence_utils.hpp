#pragma once
/// Nucleotide helpers shared by every reader: the canonical alphabet is A, C, G, T, N (upper case).
///
/// - `canonical_base(c)`: upper-cases a letter; A/C/G/T/N stay, every other letter (IUPAC codes such
///   as R, Y, K, M, S, W, B, D, H, V, and anything else alphabetic) becomes 'N'. Non-letters are not
///   bases; readers reject them (see `is_sequence_letter`).
/// - `reverse_complement(s)`: A<->T, C<->G on the upper-cased sequence, everything else -> 'N'
///   (BEND's rule, bend.md section 1.2), read backwards.
/// - `BaseCounter`: counts the letters that were replaced by N, per original letter, so readers can
///   report them instead of dropping them silently.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace nucleo {

/// True for ASCII letters, the only characters a sequence line may hold.
inline constexpr bool is_sequence_letter(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/// Upper-cased A, C, G, T or N for a letter; 'N' for any other letter. `c` must be a letter.
inline constexpr char canonical_base(char c) noexcept {
  const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  switch (u) {
    case 'A': case 'C': case 'G': case 'T': case 'N': return u;
    default: return 'N';
  }
}

/// Complement of a canonical base: A<->T, C<->G, anything else -> N (lower case is upper-cased first).
inline constexpr char complement_base(char c) noexcept {
  switch (canonical_base(c)) {
    case 'A': return 'T';
    case 'T': return 'A';
    case 'C': return 'G';
    case 'G': return 'C';
    default: return 'N';
  }
}

/// Reverse complement (see the header comment). Output is upper case over {A,C,G,T,N}.
inline std::string reverse_complement(std::string_view s) {
  std::string r(s.size(), 'N');
  for (std::size_t i = 0; i < s.size(); ++i) r[s.size() - 1 - i] = complement_base(s[i]);
  return r;
}

/// Counts the letters a reader mapped to 'N' (IUPAC codes and other letters), by original letter.
class BaseCounter {
 public:
  /// Canonicalises `c` (a letter) and records it if it was replaced.
  char add(char c) noexcept {
    const char b = canonical_base(c);
    const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (b != u) {
      ++replaced_[static_cast<unsigned char>(u) & 0x7f];
      ++total_;
    }
    return b;
  }
  /// Total letters replaced by N.
  std::size_t replaced() const noexcept { return total_; }
  /// How many times upper-cased letter `c` was replaced.
  std::size_t replaced(char c) const noexcept { return replaced_[static_cast<unsigned char>(c) & 0x7f]; }
  /// "R:3 Y:1" (upper-cased letters, alphabetical), empty if nothing was replaced.
  std::string summary() const {
    std::string s;
    for (int c = 'A'; c <= 'Z'; ++c)
      if (replaced_[c]) s += fmt::format("{}{}:{}", s.empty() ? "" : " ", static_cast<char>(c), replaced_[c]);
    return s;
  }
  void merge(const BaseCounter& o) noexcept {
    for (std::size_t i = 0; i < replaced_.size(); ++i) replaced_[i] += o.replaced_[i];
    total_ += o.total_;
  }

 private:
  std::array<std::size_t, 128> replaced_{};
  std::size_t total_ = 0;
};

}  // namespace nucleo
