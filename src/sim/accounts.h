// The simulator's accounts of a run: its own ledger of every node and device
// (independent of the schedulers' ClusterStates, to catch any
// over-allocation), utilisation windows per pool, and metering per tenant,
// center and model. The Engine feeds it the runs the network scheduler starts
// and ends; it writes the result's time series, usage and per-center figures.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/network/network_scheduler.h"
#include "sim/engine.h"

namespace suanli {

// Node ids are the network's (global).
class Ledger {
 public:
  explicit Ledger(const Network& net);
  // Adds (sign +1: checks the gang, the model and capacity) or removes an
  // allocation whose nodes are numbered by `global` (a center's local node
  // -> network node).
  Status Apply(const Job& job, const Allocation& a, const IdVector<NodeId, NodeId>& global, ModelMask eligible,
               int sign);

 private:
  const Network& net_;
  IdVector<NodeId, int64_t> cpu_, mem_;
  std::vector<uint32_t> off_;  // by node (value()), and one past the last: its devices in dev_
  std::vector<int32_t> dev_;
};

class Accounts {
 public:
  Accounts(const Workload& workload, const Network& network, const Catalog& catalog, const SimOptions& options,
           const NetworkScheduler& net, SimResult* res);

  // Brings the utilisation windows up to t (samples each window it closes).
  void Advance(Time t);
  // A run starts (`local`: the allocation in its center's numbering).
  Status Started(JobId id, CenterId c, const Allocation& local, ModelMask eligible);
  // A run ends at t: off the ledger and the windows, metered, its lost work counted.
  Status Ended(JobId id, const RunEnd& e, Time t);
  // Writes the summary's utilisation, goodput and lost work, merges long
  // pool series, and the usage rows, per-center figures and busy hours.
  void Finish(SimSummary* s);
  Time last_t() const { return last_t_; }

 private:
  void Accrue(Time until);
  void Meter(JobId id, CenterId c, ModelId m, double devices, Time a, Time b);
  size_t SlotOf(CenterId c, ModelId m) const { return c.value() * nm_ + (m == kNoModel ? nm_ - 1 : m); }

  const Workload& workload_;
  const Network& network_;
  const Catalog& catalog_;
  const SimOptions& opt_;
  const NetworkScheduler& net_;
  SimResult* res_;
  Ledger ledger_;
  const size_t nc_, nm_;  // centers; models, plus one for CPU-only
  const Time t0_;         // the first arrival
  Duration step_ = 0;
  std::vector<double> capacity_;
  double total_capacity_ = 0;
  std::vector<double> busy_;      // milli-accelerators allocated now
  std::vector<double> win_;       // milli x µs in the current window
  std::vector<double> integral_;  // milli x µs in all
  double busy_total_ = 0, win_total_ = 0, integral_total_ = 0;
  IdVector<CenterId, uint32_t> running_in_;
  size_t running_ = 0;
  Time last_t_ = 0, window_ = 0;
  // Metering: per (tenant, center, model), and busy accelerator-seconds per
  // (center, model) and hour for the idle energy.
  std::unordered_map<uint64_t, UsageRow> usage_;
  std::vector<std::vector<double>> busy_hours_;
  double allocated_dev_s_ = 0, lost_dev_s_ = 0;
};

}  // namespace suanli
