// Benchmark: refreshing the start forecast of 10,000 pending jobs
// (core/network/forecast.h) on 100,000 accelerators (uniform-100k: 12,500
// nodes x 8), as the live plane's forecaster does it: a snapshot of the
// center's jobs (taken on the scheduling pass, under its lock), then the
// copy run ahead until every pending job has started (off the pass). The
// center is first filled to ~95% with running jobs of mixed sizes and
// lengths; 10,000 more wait. Prints the median and slowest of each part.
//
// usage: forecast [--policy fifo+easy] [--runs 5] [--pending 10000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/rng.h"
#include "core/network/network_scheduler.h"
#include "io/model_loader.h"

using namespace suanli;

namespace {

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string policy = "fifo+easy";
  int runs = 5, pending = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--policy")) policy = argv[i + 1];
    else if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--pending")) pending = std::atoi(argv[i + 1]);
  }
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("uniform-100k", cat);
  auto spec = ParsePolicySpec(policy);
  if (!net.ok() || !spec.ok()) {
    std::fprintf(stderr, "%s\n", (net.ok() ? spec.status() : net.status()).message().c_str());
    return 2;
  }
  NetworkOptions opt;
  opt.task_mix_from_workload = false;
  opt.scheduler.allow_multi_node = false;  // as the live plane runs them
  Workload empty;
  auto created = NetworkScheduler::Create(empty, *net, cat, *spec, opt);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().message().c_str());
    return 2;
  }
  NetworkScheduler& ns = **created;
  const TenantId tenant = ns.InternTenant("t");
  // Job sizes: a Philly-like mix (mostly 1 GPU, some 2-8).
  Rng rng(7);
  auto add = [&](Time t, double min_s, double spread_s) {
    const uint64_t r = rng.Below(1000);
    Job j;
    j.num_gpus = r < 650 ? 1 : r < 700 ? 2 : r < 850 ? 4 : 8;
    j.cpu_milli = 4000 * j.num_gpus;
    j.mem_mib = 32768 * j.num_gpus;
    j.work = min_s + static_cast<double>(rng.Below(static_cast<uint64_t>(spread_s)));
    j.tenant = tenant;
    j.submit = t;
    const JobId id = ns.AddJob(j);
    ns.Arrive(id, t);
  };
  const CenterId c{0};
  auto free_devices = [&] { return ns.scheduler(c)->state().total_free_milli() / 1000; };
  // Passes until nothing more starts (a pass examines --backfill-depth jobs).
  auto settle = [&](Time t) {
    for (bool started = true; started;) {
      if (!ns.Pass(t).ok()) return false;
      started = false;
      for (const NetDecision& d : ns.decisions()) started |= d.kind == NetDecision::Kind::kStart;
      ns.decisions().clear();
    }
    return true;
  };
  // Fill to ~95% with long runs, in chunks; then top the queue up.
  while (free_devices() > net->TotalDevices() / 20 && ns.num_pending(c) == 0) {
    for (int i = 0; i < 1000; ++i) add(0, 3600, 86400);
    if (!settle(0)) return 1;
  }
  while (ns.num_pending(c) < static_cast<size_t>(pending)) {
    while (ns.num_pending(c) < static_cast<size_t>(pending)) add(Seconds(1), 600, 36000);
    if (!settle(Seconds(1))) return 1;
  }
  std::fprintf(stderr, "policy %s: %zu pending, %lld of %lld accelerators free\n", policy.c_str(), ns.num_pending(c),
               static_cast<long long>(ns.scheduler(c)->state().total_free_milli() / 1000),
               static_cast<long long>(net->TotalDevices()));

  std::vector<double> snap_ms, run_ms;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    ForecastSnapshot snap = ns.SnapshotForecast(c, Seconds(2));
    const auto t1 = std::chrono::steady_clock::now();
    auto fc = RunForecast(snap, cat);
    const auto t2 = std::chrono::steady_clock::now();
    if (!fc.ok()) {
      std::fprintf(stderr, "%s\n", fc.status().message().c_str());
      return 1;
    }
    size_t started = 0;
    for (const auto& [id, at] : fc->starts) started += at != kNever;
    snap_ms.push_back(Ms(t1 - t0));
    run_ms.push_back(Ms(t2 - t1));
    std::printf("run %d: snapshot %.1f ms, forecast %.1f ms, %zu of %zu pending forecast to start, %llu passes\n", r,
                snap_ms.back(), run_ms.back(), started, fc->starts.size(), static_cast<unsigned long long>(fc->passes));
  }
  std::printf("snapshot (on the pass): median %.1f ms, slowest %.1f ms\n", Median(snap_ms),
              *std::max_element(snap_ms.begin(), snap_ms.end()));
  std::printf("forecast (off the pass): median %.1f ms, slowest %.1f ms\n", Median(run_ms),
              *std::max_element(run_ms.begin(), run_ms.end()));
  return 0;
}
