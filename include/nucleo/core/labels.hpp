#pragma once
/// Targets for losses and metrics.
///
/// - `Labels` `[batch, length]` row-major `int32`: one class per position (gene finding: 0..8; MLM:
///   the original token id at masked positions). `ignore_index` (-100, as PyTorch and BEND) marks
///   positions that count nowhere: padding, unmasked MLM positions, unknown labels.
/// - `MultiLabels<S>` `[batch, num_labels]` row-major, 0/1 (multi-hot, BEND's multilabel tasks).
/// Logits for per-position tasks are `Tensor3 [batch, classes, length]`; for per-sequence tasks
/// `Tensor3 [batch, labels, 1]`.
#include <Eigen/Core>

#include <cstdint>

namespace nucleo {

inline constexpr std::int32_t ignore_index = -100;

using Labels = Eigen::Array<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Scalar = float>
using MultiLabels = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace nucleo
