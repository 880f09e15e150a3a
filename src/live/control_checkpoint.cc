// Checkpoints in the live control plane (docs/checkpoints.md): the notice a
// checkpointing job gets before its scheduler stops it, the checkpoints it
// reports (its checkpoint mark, or the API), and the work they keep, which
// the network scheduler credits when its run ends.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "live/control_impl.h"
#include "live/job_env.h"

namespace suanli::live::control_detail {

std::optional<StopNotice> ControlPlaneImpl::NoticeFor(const Active& a) const {
  const JobSpec& s = a.rec.spec;
  if (s.checkpoint_s <= 0 || s.grace_s <= 0) return std::nullopt;
  return StopNotice{.signal = s.stop_signal, .grace_s = s.grace_s};
}

bool ControlPlaneImpl::RefreshCheckpoint(Active& a, WallMs now) {
  JobRecord& r = a.rec;
  if (r.start_ms.ms() <= 0) return false;
  // The job owns the file: a link is not followed, and its time counts only
  // inside the current run (a mark of an earlier run, or one dated ahead,
  // says nothing of this one).
  const std::optional<int64_t> mark = CheckpointMarkMs(JobDir(r.id));
  if (!mark) return false;
  const WallMs at(*mark);
  if (at < r.start_ms || at <= r.checkpoint_ms) return false;
  r.checkpoint_ms = std::min(at, now);
  Event(a, "checkpointed", fmt::format("at {} (its checkpoint mark, {})", FormatMs(r.checkpoint_ms), kCheckpointMark),
        r.checkpoint_ms);
  return true;
}

std::optional<Duration> ControlPlaneImpl::KeptOfRun(Active& a, CenterId c, WallMs ended_ms) {
  if (a.known_work || c == kNoCenter || centers_[c].built->kind == "simulated") return std::nullopt;
  RefreshCheckpoint(a, ended_ms);
  const JobRecord& r = a.rec;
  if (r.start_ms.ms() <= 0 || r.checkpoint_ms <= r.start_ms) return Duration{0};
  return (std::min(r.checkpoint_ms, ended_ms).ms() - r.start_ms.ms()) * kMilli;
}

void ControlPlaneImpl::RefreshCheckpoints(WallMs now, PassWork* w) {
  for (CenterRt& x : centers_) {
    if (x.built->kind == "simulated") continue;  // its runs have no files
    for (int64_t id : x.running) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Active& a = it->second;
      if (a.rec.state != JobState::kRunning || PhaseOf(a) != NetPhase::kRunning) continue;
      if (RefreshCheckpoint(a, now) || a.checkpoint_reported) {
        a.checkpoint_reported = false;
        spdlog::info("pass={} job={} checkpointed at {}", pass_id_, id, FormatMs(a.rec.checkpoint_ms));
        w->writes.push_back(a.rec);
      }
    }
  }
}

Result<JobRecord> ControlPlaneImpl::ReportCheckpoint(const Caller& caller, int64_t id) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      Active& a = it->second;
      if (!caller.admin && a.rec.tenant != caller.tenant) return NotFound("job {} not found", id);
      if (a.rec.state != JobState::kRunning || PhaseOf(a) != NetPhase::kRunning)
        return FailedPrecondition(fmt::format("job {} is not running: it has no run to checkpoint", id));
      a.rec.checkpoint_ms = std::max(a.rec.checkpoint_ms, Now());
      Event(a, "checkpointed",
            fmt::format("at {} (reported through the API by {})", FormatMs(a.rec.checkpoint_ms),
                        caller.tenant.empty() ? "the admin" : caller.tenant),
            a.rec.checkpoint_ms);
      a.checkpoint_reported = true;  // written at the next pass
      return a.rec;
    }
  }
  SUANLI_ASSIGN_OR_RETURN(JobRecord rec, Get(caller, id));
  return FailedPrecondition(fmt::format("job {} is {}: it has no run to checkpoint", id, StateName(rec.state)));
}

}  // namespace suanli::live::control_detail
