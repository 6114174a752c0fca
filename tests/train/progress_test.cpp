#include "nucleo/train/progress.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace nucleo;

namespace {
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
  return s;
}
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("Progress: plain lines on a non-terminal, at most one per interval", "[train][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  double now = 100;
  ProgressOptions o;
  o.stream = f;  // a file, not a terminal: automatic mode prints lines
  o.line_interval_s = 10;
  o.clock = [&] { return now; };
  Progress p(o);
  CHECK_FALSE(p.is_bar());
  p.start(0);
  for (int step = 1; step <= 30; ++step) {
    now += 1;  // one step per second, 1000 nt per step
    p.update({0, 2, step, 60, 0.5, step * 1000});
  }
  p.finish();
  const std::string out = contents(f);
  CHECK(count(out, "\n") == 4);  // t = 101, 111, 121 and the final line
  CHECK(out.find('\r') == std::string::npos);
  CHECK_THAT(out, Catch::Contains("epoch 1/2 step 30/60  loss 0.5000  1.0k nt/s  ETA 30s"));
  std::fclose(f);
}

TEST_CASE("Progress: a forced bar redraws in place and notes do not tear it", "[train][progress]") {
  std::FILE* f = std::tmpfile();
  double now = 0;
  ProgressOptions o;
  o.stream = f;
  o.mode = ProgressOptions::Mode::bar;
  o.bar_width = 10;
  o.clock = [&] { return now; };
  Progress p(o);
  CHECK(p.is_bar());
  p.start(10);  // resumed at step 10
  now = 5;
  p.update({1, 3, 15, 30, 1.25, 5000});
  p.note("epoch 2: done");
  p.finish();
  const std::string out = contents(f);
  CHECK_THAT(out, Catch::Contains("\repoch 2/3 [#####-----] step 15/30  loss 1.2500  1.0k nt/s  ETA 15s"));
  CHECK_THAT(out, Catch::Contains("\r\x1b[Kepoch 2: done\n"));
  CHECK(out.back() == '\n');
  std::fclose(f);
}

TEST_CASE("Progress: off prints nothing, durations and rates format", "[train][progress]") {
  std::FILE* f = std::tmpfile();
  ProgressOptions o;
  o.stream = f;
  o.mode = ProgressOptions::Mode::off;
  Progress p(o);
  p.start(0);
  p.update({0, 1, 1, 1, 0.1, 10});
  p.note("hello");
  p.finish();
  CHECK(contents(f).empty());
  std::fclose(f);
  CHECK(Progress::format_duration(45) == "45s");
  CHECK(Progress::format_duration(187) == "3m07s");
  CHECK(Progress::format_duration(7500) == "2h05m");
  CHECK(Progress::format_duration(NAN) == "?");
  CHECK(Progress::format_rate(812) == "812");
  CHECK(Progress::format_rate(48200) == "48.2k");
  CHECK(Progress::format_rate(1.31e6) == "1.31M");
}
