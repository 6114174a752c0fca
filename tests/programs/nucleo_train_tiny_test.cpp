// nucleo-train-tiny stopped from outside, as a user stops a run: Ctrl-C (SIGINT), SIGTERM and
// SIGKILL, then the same command again. The resumed run must end bit-identically to one that was
// never stopped: the same weights and optimizer state in last.ckpt and best.ckpt, the same log
// rows (timing columns aside) and the same test MCC.
#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "programs/program_runner.hpp"

#include <sstream>

using namespace nucleo::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> args_for(const fs::path& out) {
  return {"--out", out.string(), "--epochs", "150", "--threads", "1", "--seed", "3"};
}

/// metrics.jsonl without the timing columns.
std::vector<nlohmann::json> log_rows(const fs::path& dir) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_file(dir / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto row = nlohmann::json::parse(line);
    row.erase("seconds");
    row.erase("nt_per_s");
    rows.push_back(row);
  }
  return rows;
}

void check_same_run(const fs::path& resumed, const fs::path& reference) {
  CHECK(checkpoint_tensors(resumed / "last.ckpt") == checkpoint_tensors(reference / "last.ckpt"));
  CHECK(checkpoint_tensors(resumed / "best.ckpt") == checkpoint_tensors(reference / "best.ckpt"));
  CHECK(log_rows(resumed) == log_rows(reference));
  const auto a = nlohmann::json::parse(read_file(resumed / "result.json")),
             b = nlohmann::json::parse(read_file(reference / "result.json"));
  CHECK(a.at("test_mcc") == b.at("test_mcc"));
  CHECK(a.at("steps") == b.at("steps"));
  for (const auto& e : fs::directory_iterator(resumed))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

}  // namespace

TEST_CASE("nucleo-train-tiny: SIGINT, SIGTERM and SIGKILL, then the same command: bit-identical to an unstopped run",
          "[programs][train_tiny][resume][signals]") {
  TempDir dir;
  const fs::path reference = dir / "reference";
  const auto whole = run_program("nucleo-train-tiny", args_for(reference), dir.path());
  REQUIRE(whole.exit_code() == 0);

  for (const int sig : {SIGINT, SIGTERM, SIGKILL}) {
    DYNAMIC_SECTION("signal " << sig) {
      const fs::path out = dir / ("stopped-" + std::to_string(sig));
      {
        Background b("nucleo-train-tiny", args_for(out), dir.path());
        REQUIRE(b.wait_for([&] { return fs::exists(out / "last.ckpt"); }));  // training, after a checkpoint
        b.signal(sig);
        const auto r = b.finish();
        if (sig == SIGKILL) {
          CHECK(r.signal() == SIGKILL);
        } else {
          CHECK(r.exit_code() == 128 + sig);  // 130, 143
          CHECK_THAT(r.err, Catch::Contains("interrupted by") && Catch::Contains((out / "last.ckpt").string()));
          CHECK_FALSE(fs::exists(out / "result.json"));
        }
      }
      const auto again = run_program("nucleo-train-tiny", args_for(out), dir.path());
      REQUIRE(again.exit_code() == 0);
      CHECK_THAT(again.err, Catch::Contains("resumed from"));
      check_same_run(out, reference);
    }
  }
}
