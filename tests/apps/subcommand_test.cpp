// The programs' shared skeleton (subcommand.hpp): exceptions to exit statuses, sub-command
// dispatch with --set taken out of argv, and an experiment sub-command's configuration.
#include "nucleo_apps/subcommand.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;

TEST_CASE("run_program: exit statuses of success, errors and interruption", "[apps][subcommand]") {
  const ProgramErrors usage_errors{"prog", 2, {}}, plain{"prog", 1, {}};
  CHECK(run_program(plain, [] { return 7; }) == 7);
  CHECK(run_program(plain, []() -> int { throw ConfigError("bad"); }) == 1);
  CHECK(run_program(usage_errors, []() -> int { throw ConfigError("bad"); }) == 2);
  CHECK(run_program(usage_errors, []() -> int { throw IoError("gone"); }) == 1);
  CHECK(run_program(plain, []() -> int { throw Interrupted(SIGINT, {}, 0, "stopped"); }) == 130);
  int before = 0;
  const ProgramErrors counted{"prog", 1, [&] { ++before; }};
  CHECK(run_program(counted, []() -> int { throw IoError("gone"); }) == 1);
  CHECK(run_program(counted, [] { return 0; }) == 0);
  CHECK(before == 1);
}

TEST_CASE("subcommand_main: usage, dispatch, --set taken out, unknown commands", "[apps][subcommand]") {
  std::vector<std::string> seen_sets;
  std::vector<std::string> seen_args;
  SubcommandProgram prog;
  prog.errors = {"prog", 1, {}};
  prog.usage = "usage: prog <command>\n";
  prog.commands = {{"run", [&](int argc, const char** argv, const std::vector<std::string>& sets) {
                      seen_sets = sets;
                      for (int i = 0; i < argc; ++i) seen_args.emplace_back(argv[i]);
                      return 3;
                    }}};
  auto call = [&](std::vector<const char*> args) { return subcommand_main(static_cast<int>(args.size()), args.data(), prog); };
  CHECK(call({"prog"}) == 2);
  CHECK(call({"prog", "--help"}) == 0);
  CHECK(call({"prog", "help"}) == 2);  // not a command unless help_command
  CHECK(call({"prog", "walk"}) == 2);
  CHECK(call({"prog", "run", "--set", "a.b=1", "--x", "--set=c=2"}) == 3);
  CHECK(seen_sets == std::vector<std::string>{"a.b=1", "c=2"});
  CHECK(seen_args == std::vector<std::string>{"prog", "run", "--x"});
  prog.help_command = true;
  prog.takes_set = false;
  CHECK(call({"prog", "help"}) == 0);
  seen_args.clear();
  CHECK(call({"prog", "run", "--set", "a=1"}) == 3);
  CHECK(seen_args == std::vector<std::string>{"prog", "run", "--set", "a=1"});
}

TEST_CASE("experiment_args: --config over the defaults, then --set, --threads and --out", "[apps][subcommand]") {
  const auto file = std::filesystem::temp_directory_path() / "nucleo_subcommand_test.json";
  {
    std::ofstream out(file);
    out << R"({"steps": 5, "name": "file"})";
  }
  const nlohmann::json defaults = {{"steps", 1}, {"name", "default"}, {"threads", 0}};
  ArgParser p("prog run", "test");
  add_experiment_options(p);
  const std::string config = file.string();
  const char* argv[] = {"prog", "run", "--config", config.c_str(), "--threads", "3", "--quiet"};
  p.parse(7, argv, 2);
  const ExperimentArgs a = experiment_args(p, defaults, {"steps=9"}, "results/x");
  CHECK(a.cfg == nlohmann::json{{"steps", 9}, {"name", "file"}, {"threads", 3}});
  CHECK(a.threads == 3);
  CHECK(a.out == "results/x");
  CHECK(a.source == config + " with --set");
  CHECK(progress_of(p).mode == ProgressOptions::Mode::off);
  const ExperimentArgs b = experiment_args(p, defaults, {}, "results/x");
  CHECK(b.cfg.at("steps") == 5);
  CHECK(b.source == config);
  std::filesystem::remove(file);
}
