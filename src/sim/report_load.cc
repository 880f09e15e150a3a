// Reading the output directory of `suanli sim --out` for `suanli report`:
// summary.json and the optional CSV files (jobs, utilization, centers, usage),
// each checked field by field, into the report's Data.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "io/csv.h"
#include "io/line_reader.h"
#include "sim/report_internal.h"
#include "sim/run_dir.h"
#include "sim/usage.h"

namespace suanli::report_detail {

namespace fs = std::filesystem;

namespace {

// A number at `key` of `o` (NaN if absent), an error if it is there but not a number.
Result<double> JsonNumber(const nlohmann::ordered_json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return kNaN;
  if (!it->is_number()) return ParseError("{}.{}: expected a number, got {}", where, key, it->dump());
  return it->get<double>();
}

Result<std::string> JsonString(const nlohmann::ordered_json& o, const char* key, const std::string& where,
                               bool required) {
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
  SUANLI_ASSIGN_OR_RETURN(nlohmann::ordered_json root, ReadSummaryJson(path));
  SummaryData s;
  SUANLI_ASSIGN_OR_RETURN(s.workload, JsonString(root, "workload", path, false));
  SUANLI_ASSIGN_OR_RETURN(s.network, JsonString(root, "network", path, false));
  SUANLI_ASSIGN_OR_RETURN(s.seed, JsonString(root, "seed", path, false));
  const nlohmann::ordered_json& runs = root.at("policies");
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& o = runs[i];
    std::string where = fmt::format("{}: policies[{}]", path, i);
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
  SUANLI_ASSIGN_OR_RETURN(UsageData usage, ReadUsageCsv(path));
  for (const UsageCsvRow& row : usage.rows) {
    RunData& r = d->Run(row.policy);
    r.tenants[row.tenant].Add(row);
    r.usage_centers[row.center].Add(row);
  }
  d->sources.push_back(fmt::format("usage.csv: {} rows", usage.rows.size()));
  d->rows["usage.csv"] = usage.rows.size();
  return Status::Ok();
}

}  // namespace

Result<Data> LoadRunDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return NotFound("'{}' is not a directory (expected the output of suanli sim --out)", dir);
  std::string summary_path = FindRunFile(dir, "summary.json");
  if (summary_path.empty())
    return NotFound("'{}' has no summary.json (expected the output directory of suanli sim --out)", dir);
  Data d;
  SUANLI_ASSIGN_OR_RETURN(d.summary, LoadSummary(summary_path));
  for (const auto& r : d.summary.runs) d.Run(r.policy);
  d.sources.push_back(fmt::format("summary.json: {} runs", d.summary.runs.size()));
  if (auto p = FindRunFile(dir, "jobs.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadJobs(p, &d));
    d.has_jobs = d.rows["jobs.csv"] > 0;
  }
  if (auto p = FindRunFile(dir, "utilization.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadUtilization(p, &d));
    for (auto& r : d.run) r.util.Finalize();
    d.has_util = d.rows["utilization.csv"] > 0;
  }
  if (auto p = FindRunFile(dir, "centers.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadCenters(p, &d));
    d.has_centers_csv = d.rows["centers.csv"] > 0;
  }
  if (auto p = FindRunFile(dir, "usage.csv"); !p.empty()) {
    SUANLI_RETURN_IF_ERROR(LoadUsage(p, &d));
    d.has_usage = d.rows["usage.csv"] > 0;
  }
  d.run.resize(d.runs.size());
  return d;
}

}  // namespace suanli::report_detail
