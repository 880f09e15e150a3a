// suanli sim: replay a workload against a network under several policies and
// compare them.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/parallel.h"
#include "base/strings.h"
#include "commands.h"
#include "core/policy/dispatch/allocation_lp.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"
#include "io/quota_loader.h"
#include "io/sources.h"
#include "replay/replay.h"
#include "sim/engine.h"
#include "sim/output.h"

namespace suanli::app {
namespace {

// Defaults: one center compares center policies; a network of centers
// compares dispatch policies under EASY backfill.
constexpr const char* kSingleCenterPolicies = "fifo,fifo+easy,sjf,srtf,las,qssf,drf";
constexpr const char* kNetworkPolicies = "fifo+easy";
constexpr const char* kNetworkDispatch =
    "isolated,earliest-start,data-aware,cost-aware,carbon-aware,heterogeneity-aware";

struct SimArgs {
  std::string workload;  // "" = the default for the network
  std::string format;
  std::string network = kDefaultNetwork;
  std::string network_format;
  std::string catalog;
  std::string policies;  // "" = the default for the network
  std::string dispatch;  // "" = the default for the network
  double scale = 1;
  int start_hour = 0;
  double idle_horizon_h = 0;  // 0 = the longest makespan of the runs compared
  double device_mtbf_h = 0, center_mtbf_h = 0, outage_h = 4, checkpoint_h = 0, restart_cost_s = 0;
  int max_restarts = 100;
  std::string quotas;
  double pass_interval_s = 0;
  uint64_t seed = 1;
  std::string out;
  bool skip_invalid = false;
  unsigned threads = 0;
  int64_t util_step_s = 0;
  int backfill_depth = 1000;
  double min_run_s = 0;
  bool quiet = false;
  bool reasons = false;      // jobs.csv says why each job waited
  bool single_node = false;  // jobs never span nodes (as the live plane runs them)
  bool replay = false;       // `suanli replay`: the live control plane on a virtual clock
};

class Progress {
 public:
  Progress(size_t runs, bool enabled) : fractions_(runs, 0.0), enabled_(enabled) {}
  void Update(size_t run, double f) {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mu_);
    fractions_[run] = f;
    double sum = 0;
    for (double x : fractions_) sum += x;
    double total = sum / static_cast<double>(fractions_.size());
    int width = 40, filled = static_cast<int>(total * width);
    std::fprintf(stderr, "\r[%s%s] %3.0f%%", std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                 100 * total);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  std::mutex mu_;
  std::vector<double> fractions_;
  bool enabled_;
};

int RunSim(const SimArgs& a) {
  const char* tool = a.replay ? "suanli replay" : "suanli sim";
  // The control plane logs each pass; a replay shows its warnings only (its
  // errors only with --quiet).
  if (a.replay) spdlog::set_level(a.quiet ? spdlog::level::err : spdlog::level::warn);
  Catalog catalog_storage;
  const Catalog* catalog = &BuiltinCatalog();
  if (!a.catalog.empty()) {
    auto c = LoadCatalogFile(a.catalog);
    if (!c.ok()) {
      std::fprintf(stderr, "%s: %s\n", tool, c.status().message().c_str());
      return 2;
    }
    catalog_storage = std::move(*c);
    catalog = &catalog_storage;
  }
  auto net = LoadNetworkSpec(a.network, a.network_format, *catalog);
  if (!net.ok()) {
    std::fprintf(stderr, "%s: %s\n", tool, net.status().message().c_str());
    return 2;
  }
  const bool multi = net->centers.size() > 1;
  std::shared_ptr<const QuotaSpec> quotas;
  if (!a.quotas.empty()) {
    auto q = LoadQuotas(a.quotas);
    if (!q.ok()) {
      std::fprintf(stderr, "%s: %s\n", tool, q.status().message().c_str());
      return 2;
    }
    quotas = std::make_shared<const QuotaSpec>(std::move(*q));
  }
  std::vector<DispatchSpec> dispatches;
  const std::string dispatch_list = !a.dispatch.empty() ? a.dispatch : multi ? kNetworkDispatch : "earliest-start";
  const std::string policy_list = !a.policies.empty() ? a.policies : multi ? kNetworkPolicies : kSingleCenterPolicies;
  for (auto d : Split(dispatch_list, ',')) {
    if (Trim(d).empty()) continue;
    auto s = ParseDispatchSpec(d);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", tool, s.status().message().c_str());
      return 2;
    }
    dispatches.push_back(*s);
  }
  if (dispatches.empty()) {
    std::fprintf(stderr, "%s: --dispatch names no policy\n", tool);
    return 2;
  }
  std::vector<PolicySpec> specs;
  for (auto p : Split(policy_list, ',')) {
    if (Trim(p).empty()) continue;
    auto s = ParsePolicySpec(p);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", tool, s.status().message().c_str());
      return 2;
    }
    specs.push_back(*s);
  }
  if (specs.empty()) {
    std::fprintf(stderr, "%s: --policy names no policy\n", tool);
    return 2;
  }
  ImportOptions iopt;
  iopt.skip_invalid = a.skip_invalid;
  ImportReport report;
  const std::string workload_spec = !a.workload.empty()                     ? a.workload
                                    : a.network.rfind("china-aicc", 0) == 0 ? kDefaultNetworkWorkload
                                                                            : kDefaultWorkload;
  auto wl = LoadWorkload(workload_spec, a.format, *catalog, iopt, &report);
  if (!wl.ok()) {
    std::fprintf(stderr, "%s: %s\n", tool, wl.status().message().c_str());
    return 2;
  }
  if (report.skipped > 0) std::fprintf(stderr, "%s: %s\n", tool, report.Summary().c_str());
  if (!(a.scale > 0) || !std::isfinite(a.scale)) {
    std::fprintf(stderr, "%s: --scale must be a number > 0\n", tool);
    return 2;
  }
  if (a.scale != 1 && !wl->jobs.empty()) {
    // Arrivals come `scale` times as fast: submit times shrink towards the
    // first one; deadlines keep their slack.
    const Time t0 = wl->jobs.front().submit;
    for (auto& j : wl->jobs) {
      Time submit = t0 + static_cast<Time>(static_cast<double>(j.submit - t0) / a.scale);
      if (j.deadline != kNever) j.deadline = submit + (j.deadline - j.submit);
      j.submit = submit;
    }
  }

