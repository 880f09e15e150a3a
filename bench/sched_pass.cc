// Benchmark: one scheduling pass with 10,000 pending jobs on 100,000
// accelerators (uniform-100k: 12,500 nodes x 8). The cluster is first filled
// to ~95% with running jobs of mixed sizes; 10,000 more jobs wait. Each timed
// pass follows the completion of one random running job (as in the
// simulator). Prints p50 / p90 / p99 / max over the passes.
//
// usage: sched_pass [--policy fifo+easy] [--passes 200] [--depth 1000] [--pending 10000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/rng.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"

using namespace suanli;

int main(int argc, char** argv) {
  std::string policy = "fifo+easy";
  int passes = 200, depth = 1000, pending = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--policy")) policy = argv[i + 1];
    else if (!std::strcmp(argv[i], "--passes")) passes = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--depth")) depth = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--pending")) pending = std::atoi(argv[i + 1]);
  }
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("uniform-100k", cat);
  if (!net.ok()) {
    std::fprintf(stderr, "%s\n", net.status().message().c_str());
    return 1;
  }
  // Job sizes: a Philly-like mix (mostly 1 GPU, some 2-8, a few 16-64).
  Rng rng(7);
  auto size = [&]() -> uint32_t {
    uint64_t r = rng.Below(1000);
    if (r < 650) return 1;
    if (r < 700) return 2;
    if (r < 830) return 4;
    if (r < 950) return 8;
    if (r < 980) return 16;
    if (r < 995) return 32;
    return 64;
  };
  Workload w;
  w.tenants.Intern("t");
  w.users.Intern("u");
  int64_t filled = 0;
  const int64_t target = net->TotalDevices() * 95 / 100;
  while (filled < target) {
    Job j;
    j.num_gpus = size();
    j.cpu_milli = 4000 * j.num_gpus;
    j.mem_mib = 32768 * j.num_gpus;
    j.work = 3600 + static_cast<double>(rng.Below(86400));
    filled += j.num_gpus;
    w.jobs.push_back(j);
  }
  size_t first_pending = w.jobs.size();
  for (int i = 0; i < pending; ++i) {
    Job j;
    j.num_gpus = size();
    j.cpu_milli = 4000 * j.num_gpus;
    j.mem_mib = 32768 * j.num_gpus;
    j.work = 600 + static_cast<double>(rng.Below(36000));
    w.jobs.push_back(j);
  }
  for (JobId i : w.jobs.ids()) w.jobs[i].id = i;

  auto spec = ParsePolicySpec(policy);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return 2;
  }
  SchedulerOptions opt;
  opt.backfill_depth = depth;
  if (std::getenv("RESV_REFRESH_S")) opt.reservation_refresh = Seconds(std::atoll(std::getenv("RESV_REFRESH_S")));
  auto sched = Scheduler::Create(*spec, cat, *net, w, opt);
  if (!sched.ok()) {
    std::fprintf(stderr, "%s\n", sched.status().message().c_str());
    return 2;
  }
  Scheduler& s = **sched;
  Rng prng(1);
  std::vector<JobId> running;
  // A preemptive order (las) stops running jobs for others: they wait again
  // and are no longer the bench's to finish.
  auto stopped = [&](JobId id) {
    auto it = std::find(running.begin(), running.end(), id);
    if (it != running.end()) {
      *it = running.back();
      running.pop_back();
    }
  };
  auto settle = [&](Time t) {  // passes until nothing more starts
    while (true) {
      auto r = s.Pass(t, prng);
      bool started = false;
      for (const auto& d : r.decisions) {
        if (d.kind == Decision::Kind::kStart) {
          running.push_back(d.job);
          started = true;
        }
        if (d.kind == Decision::Kind::kPreempt) stopped(d.job);
      }
      if (!started) break;
    }
  };
  for (size_t i = 0; i < first_pending; ++i) s.Submit(static_cast<JobId>(i), 0);
  settle(0);
  for (size_t i = first_pending; i < w.jobs.size(); ++i) s.Submit(static_cast<JobId>(i), Seconds(1));
  settle(Seconds(1));
  // Top the queue up to exactly `pending` waiting jobs.
  while (s.num_pending() < static_cast<size_t>(pending)) {
    Job j;
    j.num_gpus = size();
    j.cpu_milli = 4000 * j.num_gpus;
    j.mem_mib = 32768 * j.num_gpus;
    j.work = 600 + static_cast<double>(rng.Below(36000));
    j.id = static_cast<JobId>(w.jobs.size());
    w.jobs.push_back(j);
    s.Submit(j.id, Seconds(1));
  }
  settle(Seconds(1));
  std::fprintf(stderr, "policy %s: %zu running, %zu pending, %lld of %lld accelerators free\n", policy.c_str(),
               s.num_running(), s.num_pending(), static_cast<long long>(s.state().total_free_milli() / 1000),
               static_cast<long long>(net->TotalDevices()));

  std::vector<double> ms;
  size_t examined = 0, started = 0;
  Time now = Seconds(2);
  for (int p = 0; p < passes && !running.empty(); ++p) {
    size_t k = rng.Below(running.size());
    JobId done = running[k];
    running[k] = running.back();
    running.pop_back();
    s.Finish(done, now);
    auto t0 = std::chrono::steady_clock::now();
    PassResult r = s.Pass(now, prng);
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    examined += static_cast<size_t>(r.examined);
    for (const auto& d : r.decisions) {
      if (d.kind == Decision::Kind::kStart) {
        running.push_back(d.job);
        ++started;
      }
      if (d.kind == Decision::Kind::kPreempt) stopped(d.job);
    }
    now += Seconds(10);
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf(
      "policy=%s depth=%d pending~%zu passes=%zu  p50=%.3f ms  p90=%.3f ms  p99=%.3f ms  max=%.3f ms  "
      "(avg %.0f jobs examined, %zu started)\n",
      policy.c_str(), depth, s.num_pending(), ms.size(), pct(0.5), pct(0.9), pct(0.99), ms.back(),
      static_cast<double>(examined) / static_cast<double>(ms.size()), started);
  return 0;
}
