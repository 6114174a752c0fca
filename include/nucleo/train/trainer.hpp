#pragma once
/// `Trainer<Model, Optimizer>`: the epoch loop, independent of the model's task.
///
/// The task supplies callables (`TrainTask`); the trainer owns everything around them:
///
/// ```
/// for epoch in [start, epochs):                        (stops early at max_steps or by patience)
///   for each optimizer step (accumulation micro-batches, fewer at the epoch's end):
///     zero_grad(model)
///     for each micro-batch i: task.train_batch(ctx, epoch, i)   // forward, loss, backward
///     grads *= 1 / micro-batches          (each train_batch's gradient is of its own mean loss)
///     clip_grad_norm(model, clip_norm)    (if clip_norm > 0)
///     optimizer.set_lr(schedule(step))    (if a schedule is given)
///     optimizer.step(ctx, model); ++step
///     every checkpoint_every steps: save last.ckpt (mid-epoch cursor)
///   validation = task.evaluate(ctx, Split::validation)    (ctx in evaluation mode)
///   best validation metric so far (higher is better, as BEND: MCC, mean AUROC)? save best.ckpt
///   save last.ckpt (cursor at the next epoch); append a row to metrics.jsonl / metrics.csv;
///   redraw learning_curve.svg
/// load best.ckpt; test = task.evaluate(ctx, Split::test); write result.json
/// ```
///
/// Resume: with `resume` set and `<run_dir>/last.ckpt` present, `run` restores the weights, the
/// optimizer state, the context's Rng, the step count, the data cursor (epoch, next batch), the
/// partial sums of the current epoch, the per-epoch history and the model-selection state, then
/// continues. A run killed at any point therefore ends with the same weights and logs as an
/// uninterrupted one, provided `train_batch(ctx, e, i)` depends only on (e, i), the weights and
/// ctx.rng() (shuffle with a generator forked from (seed, epoch), not a running one).
///
/// Stopping: during `run`, SIGINT and SIGTERM are caught (`stop_on_signals`, interrupted.hpp):
/// the step in progress is finished, `last.ckpt` is written and `Interrupted` is thrown (the
/// program turns it into exit status 130 / 143). A resumed run then equals an uninterrupted one.
/// At the start, temporary files "*.tmp-<pid>-*" that a dead process left in `run_dir` (SIGKILL
/// during a checkpoint write) are removed. The training time survives a resume: the checkpoint
/// keeps the seconds trained so far (`TrainResult::seconds` counts every session).
///
/// Determinism: see docs/training.md. With the same seed and thread count, losses and weights are
/// bit-identical run to run.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/detail/output_paths.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/optim/grad_clip.hpp"
#include "nucleo/optim/lr_schedule.hpp"
#include "nucleo/train/interrupted.hpp"
#include "nucleo/train/learning_curve_svg.hpp"
#include "nucleo/train/metrics_log.hpp"
#include "nucleo/train/progress.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nucleo {

/// What one training micro-batch reports.
struct StepResult {
  double loss = 0;               ///< the batch's mean loss (as its gradient was computed)
  std::int64_t nucleotides = 0;  ///< positions processed (for nt/s)
};

enum class Split { validation, test };
inline const char* split_name(Split s) { return s == Split::validation ? "validation" : "test"; }

/// What an evaluation reports.
struct EvalResult {
  double metric = std::numeric_limits<double>::quiet_NaN();  ///< selection metric, higher is better
  double loss = std::numeric_limits<double>::quiet_NaN();
  nlohmann::json extra = nlohmann::json::object();           ///< per-class figures etc., logged as is
};

/// The task-specific part of training, as callables.
struct TrainTask {
  /// Number of micro-batches in epoch `e`.
  std::function<std::int64_t(std::int64_t epoch)> num_batches;
  /// Forward, loss and backward of batch `i` of epoch `e` (ctx is in training mode). Must depend
  /// only on (e, i), the weights and ctx.rng() for a resumed run to equal an uninterrupted one.
  std::function<StepResult(CpuContext& ctx, std::int64_t epoch, std::int64_t batch)> train_batch;
  /// Evaluate the current weights on a split (ctx is in evaluation mode). Empty: no evaluation,
  /// no model selection, no test.
  std::function<EvalResult(CpuContext& ctx, Split split)> evaluate{};
  /// Optional task state stored in the checkpoint's data cursor (and handed back on resume).
  std::function<nlohmann::json()> save_state{};
  std::function<void(const nlohmann::json&)> load_state{};
};

