// Experiment configuration: file merged over defaults, --set overrides, config.json beside a run,
// and the small readers of config sections (masking, head activation, train-fraction subsets).
#include "nucleo_apps/experiment_config.hpp"

#include <catch2/catch.hpp>

#include "train/tiny_task.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;

namespace {
nlohmann::json defaults() {
  return nlohmann::json::parse(R"({
    "model": "small",
    "threads": 0,
    "verbose": false,
    "finetune": {"steps": 300, "lr": 0.001, "schedule": {"kind": "cosine", "warmup": 30}},
    "mask": {"p": 0.15, "mask_fraction": 0.8, "random_fraction": 0.1},
    "arms": ["scratch", "spt"],
    "head_activation": "gelu"
  })");
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return std::string("ConfigError: ") + e.what();
  } catch (const IoError& e) {
    return std::string("IoError: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("load_config merges the file over the defaults, comments allowed", "[train][experiment_config]") {
  TempDir dir;
  const auto path = dir.path / "exp.json";
  write_text(path, R"({
    // a line comment
    "model": "medium",           /* a block comment */
    "finetune": {"steps": 40, "schedule": {"warmup": 4}},
    "arms": ["spt"]
  })");
  const auto cfg = load_config(defaults(), path);
  CHECK(cfg["model"] == "medium");
  CHECK(cfg["finetune"]["steps"] == 40);
  CHECK(cfg["finetune"]["schedule"]["warmup"] == 4);
  // untouched keys keep the defaults, also inside a partly given object
  CHECK(cfg["finetune"]["lr"].get<double>() == 0.001);
  CHECK(cfg["finetune"]["schedule"]["kind"] == "cosine");
  CHECK(cfg["threads"] == 0);
  CHECK(cfg["mask"] == defaults()["mask"]);
  // arrays are replaced, not merged
  CHECK(cfg["arms"] == nlohmann::json::array({"spt"}));

  // an integer where the default is a double (and vice versa) is fine: both are numbers
  write_text(path, R"({"finetune": {"lr": 1}, "threads": 2})");
  const auto c2 = load_config(defaults(), path);
  CHECK(c2["finetune"]["lr"].get<double>() == 1.0);
  CHECK(c2["threads"] == 2);

  // an empty file object gives the defaults
  write_text(path, "{}");
  CHECK(load_config(defaults(), path) == defaults());
}

TEST_CASE("load_config: unknown keys, wrong types, missing and invalid files are named", "[train][experiment_config]") {
  TempDir dir;
  const auto path = dir.path / "exp.json";

  write_text(path, R"({"modle": "medium"})");
  auto msg = error_of([&] { load_config(defaults(), path); });
  CHECK_THAT(msg, Catch::StartsWith("ConfigError") && Catch::Contains("'modle'") && Catch::Contains(path.string()));

  // a nested unknown key is named with its full path
  write_text(path, R"({"finetune": {"stpes": 3}})");
  msg = error_of([&] { load_config(defaults(), path); });
  CHECK_THAT(msg, Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.stpes'") &&
                      Catch::Contains(path.string()));

  // type mismatches name the key
  write_text(path, R"({"finetune": {"steps": "many"}})");
  msg = error_of([&] { load_config(defaults(), path); });
  CHECK_THAT(msg, Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.steps'") &&
                      Catch::Contains("number") && Catch::Contains("\"many\""));
  write_text(path, R"({"verbose": 1})");
  msg = error_of([&] { load_config(defaults(), path); });
  CHECK_THAT(msg, Catch::StartsWith("ConfigError") && Catch::Contains("'verbose'") && Catch::Contains("boolean"));
  write_text(path, R"({"model": 3})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'model'") && Catch::Contains("string"));
  // a section given as a scalar
  write_text(path, R"({"mask": 0.2})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'mask' must be an object"));

  // missing file: IoError naming it
  const auto missing = dir.path / "no_such_config.json";
  CHECK_THAT(error_of([&] { load_config(defaults(), missing); }),
             Catch::StartsWith("IoError") && Catch::Contains(missing.string()));

  // invalid JSON: ConfigError naming the file
  write_text(path, R"({"model": "medium",,})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains(path.string()) && Catch::Contains("not valid JSON"));
}

