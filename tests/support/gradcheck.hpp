#pragma once
// gradcheck(layer, ctx, x): finite-difference check of a layer's backward (dlib's test_layer, in
// nucleo's terms). Instantiate layers with Scalar = double.
//
// f(x, W) = <layer(x), dy> with a random dy. For every input element and every parameter element,
// the central difference (f(+eps) - f(-eps)) / 2eps is compared with backward's gradient; an
// element passes if the relative error < rel_tol OR the absolute error < abs_tol.
// Backward's contract is checked too: dx is pre-filled with NaN (must be ASSIGNED) and every
// Param::grad with `grad_prefill` (must be ACCUMULATED onto, so prefill is subtracted afterwards).
#include "nucleo/core/concepts.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace nucleo::testing {

struct GradcheckOptions {
  double eps = 1e-6;
  double rel_tol = 1e-4;
  double abs_tol = 1e-6;
  double grad_prefill = 0.5;
  bool check_input = true;                    // false for layers whose input is not differentiable (OneHot)
  std::function<bool(Index)> skip_input;      // skip input elements at kinks (ReLU at 0), if given
  std::uint64_t seed = 42;
};

struct GradcheckResult {
  bool ok = true;
  bool dx_assigned = true;        // no NaN left in dx
  double worst_rel = 0, worst_abs = 0;
  std::string worst_where;        // "input[17]" or "0.body.weight[3]"
  std::vector<std::string> failures;  // first few failing elements, with both values
  Index checked = 0;
};

namespace detail_gc {
inline bool close(double a, double n, const GradcheckOptions& o, double& rel, double& abs) {
  abs = std::abs(a - n);
  const double denom = std::max(std::abs(a), std::abs(n));
  rel = denom > 0 ? abs / denom : 0.0;
  return rel < o.rel_tol || abs < o.abs_tol;
}
}  // namespace detail_gc

template <class L, class Ctx>
GradcheckResult gradcheck(L& layer, Ctx& ctx, Tensor3<double> x, const GradcheckOptions& o = {}) {
  static_assert(std::is_same_v<typename L::scalar_type, double>, "gradcheck: instantiate the layer with double");
  GradcheckResult r;
  Tensor3<double> y, dy, dx;
  layer.forward(ctx, x, y);
  dy.resize(y.dimensions());
  Rng rng(o.seed, 7);
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = rng.uniform(-1.0, 1.0);

  auto f = [&](const Tensor3<double>& xin) {
    Tensor3<double> out;
    layer.forward(ctx, xin, out);
    double s = 0;
    for (Index i = 0; i < out.size(); ++i) s += out.data()[i] * dy.data()[i];
    return s;
  };

  // Analytic gradients, with the assign/accumulate contract armed.
  layer.forward(ctx, x, y);
  layer.visit_params([&](std::string_view, Param<double>& p) { p.grad.setConstant(o.grad_prefill); });
  dx.resize(x.dimensions());
  dx.setConstant(std::numeric_limits<double>::quiet_NaN());
  layer.backward(ctx, x, dy, dx);
  if (o.check_input) {
    for (Index i = 0; i < dx.size(); ++i)
      if (std::isnan(dx.data()[i])) r.dx_assigned = false;
    if (!r.dx_assigned) r.ok = false;
  }

  auto record = [&](double a, double n, const std::string& where) {
    double rel, abs;
    ++r.checked;
    const bool pass = detail_gc::close(a, n, o, rel, abs);
    if (abs > r.worst_abs) r.worst_abs = abs;
    if (rel > r.worst_rel && abs >= o.abs_tol) {
      r.worst_rel = rel;
      r.worst_where = where;
    }
    if (!pass) {
      r.ok = false;
      if (r.failures.size() < 10) r.failures.push_back(where + ": analytic " + std::to_string(a) + " numeric " + std::to_string(n));
    }
  };

  if (o.check_input) {
    for (Index i = 0; i < x.size(); ++i) {
      if (o.skip_input && o.skip_input(i)) continue;
      const double keep = x.data()[i];
      x.data()[i] = keep + o.eps;
      const double fp = f(x);
      x.data()[i] = keep - o.eps;
      const double fm = f(x);
      x.data()[i] = keep;
      record(dx.data()[i], (fp - fm) / (2 * o.eps), "input[" + std::to_string(i) + "]");
    }
  }

  // Parameter gradients: analytic = grad - prefill. Collect first, perturb after (visit order is fixed).
  std::vector<std::pair<std::string, Param<double>*>> params;
  layer.visit_params([&](std::string_view n, Param<double>& p) { params.emplace_back(std::string(n), &p); });
  for (auto& [name, p] : params) {
    for (Index i = 0; i < p->size(); ++i) {
      const double analytic = p->grad[i] - o.grad_prefill;
      const double keep = p->value[i];
      p->value[i] = keep + o.eps;
      const double fp = f(x);
      p->value[i] = keep - o.eps;
      const double fm = f(x);
      p->value[i] = keep;
      record(analytic, (fp - fm) / (2 * o.eps), name + "[" + std::to_string(i) + "]");
    }
  }
  return r;
}

/// Fill a tensor with uniform values in [lo, hi) from a seeded stream.
template <class S>
Tensor3<S> random_tensor(Index b, Index c, Index l, std::uint64_t seed, double lo = -1, double hi = 1) {
  Tensor3<S> t(b, c, l);
  Rng rng(seed, 11);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<S>(rng.uniform(lo, hi));
  return t;
}

/// Fill every parameter of `model` with uniform values in [lo, hi).
template <class Model>
void randomize_params(Model& model, std::uint64_t seed, double lo = -0.5, double hi = 0.5) {
  Rng rng(seed, 13);
  model.visit_params([&](std::string_view, auto& p) {
    for (Index i = 0; i < p.size(); ++i) p.value[i] = static_cast<typename std::decay_t<decltype(p)>::scalar_type>(rng.uniform(lo, hi));
  });
}

}  // namespace nucleo::testing

// Catch2 helper: REQUIRE_GRADCHECK(result) prints the failures.
#define REQUIRE_GRADCHECK(res)                                                          \
  do {                                                                                  \
    const auto& r_ = (res);                                                             \
    INFO("checked " << r_.checked << " elements; worst rel " << r_.worst_rel << " at " \
                    << r_.worst_where << "; worst abs " << r_.worst_abs);               \
    for (const auto& f_ : r_.failures) INFO(f_);                                        \
    CHECK(r_.dx_assigned);                                                              \
    REQUIRE(r_.ok);                                                                     \
  } while (0)