  if (!a.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec) {
      std::fprintf(stderr, "%s: cannot create '%s': %s\n", tool, a.out.c_str(), ec.message().c_str());
      return 1;
    }
  }
  // Runs: every dispatch policy with every center policy.
  struct Run {
    DispatchSpec dispatch;
    PolicySpec policy;
  };
  std::vector<Run> runs;
  for (const auto& d : dispatches)
    for (const auto& p : specs) runs.push_back({d, p});
  if (!a.quiet)
    std::fprintf(stderr, "%s: %zu jobs on %s (%zu centers, %zu nodes, %lld accelerators), %zu runs, seed %llu\n", tool,
                 wl->jobs.size(), net->name.c_str(), net->centers.size(), net->nodes.size(),
                 static_cast<long long>(net->TotalDevices()), runs.size(), static_cast<unsigned long long>(a.seed));

  std::vector<Result<SimResult>> results(runs.size(), Result<SimResult>(Internal("not run")));
  Progress progress(runs.size(), !a.quiet && isatty(STDERR_FILENO));
  // A thread that solved an allocation LP (heterogeneity-aware dispatch)
  // frees its solver's per-thread state before it ends.
  ParallelFor(
      runs.size(), a.threads,
      [&](size_t i) {
        SimOptions opt;
        opt.seed = a.seed;
        opt.util_interval = Seconds(a.util_step_s);
        opt.scheduler.backfill_depth = a.backfill_depth;
        opt.scheduler.min_run = SecondsF(a.min_run_s);
        opt.scheduler.quotas = quotas;
        opt.pass_interval = SecondsF(a.pass_interval_s);
        opt.dispatch = runs[i].dispatch;
        opt.start_hour = a.start_hour;
        opt.device_mtbf_h = a.device_mtbf_h;
        opt.center_mtbf_h = a.center_mtbf_h;
        opt.outage_mean = SecondsF(a.outage_h * 3600.0);
        opt.checkpoint = SecondsF(a.checkpoint_h * 3600.0);
        opt.restart_cost = SecondsF(a.restart_cost_s);
        opt.max_restarts = a.max_restarts;
        opt.reasons = a.reasons;
        opt.scheduler.allow_multi_node = !a.single_node && !a.replay;
        opt.progress = [&, i](double f) { progress.Update(i, f); };
        results[i] = a.replay ? Replay(*wl, a.network, *net, *catalog, runs[i].policy, opt)
                              : Simulate(*wl, *net, *catalog, runs[i].policy, opt);
        progress.Update(i, 1.0);
      },
      ReleaseLpSolverThreadState);
  progress.Done();

  std::vector<SimResult> ok;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!results[i].ok()) {
      std::fprintf(stderr, "%s: policy %s: %s\n", tool,
                   (multi ? runs[i].dispatch.text + "/" + runs[i].policy.text : runs[i].policy.text).c_str(),
                   results[i].status().message().c_str());
      return 1;
    }
    ok.push_back(std::move(results[i]).value());
  }
  // Idle accelerators are metered over one horizon common to every run
  // compared, so that a run whose last job ends later is not charged more
  // idle energy for it (docs/formats-output.md).
  double horizon_s = a.idle_horizon_h * 3600.0;
  if (horizon_s <= 0)
    for (const auto& r : ok) horizon_s = std::max(horizon_s, r.summary.makespan_s);
  for (auto& r : ok) MeterIdle(&r, SecondsF(horizon_s), *net, *catalog, a.start_hour);
  std::fputs(ComparisonTable(ok).c_str(), stdout);
  for (const auto& r : ok)
    if (!r.unschedulable.empty() && !a.quiet) {
      const auto& [id, why] = r.unschedulable.front();
      std::fprintf(stderr, "%s: %s: %zu unschedulable jobs, e.g. job %u (%s): %s\n", tool, r.policy.c_str(),
                   r.unschedulable.size(), id.value(), wl->JobName(id).c_str(), why.c_str());
      break;
    }
  if (!a.out.empty()) {
    RunInfo info{workload_spec, net->name, a.seed};
    for (const auto& st : {WriteSummaryJson(a.out + "/summary.json", info, ok),
                           WriteJobsCsv(a.out + "/jobs.csv", *wl, *catalog, *net, ok),
                           WriteUtilizationCsv(a.out + "/utilization.csv", ok),
                           WriteCentersCsv(a.out + "/centers.csv", *net, *catalog, ok),
                           WriteUsageCsv(a.out + "/usage.csv", *wl, *net, *catalog, ok)}) {
      if (!st.ok()) {
        std::fprintf(stderr, "%s: %s\n", tool, st.message().c_str());
        return 1;
      }
    }
    if (!a.quiet)
      std::fprintf(stderr, "%s: wrote summary.json, jobs.csv, utilization.csv, centers.csv, usage.csv to %s\n", tool,
                   a.out.c_str());
  }
  return 0;
}

