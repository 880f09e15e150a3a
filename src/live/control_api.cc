// The live control plane's API-facing operations: authentication, submit,
// get, list, cancel, logs, tenants, usage and figures. They take the loop's
// state only under its locks (control_impl.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <tuple>

#include "base/strings.h"
#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ the API

std::optional<Caller> ControlPlaneImpl::Authenticate(const std::string& bearer_token) {
  if (bearer_token.empty() || bearer_token.size() > 1024) return std::nullopt;
  const std::string hash = Sha256Hex(bearer_token);
  {
    std::lock_guard<std::mutex> lk(auth_mu_);
    if (auto it = token_cache_.find(hash); it != token_cache_.end()) return it->second;
  }
  auto t = store_->TenantByTokenHash(hash);
  if (!t.ok()) {
    spdlog::error("store: token lookup: {}", t.status().message());
    return std::nullopt;
  }
  if (!*t) return std::nullopt;
  Caller c{(*t)->name, (*t)->admin};
  std::lock_guard<std::mutex> lk(auth_mu_);
  if (token_cache_.size() > 100'000) token_cache_.clear();
  token_cache_[hash] = c;
  tenant_cache_[(*t)->name] = **t;
  return c;
}

Tenant ControlPlaneImpl::TenantInfo(const std::string& name) {
  {
    std::lock_guard<std::mutex> lk(auth_mu_);
    if (auto it = tenant_cache_.find(name); it != tenant_cache_.end()) return it->second;
  }
  Tenant t;
  t.name = name;
  auto r = store_->GetTenant(name);
  if (r.ok() && *r) t = **r;
  std::lock_guard<std::mutex> lk(auth_mu_);
  tenant_cache_[name] = t;
  return t;
}

std::mutex& ControlPlaneImpl::TenantLock(const std::string& tenant) {
  std::lock_guard<std::mutex> lk(tenant_locks_mu_);
  auto& m = tenant_locks_[tenant];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status ControlPlaneImpl::CheckAdmission(const JobSpec& spec) const {
  const Job j = CoreJob(spec, catalog_, TenantId{0}, 0);
  std::vector<std::string> reasons;
  std::lock_guard<std::mutex> lk(admit_mu_);
  if (spec.gpus > 0) {
    bool any = false;
    for (const CenterRt& x : centers_) any = any || x.devices > 0;
    if (!any)
      return InvalidField("gpus",
                          "asks for {} accelerator(s) but no center has any (centers: {}); submit it with gpus 0 to "
                          "run on CPU slots",
                          spec.gpus.ToString(), Join(center_names_, ", "));
  }
  for (CenterId c : centers_.ids()) {
    const CenterRt& x = centers_[c];
    if (!spec.center.empty() && x.built->name != spec.center) continue;
    if (!x.admit) {
      reasons.push_back(fmt::format("{}: it has no nodes", x.built->name));
      continue;
    }
    std::string why = x.admit->WhyNever(j);
    if (why.empty()) return Status::Ok();
    reasons.push_back(fmt::format("{}: {}", x.built->name, why));
  }
  return InvalidField(spec.gpus > 0 ? "gpus" : "cpu_milli", "no center can ever run this job ({})",
                      Join(reasons, "; "));
}

Result<JobRecord> ControlPlaneImpl::Submit(const Caller& caller, JobSpec spec) {
  if (spec.workload_class.empty()) spec.workload_class = "other";
  SUANLI_RETURN_IF_ERROR(ValidateSpec(spec, catalog_, &center_names_));
  const Tenant t = TenantInfo(caller.tenant);
  if (t.max_gpus_per_job > 0 && spec.gpus.value() > static_cast<double>(t.max_gpus_per_job))
    return ResourceExhausted("gpus: {} asked, but tenant '{}' may ask for at most {} per job (max_gpus_per_job)",
                             spec.gpus.ToString(), caller.tenant, t.max_gpus_per_job)
        .WithField("gpus");
  if (!caller.admin && spec.priority > t.max_priority)
    return PermissionDenied(
        "priority: {} asked, but tenant '{}' may ask for at most {} (max_priority, set by the admin)", spec.priority,
        caller.tenant, t.max_priority);
  SUANLI_RETURN_IF_ERROR(CheckAdmission(spec));
  const WallMs now = Now();
  if (auto d = ParseRfc3339(spec.deadline); d && *d <= now)
    return InvalidField("deadline", "{} has passed (it is {} now)", spec.deadline, FormatMs(now));
  if (!spec.dataset.empty() && !FindDataset(caller.tenant, spec.dataset))
    return InvalidField("dataset", "no dataset '{}' is registered for tenant {} (suanli datasets add)", spec.dataset,
                        caller.tenant);
  SUANLI_RETURN_IF_ERROR(CheckRegion(spec));
  JobRecord rec;
  rec.tenant = caller.tenant;
  rec.spec = std::move(spec);
  rec.state = JobState::kPending;
  rec.submit_ms = now;
  rec.reason = kNextPass;
  const uint32_t n = std::max<uint32_t>(1, rec.spec.replicas);
  rec.events.push_back({rec.submit_ms, "submitted",
                        rec.spec.replicas > 0
                            ? fmt::format("submitted by {}: a service of {} replicas", caller.tenant, rec.spec.replicas)
                            : fmt::format("submitted by {}", caller.tenant)});
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> added, AddJobs(caller.tenant, t, rec, n, 0));
  return added.front();
}

Result<JobRecord> ControlPlaneImpl::Get(const Caller& caller, int64_t id) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = active_.find(id); it != active_.end()) {
      if (!caller.admin && it->second.rec.tenant != caller.tenant) return NotFound("job {} not found", id);
      return it->second.rec;
    }
  }
  SUANLI_ASSIGN_OR_RETURN(auto rec, store_->GetJob(id));
  if (!rec || (!caller.admin && rec->tenant != caller.tenant)) return NotFound("job {} not found", id);
  return *rec;
}