TEST_CASE("apply_override sets nested keys, parses JSON values, keeps plain strings", "[train][experiment_config]") {
  auto cfg = defaults();
  apply_override(cfg, "finetune.steps=500");
  CHECK(cfg["finetune"]["steps"].is_number_integer());
  CHECK(cfg["finetune"]["steps"] == 500);
  apply_override(cfg, "finetune.schedule.warmup=7");
  CHECK(cfg["finetune"]["schedule"]["warmup"] == 7);
  CHECK(cfg["finetune"]["schedule"]["kind"] == "cosine");  // the sibling is kept
  CHECK(cfg["finetune"]["lr"].get<double>() == 0.001);

  apply_override(cfg, "finetune.lr=2.5e-4");
  CHECK(cfg["finetune"]["lr"].get<double>() == 2.5e-4);

  // a value that is not JSON is a string; a quoted JSON string is the same string
  apply_override(cfg, "model=medium");
  CHECK(cfg["model"] == "medium");
  apply_override(cfg, "model=\"large\"");
  CHECK(cfg["model"] == "large");
  // the value may contain '=' (only the first one splits)
  apply_override(cfg, "head_activation=a=b");
  CHECK(cfg["head_activation"] == "a=b");
  // JSON booleans and arrays
  apply_override(cfg, "verbose=true");
  CHECK(cfg["verbose"] == true);
  apply_override(cfg, R"(arms=["spt_crf","scratch"])");
  CHECK(cfg["arms"] == nlohmann::json::array({"spt_crf", "scratch"}));

  // a number where a string is expected is a type error (the text parsed as JSON)
  auto before = cfg;
  CHECK_THAT(error_of([&] { apply_override(cfg, "model=42"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'model'") && Catch::Contains("string"));
  // a string where a number is expected
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.steps=lots"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.steps'"));
  // an unknown key, at the top and nested
  CHECK_THAT(error_of([&] { apply_override(cfg, "modle=tiny"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'modle'") && Catch::Contains("--set modle=tiny"));
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.schedule.wramup=3"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.schedule.wramup'"));
  // descending into a scalar
  CHECK_THAT(error_of([&] { apply_override(cfg, "model.size=3"); }), Catch::StartsWith("ConfigError"));
  // no '=' or an empty key
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.steps"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("key=value"));
  CHECK_THAT(error_of([&] { apply_override(cfg, "=5"); }), Catch::StartsWith("ConfigError"));
  // null would delete the setting (merge patch): refused
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.lr=null"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.lr'") && Catch::Contains("null"));
  // a fraction where an integer is expected; an integer where a fraction is expected is fine
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.steps=1.5"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'finetune.steps'") && Catch::Contains("integer"));
  // a refused override leaves the configuration as it was
  CHECK(cfg == before);
  apply_override(cfg, "finetune.lr=1");
  CHECK(cfg.at("finetune").at("lr") == 1);
}

TEST_CASE("load_config refuses null values and fractions for integer settings, naming file and key", "[train][experiment_config]") {
  TempDir dir;
  const auto path = dir.path / "bad.json";
  write_text(path, R"({"finetune": {"steps": null}})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains(path.string()) && Catch::Contains("'finetune.steps'") &&
                 Catch::Contains("null"));
  write_text(path, R"({"threads": 2.5})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'threads'") && Catch::Contains("integer"));
  write_text(path, R"({"mask": null})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }), Catch::StartsWith("ConfigError") && Catch::Contains("'mask'"));
  write_text(path, R"({"threads": 2, "finetune": {"lr": 1}})");
  const auto ok = load_config(defaults(), path);
  CHECK(ok.at("threads") == 2);
  CHECK(ok.at("finetune").at("lr") == 1);
}

