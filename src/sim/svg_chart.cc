// The SVG charts' common drawing (the frame, title and subtitle, grid, axes
// and legend) and the line charts and CDFs built on it.
#include "sim/svg_chart.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/svg_chart_internal.h"

namespace suanli::svg {
namespace detail {

double LegendWidth(const std::vector<LegendEntry>& entries) {
  size_t chars = 0;
  for (const auto& e : entries) chars = std::max(chars, CodePoints(Shorten(e.name, 28)));
  if (entries.empty()) return 0;
  return std::min(230.0, 34 + chars * kCharWidth);
}

void DrawLegend(std::string& out, const std::vector<LegendEntry>& entries, double x, double y) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    double cy = y + i * kLegendRow + 8;
    if (e.kind == LegendEntry::kBox) {
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{}\"/>", Coord(x), Coord(cy - 5),
                         e.color);
    } else {
      out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>",
                         Coord(x), Coord(cy), Coord(x + 16), Coord(cy), e.color,
                         e.kind == LegendEntry::kDashed ? " stroke-dasharray=\"5 3\"" : "");
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>", Coord(x + 22), Coord(cy + 4),
                       Escape(Shorten(e.name, 28)));
  }
  out += "\n";
}

std::string Open(int width, int height, const std::string& title, const std::string& subtitle) {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{}\">\n",
      width, height, width, height, Escape(title));
  out += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width, height);
  if (!title.empty())
    out += fmt::format("<text x=\"12\" y=\"21\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", Escape(title));
  if (!subtitle.empty())
    out += fmt::format("<text x=\"12\" y=\"38\" font-size=\"11\" fill=\"#555555\">{}</text>\n", Escape(subtitle));
  return out;
}

double TopMargin(const std::string& subtitle) { return subtitle.empty() ? 38 : 52; }

double LabelWidth(const std::vector<Tick>& ticks) {
  size_t chars = 1;
  for (const auto& t : ticks) chars = std::max(chars, CodePoints(t.label));
  return chars * kCharWidth;
}

// Grid, tick labels and axis labels around the plot rectangle.
void DrawAxes(std::string& out, const Axis& xa, const std::vector<Tick>& xt, const Mapper& mx, const Axis& ya,
              const std::vector<Tick>& yt, const Mapper& my, bool x_ticks_as_labels) {
  double left = mx.p0, right = mx.p1, bottom = my.p0, top = my.p1;
  out += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">";
  for (const auto& t : yt)
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", Coord(left), Coord(my(t.value)), Coord(right),
                       Coord(my(t.value)));
  for (const auto& t : xt)
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", Coord(mx(t.value)), Coord(top),
                       Coord(mx(t.value)), Coord(bottom));
  out += "</g>\n";
  out += fmt::format("<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"#888888\"/>\n", Coord(left), Coord(top),
                     Coord(bottom), Coord(right));
  out += "<g font-size=\"11\" fill=\"#333333\">";
  for (const auto& t : yt)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", Coord(left - 5), Coord(my(t.value) + 4),
                       Escape(t.label));
  if (x_ticks_as_labels)
    for (const auto& t : xt)
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", Coord(mx(t.value)),
                         Coord(bottom + 15), Escape(t.label));
  out += "</g>\n";
  if (!xa.label.empty())
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                       Coord((left + right) / 2), Coord(bottom + 32), Escape(xa.label));
  if (!ya.label.empty()) {
    double x = left - LabelWidth(yt) - 14;
    double y = (top + bottom) / 2;
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 {} {})\">{}</text>\n",
        Coord(x), Coord(y), Coord(x), Coord(y), Escape(ya.label));
  }
}

void Bounds(const Axis& a, double* lo, double* hi, bool* any, double v) {
  if (!std::isfinite(v)) return;
  if (a.scale == Scale::kLog && v <= 0) return;
  if (!*any) {
    *lo = *hi = v;
    *any = true;
  } else {
    *lo = std::min(*lo, v);
    *hi = std::max(*hi, v);
  }
}

std::string ColorOf(const std::string& c, size_t i) { return c.empty() ? PaletteColor(i) : c; }

}  // namespace detail

using detail::Bounds;
using detail::ColorOf;
using detail::DrawAxes;
using detail::DrawLegend;
using detail::kLegendRow;
using detail::LabelWidth;
using detail::LegendEntry;
using detail::LegendWidth;
using detail::Mapper;
using detail::Open;
using detail::TopMargin;

