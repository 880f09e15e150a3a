// Value formatting (energy, mass, counts) and chart helpers of `suanli
// report`: file-name-safe run labels, thinning of long time series, the time
// axis, top-N selection and series colours.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/report_internal.h"

namespace suanli::report_detail {

using svg::Format;
using svg::FormatValue;

std::string Energy(double kwh) {
  if (!std::isfinite(kwh)) return "-";
  if (std::fabs(kwh) >= 1e6) return FormatValue(kwh / 1e6, Format::kNumber) + " GWh";
  if (std::fabs(kwh) >= 1e3) return FormatValue(kwh / 1e3, Format::kNumber) + " MWh";
  return FormatValue(kwh, Format::kNumber) + " kWh";
}

std::string Mass(double kg) {
  if (!std::isfinite(kg)) return "-";
  if (std::fabs(kg) >= 1e3) return FormatValue(kg / 1e3, Format::kNumber) + " t";
  return FormatValue(kg, Format::kNumber) + " kg";
}

std::string Count(double v) {
  if (!std::isfinite(v)) return "-";
  if (v == std::round(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return FormatValue(v, Format::kNumber);
}

std::string AccHours(double s) { return std::isfinite(s) ? FormatValue(s / 3600, Format::kNumber) + " acc-h" : "-"; }

// A file-name-safe form of a run label.
std::string Slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (ok) out += c;
    else if (out.empty() || out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  if (out.size() > 60) out.resize(60);
  return out.empty() ? "run" : out;
}

// Averages consecutive points down to at most `max` points (x of the first
// point of each bucket, mean y).
std::vector<svg::Point> Thin(const std::vector<svg::Point>& pts, size_t max) {
  if (pts.size() <= max) return pts;
  size_t k = (pts.size() + max - 1) / max;
  std::vector<svg::Point> out;
  for (size_t i = 0; i < pts.size(); i += k) {
    double sum = 0;
    size_t n = 0;
    for (size_t j = i; j < std::min(pts.size(), i + k); ++j, ++n) sum += pts[j].y;
    out.push_back({pts[i].x, sum / static_cast<double>(n)});
  }
  return out;
}

TimeAxis MakeTimeAxis(double t0, double t1) {
  TimeAxis a;
  a.t0 = t0;
  bool days = t1 - t0 > 3 * 86400;
  a.unit = days ? 86400 : 3600;
  a.axis.label = days ? "time since start (days)" : "time since start (hours)";
  a.axis.min = 0;
  return a;
}

// The `k` largest keys of `score` (ties by name), in that order; all of them
// when only one would be left over (an "other" of one hides a name for nothing).
std::vector<std::string> Top(const std::map<std::string, double>& score, size_t k) {
  if (score.size() == k + 1) ++k;
  std::vector<std::pair<std::string, double>> v(score.begin(), score.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size() && i < k; ++i) out.push_back(v[i].first);
  return out;
}

// Series colours: the palette, dashed after the first ten.
void Style(std::vector<svg::Series>& series) {
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].color.empty()) series[i].color = svg::PaletteColor(i);
    series[i].dashed = series[i].dashed || (i / 10) % 2 == 1;
  }
}

}  // namespace suanli::report_detail
