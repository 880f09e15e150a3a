// The live control plane's recovery at start: active jobs are loaded from
// the store; running ones are adopted again from their backends, pending
// ones dispatched again.
#include <spdlog/spdlog.h>

#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace fs = std::filesystem;

Status ControlPlaneImpl::Recover() {
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->LoadActive());
  std::vector<JobRecord> failed;
  PassWork w;
  int adopted = 0, requeued = 0, restarting = 0;
  std::vector<JobId> pending;
  std::lock_guard<std::mutex> lk(mu_);
  const WallMs now = Step();
  for (const JobRecord& rec : jobs) {
    // Pending and not sent anywhere yet (no node): dispatched again. One
    // with a node was launched to a center that queues it (or was being
    // launched): followed there as a run.
    if (rec.state == JobState::kPending && rec.node.empty()) {
      // A service's replica waiting out its backoff (RestartReplica): it
      // waits the rest, then arrives (TakeIncoming).
      if (rec.service > 0 && !rec.events.empty() && rec.events.back().kind == "restarting" && rec.est_start_ms > now) {
        std::lock_guard<std::mutex> in(in_mu_);
        restarting_.emplace(rec.est_start_ms, rec);
        ++restarting;
        continue;
      }
      if (std::string gone = DatasetGone(rec); !gone.empty()) {
        JobRecord r = rec;
        r.state = JobState::kFailed;
        r.end_ms = now;
        r.reason = std::move(gone);
        failed.push_back(std::move(r));
        continue;
      }
      Active& a = AddActive(rec);
      a.rec.center.clear();
      a.rec.est_start_ms = WallMs{};
      pending.push_back(a.slot);
      ++requeued;
      continue;
    }
    // Running: follow it again where it runs.
    auto c = FindCenter(rec.center);
    if (!c) {
      JobRecord r = rec;
      r.state = JobState::kFailed;
      r.end_ms = now;
      r.reason = fmt::format("its center '{}' is no longer configured; its run could not be followed", rec.center);
      failed.push_back(std::move(r));
      continue;
    }
    Active& a = AddActive(rec);
    CenterRt& x = centers_[*c];
    x.running.insert(rec.id);
    const Time started = CoreTime(rec.start_ms.ms() > 0 ? rec.start_ms : now);
    auto alloc = AllocationFromRecord(rec, *c);
    const bool counted = net_->Adopt(a.slot, *c, alloc ? &*alloc : nullptr, started, t_);
    if (x.has_nodes) {
      if (!counted)
        spdlog::warn(
            "job={} center={} node={} its recorded placement does not fit the center any more; it is "
            "followed but not counted by the center's scheduler",
            rec.id, rec.center, rec.node);
    }
    Status st = x.built->backend->Adopt(RequestFor(rec), rec.backend_id);
    a.adopted = st.ok();
    ++adopted;
    if (!st.ok()) AdoptFailed(a, st, now, &w);
  }
  // Dispatched once the runs are counted where they run.
  for (JobId slot : pending) net_->Arrive(slot, t_);
  ApplyDecisions(now, &w);
  for (JobRecord& r : w.writes) failed.push_back(std::move(r));
  for (const auto& r : store_->UpdateJobs(failed))
    if (!r.ok()) return r.Wrap("recovery");
  spdlog::info(
      "recovered: {} running job(s) re-adopted, {} pending job(s) queued again, {} service replica(s) waiting out "
      "their backoff, {} failed",
      adopted, requeued, restarting, failed.size());
  return Status::Ok();
}

// A running job its backend would not adopt (mu_ held). Without a backend id
// (the server stopped between recording its start and recording the launch's
// id) it either never started — no trace in its job directory, or a simulated
// run: queued again — or it cannot be followed and fails, naming why, rather
// than run twice. With a malformed id it fails; other errors (the center does
// not answer) are retried every pass.
void ControlPlaneImpl::AdoptFailed(Active& a, const Status& st, WallMs now, PassWork* w) {
  CenterRt& x = centers_[CenterOf(a)];
  const bool no_id = a.rec.backend_id.empty();
  if (!no_id && st.code() != StatusCode::kInvalidArgument) {
    spdlog::warn("pass={} job={} center={} backend could not adopt it yet ({}); retried every pass", pass_id_, a.rec.id,
                 x.built->name, st.message());
    return;
  }
  if (no_id) {
    std::error_code ec;
    const bool traces =
        x.built->kind != "simulated" && fs::exists(JobDir(a.rec.id), ec) && !fs::is_empty(JobDir(a.rec.id), ec);
    if (!traces) {
      Requeue(a, now, "the server stopped before launching it; queued again", false, w);
      return;
    }
  }
  EndRun(a, JobState::kFailed, now,
         no_id ? fmt::format("the server stopped while launching it on {}; its run cannot be followed (see its logs)",
                             x.built->name)
               : fmt::format("its run on {} cannot be followed: {}", x.built->name, st.message()),
         w);
}

}  // namespace suanli::live::control_detail
