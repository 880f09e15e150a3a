// The discrete-event simulator: replays a workload against a network under
// one scheduling policy. Integer time (microseconds); events at the same time
// are taken together, arrivals and completions first, then one scheduling
// pass. Deterministic: same input and seed give identical results.
//
// The simulator keeps its own account of every node and device and checks,
// at every decision, that nothing is over-allocated, that gangs get all their
// devices at once and that model constraints hold; at the end, that every job
// finished or was reported unschedulable with a reason.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/scheduler/scheduler.h"

namespace suanli {

struct SimOptions {
  uint64_t seed = 1;
  Duration util_interval = 0;  // utilisation time-series step; 0 = chosen from the trace span
  SchedulerOptions scheduler;
  // Called with the fraction of arrivals processed (0..1), at most ~200 times.
  std::function<void(double)> progress;
};

struct JobRecord {
  JobId id = 0;
  Time submit = 0;
  Time start = -1;  // first start
  Time end = -1;
  uint32_t gpus = 0;
  uint16_t gpu_milli = 0;
  uint16_t nodes = 0;       // nodes of the last run
  uint16_t preemptions = 0;
  ModelId model = kNoModel;
  bool unschedulable = false;
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
};

struct SimResult {
  std::string policy;
  std::vector<JobRecord> jobs;
  std::vector<UtilSample> util;
  std::vector<std::pair<JobId, std::string>> unschedulable;  // with reasons
  SimSummary summary;
  double peak_pending = 0;
};

Result<SimResult> Simulate(const Workload& workload, const Network& network, const Catalog& catalog,
                           const PolicySpec& policy, const SimOptions& options);

SimSummary Summarize(const std::vector<JobRecord>& jobs);

}  // namespace suanli
