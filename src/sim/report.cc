#include "sim/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "io/csv.h"
#include "io/line_reader.h"
#include "sim/svg_chart.h"

namespace suanli {
namespace {

namespace fs = std::filesystem;
using svg::Escape;
using svg::Format;
using svg::FormatValue;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxPoints = 360;    // per time series
constexpr size_t kTopCenters = 10;    // per-center lines before "other centers"
constexpr size_t kTopTenants = 9;     // per-tenant bar segments before "other tenants"
constexpr size_t kMaxMapLabels = 30;  // labelled centers on a map
constexpr size_t kMaxTableRows = 40;  // rows in a per-run table before "the rest"
constexpr const char* kIdleTenant = "(idle)";
constexpr const char* kIdleColor = "#d4d4d4";

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

struct UsageAgg {
  double acc_hours = 0, ref_hours = 0, pflop_days = 0, energy = 0, cost = 0, carbon = 0;
  void Add(const UsageAgg& o) {
    acc_hours += o.acc_hours;
    ref_hours += o.ref_hours;
    pflop_days += o.pflop_days;
    energy += o.energy;
    cost += o.cost;
    carbon += o.carbon;
  }
};

struct RunData {
  bool has_jobs = false;
  JobStats jobs;
  TimeSeries util;                            // (t, utilization, -, pending) from utilization.csv
  std::map<std::string, TimeSeries> centers;  // (t, busy, capacity, pending) per center
  std::map<std::string, TimeSeries> models;   // (t, busy, capacity, -) per model, all centers
  std::map<std::string, UsageAgg> tenants, usage_centers;
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

std::string PathIn(const std::string& dir, const char* file) { return (fs::path(dir) / file).string(); }

Result<std::string> ReadWhole(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return IoError("cannot read '{}': {}", path, std::strerror(errno));
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return IoError("error reading '{}'", path);
  return data;
}

// A number at `key` of `o` (NaN if absent), an error if it is there but not a number.
Result<double> JsonNumber(const nlohmann::json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return kNaN;
  if (!it->is_number()) return ParseError("{}.{}: expected a number, got {}", where, key, it->dump());
  return it->get<double>();
}

Result<std::string> JsonString(const nlohmann::json& o, const char* key, const std::string& where, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return ParseError("{}: missing key '{}'", where, key);
    return std::string();
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return ParseError("{}.{}: expected a string, got {}", where, key, it->dump());
}

// The numeric keys of a run in summary.json (docs/formats-output.md); other
// keys are read when they are numbers and ignored otherwise.
constexpr const char* kNumericKeys[] = {
    "jobs",        "finished",          "unschedulable", "avg_jct_s",  "p50_jct_s",  "p95_jct_s",
    "p99_jct_s",   "avg_wait_s",        "p50_wait_s",    "p99_wait_s", "makespan_s", "utilization",
    "preemptions", "scheduling_passes", "peak_pending",  "energy_kwh", "cost",       "carbon_kg",
    "goodput",     "lost_work_s",       "failures",      "restarts",   "transfer_s", "deferred"};

Result<SummaryData> LoadSummary(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(std::string text, ReadWhole(path));
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    auto p = what.find("] ");
    if (p != std::string::npos) what = what.substr(p + 2);
    return ParseError("{}: not valid JSON: {}", path, what);
  }
  if (!root.is_object()) return ParseError("{}: expected a JSON object at the top", path);
  SummaryData s;
  SUANLI_ASSIGN_OR_RETURN(s.workload, JsonString(root, "workload", path, false));
  SUANLI_ASSIGN_OR_RETURN(s.network, JsonString(root, "network", path, false));
  SUANLI_ASSIGN_OR_RETURN(s.seed, JsonString(root, "seed", path, false));
  auto pol = root.find("policies");
  if (pol == root.end()) return ParseError("{}: missing key 'policies'", path);
  if (!pol->is_array()) return ParseError("{}: 'policies': expected an array", path);
  for (size_t i = 0; i < pol->size(); ++i) {
    const auto& o = (*pol)[i];
    std::string where = fmt::format("{}: policies[{}]", path, i);
    if (!o.is_object()) return ParseError("{}: expected an object", where);
    RunSummary r;
    SUANLI_ASSIGN_OR_RETURN(r.policy, JsonString(o, "policy", where, true));
    if (r.policy.empty()) return ParseError("{}.policy: empty", where);
    for (const char* key : kNumericKeys) {
      auto it = o.find(key);
      if (it != o.end() && !it->is_null() && !it->is_number())
        return ParseError("{}.{}: expected a number, got {}", where, key, it->dump().substr(0, 60));
    }
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (it->is_number()) r.values[it.key()] = it->get<double>();
    }
    for (const auto& [k, v] : r.values)
      if (!std::isfinite(v)) return ParseError("{}.{}: not a finite number", where, k);
    auto c = o.find("centers");
    if (c != o.end() && !c->is_null()) {
      if (!c->is_array()) return ParseError("{}.centers: expected an array", where);
      r.has_centers = true;
      for (size_t k = 0; k < c->size(); ++k) {
        const auto& co = (*c)[k];
        std::string cw = fmt::format("{}.centers[{}]", where, k);
        if (!co.is_object()) return ParseError("{}: expected an object", cw);
        CenterInfo ci;
        SUANLI_ASSIGN_OR_RETURN(ci.name, JsonString(co, "name", cw, true));
        auto e = co.find("edge");
        if (e != co.end() && !e->is_null()) {
          if (!e->is_boolean()) return ParseError("{}.edge: expected true or false, got {}", cw, e->dump());
          ci.edge = e->get<bool>();
        }
        SUANLI_ASSIGN_OR_RETURN(ci.lat, JsonNumber(co, "lat", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.lon, JsonNumber(co, "lon", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.accelerators, JsonNumber(co, "accelerators", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.utilization, JsonNumber(co, "utilization", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.jobs, JsonNumber(co, "jobs", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.energy, JsonNumber(co, "energy_kwh", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.cost, JsonNumber(co, "cost", cw));
        SUANLI_ASSIGN_OR_RETURN(ci.carbon, JsonNumber(co, "carbon_kg", cw));
        if (!std::isnan(ci.lat) && (ci.lat < -90 || ci.lat > 90))
          return ParseError("{}.lat: expected degrees in [-90, 90], got {}", cw, ci.lat);
        if (!std::isnan(ci.lon) && (ci.lon < -180 || ci.lon > 180))
          return ParseError("{}.lon: expected degrees in [-180, 180], got {}", cw, ci.lon);
        r.centers.push_back(std::move(ci));
      }
    }
    s.runs.push_back(std::move(r));
  }
  return s;
}

// Reads a CSV file with a header line. Columns are found by name; `required`
// must all be present, `optional` may be missing (index -1). Every row must
// have as many fields as the header.
using RowFn = std::function<Status(const CsvRow& row, const std::vector<int>& cols)>;

Result<uint64_t> ReadCsv(const std::string& path, const std::vector<const char*>& required,
                         const std::vector<const char*>& optional, const RowFn& fn) {
  SUANLI_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  std::string_view line;
  if (!reader->Next(&line)) {
    SUANLI_RETURN_IF_ERROR(reader->status());
    return ParseError("{}:1: empty file, expected a header line", path);
  }
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  if (!SplitCsv(line, ',', &fields, &storage)) return ParseError("{}:1: unterminated quote in the header", path);
  std::vector<std::string> header(fields.begin(), fields.end());
  std::vector<int> cols;
  for (const char* name : required) {
    int c = FindColumn(header, name);
    if (c < 0) return ParseError("{}:1: missing column '{}' in the header", path, name);
    cols.push_back(c);
  }
  for (const char* name : optional) cols.push_back(FindColumn(header, name));
  uint64_t rows = 0;
  while (reader->Next(&line)) {
    if (Trim(line).empty()) continue;
    std::string where = fmt::format("{}:{}", path, reader->line_number());
    if (!SplitCsv(line, ',', &fields, &storage)) return ParseError("{}: unterminated quote", where);
    CsvRow row(where, fields, &header);
    if (fields.size() != header.size())
      return row.RowError(fmt::format("expected {} fields as in the header, got {}", header.size(), fields.size()));
    SUANLI_RETURN_IF_ERROR(fn(row, cols));
    ++rows;
  }
  SUANLI_RETURN_IF_ERROR(reader->status());
  return rows;
}

// A non-negative number, NaN when the field is empty.
Result<double> OptionalNonNegative(const CsvRow& row, int col, const char* name) {
  if (col < 0 || Trim(row.Str(col)).empty()) return kNaN;
  return row.DoubleAtLeast(col, name, 0);
}

Result<std::string_view> NonEmpty(const CsvRow& row, int col, const char* name) {
  std::string_view v = Trim(row.Str(col));
  if (v.empty()) return row.Error(col, name, "a name");
  return v;
}

Status LoadJobs(const std::string& path, Data* d) {
  Result<uint64_t> rows =
      ReadCsv(path, {"policy", "wait_s", "jct_s"}, {}, [&](const CsvRow& row, const std::vector<int>& c) -> Status {
        SUANLI_ASSIGN_OR_RETURN(std::string_view policy, NonEmpty(row, c[0], "policy"));
        SUANLI_ASSIGN_OR_RETURN(double wait, OptionalNonNegative(row, c[1], "wait_s"));
        SUANLI_ASSIGN_OR_RETURN(double jct, OptionalNonNegative(row, c[2], "jct_s"));
        RunData& r = d->Run(policy);
        r.has_jobs = true;
        ++r.jobs.rows;
        if (!std::isnan(wait)) r.jobs.wait.Add(wait);
        if (!std::isnan(jct)) r.jobs.jct.Add(jct);
        return Status::Ok();
      });
  if (!rows.ok()) return rows.status();
  d->sources.push_back(fmt::format("jobs.csv: {} rows", *rows));
  d->rows["jobs.csv"] = *rows;
  return Status::Ok();
}

Status LoadUtilization(const std::string& path, Data* d) {
  Result<uint64_t> rows =
      ReadCsv(path, {"policy", "time_s", "utilization", "pending"}, {"busy_accelerators", "running"},
              [&](const CsvRow& row, const std::vector<int>& c) -> Status {
                SUANLI_ASSIGN_OR_RETURN(std::string_view policy, NonEmpty(row, c[0], "policy"));
                SUANLI_ASSIGN_OR_RETURN(double t, row.Double(c[1], "time_s"));
                SUANLI_ASSIGN_OR_RETURN(double u, row.DoubleAtLeast(c[2], "utilization", 0));
                SUANLI_ASSIGN_OR_RETURN(double p, row.DoubleAtLeast(c[3], "pending", 0));
                if (c[4] >= 0) SUANLI_RETURN_IF_ERROR(row.DoubleAtLeast(c[4], "busy_accelerators", 0).status());
                if (c[5] >= 0) SUANLI_RETURN_IF_ERROR(row.DoubleAtLeast(c[5], "running", 0).status());
                d->Run(policy).util.Add(t, u, 0, p);
                return Status::Ok();
              });
  if (!rows.ok()) return rows.status();
  d->sources.push_back(fmt::format("utilization.csv: {} rows", *rows));
  d->rows["utilization.csv"] = *rows;
  return Status::Ok();
}

Status LoadCenters(const std::string& path, Data* d) {
  Result<uint64_t> rows =
      ReadCsv(path, {"policy", "time_s", "center", "model", "busy_accelerators", "capacity", "pending"},
              {"utilization", "running"}, [&](const CsvRow& row, const std::vector<int>& c) -> Status {
                SUANLI_ASSIGN_OR_RETURN(std::string_view policy, NonEmpty(row, c[0], "policy"));
                SUANLI_ASSIGN_OR_RETURN(double t, row.Double(c[1], "time_s"));
                SUANLI_ASSIGN_OR_RETURN(std::string_view center, NonEmpty(row, c[2], "center"));
                std::string_view model = Trim(row.Str(c[3]));
                SUANLI_ASSIGN_OR_RETURN(double busy, row.DoubleAtLeast(c[4], "busy_accelerators", 0));
                SUANLI_ASSIGN_OR_RETURN(double cap, row.DoubleAtLeast(c[5], "capacity", 0));
                SUANLI_ASSIGN_OR_RETURN(double pending, row.DoubleAtLeast(c[6], "pending", 0));
                if (c[7] >= 0) SUANLI_RETURN_IF_ERROR(row.DoubleAtLeast(c[7], "utilization", 0).status());
                if (c[8] >= 0) SUANLI_RETURN_IF_ERROR(row.DoubleAtLeast(c[8], "running", 0).status());
                RunData& r = d->Run(policy);
                r.centers[std::string(center)].Add(t, busy, cap, pending);
                r.models[model.empty() ? std::string("(none)") : std::string(model)].Add(t, busy, cap, 0);
                return Status::Ok();
              });
  if (!rows.ok()) return rows.status();
  for (auto& r : d->run) {
    for (auto& [_, ts] : r.centers) ts.Finalize();
    for (auto& [_, ts] : r.models) ts.Finalize();
  }
  d->sources.push_back(fmt::format("centers.csv: {} rows", *rows));
  d->rows["centers.csv"] = *rows;
  return Status::Ok();
}

Status LoadUsage(const std::string& path, Data* d) {
  Result<uint64_t> rows =
      ReadCsv(path, {"policy", "tenant", "center", "accelerator_hours", "energy_kwh", "cost", "carbon_kg"},
              {"reference_hours", "pflop_days"}, [&](const CsvRow& row, const std::vector<int>& c) -> Status {
                SUANLI_ASSIGN_OR_RETURN(std::string_view policy, NonEmpty(row, c[0], "policy"));
                std::string_view tenant = Trim(row.Str(c[1]));
                SUANLI_ASSIGN_OR_RETURN(std::string_view center, NonEmpty(row, c[2], "center"));
                UsageAgg a;
                SUANLI_ASSIGN_OR_RETURN(a.acc_hours, row.DoubleAtLeast(c[3], "accelerator_hours", 0));
                SUANLI_ASSIGN_OR_RETURN(a.energy, row.DoubleAtLeast(c[4], "energy_kwh", 0));
                SUANLI_ASSIGN_OR_RETURN(a.cost, row.Double(c[5], "cost"));
                SUANLI_ASSIGN_OR_RETURN(a.carbon, row.DoubleAtLeast(c[6], "carbon_kg", 0));
                if (c[7] >= 0) {
                  SUANLI_ASSIGN_OR_RETURN(a.ref_hours, row.DoubleAtLeast(c[7], "reference_hours", 0));
                }
                if (c[8] >= 0) {
                  SUANLI_ASSIGN_OR_RETURN(a.pflop_days, row.DoubleAtLeast(c[8], "pflop_days", 0));
                }
                RunData& r = d->Run(policy);
                r.tenants[tenant.empty() ? std::string("(none)") : std::string(tenant)].Add(a);
                r.usage_centers[std::string(center)].Add(a);
                return Status::Ok();
              });
  if (!rows.ok()) return rows.status();
  d->sources.push_back(fmt::format("usage.csv: {} rows", *rows));
  d->rows["usage.csv"] = *rows;
  return Status::Ok();
}

// Finds FILE or FILE.gz in dir; empty if neither exists.
std::string Find(const std::string& dir, const char* file) {
  std::error_code ec;
  std::string p = PathIn(dir, file);
  if (fs::is_regular_file(p, ec)) return p;
  std::string gz = p + ".gz";
  if (fs::is_regular_file(gz, ec)) return gz;
  return "";
}

// ---------------------------------------------------------------------------
// Formatting

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
std::vector<svg::Point> Thin(const std::vector<svg::Point>& pts, size_t max = kMaxPoints) {
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

// Time axis in hours or days since the first sample.
struct TimeAxis {
  double t0 = 0, unit = 3600;
  svg::Axis axis;
  double operator()(double t) const { return (t - t0) / unit; }
};

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

// ---------------------------------------------------------------------------
// The page

class Page {
 public:
  explicit Page(Report* report) : report_(report) {}

  // Adds a chart: the SVG inline in a figure with a caption, and as a file.
  void Figure(const std::string& name, const std::string& svg_text, const std::string& caption) {
    std::string file = name + ".svg";
    for (int k = 2; used_.count(file); ++k) file = fmt::format("{}-{}.svg", name, k);
    used_.insert(file);
    report_->charts.emplace_back(file, svg_text);
    html_ += "<figure>\n" + svg_text + "<figcaption>" + caption + " <span class=\"file\">" + Escape(file) +
             "</span></figcaption>\n</figure>\n";
  }
  void Note(const std::string& text) {
    report_->notes.push_back(text);
    html_ += "<p class=\"note\">" + Escape(text) + "</p>\n";
  }
  std::string& html() { return html_; }

 private:
  Report* report_;
  std::string html_;
  std::set<std::string> used_;
};

struct Column {
  const char* key;
  const char* header;
  int better;  // -1 lower is better, +1 higher, 0 neither
  std::function<std::string(double)> format;
};

void RunsTable(Page& page, const Data& d) {
  auto dur = [](double v) { return FormatValue(v, Format::kDuration); };
  auto pct = [](double v) { return FormatValue(v, Format::kPercent); };
  std::vector<Column> all = {
      {"jobs", "jobs", 0, Count},
      {"finished", "finished", +1, Count},
      {"unschedulable", "unsched.", -1, Count},
      {"avg_jct_s", "avg JCT", -1, dur},
      {"p50_jct_s", "p50 JCT", -1, dur},
      {"p99_jct_s", "p99 JCT", -1, dur},
      {"avg_wait_s", "avg wait", -1, dur},
      {"makespan_s", "makespan", -1, dur},
      {"utilization", "utilisation", +1, pct},
      {"energy_kwh", "energy", -1, Energy},
      {"cost", "cost", -1, [](double v) { return FormatValue(v, Format::kNumber); }},
      {"carbon_kg", "carbon", -1, Mass},
      {"goodput", "goodput", +1, pct},
      {"lost_work_s", "lost work", -1, AccHours},
  };
  const auto& runs = d.summary.runs;
  std::vector<Column> cols;
  for (const auto& c : all)
    if (std::any_of(runs.begin(), runs.end(), [&](const RunSummary& r) { return !std::isnan(r.Get(c.key)); }))
      cols.push_back(c);
  std::string& h = page.html();
  h += "<div class=\"scroll\"><table class=\"runs\">\n<thead><tr><th>run</th>";
  for (const auto& c : cols) h += fmt::format("<th>{}</th>", c.header);
  h += "</tr></thead>\n<tbody>\n";
  std::vector<double> best(cols.size(), kNaN);
  for (size_t k = 0; k < cols.size(); ++k) {
    if (cols[k].better == 0) continue;
    double lo = kNaN, hi = kNaN;
    for (const auto& r : runs) {
      double v = r.Get(cols[k].key);
      if (std::isnan(v)) continue;
      lo = std::isnan(lo) ? v : std::min(lo, v);
      hi = std::isnan(hi) ? v : std::max(hi, v);
    }
    if (runs.size() > 1 && lo != hi) best[k] = cols[k].better < 0 ? lo : hi;
  }
  for (const auto& r : runs) {
    h += "<tr><th scope=\"row\">" + Escape(r.policy) + "</th>";
    for (size_t k = 0; k < cols.size(); ++k) {
      double v = r.Get(cols[k].key);
      bool is_best = !std::isnan(best[k]) && v == best[k];
      h += fmt::format("<td{} title=\"{}\">{}</td>", is_best ? " class=\"best\"" : "",
                       Escape(std::isnan(v) ? "not in summary.json" : fmt::format("{}", v)), Escape(cols[k].format(v)));
    }
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
  h += "<p class=\"hint\">The best value in each column is highlighted (lower is better for times, energy, cost, "
       "carbon and lost work; higher for utilisation, goodput and finished jobs). Hover a cell for its exact "
       "value.</p>\n";
}

std::string CenterTooltip(const CenterInfo& c) {
  std::string t = c.name + (c.edge ? " (edge site)" : "");
  std::vector<std::string> parts;
  if (!std::isnan(c.accelerators)) parts.push_back(Count(c.accelerators) + " accelerators");
  if (!std::isnan(c.utilization)) parts.push_back(FormatValue(c.utilization, Format::kPercent) + " busy");
  if (!std::isnan(c.jobs)) parts.push_back(Count(c.jobs) + " jobs");
  if (!std::isnan(c.energy)) parts.push_back(Energy(c.energy));
  if (!std::isnan(c.cost)) parts.push_back("cost " + FormatValue(c.cost, Format::kNumber));
  if (!std::isnan(c.carbon)) parts.push_back(Mass(c.carbon) + " CO2");
  if (!parts.empty()) t += ": " + Join(parts, ", ");
  return t;
}

std::string MapChart(const RunSummary& r) {
  svg::ScatterChart ch;
  ch.title = "Centers \xE2\x80\x94 " + r.policy;
  ch.size_label = "accelerators";
  ch.color_label = "utilisation";
  ch.shape_label = "center";
  ch.alt_shape_label = "edge site";
  bool geo = !r.centers.empty();
  for (const auto& c : r.centers)
    if (std::isnan(c.lat) || std::isnan(c.lon) || (c.lat == 0 && c.lon == 0)) geo = false;
  std::map<std::string, double> size;
  for (const auto& c : r.centers) size[c.name] = std::isnan(c.accelerators) ? 0 : c.accelerators;
  auto labelled = Top(size, kMaxMapLabels);
  std::set<std::string> label_set(labelled.begin(), labelled.end());
  size_t cols = static_cast<size_t>(std::ceil(std::sqrt(r.centers.size() * 1.6)));
  for (size_t i = 0; i < r.centers.size(); ++i) {
    const auto& c = r.centers[i];
    svg::Marker m;
    m.label = c.name;
    m.tooltip = CenterTooltip(c);
    m.size = std::isnan(c.accelerators) ? 0 : c.accelerators;
    m.color_value = c.utilization;
    m.alt_shape = c.edge;
    m.show_label = label_set.count(c.name) > 0;
    if (geo) {
      m.x = c.lon;
      m.y = c.lat;
    } else {
      m.x = static_cast<double>(i % cols);
      m.y = -static_cast<double>(i / cols);
    }
    ch.markers.push_back(std::move(m));
  }
  if (geo) {
    // China's bounding box, widened to every center.
    double x0 = 73, x1 = 135, y0 = 18, y1 = 54;
    for (const auto& c : r.centers) {
      x0 = std::min(x0, c.lon - 3);
      x1 = std::max(x1, c.lon + 3);
      y0 = std::min(y0, c.lat - 3);
      y1 = std::max(y1, c.lat + 3);
    }
    ch.x.min = std::max(-180.0, x0);
    ch.x.max = std::min(180.0, x1);
    ch.y.min = std::max(-90.0, y0);
    ch.y.max = std::min(90.0, y1);
    ch.x.format = Format::kLongitude;
    ch.y.format = Format::kLatitude;
    ch.y_per_x = 1 / std::cos((ch.y.min + ch.y.max) / 2 * M_PI / 180);
    ch.subtitle = "equirectangular projection; circle area \xE2\x88\x9D accelerators, colour = utilisation";
  } else {
    ch.show_axes = false;
    ch.height = 120 + 70 * static_cast<int>((r.centers.size() + cols - 1) / std::max<size_t>(cols, 1));
    ch.subtitle =
        "no positions in summary.json: centers in a grid; area \xE2\x88\x9D accelerators, colour = utilisation";
  }
  if (r.centers.size() > kMaxMapLabels) ch.subtitle += fmt::format("; the {} largest labelled", kMaxMapLabels);
  return svg::Render(ch);
}

void CentersTable(std::string& h, const RunSummary& r) {
  bool has = std::any_of(r.centers.begin(), r.centers.end(), [](const CenterInfo& c) { return !std::isnan(c.energy); });
  h += "<div class=\"scroll\"><table class=\"centers\"><thead><tr><th>center</th><th>kind</th><th>accelerators</th>"
       "<th>utilisation</th><th>jobs</th>";
  if (has) h += "<th>energy</th><th>cost</th><th>carbon</th>";
  h += "</tr></thead><tbody>\n";
  for (const auto& c : r.centers) {
    h += fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>", Escape(c.name),
                     c.edge ? "edge" : "center", Count(c.accelerators), FormatValue(c.utilization, Format::kPercent),
                     Count(c.jobs));
    if (has)
      h += fmt::format("<td>{}</td><td>{}</td><td>{}</td>", Escape(Energy(c.energy)),
                       Escape(FormatValue(c.cost, Format::kNumber)), Escape(Mass(c.carbon)));
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

void OpenDetails(std::string& h, const std::string& summary, bool open) {
  h += fmt::format("<details{}><summary>{}</summary>\n", open ? " open" : "", Escape(summary));
}

void MapSection(Page& page, const Data& d, const std::vector<std::string>& slugs) {
  std::string& h = page.html();
  h += "<section id=\"centers\"><h2>Centers</h2>\n";
  std::vector<size_t> with;
  for (size_t i = 0; i < d.summary.runs.size(); ++i)
    if (d.summary.runs[i].has_centers && !d.summary.runs[i].centers.empty()) with.push_back(i);
  if (with.empty()) {
    page.Note("summary.json has no per-center figures (key 'centers'): the map of centers is left out.");
  } else {
    h += "<p class=\"hint\">Each marker is a center: its area is proportional to the center's accelerators, its "
         "colour is the share of them that was busy over the run (dark = idle, yellow = full); diamonds with a "
         "dashed outline are edge sites. Hover a marker for its figures. One map per run.</p>\n";
    for (size_t k = 0; k < with.size(); ++k) {
      const auto& r = d.summary.runs[with[k]];
      OpenDetails(page.html(), r.policy, k == 0);
      page.Figure("map-" + slugs[with[k]], MapChart(r), "Centers of the network under " + Escape(r.policy) + ".");
      CentersTable(page.html(), r);
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

void TimeSection(Page& page, const Data& d, const std::vector<std::string>& slugs) {
  std::string& h0 = page.html();
  h0 += "<section id=\"time\"><h2>Over time</h2>\n";
  const auto& names = d.runs.names();
  if (!d.has_util) {
    page.Note(d.Missing("utilization.csv") + ": the network's utilisation and queue over time are left out.");
  } else {
    double t0 = kNaN, t1 = kNaN;
    for (const auto& r : d.run)
      for (const auto& row : r.util.rows) {
        t0 = std::isnan(t0) ? row[0] : std::min(t0, row[0]);
        t1 = std::isnan(t1) ? row[0] : std::max(t1, row[0]);
      }
    TimeAxis ta = MakeTimeAxis(std::isnan(t0) ? 0 : t0, std::isnan(t1) ? 0 : t1);
    svg::LineChart u, q;
    u.title = "Utilisation of the whole network";
    u.subtitle = "busy accelerators / all accelerators, per time step";
    q.title = "Queue: pending jobs in the whole network";
    u.x = q.x = ta.axis;
    u.y.format = Format::kPercent;
    u.y.min = 0;
    u.y.max = 1;
    u.y.label = "utilisation";
    q.y.label = "pending jobs";
    q.y.include_zero = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].util.rows.empty()) continue;
      std::vector<svg::Point> pu, pq;
      for (const auto& row : d.run[i].util.rows) {
        pu.push_back({ta(row[0]), row[1]});
        pq.push_back({ta(row[0]), row[3]});
      }
      u.series.push_back({names[i], Thin(pu), "", false});
      q.series.push_back({names[i], Thin(pq), "", false});
    }
    Style(u.series);
    Style(q.series);
    page.Figure("utilization", svg::Render(u),
                "Share of all accelerators busy over time, one line per run. Higher and steadier is better use of "
                "the hardware; a line that ends early means that run finished its jobs sooner.");
    page.Figure("pending", svg::Render(q),
                "Jobs waiting in the queue over time, one line per run. Peaks show congestion; a run whose queue "
                "drains faster serves jobs sooner.");
  }
  if (!d.has_centers_csv) {
    page.Note(d.Missing("centers.csv") + ": utilisation and queue per center and per accelerator model are left out.");
  } else {
    page.html() +=
        "<p class=\"hint\">Per run, from centers.csv: utilisation of the largest centers (the rest "
        "together as \xE2\x80\x9Cother centers\xE2\x80\x9D), utilisation per accelerator model over all "
        "centers, and the centers' queues.</p>\n";
    bool first = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      const RunData& r = d.run[i];
      if (r.centers.empty()) continue;
      double t0 = kNaN, t1 = kNaN;
      std::map<std::string, double> cap, queue;
      for (const auto& [name, ts] : r.centers)
        for (const auto& row : ts.rows) {
          t0 = std::isnan(t0) ? row[0] : std::min(t0, row[0]);
          t1 = std::isnan(t1) ? row[0] : std::max(t1, row[0]);
          cap[name] = std::max(cap[name], row[2]);
          queue[name] += row[3];
        }
      TimeAxis ta = MakeTimeAxis(t0, t1);
      auto top_cap = Top(cap, kTopCenters);
      auto top_queue = Top(queue, kTopCenters);
      // Utilisation per center (sum busy / sum capacity for "other centers").
      auto util_series = [&](const std::map<std::string, TimeSeries>& all, const std::vector<std::string>& top,
                             const char* other_name) {
        std::vector<svg::Series> out;
        std::set<std::string> shown(top.begin(), top.end());
        for (const auto& name : top) {
          std::vector<svg::Point> pts;
          for (const auto& row : all.at(name).rows) pts.push_back({ta(row[0]), row[2] > 0 ? row[1] / row[2] : kNaN});
          out.push_back({name, Thin(pts), "", false});
        }
        if (all.size() > top.size()) {
          std::map<double, std::pair<double, double>> agg;
          for (const auto& [name, ts] : all)
            if (!shown.count(name))
              for (const auto& row : ts.rows) {
                agg[row[0]].first += row[1];
                agg[row[0]].second += row[2];
              }
          std::vector<svg::Point> pts;
          for (const auto& [t, bc] : agg) pts.push_back({ta(t), bc.second > 0 ? bc.first / bc.second : kNaN});
          out.push_back(
              {fmt::format("{} ({})", other_name, all.size() - top.size()), Thin(pts), svg::kOtherColor, false});
        }
        Style(out);
        return out;
      };
      svg::LineChart uc, um, qc;
      uc.title = "Utilisation per center \xE2\x80\x94 " + names[i];
      um.title = "Utilisation per accelerator model \xE2\x80\x94 " + names[i];
      qc.title = "Pending jobs per center \xE2\x80\x94 " + names[i];
      uc.x = um.x = qc.x = ta.axis;
      for (auto* c : {&uc, &um}) {
        c->y.format = Format::kPercent;
        c->y.min = 0;
        c->y.max = 1;
        c->y.label = "utilisation";
      }
      qc.y.label = "pending jobs";
      qc.y.include_zero = true;
      uc.series = util_series(r.centers, top_cap, "other centers");
      std::map<std::string, double> model_cap;
      for (const auto& [name, ts] : r.models)
        for (const auto& row : ts.rows) model_cap[name] = std::max(model_cap[name], row[2]);
      um.series = util_series(r.models, Top(model_cap, kTopCenters), "other models");
      if (r.centers.size() > top_cap.size())
        uc.subtitle = fmt::format("the {} largest of {} centers; the rest together", top_cap.size(), r.centers.size());
      {
        std::set<std::string> shown(top_queue.begin(), top_queue.end());
        for (const auto& name : top_queue) {
          std::vector<svg::Point> pts;
          for (const auto& row : r.centers.at(name).rows) pts.push_back({ta(row[0]), row[3]});
          qc.series.push_back({name, Thin(pts), "", false});
        }
        if (r.centers.size() > top_queue.size()) {
          std::map<double, double> agg;
          for (const auto& [name, ts] : r.centers)
            if (!shown.count(name))
              for (const auto& row : ts.rows) agg[row[0]] += row[3];
          std::vector<svg::Point> pts;
          for (const auto& [t, p] : agg) pts.push_back({ta(t), p});
          qc.series.push_back({fmt::format("other centers ({})", r.centers.size() - top_queue.size()), Thin(pts),
                               svg::kOtherColor, false});
          qc.subtitle = fmt::format("the {} centers with the longest queues; the rest summed", top_queue.size());
        }
        Style(qc.series);
      }
      OpenDetails(page.html(), names[i], first);
      first = false;
      page.Figure("util-centers-" + slugs[i], svg::Render(uc),
                  "Share of each center's accelerators busy over time. A center stuck near 100% while others idle "
                  "points at dispatch that does not spread work.");
      page.Figure("util-models-" + slugs[i], svg::Render(um),
                  "Share of each accelerator model's devices busy over time, over all centers. Scarce or fast models "
                  "usually fill first.");
      page.Figure("pending-centers-" + slugs[i], svg::Render(qc),
                  "Jobs waiting at each center over time. Long queues at one center while others have free "
                  "capacity are the cost of the dispatch policy's choices.");
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

void JctSection(Page& page, const Data& d) {
  page.html() += "<section id=\"jct\"><h2>Job completion time</h2>\n";
  if (!d.has_jobs) {
    page.Note(d.Missing("jobs.csv") + ": the distributions of job completion time and wait are left out.");
    page.html() += "</section>\n";
    return;
  }
  svg::Axis x;
  x.scale = svg::Scale::kLog;
  x.format = Format::kDuration;
  std::vector<svg::Series> jct, wait;
  const auto& names = d.runs.names();
  for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
    if (!d.run[i].has_jobs) continue;
    jct.push_back({names[i], d.run[i].jobs.jct.Cdf(), "", false});
    wait.push_back({names[i], d.run[i].jobs.wait.Cdf(), "", false});
  }
  Style(jct);
  Style(wait);
  x.label = "job completion time (submit to end, log scale)";
  auto c1 = svg::CdfChart("Job completion time, CDF per run", x, std::move(jct));
  c1.subtitle = "finished jobs; times under 1 s drawn at 1 s";
  c1.y.label = "fraction of finished jobs";
  x.label = "wait (submit to first start, log scale)";
  auto c2 = svg::CdfChart("Wait before start, CDF per run", x, std::move(wait));
  c2.subtitle = "jobs that started; waits under 1 s drawn at 1 s";
  c2.y.label = "fraction of started jobs";
  page.Figure("jct-cdf", svg::Render(c1),
              "For each run, the share of finished jobs (y) that completed within a time (x). A curve further left "
              "and higher is better; where it crosses the p50 and p99 lines are the median and tail JCT.");
  page.Figure("wait-cdf", svg::Render(c2),
              "The same for the wait in the queue before the first start. A curve that starts high at the left "
              "edge means most jobs started at once.");
  page.html() += "</section>\n";
}

// Stacked bars per run (or plain bars of one run) of `metric` split by the keys of `by`.
std::string SplitBars(const std::string& title, const std::string& unit, const Data& d,
                      const std::map<std::string, UsageAgg> RunData::*by, double UsageAgg::*metric,
                      const std::string& what, size_t top_k) {
  const auto& names = d.runs.names();
  std::vector<size_t> runs;
  for (size_t i = 0; i < names.size() && i < d.run.size(); ++i)
    if (!(d.run[i].*by).empty()) runs.push_back(i);
  std::map<std::string, double> total;
  bool idle = false;
  for (size_t i : runs)
    for (const auto& [k, a] : d.run[i].*by) {
      if (k == kIdleTenant && what == "tenants") {
        idle = true;
        continue;
      }
      total[k] += std::fabs(a.*metric);
    }
  auto top = Top(total, top_k);
  std::set<std::string> shown(top.begin(), top.end());
  bool other = total.size() > top.size();
  svg::BarChart ch;
  ch.title = title;
  ch.y.label = unit;
  auto value = [&](size_t run, const std::string& key) {
    const auto& m = d.run[run].*by;
    auto it = m.find(key);
    return it == m.end() ? 0.0 : it->second.*metric;
  };
  auto other_value = [&](size_t run) {
    double s = 0;
    for (const auto& [k, a] : d.run[run].*by)
      if (!shown.count(k) && !(k == kIdleTenant && what == "tenants")) s += a.*metric;
    return s;
  };
  std::string other_name = fmt::format("other {} ({})", what, total.size() - top.size());
  if (runs.size() == 1) {
    // One run: one bar per key.
    size_t r = runs[0];
    svg::BarSeries s{names[r], {}, ""};
    for (const auto& k : top) {
      ch.categories.push_back(k);
      s.values.push_back(value(r, k));
    }
    if (other) {
      ch.categories.push_back(other_name);
      s.values.push_back(other_value(r));
    }
    if (idle) {
      ch.categories.push_back(kIdleTenant);
      s.values.push_back(value(r, kIdleTenant));
    }
    ch.subtitle = names[r];
    s.name.clear();
    ch.series.push_back(std::move(s));
  } else {
    ch.stacked = true;
    for (size_t r : runs) ch.categories.push_back(names[r]);
    for (size_t k = 0; k < top.size(); ++k) {
      svg::BarSeries s{top[k], {}, svg::PaletteColor(k)};
      for (size_t r : runs) s.values.push_back(value(r, top[k]));
      ch.series.push_back(std::move(s));
    }
    if (other) {
      svg::BarSeries s{other_name, {}, svg::kOtherColor};
      for (size_t r : runs) s.values.push_back(other_value(r));
      ch.series.push_back(std::move(s));
    }
    if (idle) {
      svg::BarSeries s{kIdleTenant, {}, kIdleColor};
      for (size_t r : runs) s.values.push_back(value(r, kIdleTenant));
      ch.series.push_back(std::move(s));
    }
    ch.subtitle = fmt::format("one bar per run, split by {}", what);
  }
  return svg::Render(ch);
}

void TenantTable(std::string& h, const std::map<std::string, UsageAgg>& tenants) {
  std::map<std::string, double> hours;
  for (const auto& [k, a] : tenants) hours[k] = a.acc_hours;
  auto top = Top(hours, kMaxTableRows);
  h += "<div class=\"scroll\"><table class=\"tenants\"><thead><tr><th>tenant</th><th>accelerator-hours</th>"
       "<th>reference-hours</th><th>PFLOP-days</th><th>energy</th><th>cost</th><th>carbon</th></tr></thead>"
       "<tbody>\n";
  auto row = [&](const std::string& name, const UsageAgg& a) {
    h += fmt::format(
        "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        Escape(name), FormatValue(a.acc_hours, Format::kNumber), FormatValue(a.ref_hours, Format::kNumber),
        FormatValue(a.pflop_days, Format::kNumber), Escape(Energy(a.energy)), FormatValue(a.cost, Format::kNumber),
        Escape(Mass(a.carbon)));
  };
  for (const auto& k : top) row(k, tenants.at(k));
  if (tenants.size() > top.size()) {
    UsageAgg rest;
    std::set<std::string> shown(top.begin(), top.end());
    for (const auto& [k, a] : tenants)
      if (!shown.count(k)) rest.Add(a);
    row(fmt::format("{} other tenants", tenants.size() - top.size()), rest);
  }
  h += "</tbody></table></div>\n";
}

void UsageSection(Page& page, const Data& d) {
  page.html() += "<section id=\"usage\"><h2>Cost, carbon and energy</h2>\n";
  const auto& names = d.runs.names();
  if (!d.has_usage) {
    page.Note(d.Missing("usage.csv") + ": cost and carbon per tenant and per center are left out.");
  } else {
    page.Figure("cost-by-tenant",
                SplitBars("Cost per tenant", "cost", d, &RunData::tenants, &UsageAgg::cost, "tenants", kTopTenants),
                "Energy cost metered to each tenant (the largest tenants; the rest together; idle accelerators' "
                "energy under (idle)). Bars of different runs compare what each policy costs.");
    page.Figure(
        "carbon-by-tenant",
        SplitBars("Carbon per tenant", "kg CO2", d, &RunData::tenants, &UsageAgg::carbon, "tenants", kTopTenants),
        "Emissions of the energy each tenant used, at the grid intensity of the hour and center it ran in.");
    page.Figure(
        "cost-by-center",
        SplitBars("Cost per center", "cost", d, &RunData::usage_centers, &UsageAgg::cost, "centers", kTopTenants),
        "Energy cost per center: moving work to centers with cheaper power lowers the bar.");
    page.Figure(
        "carbon-by-center",
        SplitBars("Carbon per center", "kg CO2", d, &RunData::usage_centers, &UsageAgg::carbon, "centers", kTopTenants),
        "Emissions per center: cleaner grids and hours lower the bar.");
  }
  // Energy per center: usage.csv, or else the centers of summary.json.
  std::vector<std::string> run_names;
  std::vector<std::map<std::string, double>> energy;
  if (d.has_usage) {
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].usage_centers.empty()) continue;
      run_names.push_back(names[i]);
      std::map<std::string, double> e;
      for (const auto& [k, a] : d.run[i].usage_centers) e[k] = a.energy;
      energy.push_back(std::move(e));
    }
  } else {
    for (const auto& r : d.summary.runs) {
      std::map<std::string, double> e;
      for (const auto& c : r.centers)
        if (!std::isnan(c.energy)) e[c.name] += c.energy;
      if (e.empty()) continue;
      run_names.push_back(r.policy);
      energy.push_back(std::move(e));
    }
  }
  if (energy.empty()) {
    page.Note(
        "No energy per center (neither usage.csv nor centers with energy_kwh in summary.json): the energy "
        "chart is left out.");
  } else {
    std::map<std::string, double> total;
    for (const auto& e : energy)
      for (const auto& [k, v] : e) total[k] += v;
    auto top = Top(total, 12);
    std::set<std::string> shown(top.begin(), top.end());
    svg::BarChart ch;
    ch.title = "Energy per center";
    ch.subtitle = d.has_usage ? "facility energy from usage.csv" : "facility energy from summary.json";
    ch.y.label = "kWh";
    ch.categories = top;
    if (total.size() > top.size())
      ch.categories.push_back(fmt::format("other centers ({})", total.size() - top.size()));
    for (size_t r = 0; r < energy.size(); ++r) {
      svg::BarSeries s{run_names[r], {}, ""};
      for (const auto& k : top) s.values.push_back(energy[r].count(k) ? energy[r].at(k) : 0.0);
      if (total.size() > top.size()) {
        double rest = 0;
        for (const auto& [k, v] : energy[r])
          if (!shown.count(k)) rest += v;
        s.values.push_back(rest);
      }
      ch.series.push_back(std::move(s));
    }
    page.Figure("energy-by-center", svg::Render(ch),
                "Facility energy (busy and idle accelerators, times the center's PUE) per center, one bar per run.");
  }
  if (d.has_usage) {
    page.html() += "<p class=\"hint\">Metering per tenant (from usage.csv), one table per run.</p>\n";
    bool first = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].tenants.empty()) continue;
      OpenDetails(page.html(), names[i], first);
      first = false;
      TenantTable(page.html(), d.run[i].tenants);
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

constexpr const char* kCss = R"css(
:root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--bg:#f3f5f8;--card:#ffffff;--accent:#1f4e79}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:var(--bg);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
header.top{background:var(--accent);color:#fff;padding:18px 28px 14px}
header.top h1{margin:0 0 6px;font-size:22px}
header.top dl{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0}
header.top dt{opacity:.75}header.top dd{margin:0 0 0 6px;font-weight:600}
header.top dl div{display:flex}
nav{padding:8px 28px;background:#e7ecf2;font-size:13px}
nav a{margin-right:16px;color:var(--accent);text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 20px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:6px 20px 14px;margin:18px 0}
h2{font-size:18px;margin:12px 0 8px}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;margin:6px 0}
th,td{padding:4px 9px;border-bottom:1px solid #e6e9ed;text-align:right;white-space:nowrap}
thead th{background:#f0f3f6;position:sticky;top:0}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:600}
td.best{background:#d3f0d9;font-weight:700}
.scroll{overflow-x:auto;max-height:560px}
.note{color:#6b5200;background:#fff5d6;border-left:4px solid #e3b341;padding:6px 10px;margin:8px 0;font-size:13px}
.hint{color:var(--muted);font-size:13px;margin:6px 0}
figure{margin:10px 0 16px}
figure svg{max-width:100%;height:auto;display:block;border:1px solid #eceff2;border-radius:4px}
figcaption{color:var(--muted);font-size:12.5px;margin-top:4px}
figcaption .file{font-family:ui-monospace,monospace;font-size:11px;color:#8c959f;margin-left:6px}
details{border:1px solid var(--line);border-radius:6px;padding:4px 12px;margin:8px 0}
details[open]{padding-bottom:10px}
summary{cursor:pointer;font-weight:600;padding:4px 0}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
)css";

}  // namespace

Result<Report> BuildReport(const std::string& dir, const ReportOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return NotFound("'{}' is not a directory (expected the output of suanli sim --out)", dir);
  std::string summary_path = Find(dir, "summary.json");
  if (summary_path.empty())
    return NotFound("'{}' has no summary.json (expected the output directory of suanli sim --out)", dir);
  Data d;
  SUANLI_ASSIGN_OR_RETURN(d.summary, LoadSummary(summary_path));
  for (const auto& r : d.summary.runs) d.Run(r.policy);
  d.sources.push_back(fmt::format("summary.json: {} runs", d.summary.runs.size()));
  if (auto p = Find(dir, "jobs.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadJobs(p, &d));
    d.has_jobs = d.rows["jobs.csv"] > 0;
  }
  if (auto p = Find(dir, "utilization.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadUtilization(p, &d));
    for (auto& r : d.run) r.util.Finalize();
    d.has_util = d.rows["utilization.csv"] > 0;
  }
  if (auto p = Find(dir, "centers.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadCenters(p, &d));
    d.has_centers_csv = d.rows["centers.csv"] > 0;
  }
  if (auto p = Find(dir, "usage.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadUsage(p, &d));
    d.has_usage = d.rows["usage.csv"] > 0;
  }
  d.run.resize(d.runs.size());

  std::vector<std::string> slugs;
  std::set<std::string> used;
  for (const auto& n : d.runs.names()) {
    std::string s = Slug(n);
    std::string u = s;
    for (int k = 2; used.count(u); ++k) u = fmt::format("{}-{}", s, k);
    used.insert(u);
    slugs.push_back(u);
  }

  Report report;
  Page page(&report);
  const auto& s = d.summary;
  std::string title = options.title;
  if (title.empty())
    title = fmt::format("Suanli report: {} on {}", s.workload.empty() ? "?" : s.workload,
                        s.network.empty() ? "?" : s.network);

  RunsTable(page, d);
  std::string runs_html = std::move(page.html());
  page.html().clear();
  MapSection(page, d, slugs);
  TimeSection(page, d, slugs);
  JctSection(page, d);
  UsageSection(page, d);

  std::string& h = report.html;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + Escape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  h += "<header class=\"top\">\n<h1>" + Escape(title) + "</h1>\n<dl>";
  auto item = [&](const char* k, const std::string& v) {
    h += fmt::format("<div><dt>{}</dt><dd>{}</dd></div>", k, Escape(v.empty() ? "-" : v));
  };
  item("workload", s.workload);
  item("network", s.network);
  item("seed", s.seed);
  item("runs", std::to_string(s.runs.size()));
  h += "</dl>\n</header>\n";
  h += "<nav><a href=\"#runs\">Runs</a><a href=\"#centers\">Centers</a><a href=\"#time\">Over time</a>"
       "<a href=\"#jct\">Job completion time</a><a href=\"#usage\">Cost, carbon, energy</a></nav>\n<main>\n";
  h += "<section id=\"runs\"><h2>Runs</h2>\n" + runs_html + "</section>\n";
  h += page.html();
  h += "</main>\n<footer>Made by <code>suanli report</code> from ";
  h += Escape(Join(d.sources, "; "));
  h += ". Every chart is also a separate SVG file beside this page (names under each chart).</footer>\n"
       "</body>\n</html>\n";
  return report;
}

Status WriteReport(const std::string& dir, const ReportOptions& options, std::vector<std::string>* written,
                   std::vector<std::string>* notes) {
  SUANLI_ASSIGN_OR_RETURN(Report report, BuildReport(dir, options));
  fs::path html = options.out.empty() ? fs::path(dir) / "report.html" : fs::path(options.out);
  fs::path out_dir = html.parent_path();
  std::error_code ec;
  if (!out_dir.empty()) {
    fs::create_directories(out_dir, ec);
    if (ec) return IoError("cannot create '{}': {}", out_dir.string(), ec.message());
  }
  auto write = [&](const fs::path& p, const std::string& text) -> Status {
    std::string path = p.string();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return IoError("cannot write '{}': {}", path, std::strerror(errno));
    bool bad = std::fwrite(text.data(), 1, text.size(), f) != text.size();
    bad |= std::fclose(f) != 0;
    if (bad) return IoError("error writing '{}'", path);
    if (written) written->push_back(path);
    return Status::Ok();
  };
  for (const auto& [name, text] : report.charts) SUANLI_RETURN_IF_ERROR(write(out_dir / name, text));
  SUANLI_RETURN_IF_ERROR(write(html, report.html));
  if (notes) *notes = report.notes;
  return Status::Ok();
}

}  // namespace suanli