struct TrainerOptions {
  std::filesystem::path run_dir = "results/run";  ///< last.ckpt, best.ckpt, metrics.*, learning_curve.svg, result.json
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;         ///< optimizer-step budget (0 = none); may end an epoch early
  std::int64_t accumulation = 1;      ///< micro-batches per optimizer step
  double clip_norm = 0;               ///< global gradient-norm clip (0 = off)
  std::optional<LrSchedule> schedule{};  ///< none: the optimizer's lr is left alone
  std::int64_t patience = 0;          ///< stop after this many epochs without a better validation metric (0 = never)
  std::int64_t checkpoint_every = 0;  ///< also save last.ckpt every N optimizer steps (0 = epoch ends only)
  bool resume = true;                 ///< continue from run_dir/last.ckpt when it exists
  bool test_at_end = true;            ///< evaluate Split::test with the best checkpoint
  std::string metric_name = "metric"; ///< e.g. "mcc", "mean_auroc"; column "val_<name>"
  std::string model_type = "model";   ///< written into checkpoints and checked on resume
  nlohmann::json config = nlohmann::json::object();  ///< written into checkpoints
  std::string title{};                ///< learning-curve title (default: run directory name)
  ProgressOptions progress{};
  /// Catch SIGINT/SIGTERM during run(): finish the step, write last.ckpt, throw Interrupted.
  bool stop_on_signals = true;
  /// Called after every optimizer step (after its checkpoint, if any). Tests use it to crash.
  std::function<void(std::int64_t step)> on_step{};
};

struct TrainResult {
  std::int64_t steps = 0;                 ///< optimizer steps taken in total
  std::int64_t epochs_completed = 0;      ///< epochs logged (a budget-cut epoch counts)
  std::int64_t best_epoch = -1;           ///< 0-based; -1 without validation
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  std::optional<EvalResult> test{};
  bool early_stopped = false, budget_reached = false, resumed = false;
  double seconds = 0;          ///< time in run(), every session of a resumed run included
  double resumed_seconds = 0;  ///< the part of `seconds` spent by earlier sessions (from the checkpoint)
  std::size_t stale_temporaries_removed = 0;  ///< "*.tmp-<pid>-*" files of dead processes deleted at the start
  std::vector<nlohmann::json> history{};  ///< the per-epoch rows
};

template <class Model, class Optimizer>
class Trainer {
 public:
  using scalar_type = typename Model::scalar_type;

  Trainer(Model& model, Optimizer& optimizer, TrainerOptions options)
      : model_(model), opt_(optimizer), o_(std::move(options)) {
    NUCLEO_CHECK_CONFIG(o_.accumulation >= 1, "Trainer: accumulation must be >= 1 (got {})", o_.accumulation);
    NUCLEO_CHECK_CONFIG(o_.epochs >= 0 && o_.max_steps >= 0 && o_.patience >= 0 && o_.checkpoint_every >= 0,
                        "Trainer: epochs, max_steps, patience and checkpoint_every must be >= 0");
  }

  std::filesystem::path last_checkpoint() const { return o_.run_dir / "last.ckpt"; }
  std::filesystem::path best_checkpoint() const { return o_.run_dir / "best.ckpt"; }
  std::filesystem::path curve_path() const { return o_.run_dir / "learning_curve.svg"; }
  std::filesystem::path result_path() const { return o_.run_dir / "result.json"; }
  MetricsLog metrics_log() const {
    return MetricsLog(o_.run_dir, {"epoch", "step", "train_loss", "val_" + o_.metric_name, "val_loss", "lr",
                                   "nucleotides", "nt_per_s", "seconds", "partial", "best"});
  }

