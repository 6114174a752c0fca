#include "nucleo_apps/cli.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace nucleo;
using namespace nucleo::apps;

namespace {
ArgParser make() {
  ArgParser p("prog", "does things");
  p.option("--split", "which split", "test").option("--out", "directory", std::nullopt, "DIR")
      .optional_option("--train", "file").flag("--verbose", "talk more").option("--n", "count", "3");
  return p;
}
void run(ArgParser& p, std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  p.parse(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("ArgParser: values, '=' syntax, defaults, flags", "[io][cli]") {
  auto p = make();
  run(p, {"--out", "d", "--split=train", "--verbose", "--n", "-5"});
  CHECK(p.get("--out") == "d");
  CHECK(p.get("--split") == "train");
  CHECK(p.flag_set("--verbose"));
  CHECK(p.get_int("--n") == -5);
  CHECK_FALSE(p.find("--train").has_value());
  CHECK(p.given("--out"));
  auto q = make();
  run(q, {"--out=x"});
  CHECK(q.get("--split") == "test");
  CHECK_FALSE(q.flag_set("--verbose"));
  CHECK_FALSE(q.given("--split"));
  CHECK(q.get_double("--n") == 3.0);
}

TEST_CASE("ArgParser: errors name the option and point to --help", "[io][cli]") {
  auto p = make();
  CHECK_THROWS_WITH(run(p, {"--out", "d", "--bogus"}), Catch::Contains("unknown option '--bogus'") && Catch::Contains("--help"));
  CHECK_THROWS_WITH(run(p, {"--out"}), Catch::Contains("'--out' needs a value"));
  CHECK_THROWS_WITH(run(p, {"--split", "x"}), Catch::Contains("missing required option '--out'"));
  CHECK_THROWS_WITH(run(p, {"--out", "d", "--verbose=1"}), Catch::Contains("takes no value"));
  CHECK_THROWS_WITH(run(p, {"--out", "d", "extra"}), Catch::Contains("unexpected argument 'extra'"));
  run(p, {"--out", "d", "--n", "x1"});
  CHECK_THROWS_WITH(p.get_int("--n"), Catch::Contains("expects an integer"));
  CHECK_THROWS_AS(p.get_double("--n"), ConfigError);
  CHECK_THROWS_WITH(p.get("--train"), Catch::Contains("missing required option '--train'"));
}

TEST_CASE("ArgParser: help and positionals", "[io][cli]") {
  ArgParser p("tool", "summary line");
  p.positional("input", "input file").positional("extra", "optional", false).option("--k", "kmer", "6");
  run(p, {"-h"});
  CHECK(p.help_requested());
  const std::string h = p.help();
  CHECK_THAT(h, Catch::Contains("usage: tool <input> [extra] [options]") && Catch::Contains("summary line") &&
                    Catch::Contains("--k VALUE") && Catch::Contains("(default: 6)"));
  run(p, {"a.fa", "--k", "3"});
  CHECK_FALSE(p.help_requested());
  CHECK(p.positional_value("input") == "a.fa");
  CHECK_FALSE(p.positional_value("extra").has_value());
  run(p, {"--", "--weird-name"});
  CHECK(p.positional_value("input") == "--weird-name");
  CHECK_THROWS_WITH(run(p, {}), Catch::Contains("missing argument <input>"));
}
