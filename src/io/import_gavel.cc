// Gavel traces (stanford-futuredata/gavel): Philly VC arrivals with synthetic
// DL jobs, turned into per-model run times with Gavel's measured throughputs.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "io/embedded.h"
#include "io/line_reader.h"
#include "io/trace.h"

namespace suanli {

const std::vector<GavelThroughputs::Rate>* GavelThroughputs::Find(std::string_view job_type, int scale_factor) const {
  auto it = table.find({std::string(job_type), scale_factor});
  return it == table.end() ? nullptr : &it->second;
}

namespace {

size_t LineOf(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  size_t line = 1;
  for (size_t i = 0; i < byte; ++i)
    if (text[i] == '\n') ++line;
  return line;
}

// "('ResNet-50 (batch size 128)', 4)" -> ("ResNet-50 (batch size 128)", 4).
bool ParseJobKey(std::string_view key, std::string* type, int* scale) {
  key = Trim(key);
  if (key.size() < 7 || key.substr(0, 2) != "('" || key.back() != ')') return false;
  size_t sep = key.rfind("',");
  if (sep == std::string_view::npos || sep < 2) return false;
  *type = std::string(key.substr(2, sep - 2));
  auto v = ParseInt(key.substr(sep + 2, key.size() - 1 - (sep + 2)));
  if (!v || *v < 1 || *v > import_detail::kMaxGpus) return false;
  *scale = static_cast<int>(*v);
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The file's bytes as they are; ParseGavelThroughputs unpacks gzip and notices truncation.
Result<std::string> ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '{}': {}", path, std::strerror(errno));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return IoError("{}: read error", path);
  return data;
}

constexpr const char* kThroughputNames[] = {"simulation_throughputs.json.gz", "simulation_throughputs.json"};

// The throughputs for a trace read from `trace_path`; see docs/formats-traces.md.
Result<GavelThroughputs> LoadThroughputsFor(const std::string& trace_path, const Catalog& catalog,
                                            const ImportOptions& opts) {
  if (!opts.throughputs_data.empty()) return ParseGavelThroughputs(opts.throughputs_data, "throughputs", catalog);
  if (!opts.throughputs_path.empty()) {
    SUANLI_ASSIGN_OR_RETURN(std::string data, ReadRaw(opts.throughputs_path));
    return ParseGavelThroughputs(data, opts.throughputs_path, catalog);
  }
  std::vector<std::string> candidates;
  std::string dir = import_detail::DirName(trace_path);
  for (int up = 0; up < 4; ++up) {
    std::string d = dir.empty() ? "." : dir;
    for (const char* n : kThroughputNames) candidates.push_back(d + "/" + n);
    if (dir.empty() || dir == "/") break;
    dir = import_detail::DirName(dir);
  }
  if (const char* data_dir = std::getenv("SUANLI_DATA_DIR")) {
    for (const char* n : kThroughputNames) candidates.push_back(std::string(data_dir) + "/traces/gavel-philly-vc/" + n);
  }
  for (const auto& c : candidates) {
    if (!FileExists(c)) continue;
    SUANLI_ASSIGN_OR_RETURN(std::string data, ReadRaw(c));
    return ParseGavelThroughputs(data, c, catalog);
  }
  for (const auto& f : EmbeddedFiles()) {
    for (const char* n : kThroughputNames)
      if (EndsWith(f.path, n)) return ParseGavelThroughputs(f.data, std::string(f.path), catalog);
  }
  return NotFound(
      "{}: Gavel traces need simulation_throughputs.json[.gz]; none found beside the trace or up "
      "to "
      "3 folders above it, nor under $SUANLI_DATA_DIR/traces/gavel-philly-vc/; pass its path",
      trace_path);
}

WorkloadClass GavelClass(std::string_view job_type) {
  std::string t = ToLower(job_type);
  if (t.rfind("lm ", 0) == 0 || t.rfind("recommendation", 0) == 0) return WorkloadClass::kOther;
  return import_detail::ClassFromModelName(t);
}

}  // namespace

Result<GavelThroughputs> ParseGavelThroughputs(std::string_view data, const std::string& name, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(const std::string inflated, MaybeGunzip(data, name));
  data = inflated;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(data.begin(), data.end());
  } catch (const nlohmann::json::parse_error& e) {
    return ParseError("{}:{}: not valid JSON: {}", name, LineOf(data, e.byte), e.what());
  } catch (const std::exception& e) {
    return ParseError("{}: not valid JSON: {}", name, e.what());
  }
  if (!doc.is_object()) return ParseError("{}: expected an object keyed by worker type (v100, p100, k80)", name);
  GavelThroughputs out;
  for (const auto& [worker, jobs] : doc.items()) {
    if (EndsWith(worker, "_unconsolidated")) continue;
    auto model = import_detail::ResolveModel(catalog, worker);
    if (!model) return ParseError("{}: worker type '{}': not a GPU type known to the catalog", name, worker);
    if (!jobs.is_object()) return ParseError("{}: worker type '{}': expected an object", name, worker);
    for (const auto& [key, entry] : jobs.items()) {
      std::string type;
      int scale = 0;
      if (!ParseJobKey(key, &type, &scale))
        return ParseError("{}: {}: key '{}': expected \"('<job type>', <scale factor>)\"", name, worker,
                          key.substr(0, 80));
      const nlohmann::json* v = nullptr;
      if (entry.is_object()) {
        auto it = entry.find("null");
        if (it != entry.end()) v = &*it;
      }
      if (!v || !v->is_number())
        return ParseError("{}: {}: {}: expected an object with a numeric \"null\" throughput", name, worker,
                          key.substr(0, 80));
      double tput = v->get<double>();
      if (!std::isfinite(tput) || tput < 0)
        return ParseError("{}: {}: {}: throughput must be >= 0, got {}", name, worker, key.substr(0, 80), tput);
      out.table[{type, scale}].push_back({*model, tput});
    }
  }
  return out;
}