TEST_CASE("take_set_overrides removes --set k=v and --set=k=v and keeps the rest in order", "[train][experiment_config]") {
  std::vector<const char*> argv = {"prog",          "--out",         "dir",  "--set", "a.b=1", "--threads",
                                   "--set=model=x", "2",             "--set", "c=\"s p\"", "last"};
  int argc = static_cast<int>(argv.size());
  const auto sets = take_set_overrides(argc, argv.data());
  CHECK(sets == std::vector<std::string>{"a.b=1", "model=x", "c=\"s p\""});
  REQUIRE(argc == 6);
  const std::vector<std::string> rest(argv.begin(), argv.begin() + argc);
  CHECK(rest == std::vector<std::string>{"prog", "--out", "dir", "--threads", "2", "last"});
  CHECK(argv[argc] == nullptr);  // argv[argc] == nullptr holds for the shortened list too

  // nothing to take: argv unchanged
  std::vector<const char*> plain = {"prog", "--x", "1"};
  int n = 3;
  CHECK(take_set_overrides(n, plain.data()).empty());
  CHECK(n == 3);
  CHECK(std::string(plain[1]) == "--x");

  // a trailing "--set" with no value is not taken (the argument parser reports it)
  std::vector<const char*> trailing = {"prog", "--set"};
  int m = 2;
  CHECK(take_set_overrides(m, trailing.data()).empty());
  CHECK(m == 2);
}

TEST_CASE("save_config writes JSON that load_config reads back", "[train][experiment_config]") {
  TempDir dir;
  auto cfg = defaults();
  apply_override(cfg, "finetune.lr=0.1");
  apply_override(cfg, "model=tiny");
  const auto path = dir.path / "sub" / "config.json";
  save_config(cfg, path);
  REQUIRE(std::filesystem::exists(path));
  CHECK(nlohmann::json::parse(slurp(path)) == cfg);
  CHECK(load_config(defaults(), path) == cfg);
  // pretty printed, newline-terminated, no temporary file left behind
  const std::string text = slurp(path);
  CHECK(text.back() == '\n');
  CHECK_THAT(text, Catch::Contains("\n  \"model\": \"tiny\""));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path / "sub"), std::filesystem::directory_iterator()) ==
        1);
}

