// Inference services in the live control plane (docs/services.md): a
// service is its replicas, each a job of its own placed within the
// service's latency bound, run with no time limit, started again (after a
// backoff) when it ends, and scaled through the API.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>

#include "base/strings.h"
#include "live/control_impl.h"

namespace suanli::live::control_detail {

Status ControlPlaneImpl::CheckRegion(const JobSpec& spec) const {
  if (spec.region.empty()) return Status::Ok();
  auto r = network_.FindRegion(spec.region);
  if (!r) {
    std::vector<std::string> names;
    for (const Region& x : network_.regions) names.push_back(x.name);
    return InvalidField("region", "unknown region '{}' (regions of the server's network: {})", spec.region,
                        names.empty() ? "none" : Join(names, ", "));
  }
  if (spec.latency_ms <= 0) return Status::Ok();
  // Some center within the bound, or the replicas would wait for ever.
  double nearest = std::numeric_limits<double>::infinity();
  std::string at;
  for (const Center& c : network_.centers) {
    if (!spec.center.empty() && c.name != spec.center) continue;
    const double ms = RegionLatencyMs(network_.regions[*r], c);
    if (ms < nearest) {
      nearest = ms;
      at = c.name;
    }
  }
  if (nearest <= static_cast<double>(spec.latency_ms)) return Status::Ok();
  return InvalidField("latency_ms", "no center is within {} ms of region {} (the nearest: {}, {:.1f} ms)",
                      spec.latency_ms, spec.region, at.empty() ? "none" : at, nearest);
}

Result<std::vector<JobRecord>> ControlPlaneImpl::AddJobs(const std::string& tenant, const Tenant& t,
                                                         const JobRecord& rec, uint32_t n, int64_t service) {
  // Count and insert as one step for this tenant (other tenants go on).
  std::unique_lock<std::mutex> lk(TenantLock(tenant), std::defer_lock);
  if (t.max_active_jobs > 0) {
    lk.lock();
    SUANLI_ASSIGN_OR_RETURN(int64_t active, store_->ActiveJobs(tenant));
    if (active + n > t.max_active_jobs)
      return ResourceExhausted(
                 "max_active_jobs: tenant '{}' has {} pending or running job(s), its quota is {}; {} more would pass "
                 "it; wait for some to end",
                 tenant, active, t.max_active_jobs, n)
          .WithField("max_active_jobs");
  }
  std::vector<JobRecord> added;
  Status failed;
  for (uint32_t i = 0; i < n; ++i) {
    JobRecord r = rec;
    r.service = service;
    auto id = store_->InsertJob(r);
    if (!id.ok()) {
      failed = id.status();
      break;
    }
    r.id = *id;
    // A service's id is its first replica's (written with its next write).
    if (r.spec.replicas > 0 && service == 0) service = r.id;
    r.service = service;
    added.push_back(std::move(r));
  }
  if (!added.empty()) {
    {
      std::lock_guard<std::mutex> in(in_mu_);
      for (const JobRecord& r : added) incoming_.push_back(r);
      wake_ = true;
    }
    cv_.notify_one();
    std::lock_guard<std::mutex> st(stats_mu_);
    stats_.submissions += static_cast<int64_t>(added.size());
  }
  if (!failed.ok()) {
    if (added.empty()) return failed;
    return failed.Wrap(
        fmt::format("service {}: {} of {} replicas added (scale it to add the rest)", service, added.size(), n));
  }
  return added;
}

void ControlPlaneImpl::RestartReplica(Active& a, JobState state, WallMs ended_ms, std::string why, WallMs now,
                                      PassWork* w) {
  const CenterId c = CenterOf(a);
  if (PhaseOf(a) == NetPhase::kRunning) {
    auto r = net_->Finished(a.slot, t_);
    if (!r.ok()) spdlog::error("pass={} job={} {}", pass_id_, a.rec.id, r.status().message());
  }
  if (a.rec.start_ms.ms() > 0 && ended_ms < a.rec.start_ms) ended_ms = a.rec.start_ms;
  const std::string center = a.rec.center;
  EndAttempt(a, ended_ms, StateName(state), why);
  // Backoff: doubled for each run in a row that ended soon after it started
  // (a replica that fails at once is not restarted in a tight loop).
  int quick = 0;
  for (auto it = a.rec.attempts.rbegin(); it != a.rec.attempts.rend(); ++it) {
    if (it->outcome != "succeeded" && it->outcome != "failed") break;
    if (it->end_ms - it->start_ms >= kRestartResetS * 1000) break;
    ++quick;
  }
  const int64_t base = config_.restart_backoff_s;
  const int64_t delay_s = base <= 0 ? 0 : std::min(kMaxRestartBackoffS, base << std::clamp(quick - 1, 0, 10));
  if (a.queued_at != kNoCenter) centers_[a.queued_at].queued.erase(a.rec.id);
  if (c != kNoCenter) centers_[c].running.erase(a.rec.id);
  ClearRun(&a.rec);
  a.rec.state = JobState::kPending;
  const WallMs due = now + delay_s * 1000;
  // When it starts again, in the store too: a server started meanwhile
  // waits out the rest of the backoff (Recover).
  a.rec.est_start_ms = delay_s > 0 ? due : WallMs{};
  Event(a, "restarting",
        fmt::format("replica ended on {} ({}: {}); started again {}", center, StateName(state), why,
                    delay_s > 0 ? fmt::format("after {} s (backoff)", delay_s) : std::string("at once")),
        ended_ms);
  a.rec.reason = delay_s > 0 ? fmt::format("restarting at {} (backoff {} s): the replica ended ({}: {})", FormatMs(due),
                                           delay_s, StateName(state), why)
                             : fmt::format("restarting: the replica ended ({}: {})", StateName(state), why);
  spdlog::info("pass={} job={} service={} center={} replica ended ({}); restarts in {} s", pass_id_, a.rec.id,
               a.rec.service, center, StateName(state), delay_s);
  w->writes.push_back(a.rec);
  ++w->requeued;
  // Out of the network until it arrives again (TakeIncoming).
  JobRecord r = std::move(a.rec);
  const JobId slot = a.slot;
  active_.erase(r.id);
  net_->FreeJob(slot);
  by_slot_[slot] = 0;
  std::lock_guard<std::mutex> in(in_mu_);
  restarting_.emplace(due, std::move(r));
}

std::vector<JobRecord> ControlPlaneImpl::LiveReplicas(int64_t service) {
  std::vector<JobRecord> out;
  auto of = [service](const JobRecord& r) { return service == 0 ? r.service > 0 : r.service == service; };
  for (const auto& [id, a] : active_)
    if (of(a.rec) && !a.cancel_requested) out.push_back(a.rec);
  {
    std::lock_guard<std::mutex> in(in_mu_);
    for (const JobRecord& r : incoming_)
      if (of(r)) out.push_back(r);
    for (const auto& [due, r] : restarting_)
      if (of(r)) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& x, const JobRecord& y) { return x.id < y.id; });
  return out;
}