Result<std::vector<JobRecord>> ControlPlaneImpl::List(const Caller& caller, JobFilter filter) {
  if (!caller.admin) filter.tenant = caller.tenant;
  filter.limit = std::clamp(filter.limit, 1, 10'000);
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->ListJobs(filter));
  std::lock_guard<std::mutex> lk(mu_);
  for (JobRecord& r : jobs) {
    if (IsTerminal(r.state)) continue;
    auto it = active_.find(r.id);
    if (it == active_.end()) continue;
    r.est_start_ms = it->second.rec.est_start_ms;
    if (r.state == JobState::kPending) {
      r.center = it->second.rec.center;
      r.model = it->second.rec.model;
      r.reason = it->second.rec.reason;
    }
  }
  if (!filter.center.empty()) AddQueuedAt(filter, &jobs);
  return jobs;
}

// The center a pending job waits at is the control loop's (the store records
// a job's center when it starts): a listing by center takes its pending jobs
// from memory, newest first as the store's, within the same limit.
void ControlPlaneImpl::AddQueuedAt(const JobFilter& filter, std::vector<JobRecord>* jobs) {
  const bool pending_asked = filter.states.empty() || std::find(filter.states.begin(), filter.states.end(),
                                                                JobState::kPending) != filter.states.end();
  std::erase_if(*jobs, [&](const JobRecord& r) { return r.state == JobState::kPending && r.center != filter.center; });
  if (!pending_asked) return;
  std::unordered_set<int64_t> listed;
  for (const JobRecord& r : *jobs) listed.insert(r.id);
  for (const auto& [id, a] : active_) {
    const JobRecord& r = a.rec;
    if (r.state != JobState::kPending || r.center != filter.center || listed.count(id)) continue;
    if (!filter.tenant.empty() && r.tenant != filter.tenant) continue;
    if (filter.before_id > 0 && id >= filter.before_id) continue;
    jobs->push_back(r);
  }
  std::sort(jobs->begin(), jobs->end(), [](const JobRecord& x, const JobRecord& y) { return x.id > y.id; });
  if (jobs->size() > static_cast<size_t>(filter.limit)) jobs->resize(static_cast<size_t>(filter.limit));
}