std::string Render(const LineChart& chart) {
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  bool xany = false, yany = false;
  for (const auto& s : chart.series)
    for (const auto& p : s.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      if (chart.x.scale == Scale::kLog && p.x <= 0) continue;
      if (chart.y.scale == Scale::kLog && p.y <= 0) continue;
      Bounds(chart.x, &xlo, &xhi, &xany, p.x);
      Bounds(chart.y, &ylo, &yhi, &yany, p.y);
    }
  for (const auto& r : chart.y_refs) Bounds(chart.y, &ylo, &yhi, &yany, r.y);
  auto xt = Ticks(chart.x, &xlo, &xhi, 7);
  auto yt = Ticks(chart.y, &ylo, &yhi, 6);

  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < chart.series.size(); ++i)
    if (!chart.series[i].name.empty())
      legend.push_back({chart.series[i].name, ColorOf(chart.series[i].color, i),
                        chart.series[i].dashed ? LegendEntry::kDashed : LegendEntry::kLine});
  double legend_w = LegendWidth(legend);
  double top = TopMargin(chart.subtitle);
  double left = 14 + LabelWidth(yt) + (chart.y.label.empty() ? 0 : 18);
  double bottom_margin = chart.x.label.empty() ? 26 : 44;
  double right_margin = legend.empty() ? 18 : legend_w + 26;
  int height = chart.height;
  double need = top + legend.size() * kLegendRow + bottom_margin + 8;
  if (need > height) height = static_cast<int>(std::ceil(need));
  Mapper mx{xlo, xhi, left, chart.width - right_margin, chart.x.scale == Scale::kLog};
  Mapper my{ylo, yhi, height - bottom_margin, top, chart.y.scale == Scale::kLog};

  std::string out = Open(chart.width, height, chart.title, chart.subtitle);
  DrawAxes(out, chart.x, xt, mx, chart.y, yt, my);
  for (const auto& r : chart.y_refs) {
    double y = my(r.y);
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999999\" stroke-dasharray=\"3 3\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#777777\">{}</text>\n",
        Coord(mx.p0), Coord(y), Coord(mx.p1), Coord(y), Coord(mx.p0 + 4), Coord(y - 3), Escape(r.label));
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    std::string color = ColorOf(s.color, i);
    std::string pts;
    auto flush = [&]() {
      if (pts.empty()) return;
      out += fmt::format(
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"{} "
          "points=\"{}\"><title>{}</title></polyline>\n",
          color, s.dashed ? " stroke-dasharray=\"5 3\"" : "", pts, Escape(s.name));
      pts.clear();
    };
    for (const auto& p : s.points) {
      bool bad = !std::isfinite(p.x) || !std::isfinite(p.y) || (chart.x.scale == Scale::kLog && p.x <= 0) ||
                 (chart.y.scale == Scale::kLog && p.y <= 0);
      if (bad) {
        flush();
        continue;
      }
      if (!pts.empty()) pts += ' ';
      pts += Coord(mx(p.x)) + "," + Coord(my(p.y));
    }
    flush();
  }
  if (!xany)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                       Coord((mx.p0 + mx.p1) / 2), Coord((my.p0 + my.p1) / 2));
  DrawLegend(out, legend, chart.width - right_margin + 14, top);
  out += "</svg>\n";
  return out;
}

LineChart CdfChart(std::string title, Axis x, std::vector<Series> series) {
  LineChart c;
  c.title = std::move(title);
  c.x = std::move(x);
  c.y.label = "fraction of jobs";
  c.y.format = Format::kPercent;
  c.y.min = 0;
  c.y.max = 1;
  c.series = std::move(series);
  c.y_refs = {{0.5, "p50"}, {0.99, "p99"}};
  return c;
}

std::vector<Point> CdfPoints(std::vector<double> values, size_t max_points) {
  std::vector<Point> pts;
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return pts;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  max_points = std::max<size_t>(max_points, 2);
  pts.push_back({values.front(), 0.0});
  size_t stride = (n + max_points - 1) / max_points;
  for (size_t i = 0; i < n; i += stride) pts.push_back({values[i], static_cast<double>(i + 1) / n});
  if (pts.back().y != 1.0) pts.push_back({values.back(), 1.0});
  return pts;
}

LogHistogram::LogHistogram(double min_value, int max_decade, int per_decade)
    : min_value_(min_value), per_decade_(per_decade), log_min_(std::log10(min_value)) {
  double decades = max_decade - log_min_;
  bins_.assign(static_cast<size_t>(std::max(1.0, std::ceil(decades * per_decade))), 0);
}

void LogHistogram::Add(double v) {
  if (std::isnan(v)) return;
  ++total_;
  if (v < min_value_) {
    ++below_;
    return;
  }
  double b = (std::log10(v) - log_min_) * per_decade_;
  size_t i = b >= static_cast<double>(bins_.size()) ? bins_.size() - 1 : static_cast<size_t>(b);
  ++bins_[i];
}

std::vector<Point> LogHistogram::Cdf() const {
  std::vector<Point> pts;
  if (total_ == 0) return pts;
  auto edge = [&](size_t i) { return std::pow(10.0, log_min_ + static_cast<double>(i) / per_decade_); };
  double n = static_cast<double>(total_);
  uint64_t cum = below_;
  pts.push_back({min_value_, cum / n});
  size_t last_edge = 0;  // the bin edge of the last point
  for (size_t i = 0; i < bins_.size(); ++i) {
    if (bins_[i] == 0) continue;
    if (i > last_edge) pts.push_back({edge(i), cum / n});  // flat until this bin
    cum += bins_[i];
    pts.push_back({edge(i + 1), cum / n});
    last_edge = i + 1;
  }
  return pts;
}

}  // namespace suanli::svg
