#pragma once
// loss_gradcheck(loss, ctx, logits, targets): central finite differences of loss.value_and_grad's
// value with respect to every logit, compared with its dlogits (instantiate the loss with double).
// dlogits is pre-filled with NaN: value_and_grad must ASSIGN every element.
#include "nucleo/testing/gradcheck.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace nucleo::testing {

template <class F, class Ctx, class T>
GradcheckResult loss_gradcheck(F& loss, Ctx& ctx, Tensor3<double> logits, const T& targets,
                               const GradcheckOptions& o = {}) {
  static_assert(std::is_same_v<typename F::scalar_type, double>, "loss_gradcheck: instantiate the loss with double");
  GradcheckResult r;
  Tensor3<double> d(logits.dimensions()), scratch;
  d.setConstant(std::numeric_limits<double>::quiet_NaN());
  loss.value_and_grad(ctx, logits, targets, d);
  for (Index i = 0; i < d.size(); ++i)
    if (std::isnan(d.data()[i])) r.dx_assigned = false;
  r.ok = r.dx_assigned;
  for (Index i = 0; i < logits.size(); ++i) {
    const double keep = logits.data()[i];
    logits.data()[i] = keep + o.eps;
    const double fp = loss.value_and_grad(ctx, logits, targets, scratch);
    logits.data()[i] = keep - o.eps;
    const double fm = loss.value_and_grad(ctx, logits, targets, scratch);
    logits.data()[i] = keep;
    const double a = d.data()[i], n = (fp - fm) / (2 * o.eps);
    double rel, abs;
    ++r.checked;
    const bool pass = detail_gc::close(a, n, o, rel, abs);
    r.worst_abs = std::max(r.worst_abs, abs);
    if (rel > r.worst_rel && abs >= o.abs_tol) {
      r.worst_rel = rel;
      r.worst_where = "logits[" + std::to_string(i) + "]";
    }
    if (!pass) {
      r.ok = false;
      if (r.failures.size() < 10)
        r.failures.push_back("logits[" + std::to_string(i) + "]: analytic " + std::to_string(a) + " numeric " +
                             std::to_string(n));
    }
  }
  return r;
}

}  // namespace nucleo::testing
