#pragma once
/// `Param<Scalar>`: one trainable tensor, its gradient and its shape.
///
/// Values are stored flat (row-major order of `shape`) so optimizers, gradient clipping and
/// checkpoints treat every parameter alike; layers map them as matrices. A Param carries no name:
/// names are the dotted paths `visit_params` builds ("0.2.body.0.weight"), so a copied model keeps
/// correct names and no pointers need rebinding.
#include "nucleo/core/tensor.hpp"

#include <Eigen/Core>

#include <numeric>
#include <string>
#include <vector>

namespace nucleo {

/// What a parameter is, for optimizers that treat kinds differently (AdamW can skip weight decay
/// on biases and normalisation gains).
enum class ParamKind { weight, bias, norm };

template <class Scalar = float>
struct Param {
  using scalar_type = Scalar;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  Array value;                 ///< the parameter, flat, row-major in `shape`
  Array grad;                  ///< d loss / d value, same size; accumulated by backward()
  std::vector<Index> shape;    ///< e.g. {Cout, Cin, K} for a convolution weight
  ParamKind kind = ParamKind::weight;
  /// Multiplies the optimizer's learning rate for this tensor (not saved: the layer that owns it
  /// sets it). A CRF's few transition scores, for one, can learn faster than the network's weights.
  Scalar lr_scale = Scalar(1);

  Param() = default;
  explicit Param(std::vector<Index> shp, ParamKind k = ParamKind::weight) { reset_shape(std::move(shp), k); }

  void reset_shape(std::vector<Index> shp, ParamKind k = ParamKind::weight) {
    shape = std::move(shp);
    kind = k;
    const Index n = std::accumulate(shape.begin(), shape.end(), Index{1}, std::multiplies<Index>());
    value = Array::Zero(n);
    grad = Array::Zero(n);
  }

  Index size() const { return value.size(); }
  void zero_grad() { grad.setZero(); }

  /// The value viewed as a rows x cols row-major matrix (rows * cols == size()).
  MatrixMap<Scalar> matrix(Index rows, Index cols) { return MatrixMap<Scalar>(value.data(), rows, cols); }
  ConstMatrixMap<Scalar> matrix(Index rows, Index cols) const {
    return ConstMatrixMap<Scalar>(value.data(), rows, cols);
  }
  MatrixMap<Scalar> grad_matrix(Index rows, Index cols) { return MatrixMap<Scalar>(grad.data(), rows, cols); }
};

/// "[64, 7, 9]" for messages and checkpoints.
inline std::string shape_string(const std::vector<Index>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace nucleo
