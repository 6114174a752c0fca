#include "nucleo/train/line_plot_svg.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

using namespace nucleo;

namespace {
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& s) {
  std::vector<std::vector<std::pair<double, double>>> out;
  const std::regex re(R"re(<polyline[^>]*points="([^"]*)")re"), pt(R"(([-0-9.]+),([-0-9.]+))");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
    const std::string p = (*it)[1];
    out.emplace_back();
    for (auto jt = std::sregex_iterator(p.begin(), p.end(), pt); jt != std::sregex_iterator(); ++jt)
      out.back().emplace_back(std::stod((*jt)[1]), std::stod((*jt)[2]));
  }
  return out;
}
}  // namespace

TEST_CASE("LinePlotSvg: one polyline per series, log x places 10, 25, 100 by their logarithms", "[train][line_plot_svg]") {
  LinePlotSvg p;
  p.title = "sample <efficiency> & more";
  p.x_label = "training loci (%)";
  p.y_label = "test MCC";
  p.log_x = true;
  p.x_ticks = {10, 25, 100};
  p.series.push_back({"SPT", {10, 25, 100}, {0.30, 0.40, 0.45}, ""});
  p.series.push_back({"scratch", {10, 25, 100}, {0.10, std::nan(""), 0.42}, ""});
  const std::string svg = p.render();
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") == svg.size() - 7);
  CHECK_THAT(svg, Catch::Contains("sample &lt;efficiency&gt; &amp; more"));
  CHECK_THAT(svg, Catch::Contains(">training loci (%) (log scale)</text>"));
  CHECK_THAT(svg, Catch::Contains(">SPT</text>"));
  CHECK_THAT(svg, Catch::Contains(">scratch</text>"));
  const auto lines = polylines(svg);
  REQUIRE(lines.size() == 2);
  REQUIRE(lines[0].size() == 3);
  REQUIRE(lines[1].size() == 2);  // the NaN point is left out
  // log axis: the gap 10 -> 25 over the gap 25 -> 100 equals log(2.5) / log(4)
  const double r = (lines[0][1].first - lines[0][0].first) / (lines[0][2].first - lines[0][1].first);
  CHECK(r == Approx(std::log(2.5) / std::log(4.0)).epsilon(1e-3));
  // y grows upwards: a larger MCC is drawn higher (smaller SVG y)
  CHECK(lines[0][2].second < lines[0][0].second);
  CHECK(lines[1][1].second < lines[1][0].second);
  // same x, same column; same y across series, same row
  CHECK(lines[1][1].first == Approx(lines[0][2].first));
  // every value is printed at its marker
  CHECK_THAT(svg, Catch::Contains(">0.450</text>"));
  CHECK_THAT(svg, Catch::Contains(">0.100</text>"));
  // the extreme values sit inside the plot frame, not on its edges (their labels stay readable)
  const auto frame = svg.find("<rect x=\"", svg.find("<rect") + 1);
  REQUIRE(frame != std::string::npos);
  double fx = 0, fy = 0, fw = 0, fh = 0;
  REQUIRE(std::sscanf(svg.c_str() + frame, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &fx, &fy, &fw,
                      &fh) == 4);
  for (const auto& line : lines)
    for (const auto& [x, y] : line) {
      CHECK(y > fy + 10);
      CHECK(y < fy + fh - 10);
      CHECK(x > fx);
      CHECK(x < fx + fw);
    }
}

TEST_CASE("LinePlotSvg: bad input is refused with the series named", "[train][line_plot_svg]") {
  LinePlotSvg p;
  p.series.push_back({"mismatch", {1, 2}, {0.5}, ""});
  CHECK_THROWS_WITH(p.render(), Catch::Contains("mismatch") && Catch::Contains("2 x and 1 y"));
  LinePlotSvg q;
  q.log_x = true;
  q.series.push_back({"zero", {0, 1}, {0.1, 0.2}, ""});
  CHECK_THROWS_WITH(q.render(), Catch::Contains("zero") && Catch::Contains("logarithmic"));
}
