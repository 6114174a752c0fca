#include "nucleo/train/trainer.hpp"

#include <catch2/catch.hpp>

#include "nucleo/optim/adamw.hpp"
#include "nucleo/optim/sgd.hpp"
#include "train/tiny_task.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace nucleo;
using namespace nucleo::testing;
namespace fs = std::filesystem;

namespace {
TrainerOptions quiet(const fs::path& dir) {
  TrainerOptions o;
  o.run_dir = dir;
  o.progress.mode = ProgressOptions::Mode::off;
  o.metric_name = "r2";
  o.model_type = "TinyNet";
  return o;
}

struct RunOut {
  std::string weights;
  TrainResult result;
};

/// The run the determinism and kill-and-resume tests repeat: 3 epochs x 8 steps, AdamW with a
/// warm-up + cosine schedule, clipping, a checkpoint every 3 steps.
RunOut tiny_run(const fs::path& dir, int threads, std::uint64_t seed, std::function<void(std::int64_t)> on_step = {}) {
  CpuContext ctx(threads, seed);
  TinyProblem prob(seed);
  AdamW<float> opt({.lr = 0.02});
  auto o = quiet(dir);
  o.epochs = 3;
  o.schedule = LrSchedule::cosine(0.02, 4, 24, 0.002);
  o.clip_norm = 1.0;
  o.checkpoint_every = 3;
  o.on_step = std::move(on_step);
  Trainer trainer(prob.net, opt, o);
  TrainTask task = prob.task();
  RunOut out;
  out.result = trainer.run(ctx, task);
  out.weights = weight_bytes(prob.net);
  return out;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::istringstream in(slurp(p));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Deterministic columns of the history (timing columns differ between runs).
std::vector<nlohmann::json> deterministic(const std::vector<nlohmann::json>& h) {
  std::vector<nlohmann::json> out;
  for (auto row : h) {
    row.erase("seconds");
    row.erase("nt_per_s");
    out.push_back(row);
  }
  return out;
}


TEST_CASE("Trainer: drives a tiny regression to a low loss, selects the best epoch, tests it", "[train][trainer]") {
  TempDir dir;
  CpuContext ctx(1, 3);
  TinyProblem prob(3);
  AdamW<float> opt({.lr = 0.03});
  auto o = quiet(dir.path);
  o.epochs = 40;
  Trainer trainer(prob.net, opt, o);
  TrainTask task = prob.task();
  const double before = prob.evaluate(ctx, prob.val).loss;
  const TrainResult r = trainer.run(ctx, task);

  REQUIRE(r.history.size() == 40);
  CHECK(r.steps == 40 * 8);
  const double first = r.history.front()["train_loss"].get<double>();
  const double last = r.history.back()["train_loss"].get<double>();
  INFO("val loss before " << before << ", train loss epoch 1 " << first << ", epoch 40 " << last);
  CHECK(last < 0.1 * first);
  CHECK(last < 0.02);
  CHECK(r.best_metric > 0.95);  // R^2 on validation

  // the selected epoch is the arg max of the validation metric, and best.ckpt holds its weights
  std::int64_t arg = 0;
  for (std::size_t i = 0; i < r.history.size(); ++i)
    if (r.history[i]["val_r2"].get<double>() > r.history[static_cast<std::size_t>(arg)]["val_r2"].get<double>())
      arg = static_cast<std::int64_t>(i);
  CHECK(r.best_epoch == arg);
  CHECK(r.history[static_cast<std::size_t>(arg)]["best"] == true);
  REQUIRE(r.test.has_value());
  TinyProblem check(99);
  load_checkpoint(trainer.best_checkpoint(), check.net, {.model_type = "TinyNet"});
  CHECK(weight_bytes(check.net) == weight_bytes(prob.net));  // the model ends with the selected weights
  CHECK(check.evaluate(ctx, check.val).metric == Approx(r.best_metric).epsilon(1e-12));
  CHECK(r.test->metric == check.evaluate(ctx, check.test).metric);

  // logs: one JSON line and one CSV row per epoch, the SVG and the result summary
  const auto jl = lines_of(dir.path / "metrics.jsonl");
  REQUIRE(jl.size() == 40);
  CHECK(nlohmann::json::parse(jl[4])["epoch"] == 5);
  CHECK(nlohmann::json::parse(jl[4])["train_loss"] == r.history[4]["train_loss"]);
  const auto csv = lines_of(dir.path / "metrics.csv");
  REQUIRE(csv.size() == 41);
  CHECK(csv[0] == "epoch,step,train_loss,val_r2,val_loss,lr,nucleotides,nt_per_s,seconds,partial,best");
  CHECK(csv[1].rfind("1,8,", 0) == 0);
  const std::string svg = slurp(trainer.curve_path());
  CHECK(svg.rfind("<svg", 0) == 0);
  const auto result = nlohmann::json::parse(slurp(trainer.result_path()));
  CHECK(result["best_epoch"] == arg + 1);
  CHECK(result["test_r2"].get<double>() == r.test->metric);
  CHECK(result["steps"] == 320);
}

TEST_CASE("Trainer: the same seed and thread count give bit-identical weights and losses", "[train][trainer]") {
  TempDir a, b, c;
  const RunOut r1 = tiny_run(a.path, 2, 5);
  const RunOut r2 = tiny_run(b.path, 2, 5);
  CHECK(r1.weights == r2.weights);
  CHECK(deterministic(r1.result.history) == deterministic(r2.result.history));
  const RunOut r3 = tiny_run(c.path, 2, 6);  // another seed: another result (the check can fail)
  CHECK(r3.weights != r1.weights);
}

/// Runs this test executable again in a child process (a fresh process image: no threads inherited
/// from this one) with the hidden test case `tag` and $NUCLEO_KILL_RESUME_DIR = `dir`; returns the
/// wait status. The child's stdout goes to /dev/null, its stderr to `dir`/child.err.
int run_child(const char* tag, const fs::path& dir) {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(n > 0);
  exe[n] = '\0';
  ::setenv("NUCLEO_KILL_RESUME_DIR", dir.c_str(), 1);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);
    const int err = ::open((dir / "child.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::execl(exe, exe, tag, static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  ::unsetenv("NUCLEO_KILL_RESUME_DIR");
  return status;
}

std::size_t temporaries_in(const fs::path& dir) {
  std::size_t k = 0;
  for (const auto& e : fs::directory_iterator(dir)) k += e.path().filename().string().find(".tmp-") != std::string::npos;
  return k;
}

/// The resumed run in `killed` equals an uninterrupted one: weights, losses, logs, test metric.
void check_resumes_bit_identically(const fs::path& killed) {
  TempDir whole;
  const RunOut resumed = tiny_run(killed, 2, 7);
  const RunOut reference = tiny_run(whole.path, 2, 7);
  CHECK(resumed.result.resumed);
  CHECK_FALSE(reference.result.resumed);
  CHECK(resumed.result.steps == 24);
  CHECK(resumed.weights == reference.weights);
  CHECK(deterministic(resumed.result.history) == deterministic(reference.result.history));
  CHECK(lines_of(killed / "metrics.jsonl").size() == 3);
  CHECK(lines_of(killed / "metrics.csv").size() == 4);
  CHECK(resumed.result.test->metric == reference.result.test->metric);
  CHECK(temporaries_in(killed) == 0);
}
}  // namespace

// Run by the kill-and-resume tests in a child process (hidden from normal runs): each trains in
// $NUCLEO_KILL_RESUME_DIR and is stopped after optimizer step 11 (the last periodic checkpoint was
// written at step 9, mid-epoch 2).
TEST_CASE("Trainer: kill-and-resume child", "[.][kill_resume_child]") {
  const char* dir = std::getenv("NUCLEO_KILL_RESUME_DIR");
  REQUIRE(dir != nullptr);
  tiny_run(dir, 2, 7, [](std::int64_t step) {
    if (step == 11) std::raise(SIGKILL);
  });
  std::_Exit(3);  // not reached
}

// SIGINT (as Ctrl-C sends it) during step 11: the trainer finishes the step, saves last.ckpt and
// throws Interrupted, which a program turns into its exit status (130).
TEST_CASE("Trainer: SIGINT child", "[.][sigint_child]") {
  const char* dir = std::getenv("NUCLEO_KILL_RESUME_DIR");
  REQUIRE(dir != nullptr);
  try {
    tiny_run(dir, 2, 7, [](std::int64_t step) {
      if (step == 11) ::kill(::getpid(), SIGINT);
    });
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::_Exit(e.exit_code());
  }
  std::_Exit(3);  // not reached: the signal must stop the run
}

// SIGKILL in the middle of writing the checkpoint of step 12: after step 11 the file size limit
// is set below a checkpoint's size, so the write of step 12's checkpoint is cut short; the
// SIGXFSZ this raises is turned into SIGKILL. The temporary file stays behind, half written.
TEST_CASE("Trainer: SIGKILL during a checkpoint write child", "[.][kill_in_write_child]") {
  const char* dir = std::getenv("NUCLEO_KILL_RESUME_DIR");
  REQUIRE(dir != nullptr);
  std::signal(SIGXFSZ, [](int) { ::kill(::getpid(), SIGKILL); });
  tiny_run(dir, 2, 7, [dir](std::int64_t step) {
    if (step != 11) return;
    const auto size = fs::file_size(fs::path(dir) / "last.ckpt");
    struct rlimit lim {};
    lim.rlim_cur = lim.rlim_max = size / 2;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  });
  std::_Exit(3);  // not reached
}

TEST_CASE("Trainer: a run killed with SIGKILL resumes to the same weights as an uninterrupted run",
          "[train][trainer][resume]") {
  TempDir killed;
  const int status = run_child("[kill_resume_child]", killed.path);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  // the child left a mid-epoch checkpoint (step 9 = epoch 2, batch 1) and epoch 1's log row
  const auto h = read_checkpoint_header(killed.path / "last.ckpt");
  CHECK(h["step"] == 9);
  CHECK(h["data_cursor"]["epoch"] == 1);
  CHECK(h["data_cursor"]["batch"] == 1);
  CHECK(lines_of(killed.path / "metrics.jsonl").size() == 1);
  check_resumes_bit_identically(killed.path);
}

TEST_CASE("Trainer: SIGINT finishes the step, saves a checkpoint, says where, and resumes bit-identically",
          "[train][trainer][resume][signals]") {
  TempDir killed;
  const int status = run_child("[sigint_child]", killed.path);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  // the checkpoint holds step 11 itself (not the periodic one of step 9)
  const auto h = read_checkpoint_header(killed.path / "last.ckpt");
  CHECK(h["step"] == 11);
  CHECK(h["data_cursor"]["epoch"] == 1);
  CHECK(h["data_cursor"]["batch"] == 3);
  const std::string err = slurp(killed.path / "child.err");
  CHECK_THAT(err, Catch::Contains("interrupted by SIGINT") && Catch::Contains("step 11") &&
                      Catch::Contains((killed.path / "last.ckpt").string()) && Catch::Contains("resume"));
  fs::remove(killed.path / "child.err");
  check_resumes_bit_identically(killed.path);
}

TEST_CASE("Trainer: SIGKILL during a checkpoint write leaves the previous checkpoint, and the next start removes the "
          "temporary file and resumes bit-identically",
          "[train][trainer][resume][signals]") {
  TempDir killed;
  const int status = run_child("[kill_in_write_child]", killed.path);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  fs::remove(killed.path / "child.err");
  // a half-written temporary file of the dead process, and the intact checkpoint of step 9
  std::size_t partial = 0;
  for (const auto& e : fs::directory_iterator(killed.path))
    if (e.path().filename().string().rfind("last.ckpt.tmp-", 0) == 0) {
      ++partial;
      CHECK(fs::file_size(e.path()) < fs::file_size(killed.path / "last.ckpt"));
    }
  CHECK(partial == 1);
  CHECK(read_checkpoint_header(killed.path / "last.ckpt")["step"] == 9);
  check_resumes_bit_identically(killed.path);  // also: no temporary file left
}

TEST_CASE("Trainer: SIGTERM stops the run like SIGINT (exit status 143), and the request stops later trainers too",
          "[train][trainer][signals]") {
  TempDir dir;
  detail::clear_stop_request();
  struct sigaction before {};
  ::sigaction(SIGTERM, nullptr, &before);
  try {
    tiny_run(dir.path, 1, 7, [](std::int64_t step) {
      if (step == 5) std::raise(SIGTERM);
    });
    FAIL("the run was not stopped");
  } catch (const Interrupted& e) {
    CHECK(e.signal_number() == SIGTERM);
    CHECK(e.exit_code() == 143);
    CHECK(e.step() == 5);
    CHECK(e.checkpoint() == dir.path / "last.ckpt");
  }
  CHECK(read_checkpoint_header(dir.path / "last.ckpt")["step"] == 5);
  // the request is kept: the next trainer of a pipeline stops before it trains (and saves its start)
  TempDir next;
  CHECK_THROWS_AS(tiny_run(next.path, 1, 7), Interrupted);
  CHECK(read_checkpoint_header(next.path / "last.ckpt")["step"] == 0);
  detail::clear_stop_request();
  // outside run() the previous disposition is back
  struct sigaction after {};
  ::sigaction(SIGTERM, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);
  // an ignored signal stays ignored while training
  struct sigaction ignore {}, saved {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &saved);
  {
    detail::StopSignals guard;
    std::raise(SIGINT);
    CHECK(detail::stop_requested() == 0);
  }
  ::sigaction(SIGINT, &saved, nullptr);
}

TEST_CASE("Trainer: the training time survives a resume (elapsed seconds are kept in the checkpoint)",
          "[train][trainer][resume]") {
  // A fake clock: every reading advances it by one second, so each session's time is known.
  auto run = [](const fs::path& dir, std::int64_t stop_at) {
    CpuContext ctx(1, 7);
    TinyProblem prob(7);
    AdamW<float> opt;
    auto o = quiet(dir);
    o.epochs = 2;
    o.checkpoint_every = 1;
    double t = 0;
    o.progress.clock = [&t] { return t += 1.0; };
    o.on_step = [stop_at](std::int64_t step) {
      if (step == stop_at) std::raise(SIGINT);
    };
    Trainer trainer(prob.net, opt, o);
    TrainTask task = prob.task();
    detail::clear_stop_request();
    try {
      return trainer.run(ctx, task);
    } catch (const Interrupted&) {
      detail::clear_stop_request();
      const auto h = read_checkpoint_header(dir / "last.ckpt");
      TrainResult partial;
      partial.seconds = h["extra"]["trainer"]["elapsed_seconds"].get<double>();
      partial.steps = h["step"].get<std::int64_t>();
      return partial;
    }
  };
  TempDir dir;
  const TrainResult first = run(dir.path, 6);
  REQUIRE(first.steps == 6);
  CHECK(first.seconds > 0);
  const TrainResult second = run(dir.path, -1);
  CHECK(second.resumed);
  CHECK(second.steps == 16);
  CHECK(second.resumed_seconds == first.seconds);  // the first session's time, from the checkpoint
  CHECK(second.seconds > second.resumed_seconds);  // plus this session's
  const auto result = nlohmann::json::parse(slurp(dir.path / "result.json"));
  CHECK(result["seconds"].get<double>() == second.seconds);
}

TEST_CASE("Trainer: temporary files of a dead process are removed at the start, those of live ones kept",
          "[train][trainer]") {
  TempDir dir;
  // a pid that is not running: a child that has exited and been waited for
  const pid_t gone = ::fork();
  if (gone == 0) std::_Exit(0);
  ::waitpid(gone, nullptr, 0);
  const fs::path stale = dir.path / fmt::format("last.ckpt.tmp-{}-0", gone);
  const fs::path live = dir.path / fmt::format("best.ckpt.tmp-{}-3", ::getppid());  // our parent runs
  std::ofstream(stale) << "half a checkpoint";
  std::ofstream(live) << "being written";
  CpuContext ctx(1, 1);
  TinyProblem prob(1);
  AdamW<float> opt;
  auto o = quiet(dir.path);
  Trainer trainer(prob.net, opt, o);
  TrainTask task = prob.task();
  const TrainResult r = trainer.run(ctx, task);
  CHECK(r.stale_temporaries_removed == 1);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
}

TEST_CASE("Trainer: a step budget ends mid-epoch and the partial epoch is logged", "[train][trainer]") {
  TempDir dir;
  CpuContext ctx(1, 1);
  TinyProblem prob(1);
  AdamW<float> opt;
  auto o = quiet(dir.path);
  o.epochs = 5;
  o.max_steps = 13;  // 8 steps per epoch: 1 full epoch + 5 steps
  Trainer trainer(prob.net, opt, o);
  TrainTask task = prob.task();
  const TrainResult r = trainer.run(ctx, task);
  CHECK(r.steps == 13);
  CHECK(opt.steps() == 13);
  CHECK(r.budget_reached);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[0]["partial"] == false);
  CHECK(r.history[1]["partial"] == true);
  CHECK(r.history[1]["step"] == 13);
  // running it again resumes at the budget and does nothing more
  const TrainResult again = trainer.run(ctx, task);
  CHECK(again.steps == 13);
  CHECK(again.history.size() == 2);
}

TEST_CASE("Trainer: early stopping after `patience` epochs without improvement", "[train][trainer]") {
  TempDir dir;
  CpuContext ctx(1, 1);
  TinyProblem prob(1);
  AdamW<float> opt;
  auto o = quiet(dir.path);
  o.epochs = 20;
  o.patience = 2;
  Trainer trainer(prob.net, opt, o);
  TrainTask task = prob.task();
  const std::vector<double> metric = {0.1, 0.5, 0.4, 0.6, 0.55, 0.58, 0.9};  // best at epoch 4, then 2 worse
  int calls = 0;
  task.evaluate = [&](CpuContext&, Split s) {
    EvalResult e;
    e.metric = s == Split::validation ? metric[static_cast<std::size_t>(calls++)] : -1.0;
    return e;
  };
  const TrainResult r = trainer.run(ctx, task);
  CHECK(r.early_stopped);
  CHECK(r.history.size() == 6);
  CHECK(r.best_epoch == 3);
  CHECK(r.best_metric == 0.6);
  CHECK(r.steps == 6 * 8);
}

TEST_CASE("Trainer: accumulation averages micro-batch gradients, options are checked", "[train][trainer]") {
  // accumulation 2 over batches of 2 == accumulation 1 over batches of 4 (no noise, mean losses)
  TempDir d1, d2;
  auto train = [](const fs::path& dir, Index batch, std::int64_t accum) {
    CpuContext ctx(1, 1);
    TinyProblem prob(4);
    prob.batch = batch;
    prob.noise = 0;
    Sgd<float> opt({.lr = 0.1});
    auto o = quiet(dir);
    o.epochs = 2;
    o.accumulation = accum;
    Trainer trainer(prob.net, opt, o);
    TrainTask task = prob.task();
    trainer.run(ctx, task);
    std::vector<float> w;
    prob.net.visit_params([&](std::string_view, auto& p) { for (Index i = 0; i < p.size(); ++i) w.push_back(p.value[i]); });
    return w;
  };
  const auto a = train(d1.path, 4, 1), b = train(d2.path, 2, 2);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-5).margin(1e-6));

  TinyProblem prob;
  AdamW<float> opt;
  auto o = quiet(d1.path);
  o.accumulation = 0;
  CHECK_THROWS_AS((Trainer<TinyNet, AdamW<float>>(prob.net, opt, o)), ConfigError);
}
