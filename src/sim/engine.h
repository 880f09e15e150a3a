// The discrete-event simulator: replays a workload against a network under
// one scheduling policy. Integer time (microseconds); events at the same time
// are taken together, arrivals and completions first, then one scheduling
// pass. Deterministic: same input and seed give identical results.
//
// The scheduling itself — dispatch to a center, queueing, passes, a job's
// phases, each center's status — is the core's NetworkScheduler
// (core/network/), the one the live control plane runs too. The simulator's
// Engine (engine.cc) is its driver: it produces the simulated world's events
// (arrivals, ends of runs, device failures, outages) and applies the
// decisions. Its Accounts (accounts.h) keep their own ledger of every node
// and device and check, at every decision, that nothing is over-allocated,
// that gangs get all their devices at once and that model constraints hold;
// at the end, that every job finished or was reported unschedulable with a
// reason.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "core/model/energy.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/network/network_scheduler.h"
#include "core/policy/dispatch/dispatcher.h"
#include "core/scheduler/scheduler.h"

namespace suanli {

struct SimOptions {
  uint64_t seed = 1;
  Duration util_interval = 0;  // utilisation time-series step; 0 = chosen from the trace span
  SchedulerOptions scheduler;
  // A network of centers: one scheduler per center, a dispatcher in front.
  DispatchSpec dispatch;  // default: earliest-start
  int start_hour = 0;     // hour of day at time 0 (tariffs and carbon by hour)
  // A center's scheduler passes at most this often (0 = at every event).
  // Like Slurm's sched_min_interval: events in between wait for the next pass.
  Duration pass_interval = 0;
  // Failures. A running job on k accelerators fails at rate k / device MTBF
  // (the failed device is swapped for a spare at once); it loses the work
  // since its last checkpoint, pays `restart_cost` when it runs again and is
  // dispatched again. Whole-center outages come from the network file
  // (scheduled) and, with center_mtbf > 0, at random (exponential gaps,
  // exponential durations of mean outage_mean).
  double device_mtbf_h = 0;  // 0 = no device failures
  double center_mtbf_h = 0;  // 0 = no random outages
  Duration outage_mean = 4 * kHour;
  Duration checkpoint = 0;  // default interval for jobs without their own; 0 = none
  Duration restart_cost = 0;
  int max_restarts = 100;  // runs lost in a row before a checkpoint, then given up on (0 = no limit)
  // Why each job waited before its first start (JobRecord::reason): the
  // words the live plane shows for a pending job, taken when the job first
  // waits (docs/formats-output.md).
  bool reasons = false;
  // Called with the fraction of arrivals processed (0..1), at most ~200 times.
  std::function<void(double)> progress;
};

struct JobRecord {
  JobId id;
  Time submit = 0;
  Time start = -1;  // first start
  Time end = -1;
  uint32_t gpus = 0;
  uint16_t gpu_milli = 0;
  uint16_t nodes = 0;  // nodes of the last run
  uint16_t preemptions = 0;
  ModelId model = kNoModel;
  bool unschedulable = false;
  CenterId center = kNoCenter;  // where it finished (or last ran)
  uint16_t restarts = 0;        // after failures and outages
  float lost_work_s = 0;        // accelerator-seconds lost (since checkpoints, restart overhead)
  float transfer_s = 0;         // waiting for its dataset
  bool deferred = false;
  uint32_t reason = 0;  // SimResult::reasons (0: it did not wait, or reasons were not asked for)
};

struct UtilSample {
  Time t = 0;               // start of the window
  double busy_devices = 0;  // average accelerators allocated over the window
  double utilization = 0;   // busy / capacity
  uint32_t pending = 0;     // at the end of the window
  uint32_t running = 0;
};

struct SimSummary {
  uint64_t jobs = 0, finished = 0, unschedulable = 0, preemptions = 0;
  double avg_jct_s = 0, p50_jct_s = 0, p95_jct_s = 0, p99_jct_s = 0;
  double avg_wait_s = 0, p50_wait_s = 0, p99_wait_s = 0;
  double makespan_s = 0;
  double utilization = 0;  // accelerator-time allocated / (capacity × makespan)
  uint64_t passes = 0;
  // Network of centers (see docs/formats-output.md). energy_kwh, cost and
  // carbon_kg are the totals: the jobs' own (busy accelerators) plus the
  // idle accelerators' over the idle horizon.
  double energy_kwh = 0, cost = 0, carbon_kg = 0;
  Energy jobs_energy;         // accelerators running jobs
  Energy idle_energy;         // idle accelerators, first arrival to the idle horizon
  double idle_horizon_s = 0;  // from the first arrival (default: this run's makespan)
  double goodput = 1;         // useful / allocated accelerator-time
  double lost_work_s = 0;     // accelerator-seconds
  uint64_t failures = 0, restarts = 0, outages = 0, deferred = 0;
  double transfer_s = 0;
};

struct CenterSummary {
  std::string name;
  bool edge = false;
  double lat = 0, lon = 0;
  int64_t accelerators = 0;
  double utilization = 0;
  uint64_t jobs = 0;  // finished there
  Energy energy;      // busy and idle
};

// One time step of one (center, model) pool.
struct PoolSample {
  Time t = 0;
  CenterId center;
  ModelId model = kNoModel;
  double busy_devices = 0, capacity = 0;
  uint32_t pending = 0, running = 0;  // the center's
};

inline constexpr TenantId kIdleTenant{UINT32_MAX};  // UsageRow: the idle accelerators

struct UsageRow {
  TenantId tenant;  // Workload::tenants; kIdleTenant = idle accelerators
  CenterId center;
  ModelId model = kNoModel;
  double accelerator_s = 0, reference_s = 0, pflop_days = 0;
  Energy energy;
};

// Busy accelerator-seconds per (center, model) pool and hour since the first
// arrival: what MeterIdle needs to meter the idle accelerators.
struct BusyHours {
  Time t0 = 0;                             // the first arrival
  size_t models = 0;                       // pools per center (models + CPU-only)
  std::vector<double> capacity;            // devices, per pool (center * models + model)
  std::vector<std::vector<double>> hours;  // per pool, by hour since t0
};

struct SimResult {
  std::string policy;  // DISPATCH/POLICY with several centers, else POLICY
  std::string dispatch, center_policy;
  IdVector<JobId, JobRecord> jobs;
  std::vector<UtilSample> util;
  std::vector<std::pair<JobId, std::string>> unschedulable;  // with reasons
  // Why jobs waited, each text once (SimOptions::reasons; empty without):
  // reasons[0] is "".
  std::vector<std::string> reasons;
  SimSummary summary;
  double peak_pending = 0;
  IdVector<CenterId, CenterSummary> centers;
  std::vector<PoolSample> pools;  // per time step and (center, model)
  std::vector<UsageRow> usage;    // sorted by tenant, center, model
  BusyHours busy;
};

// Device failures and random center outages as the simulator draws them,
// from a stream of their own (independent of the schedulers'): at each start
// of a run, in the order runs start, an exponential time to failure of mean
// device MTBF / accelerators; for each center at the first arrival, and again
// at the end of each of its outages while jobs are open, an exponential time
// to its next outage (center MTBF) and length (outage_mean, at least a
// minute). The Engine and `suanli replay` draw them alike.
class FailureDraws {
 public:
  explicit FailureDraws(const SimOptions& options)
      : mtbf_h_(options.device_mtbf_h),
        center_mtbf_h_(options.center_mtbf_h),
        outage_mean_(options.outage_mean),
        rng_(options.seed ^ 0x6661696c75726573ULL) {}
  // When a run of `run` on `devices` accelerators that starts now fails
  // (>= 1 µs after its start), or kNever if it does not.
  Duration FailsAfter(double devices, Duration run) {
    if (!(mtbf_h_ > 0) || !(devices > 0)) return kNever;
    const Duration in = SecondsF(rng_.Exponential(mtbf_h_ * 3600.0 / devices));
    return in < run ? std::max<Duration>(1, in) : kNever;
  }
  // Whether centers have random outages at all.
  bool outages() const { return center_mtbf_h_ > 0; }
  // The next random outage of a center up at `after`: its start and length.
  std::pair<Time, Duration> NextOutage(Time after) {
    const Time at = after + SecondsF(rng_.Exponential(center_mtbf_h_ * 3600.0));
    return {at, std::max<Duration>(kMinute, SecondsF(rng_.Exponential(ToSeconds(outage_mean_))))};
  }

 private:
  double mtbf_h_;
  double center_mtbf_h_;
  Duration outage_mean_;
  Rng rng_;
};

// The network scheduler's options for a simulation with these options.
NetworkOptions NetworkOptionsOf(const SimOptions& options);

Result<SimResult> Simulate(const Workload& workload, const Network& network, const Catalog& catalog,
                           const PolicySpec& policy, const SimOptions& options);

SimSummary Summarize(const IdVector<JobId, JobRecord>& jobs);

// Meters the idle accelerators (idle power x PUE, priced at each center's
// local hour) from the first arrival for `horizon`, replacing the run's
// "(idle)" usage rows, and sets its centers' energy and its summary's
// jobs_energy, idle_energy, idle_horizon_s and totals. Simulate calls it
// with the run's own makespan; `suanli sim` calls it again with one horizon
// common to every run it compares (docs/formats-output.md). O(pools x hours).
void MeterIdle(SimResult* result, Duration horizon, const Network& network, const Catalog& catalog, int start_hour);

}  // namespace suanli
