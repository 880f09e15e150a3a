// Internals of the SVG chart module (not an API; sim/svg_chart.h is): the
// pieces its source files share, one responsibility each:
//
//   svg_chart_format.cc   text and values: XML escaping and shortening,
//                         coordinates, value labels, axis ticks and colours
//   svg_chart.cc          what every chart draws (frame, title, axes, grid,
//                         legend), line charts and CDFs
//   svg_chart_bar.cc      grouped and stacked bar charts
//   svg_chart_scatter.cc  scatters and maps of sized, coloured markers
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sim/svg_chart.h"

namespace suanli::svg::detail {

inline constexpr double kCharWidth = 6.6;  // rough width of one 11-12px character
inline constexpr int kLegendRow = 16;

// The number of code points of `s` (an invalid byte counts as one).
size_t CodePoints(std::string_view s);

// Maps data values to pixels along one axis.
struct Mapper {
  double lo = 0, hi = 1, p0 = 0, p1 = 1;
  bool log = false;
  double operator()(double v) const {
    double t;
    if (log) {
      v = std::max(v, lo);
      t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    if (!std::isfinite(t)) t = 0;
    t = std::clamp(t, 0.0, 1.0);
    return p0 + t * (p1 - p0);
  }
};

struct LegendEntry {
  std::string name, color;
  enum Kind { kLine, kDashed, kBox } kind = kLine;
};

double LegendWidth(const std::vector<LegendEntry>& entries);
void DrawLegend(std::string& out, const std::vector<LegendEntry>& entries, double x, double y);
// The <svg> element, a white background, the title and the subtitle.
std::string Open(int width, int height, const std::string& title, const std::string& subtitle);
double TopMargin(const std::string& subtitle);
double LabelWidth(const std::vector<Tick>& ticks);
// Grid, tick labels and axis labels around the plot rectangle.
void DrawAxes(std::string& out, const Axis& xa, const std::vector<Tick>& xt, const Mapper& mx, const Axis& ya,
              const std::vector<Tick>& yt, const Mapper& my, bool x_ticks_as_labels = true);
// Widens [*lo, *hi] to take v (finite, and positive on a log axis).
void Bounds(const Axis& a, double* lo, double* hi, bool* any, double v);
// `c`, or the palette colour of index i when empty.
std::string ColorOf(const std::string& c, size_t i);

}  // namespace suanli::svg::detail
