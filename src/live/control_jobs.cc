// The live control plane's job table: the network scheduler's decisions
// applied to the jobs' records, launches and cancels; runs that end, are
// given up or stopped, fed back to it (mu_ held throughout).
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>

#include "live/control_impl.h"
#include "live/metering.h"

namespace suanli::live::control_detail {

bool StoppedByCenter(const BackendEvent& ev, bool cancel_requested) {
  // The backends report these as `cancelled` that Suanli did not ask for,
  // or as `failed` with BackendEvent::center_stopped.
  if (cancel_requested) return false;
  return ev.state == JobState::kCancelled || (ev.state == JobState::kFailed && ev.center_stopped);
}

Active& ControlPlaneImpl::AddActive(const JobRecord& rec, const Job* job) {
  JobId slot;
  if (job) {
    slot = net_->AddJob(*job);
  } else {
    Job j = CoreJob(rec.spec, catalog_, net_->InternTenant(rec.tenant), CoreTime(rec.submit_ms));
    // Its tenant's home center (what `isolated` keeps it in).
    if (auto home = center_ids_.find(TenantInfo(rec.tenant).home); home != center_ids_.end())
      j.home = net_->CenterPlace(home->second);
    // A service's users' region (its latency bound is from there).
    if (!rec.spec.region.empty()) j.region = net_->Place(rec.spec.region);
    SetJobData(rec.spec, rec.tenant, &j);
    slot = net_->AddJob(j);
  }
  if (!by_slot_.contains(slot)) by_slot_.resize(slot.value() + 1, 0);
  by_slot_[slot] = rec.id;
  if (!rec.spec.center.empty()) net_->Pin(slot, center_ids_.at(rec.spec.center));
  Active& a = active_[rec.id];
  a = Active{};
  a.rec = rec;
  a.slot = slot;
  a.known_work = job != nullptr;
  return a;
}

void ControlPlaneImpl::Event(Active& a, std::string_view kind, std::string message, WallMs at) {
  if (replay_) return;
  std::vector<JobEvent>& ev = a.rec.events;
  if (ev.size() + 1 >= kMaxEvents && kind != "ended") return;
  // A history is in order: a time from a coarser clock (a file's mtime,
  // which lags the real-time clock by up to a kernel tick; Slurm's whole
  // seconds) is not put before the event it follows.
  if (!ev.empty()) at = std::max(at, ev.back().time_ms);
  ev.push_back({at, std::string(kind), std::move(message)});
}

void ControlPlaneImpl::ApplyDecisions(WallMs now, PassWork* w) {
  const Time t = t_;  // deferred sends: d.at > t
  std::vector<NetDecision> decisions;
  decisions.swap(net_->decisions());
  for (NetDecision& d : decisions) {
    if (replay_ && replay_->observer) replay_->observer->Decided(d, t);
    if (d.kind == NetDecision::Kind::kWake) {
      wakes_.insert(d.at);  // WakeDue at each pass; a virtual clock moves on to it
      continue;
    }
    const int64_t id = by_slot_.contains(d.job) ? by_slot_[d.job] : 0;
    auto it = id == 0 ? active_.end() : active_.find(id);
    if (it == active_.end()) {
      spdlog::error("pass={} decision for an unknown slot {}", pass_id_, d.job);
      continue;
    }
    Active& a = it->second;
    auto unqueue = [&] {
      if (a.queued_at != kNoCenter) centers_[a.queued_at].queued.erase(id);
      a.queued_at = kNoCenter;
    };
    switch (d.kind) {
      case NetDecision::Kind::kSend: {
        unqueue();
        CenterRt& x = centers_[d.center];
        if (d.at > t) {
          // Deferred (a cheaper or cleaner hour), or its dataset staged: it
          // reaches the center then, or once its copy there is made.
          a.rec.center.clear();
          const std::string until = FormatMs(WallOf(d.at));
          a.rec.reason = SentLaterReason(d, until, deferred_for_);
          a.rec.est_start_ms = WallOf(d.at);
          if (d.deferred)
            Event(a, "deferred",
                  fmt::format("for {} until {}{}, by {}{}", x.built->name, until,
                              deferred_for_.empty() ? "" : fmt::format(" ({})", deferred_for_), DispatchName(),
                              d.why.empty() ? "" : ": " + d.why),
                  now);
          else
            Event(a, "dispatched",
                  fmt::format("to {} by {}, staging its dataset until {}{}", x.built->name, DispatchName(), until,
                              d.why.empty() ? "" : ": " + d.why),
                  now);
          if (!StartStaging(a, d) || d.deferred) timers_.emplace(d.at, std::make_pair(a.slot, d.generation));
          ++w->held;
          break;
        }
        x.queued.insert(id);
        a.queued_at = d.center;
        a.rec.center = x.built->name;
        a.rec.reason = fmt::format("queued at {}; waiting for its scheduler to look at it", x.built->name);
        // Held to one model (heterogeneity-aware): the job shows which while it waits.
        const ModelMask m = net_->workload().jobs[a.slot].models;
        if (a.rec.spec.gpus > 0 && std::has_single_bit(m)) a.rec.model = catalog_.model(std::countr_zero(m)).name;
        Event(a, "dispatched",
              fmt::format("to {} by {}{}{}", x.built->name, DispatchName(),
                          a.rec.model.empty() || a.rec.spec.models.size() == 1 ? "" : ", held to model " + a.rec.model,
                          d.why.empty() ? "" : ": " + d.why),
              now);
        ++w->dispatched;
        break;
      }
      case NetDecision::Kind::kHold: {
        unqueue();
        std::string why = d.reason;
        if (!a.rec.spec.center.empty() && d.center != kNoCenter) {
          const CenterRt& x = centers_[d.center];
          if (!Available(d.center))
            why = fmt::format("its center {} is {}", x.built->name, x.drained ? "drained" : "not answering");
          else if (d.at != kNever)
            why = fmt::format("center {} stopped its last run; tried there again after {}", x.built->name,
                              FormatMs(WallOf(d.at)));
          else if (x.abandoned.count(id)) why = fmt::format("its earlier run at {} is being stopped", x.built->name);
        }
        if (d.at != kNever) timers_.emplace(d.at, std::make_pair(a.slot, d.generation));
        a.rec.center.clear();
        a.rec.reason = "held: " + why;
        Event(a, "held", why, now);
        ++w->held;
        break;
      }
      case NetDecision::Kind::kStart:
        unqueue();
        OnStart(a, d, now, w);
        break;
      case NetDecision::Kind::kPreempt:
        // Its run is stopped by the backend; then it is queued again
        // (Restop), or now (a replay: the simulator does not wait).
        {
          a.stop_reason = "preempted";
          a.rec.reason = "preempted; stopping";
          {
            std::lock_guard<std::mutex> lk(stats_mu_);
            ++stats_.preemptions;
          }
          const auto notice = NoticeFor(a);
          const int64_t by = by_slot_.contains(d.by) ? by_slot_[d.by] : 0;
          Event(
              a, "preempted",
              fmt::format("at {} for {} ({}){}", centers_[d.center].built->name,
                          by > 0 ? fmt::format("job {}", by) : "another job", net_->scheduler(d.center)->spec().text,
                          notice ? fmt::format("; told by SIG{}, {} s to stop", notice->signal, notice->grace_s) : ""),
              now);
          w->Cancel(id, d.center, a.rec.backend_id, false, notice);
          spdlog::info("pass={} job={} center={} preempted", pass_id_, id, centers_[d.center].built->name);
          if (PhaseOf(a) != NetPhase::kStopping) EndPreempted(a, d.center, now, w);
          break;
        }
      case NetDecision::Kind::kInterrupt: OnRunLost(a, d.center, now, w); break;
      case NetDecision::Kind::kUnschedulable:
        unqueue();
        Finish(a, JobState::kFailed, now, d.reason, w);
        break;
      case NetDecision::Kind::kWake: break;
    }
  }
}

// Its nodes in rank order (a multi-node gang's: comma-separated), and their
// devices, each node's in turn.
void ControlPlaneImpl::SetPlacement(JobRecord& r, const BuiltCenter& b, const Allocation& alloc) {
  r.node.clear();
  r.devices.clear();
  for (const NodeShare& sh : alloc.shares) {
    if (!r.node.empty()) r.node += ',';
    r.node += b.net.nodes[sh.node].name;
    for (int dv = 0; dv < kMaxDevicesPerNode; ++dv)
      if (sh.devices >> dv & 1) r.devices.push_back(dv);
  }
}

void ControlPlaneImpl::FollowCenterPlacement(Active& a, CenterId c, const std::string& nodes) {
  const BuiltCenter& b = *centers_[c].built;
  std::vector<NodeId> ids;
  for (std::string_view name : Split(nodes, ',')) {
    auto it = b.node_index.find(std::string(name));
    if (it == b.node_index.end()) {
      spdlog::warn("pass={} job={} center={}: started on node {}, which the center did not report; kept as placed",
                   pass_id_, a.rec.id, b.name, name);
      return;
    }
    ids.push_back(it->second);
  }
  const std::string was = a.rec.node;
  if (const Allocation* moved = net_->Relocate(a.slot, ids)) {
    SetPlacement(a.rec, b, *moved);
    spdlog::info("pass={} job={} center={} placed by the center on {} (not {})", pass_id_, a.rec.id, b.name, a.rec.node,
                 was);
    return;
  }
  // Its scheduler's view of the center holds no room there (another job
  // it placed there still waits in the center's queue): the record says
  // where it runs; the scheduler keeps counting it where it placed it.
  a.rec.node = nodes;
  spdlog::warn("pass={} job={} center={} placed by the center on {} (not {}), where its scheduler sees no room",
               pass_id_, a.rec.id, b.name, nodes, was);
}

void ControlPlaneImpl::OnStart(Active& a, const NetDecision& d, WallMs now, PassWork* w) {
  CenterRt& x = centers_[d.center];
  const int64_t id = a.rec.id;
  JobRecord& r = a.rec;
  r.state = JobState::kRunning;
  r.center = x.built->name;
  r.model = d.alloc.model == kNoModel ? "" : catalog_.model(d.alloc.model).name;
  SetPlacement(r, *x.built, d.alloc);
  r.start_ms = now;
  r.end_ms = WallMs{};
  r.reason.clear();
  r.est_start_ms = WallMs{};
  r.backend_id.clear();
  a.adopted = false;  // until Launch returns
  a.cancel_sent = false;
  x.running.insert(id);
  const std::string where =
      fmt::format("{} {} {}{}", x.built->name, d.alloc.shares.size() > 1 ? "nodes" : "node", r.node,
                  r.devices.empty() ? "" : fmt::format(" devices {}", fmt::join(r.devices, ",")));
  if (x.built->backend->LaunchQueues()) {
    // Submitted to the center's own queue: pending, and not metered, until
    // the center says it started (kStarted).
    r.state = JobState::kPending;
    r.start_ms = WallMs{};
    r.reason = fmt::format("submitted to {}; waiting for it to start", x.built->name);
    Event(a, "dispatched", fmt::format("submitted to {}'s own queue for {}", x.built->kind, where), now);
  } else {
    Event(a, "started", fmt::format("attempt {} on {}", r.attempts.size() + 1, where), now);
  }
  w->writes.push_back(r);
  w->launches.push_back({id, d.center, RequestFor(r)});
  // A run after a preemption goes on from the work kept (simulated centers).
  w->launches.back().req.done_s = std::max(0.0, net_->workload().jobs[a.slot].work - net_->remaining(a.slot));
  w->launches.back().req.attempt = static_cast<int>(r.attempts.size()) + 1;
  w->launches.back().req.start_us = t_;
  if (a.known_work) w->launches.back().req.run_us = d.run;
  if (replay_ && replay_->observer) w->launches.back().req.fail_after_us = replay_->observer->FailAfterUs(d);
  ++w->started;
}

// A running job's run is given up with its center, which stopped answering
// (NetworkScheduler::Evict): cancelled there if the center comes back; the
// job starts again elsewhere.
void ControlPlaneImpl::OnRunLost(Active& a, CenterId c, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  const int64_t id = a.rec.id;
  x.abandoned[id] = a.rec.backend_id;
  x.abandoned_dirty = true;
  x.running.erase(id);
  // Not there again before that run is known to be stopped.
  net_->Avoid(a.slot, c, kNever);
  const std::string reason = fmt::format("attempt on {} (started {}) lost: center not answering since {}; requeued",
                                         x.built->name, FormatMs(a.rec.start_ms), FormatMs(x.failing_since));
  EndAttempt(a, now, "abandoned", reason);
  Event(a, "requeued", reason, now);
  ClearRun(&a.rec);
  a.rec.state = JobState::kPending;
  a.cancel_sent = false;
  a.rec.reason = reason;
  spdlog::info("pass={} job={} center={} requeued: {}", pass_id_, id, x.built->name, reason);
  w->writes.push_back(a.rec);
  ++w->requeued;
}

void ControlPlaneImpl::EndRun(Active& a, JobState state, WallMs ended_ms, std::string reason, PassWork* w) {
  if (PhaseOf(a) == NetPhase::kRunning) {
    // The center's scheduler keeps to the server's clock.
    auto r = net_->Finished(a.slot, t_);
    if (!r.ok()) spdlog::error("pass={} job={} {}", pass_id_, a.rec.id, r.status().message());
    else if (replay_ && replay_->observer) replay_->observer->Finished(a.slot, *r, t_);
  }
  Finish(a, state, ended_ms, std::move(reason), w);
}

void ControlPlaneImpl::ClearRun(JobRecord* rec) const {
  rec->center.clear();
  rec->node.clear();
  rec->model.clear();
  rec->devices.clear();
  rec->backend_id.clear();
  rec->start_ms = WallMs{};
  rec->exit_code = -1;
  rec->signal = 0;
  rec->checkpoint_ms = WallMs{};
}

void ControlPlaneImpl::Requeue(Active& a, WallMs now, std::string reason, bool avoid, PassWork* w,
                               std::string_view outcome, WallMs ended_ms) {
  const CenterId c = CenterOf(a);
  const Time t = t_;
  // What the run kept: up to its last checkpoint.
  std::optional<Duration> kept;
  if (!outcome.empty()) {
    const WallMs end = ended_ms.ms() > 0 ? ended_ms : now;
    kept = KeptOfRun(a, c, end);
    EndAttempt(a, end, outcome, reason);
  }
  ClearRun(&a.rec);
  a.rec.state = JobState::kPending;
  a.cancel_sent = false;
  if (c != kNoCenter) {
    centers_[c].running.erase(a.rec.id);
    spdlog::info("pass={} job={} center={} requeued: {}", pass_id_, a.rec.id, centers_[c].built->name, reason);
  }
  Event(a, "requeued", reason, ended_ms.ms() > 0 ? ended_ms : now);
  a.rec.reason = std::move(reason);
  w->writes.push_back(a.rec);
  ++w->requeued;
  // It starts again from its last checkpoint, elsewhere if it can.
  if (PhaseOf(a) == NetPhase::kStopping) {
    net_->Stopped(a.slot, t, true, kept);
  } else {
    const Time avoid_until = avoid && requeue_avoid_ > 0 ? t + requeue_avoid_ : 0;
    auto r = net_->Failed(a.slot, t, avoid_until, kept);
    if (!r.ok()) spdlog::error("pass={} job={} {}", pass_id_, a.rec.id, r.status().message());
    else if (replay_ && replay_->observer) replay_->observer->Failed(a.slot, *r, t);
  }
  ApplyDecisions(now, w);
}

void ControlPlaneImpl::Restop(Active& a, WallMs ended_ms, WallMs now, PassWork* w) {
  const CenterId c = CenterOf(a);
  CenterRt& x = centers_[c];
  const bool elsewhere = !Available(c) || x.abandoned.count(a.rec.id);
  const std::optional<Duration> kept = KeptOfRun(a, c, ended_ms);
  EndPreempted(a, c, ended_ms, w);
  // Back to the queue it was stopped from, with the work up to its last
  // checkpoint (a simulated center's run keeps all, as in the simulator);
  // elsewhere if that center takes no jobs now.
  net_->Stopped(a.slot, t_, elsewhere, kept);
  ApplyDecisions(now, w);
}

void ControlPlaneImpl::EndPreempted(Active& a, CenterId c, WallMs ended_ms, PassWork* w) {
  std::string reason = a.stop_reason + "; queued again";
  EndAttempt(a, ended_ms, "preempted", reason);
  Event(a, "requeued",
        fmt::format(
            "{}; attempt {} ended{}", reason, a.rec.attempts.size(),
            a.rec.attempts.empty() || a.rec.attempts.back().checkpoint_ms.ms() == 0
                ? ""
                : ", its work up to its last checkpoint (" + FormatMs(a.rec.attempts.back().checkpoint_ms) + ") kept"),
        ended_ms);
  ClearRun(&a.rec);
  a.rec.state = JobState::kPending;
  a.cancel_sent = false;
  centers_[c].running.erase(a.rec.id);
  spdlog::info("pass={} job={} center={} {}", pass_id_, a.rec.id, centers_[c].built->name, reason);
  a.rec.reason = std::move(reason);
  w->writes.push_back(a.rec);
  ++w->requeued;
}

void ControlPlaneImpl::Meter(JobAttempt* at, CenterId c, double devices) const {
  const AcceleratorModel* model = nullptr;
  if (!at->model.empty()) {
    if (auto m = catalog_.Find(at->model)) model = &catalog_.model(*m);
  }
  MeterRun(at, c == kNoCenter ? nullptr : &network_.centers[c], model, devices);
}

void ControlPlaneImpl::EndAttempt(Active& a, WallMs end_ms, std::string_view outcome, const std::string& reason) {
  JobRecord& r = a.rec;
  if (r.start_ms.ms() <= 0) return;  // never ran
  JobAttempt at;
  at.n = static_cast<int>(r.attempts.size()) + 1;
  at.center = r.center;
  at.node = r.node;
  at.model = r.model;
  at.devices = r.devices;
  at.start_ms = r.start_ms;
  // A backend's clock (Slurm's whole seconds) may put the end just before the start.
  at.end_ms = std::max(end_ms, r.start_ms);
  at.outcome = std::string(outcome);
  at.reason = reason;
  at.checkpoint_ms = r.checkpoint_ms;
  auto c = FindCenter(r.center);
  Meter(&at, c ? *c : kNoCenter, r.spec.gpus.value());  // a share counts its part of the device
  r.gpu_seconds += at.gpu_seconds;
  r.energy_kwh += at.energy_kwh;
  r.cost += at.cost;
  r.carbon_kg += at.carbon_kg;
  spdlog::info("pass={} job={} attempt={} center={} outcome={} gpu_seconds={:.1f}", pass_id_, r.id, at.n, at.center,
               at.outcome, at.gpu_seconds);
  r.attempts.push_back(std::move(at));
}

// The job leaves the active set with a final state.
void ControlPlaneImpl::Finish(Active& a, JobState state, WallMs end_ms, std::string reason, PassWork* w) {
  // A backend's clock (Slurm's whole seconds) may put the end just before the start.
  if (a.rec.start_ms.ms() > 0 && end_ms < a.rec.start_ms) end_ms = a.rec.start_ms;
  NoteRunShare(a.rec, state, end_ms);
  EndAttempt(a, end_ms, StateName(state), reason);
  if (a.queued_at != kNoCenter) centers_[a.queued_at].queued.erase(a.rec.id);
  if (CenterId c = CenterOf(a); c != kNoCenter) centers_[c].running.erase(a.rec.id);
  Event(a, "ended", fmt::format("{}: {}", StateName(state), reason), end_ms);
  JobRecord r = std::move(a.rec);
  r.state = state;
  r.end_ms = end_ms;
  r.reason = std::move(reason);
  r.est_start_ms = WallMs{};
  const JobId slot = a.slot;
  const int64_t id = r.id;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    if (state == JobState::kSucceeded) ++stats_.successes;
    else if (state == JobState::kFailed) ++stats_.failures;
    else if (state == JobState::kCancelled) ++stats_.cancellations;
  }
  spdlog::info("pass={} job={} tenant={} center={} state={} reason=\"{}\" gpu_seconds={:.1f} energy_kwh={:.3f}",
               pass_id_, id, r.tenant, r.center, StateName(state), r.reason, r.gpu_seconds, r.energy_kwh);
  w->writes.push_back(std::move(r));
  ++w->ended;
  active_.erase(id);
  if (!replay_) net_->FreeJob(slot);  // replay: slots are not reused (ids order ties as in the trace)
  by_slot_[slot] = 0;
}