Status ParseGavelTrace(LineReader& reader, const GavelThroughputs& throughputs, std::string_view tenant_name,
                       const Catalog& catalog, const ImportOptions& opts, Workload* out, ImportReport* report) {
  using namespace import_detail;
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  const TenantId tenant = out->tenants.Intern(tenant_name.empty() ? "default" : tenant_name);
  const uint32_t user = out->users.Intern("default");
  size_t index = 0;
  auto row_fn = [&](const CsvRow& row) -> Status {
    size_t c_steps, c_arrival, c_scale;
    if (row.size() == 7) {  // msr: type, command, steps_arg, needs_data_dir, steps, arrival, scale
      c_steps = 4, c_arrival = 5, c_scale = 6;
    } else if (row.size() == 10) {  // physical_cluster: ..., steps, scale, priority, SLO, arrival
      c_steps = 5, c_scale = 6, c_arrival = 9;
    } else {
      return row.RowError(
          fmt::format("expected 7 (msr) or 10 (physical_cluster) tab-separated fields, got {}", row.size()));
    }
    std::string_view type = Trim(row.Str(0));
    if (type.empty()) return row.Error(0, "job_type", "a Gavel job type");
    SUANLI_ASSIGN_OR_RETURN(int64_t steps, Integer(row, c_steps, "total_steps", 1, int64_t{1} << 50));
    SUANLI_ASSIGN_OR_RETURN(double arrival, Number(row, c_arrival, "arrival_time", 0, kMaxSeconds));
    SUANLI_ASSIGN_OR_RETURN(int64_t scale, Integer(row, c_scale, "scale_factor", 1, kMaxGpus));
    const auto* rates = throughputs.Find(type, static_cast<int>(scale));
    double scaling = 1.0;
    if (!rates && scale > 1) {
      // Gavel measured some job types (A3C, Recommendation, ...) on one GPU
      // only, while the Philly-derived traces give them several. Assume ideal
      // data-parallel scaling from the one-GPU throughput, and say so.
      rates = throughputs.Find(type, 1);
      if (rates) {
        scaling = static_cast<double>(scale);
        ++report->assumed;
        report->assumed_note =
            "have no measured multi-GPU throughput; their run time assumes linear scaling of the 1-GPU "
            "throughput";
      }
    }
    if (!rates)
      return row.RowError(
          fmt::format("field 'job_type' (column 1): no measured throughput for ('{}', {}) (job "
                      "type, scale_factor)",
                      type.substr(0, 60), scale));
    Job job;
    job.cls = GavelClass(type);
    SpeedOverride o;
    double best = INFINITY;
    ModelId best_model = 0;
    for (const auto& r : *rates) {
      if (r.steps_per_s <= 0) continue;  // cannot run on this type
      double secs = static_cast<double>(steps) / (r.steps_per_s * scaling);
      if (!std::isfinite(secs) || secs > kMaxSeconds) continue;
      bool dup = false;
      for (const auto& [m, s] : o.seconds) dup = dup || m == r.model;
      if (dup) continue;
      o.seconds.emplace_back(r.model, secs);
      if (secs < best) best = secs, best_model = r.model;
    }
    if (o.seconds.empty())
      return row.RowError(fmt::format("field 'job_type' (column 1): ('{}', {}) has throughput 0 on every worker type",
                                      type.substr(0, 60), scale));
    // Reference seconds such that Speed() on the fastest model is its catalog speed.
    double speed = catalog.model(best_model).speed[static_cast<int>(job.cls)];
    job.work = best * (speed > 0 && std::isfinite(speed) ? speed : 1.0);
    if (job.work > kMaxSeconds)
      return row.Error(c_steps, "total_steps", "a run time below 1e11 seconds on the fastest type");
    job.num_gpus = static_cast<uint32_t>(scale);
    job.submit = SecondsF(arrival);
    job.tenant = tenant;
    job.user = user;
    job.speed_override = static_cast<uint32_t>(out->overrides.size());
    out->overrides.push_back(std::move(o));
    out->Add(job, fmt::format("{}-{}", tenant_name, index++));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, '\t', 0, opts, report, row_fn));
  return FinishWorkload(reader, first, out, report);
}

namespace import_detail {

Status ParseGavel(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                  ImportReport* report) {
  SUANLI_ASSIGN_OR_RETURN(GavelThroughputs tp, LoadThroughputsFor(reader.name(), catalog, opts));
  return ParseGavelTrace(reader, tp, TraceStem(reader.name()), catalog, opts, out, report);
}

}  // namespace import_detail
}  // namespace suanli
