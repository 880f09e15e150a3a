// Text and values of the SVG charts: XML escaping and shortening (UTF-8
// aware), coordinates, value labels (numbers, percentages, durations,
// degrees), nice axis ticks, and the categorical and sequential colours.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "sim/svg_chart.h"
#include "sim/svg_chart_internal.h"

namespace suanli::svg {
namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

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

}  // namespace

namespace detail {

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

}  // namespace detail

using detail::CodePoints;

namespace {

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

}  // namespace suanli::svg