std::optional<Allocation> ControlPlaneImpl::AllocationFromRecord(const JobRecord& rec, CenterId c) const {
  const BuiltCenter& b = *centers_[c].built;
  const std::vector<std::string_view> names = Split(rec.node, ',');
  const size_t k = names.size();
  if (k == 0 || rec.devices.size() % k != 0 || rec.spec.gpus.devices() != rec.devices.size()) return std::nullopt;
  if (k > 1 && k != rec.spec.nodes) return std::nullopt;
  Allocation a;
  if (!rec.model.empty()) {
    auto m = catalog_.Find(rec.model);
    if (!m) return std::nullopt;
    a.model = *m;
  }
  // The same split of CPU and memory as the placement's (PlaceSpread).
  PlacementRequest req;
  req.num_gpus = rec.spec.gpus.devices();
  req.cpu_milli = rec.spec.cpu_milli;
  req.mem_mib = rec.spec.mem_mib;
  const size_t per = rec.devices.size() / k;
  for (size_t i = 0; i < k; ++i) {
    auto it = b.node_index.find(std::string(names[i]));
    if (it == b.node_index.end()) return std::nullopt;
    const Node& node = b.net.nodes[it->second];
    NodeShare sh;
    sh.node = it->second;
    for (size_t j = i * per; j < (i + 1) * per; ++j) {
      const int d = rec.devices[j];
      if (d < 0 || d >= node.devices || (sh.devices >> d & 1)) return std::nullopt;
      sh.devices |= 1u << d;
    }
    if (rec.spec.gpus > 0 && node.model != a.model) return std::nullopt;
    for (const NodeShare& o : a.shares)
      if (o.node == sh.node) return std::nullopt;
    sh.milli = sh.devices ? static_cast<uint16_t>(rec.spec.gpus.per_device_milli()) : 0;
    sh.cpu_milli = k > 1 ? CpuForDevices(req, static_cast<int>(per)) : rec.spec.cpu_milli;
    sh.mem_mib = k > 1 ? MemForDevices(req, static_cast<int>(per)) : rec.spec.mem_mib;
    a.shares.push_back(sh);
  }
  return a;
}

LaunchRequest ControlPlaneImpl::RequestFor(const JobRecord& rec) const {
  LaunchRequest r;
  r.job_id = rec.id;
  r.spec = rec.spec;
  r.node = rec.node;
  r.model = rec.model;
  r.devices = rec.devices;
  r.job_dir = JobDir(rec.id);
  r.start_ms = rec.start_ms;
  if (auto c = center_ids_.find(rec.center); c != center_ids_.end() && !rec.spec.dataset.empty())
    r.dataset_dir = DatasetDir(c->second, rec.tenant, rec.spec.dataset);
  return r;
}

}  // namespace suanli::live::control_detail