Result<JobRecord> ControlPlaneImpl::Cancel(const Caller& caller, int64_t id) {
  // A job found neither in memory nor finished in the store is between the
  // two (ending in the pass now running): look again after the pass.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = CancelOnce(caller, id);
    if (r.ok() || r.status().kind() != kInTransitKind) return r;
    std::lock_guard<std::mutex> wait_pass(pass_mu_);
    WaitForStore();
  }
  return Unavailable("job {} is changing state; try again", id);
}

Result<JobRecord> ControlPlaneImpl::CancelOnce(const Caller& caller, int64_t id) {
  const std::string who = caller.tenant.empty() ? "admin" : caller.tenant;
  JobRecord done;
  bool from_incoming = false;
  {
    std::unique_lock<std::mutex> lk(mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      Active& a = it->second;
      if (!caller.admin && a.rec.tenant != caller.tenant) return NotFound("job {} not found", id);
      if (Running(a)) {
        if (!a.cancel_requested) {
          a.cancel_requested = true;
          a.cancelled_by = who;
          a.rec.reason = fmt::format("cancel requested by {}", who);
        }
        JobRecord r = a.rec;
        lk.unlock();
        Wake();
        return r;
      }
      // Pending: out of the network scheduler and cancelled now.
      Step();
      net_->Withdraw(a.slot, t_);
      if (a.queued_at != kNoCenter) centers_[a.queued_at].queued.erase(id);
      done = std::move(a.rec);
      const JobId slot = a.slot;
      active_.erase(it);
      net_->FreeJob(slot);
      by_slot_[slot] = 0;
    } else {
      std::lock_guard<std::mutex> in(in_mu_);
      auto q = std::find_if(incoming_.begin(), incoming_.end(), [&](const JobRecord& r) { return r.id == id; });
      if (q != incoming_.end()) {
        if (!caller.admin && q->tenant != caller.tenant) return NotFound("job {} not found", id);
        done = std::move(*q);
        incoming_.erase(q);
        from_incoming = true;
      }
      auto rs = std::find_if(restarting_.begin(), restarting_.end(), [&](const auto& e) { return e.second.id == id; });
      if (done.id == 0 && rs != restarting_.end()) {  // a service's replica waiting to be started again
        if (!caller.admin && rs->second.tenant != caller.tenant) return NotFound("job {} not found", id);
        done = std::move(rs->second);
        restarting_.erase(rs);
        from_incoming = true;
      }
    }
  }
  if (done.id == 0) {
    SUANLI_ASSIGN_OR_RETURN(auto rec, store_->GetJob(id));
    if (!rec || (!caller.admin && rec->tenant != caller.tenant)) return NotFound("job {} not found", id);
    if (IsTerminal(rec->state))
      return FailedPrecondition(fmt::format("job {} has already ended ({})", id, StateName(rec->state)));
    return Unavailable("{}", kInTransit).WithKind(kInTransitKind);
  }
  JobRecord r = done;
  r.state = JobState::kCancelled;
  r.end_ms = Now();
  r.est_start_ms = WallMs{};
  r.reason = r.attempts.empty() ? fmt::format("cancelled by {} before it started", who)
                                : fmt::format("cancelled by {} before it started again", who);
  // Through the store stage, after any write of this job a pass handed over
  // before (a requeue's, say): the cancellation is the job's last write.
  std::promise<Status> written;
  std::future<Status> wait = written.get_future();
  ToStore([&] { written.set_value(store_->UpdateJob(r)); });
  Status st = wait.get();
  if (!st.ok()) {
    // Not on disk: it stays pending.
    std::lock_guard<std::mutex> lk(mu_);
    if (from_incoming) {
      std::lock_guard<std::mutex> in(in_mu_);
      incoming_.push_back(done);
    } else {
      Active& a = AddActive(done);
      const WallMs now = Step();
      net_->Arrive(a.slot, t_);
      PassWork w;
      ApplyDecisions(now, &w);
      if (!w.writes.empty()) {
        ToStore([this, recs = std::move(w.writes)] { (void)store_->UpdateJobs(recs); });
      }
    }
    Wake();
    return Unavailable("job {}: the store could not record the cancellation: {}", id, st.message());
  }
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.cancellations;
  }
  spdlog::info("job={} tenant={} cancelled before it started by {}", id, r.tenant, who);
  Wake();
  return r;
}

