#pragma once
// Test helper: runs nucleo's example programs as a user does (fork + exec), with stdin text, and
// collects the exit status, stdout and stderr; or starts one in the background so that a test can
// send it a signal. Programs are looked up in $NUCLEO_PROGRAM_DIR if set (to test another build,
// or an installed copy), else in the build's examples folder (tests/CMakeLists.txt).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace nucleo::testing {

inline std::string program_path(const std::string& name) {
  const char* dir = std::getenv("NUCLEO_PROGRAM_DIR");
  return std::string(dir && *dir ? dir : NUCLEO_PROGRAM_DIR) + "/" + name;
}

struct ProgramRun {
  int status = 0;  // waitpid status
  std::string out, err;
  bool exited() const { return WIFEXITED(status); }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  bool signalled() const { return WIFSIGNALED(status); }
  int signal() const { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A program started in the background; its stdout and stderr go to files in `dir`.
class Background {
 public:
  Background(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& dir,
             const std::string& stdin_text = {})
      : out_(dir / "stdout.txt"), err_(dir / "stderr.txt") {
    int in[2];
    if (::pipe(in) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv_s = {program_path(program)};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::close(in[0]);
      ::close(in[1]);
      const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) std::_Exit(126);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(in[0]);
    ::signal(SIGPIPE, SIG_IGN);  // a program that stops early must not kill the test with SIGPIPE
    std::size_t off = 0;  // a pipe holds 64 KiB: tests feed small inputs only
    while (off < stdin_text.size()) {
      const ssize_t w = ::write(in[1], stdin_text.data() + off, stdin_text.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::close(in[1]);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string err() const { return read_file(err_); }
  /// Waits until `done()` holds (polling), or the program ended, or `seconds` passed; true if done().
  bool wait_for(const std::function<bool()>& done, double seconds = 120) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
      if (done()) return true;
      int st = 0;
      if (!waited_ && ::waitpid(pid_, &st, WNOHANG) == pid_) {
        waited_ = true;
        status_ = st;
        return done();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  ProgramRun finish() {
    if (!waited_) {
      ::waitpid(pid_, &status_, 0);
      waited_ = true;
    }
    return ProgramRun{status_, read_file(out_), read_file(err_)};
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_, err_;
  bool waited_ = false;
  int status_ = 0;
};

/// Runs `program args...` to its end, with `stdin_text` on its standard input.
inline ProgramRun run_program(const std::string& program, const std::vector<std::string>& args,
                              const std::filesystem::path& dir, const std::string& stdin_text = {}) {
  Background b(program, args, dir, stdin_text);
  return b.finish();
}

/// The tensors of a checkpoint as raw bytes, by name (the blob, without the header's timing
/// fields): equal maps mean bit-identical weights and optimizer state.
inline std::vector<std::pair<std::string, std::string>> checkpoint_tensors(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 24) throw std::runtime_error("not a checkpoint: " + path.string());
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data() + 16, 8);
  const auto header = nlohmann::json::parse(bytes.substr(24, hlen));
  const std::uint64_t blob = (24 + hlen + 63) / 64 * 64;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& t : header.at("tensors"))
    out.emplace_back(t.at("name").get<std::string>(),
                     bytes.substr(blob + t.at("offset").get<std::uint64_t>(), t.at("nbytes").get<std::uint64_t>()));
  return out;
}

}  // namespace nucleo::testing
