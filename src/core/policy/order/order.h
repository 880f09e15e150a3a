// Queue order policies: which pending job goes first.
//
// A policy gives every job a key; smaller keys go first, ties by job id
// (submission order). Static policies (key fixed while a job waits) let the
// scheduler keep the queue sorted incrementally; dynamic ones are re-sorted
// at every pass. Preemptive policies may stop running jobs whose key is
// worse than a waiting job's.
//
// Priority tiers. A job's `priority` (larger = more important) ranks above
// every policy's own key: all jobs of a higher priority go before any job of
// a lower one, and within one priority the policy's key decides. Under a
// preemptive order (srtf, las) a waiting job may therefore preempt a running
// job of a lower priority, as it may one with a worse key of its own
// priority; under a non-preemptive order nothing is preempted, whatever the
// priorities (docs/policies.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/scheduler/job_runtime.h"

namespace suanli {

struct OrderKey {
  double primary = 0;
  double secondary = 0;
  int64_t tier = 0;  // minus the job's priority: compared first
  bool operator<(const OrderKey& o) const {
    if (tier != o.tier) return tier < o.tier;
    return primary < o.primary || (primary == o.primary && secondary < o.secondary);
  }
  bool operator==(const OrderKey& o) const {
    return tier == o.tier && primary == o.primary && secondary == o.secondary;
  }
};

// What a policy may look at.
struct OrderContext {
  Time now = 0;
  const Workload* workload = nullptr;
  const Catalog* catalog = nullptr;
  const Network* network = nullptr;
  const IdVector<JobId, JobRuntime>* runtime = nullptr;
  const Job& job(JobId id) const { return workload->jobs[id]; }
  const JobRuntime& rt(JobId id) const { return (*runtime)[id]; }
  // Attained accelerator-seconds up to now (including the current run).
  double Attained(JobId id) const;
  // Reference-seconds of work left now (truth).
  double Remaining(JobId id) const;
};

class OrderPolicy {
 public:
  virtual ~OrderPolicy() = default;
  virtual std::string_view name() const = 0;
  virtual bool preemptive() const { return false; }
  virtual bool dynamic() const { return false; }
  // The job's rank: its priority tier, then the policy's own key.
  OrderKey Key(JobId id, const OrderContext& ctx) const {
    OrderKey k = OwnKey(id, ctx);
    k.tier = -int64_t{ctx.job(id).priority};
    return k;
  }
  // The policy's own key, within one priority tier.
  virtual OrderKey OwnKey(JobId id, const OrderContext& ctx) const = 0;
  // Orders the pending jobs by Key; DRF overrides it (keeping the tiers).
  virtual void Sort(std::vector<JobId>* jobs, const OrderContext& ctx) const;
  // The next time a running job's key changes on its own (LAS thresholds); kNever if none.
  virtual Time NextKeyChange(JobId id, const OrderContext& ctx) const {
    (void)id;
    (void)ctx;
    return kNever;
  }
  // Life-cycle hooks for policies that keep history or usage.
  virtual void OnSubmit(JobId id, const OrderContext& ctx) { (void)id, (void)ctx; }
  virtual void OnStart(JobId id, const OrderContext& ctx) { (void)id, (void)ctx; }
  virtual void OnStop(JobId id, bool finished, const OrderContext& ctx) { (void)id, (void)finished, (void)ctx; }
};

struct OrderInfo {
  std::string name;
  std::string summary;
  std::unique_ptr<OrderPolicy> (*make)();
};
const std::vector<OrderInfo>& OrderPolicies();
std::unique_ptr<OrderPolicy> MakeOrderPolicy(std::string_view name);

}  // namespace suanli
