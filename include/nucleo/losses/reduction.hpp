#pragma once
/// `Reduction`: how a loss turns per-element losses into one number (PyTorch's `reduction=`). One
/// enum for every loss; each value has one meaning, and the gradients are scaled the same way:
/// - `Reduction::mean`: divide by the number of counted elements: positions/tokens (labels other
///   than -100 inside the valid length) for the cross-entropies and the CRF, B * K for
///   BCEWithLogits. With class weights (CrossEntropy) the divisor is the sum of the counted
///   positions' weights (PyTorch's weighted mean).
/// - `Reduction::sum`: plain sum; gradients are then not divided by anything.
/// - `Reduction::mean_sequences`: divide by the number of sequences with at least one counted
///   position (pytorch-crf's `mean`). Only LinearChainCRF, whose loss is one NLL per sequence, offers
///   it; the other losses reject it with ConfigError.
/// An empty divisor gives a loss of 0 and a zero gradient.
#include "nucleo/core/error.hpp"

#include <string_view>

namespace nucleo {

enum class Reduction { mean, sum, mean_sequences };

/// "mean", "sum" or "mean_sequences".
constexpr std::string_view reduction_name(Reduction r) {
  switch (r) {
    case Reduction::mean: return "mean";
    case Reduction::sum: return "sum";
    case Reduction::mean_sequences: return "mean_sequences";
  }
  return "?";
}

namespace detail {
/// ConfigError unless `r` is mean or sum (the losses that have no per-sequence total).
inline Reduction per_element_reduction(Reduction r, std::string_view who) {
  NUCLEO_CHECK_CONFIG(r == Reduction::mean || r == Reduction::sum,
                      "{}: reduction '{}' is not supported (use mean or sum; mean_sequences is the CRF's)", who,
                      reduction_name(r));
  return r;
}
}  // namespace detail

}  // namespace nucleo
