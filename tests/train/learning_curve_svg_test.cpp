#include "nucleo/train/learning_curve_svg.hpp"

#include <catch2/catch.hpp>

#include "train/tiny_task.hpp"

#include <regex>
#include <vector>

using namespace nucleo;
using namespace nucleo::testing;

namespace {
/// Tags balance (every opened element is closed, in order) and the text outside tags has no '<'.
bool well_formed(const std::string& s) {
  std::vector<std::string> stack;
  const std::regex tag(R"(<(/?)([a-zA-Z]+)[^<>]*?(/?)>)");
  std::size_t covered = 0;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), tag); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    if (s.substr(covered, static_cast<std::size_t>(m.position()) - covered).find_first_of("<>") != std::string::npos)
      return false;
    covered = static_cast<std::size_t>(m.position() + m.length());
    if (m[1] == "/") {
      if (stack.empty() || stack.back() != m[2]) return false;
      stack.pop_back();
    } else if (m[3] != "/") {
      stack.push_back(m[2]);
    }
  }
  return stack.empty() && s.substr(covered).find_first_of("<>") == std::string::npos;
}

std::vector<std::string> polylines(const std::string& s) {
  std::vector<std::string> out;
  const std::regex re(R"re(<polyline[^>]*points="([^"]*)")re");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) out.push_back((*it)[1]);
  return out;
}
int points(const std::string& p) {
  if (p.empty()) return 0;
  return static_cast<int>(std::count(p.begin(), p.end(), ' ')) + 1;
}
}  // namespace

TEST_CASE("LearningCurveSvg: a well-formed SVG with one point per epoch", "[train][learning_curve_svg]") {
  LearningCurveSvg c;
  c.title = "tiny <synthetic> & run";
  c.metric_label = "validation MCC";
  for (int e = 1; e <= 7; ++e) {
    c.epochs.push_back(e);
    c.train_loss.push_back(1.0 / e);
    c.val_metric.push_back(e == 3 ? NAN : 0.1 * e);  // epoch 3 not evaluated
  }
  const std::string svg = c.render();
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") == svg.size() - 7);
  CHECK(well_formed(svg));
  const auto pl = polylines(svg);
  REQUIRE(pl.size() == 2);
  CHECK(points(pl[0]) == 7);
  CHECK(points(pl[1]) == 6);
  CHECK_THAT(svg, Catch::Contains("tiny &lt;synthetic&gt; &amp; run"));
  CHECK_THAT(svg, Catch::Contains(">validation MCC</text>"));
  CHECK_THAT(svg, Catch::Contains(">epoch</text>"));
  CHECK_THAT(svg, Catch::Contains("best 0.7"));
  CHECK(std::count(svg.begin(), svg.end(), '\n') > 10);

  TempDir dir;
  c.write(dir.path / "curve.svg");
  CHECK(slurp(dir.path / "curve.svg") == svg);
}

TEST_CASE("LearningCurveSvg: nice ticks, degenerate inputs still render", "[train][learning_curve_svg]") {
  CHECK(LearningCurveSvg::ticks(0, 1) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  const auto t = LearningCurveSvg::ticks(0.13, 0.87);
  CHECK(t.front() == Approx(0.2));
  CHECK(t.back() == Approx(0.8));
  CHECK(LearningCurveSvg::ticks(3, 3).size() >= 2);  // a flat line gets a range around it

  LearningCurveSvg one;
  one.epochs = {1};
  one.train_loss = {0.7};
  one.val_metric = {NAN};
  const std::string svg = one.render();
  CHECK(well_formed(svg));
  const auto pl = polylines(svg);
  REQUIRE(pl.size() == 2);
  CHECK(points(pl[0]) == 1);
  CHECK(points(pl[1]) == 0);
  LearningCurveSvg none;
  CHECK(well_formed(none.render()));
}
