#pragma once
/// Experiment configuration as JSON: defaults, a configuration file merged over them, and
/// command-line overrides of any field (`--set finetune.steps=500`, `--set model=medium`).
///
/// Every key of the file and of an override must exist in the defaults (a typo is a ConfigError
/// naming the key and the file); values keep the defaults' types (an integer setting rejects 1.5,
/// null is rejected; an override's value is parsed as JSON when it parses, else taken as a string).
/// The configuration used is saved beside every result (`config.json`), so a number in a table can
/// be traced to its settings.
#include "nucleo/core/error.hpp"
#include "nucleo/data/gene_dataset.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/detail/atomic_write.hpp"
#include "nucleo/detail/head_layers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

namespace detail {
inline void check_known_keys(const nlohmann::json& defaults, const nlohmann::json& given, const std::string& where,
                             const std::string& path = "") {
  if (!given.is_object()) return;
  for (const auto& [k, v] : given.items()) {
    const std::string full = path.empty() ? k : path + "." + k;
    if (!defaults.is_object() || !defaults.contains(k))
      throw ConfigError(fmt::format("{}: unknown setting '{}'", where, full));
    const auto& d = defaults.at(k);
    // null would delete the setting (JSON merge patch) and fail far from here
    if (v.is_null() && !d.is_null())
      throw ConfigError(fmt::format("{}: '{}' is null (settings cannot be removed; give a value)", where, full));
    if (d.is_object() && !d.empty()) {
      if (!v.is_object()) throw ConfigError(fmt::format("{}: '{}' must be an object", where, full));
      check_known_keys(d, v, where, full);
    } else if (!d.is_null()) {
      const bool both_numbers = d.is_number() && v.is_number();
      if (!both_numbers && d.type() != v.type())
        throw ConfigError(fmt::format("{}: '{}' must be a {} (got {})", where, full, d.type_name(), v.dump()));
      if (d.is_number_integer() && v.is_number_float())
        throw ConfigError(fmt::format("{}: '{}' must be an integer (got {})", where, full, v.dump()));
    }
  }
}
}  // namespace detail

/// `defaults` with the file at `path` merged over it (RFC 7386 merge patch), checked.
inline nlohmann::json load_config(const nlohmann::json& defaults, const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("{}: cannot open the configuration file", path.string()));
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
  detail::check_known_keys(defaults, file, path.string());
  nlohmann::json merged = defaults;
  merged.merge_patch(file);
  return merged;
}

/// Apply one "a.b.c=value" override to `config`.
inline void apply_override(nlohmann::json& config, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(fmt::format("--set '{}': expected key=value, e.g. finetune.steps=500", assignment));
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;
  }
  nlohmann::json patch = value;
  std::vector<std::string> parts;
  for (std::size_t s = 0;;) {
    const auto dot = key.find('.', s);
    parts.push_back(key.substr(s, dot == std::string::npos ? std::string::npos : dot - s));
    if (dot == std::string::npos) break;
    s = dot + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) patch = nlohmann::json{{*it, patch}};
  detail::check_known_keys(config, patch, "--set " + std::string(assignment));
  config.merge_patch(patch);
}

/// Write `config` as pretty JSON to `path` (temporary file, then rename).
inline void save_config(const nlohmann::json& config, const std::filesystem::path& path) {
  detail::write_file_atomic(path, config.dump(2) + "\n");
}

/// Create `out` for a run of `config`, or accept it when it holds a run of the same configuration
/// (which then resumes); a directory holding another configuration is a ConfigError, since it would
/// be resumed with the wrong settings. Saves `config` as `out`/config.json.
inline void claim_output_dir(const std::filesystem::path& out, const nlohmann::json& config) {
  std::filesystem::create_directories(out);
  const auto saved = out / "config.json";
  if (std::filesystem::exists(saved)) {
    std::ifstream in(saved);
    nlohmann::json old;
    try {
      in >> old;
    } catch (const std::exception&) {
      old = nullptr;
    }
    if (old != config)
      throw ConfigError(fmt::format("{} holds a run with a different configuration ({}); choose another --out or "
                                    "remove it (the same configuration resumes where it stopped)",
                                    out.string(), saved.string()));
  }
  save_config(config, saved);
}

/// Remove every "--set key=value" / "--set=key=value" from argv (argc shrinks) and return the
/// assignments in order, for `apply_override` (ArgParser keeps one value per option).
inline std::vector<std::string> take_set_overrides(int& argc, const char** argv) {
  std::vector<std::string> sets;
  int w = 1;
  for (int r = 1; r < argc; ++r) {
    const std::string a = argv[r];
    if (a == "--set" && r + 1 < argc) {
      sets.emplace_back(argv[++r]);
    } else if (a.rfind("--set=", 0) == 0) {
      sets.emplace_back(a.substr(6));
    } else {
      argv[w++] = argv[r];
    }
  }
  if (w < argc) argv[w] = nullptr;  // keep the C convention argv[argc] == nullptr (within the old range)
  argc = w;
  return sets;
}

/// The config's "mask" section as MlmMaskingOptions (the seed comes from the stage).
inline MlmMaskingOptions masking_from_config(const nlohmann::json& cfg) {
  MlmMaskingOptions m;
  m.p = cfg.at("mask").at("p").get<double>();
  m.mask_fraction = cfg.at("mask").at("mask_fraction").get<double>();
  m.random_fraction = cfg.at("mask").at("random_fraction").get<double>();
  return m;
}

/// The config's "head_activation" ("gelu" or "relu").
inline Activation activation_from_config(const nlohmann::json& cfg) {
  const auto a = cfg.at("head_activation").get<std::string>();
  if (a == "gelu") return Activation::gelu;
  if (a == "relu") return Activation::relu;
  throw ConfigError(fmt::format("head_activation must be gelu or relu, got '{}'", a));
}

/// The config's "arms", each checked against the arm names `known` (a ConfigError naming the
/// unknown one and listing the known ones).
inline std::vector<std::string> arms_from_config(const nlohmann::json& cfg, const std::vector<std::string>& known) {
  auto arms = cfg.at("arms").get<std::vector<std::string>>();
  for (const auto& a : arms)
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(fmt::format("unknown arm '{}' (expected one of: {})", a, list));
    }
  return arms;
}

/// `data.train_fraction` checked: a ConfigError unless it is in (0, 1].
inline double checked_train_fraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    throw ConfigError(fmt::format("data.train_fraction must be in (0, 1], got {}", fraction));
  return fraction;
}

/// Whether the example named `id` belongs to the `data.train_fraction` subset: a hash of the name
/// below `fraction`, so subsets are nested (10% lies inside 25%) and independent of file order.
inline bool in_train_fraction(std::string_view id, double fraction) {
  return static_cast<double>(fnv1a64("subset:" + std::string(id)) % 1000000) < fraction * 1e6;
}

}  // namespace nucleo
