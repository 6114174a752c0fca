#pragma once
/// `GradcheckOptions`: step, tolerances and switches of `nucleo::testing::gradcheck`
/// (testing/gradcheck.hpp, which documents the check itself).
#include "nucleo/core/tensor.hpp"

#include <cstdint>
#include <functional>

namespace nucleo::testing {

struct GradcheckOptions {
  double eps = 1e-6;          ///< central-difference step
  double rel_tol = 1e-4;      ///< an element passes if its relative error is below rel_tol ...
  double abs_tol = 1e-6;      ///< ... or its absolute error is below abs_tol
  double grad_prefill = 0.5;  ///< every Param::grad starts at this; backward must add onto it
  bool check_input = true;    ///< false for layers whose input is not differentiable (OneHot's ids)
  std::function<bool(Index)> skip_input;  ///< if set, input elements it returns true for are skipped (kinks: ReLU at 0)
  std::uint64_t seed = 42;    ///< seed of the random dy
};

}  // namespace nucleo::testing