  TrainResult run(CpuContext& ctx, TrainTask& task) {
    NUCLEO_CHECK_CONFIG(task.num_batches && task.train_batch, "Trainer: the task needs num_batches and train_batch");
    std::filesystem::create_directories(o_.run_dir);
    std::optional<detail::StopSignals> signals;
    if (o_.stop_on_signals) signals.emplace();
    State st;
    TrainResult res;
    res.stale_temporaries_removed = detail::remove_stale_temporaries(o_.run_dir);
    if (o_.resume && std::filesystem::exists(last_checkpoint())) {
      restore(ctx, task, st);
      res.resumed = true;
      res.resumed_seconds = st.elapsed_before;
    }
    MetricsLog log = metrics_log();
    log.rewrite(st.history);

    Progress progress(o_.progress);
    const std::int64_t total = planned_steps(task);
    progress.start(st.step);
    if (res.stale_temporaries_removed > 0)
      progress.note(fmt::format("removed {} temporary file(s) left in {} by a process that no longer runs",
                                res.stale_temporaries_removed, o_.run_dir.string()));
    if (res.resumed)
      progress.note(fmt::format("resumed from {} at epoch {}, batch {}, step {}", last_checkpoint().string(),
                                st.epoch + 1, st.batch, st.step));
    st.clock = [&] { return st.elapsed_before + progress.elapsed(); };
    // A stop request (SIGINT/SIGTERM) is honoured here, between steps: the state is saved first.
    auto stop_if_asked = [&](bool save, const char* where) {
      const int sig = detail::stop_requested();
      if (sig == 0) return;
      if (save) save_last(ctx, task, st);
      progress.finish();
      throw Interrupted(sig, last_checkpoint(), st.step,
                        fmt::format("interrupted by {} {} (step {}); the state is saved in {}: run the same command "
                                    "again to resume",
                                    signal_name(sig), where, st.step, last_checkpoint().string()));
    };
    stop_if_asked(!res.resumed, "before training");
    std::int64_t session_nt = 0;
    double t_epoch = progress.elapsed() - st.seconds;

    bool stop = false;
    while (!stop && st.epoch < o_.epochs) {
      if (o_.patience > 0 && st.bad_epochs >= o_.patience) {
        res.early_stopped = true;
        break;
      }
      const std::int64_t nb = task.num_batches(st.epoch);
      bool budget_cut = false;
      while (st.batch < nb) {
        if (o_.max_steps > 0 && st.step >= o_.max_steps) {
          budget_cut = true;
          break;
        }
        ctx.set_training(true);
        zero_grad(model_);
        const std::int64_t micro = std::min(o_.accumulation, nb - st.batch);
        for (std::int64_t k = 0; k < micro; ++k) {
          const StepResult r = task.train_batch(ctx, st.epoch, st.batch + k);
          if (!std::isfinite(r.loss))
            throw Error(fmt::format("training diverged: loss {} at epoch {}, batch {}, step {}", r.loss, st.epoch + 1,
                                    st.batch + k, st.step));
          st.loss_sum += r.loss;
          st.batches += 1;
          st.nucleotides += r.nucleotides;
          session_nt += r.nucleotides;
        }
        st.batch += micro;
        if (micro > 1) {
          const auto inv = static_cast<scalar_type>(1.0 / static_cast<double>(micro));
          model_.visit_params([&](std::string_view, auto& p) { p.grad *= inv; });
        }
        if (o_.clip_norm > 0) clip_grad_norm(model_, o_.clip_norm);
        if (o_.schedule) opt_.set_lr((*o_.schedule)(st.step));
        opt_.step(ctx, model_);
        ++st.step;
        progress.update({st.epoch, o_.epochs, st.step, total, st.loss_sum / static_cast<double>(st.batches), session_nt});
        if (o_.checkpoint_every > 0 && st.step % o_.checkpoint_every == 0 && st.batch < nb) {
          st.seconds = progress.elapsed() - t_epoch;
          save_last(ctx, task, st);
        }
        if (o_.on_step) o_.on_step(st.step);
        if (detail::stop_requested()) {
          st.seconds = progress.elapsed() - t_epoch;
          stop_if_asked(true, "after an optimizer step");
        }
      }
      if (o_.max_steps > 0 && st.step >= o_.max_steps) {
        res.budget_reached = true;
        stop = true;
        if (st.batch == 0 && st.batches == 0) break;  // nothing trained in this epoch
        budget_cut = budget_cut || st.batch < nb;
      }

      // End of the epoch (or of the budget): evaluate, select, checkpoint, log.
      const double secs = progress.elapsed() - t_epoch;
      EvalResult val;
      if (task.evaluate) {
        ctx.set_training(false);
        val = task.evaluate(ctx, Split::validation);
        ctx.set_training(true);
      }
      bool is_best = false;
      if (std::isfinite(val.metric) && (!std::isfinite(st.best_metric) || val.metric > st.best_metric)) {
        st.best_metric = val.metric;
        st.best_epoch = st.epoch;
        st.bad_epochs = 0;
        is_best = true;
      } else if (task.evaluate) {
        ++st.bad_epochs;
      }
      nlohmann::json row = {{"epoch", st.epoch + 1},
                            {"step", st.step},
                            {"train_loss", num(st.batches ? st.loss_sum / static_cast<double>(st.batches) : NAN)},
                            {"val_" + o_.metric_name, num(val.metric)},
                            {"val_loss", num(val.loss)},
                            {"lr", opt_.lr()},
                            {"nucleotides", st.nucleotides},
                            {"nt_per_s", num(secs > 0 ? static_cast<double>(st.nucleotides) / secs : NAN)},
                            {"seconds", secs},
                            {"partial", budget_cut},
                            {"best", is_best}};
      if (!val.extra.empty()) row["val_extra"] = val.extra;
      st.history.push_back(row);
      if (is_best) save_best(st);
      ++st.epoch;
      st.batch = 0;
      st.loss_sum = 0;
      st.batches = 0;
      st.nucleotides = 0;
      st.seconds = 0;
      save_last(ctx, task, st);
      log.append(row);
      write_curve(st);
      progress.note(fmt::format("epoch {}: train loss {:.4f}, val {} {:.4f}{}, {} nt/s, {}", st.epoch,
                                row["train_loss"].is_number() ? row["train_loss"].get<double>() : NAN, o_.metric_name,
                                val.metric, is_best ? " (best)" : "",
                                Progress::format_rate(row["nt_per_s"].is_number() ? row["nt_per_s"].get<double>() : NAN),
                                Progress::format_duration(secs)));
      t_epoch = progress.elapsed();
      stop_if_asked(false, "at the end of an epoch");  // last.ckpt was just written
    }
    if (!res.early_stopped && o_.patience > 0 && st.bad_epochs >= o_.patience && st.epoch < o_.epochs)
      res.early_stopped = true;
    progress.finish();

    res.steps = st.step;
    res.epochs_completed = static_cast<std::int64_t>(st.history.size());
    res.best_epoch = st.best_epoch;
    res.best_metric = st.best_metric;
    res.history = st.history;
    if (o_.test_at_end && task.evaluate) {
      stop_if_asked(false, "before the test evaluation");
      if (std::filesystem::exists(best_checkpoint())) load_checkpoint(best_checkpoint(), model_);
      ctx.set_training(false);
      res.test = task.evaluate(ctx, Split::test);
      ctx.set_training(true);
      stop_if_asked(false, "during the test evaluation");
      progress.note(fmt::format("test {} {:.4f} (weights of epoch {})", o_.metric_name, res.test->metric,
                                st.best_epoch + 1));
    }
    res.seconds = st.clock();
    write_result(res);
    return res;
  }

