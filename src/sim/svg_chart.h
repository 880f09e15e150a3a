// Small SVG charts built as plain strings: line charts with several series
// and a legend (linear or log axes, nice tick labels), CDF curves, grouped or
// stacked bar charts, and a scatter/map of sized, coloured markers.
//
// Every piece of text that reaches the SVG (titles, series names, category
// labels, tooltips) goes through Escape, so names taken from traces cannot
// break the markup. No ids are used, so several charts can be inlined into
// one HTML page. Output depends only on the input (no clock, no locale, no
// hash order): the same chart gives byte-identical SVG.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace suanli::svg {

// XML-escapes text for element content and attribute values (& < > " ').
// Bytes that are not valid UTF-8 and control characters other than tab and
// newline become U+FFFD, so the result is always well-formed XML.
std::string Escape(std::string_view s);

// At most `max_chars` code points, ending in "…" when shortened. Never splits
// a UTF-8 sequence. The result still needs Escape.
std::string Shorten(std::string_view s, size_t max_chars);

// A coordinate with one decimal, without "-0.0" ("12.5", "0").
std::string Coord(double v);

enum class Scale { kLinear, kLog };
enum class Format {
  kNumber,     // 0.25, 12, 1.5k, 2M
  kPercent,    // a fraction shown as a percentage: 0.25 -> 25%
  kDuration,   // seconds: 1s, 10m, 6h, 1d, 1w
  kLongitude,  // degrees: 100°E
  kLatitude,   // degrees: 30°N
};

// A value as a tick or legend label.
std::string FormatValue(double v, Format f);

inline constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();

struct Axis {
  std::string label;
  Scale scale = Scale::kLinear;
  Format format = Format::kNumber;
  // Fixed bounds (kAuto: from the data, widened to nice tick values).
  double min = kAuto, max = kAuto;
  // Linear axes: always show zero.
  bool include_zero = false;
};

struct Tick {
  double value;
  std::string label;
};

// Chooses nice ticks for data spanning [*lo, *hi]. Automatic bounds are
// widened outward to tick values; fixed bounds (axis.min / axis.max) are kept
// and only ticks inside them are returned. Log axes need positive bounds
// (non-positive ones are replaced). `target` is the rough number of ticks.
std::vector<Tick> Ticks(const Axis& axis, double* lo, double* hi, int target = 6);

// The categorical palette (10 colours, cycling) and the colour for "other".
const char* PaletteColor(size_t i);
inline constexpr const char* kOtherColor = "#9d9d9d";
// A sequential (viridis-like) colour for a fraction in [0, 1] (clamped);
// NaN gives a neutral grey.
std::string SequentialColor(double f);

struct Point {
  double x, y;
};

struct Series {
  std::string name;  // legend entry; empty = none
  std::vector<Point> points;
  std::string color;  // empty: the palette colour of the series' index
  bool dashed = false;
};

// A horizontal reference line (e.g. "p99" on a CDF).
struct RefLine {
  double y;
  std::string label;
};

struct LineChart {
  std::string title, subtitle;
  Axis x, y;
  std::vector<Series> series;
  std::vector<RefLine> y_refs;
  int width = 760, height = 340;
};

std::string Render(const LineChart& chart);

// A CDF chart: y is the fraction of values (0-100 %), x the value axis
// (usually log). The series' points are (value, cumulative fraction).
LineChart CdfChart(std::string title, Axis x, std::vector<Series> series);

// Points of the empirical CDF of `values` (unsorted), at most `max_points`
// (evenly spaced in rank), plus the curve's two ends.
std::vector<Point> CdfPoints(std::vector<double> values, size_t max_points = 300);

// A logarithmic histogram for CDFs of very many values in constant memory:
// `per_decade` bins per power of ten from `min_value` up to 10^max_decade;
// values below `min_value` are counted at it, values above the top at the top.
class LogHistogram {
 public:
  LogHistogram(double min_value = 1.0, int max_decade = 10, int per_decade = 40);
  void Add(double v);
  uint64_t count() const { return total_; }
  // The CDF as points (value, fraction <= value); empty if nothing was added.
  std::vector<Point> Cdf() const;

 private:
  double min_value_;
  int per_decade_;
  double log_min_;
  uint64_t below_ = 0, total_ = 0;
  std::vector<uint64_t> bins_;
};

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category
  std::string color;           // empty: palette colour of the series' index
};

struct BarChart {
  std::string title, subtitle;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  bool stacked = false;
  Axis y;  // the value axis (linear; zero is always included)
  std::string x_label;
  int width = 760, height = 340;
};

std::string Render(const BarChart& chart);

struct Marker {
  std::string label;           // drawn beside the marker when show_label
  std::string tooltip;         // hover text (<title>); empty: the label
  double x = 0, y = 0;         // data coordinates
  double size = 0;             // marker area is proportional to size (>= 0)
  double color_value = kAuto;  // 0..1 on the sequential scale; kAuto: grey
  bool alt_shape = false;      // a diamond instead of a circle
  bool show_label = true;
};

// A scatter of markers; with `y_per_x` > 0 the plot keeps that ratio of one
// y unit to one x unit in pixels (a map), otherwise the plot fills `height`.
struct ScatterChart {
  std::string title, subtitle;
  Axis x, y;
  bool show_axes = true;  // false: a diagram without axes or grid
  double y_per_x = 0;
  std::vector<Marker> markers;
  double max_radius = 26;
  std::string size_label = "size";
  Format size_format = Format::kNumber;
  std::string color_label = "value";
  Format color_format = Format::kPercent;
  std::string shape_label, alt_shape_label;  // legend names of the two shapes
  int width = 760, height = 420;
};

std::string Render(const ScatterChart& chart);

}  // namespace suanli::svg
