#include "sim/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace suanli::svg {
namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr double kCharWidth = 6.6;                    // rough width of one 11-12px character
constexpr int kLegendRow = 16;

// Length of the valid UTF-8 sequence starting at s[i] (a non-ASCII lead
// byte), or 0 if it is not one. Rejects overlongs, surrogates, values above
// U+10FFFF and the XML non-characters U+FFFE / U+FFFF.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](size_t k) { return (b(k) & 0xC0u) == 0x80u; };
  unsigned c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned c1 = b(1);
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && c1 < 0xA0) return 0;
    if (c == 0xED && c1 > 0x9F) return 0;
    if (c == 0xEF && c1 == 0xBF && (b(2) == 0xBE || b(2) == 0xBF)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned c1 = b(1);
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return 4;
  }
  return 0;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : Utf8Length(s, i);
    i += len ? len : 1;
    ++n;
  }
  return n;
}

// Trims "1.500" to "1.5" and "2.0" to "2".
std::string TrimZeros(std::string s) {
  if (s.find('.') == std::string::npos || s.find('e') != std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

std::string Plain(double v) {
  double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 100) return TrimZeros(fmt::format("{:.0f}", v));
  if (a >= 10) return TrimZeros(fmt::format("{:.1f}", v));
  if (a >= 1) return TrimZeros(fmt::format("{:.2f}", v));
  if (a >= 0.001) return TrimZeros(fmt::format("{:.4f}", v));
  return fmt::format("{:.2g}", v);
}

std::string Number(double v) {
  double a = std::fabs(v);
  if (a >= 1e12) return Plain(v / 1e12) + "T";
  if (a >= 1e9) return Plain(v / 1e9) + "G";
  if (a >= 1e6) return Plain(v / 1e6) + "M";
  if (a >= 1e4) return Plain(v / 1e3) + "k";
  return Plain(v);
}

std::string Duration(double s) {
  if (s < 0) return "-" + Duration(-s);
  if (s == 0) return "0s";
  if (s < 1) return Plain(s * 1000) + "ms";
  constexpr double kDay = 86400, kWeek = 7 * kDay, kYear = 365 * kDay;
  if (s >= kYear) return Plain(s / kYear) + "y";
  if (s >= kWeek && s < 30 * kDay && std::fmod(s, kWeek) == 0) return Plain(s / kWeek) + "w";
  if (s >= kDay) return Plain(s / kDay) + "d";
  if (s >= 3600) return Plain(s / 3600) + "h";
  if (s >= 60) return Plain(s / 60) + "m";
  return Plain(s) + "s";
}

// "114.3°" (one decimal at most, no sign).
std::string Degrees(double v) { return TrimZeros(fmt::format("{:.1f}", std::fabs(v))) + "\xC2\xB0"; }

double NiceStep(double rough) {
  if (!(rough > 0) || !std::isfinite(rough)) return 1;
  double mag = std::pow(10.0, std::floor(std::log10(rough)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= rough * (1 - 1e-9)) return m * mag;
  return 10 * mag;
}

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
              const std::vector<Tick>& yt, const Mapper& my, bool x_ticks_as_labels = true) {
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

}  // namespace

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
          if (c < 0x20 && c != '\t' && c != '\n') out += kReplacement;
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t len = Utf8Length(s, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string Shorten(std::string_view s, size_t max_chars) {
  if (max_chars == 0) return "";
  if (CodePoints(s) <= max_chars) return std::string(s);
  size_t i = 0, n = 0;
  while (i < s.size() && n + 1 < max_chars) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : Utf8Length(s, i);
    i += len ? len : 1;
    ++n;
  }
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";  // …
}

std::string Coord(double v) {
  if (!std::isfinite(v)) return "0";
  return TrimZeros(fmt::format("{:.1f}", v));
}

std::string FormatValue(double v, Format f) {
  if (!std::isfinite(v)) return "-";
  switch (f) {
    case Format::kPercent: {
      double p = v * 100;
      if (std::fabs(p) >= 10 || p == std::round(p)) return TrimZeros(fmt::format("{:.0f}", p)) + "%";
      return TrimZeros(fmt::format("{:.1f}", p)) + "%";
    }
    case Format::kDuration: return Duration(v);
    case Format::kLongitude: return Degrees(v) + (v < 0 ? "W" : "E");
    case Format::kLatitude: return Degrees(v) + (v < 0 ? "S" : "N");
    case Format::kNumber: break;
  }
  return Number(v);
}

std::vector<Tick> Ticks(const Axis& axis, double* lo, double* hi, int target) {
  bool fix_lo = !std::isnan(axis.min), fix_hi = !std::isnan(axis.max);
  if (fix_lo) *lo = axis.min;
  if (fix_hi) *hi = axis.max;
  std::vector<Tick> ticks;
  if (axis.scale == Scale::kLog) {
    if (!(*lo > 0) || !std::isfinite(*lo)) *lo = (*hi > 0 && std::isfinite(*hi)) ? *hi / 10 : 1;
    if (!(*hi > *lo) || !std::isfinite(*hi)) *hi = *lo * 10;
    int e0 = static_cast<int>(std::floor(std::log10(*lo) + 1e-9));
    int e1 = static_cast<int>(std::ceil(std::log10(*hi) - 1e-9));
    if (e1 <= e0) e1 = e0 + 1;
    std::vector<double> cand;
    if (axis.format == Format::kDuration) {
      for (int e = e0; e < 0; ++e) cand.push_back(std::pow(10.0, e));
      for (double d : {1.0, 10.0, 60.0, 600.0, 3600.0, 21600.0, 86400.0, 604800.0, 2592000.0, 31536000.0})
        cand.push_back(d);
      for (int e = 0;; ++e) {
        double v = 31536000.0 * std::pow(10.0, e + 1);
        cand.push_back(v);
        if (v >= *hi) break;
      }
    } else {
      bool fine = e1 - e0 <= 2;
      for (int e = e0; e <= e1; ++e) {
        double p = std::pow(10.0, e);
        cand.push_back(p);
        if (fine && e < e1) {
          cand.push_back(2 * p);
          cand.push_back(5 * p);
        }
      }
    }
    std::sort(cand.begin(), cand.end());
    if (!fix_lo) {
      double best = cand.front();
      for (double c : cand)
        if (c <= *lo * (1 + 1e-9)) best = c;
      *lo = best;
    }
    if (!fix_hi) {
      double best = cand.back();
      for (auto it = cand.rbegin(); it != cand.rend(); ++it)
        if (*it >= *hi * (1 - 1e-9)) best = *it;
      *hi = best;
    }
    std::vector<double> in;
    for (double c : cand)
      if (c >= *lo * (1 - 1e-9) && c <= *hi * (1 + 1e-9)) in.push_back(c);
    size_t stride = 1;
    while (in.size() / stride > static_cast<size_t>(target) + 3) ++stride;
    for (size_t i = 0; i < in.size(); i += stride) ticks.push_back({in[i], FormatValue(in[i], axis.format)});
    return ticks;
  }
  if (!std::isfinite(*lo)) *lo = 0;
  if (!std::isfinite(*hi)) *hi = *lo + 1;
  if (axis.include_zero) {
    if (!fix_lo) *lo = std::min(*lo, 0.0);
    if (!fix_hi) *hi = std::max(*hi, 0.0);
  }
  if (!(*hi > *lo)) {
    double pad = *lo == 0 ? 1 : std::fabs(*lo) * 0.1;
    if (!fix_hi || fix_lo) *hi = *lo + pad;
    else *lo = *hi - pad;
    if (!fix_lo && *lo < 0 && *hi > 0 && axis.include_zero) *lo = 0;
  }
  double step = NiceStep((*hi - *lo) / std::max(1, target - 1));
  if (!fix_lo) *lo = std::floor(*lo / step + 1e-9) * step;
  if (!fix_hi) *hi = std::ceil(*hi / step - 1e-9) * step;
  auto first = static_cast<int64_t>(std::ceil(*lo / step - 1e-9));
  auto last = static_cast<int64_t>(std::floor(*hi / step + 1e-9));
  for (int64_t k = first; k <= last && ticks.size() < 100; ++k) {
    double v = static_cast<double>(k) * step;
    if (std::fabs(v) < step * 1e-9) v = 0;
    ticks.push_back({v, FormatValue(v, axis.format)});
  }
  return ticks;
}

const char* PaletteColor(size_t i) {
  static constexpr std::array<const char*, 10> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#2f4b7c"};
  return kPalette[i % kPalette.size()];
}

std::string SequentialColor(double f) {
  if (std::isnan(f)) return "#bbbbbb";
  static constexpr std::array<std::array<int, 3>, 5> kStops = {
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  f = std::clamp(f, 0.0, 1.0) * (kStops.size() - 1);
  size_t i = std::min(static_cast<size_t>(f), kStops.size() - 2);
  double t = f - static_cast<double>(i);
  std::array<int, 3> c;
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(std::lround(kStops[i][k] + t * (kStops[i + 1][k] - kStops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

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
