#include "sim/output.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/csv.h"

namespace suanli {
namespace {

// Seconds with microsecond precision, shortest exact form ("12", "0.25").
std::string Sec(Time t) {
  if (t % kSecond == 0) return std::to_string(t / kSecond);
  return fmt::format("{:.6f}", ToSeconds(t));
}

double Round(double v, int digits) {
  double p = std::pow(10.0, digits);
  return std::round(v * p) / p;
}

class File {
 public:
  explicit File(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), path_(path) {}
  ~File() {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void Write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), f_); }
  Status Close() {
    bool bad = std::ferror(f_) != 0;
    bad |= std::fclose(f_) != 0;
    f_ = nullptr;
    if (bad) return IoError("error writing '{}'", path_);
    return Status::Ok();
  }

 private:
  FILE* f_;
  std::string path_;
};

// One CSV field per RFC 4180: quoted when it holds a separator, a quote or a
// line break, with its quotes doubled. Line breaks become spaces: every
// reader of these files reads one record per line.

}  // namespace

std::string HumanSeconds(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.1f}m", s / 60);
  if (s < 86400) return fmt::format("{:.1f}h", s / 3600);
  return fmt::format("{:.1f}d", s / 86400);
}

std::string SummaryJson(const RunInfo& info, const std::vector<SimResult>& results) {
  nlohmann::ordered_json root;
  root["workload"] = info.workload;
  root["network"] = info.network;
  root["seed"] = info.seed;
  auto arr = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    const SimSummary& s = r.summary;
    nlohmann::ordered_json o;
    o["policy"] = r.policy;
    o["jobs"] = s.jobs;
    o["finished"] = s.finished;
    o["unschedulable"] = s.unschedulable;
    o["avg_jct_s"] = Round(s.avg_jct_s, 3);
    o["p50_jct_s"] = Round(s.p50_jct_s, 3);
    o["p95_jct_s"] = Round(s.p95_jct_s, 3);
    o["p99_jct_s"] = Round(s.p99_jct_s, 3);
    o["avg_wait_s"] = Round(s.avg_wait_s, 3);
    o["p50_wait_s"] = Round(s.p50_wait_s, 3);
    o["p99_wait_s"] = Round(s.p99_wait_s, 3);
    o["makespan_s"] = Round(s.makespan_s, 3);
    o["utilization"] = Round(s.utilization, 6);
    o["preemptions"] = s.preemptions;
    o["scheduling_passes"] = s.passes;
    o["peak_pending"] = r.peak_pending;
    o["dispatch"] = r.dispatch;
    o["center_policy"] = r.center_policy;
    o["energy_kwh"] = Round(s.energy_kwh, 3);
    o["cost"] = Round(s.cost, 2);
    o["carbon_kg"] = Round(s.carbon_kg, 3);
    o["jobs_energy_kwh"] = Round(s.jobs_energy.kwh, 3);
    o["jobs_cost"] = Round(s.jobs_energy.cost, 2);
    o["jobs_carbon_kg"] = Round(s.jobs_energy.carbon_kg, 3);
    o["idle_energy_kwh"] = Round(s.idle_energy.kwh, 3);
    o["idle_cost"] = Round(s.idle_energy.cost, 2);
    o["idle_carbon_kg"] = Round(s.idle_energy.carbon_kg, 3);
    o["idle_horizon_s"] = Round(s.idle_horizon_s, 3);
    o["goodput"] = Round(s.goodput, 6);
    o["lost_work_s"] = Round(s.lost_work_s, 3);
    o["failures"] = s.failures;
    o["restarts"] = s.restarts;
    o["outages"] = s.outages;
    o["transfer_s"] = Round(s.transfer_s, 3);
    o["deferred"] = s.deferred;
    auto centers = nlohmann::ordered_json::array();
    for (const auto& c : r.centers) {
      nlohmann::ordered_json x;
      x["name"] = c.name;
      x["edge"] = c.edge;
      x["lat"] = c.lat;
      x["lon"] = c.lon;
      x["accelerators"] = c.accelerators;
      x["utilization"] = Round(c.utilization, 6);
      x["jobs"] = c.jobs;
      x["energy_kwh"] = Round(c.energy.kwh, 3);
      x["cost"] = Round(c.energy.cost, 2);
      x["carbon_kg"] = Round(c.energy.carbon_kg, 3);
      centers.push_back(x);
    }
    o["centers"] = centers;
    arr.push_back(o);
  }
  root["policies"] = arr;
  return root.dump(2) + "\n";
}

Status WriteSummaryJson(const std::string& path, const RunInfo& info, const std::vector<SimResult>& results) {
  File f(path);
  if (!f.ok()) return IoError("cannot write '{}': {}", path, std::strerror(errno));
  f.Write(SummaryJson(info, results));
  return f.Close();
}

