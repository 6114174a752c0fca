#pragma once
// Test helper: a per-nucleotide label track written as digits, one class 0..8 per character
// ("8000012223000" ...), so that hand-made gene structures read like gene_labels.hpp's diagrams.
#include <cstdint>
#include <string_view>
#include <vector>

namespace nucleo::testing {

inline std::vector<std::int8_t> track(std::string_view digits) {
  std::vector<std::int8_t> v;
  v.reserve(digits.size());
  for (char c : digits) v.push_back(static_cast<std::int8_t>(c - '0'));
  return v;
}

}  // namespace nucleo::testing
