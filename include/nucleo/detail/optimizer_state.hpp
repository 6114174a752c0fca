#pragma once
// Not API. The "params" sizes of an optimizer's state JSON (AdamW, Sgd), checked before any state
// is allocated: each a non-negative integer, and all of them (times the tensors kept per
// parameter) within `max_elements` when that is >= 0. A checkpoint passes the number of elements
// its file holds, so a damaged or forged size is refused instead of allocating without limit.
#include "nucleo/core/error.hpp"
#include "nucleo/core/tensor.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nucleo::detail {

inline std::vector<std::pair<std::string, Index>> checked_state_sizes(const nlohmann::json& state, Index max_elements,
                                                                       Index tensors_per_param) {
  const auto& params = state.at("params");
  if (!params.is_object()) throw ConfigError("optimizer state: 'params' is not an object of sizes");
  std::vector<std::pair<std::string, Index>> sizes;
  Index total = 0;
  for (const auto& [name, n] : params.items()) {
    // state_json() writes sizes as signed integers; nlohmann reads non-negative ones as unsigned
    if (!n.is_number_integer() || (!n.is_number_unsigned() && n.get<std::int64_t>() < 0))
      throw ConfigError(fmt::format("optimizer state: the size of '{}' is not a non-negative integer ({})", name, n.dump()));
    const auto v = n.get<std::uint64_t>();
    const auto limit = static_cast<std::uint64_t>(max_elements >= 0 ? max_elements : INT64_MAX / 4);
    if (v > limit / static_cast<std::uint64_t>(tensors_per_param) ||
        static_cast<std::uint64_t>(total) + v * static_cast<std::uint64_t>(tensors_per_param) > limit)
      throw ConfigError(fmt::format("optimizer state: '{}' asks for {} elements, more than the {} available", name, v,
                                    limit));
    total += static_cast<Index>(v) * tensors_per_param;
    sizes.emplace_back(name, static_cast<Index>(v));
  }
  return sizes;
}

}  // namespace nucleo::detail
