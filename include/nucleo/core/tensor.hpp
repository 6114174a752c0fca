#pragma once
/// # Tensor layout (stated once, here)
///
/// Activations flowing between layers are rank-3 tensors `[batch, channels, length]`, **row-major**:
/// element `(b, c, l)` lives at `data[(b * C + c) * L + l]`, so one channel of one sequence is a
/// contiguous run of `L` values, and one sequence is a contiguous row-major `C x L` matrix. A
/// position-wise layer (Linear, the 1x1 parts of a ResBlock) is then one GEMM `W (Cout x Cin) * X_b
/// (Cin x L)` per sequence; a dilated convolution is K shifted GEMMs of the same form.
///
/// The scalar type is a template parameter everywhere (`float` by default); tests instantiate
/// `double` for finite-difference gradient checks.
///
/// Token ids enter the model as the same rank-3 type with one channel: `[batch, 1, length]`, the id
/// stored as a Scalar (0..6, see data/tokens.hpp). Variable-length batches carry their valid lengths
/// in the execution context (`CpuContext::lengths()`), not in the tensor.
///
/// Parameters are flat arrays with a shape (core/param.hpp); layers map them as matrices.
#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include <cstddef>

namespace nucleo {

using Index = Eigen::Index;

/// The activation type: `[batch, channels, length]`, row-major.
template <class Scalar = float>
using Tensor3 = Eigen::Tensor<Scalar, 3, Eigen::RowMajor, Eigen::Index>;

/// Row-major dynamic matrix (and its maps), the view of one sequence `C x L` or of a weight.
template <class Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using MatrixMap = Eigen::Map<RowMatrix<Scalar>>;
template <class Scalar>
using ConstMatrixMap = Eigen::Map<const RowMatrix<Scalar>>;

/// Shape accessors with the names used throughout the docs.
template <class S>
inline Index batch_size(const Tensor3<S>& t) { return t.dimension(0); }
template <class S>
inline Index channels(const Tensor3<S>& t) { return t.dimension(1); }
template <class S>
inline Index seq_length(const Tensor3<S>& t) { return t.dimension(2); }

/// The `C x L` matrix of sequence `b` of `t`.
template <class S>
inline MatrixMap<S> sequence(Tensor3<S>& t, Index b) {
  return MatrixMap<S>(t.data() + b * t.dimension(1) * t.dimension(2), t.dimension(1), t.dimension(2));
}
template <class S>
inline ConstMatrixMap<S> sequence(const Tensor3<S>& t, Index b) {
  return ConstMatrixMap<S>(t.data() + b * t.dimension(1) * t.dimension(2), t.dimension(1), t.dimension(2));
}

/// Resize `t` to `[b, c, l]` only if its shape differs (keeps the buffer across steps).
template <class S>
inline void ensure_shape(Tensor3<S>& t, Index b, Index c, Index l) {
  if (t.dimension(0) != b || t.dimension(1) != c || t.dimension(2) != l) t.resize(b, c, l);
}

/// Same shape as `like`.
template <class S>
inline void ensure_shape_like(Tensor3<S>& t, const Tensor3<S>& like) {
  ensure_shape(t, like.dimension(0), like.dimension(1), like.dimension(2));
}

}  // namespace nucleo
