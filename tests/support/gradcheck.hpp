#pragma once
// Catch2 glue for the public gradient checker (nucleo/testing/gradcheck.hpp): REQUIRE_GRADCHECK(result)
// fails the test case and prints the checker's figures and failures.
#include "nucleo/testing/gradcheck.hpp"

#include <catch2/catch.hpp>

#define REQUIRE_GRADCHECK(res)                                                          \
  do {                                                                                  \
    const auto& r_ = (res);                                                             \
    INFO("checked " << r_.checked << " elements; worst rel " << r_.worst_rel << " at " \
                    << r_.worst_where << "; worst abs " << r_.worst_abs);               \
    for (const auto& f_ : r_.failures) INFO(f_);                                        \
    CHECK(r_.dx_assigned);                                                              \
    REQUIRE(r_.ok);                                                                     \
  } while (0)
