#pragma once
/// Experiment configuration as JSON: defaults, a configuration file merged over them, and
/// command-line overrides of any field (`--set finetune.steps=500`, `--set model=medium`).
///
/// Every key of the file and of an override must exist in the defaults (a typo is a ConfigError
/// naming the key and the file); values keep the defaults' types (an integer setting rejects 1.5,
/// null is rejected; an override's value is parsed as JSON when it parses, else taken as a string).
/// The configuration used is saved beside every result (`config.json`), so a number in a table can
/// be traced to its settings.
///
/// JSON is read strictly (`parse_config_json`): a key given twice in one object (JSON parsers
/// differ on which value wins, nlohmann keeps the last), a number that overflows a double
/// (`1e999`), and a document that is not an object (an array) are ConfigErrors naming the file or
/// the `--set`, the line and the key.
#include "nucleo/core/error.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/data/mlm_masking.hpp"
#include "nucleo/detail/atomic_write.hpp"
#include "nucleo/heads/activation.hpp"
#include "nucleo/detail/output_paths.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::apps {

namespace detail {
/// `v` as JSON text for a message (invalid UTF-8 replaced, never a throw).
inline std::string shown(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline void check_known_keys(const nlohmann::json& defaults, const nlohmann::json& given, const std::string& where,
                             const std::string& path = "") {
  if (!given.is_object()) return;
  for (const auto& [k, v] : given.items()) {
    const std::string full = path.empty() ? k : path + "." + k;
    if (!defaults.is_object() || !defaults.contains(k))
      throw ConfigError(fmt::format("{}: unknown setting '{}'", where, full));
    const auto& d = defaults.at(k);
    // null where the default is a value: a setting cannot be removed (it would fail far from here)
    if (v.is_null() && !d.is_null())
      throw ConfigError(fmt::format("{}: '{}' is null (settings cannot be removed; give a value)", where, full));
    if (d.is_object() && !d.empty()) {
      if (!v.is_object()) throw ConfigError(fmt::format("{}: '{}' must be an object", where, full));
      check_known_keys(d, v, where, full);
    } else if (!d.is_null()) {
      const bool both_numbers = d.is_number() && v.is_number();
      if (!both_numbers && d.type() != v.type())
        throw ConfigError(fmt::format("{}: '{}' must be a {} (got {})", where, full, d.type_name(), shown(v)));
      if (d.is_number_integer() && v.is_number_float())
        throw ConfigError(fmt::format("{}: '{}' must be an integer (got {})", where, full, shown(v)));
      // a list whose default elements share one type (numbers, strings, booleans) takes that type only
      if (d.is_array() && !d.empty()) {
        const auto kind = [](const nlohmann::json& x) { return x.is_number() ? nlohmann::json::value_t::number_float : x.type(); };
        const bool uniform = std::all_of(d.begin(), d.end(), [&](const nlohmann::json& x) { return kind(x) == kind(d[0]); });
        if (uniform)
          for (const auto& x : v)
            if (kind(x) != kind(d[0]))
              throw ConfigError(fmt::format("{}: '{}' must be a list of {}s (got {})", where, full,
                                            d[0].is_number() ? "number" : d[0].type_name(), shown(x)));
      }
    }
  }
}

/// `patch` merged into `target`: objects key by key, anything else replaced. Unlike a JSON merge
/// patch (RFC 7386), null is a value, not a deletion: settings whose default is null (off) can be
/// set back to null, and a saved config.json read back equals what was saved.
inline void merge_settings(nlohmann::json& target, const nlohmann::json& patch) {
  if (!patch.is_object() || !target.is_object()) {
    target = patch;
    return;
  }
  for (const auto& [k, v] : patch.items()) {
    if (v.is_object() && target.contains(k) && target[k].is_object()) merge_settings(target[k], v);
    else target[k] = v;
  }
}

/// An input iterator over text that records how far the JSON parser has read (for line numbers).
class JsonReadPosition {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  JsonReadPosition(const char* p, const char* base, std::size_t* furthest) : p_(p), base_(base), furthest_(furthest) {}
  reference operator*() const { return *p_; }
  JsonReadPosition& operator++() {
    ++p_;
    *furthest_ = static_cast<std::size_t>(p_ - base_);
    return *this;
  }
  JsonReadPosition operator++(int) {
    JsonReadPosition old = *this;
    ++*this;
    return old;
  }
  bool operator==(const JsonReadPosition& o) const { return p_ == o.p_; }
  bool operator!=(const JsonReadPosition& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char* base_;
  std::size_t* furthest_;
};

/// `parse()`, its ConfigErrors (and JSON type errors) naming the setting `key` when they do not yet,
/// and `where` (the configuration's source) when given.
template <class Parse>
auto config_setting(const std::string& where, const std::string& key, Parse&& parse) -> decltype(parse()) {
  auto named = [&](const std::string& msg) {
    const std::string m = msg.find(key) == std::string::npos ? fmt::format("'{}': {}", key, msg) : msg;
    return ConfigError(where.empty() ? m : fmt::format("{}: {}", where, m));
  };
  try {
    return parse();
  } catch (const ConfigError& e) {
    throw named(e.what());
  } catch (const nlohmann::json::exception& e) {
    throw named(e.what());
  }
}

/// 1-based line of byte `at` of `text`.
inline long line_of(std::string_view text, std::size_t at) {
  at = std::min(at, text.size());
  return 1 + static_cast<long>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

}  // namespace detail

/// Parses `text` (JSON with comments) strictly: ConfigError "<where>:<line>: ..." for a syntax
/// error, a key repeated within one object, or a number that overflows a double; the message
/// names the key being read. `where` names the source (a file, or "--set key=value").
inline nlohmann::json parse_config_json(std::string_view text, const std::string& where, bool with_lines = true) {
  std::size_t furthest = 0;
  std::vector<std::set<std::string>> keys;  // per open object: its keys so far
  std::vector<std::string> path;            // the key of each open object level, and the last key
  std::vector<std::size_t> object_depth;    // path length when each open object started
  auto key_path = [&] {
    std::string k;
    for (const auto& p : path) k += (k.empty() ? "" : ".") + p;
    return k;
  };
  auto fail = [&](std::size_t at, const std::string& what) {
    const std::string k = key_path();
    return ConfigError(fmt::format("{}{}: {}{}", where, with_lines ? fmt::format(":{}", detail::line_of(text, at)) : "", what,
                                   k.empty() ? std::string() : fmt::format(" (setting '{}')", k)));
  };
  nlohmann::json::parser_callback_t cb = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      keys.emplace_back();
      object_depth.push_back(path.size());
    } else if (event == E::key) {
      const std::string key = parsed.get<std::string>();
      path.resize(object_depth.back());
      path.push_back(key);
      if (!keys.back().insert(key).second)
        throw fail(furthest == 0 ? 0 : furthest - 1,
                   "key given twice in one object (only one value could be used; remove the other)");
    } else if (event == E::object_end) {
      keys.pop_back();
      path.resize(object_depth.back());
      object_depth.pop_back();
    }
    return true;
  };
  const detail::JsonReadPosition first(text.data(), text.data(), &furthest),
      last(text.data() + text.size(), text.data(), &furthest);
  try {
    return nlohmann::json::parse(first, last, cb, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 2, column 9: syntax error ..." -> the part after the position
    std::string m = e.what();
    const std::size_t col = m.find("column ");
    const std::size_t colon = col == std::string::npos ? std::string::npos : m.find(": ", col);
    if (colon != std::string::npos) m = m.substr(colon + 2);
    throw fail(e.byte == 0 ? 0 : e.byte - 1, "not valid JSON: " + m);
  } catch (const nlohmann::json::out_of_range&) {  // 406: a number too large for a double
    // the number just read: the last run of number characters before the parser's position
    constexpr std::string_view number_chars = "0123456789+-.eE";
    std::size_t e = std::min(furthest, text.size());
    while (e > 0 && number_chars.find(text[e - 1]) == std::string_view::npos) --e;
    std::size_t b = e;
    while (b > 0 && number_chars.find(text[b - 1]) != std::string_view::npos) --b;
    throw fail(b, fmt::format("the number {} is out of range (it overflows a double)", text.substr(b, e - b)));
  }
}

/// `defaults` with the configuration `text` merged over it (detail::merge_settings), checked;
/// `where` names the source in errors.
inline nlohmann::json config_from_text(const nlohmann::json& defaults, std::string_view text, const std::string& where) {
  const nlohmann::json file = parse_config_json(text, where);
  if (!file.is_object())
    throw ConfigError(fmt::format("{}: a configuration is a JSON object {{\"key\": value, ...}}, not a {} ({})", where,
                                  file.type_name(), detail::shown(file).substr(0, 40)));
  detail::check_known_keys(defaults, file, where);
  nlohmann::json merged = defaults;
  detail::merge_settings(merged, file);
  return merged;
}

/// `defaults` with the file at `path` merged over it (detail::merge_settings), checked.
inline nlohmann::json load_config(const nlohmann::json& defaults, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open the configuration file", path.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return config_from_text(defaults, text, path.string());
}

/// Apply one "a.b.c=value" override to `config`.
inline void apply_override(nlohmann::json& config, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(fmt::format("--set '{}': expected key=value, e.g. finetune.steps=500", assignment));
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  nlohmann::json value;
  const std::string where = "--set " + std::string(assignment);
  try {
    value = parse_config_json(text, where, /*with_lines=*/false);
  } catch (const ConfigError& e) {
    // Not JSON: taken as a string (--set model=medium), unless it is JSON gone wrong: a repeated key
    // or a number out of range.
    const std::string m = e.what();
    if (m.find("not valid JSON") == std::string::npos) throw;
    value = text;
    try {
      (void)value.dump();  // it will be saved as config.json
    } catch (const nlohmann::json::type_error&) {
      throw ConfigError(fmt::format("{}: the value is not valid UTF-8 text", where));
    }
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
  detail::merge_settings(config, patch);
}

/// Write `config` as pretty JSON to `path` (temporary file, then rename).
inline void save_config(const nlohmann::json& config, const std::filesystem::path& path) {
  nucleo::detail::write_file_atomic(path, config.dump(2) + "\n");
}

/// Create `out` for a run of `config`, or accept it when it holds a run of the same configuration
/// (which then resumes); a directory holding another configuration is a ConfigError, since it would
/// be resumed with the wrong settings. Saves `config` as `out`/config.json (not rewritten when it
/// is already there). `command`, if not null, holds what the command line adds to the configuration
/// (the command, --init, --crf, ...): it is kept in `out`/command.json and must match too. Call it
/// after every check of the configuration, so that a refused run writes nothing. Temporary files
/// that a killed process left in `out` are removed.
inline void claim_output_dir(const std::filesystem::path& out, const nlohmann::json& config,
                             const nlohmann::json& command = nullptr) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec))
    throw IoError(fmt::format("{}: --out must be a directory, and this is a file", out.string()));
  std::filesystem::create_directories(out, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the output directory: {}", out.string(), ec.message()));
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception&) {
      j = "(unreadable)";
    }
    return j;
  };
  const auto saved = out / "config.json", saved_command = out / "command.json";
  const bool has_config = std::filesystem::exists(saved), has_command = std::filesystem::exists(saved_command);
  if (has_config && read(saved) != config)
    throw ConfigError(fmt::format("{} holds a run with a different configuration ({}); choose another --out or "
                                  "remove it (the same configuration resumes where it stopped)",
                                  out.string(), saved.string()));
  if ((has_config || has_command) && (has_command ? read(saved_command) : nlohmann::json(nullptr)) != command)
    throw ConfigError(fmt::format("{} holds a run of another command or other options ({}: {}; now: {}); choose "
                                  "another --out or remove it",
                                  out.string(), saved_command.filename().string(),
                                  has_command ? detail::shown(read(saved_command)) : "none", detail::shown(command)));
  if (!command.is_null() && !has_command) save_config(command, saved_command);
  if (!has_config) save_config(config, saved);
  nucleo::detail::remove_stale_temporaries(out);  // results.json etc. that a killed run was writing
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

}  // namespace nucleo::apps