TEST_CASE("claim_output_dir: a new directory, the same configuration again, another one refused", "[train][experiment_config]") {
  TempDir dir;
  const auto out = dir.path / "runs" / "a";
  const auto cfg = defaults();
  claim_output_dir(out, cfg);
  REQUIRE(std::filesystem::is_directory(out));
  CHECK(nlohmann::json::parse(slurp(out / "config.json")) == cfg);

  // the same configuration is accepted (resume); files already there stay
  write_text(out / "marker", "x");
  CHECK_NOTHROW(claim_output_dir(out, cfg));
  CHECK(std::filesystem::exists(out / "marker"));

  // another configuration is refused and config.json is not overwritten
  auto other = cfg;
  other["finetune"]["steps"] = 301;
  CHECK_THAT(error_of([&] { claim_output_dir(out, other); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("different configuration") &&
                 Catch::Contains(out.string()));
  CHECK(nlohmann::json::parse(slurp(out / "config.json")) == cfg);

  // an unparsable config.json is refused too (it cannot be shown to be the same run)
  const auto broken = dir.path / "broken";
  std::filesystem::create_directories(broken);
  write_text(broken / "config.json", "{\"model\": ");
  CHECK_THAT(error_of([&] { claim_output_dir(broken, cfg); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("different configuration"));
  CHECK(slurp(broken / "config.json") == "{\"model\": ");

  // an existing directory without config.json is claimed
  const auto empty = dir.path / "empty";
  std::filesystem::create_directories(empty);
  claim_output_dir(empty, other);
  CHECK(nlohmann::json::parse(slurp(empty / "config.json")) == other);
}

TEST_CASE("masking_from_config and activation_from_config read their sections", "[train][experiment_config]") {
  auto cfg = defaults();
  cfg["mask"] = {{"p", 0.2}, {"mask_fraction", 0.7}, {"random_fraction", 0.05}};
  const MlmMaskingOptions m = masking_from_config(cfg);
  CHECK(m.p == 0.2);
  CHECK(m.mask_fraction == 0.7);
  CHECK(m.random_fraction == 0.05);
  CHECK(m.seed == MlmMaskingOptions{}.seed);  // the seed is the stage's business

  cfg.erase("mask");
  CHECK_THROWS(masking_from_config(cfg));

  cfg = defaults();
  CHECK(activation_from_config(cfg) == Activation::gelu);
  cfg["head_activation"] = "relu";
  CHECK(activation_from_config(cfg) == Activation::relu);
  cfg["head_activation"] = "tanh";
  CHECK_THAT(error_of([&] { activation_from_config(cfg); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'tanh'") && Catch::Contains("gelu or relu"));
  cfg["head_activation"] = "GELU";  // names are case-sensitive
  CHECK_THROWS_AS(activation_from_config(cfg), ConfigError);
}

TEST_CASE("arms_from_config keeps the configured order and names an unknown arm", "[train][experiment_config]") {
  const std::vector<std::string> known = {"scratch", "spt", "spt_crf"};
  auto cfg = defaults();
  cfg["arms"] = {"spt_crf", "scratch"};
  CHECK(arms_from_config(cfg, known) == std::vector<std::string>{"spt_crf", "scratch"});
  cfg["arms"] = nlohmann::json::array();
  CHECK(arms_from_config(cfg, known).empty());
  cfg["arms"] = {"spt", "SPT"};
  CHECK_THAT(error_of([&] { arms_from_config(cfg, known); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("'SPT'") && Catch::Contains("scratch, spt, spt_crf"));
}

TEST_CASE("in_train_fraction: nested subsets of about the requested size", "[train][experiment_config]") {
  const int n = 20000;
  int in10 = 0, in25 = 0, in50 = 0, in100 = 0, in0 = 0;
  bool nested = true;
  for (int i = 0; i < n; ++i) {
    const std::string id = "locus_" + std::to_string(i);
    const bool a = in_train_fraction(id, 0.10), b = in_train_fraction(id, 0.25), c = in_train_fraction(id, 0.5);
    nested = nested && (!a || b) && (!b || c);
    in10 += a;
    in25 += b;
    in50 += c;
    in100 += in_train_fraction(id, 1.0);
    in0 += in_train_fraction(id, 0.0);
  }
  CHECK(nested);
  // binomial std at n = 20000 is below 0.4 percentage points; allow 2
  CHECK(std::abs(in10 / double(n) - 0.10) < 0.02);
  CHECK(std::abs(in25 / double(n) - 0.25) < 0.02);
  CHECK(std::abs(in50 / double(n) - 0.50) < 0.02);
  CHECK(in100 == n);
  CHECK(in0 == 0);

  // it depends on the name only (the same answer twice; order-free) and is the documented hash
  CHECK(in_train_fraction("chr2L:100-200", 0.3) == in_train_fraction("chr2L:100-200", 0.3));
  const auto h = fnv1a64("subset:chr2L:100-200") % 1000000;
  CHECK(in_train_fraction("chr2L:100-200", (double(h) + 1) / 1e6));
  CHECK_FALSE(in_train_fraction("chr2L:100-200", (double(h) - 0.5) / 1e6));
  // ... and differs from the validation split's hash (no "subset:" prefix), so the two are independent
  int both = 0, v = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = "locus_" + std::to_string(i);
    if (is_validation_locus(id, 10)) {
      ++v;
      both += in_train_fraction(id, 0.10);
    }
  }
  REQUIRE(v > 1000);
  CHECK(std::abs(both / double(v) - 0.10) < 0.03);
}

TEST_CASE("load_config: duplicate keys, overflowing numbers and non-objects are refused with file, line and key",
          "[train][experiment_config]") {
  TempDir dir;
  const auto path = dir.path / "exp.json";
  // a key given twice: used to be accepted (the last value silently won)
  write_text(path, "{\n  \"model\": \"tiny\",\n  \"finetune\": {\n    \"steps\": 4,\n    \"steps\": 40\n  }\n}\n");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains(path.string() + ":5:") &&
                 Catch::Contains("given twice") && Catch::Contains("'finetune.steps'"));
  write_text(path, R"({"model": "tiny", "model": "small"})");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }), Catch::Contains("'model'") && Catch::Contains("twice"));
  // the same key in two different objects is fine
  write_text(path, R"({"finetune": {"schedule": {"warmup": 3}}, "mask": {"p": 0.2}})");
  CHECK(load_config(defaults(), path)["finetune"]["schedule"]["warmup"] == 3);
  // a number beyond a double: used to surface as nlohmann's "[json.exception.out_of_range.406] ..."
  write_text(path, "{\n  \"finetune\": {\"lr\": 1e999}\n}\n");
  const std::string overflow = error_of([&] { load_config(defaults(), path); });
  CHECK_THAT(overflow, Catch::StartsWith("ConfigError") && Catch::Contains(path.string() + ":2:") &&
                           Catch::Contains("1e999") && Catch::Contains("out of range") &&
                           Catch::Contains("'finetune.lr'") && !Catch::Contains("json.exception"));
  // a JSON array (or any non-object) as the configuration: used to replace the whole configuration
  write_text(path, R"(["model", "tiny"])");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::StartsWith("ConfigError") && Catch::Contains(path.string()) && Catch::Contains("JSON object") &&
                 Catch::Contains("array") && !Catch::Contains("json.exception"));
  write_text(path, "3");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }), Catch::Contains("JSON object"));
  // a syntax error names the line, without nlohmann's prefix
  write_text(path, "{\n  \"model\": \"tiny\",\n  \"arms\": [\"spt\",]\n}\n");
  CHECK_THAT(error_of([&] { load_config(defaults(), path); }),
             Catch::Contains(path.string() + ":3:") && Catch::Contains("not valid JSON") &&
                 !Catch::Contains("json.exception"));
}

