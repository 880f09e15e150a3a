// live_pass: how long one scheduling pass of the live control plane takes at
// scale. A ControlPlane (real store, simulated centers) runs a network of
// >= 100,000 accelerators, filled with running jobs whose ends are staggered
// so that every pass sees some of them end, with 10,000 jobs pending behind
// them. Each timed pass launches what the previous pass started (its store
// writes committed meanwhile), polls the backends, records the ends
// (metering), runs the center schedulers over the queue, starts what fits and
// estimates the start of the first pending jobs, then hands its store writes
// to the store stage. The time from a pass's decisions to their launches
// (commit included) is printed too.
//
//   live_pass [--network uniform-100k] [--pending 10000] [--passes 20]
//             [--gap-ms 1000] [--ends-per-pass 80] [--dispatch earliest-start]
//             [--policy fifo+easy] [--durable] [--quotas] [--min-run-s S]
//
// --quotas gives the four tenants that fill the network quotas of one cohort
// (kQuotas below: alice and bob 10 % each, carol and dave 40 % each, all may
// borrow, reclaim on). The fill is shared evenly, so alice and bob borrow from
// carol and dave, whose waiting jobs then reclaim by preemption; with a
// preemptive order (--policy srtf) jobs are also preempted by the order's key.
// The number of runs preempted during the warm-up and the timed passes is
// printed.
//
// Between timed passes the queue is topped up to `pending` jobs. Prints the
// median and the p99 (with 20 passes: the largest) of the timed passes, of
// those among them that recorded ends, and of idle passes (nothing ended,
// nothing arrived).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/quota_loader.h"
#include "live/control.h"

namespace {

using suanli::live::Caller;
using suanli::live::ControlPlane;
using suanli::live::JobSpec;
using suanli::live::ServerConfig;
using Clock = std::chrono::steady_clock;

constexpr const char* kQuotas = R"(cohort: live-pass
reclaim: true
tenants:
  - {name: alice, nominal: 10%, borrowing_limit: unlimited}
  - {name: bob, nominal: 10%, borrowing_limit: unlimited}
  - {name: carol, nominal: 40%, borrowing_limit: unlimited}
  - {name: dave, nominal: 40%, borrowing_limit: unlimited}
)";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  k = std::min(v.size(), std::max<size_t>(1, k)) - 1;
  return v[k];
}

