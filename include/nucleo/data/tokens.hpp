#pragma once
/// The fixed token vocabulary of every nucleo model (the paper's V = 7, section 4).
///
/// | id | token  | decoded as |
/// |----|--------|------------|
/// | 0  | A      | 'A'        |
/// | 1  | C      | 'C'        |
/// | 2  | G      | 'G'        |
/// | 3  | T      | 'T'        |
/// | 4  | N      | 'N'        |
/// | 5  | [MASK] | '*'        |
/// | 6  | [PAD]  | '.'        |
///
/// `encode` maps a, c, g, t (either case) to 0..3 and **every other character** (IUPAC codes such
/// as R/Y/K, gaps, digits...) to N (4); it never produces [MASK] or [PAD]. `decode` is the inverse
/// on ids 0..6 (an id >= 7 throws ShapeError), so `decode(encode(s)) == upper(s)` for ACGTN input.
/// Ids enter a model as `Tensor3<S> [batch, 1, length]` scalars (core/tensor.hpp).
///
/// BEND's one-hot baseline uses a *different* order: its LabelEncoder sorts the class names, so
/// A=0, C=1, G=2, **N=3, T=4** (bend.md 1.2; BEND:bend/utils/embedders.py:1281,1297,1330), and it
/// has no [MASK]/[PAD]. `to_bend_id` / `from_bend_id` convert between the two (T and N swap); use
/// them to compare against BEND's integer embeddings.
#include "nucleo/core/error.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::tokens {

inline constexpr std::uint8_t A = 0;
inline constexpr std::uint8_t C = 1;
inline constexpr std::uint8_t G = 2;
inline constexpr std::uint8_t T = 3;
inline constexpr std::uint8_t N = 4;
inline constexpr std::uint8_t mask = 5;  ///< [MASK]
inline constexpr std::uint8_t pad = 6;   ///< [PAD]

/// Number of ids (the model's one-hot / output width).
inline constexpr int vocab_size = 7;
/// The four nucleotides are ids 0..3 (MLM random replacements draw from these).
inline constexpr int num_nucleotides = 4;

/// Character of each id (index = id).
inline constexpr std::array<char, vocab_size> letters = {'A', 'C', 'G', 'T', 'N', '*', '.'};

namespace detail {
inline constexpr std::array<std::uint8_t, 256> make_encode_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = N;
  t['A'] = t['a'] = A;
  t['C'] = t['c'] = C;
  t['G'] = t['g'] = G;
  t['T'] = t['t'] = T;
  return t;
}
inline constexpr std::array<std::uint8_t, 256> encode_table = make_encode_table();
}  // namespace detail

/// Id of one character: ACGT (case-insensitive) -> 0..3, anything else -> N.
constexpr std::uint8_t encode(char c) { return detail::encode_table[static_cast<unsigned char>(c)]; }

/// Ids of a sequence, one per character.
inline std::vector<std::uint8_t> encode(std::string_view seq) {
  std::vector<std::uint8_t> ids(seq.size());
  for (std::size_t i = 0; i < seq.size(); ++i) ids[i] = encode(seq[i]);
  return ids;
}

/// Character of one id (see the table above). Throws ShapeError for id >= vocab_size.
inline char decode(std::uint8_t id) {
  NUCLEO_CHECK(id < vocab_size, "token id {} is out of range (the vocabulary has ids 0..{})", id, vocab_size - 1);
  return letters[id];
}

/// String of a token sequence ([MASK] -> '*', [PAD] -> '.').
inline std::string decode(std::span<const std::uint8_t> ids) {
  std::string s(ids.size(), '?');
  for (std::size_t i = 0; i < ids.size(); ++i) s[i] = decode(ids[i]);
  return s;
}

/// True for A, C, G, T (ids 0..3).
constexpr bool is_nucleotide(std::uint8_t id) { return id < num_nucleotides; }

/// nucleo id -> BEND one-hot id (A0 C1 G2 N3 T4). [MASK]/[PAD] have no BEND id: ShapeError.
inline std::uint8_t to_bend_id(std::uint8_t id) {
  NUCLEO_CHECK(id <= N, "token id {} has no BEND one-hot id (BEND knows only A, C, G, N, T)", id);
  return id == T ? 4 : id == N ? 3 : id;
}

/// BEND one-hot id (A0 C1 G2 N3 T4) -> nucleo id. Ids >= 5 throw ShapeError.
inline std::uint8_t from_bend_id(std::uint8_t bend_id) {
  NUCLEO_CHECK(bend_id <= 4, "BEND one-hot id {} is out of range (0..4 = A, C, G, N, T)", bend_id);
  return bend_id == 4 ? T : bend_id == 3 ? N : bend_id;
}

inline std::vector<std::uint8_t> to_bend_ids(std::span<const std::uint8_t> ids) {
  std::vector<std::uint8_t> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) out[i] = to_bend_id(ids[i]);
  return out;
}

inline std::vector<std::uint8_t> from_bend_ids(std::span<const std::uint8_t> bend_ids) {
  std::vector<std::uint8_t> out(bend_ids.size());
  for (std::size_t i = 0; i < bend_ids.size(); ++i) out[i] = from_bend_id(bend_ids[i]);
  return out;
}

}  // namespace nucleo::tokens
