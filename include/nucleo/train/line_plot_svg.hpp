#pragma once
/// `LinePlotSvg`: several named series of (x, y) points in one panel, as a standalone SVG written
/// by the program itself (the sample-efficiency plot of the gene-finding experiment, paper Fig. 3).
///
/// One framed panel with "nice" ticks (LearningCurveSvg::ticks), grid lines, axis titles, a legend,
/// one polyline per series with a marker and its value at every finite point. The x axis may be
/// logarithmic (`log_x`, every x must then be > 0) with ticks at the given `x_ticks` (e.g. the
/// fractions 10, 25, 100 %); NaN points are left out of their line.
#include "nucleo/core/error.hpp"
#include "nucleo/detail/atomic_write.hpp"
#include "nucleo/train/learning_curve_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace nucleo {

struct LinePlotSvg {
  struct Series {
    std::string name;
    std::vector<double> x, y;
    std::string color;  ///< empty: the palette's next colour
  };
  std::string title = "";
  std::string x_label = "x";
  std::string y_label = "y";
  std::vector<Series> series;
  bool log_x = false;
  std::vector<double> x_ticks;  ///< empty: nice ticks over the data's range
  int width = 760, height = 480;

  std::string render() const {
    static const char* palette[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    const double ml = 80, mr = 190, mt = 50, mb = 60;
    const double pw = width - ml - mr, ph = height - mt - mb;
    auto tx = [&](double v) { return log_x ? std::log10(v) : v; };
    double xlo = 0, xhi = 0, ylo = 0, yhi = 0;
    bool any = false;
    for (const auto& s : series) {
      if (s.x.size() != s.y.size())
        throw ShapeError(fmt::format("LinePlotSvg: series '{}' has {} x and {} y values", s.name, s.x.size(), s.y.size()));
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        if (log_x && !(s.x[i] > 0))
          throw ConfigError(fmt::format("LinePlotSvg: series '{}': x = {} on a logarithmic axis", s.name, s.x[i]));
        const double x = tx(s.x[i]);
        xlo = any ? std::min(xlo, x) : x;
        xhi = any ? std::max(xhi, x) : x;
        ylo = any ? std::min(ylo, s.y[i]) : s.y[i];
        yhi = any ? std::max(yhi, s.y[i]) : s.y[i];
        any = true;
      }
    }
    for (double t : x_ticks) {
      if (log_x && !(t > 0)) throw ConfigError(fmt::format("LinePlotSvg: x tick {} on a logarithmic axis", t));
      xlo = any ? std::min(xlo, tx(t)) : tx(t);
      xhi = any ? std::max(xhi, tx(t)) : tx(t);
      any = true;
    }
    if (!(xhi > xlo)) { xlo -= 0.5; xhi += 0.5; }
    const double xpad = (xhi - xlo) * 0.05;
    xlo -= xpad;
    xhi += xpad;
    const double ypad = (yhi - ylo) * 0.06;  // keep markers and their labels off the frame
    ylo -= ypad;
    yhi += ypad;
    const auto yt = LearningCurveSvg::ticks(ylo, yhi);
    ylo = std::min(ylo, yt.front());
    yhi = std::max(yhi, yt.back());
    if (!(yhi > ylo)) yhi = ylo + 1;
    auto X = [&](double v) { return ml + (tx(v) - xlo) / (xhi - xlo) * pw; };
    auto Y = [&](double v) { return mt + ph - (v - ylo) / (yhi - ylo) * ph; };

    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n"
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"black\"/>\n",
        width, height, width, height, width, height, width / 2.0, LearningCurveSvg::escape(title), ml, mt, pw, ph);
    for (double v : yt) {
      if (v < ylo - 1e-12 || v > yhi + 1e-12) continue;
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       ml, Y(v), ml + pw, Y(v), ml - 8, Y(v) + 4, fmt::format("{:g}", v));
    }
    std::vector<double> xt = x_ticks;
    if (xt.empty()) {
      if (log_x) {
        for (double e = std::floor(xlo); e <= std::ceil(xhi); ++e)
          if (e >= xlo - 1e-9 && e <= xhi + 1e-9) xt.push_back(std::pow(10.0, e));
      } else {
        xt = LearningCurveSvg::ticks(xlo, xhi, 8);
      }
    }
    for (double v : xt) {
      const double x = X(v);
      if (x < ml - 1e-6 || x > ml + pw + 1e-6) continue;
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       x, mt, x, mt + ph, x, mt + ph + 18, fmt::format("{:g}", v));
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", ml + pw / 2, height - 15,
                     LearningCurveSvg::escape(x_label + (log_x ? " (log scale)" : "")));
    s += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     ml - 55, mt + ph / 2, LearningCurveSvg::escape(y_label));
    for (std::size_t k = 0; k < series.size(); ++k) {
      const auto& se = series[k];
      const std::string color = se.color.empty() ? palette[k % std::size(palette)] : se.color;
      std::string pts, marks;
      for (std::size_t i = 0; i < se.x.size(); ++i) {
        if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
        pts += fmt::format("{}{:.2f},{:.2f}", pts.empty() ? "" : " ", X(se.x[i]), Y(se.y[i]));
        marks += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"4\" fill=\"{}\"/>"
                             "<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{}\">{:.3f}</text>",
                             X(se.x[i]), Y(se.y[i]), color, X(se.x[i]), Y(se.y[i]) - 8, color, se.y[i]);
      }
      s += fmt::format("<g class=\"series\"><polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n{}</g>\n",
                       color, pts, marks);
      const double ly = mt + 10 + 20.0 * static_cast<double>(k);
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                       ml + pw + 15, ly, ml + pw + 40, ly, color, ml + pw + 46, ly + 4, LearningCurveSvg::escape(se.name));
    }
    s += "</svg>\n";
    return s;
  }

  void write(const std::filesystem::path& path) const { detail::write_file_atomic(path, render()); }
};

}  // namespace nucleo
