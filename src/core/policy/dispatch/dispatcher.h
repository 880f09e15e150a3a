// The dispatcher: the first level of two-level scheduling. For each job that
// enters the network (or must leave a center: an outage, a failure) it picks
// a center, when to send it there (now, after its dataset is staged, or at a
// cheaper or cleaner hour for a deferrable job) and, for the
// heterogeneity-aware policy, the accelerator model. The center's own
// scheduler then orders and places it.
//
// Policies (all one scoring mechanism with different weights, except
// `isolated` and the LP of `heterogeneity-aware`):
//  - isolated: every job stays in its home center (the baseline: centers
//    that are not joined).
//  - earliest-start: the center where the job would start first (Slurm's
//    multi-cluster rule).
//  - data-aware: the earliest completion counting the time to stage the
//    job's dataset over the wide-area links.
//  - cost-aware / carbon-aware: the cheapest / cleanest run (energy = board
//    power x PUE over the run, priced by the hour), with a small weight on
//    completion time; deferrable jobs may also wait for a better hour.
//  - heterogeneity-aware: Gavel's allocation LP over job types and
//    (center, model) pools, recomputed every round; jobs go where their
//    type's share lags its target most.
// Every candidate center must be up, able to run the job at all (stacks,
// models, sizes: the center scheduler's own "could it ever run" check) and,
// for a service, within its latency bound from its user region.
//
// A policy is written NAME[:KEY=VALUE]...; keys are the weights time, data,
// cost, carbon (dimensionless: each term is divided by the best value among
// the candidate centers) and, for heterogeneity-aware, round (seconds) and
// fair (0/1). Example: `heterogeneity-aware:carbon=0.5`,
// `carbon-aware:time=1`.
//
// Complexity per dispatch: O(centers x models) plus, for deferrable jobs,
// x 24 candidate hours. Ties go to the lower center id, then the earlier hour.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/scheduler/scheduler.h"

namespace suanli {

struct DispatchSpec {
  std::string name = "earliest-start";
  double w_time = 1, w_data = 0, w_cost = 0, w_carbon = 0;
  bool by_start = true;  // time term is the start (not the completion) time
  bool defer = false;    // deferrable jobs may wait for a better hour
  bool isolated = false;
  bool lp = false;    // heterogeneity-aware
  bool fair = false;  // LP with max-min fairness first
  Duration round = kHour;
  std::string text;  // as written
};
Result<DispatchSpec> ParseDispatchSpec(std::string_view text);
// What a deferrable job waits for under this policy: "price", "carbon",
// "price and carbon" (the weights it holds jobs for), or "" if it does not
// defer jobs. A job's reason says "deferred until T (price)".
std::string_view DeferredFor(const DispatchSpec& spec);
// Name and one-line description of every dispatch policy.
std::vector<std::pair<std::string, std::string>> DispatchPolicies();

// What the dispatcher sees of a center; kept by the caller.
struct CenterStatus {
  bool up = true;
  const Scheduler* sched = nullptr;  // the center's scheduler (its state and checks)
  double backlog_dev_s = 0;          // queued work, accelerator-seconds
  double running_devices = 0;        // accelerators busy
  double running_end_sum = 0;        // sum over busy accelerators of expected end (seconds)
};

struct DispatchView {
  const Network& network;
  const Catalog& catalog;
  const Workload& workload;
  const Paths& paths;
  const IdVector<CenterId, CenterStatus>& centers;
  const std::vector<CenterId>& place_center;  // Workload::places -> center (kNoCenter)
  const std::vector<uint32_t>& place_region;  // Workload::places -> region (UINT32_MAX)
  int start_hour = 0;
  CenterId avoid = kNoCenter;  // a center this job is not sent to now (it just stopped the job's run)
};

struct DispatchDecision {
  enum class Kind : uint8_t { kSend, kHold, kReject };
  Kind kind = Kind::kSend;
  CenterId center = kNoCenter;
  ModelMask models = 0;   // restrict the job to these models there (0 = as it asks)
  Time at = 0;            // submit to the center at this time (>= now)
  double transfer_s = 0;  // of that, staging the dataset
  bool deferred = false;  // held back for a better hour
  std::string reason;     // kHold / kReject
  std::string why;        // kSend, when the dispatcher explains (set_explain): why this center
};

class Dispatcher {
 public:
  Dispatcher(DispatchSpec spec, const Network& network, const Catalog& catalog);
  virtual ~Dispatcher() = default;
  const DispatchSpec& spec() const { return spec_; }

  // `work` is the job's remaining work in reference-seconds.
  virtual DispatchDecision Dispatch(JobId id, double work, Time now, const DispatchView& view);
  // The job left the network (finished, unschedulable) or is about to be
  // dispatched again: forget what Dispatch counted for it.
  virtual void Done(JobId /*id*/) {}

  // The center a job with no home belongs to: the first center, starting at
  // the tenant's turn among the non-edge centers, that can run it.
  CenterId HomeOf(const Job& job, const DispatchView& view) const;

  // Each send says why that center (DispatchDecision::why): the figures it
  // won on, beside the next best centers'. Off by default (the simulator
  // does not keep them); the live plane turns it on for a job's history.
  void set_explain(bool on) { explain_ = on; }

 protected:
  struct Candidate {
    CenterId center = kNoCenter;
    ModelId model = kNoModel;  // the fastest eligible model there
    double speed = 1;
    double wait_s = 0, run_s = 0, transfer_s = 0;
    Time delay = 0;  // deferral
    double cost = 0, carbon = 0;
  };
  // Whether the job could ever run at c on one of `eligible` (its
  // EligibleModels, or the one model it is held to if `restricted`), and the
  // candidate's estimates if so.
  bool Evaluate(const Job& job, double work, ModelMask eligible, bool restricted, CenterId c, Time now,
                const DispatchView& v, Candidate* out) const;
  bool InLatency(const Job& job, CenterId c, const DispatchView& v) const;
  double WaitEstimate(const Job& job, ModelMask eligible, CenterId c, Time now, const DispatchView& v) const;
  // Picks the best candidate by the weighted score; false if none.
  bool Best(const std::vector<Candidate>& cands, const Job& job, Candidate* best) const;
  DispatchDecision Send(const Candidate& c, Time now, ModelMask models) const;
  std::string NoCenterReason(const Job& job, const DispatchView& v) const;
  // DispatchDecision::why of sending the job to `best` among `cands`.
  std::string Explain(const std::vector<Candidate>& cands, const Candidate& best, const Job& job) const;

  DispatchSpec spec_;
  const Network& network_;
  const Catalog& catalog_;
  IdVector<CenterId, ModelMask> present_;             // models present, per center
  IdVector<CenterId, std::vector<double>> capacity_;  // [center][model] accelerators
  std::vector<CenterId> home_order_;                  // non-edge centers
  bool explain_ = false;
};

Result<std::unique_ptr<Dispatcher>> MakeDispatcher(const DispatchSpec& spec, const Network& network,
                                                   const Catalog& catalog);

}  // namespace suanli