Result<std::vector<JobRecord>> ControlPlaneImpl::Replicas(const Caller& caller, int64_t id) {
  std::vector<JobRecord> live;
  {
    std::lock_guard<std::mutex> lk(mu_);
    live = LiveReplicas(id);
  }
  if (!live.empty()) {
    if (!caller.admin && live.front().tenant != caller.tenant) return NotFound("service {} not found", id);
    return live;
  }
  // Scaled to none, or every replica cancelled: the service is its first
  // replica's record.
  SUANLI_ASSIGN_OR_RETURN(auto rec, store_->GetJob(id));
  if (!rec || rec->service != id || (!caller.admin && rec->tenant != caller.tenant))
    return NotFound("service {} not found", id);
  return live;
}

std::vector<std::pair<int64_t, std::vector<JobRecord>>> ControlPlaneImpl::Services(const Caller& caller) {
  std::vector<JobRecord> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    all = LiveReplicas(0);
  }
  std::map<int64_t, std::vector<JobRecord>> by;
  for (JobRecord& r : all)
    if (caller.admin || r.tenant == caller.tenant) by[r.service].push_back(std::move(r));
  return {std::make_move_iterator(by.begin()), std::make_move_iterator(by.end())};
}

Result<std::vector<JobRecord>> ControlPlaneImpl::Scale(const Caller& caller, int64_t id, uint32_t replicas) {
  if (replicas > kMaxReplicas) return InvalidField("replicas", "must be 0..{}, got {}", kMaxReplicas, replicas);
  std::lock_guard<std::mutex> one(scale_mu_);
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> live, Replicas(caller, id));
  const size_t now_n = live.size();
  const std::string who = caller.tenant.empty() ? "admin" : caller.tenant;
  if (replicas > now_n) {
    JobRecord tmpl;
    if (!live.empty()) {
      tmpl = live.front();
    } else {
      SUANLI_ASSIGN_OR_RETURN(auto first, store_->GetJob(id));
      if (!first) return NotFound("service {} not found", id);
      tmpl = *first;
    }
    JobRecord rec;
    rec.tenant = tmpl.tenant;
    rec.spec = tmpl.spec;
    rec.spec.replicas = replicas;
    // The network or the catalog may have changed since it was submitted.
    SUANLI_RETURN_IF_ERROR(ValidateSpec(rec.spec, catalog_, &center_names_));
    SUANLI_RETURN_IF_ERROR(CheckAdmission(rec.spec));
    SUANLI_RETURN_IF_ERROR(CheckRegion(rec.spec));
    rec.state = JobState::kPending;
    rec.submit_ms = Now();
    rec.reason = kNextPass;
    rec.events.push_back(
        {rec.submit_ms, "submitted",
         fmt::format("added by {}: service {} scaled from {} to {} replicas", who, id, now_n, replicas)});
    SUANLI_RETURN_IF_ERROR(
        AddJobs(rec.tenant, TenantInfo(rec.tenant), rec, static_cast<uint32_t>(replicas - now_n), id).status());
  } else {
    // The newest go first.
    for (size_t i = now_n; i-- > replicas;) {
      auto r = Cancel(caller, live[i].id);
      if (!r.ok() && r.status().code() != StatusCode::kFailedPrecondition) return r.status();
    }
  }
  spdlog::info("service={} scaled from {} to {} replicas by {}", id, now_n, replicas, who);
  return Replicas(caller, id);
}

}  // namespace suanli::live::control_detail
