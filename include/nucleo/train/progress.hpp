#pragma once
/// `Progress`: training progress on stderr.
///
/// When the stream is a terminal (isatty) it shows one live line, redrawn in place at most every
/// `bar_interval_s`:
///
///     epoch 2/10 [##########----------] step 120/1000  loss 0.4321  48.2k nt/s  ETA 1m23s
///
/// Otherwise (a log file, a pipe, CI) it prints the same fields as plain lines, one every
/// `line_interval_s` seconds, and always the last one (`finish`). `note()` prints a line (epoch
/// summaries) without tearing the bar. The loss shown is the running mean of the current epoch;
/// nt/s counts nucleotides since `start`; ETA extrapolates steps per second of this session.
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace nucleo {

struct ProgressOptions {
  enum class Mode { automatic, bar, lines, off };
  Mode mode = Mode::automatic;       ///< automatic: bar if the stream is a terminal, else lines
  double line_interval_s = 10;       ///< plain lines: at most one per this many seconds
  double bar_interval_s = 0.1;       ///< bar: redraw at most this often
  int bar_width = 20;
  std::FILE* stream = stderr;
  std::function<double()> clock{};   ///< seconds; default steady_clock (tests inject a fake one)
};

/// Figures of one update.
struct ProgressState {
  std::int64_t epoch = 0, epochs = 0;        ///< epoch is 0-based; shown 1-based
  std::int64_t step = 0, total_steps = 0;    ///< optimizer steps done / planned
  double loss = NAN;                          ///< running mean loss of the epoch
  std::int64_t nucleotides = 0;              ///< processed since start()
};

class Progress {
 public:
  explicit Progress(ProgressOptions options = {}) : opt_(std::move(options)) {
    if (!opt_.clock)
      opt_.clock = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      };
    bar_ = opt_.mode == ProgressOptions::Mode::bar ||
           (opt_.mode == ProgressOptions::Mode::automatic && opt_.stream && ::isatty(::fileno(opt_.stream)));
    off_ = opt_.mode == ProgressOptions::Mode::off || !opt_.stream;
  }

  bool is_bar() const { return bar_ && !off_; }

  /// Begin timing; `first_step` is the step count at the start (non-zero when resuming).
  void start(std::int64_t first_step) {
    t0_ = opt_.clock();
    first_step_ = first_step;
    last_ = -1e300;
  }

  double elapsed() const { return opt_.clock() - t0_; }

  void update(const ProgressState& s) {
    last_state_ = s;
    have_state_ = true;
    if (off_) return;
    const double now = opt_.clock();
    const double every = bar_ ? opt_.bar_interval_s : opt_.line_interval_s;
    if (now - last_ < every) return;
    last_ = now;
    emit(s, now);
  }

  /// A line of its own (epoch summaries, warnings).
  void note(std::string_view line) {
    if (off_) return;
    if (bar_ && drawn_) std::fputs("\r\x1b[K", opt_.stream);
    std::fprintf(opt_.stream, "%.*s\n", static_cast<int>(line.size()), line.data());
    drawn_ = false;
    std::fflush(opt_.stream);
    if (bar_ && have_state_) emit(last_state_, opt_.clock());
  }

  /// Print the final state and end the bar's line.
  void finish() {
    if (off_ || !have_state_) return;
    emit(last_state_, opt_.clock());
    if (bar_) std::fputs("\n", opt_.stream);
    drawn_ = false;
    std::fflush(opt_.stream);
  }

  /// The text of one update at time `now` (no control characters).
  std::string render(const ProgressState& s, double now) const {
    const double dt = std::max(1e-9, now - t0_);
    const double nts = static_cast<double>(s.nucleotides) / dt;
    const std::int64_t done = s.step - first_step_;
    std::string eta = "?";
    if (done > 0 && s.total_steps > 0) eta = format_duration(dt / static_cast<double>(done) *
                                                             static_cast<double>(std::max<std::int64_t>(0, s.total_steps - s.step)));
    std::string bar;
    if (bar_ && s.total_steps > 0) {
      const int fill = static_cast<int>(opt_.bar_width * std::min<double>(1.0, static_cast<double>(s.step) / static_cast<double>(s.total_steps)));
      bar = "[" + std::string(static_cast<std::size_t>(fill), '#') + std::string(static_cast<std::size_t>(opt_.bar_width - fill), '-') + "] ";
    }
    return fmt::format("epoch {}/{} {}step {}/{}  loss {:.4f}  {} nt/s  ETA {}", s.epoch + 1, s.epochs, bar, s.step,
                       s.total_steps, s.loss, format_rate(nts), eta);
  }

  /// "45s", "3m07s", "2h05m".
  static std::string format_duration(double seconds) {
    if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
    const auto s = static_cast<std::int64_t>(std::llround(seconds));
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  }

  /// "812", "48.2k", "1.31M".
  static std::string format_rate(double r) {
    if (!(r >= 0) || !std::isfinite(r)) return "?";
    if (r < 1e3) return fmt::format("{:.0f}", r);
    if (r < 1e6) return fmt::format("{:.1f}k", r / 1e3);
    return fmt::format("{:.2f}M", r / 1e6);
  }

 private:
  void emit(const ProgressState& s, double now) {
    const std::string text = render(s, now);
    if (bar_) std::fprintf(opt_.stream, "\r%s\x1b[K", text.c_str());
    else std::fprintf(opt_.stream, "%s\n", text.c_str());
    drawn_ = bar_;
    std::fflush(opt_.stream);
  }

  ProgressOptions opt_;
  bool bar_ = false, off_ = false, drawn_ = false, have_state_ = false;
  double t0_ = 0, last_ = -1e300;
  std::int64_t first_step_ = 0;
  ProgressState last_state_;
};

}  // namespace nucleo