Status WriteJobsCsv(const std::string& path, const Workload& w, const Catalog& c, const Network& net,
                    const std::vector<SimResult>& results) {
  File f(path);
  if (!f.ok()) return IoError("cannot write '{}': {}", path, std::strerror(errno));
  // Runs asked why their jobs waited (SimOptions::reasons) add a last column.
  const bool reasons =
      std::any_of(results.begin(), results.end(), [](const SimResult& r) { return !r.reasons.empty(); });
  f.Write(
      "policy,job,name,tenant,submit_s,start_s,end_s,wait_s,jct_s,accelerators,gpu_milli,nodes,model,preemptions,state,"
      "center,restarts,lost_work_s,transfer_s");
  f.Write(reasons ? ",reason\n" : "\n");
  std::string buf;
  for (const auto& r : results) {
    for (const auto& j : r.jobs) {
      const Job& job = w.jobs[j.id];
      std::string model = j.model == kNoModel ? (job.num_gpus == 0 ? "cpu" : "") : c.model(j.model).name;
      const char* state = j.unschedulable ? "unschedulable" : (j.end >= 0 ? "finished" : "unfinished");
      bool ran = j.start >= 0;
      fmt::format_to(std::back_inserter(buf), "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f},{:.3f}\n",
                     CsvField(r.policy), j.id, CsvField(w.JobName(j.id)),
                     CsvField(w.tenants.size() ? w.tenants.Name(job.tenant) : ""), Sec(j.submit),
                     ran ? Sec(j.start) : "", j.end >= 0 ? Sec(j.end) : "", ran ? Sec(j.start - j.submit) : "",
                     j.end >= 0 ? Sec(j.end - j.submit) : "", job.num_gpus, job.IsShared() ? job.gpu_milli : 1000,
                     j.nodes, CsvField(model), j.preemptions, state,
                     CsvField(net.centers.contains(j.center) ? net.centers[j.center].name : std::string()), j.restarts,
                     j.lost_work_s, j.transfer_s);
      if (reasons) {
        buf.back() = ',';
        buf += CsvField(j.reason < r.reasons.size() ? r.reasons[j.reason] : std::string());
        buf += '\n';
      }
      if (buf.size() > (1 << 20)) {
        f.Write(buf);
        buf.clear();
      }
    }
  }
  f.Write(buf);
  return f.Close();
}

Status WriteUtilizationCsv(const std::string& path, const std::vector<SimResult>& results) {
  File f(path);
  if (!f.ok()) return IoError("cannot write '{}': {}", path, std::strerror(errno));
  f.Write("policy,time_s,busy_accelerators,utilization,pending,running\n");
  std::string buf;
  for (const auto& r : results)
    for (const auto& u : r.util)
      fmt::format_to(std::back_inserter(buf), "{},{},{:.3f},{:.6f},{},{}\n", CsvField(r.policy), Sec(u.t),
                     u.busy_devices, u.utilization, u.pending, u.running);
  f.Write(buf);
  return f.Close();
}

Status WriteCentersCsv(const std::string& path, const Network& net, const Catalog& c,
                       const std::vector<SimResult>& results) {
  File f(path);
  if (!f.ok()) return IoError("cannot write '{}': {}", path, std::strerror(errno));
  f.Write("policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n");
  std::string buf;
  for (const auto& r : results)
    for (const auto& p : r.pools) {
      fmt::format_to(std::back_inserter(buf), "{},{},{},{},{:.3f},{},{:.6f},{},{}\n", CsvField(r.policy), Sec(p.t),
                     CsvField(net.centers[p.center].name),
                     CsvField(p.model == kNoModel ? "cpu" : c.model(p.model).name), p.busy_devices, p.capacity,
                     p.capacity > 0 ? p.busy_devices / p.capacity : 0.0, p.pending, p.running);
      if (buf.size() > (1 << 20)) {
        f.Write(buf);
        buf.clear();
      }
    }
  f.Write(buf);
  return f.Close();
}

Status WriteUsageCsv(const std::string& path, const Workload& w, const Network& net, const Catalog& c,
                     const std::vector<SimResult>& results) {
  File f(path);
  if (!f.ok()) return IoError("cannot write '{}': {}", path, std::strerror(errno));
  f.Write("policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n");
  std::string buf;
  for (const auto& r : results)
    for (const auto& u : r.usage) {
      std::string tenant = u.tenant == kIdleTenant               ? "(idle)"
                           : u.tenant.value() < w.tenants.size() ? w.tenants.Name(u.tenant)
                                                                 : std::string("default");
      fmt::format_to(std::back_inserter(buf), "{},{},{},{},{:.4f},{:.4f},{:.6f},{:.4f},{:.4f},{:.4f}\n",
                     CsvField(r.policy), CsvField(tenant), CsvField(net.centers[u.center].name),
                     CsvField(u.model == kNoModel ? "cpu" : c.model(u.model).name), u.accelerator_s / 3600.0,
                     u.reference_s / 3600.0, u.pflop_days, u.energy.kwh, u.energy.cost, u.energy.carbon_kg);
    }
  f.Write(buf);
  return f.Close();
}

std::string ComparisonTable(const std::vector<SimResult>& results) {
  size_t w = 6;
  for (const auto& r : results) w = std::max(w, r.policy.size());
  std::string out =
      fmt::format("{:<{}}  {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}\n", "policy", w, "jobs",
                  "unsched", "avg JCT", "p50 JCT", "p95 JCT", "p99 JCT", "avg wait", "makespan", "util", "preempt");
  for (const auto& r : results) {
    const SimSummary& s = r.summary;
    out += fmt::format("{:<{}}  {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7.1f}% {:>7}\n", r.policy, w, s.jobs,
                       s.unschedulable, HumanSeconds(s.avg_jct_s), HumanSeconds(s.p50_jct_s), HumanSeconds(s.p95_jct_s),
                       HumanSeconds(s.p99_jct_s), HumanSeconds(s.avg_wait_s), HumanSeconds(s.makespan_s),
                       100 * s.utilization, s.preemptions);
  }
  return out;
}

}  // namespace suanli