int Usage() {
  std::fprintf(stderr,
               "usage: live_pass [--network NAME] [--pending N] [--passes N] [--gap-ms MS] [--ends-per-pass N] "
               "[--dispatch SPEC] "
               "[--policy SPEC] [--durable] [--quotas] [--min-run-s S]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string network = "uniform-100k", dispatch = "earliest-start", policy = "fifo+easy";
  int pending = 10'000, passes = 20, gap_ms = 1000, ends_per_pass = 80, min_run_s = 0;
  bool durable = false, quotas = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--network") {
      if (const char* v = next()) network = v;
      else return Usage();
    } else if (a == "--pending") {
      const char* v = next();
      if (!v) return Usage();
      pending = std::atoi(v);
    } else if (a == "--passes") {
      const char* v = next();
      if (!v) return Usage();
      passes = std::atoi(v);
    } else if (a == "--gap-ms") {
      const char* v = next();
      if (!v) return Usage();
      gap_ms = std::atoi(v);
    } else if (a == "--ends-per-pass") {
      const char* v = next();
      if (!v) return Usage();
      ends_per_pass = std::atoi(v);
    } else if (a == "--dispatch") {
      if (const char* v = next()) dispatch = v;
      else return Usage();
    } else if (a == "--policy") {
      if (const char* v = next()) policy = v;
      else return Usage();
    } else if (a == "--durable") {
      durable = true;
    } else if (a == "--quotas") {
      quotas = true;
    } else if (a == "--min-run-s") {
      const char* v = next();
      if (!v) return Usage();
      min_run_s = std::atoi(v);
    } else {
      return Usage();
    }
  }
  if (pending < 0 || passes < 1 || gap_ms < 0 || ends_per_pass < 1 || min_run_s < 0) return Usage();

  std::string tmpl = (std::filesystem::temp_directory_path() / "live_pass.XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string data = tmpl;
  ServerConfig cfg;
  cfg.data_dir = data;
  cfg.network = network;
  cfg.policy = policy;
  cfg.dispatch = dispatch;
  cfg.durable = durable;
  cfg.min_run_s = min_run_s;
  if (quotas) {
    auto q = suanli::ParseQuotasYaml(kQuotas, "live_pass quotas");
    if (!q.ok()) {
      std::fprintf(stderr, "live_pass: %s\n", q.status().message().c_str());
      return 1;
    }
    cfg.quotas = std::make_shared<const suanli::QuotaSpec>(*q);
  }
  cfg.pass_interval_ms = 3'600'000;  // passes run when this program asks (and on submissions)
  auto t_start = Clock::now();
  auto started = ControlPlane::Start(cfg);
  if (!started.ok()) {
    std::fprintf(stderr, "live_pass: %s\n", started.status().message().c_str());
    return 1;
  }
  std::unique_ptr<ControlPlane> cp = std::move(started).value();
  int devices = 0;
  for (const auto& c : cp->Centers()) devices += c.devices;
  std::printf("network %s: %zu center(s), %d accelerators; started in %.0f ms\n", network.c_str(), cp->Centers().size(),
              devices, Ms(Clock::now() - t_start));

  // Fill every accelerator with 8-GPU jobs whose ends are spread over the
  // measurement (so each timed pass sees some end), then queue `pending` jobs
  // of 1, 2, 4 and 8 accelerators behind them.
  const int fill = devices / 8;
  const double span_s = std::max(1.0, fill * (gap_ms / 1000.0) / ends_per_pass);
  std::vector<JobSpec> specs;
  specs.reserve(fill + pending);
  for (int i = 0; i < fill; ++i) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = 8;
    s.cpu_milli = 8000;
    s.mem_mib = 65536;
    s.time_limit_s = 7200;
    s.duration_s = 30 + static_cast<int64_t>(span_s * i / std::max(1, fill));
    specs.push_back(s);
  }
  const uint32_t sizes[] = {1, 2, 4, 8};
  for (int i = 0; i < pending; ++i) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = sizes[i % 4];
    s.cpu_milli = 1000 * s.gpus.devices();
    s.mem_mib = 8192 * s.gpus.devices();
    s.time_limit_s = 3600 + (i % 7) * 600;
    s.duration_s = 600;
    s.priority = i % 3;
    specs.push_back(s);
  }
  auto t_submit = Clock::now();
  std::atomic<size_t> next{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const char* tenants[] = {"alice", "bob", "carol", "dave"};
  // Tenants that may rank their jobs 0..2 (a tenant's max_priority is 0
  // unless the admin raises it).
  for (const char* name : {"alice", "bob", "carol", "dave", "erin"}) {
    suanli::live::Tenant t;
    t.name = name;
    t.max_priority = 2;
    if (auto made = cp->CreateTenant(Caller{"admin", true}, t); !made.ok()) {
      std::fprintf(stderr, "live_pass: tenant %s: %s\n", name, made.status().message().c_str());
      return 1;
    }
  }
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      Caller who{tenants[t % 4], false};
      for (size_t i = next++; i < specs.size(); i = next++)
        if (!cp->Submit(who, specs[i]).ok()) ++errors;
    });
  for (auto& t : threads) t.join();
  std::printf("submitted %zu jobs in %.0f ms (%d errors)\n", specs.size(), Ms(Clock::now() - t_submit), errors.load());
  // Let the submissions be dispatched and the fill start (not timed).
  auto t_fill = Clock::now();
  int running = 0, queued = 0;
  for (int i = 0; i < 50; ++i) {
    cp->PassNow();
    running = queued = 0;
    for (const auto& c : cp->Centers()) {
      running += c.running;
      queued += c.pending;
    }
    if (running + queued >= static_cast<int>(specs.size()) - errors.load() && running >= fill) break;
  }
  std::printf("warm-up: %d running, %d pending after %.0f ms; %lld runs preempted\n", running, queued,
              Ms(Clock::now() - t_fill), static_cast<long long>(cp->Stats().preemptions));

  // Idle passes: nothing ended, nothing arrived.
  std::vector<double> idle;
  for (int i = 0; i < passes; ++i) {
    auto t0 = Clock::now();
    cp->PassNow();
    idle.push_back(Ms(Clock::now() - t0));
  }
  // Wait for the first ends, then time passes `gap_ms` apart. Between two
  // passes the queue is topped up to `pending` jobs (new arrivals), as many as
  // the previous pass started.
  std::this_thread::sleep_for(std::chrono::seconds(30) - (Clock::now() - t_fill));
  std::vector<double> busy, with_ends, to_launch;
  int64_t ended = 0, arrived = 0;
  const int64_t preempted_before = cp->Stats().preemptions;
  Caller topup{"erin", false};
  for (int i = 0; i < passes; ++i) {
    queued = 0;
    for (const auto& c : cp->Centers()) queued += c.pending;
    for (int k = queued; k < pending; ++k, ++arrived)
      if (!cp->Submit(topup, specs[fill + static_cast<size_t>(arrived) % static_cast<size_t>(pending)]).ok()) ++errors;
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    const auto before = cp->Stats();
    // The previous timed pass's decisions were committed and launched by the
    // loop meanwhile.
    if (i > 0) to_launch.push_back(before.last_decision_to_launch_ms);
    auto t0 = Clock::now();
    cp->PassNow();
    const double ms = Ms(Clock::now() - t0);
    const auto after = cp->Stats();
    busy.push_back(ms);
    ended += after.successes - before.successes;
    if (after.successes > before.successes) with_ends.push_back(ms);
  }
  running = queued = 0;
  for (const auto& c : cp->Centers()) {
    running += c.running;
    queued += c.pending;
  }
  std::printf(
      "timed passes: %lld jobs ended, %lld arrived, %lld runs preempted; %d running, %d pending at the end (%d "
      "errors)\n",
      static_cast<long long>(ended), static_cast<long long>(arrived),
      static_cast<long long>(cp->Stats().preemptions - preempted_before), running, queued, errors.load());
  std::printf("pass: median %.1f ms, p99 %.1f ms (%d passes %d ms apart)\n", Percentile(busy, 0.5),
              Percentile(busy, 0.99), passes, gap_ms);
  std::printf("passes that recorded ends (%zu): median %.1f ms, p99 %.1f ms\n", with_ends.size(),
              Percentile(with_ends, 0.5), Percentile(with_ends, 0.99));
  std::printf("idle pass: median %.1f ms, p99 %.1f ms\n", Percentile(idle, 0.5), Percentile(idle, 0.99));
  std::printf("decisions to launches (store commit, then launches; off the pass): median %.1f ms, p99 %.1f ms\n",
              Percentile(to_launch, 0.5), Percentile(to_launch, 0.99));
  cp->Stop();
  cp.reset();
  std::error_code ec;
  std::filesystem::remove_all(data, ec);
  return 0;
}
