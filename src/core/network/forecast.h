// Start times from a forward simulation: when each job queued at a center
// would start if nothing new came and every run ended when expected (its
// estimate, else its time limit, or the share of it a predictor gives:
// RunShare). A snapshot of the center's jobs is taken
// from the network scheduler (NetworkScheduler::SnapshotForecast, cheap: a
// copy of plain data), then a fresh scheduler of the same policy is fed the
// snapshot and run ahead, pass by pass, to the expected end of each run
// (RunForecast, anywhere: the snapshot refers to nothing of the network
// scheduler, so the live plane runs it off its scheduling pass). What the
// queued jobs do to each other — a wave of jobs behind one reservation,
// backfill, quotas, preemption — is in the answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/scheduler/scheduler.h"

namespace suanli {

// A run-time predictor: the share of its estimate a job is expected to run,
// in (0, 1] (the live plane: from its tenant's last runs, as Tsafrir,
// Etsion and Feitelson's user-based predictions, IEEE TPDS 2007). A run
// already longer than its predicted share is expected to run to its estimate.
using RunShare = std::function<double(const Job&)>;

struct ForecastSnapshot {
  CenterId center = kNoCenter;
  Time t = 0;
  PolicySpec policy;
  SchedulerOptions options;
  Network net;                         // the center's slice (nodes numbered from 0)
  std::vector<NodeId> down;            // its nodes that are down
  std::shared_ptr<const TaskMix> mix;  // what fgd weighs (null: none)
  Workload workload;                   // the network scheduler's jobs (same ids)
  struct Run {
    JobId job;
    Allocation alloc;
    Time start = 0, expected_end = kNever;
  };
  std::vector<Run> running;
  std::vector<std::pair<JobId, JobProgress>> queued;  // by id
  std::vector<uint32_t> generations;                  // of the queued jobs, in the same order
  uint64_t seed = 0;
};

struct Forecast {
  CenterId center = kNoCenter;
  Time t = 0;                                  // the snapshot's time
  std::vector<std::pair<JobId, Time>> starts;  // the queued jobs, by id; kNever: not by the horizon
  std::vector<uint32_t> generations;           // theirs when the snapshot was taken
  uint64_t passes = 0;                         // the copy's
};

// Runs the snapshot ahead until every queued job started, `max_passes`
// passes, or `horizon` after its time. When `stop` becomes true (another
// thread asks it to give up) it returns Unavailable before its next pass.
Result<Forecast> RunForecast(const ForecastSnapshot& s, const Catalog& catalog, const std::atomic<bool>* stop = nullptr,
                             uint64_t max_passes = 100000, Duration horizon = 366 * kDay);

}  // namespace suanli
