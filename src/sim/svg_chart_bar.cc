// Grouped and stacked bar charts.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/svg_chart.h"
#include "sim/svg_chart_internal.h"

namespace suanli::svg {

using detail::CodePoints;
using detail::ColorOf;
using detail::DrawAxes;
using detail::DrawLegend;
using detail::kCharWidth;
using detail::kLegendRow;
using detail::LabelWidth;
using detail::LegendEntry;
using detail::LegendWidth;
using detail::Mapper;
using detail::Open;
using detail::TopMargin;

std::string Render(const BarChart& chart) {
  size_t n = chart.categories.size(), m = chart.series.size();
  double ylo = 0, yhi = 0;
  for (size_t c = 0; c < n; ++c) {
    double pos = 0, neg = 0;
    for (const auto& s : chart.series) {
      double v = c < s.values.size() ? s.values[c] : 0;
      if (!std::isfinite(v)) continue;
      if (chart.stacked) {
        (v >= 0 ? pos : neg) += v;
      } else {
        ylo = std::min(ylo, v);
        yhi = std::max(yhi, v);
      }
    }
    if (chart.stacked) {
      ylo = std::min(ylo, neg);
      yhi = std::max(yhi, pos);
    }
  }
  Axis ya = chart.y;
  ya.include_zero = true;
  ya.scale = Scale::kLinear;
  auto yt = Ticks(ya, &ylo, &yhi, 6);

  std::vector<LegendEntry> legend;
  if (m > 1 || (m == 1 && !chart.series[0].name.empty()))
    for (size_t i = 0; i < m; ++i)
      legend.push_back({chart.series[i].name, ColorOf(chart.series[i].color, i), LegendEntry::kBox});
  double legend_w = LegendWidth(legend);
  double top = TopMargin(chart.subtitle);
  double left = 14 + LabelWidth(yt) + (ya.label.empty() ? 0 : 18);
  double right_margin = legend.empty() ? 18 : legend_w + 26;
  double plot_w = chart.width - right_margin - left;
  size_t label_chars = 1;
  for (const auto& c : chart.categories) label_chars = std::max(label_chars, CodePoints(Shorten(c, 30)));
  bool rotate = n > 0 && n * (label_chars * kCharWidth + 8) > plot_w;
  double bottom_margin = (rotate ? 22 + label_chars * 4.4 : 24) + (chart.x_label.empty() ? 4 : 20);
  int height = chart.height;
  double need = top + std::max<double>(legend.size() * kLegendRow, 120) + bottom_margin + 8;
  if (need > height) height = static_cast<int>(std::ceil(need));
  Mapper mx{0, 1, left, left + plot_w, false};
  Mapper my{ylo, yhi, height - bottom_margin, top, false};

  std::string out = Open(chart.width, height, chart.title, chart.subtitle);
  Axis xa;
  xa.label = "";
  DrawAxes(out, xa, {}, mx, ya, yt, my, false);
  double group = n ? plot_w / n : plot_w;
  out += "<g stroke=\"#ffffff\" stroke-width=\"0.5\">\n";
  for (size_t c = 0; c < n; ++c) {
    double g0 = left + c * group;
    double pos = 0, neg = 0;
    double bw = chart.stacked ? std::min(group * 0.62, 64.0) : std::min(group * 0.8 / std::max<size_t>(m, 1), 40.0);
    double x0 = chart.stacked ? g0 + (group - bw) / 2 : g0 + (group - bw * m) / 2;
    for (size_t i = 0; i < m; ++i) {
      const auto& s = chart.series[i];
      double v = c < s.values.size() ? s.values[c] : 0;
      if (!std::isfinite(v) || v == 0) continue;
      double a, b;
      if (chart.stacked) {
        double& base = v >= 0 ? pos : neg;
        a = base;
        b = base + v;
        base = b;
      } else {
        a = 0;
        b = v;
      }
      double y0 = my(std::max(a, b)), y1 = my(std::min(a, b));
      double x = chart.stacked ? x0 : x0 + i * bw;
      std::string tip = s.name.empty() ? chart.categories[c] : s.name + " \xE2\x80\x94 " + chart.categories[c];
      out +=
          fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
                      Coord(x), Coord(y0), Coord(bw), Coord(std::max(0.5, y1 - y0)), ColorOf(s.color, i), Escape(tip),
                      Escape(FormatValue(v, ya.format)));
    }
  }
  out += "</g>\n<g font-size=\"11\" fill=\"#333333\">";
  for (size_t c = 0; c < n; ++c) {
    double x = left + (c + 0.5) * group, y = my.p0 + 14;
    std::string label = Escape(Shorten(chart.categories[c], 30));
    if (rotate)
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" transform=\"rotate(-40 {} {})\">{}</text>",
                         Coord(x + 3), Coord(y - 4), Coord(x + 3), Coord(y - 4), label);
    else out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", Coord(x), Coord(y), label);
  }
  out += "</g>\n";
  if (!chart.x_label.empty())
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", Coord(left + plot_w / 2),
                       Coord(height - 8), Escape(chart.x_label));
  if (n == 0)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                       Coord(left + plot_w / 2), Coord((my.p0 + my.p1) / 2));
  DrawLegend(out, legend, chart.width - right_margin + 14, top);
  out += "</svg>\n";
  return out;
}

}  // namespace suanli::svg