TEST_CASE("apply_override: an overflowing number or a duplicate key is an error naming the --set",
          "[train][experiment_config]") {
  auto cfg = defaults();
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.lr=1e999"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("--set finetune.lr=1e999") &&
                 Catch::Contains("out of range") && !Catch::Contains("json.exception"));
  CHECK_THAT(error_of([&] { apply_override(cfg, R"(mask={"p": 0.1, "p": 0.2})"); }),
             Catch::Contains("--set mask=") && Catch::Contains("twice"));
  // found by fuzz_config: a value that is not UTF-8 reached nlohmann's dump() in the error message
  CHECK_THAT(error_of([&] { apply_override(cfg, "finetune.steps=5\x01\xe6inetune"); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("not valid UTF-8"));
  CHECK_THAT(error_of([&] { apply_override(cfg, "model=\xff"); }), Catch::StartsWith("ConfigError"));
  CHECK(cfg == defaults());
  apply_override(cfg, "model=medium");  // a bare word is still a string
  CHECK(cfg["model"] == "medium");
}

TEST_CASE("claim_output_dir: the command's own options are guarded too, and nothing is rewritten",
          "[train][experiment_config]") {
  TempDir dir;
  const auto out = dir.path / "run";
  const auto cfg = defaults();
  const nlohmann::json scratch = {{"command", "finetune"}, {"init", nullptr}, {"crf", false}};
  claim_output_dir(out, cfg, scratch);
  CHECK(nlohmann::json::parse(slurp(out / "command.json")) == scratch);
  const auto written = std::filesystem::last_write_time(out / "config.json");
  CHECK_NOTHROW(claim_output_dir(out, cfg, scratch));  // the same run resumes
  CHECK(std::filesystem::last_write_time(out / "config.json") == written);
  auto crf = scratch;
  crf["crf"] = true;
  CHECK_THAT(error_of([&] { claim_output_dir(out, cfg, crf); }),
             Catch::StartsWith("ConfigError") && Catch::Contains("another command or other options"));
  // a compare directory (no command.json) is not a finetune directory, nor the reverse
  CHECK_THROWS_AS(claim_output_dir(out, cfg), ConfigError);
  const auto cmp = dir.path / "cmp";
  claim_output_dir(cmp, cfg);
  CHECK_THROWS_AS(claim_output_dir(cmp, cfg, scratch), ConfigError);
  CHECK_FALSE(std::filesystem::exists(cmp / "command.json"));
  // a results.json that a killed run was writing is removed when the directory is claimed again
  const pid_t gone = ::fork();
  if (gone == 0) std::_Exit(0);
  ::waitpid(gone, nullptr, 0);
  const auto stale = out / fmt::format("results.json.tmp-{}-0", gone);
  write_text(stale, "{\"arms\": ");
  claim_output_dir(out, cfg, scratch);
  CHECK_FALSE(std::filesystem::exists(stale));
  // --out naming a file
  write_text(dir.path / "file", "x");
  CHECK_THAT(error_of([&] { claim_output_dir(dir.path / "file", cfg); }),
             Catch::StartsWith("IoError") && Catch::Contains("must be a directory"));
}
