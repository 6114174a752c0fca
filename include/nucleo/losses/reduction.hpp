#pragma once
/// `Reduction`: how a loss turns per-element losses into one number (PyTorch's `reduction=`).
/// - `Reduction::mean`: divide by the number of counted elements (or by the sum of their weights,
///   for a weighted cross-entropy: PyTorch's weighted mean).
/// - `Reduction::sum`: plain sum; gradients are then not divided by anything.
namespace nucleo {

enum class Reduction { mean, sum };

}  // namespace nucleo
