// The queue orders. Each: assumptions, order, complexity, ties.
//
// fifo  — first come, first served: key = submit time. Static; O(log n) per
//         insert. Ties by job id.
// sjf   — shortest job first with oracle run time: key = the job's work in
//         reference seconds (what it would take on the reference card). Assumes
//         the true run time is known (the simulator's oracle). Static, non-preemptive.
// srtf  — shortest remaining time first: key = work left now (reference seconds).
//         Preemptive: a waiting job may stop a running job with more work left.
// las   — Tiresias' discretised two-dimensional least-attained-service: a job's
//         attained service is accelerators × seconds run so far; thresholds
//         (1 and 10 accelerator-hours by default) split jobs into queues; lower
//         queue first, FIFO (by submit) inside a queue. Preemptive: a job that
//         crosses a threshold may be stopped for jobs in a higher queue. A job
//         that has waited longer than `starve_factor` × its last run time (and at
//         least one threshold's worth) is promoted to the top queue (Tiresias'
//         starvation knob). Needs no run-time knowledge.
// qssf  — Helios-like quasi-shortest-service-first: at submit, predict the job's
//         run time from its user's history (mean of the user's last 16 finished
//         jobs with the same accelerator count, else of all the user's jobs, else
//         of all jobs, else 1 hour) and order by predicted run time × accelerators.
//         Static, non-preemptive. Learns online from jobs as they finish.
// drf   — dominant resource fairness across tenants: progressive filling; the
//         tenant with the smallest dominant share (max over accelerators, CPU and
//         memory of its running usage / cluster capacity) gets its next job (FIFO
//         inside a tenant), then its share is raised by that job's demand.
//         Dynamic; O(n log t) per pass for n jobs and t tenants.
#pragma once

#include <array>
#include <deque>
#include <unordered_map>

#include "core/policy/order/order.h"

namespace suanli {

class FifoOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "fifo"; }
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
};

class SjfOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "sjf"; }
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
};

class SrtfOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "srtf"; }
  bool preemptive() const override { return true; }
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
};

class LasOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "las"; }
  bool preemptive() const override { return true; }
  bool dynamic() const override { return true; }  // starvation promotion changes waiting keys
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
  Time NextKeyChange(JobId id, const OrderContext& ctx) const override;
  int QueueOf(double attained) const;

  std::vector<double> thresholds{3600.0, 36000.0};  // accelerator-seconds
  double starve_factor = 10.0;
};

class QssfOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "qssf"; }
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
  void OnSubmit(JobId id, const OrderContext& ctx) override;
  void OnStop(JobId id, bool finished, const OrderContext& ctx) override;
  double Predicted(JobId id) const { return predicted_.contains(id) ? predicted_[id] : 0; }

 private:
  struct History {
    std::deque<double> last;  // most recent run times (reference seconds)
    double Mean() const;
  };
  static constexpr size_t kWindow = 16;
  std::unordered_map<uint64_t, History> by_user_gpus_;
  std::unordered_map<uint32_t, History> by_user_;
  double global_sum_ = 0;
  uint64_t global_n_ = 0;
  IdVector<JobId, double> predicted_;
};

class DrfOrder : public OrderPolicy {
 public:
  std::string_view name() const override { return "drf"; }
  bool dynamic() const override { return true; }
  OrderKey OwnKey(JobId id, const OrderContext& ctx) const override;
  void Sort(std::vector<JobId>* jobs, const OrderContext& ctx) const override;
  void OnStart(JobId id, const OrderContext& ctx) override;
  void OnStop(JobId id, bool finished, const OrderContext& ctx) override;
  double DominantShare(TenantId tenant, const OrderContext& ctx) const;

 private:
  struct Usage {
    double gpu = 0, cpu = 0, mem = 0;
  };
  void Capacity(const OrderContext& ctx) const;
  // DRF over the jobs of one priority tier, in place.
  void SortTier(JobId* begin, JobId* end, const OrderContext& ctx) const;
  IdVector<TenantId, Usage> usage_;
  mutable std::array<double, 3> capacity_{0, 0, 0};
};

}  // namespace suanli
