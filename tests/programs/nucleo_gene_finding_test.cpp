// nucleo-gene-finding pretrain/finetune as a user runs them: a rerun into the same --out with other
// settings is refused and rewrites nothing, a failing rerun rewrites nothing, the same command
// resumes; --threads -1 is refused; Ctrl-C saves, exits 130, and the rerun completes. Data: small
// SYNTHETIC GenBank files (--set data.train/test).
#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/data/genbank.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "programs/program_runner.hpp"

using namespace nucleo;
using namespace nucleo::testing;
namespace fs = std::filesystem;

namespace {

/// `n` random loci of 400-600 nt with one two-exon gene each, alternating strands.
std::vector<Locus> synthetic_loci(int n, std::uint64_t seed, const std::string& prefix) {
  Rng rng(seed);
  std::vector<Locus> loci;
  for (int i = 0; i < n; ++i) {
    Locus l;
    l.name = prefix + std::to_string(i);
    const int len = 400 + static_cast<int>(rng.uniform_int(200));
    for (int k = 0; k < len; ++k) l.sequence += "ACGT"[rng.uniform_int(4)];
    l.transcripts.push_back(Transcript{l.name + ".t", i % 2 ? '-' : '+', {{60, 150}, {220, 310}}});
    loci.push_back(std::move(l));
  }
  return loci;
}

struct Data {
  fs::path train, test;
  explicit Data(const TempDir& dir) : train(dir / "train.gb"), test(dir / "test.gb") {
    write_genbank(train, synthetic_loci(60, 1, "tr"));
    write_genbank(test, synthetic_loci(8, 2, "te"));
  }
  std::vector<std::string> sets(int steps) const {
    return {"--set", "data.train=" + train.string(), "--set", "data.test=" + test.string(),
            "--set", "model=tiny", "--set", "predict.window=256", "--set", "predict.overlap=32",
            "--set", "predict.select.enabled=false", "--threads", "1", "--quiet",
            "--set", fmt::format("finetune.steps={}", steps), "--set", "finetune.batch_size=4",
            "--set", "finetune.max_length=256", "--set", "finetune.warmup=1",
            "--set", fmt::format("pretrain.steps={}", steps), "--set", "pretrain.batch_size=4",
            "--set", "pretrain.max_length=256", "--set", "pretrain.warmup=1",
            "--set", "finetune.checkpoint_every=5", "--set", "pretrain.checkpoint_every=5"};
  }
};

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("nucleo-gene-finding finetune/pretrain: --out guarded like compare, and a refused rerun writes nothing",
          "[programs][gene_finding][reliability]") {
  TempDir dir;
  const Data data(dir);
  for (const std::string command : {"finetune", "pretrain"}) {
    DYNAMIC_SECTION(command) {
      const fs::path out = dir / command;
      const std::vector<std::string> base =
          command == "finetune" ? std::vector<std::string>{"finetune", "--scratch", "--out", out.string()}
                                : std::vector<std::string>{"pretrain", "--out", out.string()};
      auto r = run_program("nucleo-gene-finding", cat(base, data.sets(2)), dir.path());
      REQUIRE(r.exit_code() == 0);
      const std::string config = read_file(out / "config.json"), metrics = read_file(out / "metrics.jsonl");
      CHECK(nlohmann::json::parse(config).at(command == "finetune" ? "finetune" : "pretrain").at("steps") == 2);

      // other settings: used to be "resumed" (steps=4 run as 2) while config.json took the new values
      r = run_program("nucleo-gene-finding", cat(base, data.sets(4)), dir.path());
      CHECK(r.exit_code() != 0);
      CHECK_THAT(r.err, Catch::Contains("different configuration"));
      // a rerun that fails its checks: used to rewrite config.json first
      r = run_program("nucleo-gene-finding", cat(cat(base, data.sets(2)), {"--set", command + ".lr=-1"}), dir.path());
      CHECK(r.exit_code() != 0);
      CHECK_THAT(r.err, Catch::Contains("'lr'"));
      r = run_program("nucleo-gene-finding", cat(cat(base, data.sets(2)), {"--set", command + ".steps=0"}), dir.path());
      CHECK(r.exit_code() != 0);
      CHECK_THAT(r.err, Catch::Contains("'steps'"));
      CHECK(read_file(out / "config.json") == config);
      CHECK(read_file(out / "metrics.jsonl") == metrics);

      if (command == "finetune") {  // --crf or --init change the run as much as a setting
        r = run_program("nucleo-gene-finding", cat(cat(base, {"--crf"}), data.sets(2)), dir.path());
        CHECK(r.exit_code() != 0);
        CHECK_THAT(r.err, Catch::Contains("another command or other options"));
      }
      // the same command resumes (nothing left to train) and succeeds
      r = run_program("nucleo-gene-finding", cat(base, data.sets(2)), dir.path());
      CHECK(r.exit_code() == 0);
      CHECK(read_file(out / "config.json") == config);
    }
  }
}

TEST_CASE("nucleo-gene-finding: --threads -1 is refused (as nucleo-annotate does), before --out is made",
          "[programs][gene_finding][reliability]") {
  TempDir dir;
  const Data data(dir);
  for (const std::string command : {"finetune", "pretrain"}) {
    const fs::path out = dir / ("t-" + command);
    std::vector<std::string> args = {command, "--out", out.string()};
    if (command == "finetune") args.push_back("--scratch");
    args = cat(args, data.sets(2));
    args.insert(args.end(), {"--threads", "-1"});
    const auto r = run_program("nucleo-gene-finding", args, dir.path());
    CHECK(r.exit_code() != 0);
    CHECK_THAT(r.err, Catch::Contains("must be >= 0"));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("nucleo-gene-finding finetune: Ctrl-C saves a checkpoint, exits 130, and the same command ends as an unstopped run",
          "[programs][gene_finding][resume][signals]") {
  TempDir dir;
  const Data data(dir);
  const fs::path out = dir / "stopped", reference = dir / "reference";
  auto args = [&](const fs::path& o) { return cat({"finetune", "--scratch", "--out", o.string()}, data.sets(300)); };
  {
    Background b("nucleo-gene-finding", args(out), dir.path());
    REQUIRE(b.wait_for([&] { return fs::exists(out / "last.ckpt"); }));
    b.signal(SIGINT);
    const auto r = b.finish();
    CHECK(r.exit_code() == 130);
    CHECK_THAT(r.err, Catch::Contains("interrupted by SIGINT") && Catch::Contains((out / "last.ckpt").string()));
  }
  const auto step = read_checkpoint_header(out / "last.ckpt").at("step").get<int>();
  CHECK(step < 300);
  REQUIRE(run_program("nucleo-gene-finding", args(out), dir.path()).exit_code() == 0);
  REQUIRE(run_program("nucleo-gene-finding", args(reference), dir.path()).exit_code() == 0);
  CHECK(checkpoint_tensors(out / "best.ckpt") == checkpoint_tensors(reference / "best.ckpt"));
  CHECK(checkpoint_tensors(out / "last.ckpt") == checkpoint_tensors(reference / "last.ckpt"));
  CHECK(read_file(out / "test_predictions.tsv") == read_file(reference / "test_predictions.tsv"));
}

TEST_CASE("nucleo-gene-finding compare: Ctrl-C saves the arm in progress and exits 130, and the same command finishes",
          "[programs][gene_finding][resume][signals]") {
  TempDir dir;
  const Data data(dir);
  const fs::path out = dir / "compare";
  const auto args = cat({"compare", "--out", out.string(), "--set", R"(arms=["scratch"])"}, data.sets(300));
  {
    Background b("nucleo-gene-finding", args, dir.path());
    REQUIRE(b.wait_for([&] { return fs::exists(out / "seed-1" / "scratch" / "last.ckpt") || fs::exists(out / "scratch" / "last.ckpt"); }));
    b.signal(SIGINT);
    const auto r = b.finish();
    CHECK(r.exit_code() == 130);  // used to be 1: only pretrain and finetune turned Interrupted into 128 + signal
    CHECK_THAT(r.err, Catch::Contains("interrupted by SIGINT"));
  }
  CHECK_FALSE(fs::exists(out / "results.json"));
  REQUIRE(run_program("nucleo-gene-finding", args, dir.path()).exit_code() == 0);
  CHECK(fs::exists(out / "results.json"));
}
