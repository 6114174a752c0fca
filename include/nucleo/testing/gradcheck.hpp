#pragma once
/// `nucleo::testing::gradcheck(layer, ctx, x, options)`: finite-difference check of a layer's
/// backward, for anyone writing a layer (docs/extending.md). Needs no test framework: it returns a
/// `GradcheckResult` (testing/gradcheck_result.hpp) whose `ok` the caller checks and whose
/// `summary()` says what failed.
///
/// ```
/// MyLayer<double> layer;                                   // instantiate with Scalar = double
/// nucleo::testing::randomize_params(layer, 1);             // testing/random.hpp
/// nucleo::CpuContext ctx(1);
/// auto r = nucleo::testing::gradcheck(layer, ctx, nucleo::testing::random_tensor<double>(2, 3, 5, 2));
/// if (!r.ok) std::cerr << r.summary() << "\n";
/// ```
///
/// What is checked. With a random dy (uniform in [-1, 1), from `options.seed`) and
/// f(x, W) = <layer(x), dy>, the central difference (f(+eps) - f(-eps)) / 2 eps for every element of
/// x and of every parameter is compared with what backward gave; an element passes if its relative
/// error < `rel_tol` OR its absolute error < `abs_tol`. Backward's contract (core/concepts.hpp) is
/// checked at the same time: dx is pre-filled with NaN, so an element backward does not ASSIGN fails
/// (`dx_assigned`); every `Param::grad` is pre-filled with `grad_prefill` and the prefill subtracted
/// afterwards, so a backward that assigns parameter gradients instead of ACCUMULATING them fails.
/// Backward is called with the same x as the forward before it, as the Layer concept promises.
///
/// Requirements. The layer's `scalar_type` must be double (float's rounding swamps the difference
/// quotient). The forward must be deterministic: evaluate Dropout with `ctx.set_training(false)`.
/// The lengths in `ctx` (ctx.set_lengths) apply to every forward and backward, so a padded batch can
/// be checked as is. Cost: two forwards per element of x and of the parameters; keep shapes small.
/// Inputs at kinks (ReLU at 0) can be skipped with `options.skip_input`; layers whose input is not
/// differentiable (token ids) set `options.check_input = false`.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/core/tensor.hpp"
#include "nucleo/testing/gradcheck_options.hpp"
#include "nucleo/testing/gradcheck_result.hpp"
#include "nucleo/testing/random.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nucleo::testing {

/// Check `layer`'s backward against central differences at input `x` (copied: it is perturbed).
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

}  // namespace nucleo::testing
