// What `suanli replay` drives directly (replay/replay.h): trace jobs
// submitted as they are, passes and launches on a virtual clock, the next
// time something is due.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

#include "live/backend_simulated.h"
#include "live/control_impl.h"

namespace suanli::live::control_detail {

Result<int64_t> ControlPlaneImpl::SubmitTraceJob(const std::string& tenant, JobSpec spec, const Job& job) {
  if (!replay_) return FailedPrecondition("trace jobs are submitted to a replay only");
  JobRecord rec;
  rec.tenant = tenant;
  rec.spec = std::move(spec);
  rec.state = JobState::kPending;
  rec.submit_ms = WallOf(job.submit);
  SUANLI_ASSIGN_OR_RETURN(rec.id, store_->InsertJob(rec));
  const int64_t id = rec.id;
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    incoming_jobs_.emplace(rec.id, job);
    incoming_.push_back(std::move(rec));
  }
  std::lock_guard<std::mutex> lk(stats_mu_);
  ++stats_.submissions;
  return id;
}

void ControlPlaneImpl::Flush() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  ActOnCommitted();
}

int64_t ControlPlaneImpl::NextEventUs() {
  int64_t next = INT64_MAX;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!timers_.empty()) next = timers_.begin()->first;
    if (!wakes_.empty()) next = std::min(next, *wakes_.begin());
  }
  for (CenterRt& x : centers_) next = std::min(next, x.built->backend->NextEventUs());
  return next;
}

void ControlPlaneImpl::GiveUpHeld() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  PassWork w;
  {
    std::lock_guard<std::mutex> lk(mu_);
    const WallMs now = Step();
    net_->GiveUpHeld();
    ApplyDecisions(now, &w);
  }
  Commit(++pass_id_, &w, std::chrono::steady_clock::now());
  ActOnCommitted();
}

Status ControlPlaneImpl::SetCenterAway(CenterId c, bool away, Time at) {
  if (!replay_) return FailedPrecondition("centers are sent away in a replay only");
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  return SetSimulatedCenterAway(*centers_.at(c).built->backend, away, at);
}

}  // namespace suanli::live::control_detail
