// What a run of the network scheduler did, as `suanli sim` reports it: the
// jobs' records, the summary's counts and the accounts (ledger, utilisation,
// metering). The simulator's Engine and the live plane's replay
// (replay/replay.h) both feed it the network scheduler's decisions and the
// runs that end, so that one piece of code turns either into SimResult.
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "core/network/network_scheduler.h"
#include "sim/accounts.h"
#include "sim/engine.h"

namespace suanli {

class Recorder {
 public:
  // `net` runs `workload`'s jobs with job ids = workload indices.
  Recorder(const Workload& workload, const Network& network, const Catalog& catalog, const PolicySpec& policy,
           const SimOptions& options, const NetworkScheduler& net);

  // Brings the utilisation windows up to t: called before anything that
  // happens at t.
  void Advance(Time t) { accounts_.Advance(t); }
  // A decision of the network scheduler, applied at t (kWake: nothing).
  Status Decided(const NetDecision& d, Time t);
  // The job's run ended at t (RunEnd: what NetworkScheduler::Finished or
  // Failed returned).
  Status Finished(JobId id, const RunEnd& e, Time t);
  Status Failed(JobId id, const RunEnd& e, Time t);
  void Outage() { ++res_.summary.outages; }
  // After a time step's scheduling pass (SimOptions::reasons): each job sent
  // to a center at this step that is still queued there gets the reason it
  // waits (NetworkScheduler::WhyWaiting). A job deferred or held got its
  // reason with that decision. A job keeps the first reason it got before
  // its first start (what wait_s measures).
  void Explain(NetworkScheduler& net, Time t);
  // After a time step's scheduling pass: the peak of pending jobs.
  void Passed() { res_.peak_pending = std::max(res_.peak_pending, static_cast<double>(net_.num_pending())); }
  // Jobs neither finished nor reported unschedulable.
  size_t open() const { return open_; }
  Time last_t() const { return accounts_.last_t(); }
  // Checks that every job ended, summarises, meters the idle accelerators
  // over the run's makespan.
  Result<SimResult> Finish();

 private:
  const Workload& workload_;
  const Network& network_;
  const Catalog& catalog_;
  const SimOptions& opt_;
  const NetworkScheduler& net_;
  // The first reason a job waited before its first start (SimOptions::reasons).
  void Note(JobId id, std::string reason);

  SimResult res_;
  Accounts accounts_;
  size_t open_;
  std::string deferred_for_;                              // "price", "carbon" or "" (DeferredFor)
  std::vector<JobId> sent_;                               // sent to a center at this step (Explain)
  std::unordered_map<std::string, uint32_t> reason_ids_;  // SimResult::reasons
};

}  // namespace suanli