Result<std::string> ControlPlaneImpl::LogPath(const Caller& caller, int64_t id, const std::string& stream) {
  if (stream != "stdout" && stream != "stderr")
    return InvalidField("stream", "must be stdout or stderr, got '{}'", stream.substr(0, 40));
  SUANLI_ASSIGN_OR_RETURN(JobRecord rec, Get(caller, id));
  return (fs::path(JobDir(rec.id)) / stream).string();
}

Result<NewTenant> ControlPlaneImpl::CreateTenant(const Caller& caller, Tenant t) {
  if (!caller.admin) return PermissionDenied("creating tenants is for the admin");
  if (!ValidTenantName(t.name))
    return InvalidField("name", "'{}' is not a tenant name (a lowercase letter, then up to 39 of a-z, 0-9, '_', '-')",
                        t.name.substr(0, 60));
  if (t.max_gpus_per_job < 0) return InvalidField("max_gpus_per_job", "must be >= 0 (0 = unlimited)");
  if (t.max_active_jobs < 0) return InvalidField("max_active_jobs", "must be >= 0 (0 = unlimited)");
  if (t.max_priority < 0 || t.max_priority > kMaxTenantPriority)
    return InvalidField("max_priority", "must be 0..{}", kMaxTenantPriority);
  if (!t.home.empty() && !center_ids_.contains(t.home))
    return InvalidField("home", "'{}' is not a center of this server (centers: {})",
                        EscapeControls(t.home.substr(0, 60)), Join(center_names_, ", "));
  std::lock_guard<std::mutex> lk(create_mu_);
  SUANLI_ASSIGN_OR_RETURN(auto existing, store_->GetTenant(t.name));
  if (existing) return FailedPrecondition(fmt::format("tenant '{}' already exists", t.name));
  if (t.home.empty()) {
    SUANLI_ASSIGN_OR_RETURN(std::vector<Tenant> all, store_->ListTenants());
    t.home = HomeFor(all);
  }
  SUANLI_ASSIGN_OR_RETURN(std::string token, RandomToken());
  t.token_sha256 = Sha256Hex(token);
  t.created_ms = WallOf(SystemNowUs());
  SUANLI_RETURN_IF_ERROR(store_->PutTenant(t));
  {
    std::lock_guard<std::mutex> a(auth_mu_);
    tenant_cache_[t.name] = t;
  }
  spdlog::info("tenant={} created by {} (admin={}, max_gpus_per_job={}, max_active_jobs={}, max_priority={}, home={})",
               t.name, caller.tenant, t.admin, t.max_gpus_per_job, t.max_active_jobs, t.max_priority, t.home);
  NewTenant out;
  out.tenant = t;
  out.tenant.token_sha256.clear();
  out.token = std::move(token);
  return out;
}

Result<std::vector<Tenant>> ControlPlaneImpl::Tenants(const Caller& caller) {
  std::vector<Tenant> out;
  if (caller.admin) {
    SUANLI_ASSIGN_OR_RETURN(out, store_->ListTenants());
  } else {
    SUANLI_ASSIGN_OR_RETURN(auto t, store_->GetTenant(caller.tenant));
    if (t) out.push_back(*t);
  }
  for (Tenant& t : out) t.token_sha256.clear();
  return out;
}

