#pragma once
/// `Interrupted`: what `Trainer::run` throws when the process was asked to stop (SIGINT, i.e.
/// Ctrl-C, or SIGTERM) while it trained. The trainer does not exit the process (a library must
/// not): it finishes the optimizer step in progress, writes `last.ckpt` atomically and throws this
/// error, which unwinds through the pipeline functions (pretrain, fine-tune, compare) to the
/// program. The program prints `what()` (it names the signal, the step and the checkpoint) and
/// returns `exit_code()`: 128 + the signal number, the shell's convention (130 for SIGINT, 143 for
/// SIGTERM). Running the same command again resumes from that checkpoint bit-identically.
///
///   try { ... trainer.run(ctx, task) ... }
///   catch (const nucleo::Interrupted& e) { std::cerr << e.what() << '\n'; return e.exit_code(); }
///
/// `detail::StopSignals` is the handler the trainer installs for the duration of `run`: the first
/// SIGINT/SIGTERM only records the request; a second one of the same kind ends the process at once
/// (the default action), for a user who does not want to wait for the step to finish. A signal
/// that was ignored when the handler was installed (a background job of a non-interactive shell
/// ignores SIGINT) stays ignored. The request is kept until `detail::clear_stop_request()`, so
/// that a pipeline running several trainers stops at the next one too.
#include "nucleo/core/error.hpp"

#include <signal.h>

#include <csignal>
#include <filesystem>
#include <string>

namespace nucleo {

class Interrupted : public Error {
 public:
  Interrupted(int signal_number, std::filesystem::path checkpoint, std::int64_t step, const std::string& what)
      : Error(what), signal_(signal_number), checkpoint_(std::move(checkpoint)), step_(step) {}
  /// The signal that asked to stop (SIGINT, SIGTERM).
  int signal_number() const noexcept { return signal_; }
  /// The process exit status a program should return: 128 + the signal number.
  int exit_code() const noexcept { return 128 + signal_; }
  /// The checkpoint that holds the state to resume from.
  const std::filesystem::path& checkpoint() const noexcept { return checkpoint_; }
  /// Optimizer steps taken when the run stopped.
  std::int64_t step() const noexcept { return step_; }

 private:
  int signal_;
  std::filesystem::path checkpoint_;
  std::int64_t step_;
};

/// "SIGINT", "SIGTERM" or "signal N".
inline std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(sig);
}

namespace detail {

/// The signal number of the first stop request, 0 if none.
inline volatile std::sig_atomic_t stop_request = 0;

extern "C" inline void nucleo_on_stop_signal(int sig) {
  if (stop_request != 0) {  // a second request: stop now, with the default action
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // delivered when this handler returns (the signal is blocked inside it)
    return;
  }
  stop_request = sig;
}

/// The stop request so far (0: none).
inline int stop_requested() noexcept { return static_cast<int>(stop_request); }
/// Forget a stop request (tests; a program that handled one and continues).
inline void clear_stop_request() noexcept { stop_request = 0; }

/// Installs the SIGINT/SIGTERM handler for its lifetime and restores the previous ones after.
class StopSignals {
 public:
  StopSignals() {
    for (int i = 0; i < 2; ++i) {
      struct sigaction now {};
      installed_[i] = false;
      if (::sigaction(kSignals[i], nullptr, &old_[i]) != 0) continue;
      if (old_[i].sa_handler == SIG_IGN) continue;  // keep an ignored signal ignored
      now.sa_handler = nucleo_on_stop_signal;
      sigemptyset(&now.sa_mask);
      now.sa_flags = SA_RESTART;  // reads and writes in progress are not cut short
      installed_[i] = ::sigaction(kSignals[i], &now, nullptr) == 0;
    }
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    for (int i = 0; i < 2; ++i)
      if (installed_[i]) ::sigaction(kSignals[i], &old_[i], nullptr);
  }

 private:
  static constexpr int kSignals[2] = {SIGINT, SIGTERM};
  struct sigaction old_[2] {};
  bool installed_[2] = {false, false};
};

}  // namespace detail
}  // namespace nucleo