void AddSimOptions(CLI::App* cmd, const std::shared_ptr<SimArgs>& args, int* exit_code) {
  cmd->add_option("--workload,-w", args->workload,
                  "Workload file (any trace format), 'default' (the bundled real workload) or builtin:NAME; "
                  "default: builtin:china-aicc-week on china-aicc networks, else 'default'");
  cmd->add_option("--format,-f", args->format, "Trace format (see `suanli trace formats`); guessed if omitted");
  cmd->add_option("--network,-n", args->network, "Network YAML file or built-in name (see `suanli network list`)");
  cmd->add_option("--network-format", args->network_format,
                  "yaml, or a cluster format (see `suanli trace formats`); guessed if omitted");
  cmd->add_option("--catalog", args->catalog, "Accelerator catalog YAML (default: the built-in one)");
  cmd->add_option("--policy,-p", args->policies,
                  "Comma-separated center policies ORDER[+easy|+greedy][+PLACEMENT] (default: seven policies on one "
                  "center, fifo+easy on a network of centers)");
  cmd->add_option("--dispatch,-d", args->dispatch,
                  "Comma-separated dispatch policies NAME[:KEY=VALUE]... (see `suanli policies`); each runs with "
                  "every --policy");
  cmd->add_option("--pass-interval", args->pass_interval_s,
                  "Seconds between a center's scheduling passes at most (0 = a pass at every event; like Slurm's "
                  "sched_min_interval)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--quotas", args->quotas,
                  "Tenant quotas YAML (guaranteed share and borrowing limit per tenant, enforced in every center; "
                  "see docs/policies.md)");
  cmd->add_option("--scale", args->scale, "Arrival rate x this factor (load scaling)");
  cmd->add_option("--start-hour", args->start_hour,
                  "UTC hour of day at time 0 (each center reads its tariff and carbon at its own local hour)")
      ->check(CLI::Range(0, 23));
  cmd->add_option("--idle-horizon-h", args->idle_horizon_h,
                  "Meter idle accelerators for this many hours from the first arrival, in every run "
                  "(default 0: the longest makespan of the runs compared)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--device-mtbf-h", args->device_mtbf_h,
                  "Mean hours between failures of one accelerator (0 = no failures)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--center-mtbf-h", args->center_mtbf_h, "Mean hours between random outages of a center (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--outage-h", args->outage_h, "Mean length of a random outage in hours")->check(CLI::PositiveNumber);
  cmd->add_option("--checkpoint-h", args->checkpoint_h,
                  "Checkpoint interval in hours for jobs without their own (0 = no checkpoints)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--restart-cost-s", args->restart_cost_s, "Seconds a job needs to restart after a failure")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-restarts", args->max_restarts,
                  "A job is given up after this many runs in a row lost to failures or outages without reaching "
                  "a checkpoint (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed,-s", args->seed, "Random seed");
  cmd->add_option("--out,-o", args->out, "Directory for summary.json, jobs.csv, utilization.csv");
  cmd->add_flag("--skip-invalid", args->skip_invalid, "Skip malformed trace rows (counted and reported)");
  cmd->add_option("--threads,-j", args->threads, "Policies run in parallel (default: all cores)");
  cmd->add_option("--util-step", args->util_step_s, "Utilisation time-series step in seconds (default: automatic)");
  cmd->add_option("--backfill-depth", args->backfill_depth, "Jobs examined per scheduling pass")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--min-run-s", args->min_run_s,
                  "A running job is not preempted before it has run this long (seconds; 0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "Only the table");
  cmd->add_flag("--reasons", args->reasons,
                "jobs.csv gets a last column, reason: why the job waited when it first did, in the live plane's words");
  cmd->callback([args, exit_code]() { *exit_code = RunSim(*args); });
}

}  // namespace

void RegisterSim(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand("sim", "Replay a workload against a network and compare policies");
  AddSimOptions(cmd, args, exit_code);
  cmd->add_flag("--single-node", args->single_node,
                "Jobs never span nodes (as the live plane runs them; `suanli replay` always does)");
}

void RegisterReplay(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  args->replay = true;
  auto* cmd = app.add_subcommand(
      "replay",
      "Run the live control plane (a store in a temporary directory, simulated centers, a virtual clock) over a "
      "workload; writes what `suanli sim --single-node` writes, byte for byte");
  AddSimOptions(cmd, args, exit_code);
}

}  // namespace suanli::app