Result<std::vector<UsageSum>> ControlPlaneImpl::Usage(const Caller& caller, WallMs from_ms, WallMs to_ms) {
  if (to_ms.ms() <= 0) to_ms = WallMs(std::numeric_limits<int64_t>::max());
  if (from_ms > to_ms) return InvalidField("from", "must not be after to");
  SUANLI_ASSIGN_OR_RETURN(std::vector<UsageSum> out, store_->Usage(caller.admin ? "" : caller.tenant, from_ms, to_ms));
  AddRunningUsage(caller, from_ms, to_ms, &out);
  return out;
}

// Runs not ended yet are metered up to now, hour by hour (a service's
// replicas may run for months): the part of each in [from, to), pro rata
// inside an hour as the store's slices are.
void ControlPlaneImpl::AddRunningUsage(const Caller& caller, WallMs from_ms, WallMs to_ms, std::vector<UsageSum>* out) {
  std::vector<std::pair<JobAttempt, std::string>> runs;  // (run so far, tenant)
  const WallMs now = Now();
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& [id, a] : active_) {
      const JobRecord& r = a.rec;
      if (r.state != JobState::kRunning || r.start_ms.ms() <= 0 || r.start_ms >= std::min(now, to_ms)) continue;
      if (!caller.admin && r.tenant != caller.tenant) continue;
      JobAttempt at;
      at.center = r.center;
      at.model = r.model;
      at.start_ms = r.start_ms;
      at.end_ms = now;
      auto c = FindCenter(r.center);
      Meter(&at, c ? *c : kNoCenter, r.spec.gpus.value());
      runs.emplace_back(std::move(at), r.tenant);
    }
  }
  for (const auto& run : runs) {
    const JobAttempt& at = run.first;
    const std::string& tenant = run.second;
    UsageSum add;
    for (const UsageSlice& h : at.hours) {
      const int64_t lo = std::max(h.start_ms, from_ms).ms(), hi = std::min(h.end_ms, to_ms).ms();
      if (hi <= lo || h.end_ms <= h.start_ms) continue;
      const double f = static_cast<double>(hi - lo) / static_cast<double>(h.end_ms - h.start_ms);
      add.gpu_seconds += h.gpu_seconds * f;
      add.energy_kwh += h.energy_kwh * f;
      add.cost += h.cost * f;
      add.carbon_kg += h.carbon_kg * f;
    }
    if (add.gpu_seconds <= 0 && add.energy_kwh <= 0) continue;
    auto it = std::find_if(out->begin(), out->end(), [&](const UsageSum& u) {
      return u.tenant == tenant && u.center == at.center && u.model == at.model;
    });
    if (it == out->end()) {
      add.tenant = tenant;
      add.center = at.center;
      add.model = at.model;
      it = out->insert(std::upper_bound(out->begin(), out->end(), add,
                                        [](const UsageSum& x, const UsageSum& y) {
                                          return std::tie(x.tenant, x.center, x.model) <
                                                 std::tie(y.tenant, y.center, y.model);
                                        }),
                       add);
      continue;
    }
    it->gpu_seconds += add.gpu_seconds;
    it->energy_kwh += add.energy_kwh;
    it->cost += add.cost;
    it->carbon_kg += add.carbon_kg;
  }
}

PassStats ControlPlaneImpl::Stats() {
  std::lock_guard<std::mutex> lk(stats_mu_);
  PassStats s = stats_;
  if (s.pass_ms_counts.empty()) {
    s.pass_ms_buckets_le = kPassBuckets;
    s.pass_ms_counts.assign(kPassBuckets.size(), 0);
  }
  return s;
}

}  // namespace suanli::live::control_detail
