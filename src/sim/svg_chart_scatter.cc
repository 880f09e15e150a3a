// Scatters and maps of sized, coloured markers, with their colour, size and
// shape legend.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/svg_chart.h"
#include "sim/svg_chart_internal.h"

namespace suanli::svg {

using detail::Bounds;
using detail::DrawAxes;
using detail::LabelWidth;
using detail::Mapper;
using detail::Open;
using detail::TopMargin;

std::string Render(const ScatterChart& chart) {
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  bool xany = false, yany = false;
  double max_size = 0;
  for (const auto& mk : chart.markers) {
    Bounds(chart.x, &xlo, &xhi, &xany, mk.x);
    Bounds(chart.y, &ylo, &yhi, &yany, mk.y);
    if (std::isfinite(mk.size)) max_size = std::max(max_size, mk.size);
  }
  std::vector<Tick> xt, yt;
  if (chart.show_axes) {
    xt = Ticks(chart.x, &xlo, &xhi, 7);
    yt = Ticks(chart.y, &ylo, &yhi, 6);
  } else {
    // A diagram: pad so that the largest markers stay inside.
    double px = std::max(xhi - xlo, 1.0) * 0.12, py = std::max(yhi - ylo, 1.0) * 0.15;
    xlo -= px;
    xhi += px;
    ylo -= py;
    yhi += py;
  }
  double top = TopMargin(chart.subtitle);
  double left = chart.show_axes ? 14 + LabelWidth(yt) + (chart.y.label.empty() ? 0 : 18) : 12;
  double bottom_margin = chart.show_axes ? (chart.x.label.empty() ? 26 : 44) : 12;
  double right_margin = 180;
  double plot_w = chart.width - left - right_margin;
  double plot_h = chart.height - top - bottom_margin;
  if (chart.y_per_x > 0 && xhi > xlo && yhi > ylo) {
    plot_h = plot_w * (yhi - ylo) * chart.y_per_x / (xhi - xlo);
    if (plot_h > 640) {
      plot_h = 640;
      plot_w = plot_h * (xhi - xlo) / ((yhi - ylo) * chart.y_per_x);
    }
  }
  plot_h = std::max(plot_h, 270.0);  // room for the legend
  int height = static_cast<int>(std::ceil(top + plot_h + bottom_margin));
  Mapper mx{xlo, xhi, left, left + plot_w, chart.x.scale == Scale::kLog};
  Mapper my{ylo, yhi, top + plot_h, top, chart.y.scale == Scale::kLog};

  std::string out = Open(chart.width, height, chart.title, chart.subtitle);
  if (chart.show_axes) {
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f6f8fa\"/>\n", Coord(left),
                       Coord(top), Coord(plot_w), Coord(plot_h));
    DrawAxes(out, chart.x, xt, mx, chart.y, yt, my);
  }
  auto radius = [&](double size) {
    if (!(max_size > 0) || !(size > 0)) return 2.5;
    return std::max(2.5, chart.max_radius * std::sqrt(size / max_size));
  };
  auto shape = [&](double cx, double cy, double r, const std::string& fill, bool alt) {
    if (!alt)
      return fmt::format(
          "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.85\" stroke=\"#333333\" "
          "stroke-width=\"0.8\"",
          Coord(cx), Coord(cy), Coord(r), fill);
    double d = r * std::sqrt(M_PI / 2);  // the diamond has the circle's area
    return fmt::format(
        "<polygon points=\"{},{} {},{} {},{} {},{}\" fill=\"{}\" fill-opacity=\"0.85\" "
        "stroke=\"#333333\" stroke-width=\"1\" stroke-dasharray=\"3 2\"",
        Coord(cx), Coord(cy - d), Coord(cx + d), Coord(cy), Coord(cx), Coord(cy + d), Coord(cx - d), Coord(cy), fill);
  };
  // Largest first so that small markers stay visible on top; ties by label.
  std::vector<size_t> order(chart.markers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto &x = chart.markers[a], &y = chart.markers[b];
    if (x.size != y.size) return x.size > y.size;
    return x.label < y.label;
  });
  for (size_t i : order) {
    const auto& mk = chart.markers[i];
    if (!std::isfinite(mk.x) || !std::isfinite(mk.y)) continue;
    out += shape(mx(mk.x), my(mk.y), radius(mk.size), SequentialColor(mk.color_value), mk.alt_shape);
    out += fmt::format("><title>{}</title></{}>\n", Escape(mk.tooltip.empty() ? mk.label : mk.tooltip),
                       mk.alt_shape ? "polygon" : "circle");
  }
  out +=
      "<g font-size=\"11\" fill=\"#111111\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" "
      "stroke-linejoin=\"round\">";
  for (size_t i : order) {
    const auto& mk = chart.markers[i];
    if (!mk.show_label || !std::isfinite(mk.x) || !std::isfinite(mk.y)) continue;
    double r = radius(mk.size) * (mk.alt_shape ? std::sqrt(M_PI / 2) : 1.0);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", Coord(mx(mk.x) + r + 3), Coord(my(mk.y) + 4),
                       Escape(Shorten(mk.label, 24)));
  }
  out += "</g>\n";
  if (chart.markers.empty())
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                       Coord(left + plot_w / 2), Coord(top + plot_h / 2));

  // Legend: colour scale, marker sizes, shapes.
  double lx = left + plot_w + 22, ly = top + 4;
  out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" font-weight=\"bold\">{}</text>\n", Coord(lx),
                     Coord(ly + 8), Escape(chart.color_label));
  ly += 16;
  for (int k = 5; k >= 0; --k) {
    double f = k / 5.0;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>\n",
        Coord(lx), Coord(ly), SequentialColor(f), Coord(lx + 20), Coord(ly + 10),
        Escape(FormatValue(f, chart.color_format)));
    ly += 13;
  }
  ly += 12;
  if (max_size > 0) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" font-weight=\"bold\">{}</text>\n", Coord(lx),
                       Coord(ly + 8), Escape(chart.size_label));
    ly += 14;
    for (double f : {1.0, 0.25}) {
      double r = radius(max_size * f);
      out += fmt::format(
          "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"#555555\"/>"
          "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>\n",
          Coord(lx + chart.max_radius), Coord(ly + r), Coord(r), Coord(lx + 2 * chart.max_radius + 6),
          Coord(ly + r + 4), Escape(FormatValue(max_size * f, chart.size_format)));
      ly += 2 * r + 6;
    }
  }
  bool any_alt = std::any_of(chart.markers.begin(), chart.markers.end(), [](const Marker& m) { return m.alt_shape; });
  if (any_alt) {
    ly += 4;
    out += shape(lx + 7, ly + 7, 6, "#ffffff", false) + "/>";
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>\n", Coord(lx + 20), Coord(ly + 11),
                       Escape(chart.shape_label));
    ly += 18;
    out += shape(lx + 7, ly + 7, 6, "#ffffff", true) + "/>";
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>\n", Coord(lx + 20), Coord(ly + 11),
                       Escape(chart.alt_shape_label));
  }
  out += "</svg>\n";
  return out;
}

}  // namespace suanli::svg
