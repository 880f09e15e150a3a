// Internals of `suanli report` shared by its source files (not an API): the
// contents of a run directory as read (report_load.cc), the value formatting
// and chart helpers (report_format.cc), the page the sections are written
// into and the sections themselves (report_sections.cc, report_usage.cc),
// assembled into one HTML page by report.cc.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "sim/report.h"
#include "sim/svg_chart.h"
#include "sim/usage.h"

namespace suanli::report_detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr size_t kMaxPoints = 360;    // per time series
inline constexpr size_t kTopCenters = 10;    // per-center lines before "other centers"
inline constexpr size_t kTopTenants = 9;     // per-tenant bar segments before "other tenants"
inline constexpr size_t kMaxMapLabels = 30;  // labelled centers on a map
inline constexpr size_t kMaxTableRows = 40;  // rows in a per-run table before "the rest"

// ---------------------------------------------------------------------------
// Inputs

struct CenterInfo {
  std::string name;
  bool edge = false;
  double lat = kNaN, lon = kNaN;
  double accelerators = kNaN, utilization = kNaN, jobs = kNaN, energy = kNaN, cost = kNaN, carbon = kNaN;
};

struct RunSummary {
  std::string policy;
  std::map<std::string, double> values;  // every numeric key of the run's object
  bool has_centers = false;
  std::vector<CenterInfo> centers;
  double Get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? kNaN : it->second;
  }
};

struct SummaryData {
  std::string workload, network, seed;
  std::vector<RunSummary> runs;
};

// Runs in the order of summary.json, then any others in order of appearance.
class Runs {
 public:
  size_t Index(std::string_view name) {
    auto it = index_.find(std::string(name));
    if (it != index_.end()) return it->second;
    names_.emplace_back(name);
    index_.emplace(names_.back(), names_.size() - 1);
    return names_.size() - 1;
  }
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::map<std::string, size_t> index_;
};

struct JobStats {
  svg::LogHistogram jct{1.0, 10, 40}, wait{1.0, 10, 40};
  uint64_t rows = 0;
};

// A time series of (t, a, b, c) rows; rows at the same t are merged
// (a and b summed, c the maximum).
struct TimeSeries {
  std::vector<std::array<double, 4>> rows;
  void Add(double t, double a, double b, double c) {
    if (!rows.empty() && rows.back()[0] == t) {
      Merge(rows.back(), {t, a, b, c});
      return;
    }
    if (!rows.empty() && t < rows.back()[0]) sorted_ = false;
    rows.push_back({t, a, b, c});
  }
  void Finalize() {
    if (sorted_) return;
    std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x[0] < y[0]; });
    std::vector<std::array<double, 4>> merged;
    for (const auto& r : rows) {
      if (!merged.empty() && merged.back()[0] == r[0]) Merge(merged.back(), r);
      else merged.push_back(r);
    }
    rows = std::move(merged);
    sorted_ = true;
  }

 private:
  static void Merge(std::array<double, 4>& into, const std::array<double, 4>& r) {
    into[1] += r[1];
    into[2] += r[2];
    into[3] = std::max(into[3], r[3]);
  }
  bool sorted_ = true;
};

struct RunData {
  bool has_jobs = false;
  JobStats jobs;
  TimeSeries util;                                            // (t, utilization, -, pending) from utilization.csv
  std::map<std::string, TimeSeries> centers;                  // (t, busy, capacity, pending) per center
  std::map<std::string, TimeSeries> models;                   // (t, busy, capacity, -) per model, all centers
  std::map<std::string, UsageTotals> tenants, usage_centers;  // usage.csv summed
};

struct Data {
  SummaryData summary;
  Runs runs;
  std::vector<RunData> run;  // by run index
  bool has_jobs = false, has_util = false, has_centers_csv = false, has_usage = false;
  std::map<std::string, uint64_t> rows;  // data rows per file read
  // "FILE not found" or "FILE has no data rows", for notes.
  std::string Missing(const std::string& file) const {
    return rows.count(file) ? file + " has no data rows" : file + " not found";
  }
  std::vector<std::string> sources;  // "jobs.csv: 123 rows"
  RunData& Run(std::string_view name) {
    size_t i = runs.Index(name);
    if (run.size() <= i) run.resize(i + 1);
    return run[i];
  }
};

// Reads the run directory `dir`: summary.json (required) and whichever of
// jobs.csv, utilization.csv, centers.csv and usage.csv (or their .gz) exist.
// Errors name the file, line and field. `run` has one entry per run.
Result<Data> LoadRunDirectory(const std::string& dir);

// ---------------------------------------------------------------------------
// Formatting

std::string Energy(double kwh);
std::string Mass(double kg);
std::string Count(double v);
std::string AccHours(double s);

// A file-name-safe form of a run label.
std::string Slug(std::string_view s);

// Averages consecutive points down to at most `max` points (x of the first
// point of each bucket, mean y).
std::vector<svg::Point> Thin(const std::vector<svg::Point>& pts, size_t max = kMaxPoints);

// Time axis in hours or days since the first sample.
struct TimeAxis {
  double t0 = 0, unit = 3600;
  svg::Axis axis;
  double operator()(double t) const { return (t - t0) / unit; }
};

TimeAxis MakeTimeAxis(double t0, double t1);

// The `k` largest keys of `score` (ties by name), in that order; all of them
// when only one would be left over (an "other" of one hides a name for nothing).
std::vector<std::string> Top(const std::map<std::string, double>& score, size_t k);

// Series colours: the palette, dashed after the first ten.
void Style(std::vector<svg::Series>& series);

// ---------------------------------------------------------------------------
// The page

class Page {
 public:
  explicit Page(Report* report) : report_(report) {}

  // Adds a chart: the SVG inline in a figure with a caption, and as a file.
  void Figure(const std::string& name, const std::string& svg_text, const std::string& caption);
  void Note(const std::string& text);
  std::string& html() { return html_; }

 private:
  Report* report_;
  std::string html_;
  std::set<std::string> used_;
};

// Opens a <details> block headed `summary` (escaped), open if `open`.
void OpenDetails(std::string& h, const std::string& summary, bool open);

// The sections of the page (report_sections.cc and report_usage.cc), each
// appended to `page`; `slugs` are the runs' file-name-safe labels, by run
// index.
void RunsTable(Page& page, const Data& d);
void MapSection(Page& page, const Data& d, const std::vector<std::string>& slugs);
void TimeSection(Page& page, const Data& d, const std::vector<std::string>& slugs);
void JctSection(Page& page, const Data& d);
void UsageSection(Page& page, const Data& d);

}  // namespace suanli::report_detail
