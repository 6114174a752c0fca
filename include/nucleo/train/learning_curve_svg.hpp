#pragma once
/// `LearningCurveSvg`: the learning curve of a run as a standalone SVG, written by the program
/// itself (no plotting tool needed).
///
/// Two stacked panels sharing the epoch axis: the training loss (top) and the validation metric
/// (bottom, the best epoch marked). Each panel has a frame, ticks at "nice" values (1, 2, 5 x 10^k)
/// with labels and grid lines, an axis title, and one polyline with a marker per finite point
/// (NaN values, e.g. an epoch without evaluation, are left out).
#include "nucleo/detail/atomic_write.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace nucleo {

struct LearningCurveSvg {
  std::string title = "Learning curve";
  std::string loss_label = "train loss";
  std::string metric_label = "validation metric";
  std::vector<double> epochs;      ///< x values (1-based epoch numbers, or fractional for partial ones)
  std::vector<double> train_loss;  ///< one per epoch
  std::vector<double> val_metric;  ///< one per epoch; NaN = not evaluated
  int width = 760, height = 560;

  /// Nice tick values covering [lo, hi] (about `target` of them).
  static std::vector<double> ticks(double lo, double hi, int target = 5) {
    if (!(hi > lo)) {
      const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
      lo -= pad;
      hi += pad;
    }
    const double raw = (hi - lo) / std::max(1, target);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (raw <= m * mag * (1 + 1e-9)) {
        step = m * mag;
        break;
      }
    std::vector<double> out;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return out;
  }

  std::string render() const {
    const double ml = 80, mr = 30, mt = 50, mb = 55, gap = 60;
    const double pw = width - ml - mr;
    const double ph = (height - mt - mb - gap) / 2.0;
    double xlo = 1, xhi = 1;
    bool any = false;
    for (double e : epochs)
      if (std::isfinite(e)) {
        xlo = any ? std::min(xlo, e) : e;
        xhi = any ? std::max(xhi, e) : e;
        any = true;
      }
    if (!(xhi > xlo)) { xlo -= 0.5; xhi += 0.5; }

    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        width, height, width, height, width, height, width / 2.0, escape(title));
    std::size_t best = npos();
    for (std::size_t i = 0; i < val_metric.size(); ++i)
      if (std::isfinite(val_metric[i]) && (best == npos() || val_metric[i] > val_metric[best])) best = i;
    s += panel(train_loss, loss_label, "#1f77b4", ml, mt, pw, ph, xlo, xhi, false, npos());
    s += panel(val_metric, metric_label, "#d62728", ml, mt + ph + gap, pw, ph, xlo, xhi, true, best);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>\n", ml + pw / 2, height - 12);
    s += "</svg>\n";
    return s;
  }

  void write(const std::filesystem::path& path) const { detail::write_file_atomic(path, render()); }

  static std::string escape(const std::string& in) {
    std::string o;
    for (char c : in) {
      switch (c) {
        case '<': o += "&lt;"; break;
        case '>': o += "&gt;"; break;
        case '&': o += "&amp;"; break;
        case '"': o += "&quot;"; break;
        default: o += c;
      }
    }
    return o;
  }

 private:
  static constexpr std::size_t npos() { return static_cast<std::size_t>(-1); }

  std::string panel(const std::vector<double>& ys, const std::string& label, const char* color, double x0, double y0,
                    double w, double h, double xlo, double xhi, bool x_labels, std::size_t best) const {
    double lo = 0, hi = 0;
    bool any = false;
    for (std::size_t i = 0; i < ys.size() && i < epochs.size(); ++i)
      if (std::isfinite(ys[i]) && std::isfinite(epochs[i])) {
        lo = any ? std::min(lo, ys[i]) : ys[i];
        hi = any ? std::max(hi, ys[i]) : ys[i];
        any = true;
      }
    const auto yt = ticks(lo, hi);
    const double ylo = std::min(lo, yt.front()), yhi = std::max(hi, yt.back());
    const auto xt = ticks(xlo, xhi, 8);
    auto X = [&](double v) { return x0 + (v - xlo) / (xhi - xlo) * w; };
    auto Y = [&](double v) { return y0 + h - (v - ylo) / (yhi - ylo) * h; };

    std::string s = fmt::format("<g class=\"panel\">\n<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                                "fill=\"none\" stroke=\"black\"/>\n",
                                x0, y0, w, h);
    for (double v : yt) {
      if (v < ylo - 1e-12 || v > yhi + 1e-12) continue;
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                       "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       x0, Y(v), x0 + w, Y(v), x0 - 5, Y(v), x0, Y(v), x0 - 8, Y(v) + 4, fmt::format("{:g}", v));
    }
    for (double v : xt) {
      if (v < xlo - 1e-12 || v > xhi + 1e-12) continue;
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\"/>", X(v), y0 + h,
                       X(v), y0 + h + 5);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", X(v), y0 + h + 18,
                       fmt::format("{:g}", v));
    }
    (void)x_labels;
    s += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     x0 - 55, y0 + h / 2, escape(label));
    std::string pts, marks;
    for (std::size_t i = 0; i < ys.size() && i < epochs.size(); ++i) {
      if (!std::isfinite(ys[i]) || !std::isfinite(epochs[i])) continue;
      pts += fmt::format("{}{:.2f},{:.2f}", pts.empty() ? "" : " ", X(epochs[i]), Y(ys[i]));
      marks += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{}\" fill=\"{}\"/>", X(epochs[i]), Y(ys[i]),
                           i == best ? 5 : 2.5, i == best ? "black" : color);
    }
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n{}\n", color, pts, marks);
    if (best != npos())
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">best {:.4g}</text>\n", X(epochs[best]),
                       Y(ys[best]) - 10, ys[best]);
    s += "</g>\n";
    return s;
  }
};

}  // namespace nucleo
