#pragma once
// The allowed transitions of a constraint set as (from, to) pairs, for comparing sets in tests.
#include "nucleo/losses/crf_constraints.hpp"

#include <set>
#include <utility>

namespace nucleo::testing {

inline std::set<std::pair<int, int>> allowed_set(const CrfConstraints& c) {
  std::set<std::pair<int, int>> s;
  for (int i = 0; i < c.num_tags(); ++i)
    for (int j = 0; j < c.num_tags(); ++j)
      if (c.allowed(i, j)) s.insert({i, j});
  return s;
}

}  // namespace nucleo::testing