 private:
  struct State {
    std::int64_t epoch = 0, batch = 0, step = 0;
    double loss_sum = 0;
    std::int64_t batches = 0, nucleotides = 0;
    double seconds = 0;
    double best_metric = std::numeric_limits<double>::quiet_NaN();
    std::int64_t best_epoch = -1, bad_epochs = 0;
    std::vector<nlohmann::json> history;
    double elapsed_before = 0;       // seconds trained by earlier sessions (restored)
    std::function<double()> clock;   // seconds trained so far, all sessions
  };

  std::int64_t planned_steps(TrainTask& task) const {
    std::int64_t n = 0;
    for (std::int64_t e = 0; e < o_.epochs; ++e) n += (task.num_batches(e) + o_.accumulation - 1) / o_.accumulation;
    return o_.max_steps > 0 ? std::min(n, o_.max_steps) : n;
  }

  static nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
  static double num_of(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

  CheckpointMeta meta(CpuContext& ctx, TrainTask& task, const State& st) const {
    CheckpointMeta m;
    m.model_type = o_.model_type;
    m.config = o_.config;
    m.rng = ctx.rng().state();
    m.epoch = st.epoch;
    m.step = st.step;
    m.data_cursor = {{"epoch", st.epoch}, {"batch", st.batch}};
    if (task.save_state) m.data_cursor["task"] = task.save_state();
    m.metrics = st.history;
    m.extra = {{"trainer",
                {{"loss_sum", st.loss_sum},
                 {"batches", st.batches},
                 {"nucleotides", st.nucleotides},
                 {"seconds", st.seconds},
                 {"elapsed_seconds", st.clock ? st.clock() : st.elapsed_before},
                 {"best_metric", num(st.best_metric)},
                 {"best_epoch", st.best_epoch},
                 {"bad_epochs", st.bad_epochs},
                 {"threads", ctx.threads()},
                 {"accumulation", o_.accumulation}}}};
    return m;
  }

  void save_last(CpuContext& ctx, TrainTask& task, const State& st) {
    save_checkpoint(last_checkpoint(), model_, meta(ctx, task, st), &opt_);
  }

  void save_best(const State& st) {
    CheckpointMeta m;
    m.model_type = o_.model_type;
    m.config = o_.config;
    m.epoch = st.epoch;
    m.step = st.step;
    m.metrics = st.history;
    m.extra = {{"best_metric", num(st.best_metric)}, {"metric_name", o_.metric_name}};
    save_checkpoint(best_checkpoint(), model_, m);
  }

  void restore(CpuContext& ctx, TrainTask& task, State& st) {
    LoadOptions lo;
    lo.model_type = o_.model_type;
    const LoadReport r = load_checkpoint(last_checkpoint(), model_, lo, &opt_);
    if (!r.optimizer_loaded)
      throw IoError(fmt::format("checkpoint {}: no optimizer state, cannot resume", last_checkpoint().string()));
    if (r.meta.rng) ctx.rng().set_state(*r.meta.rng);
    st.step = r.meta.step;
    st.epoch = r.meta.data_cursor.at("epoch").get<std::int64_t>();
    st.batch = r.meta.data_cursor.at("batch").get<std::int64_t>();
    if (task.load_state && r.meta.data_cursor.contains("task")) task.load_state(r.meta.data_cursor["task"]);
    const auto& t = r.meta.extra.at("trainer");
    st.loss_sum = t.at("loss_sum").get<double>();
    st.batches = t.at("batches").get<std::int64_t>();
    st.nucleotides = t.at("nucleotides").get<std::int64_t>();
    st.seconds = t.at("seconds").get<double>();
    st.elapsed_before = t.value("elapsed_seconds", 0.0);  // absent in checkpoints of nucleo <= 0.1.0
    st.best_metric = num_of(t.at("best_metric"));
    st.best_epoch = t.at("best_epoch").get<std::int64_t>();
    st.bad_epochs = t.at("bad_epochs").get<std::int64_t>();
    for (const auto& row : r.meta.metrics) st.history.push_back(row);
  }

  void write_curve(const State& st) const {
    LearningCurveSvg svg;
    svg.title = o_.title.empty() ? "Learning curve: " + o_.run_dir.filename().string() : o_.title;
    svg.metric_label = "validation " + o_.metric_name;
    for (const auto& row : st.history) {
      svg.epochs.push_back(num_of(row["epoch"]));
      svg.train_loss.push_back(num_of(row["train_loss"]));
      svg.val_metric.push_back(num_of(row["val_" + o_.metric_name]));
    }
    svg.write(curve_path());
  }

  void write_result(const TrainResult& r) const {
    nlohmann::json j = {{"steps", r.steps},
                        {"epochs_completed", r.epochs_completed},
                        {"best_epoch", r.best_epoch + 1},
                        {"best_val_" + o_.metric_name, num(r.best_metric)},
                        {"early_stopped", r.early_stopped},
                        {"budget_reached", r.budget_reached},
                        {"seconds", r.seconds},
                        {"model", o_.model_type},
                        {"config", o_.config}};
    if (r.test) {
      j["test_" + o_.metric_name] = num(r.test->metric);
      j["test_loss"] = num(r.test->loss);
      j["test_extra"] = r.test->extra;
    }
    detail::write_file_atomic(result_path(), j.dump(2) + "\n");
  }

  Model& model_;
  Optimizer& opt_;
  TrainerOptions o_;
};

}  // namespace nucleo
