#pragma once
/// Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_`:
///
///     n = sqrt( sum over every parameter element of grad^2 )
///     if n > max_norm:  grad <- grad * max_norm / (n + 1e-6)
///
/// `clip_grad_norm(model, max_norm)` returns n, the norm *before* clipping (log it). The sum runs
/// in double, over parameters in visiting order, so it is deterministic. A non-finite norm is
/// returned as is and the gradients are left untouched (the caller decides to skip the step).
#include "nucleo/detail/param_list.hpp"

#include <cmath>
#include <string_view>

namespace nucleo {

/// Global L2 norm of every parameter gradient of `model`.
template <class Model>
double grad_norm(Model& model) {
  double sum = 0;
  model.visit_params([&](std::string_view, auto& p) {
    double s = 0;
    for (Index i = 0; i < p.grad.size(); ++i) s += static_cast<double>(p.grad[i]) * static_cast<double>(p.grad[i]);
    sum += s;
  });
  return std::sqrt(sum);
}

/// Scale all gradients so that their global norm is at most `max_norm`; returns the norm before.
template <class Model>
double clip_grad_norm(Model& model, double max_norm) {
  const double n = grad_norm(model);
  if (!std::isfinite(n) || !(max_norm > 0) || n <= max_norm) return n;
  const double scale = max_norm / (n + 1e-6);
  model.visit_params([&](std::string_view, auto& p) {
    using S = typename std::decay_t<decltype(p)>::scalar_type;
    p.grad *= static_cast<S>(scale);
  });
  return n;
}

}  // namespace nucleo
