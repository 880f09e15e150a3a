// The center scheduler's answer to "why does this job wait?" (scheduler.h):
// asked of one job at a time, by the live plane for its pending jobs, from
// the state and the last pass's reservation; it changes nothing.
#include <fmt/format.h>

#include "core/scheduler/scheduler.h"

namespace suanli {

namespace {

// "8 accelerators of A100 or H800", "0.25 of an accelerator of any model", "4 cores and 8192 MiB".
std::string Demand(const Job& job, ModelMask eligible, const Catalog& catalog) {
  if (job.num_gpus == 0) return fmt::format("{:g} cores and {} MiB", job.cpu_milli / 1000.0, job.mem_mib);
  std::string models;
  int n = 0;
  for (size_t m = 0; m < catalog.size(); ++m) {
    if (!(eligible >> m & 1)) continue;
    if (n++ > 0) models += " or ";
    models += catalog.model(static_cast<ModelId>(m)).name;
  }
  if (n == 0 || eligible == (catalog.size() >= 64 ? ~ModelMask{0} : (ModelMask{1} << catalog.size()) - 1))
    models = "any model";
  if (job.IsShared()) return fmt::format("{:g} of an accelerator of {}", job.gpu_milli / 1000.0, models);
  return fmt::format("{} accelerator{} of {}", job.num_gpus, job.num_gpus == 1 ? "" : "s", models);
}

}  // namespace

std::string Scheduler::WhyWaiting(JobId id, Time now, Rng& rng) {
  (void)now;
  if (!rt_.contains(id) || rt_[id].state != JobState::kPending) return "";
  const Job& job = workload_.jobs[id];
  if (!QuotaAdmits(id)) {
    const TenantUsage& u = quota_->tenant(job.tenant);
    return fmt::format(
        "over quota: its tenant holds {:g} accelerators here, guaranteed {:g}{}; {:g} more would be beyond what it "
        "may hold now",
        u.used / 1000.0, u.nominal / 1000.0,
        u.borrowing_limit < 0 ? ", may borrow what others leave unused"
                              : fmt::format(", may borrow {:g}", u.borrowing_limit / 1000.0),
        job.GpuMilli() / 1000.0);
  }
  // Cheap answers first: not enough free accelerators in all, or a request
  // the last pass's failure memo rules out (it did not fit then); a
  // placement trial only when neither tells.
  bool fits = !(job.GpuMilli() > 0 && state_.total_free_milli() < job.GpuMilli());
  if (fits && shape_of_.contains(id) && Dominated(failures_, id)) fits = false;
  if (fits) {
    trial_ = true;  // a trial (PlacementRequest::observe)
    fits = TryPlace(id, rng).has_value();
    trial_ = false;
  }
  if (!fits) {
    return fmt::format("waiting for resources: {} on {}; not free now",
                       Demand(job, EligibleModels(job, catalog_, workload_), catalog_),
                       job.Spread() ? fmt::format("{} nodes", job.nodes)
                       : job.num_gpus > 1 && (!opt_.allow_multi_node || job.nodes == 1) ? std::string("one node")
                                                                                        : std::string("its nodes"));
  }
  if (reservation_ && reservation_->job != id && rt_.contains(reservation_->job) &&
      rt_[reservation_->job].state == JobState::kPending)
    return "behind a reservation: it would delay the job at the head of the queue, reserved to start first";
  if (spec_.backfill == BackfillMode::kNone)
    return "behind the jobs ahead of it in the queue (strict order, no backfill)";
  return "about to start: it fits now and starts at the next pass";
}

}  // namespace suanli
