#pragma once
/// `ArgParser`: a small command-line parser for nucleo's example programs.
///
///   ArgParser p("nucleo-data export", "Export a split as FASTA + label TSV");
///   p.option("--split", "train, valid or test", "test").option("--out", "output directory")
///    .flag("--verbose", "more output");
///   p.parse(argc, argv, 2);            // argv[2..] (argv[1] was the sub-command)
///   if (p.help_requested()) { std::cout << p.help(); return 0; }
///   std::string out = p.get("--out");  // ConfigError if missing and without default
///
/// Accepted syntax: "--name value", "--name=value", flags "--name", "-h"/"--help", positionals in
/// order, and "--" after which everything is positional. Errors (unknown option, missing value,
/// value given to a flag, too many/missing positionals, non-numeric value for get_int/get_double)
/// throw ConfigError with a message that names the option and ends with "(see --help)".
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nucleo/core/error.hpp"

namespace nucleo::apps {

class ArgParser {
 public:
  ArgParser(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

  /// An option taking a value; without `default_value` it is required unless help is requested.
  ArgParser& option(std::string name, std::string help, std::optional<std::string> default_value = std::nullopt,
                    std::string metavar = "VALUE") {
    specs_.push_back(Spec{std::move(name), std::move(help), std::move(default_value), std::move(metavar), false});
    return *this;
  }
  /// An optional option without default: get() throws if absent, find() returns nullopt.
  ArgParser& optional_option(std::string name, std::string help, std::string metavar = "VALUE") {
    specs_.push_back(Spec{std::move(name), std::move(help), std::nullopt, std::move(metavar), false, true});
    return *this;
  }
  /// A boolean switch.
  ArgParser& flag(std::string name, std::string help) {
    specs_.push_back(Spec{std::move(name), std::move(help), std::nullopt, "", true});
    return *this;
  }
  /// A positional argument (in declaration order).
  ArgParser& positional(std::string name, std::string help, bool required = true) {
    positional_specs_.push_back(Positional{std::move(name), std::move(help), required});
    return *this;
  }

  /// Parses argv[first..argc).
  void parse(int argc, const char* const* argv, int first = 1) {
    values_.clear();
    flags_.clear();
    positionals_.clear();
    help_ = false;
    bool only_positional = false;
    for (int i = first; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (!only_positional && a == "--") {
        only_positional = true;
        continue;
      }
      if (!only_positional && (a == "-h" || a == "--help")) {
        help_ = true;
        continue;
      }
      if (!only_positional && a.size() > 1 && a[0] == '-' && !is_number(a)) {
        const std::size_t eq = a.find('=');
        const std::string name(a.substr(0, eq));
        const Spec* s = spec(name);
        if (!s) fail(fmt::format("unknown option '{}'", name));
        if (s->is_flag) {
          if (eq != std::string_view::npos) fail(fmt::format("option '{}' is a switch and takes no value", name));
          flags_[name] = true;
          continue;
        }
        if (eq != std::string_view::npos) {
          values_[name] = std::string(a.substr(eq + 1));
        } else {
          if (i + 1 >= argc) fail(fmt::format("option '{}' needs a value ({})", name, s->metavar));
          values_[name] = argv[++i];
        }
        continue;
      }
      if (positionals_.size() >= positional_specs_.size())
        fail(fmt::format("unexpected argument '{}'", a));
      positionals_.emplace_back(a);
    }
    if (help_) return;
    for (std::size_t k = positionals_.size(); k < positional_specs_.size(); ++k)
      if (positional_specs_[k].required) fail(fmt::format("missing argument <{}>", positional_specs_[k].name));
    for (const auto& s : specs_)
      if (!s.is_flag && !s.is_optional && !s.default_value && !values_.count(s.name))
        fail(fmt::format("missing required option '{}'", s.name));
  }

  bool help_requested() const noexcept { return help_; }
  /// True if the option was given on the command line (not just defaulted), or the flag is set.
  bool given(const std::string& name) const { return values_.count(name) || flags_.count(name); }
  bool flag_set(const std::string& name) const {
    require_spec(name);
    return flags_.count(name) != 0;
  }
  std::optional<std::string> find(const std::string& name) const {
    const Spec& s = require_spec(name);
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    return s.default_value;
  }
  std::string get(const std::string& name) const {
    auto v = find(name);
    if (!v) fail(fmt::format("missing required option '{}'", name));
    return *v;
  }
  std::int64_t get_int(const std::string& name) const {
    const std::string v = get(name);
    std::int64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty())
      fail(fmt::format("option '{}' expects an integer, got '{}'", name, v));
    return x;
  }
  double get_double(const std::string& name) const {
    const std::string v = get(name);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || v.empty()) fail(fmt::format("option '{}' expects a number, got '{}'", name, v));
    return x;
  }
  /// Positional `name`, or its position's value; empty optional if not given.
  std::optional<std::string> positional_value(const std::string& name) const {
    for (std::size_t k = 0; k < positional_specs_.size(); ++k)
      if (positional_specs_[k].name == name)
        return k < positionals_.size() ? std::optional<std::string>(positionals_[k]) : std::nullopt;
    throw ConfigError(fmt::format("{}: no positional argument named '{}' was declared", program_, name));
  }
  const std::vector<std::string>& positionals() const noexcept { return positionals_; }

  /// Usage text listing every option with its help and default.
  std::string help() const {
    std::string usage = "usage: " + program_;
    for (const auto& p : positional_specs_) usage += p.required ? " <" + p.name + ">" : " [" + p.name + "]";
    if (!specs_.empty()) usage += " [options]";
    std::string s = usage + "\n\n" + summary_ + "\n";
    if (!positional_specs_.empty()) {
      s += "\narguments:\n";
      for (const auto& p : positional_specs_) s += fmt::format("  {:<24}{}\n", p.name, p.help);
    }
    s += "\noptions:\n";
    for (const auto& o : specs_) {
      const std::string lhs = o.is_flag ? o.name : o.name + " " + o.metavar;
      std::string h = o.help;
      if (o.default_value) h += fmt::format(" (default: {})", *o.default_value);
      else if (!o.is_flag && !o.is_optional) h += " (required)";
      s += fmt::format("  {:<24}{}\n", lhs, h);
    }
    s += fmt::format("  {:<24}{}\n", "-h, --help", "show this help");
    return s;
  }

 private:
  struct Spec {
    std::string name, help;
    std::optional<std::string> default_value;
    std::string metavar;
    bool is_flag = false;
    bool is_optional = false;
  };
  struct Positional {
    std::string name, help;
    bool required = true;
  };

  static bool is_number(std::string_view a) {
    double x = 0;
    auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), x);
    return ec == std::errc() && p == a.data() + a.size();
  }
  const Spec* spec(const std::string& name) const {
    for (const auto& s : specs_)
      if (s.name == name) return &s;
    return nullptr;
  }
  const Spec& require_spec(const std::string& name) const {
    const Spec* s = spec(name);
    if (!s) throw ConfigError(fmt::format("{}: option '{}' was never declared", program_, name));
    return *s;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("{}: {} (see --help)", program_, what));
  }

  std::string program_, summary_;
  std::vector<Spec> specs_;
  std::vector<Positional> positional_specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

}  // namespace nucleo::apps
