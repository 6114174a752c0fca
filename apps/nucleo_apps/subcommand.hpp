#pragma once
/// What the command-line programs share (nucleo-gene-finding, nucleo-chromatin/-histone/-cpg,
/// nucleo-data, nucleo-annotate):
///
///   run_program       a program's body, its exceptions turned into messages and exit statuses:
///                     0 success, 1 error ("<program>: error: ..."), a ConfigError as 1 or, for the
///                     programs that call it a usage error, 2 ("<program>: ..."), 130 / 143 when
///                     SIGINT / SIGTERM stopped training (the state is saved)
///   subcommand_main   `<program> <command> [options]`: the --set assignments taken out of argv,
///                     the usage for no command or --help, the command run, an unknown one refused
///   experiment_args   an experiment sub-command's opening: --config FILE over the defaults, the
///                     --set assignments, --threads, --out (with the options add_experiment_options
///                     declares and progress_of reads)
#include "nucleo/core/error.hpp"
#include "nucleo/train/interrupted.hpp"
#include "nucleo/train/progress.hpp"
#include "nucleo_apps/cli.hpp"
#include "nucleo_apps/experiment_config.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nucleo::apps {

/// How a program reports its errors.
struct ProgramErrors {
  std::string program;          ///< the message prefix, e.g. "nucleo-data"
  int config_error_status = 1;  ///< exit status of a ConfigError (2 where it is a usage error)
  /// Called before an error message is written (e.g. to end a progress line on the terminal).
  std::function<void()> before_message{};
};

/// Runs `body` (returning the exit status) and turns its exceptions into a message on stderr and an
/// exit status. A ConfigError with status 2 is written as "<program>: <message>" (without repeating a
/// message that already starts with the program's name), any other error as "<program>: error: ...".
template <class Body>
int run_program(const ProgramErrors& e, Body&& body) {
  auto before = [&] {
    if (e.before_message) e.before_message();
  };
  try {
    return body();
  } catch (const Interrupted& x) {  // Ctrl-C / SIGTERM during training: the state is saved
    before();
    std::cerr << e.program << ": " << x.what() << '\n';
    return x.exit_code();
  } catch (const ConfigError& x) {
    before();
    const std::string msg = x.what();
    if (e.config_error_status == 1) {
      std::cerr << e.program << ": error: " << msg << '\n';
    } else {
      std::cerr << (msg.rfind(e.program, 0) == 0 ? std::string() : e.program + ": ") << msg << '\n';
    }
    return e.config_error_status;
  } catch (const std::exception& x) {
    before();
    std::cerr << e.program << ": error: " << x.what() << '\n';
    return 1;
  }
}

/// A sub-command: argv[1] is its name, argv[2..] its options; `sets` the --set assignments.
using Subcommand = std::function<int(int argc, const char** argv, const std::vector<std::string>& sets)>;

struct SubcommandProgram {
  ProgramErrors errors;
  std::string usage;
  std::vector<std::pair<std::string, Subcommand>> commands;
  bool takes_set = true;                  ///< --set key=value assignments are taken out of argv
  bool usage_to_stderr_without_command = false;
  bool help_command = false;              ///< "help" is a command that prints the usage
};

/// The program: the usage for no command (exit 2) or --help / -h (exit 0), the named command run,
/// an unknown one refused (exit 2); errors as run_program.
inline int subcommand_main(int argc, const char** argv, const SubcommandProgram& prog) {
  return run_program(prog.errors, [&] {
    std::vector<std::string> sets;
    if (prog.takes_set) sets = take_set_overrides(argc, argv);
    if (argc < 2) {
      (prog.usage_to_stderr_without_command ? std::cerr : std::cout) << prog.usage;
      return 2;
    }
    const std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || (prog.help_command && cmd == "help")) {
      std::cout << prog.usage;
      return 0;
    }
    for (const auto& [name, run] : prog.commands)
      if (cmd == name) return run(argc, argv, sets);
    std::cerr << prog.errors.program << ": unknown command '" << cmd << "'\n\n" << prog.usage;
    return 2;
  });
}

/// The options of every experiment sub-command: --config, --out, --threads, --quiet.
inline void add_experiment_options(ArgParser& p) {
  p.optional_option("--config", "JSON configuration (fields not given keep their defaults)", "FILE")
      .optional_option("--out", "output directory", "DIR")
      .optional_option("--threads", "worker threads (default: config, NUCLEO_THREADS, or all)", "N")
      .flag("--quiet", "no progress output");
}

/// Progress output as --quiet asks.
inline ProgressOptions progress_of(const ArgParser& p) {
  ProgressOptions o;
  if (p.flag_set("--quiet")) o.mode = ProgressOptions::Mode::off;
  return o;
}

/// The merged configuration of an experiment sub-command and where it writes.
struct ExperimentArgs {
  nlohmann::json cfg;  ///< defaults, the --config file over them, the --set assignments, --threads
  std::string out;     ///< --out, else the command's default
  int threads = 0;     ///< the configuration's "threads"
  std::string source;  ///< where the settings came from, for errors: "FILE", "FILE with --set", "--set" or ""
};

/// `defaults` with the --config file merged over them, then the --set assignments in order, then
/// --threads (as the configuration's "threads"); --out or `default_out`.
inline ExperimentArgs experiment_args(const ArgParser& p, nlohmann::json defaults, const std::vector<std::string>& sets,
                                      std::string default_out) {
  ExperimentArgs a;
  a.cfg = std::move(defaults);
  if (auto f = p.find("--config")) a.cfg = load_config(a.cfg, *f);
  for (const auto& s : sets) apply_override(a.cfg, s);
  if (p.given("--threads")) a.cfg["threads"] = p.get_int("--threads");
  a.threads = a.cfg.at("threads").get<int>();
  a.out = p.find("--out").value_or(std::move(default_out));
  const auto file = p.find("--config");
  a.source = file ? *file + (sets.empty() ? "" : " with --set") : sets.empty() ? "" : "--set";
  return a;
}

/// Parses argv[2..] (argv[1] is the sub-command) into `p`; with --help, prints its help and
/// returns true (the command then exits 0).
inline bool parse_or_help(ArgParser& p, int argc, const char** argv) {
  p.parse(argc, argv, 2);
  if (!p.help_requested()) return false;
  std::cout << p.help();
  return true;
}

}  // namespace nucleo::apps
