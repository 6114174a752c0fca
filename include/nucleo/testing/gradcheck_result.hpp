#pragma once
/// `GradcheckResult`: what `nucleo::testing::gradcheck` (testing/gradcheck.hpp) found. Check `ok`;
/// `summary()` is a message to print when it is false.
#include "nucleo/core/tensor.hpp"
#include "nucleo/testing/gradcheck_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace nucleo::testing {

struct GradcheckResult {
  bool ok = true;                     ///< every checked element passed, and dx was assigned
  bool dx_assigned = true;            ///< backward wrote every element of dx (no NaN left)
  double worst_rel = 0, worst_abs = 0;
  std::string worst_where;            ///< "input[17]" or "0.body.weight[3]"
  std::vector<std::string> failures;  ///< the first 10 failing elements, with both values
  Index checked = 0;                  ///< elements compared

  /// One line of figures, then one line per listed failure.
  std::string summary() const {
    std::string s = fmt::format("gradcheck {}: {} elements checked; ", ok ? "passed" : "FAILED", checked);
    if (worst_where.empty())
      s += fmt::format("every absolute error below abs_tol (worst {:.3g})", worst_abs);
    else
      s += fmt::format("worst relative error {:.3g} at {} (of errors above abs_tol); worst absolute {:.3g}",
                       worst_rel, worst_where, worst_abs);
    if (!dx_assigned) s += "\n  dx still holds NaN after backward: backward must assign every element of dx";
    for (const auto& f : failures) s += "\n  " + f;
    return s;
  }
};

namespace detail_gc {
/// Does analytic `a` match numeric `n` under `o`'s tolerances? Sets the relative and absolute errors.
inline bool close(double a, double n, const GradcheckOptions& o, double& rel, double& abs) {
  abs = std::abs(a - n);
  const double denom = std::max(std::abs(a), std::abs(n));
  rel = denom > 0 ? abs / denom : 0.0;
  return rel < o.rel_tol || abs < o.abs_tol;
}
}  // namespace detail_gc

}  // namespace nucleo::testing
