// The live control plane's centers: their backends' events, their health
// (answering, unavailable, back), their nodes, drains, and what the API
// shows of them (mu_ held unless said).
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "core/model/energy.h"
#include "live/control_impl.h"

namespace suanli::live::control_detail {

void ControlPlaneImpl::ApplyEvents(CenterId c, const std::vector<BackendEvent>& events, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  for (const BackendEvent& ev : events) {
    if (ev.kind == BackendEvent::Kind::kNode) {
      NodeChanged(c, ev.node, ev.up, ev.reason, w);
      continue;
    }
    // A run given up on while the center was away is not the job's run any more.
    if (auto ab = x.abandoned.find(ev.job_id); ab != x.abandoned.end()) {
      if (ev.kind != BackendEvent::Kind::kStarted) {
        spdlog::info("pass={} job={} center={} abandoned run ended ({})", pass_id_, ev.job_id, x.built->name,
                     ev.reason);
        ForgetAbandoned(c, ev.job_id);
      }
      continue;
    }
    auto it = active_.find(ev.job_id);
    if (it == active_.end() || CenterOf(it->second) != c || !Running(it->second)) {
      spdlog::debug("pass={} center={} event for job {} which does not run there; ignored", pass_id_, x.built->name,
                    ev.job_id);
      continue;
    }
    Active& a = it->second;
    const WallMs at = ev.at_ms.ms() > 0 ? ev.at_ms : now;
    switch (ev.kind) {
      case BackendEvent::Kind::kStarted:
        // It left the center's own queue (slurm): running, metered from here.
        if (PhaseOf(a) != NetPhase::kRunning) break;
        if (a.rec.state == JobState::kPending) {
          if (!ev.node.empty() && ev.node != a.rec.node) FollowCenterPlacement(a, c, ev.node);
          a.rec.state = JobState::kRunning;
          a.rec.start_ms = at;
          a.rec.reason.clear();
          Event(a, "started",
                fmt::format("attempt {} on {} {} {} (started by {})", a.rec.attempts.size() + 1, x.built->name,
                            a.rec.node.find(',') == std::string::npos ? "node" : "nodes", a.rec.node, x.built->kind),
                at);
          w->writes.push_back(a.rec);
          spdlog::info("pass={} job={} center={} started there", pass_id_, a.rec.id, x.built->name);
        } else if (ev.at_ms.ms() > 0) {
          a.rec.start_ms = ev.at_ms;
        }
        break;
      case BackendEvent::Kind::kHeld: {
        if (PhaseOf(a) != NetPhase::kRunning || a.rec.state != JobState::kPending) break;
        std::string why = fmt::format("held by {} at {}: {}", x.built->kind, x.built->name, ev.reason);
        if (why == a.rec.reason) break;
        a.rec.reason = std::move(why);
        w->writes.push_back(a.rec);
        break;
      }
      case BackendEvent::Kind::kNode: break;  // above
      case BackendEvent::Kind::kLost: {
        if (PhaseOf(a) == NetPhase::kStopping) {
          Restop(a, at, now, w);  // stopped for a preemption: queued again
          break;
        }
        if (a.rec.backend_id.empty()) {
          // Never launched (the server stopped between recording the start
          // and launching): queue it again.
          Requeue(a, now, "its launch was not found; queued again", false, w);
          break;
        }
        if (a.rec.state == JobState::kPending) {
          // Lost before it started (a launch that never reached an agent's
          // center, the server having stopped just after it): it never ran.
          Requeue(a, now, fmt::format("its launch did not reach {} ({}); queued again", x.built->name, ev.reason),
                  false, w);
          break;
        }
        std::string why = fmt::format("lost by the {} backend: {}", x.built->kind, ev.reason);
        if (RestartsOnEnd(a)) {
          RestartReplica(a, JobState::kFailed, at, std::move(why), now, w);
          break;
        }
        EndRun(a, JobState::kFailed, at, std::move(why), w);
        break;
      }
      case BackendEvent::Kind::kEnded: {
        if (PhaseOf(a) == NetPhase::kStopping) {
          Restop(a, at, now, w);
          break;
        }
        if (StoppedByCenter(ev, a.cancel_requested) && a.requeues < max_requeues_) {
          // Not the job's failure nor its tenant's cancel: it runs again,
          // elsewhere if it can.
          ++a.requeues;
          Requeue(a, now,
                  fmt::format("attempt on {} stopped by the center ({}); requeued", x.built->name,
                              ev.reason.empty() ? "cancelled" : ev.reason),
                  true, w, "requeued", at);
          break;
        }
        a.rec.exit_code = ev.exit_code;
        a.rec.signal = ev.signal;
        JobState st = ev.state;
        std::string reason = ev.reason;
        if (!IsTerminal(st)) st = JobState::kFailed;
        if (a.cancel_requested && st != JobState::kSucceeded) {
          st = JobState::kCancelled;
          reason = fmt::format("cancelled by {}", a.cancelled_by);
        }
        if (RestartsOnEnd(a)) {
          RestartReplica(a, st, at, std::move(reason), now, w);
          break;
        }
        EndRun(a, st, at, std::move(reason), w);
        break;
      }
    }
  }
}

void ControlPlaneImpl::CheckHealth(CenterId c, const Status& polled, bool was_polled, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  if (!was_polled) {
    if (!x.answering && x.up && now - x.failing_since >= center_timeout_ms_) MarkDown(c, now, w);
    return;
  }
  if (polled.ok()) {
    if (!x.answering) spdlog::info("pass={} center={} answers again", pass_id_, x.built->name);
    x.answering = true;
    x.failing_since = WallMs{};
    x.error.clear();
    if (!x.up || x.resend_abandoned) {
      if (!x.up) spdlog::info("pass={} center={} available again", pass_id_, x.built->name);
      x.up = true;
      x.up_since = now;
      x.down_reason.clear();
      x.resend_abandoned = false;
      SyncCenter(c);
      // Runs given up on: stop them there (never run twice).
      for (const auto& [id, bid] : x.abandoned) w->Cancel(id, c, bid, true);
      if (!x.abandoned.empty())
        spdlog::info("pass={} center={} {} abandoned run(s) cancelled there", pass_id_, x.built->name,
                     x.abandoned.size());
    }
    // An abandoned run whose cancel went through is forgotten a minute later
    // even if the backend never reports its end (it may not follow it).
    for (auto it = x.abandoned_cancelled.begin(); it != x.abandoned_cancelled.end();) {
      if (it->second + kAbandonedForgetMs <= now) {
        const int64_t id = it->first;
        ++it;
        ForgetAbandoned(c, id);
      } else {
        ++it;
      }
    }
    return;
  }
  if (x.answering) {
    x.answering = false;
    x.failing_since = now;
    spdlog::warn("pass={} center={} not answering: {}", pass_id_, x.built->name, polled.message());
  }
  x.error = polled.message();
  if (x.up && now - x.failing_since >= center_timeout_ms_) MarkDown(c, now, w);
}

// A node of center c went down (drained, failed, gone) or came back (mu_
// held). Its center's scheduler places nothing on a down node; a job sent
// there that the center still holds in its own queue (it would wait for the
// node forever) is withdrawn (cancelled there) and, once that is done,
// placed again. Runs that started there go on: the center decides about them.
void ControlPlaneImpl::NodeChanged(CenterId c, const std::string& node, bool up, const std::string& why, PassWork* w) {
  CenterRt& x = centers_[c];
  auto it = x.built->node_index.find(node);
  if (it == x.built->node_index.end() || !x.has_nodes) return;  // not a node it schedules
  if (up) x.down_nodes.erase(node);
  else x.down_nodes[node] = why;
  const Scheduler* sched = net_->scheduler(c);
  if (!sched || sched->state().up(it->second) == up) return;
  net_->SetNodeUp(c, it->second, up);
  spdlog::warn("pass={} center={} node={} {} ({})", pass_id_, x.built->name, node,
               up ? "up again: receives jobs" : "down: receives no jobs", why);
  // A job its center still queues for that node is withdrawn and placed
  // again, unless the center chooses the nodes itself (it will not run the
  // job there).
  if (up || x.built->backend->PlacesJobs()) return;
  std::vector<int64_t> held;
  for (int64_t id : x.running) {
    const Active& a = active_.at(id);
    if (PhaseOf(a) == NetPhase::kRunning && a.rec.state == JobState::kPending && OnNode(a.rec.node, node) &&
        !a.rec.backend_id.empty())
      held.push_back(id);
  }
  std::sort(held.begin(), held.end());
  for (int64_t id : held) {
    // Withdrawn (cancelled there); once that is done, placed again.
    Active& a = active_.at(id);
    auto r = net_->Stop(a.slot, t_);
    if (!r.ok()) {
      spdlog::error("pass={} job={} {}", pass_id_, id, r.status().message());
      continue;
    }
    a.stop_reason = fmt::format("withdrawn from {}: node {} is down ({})", x.built->name, node, why);
    a.rec.reason = a.stop_reason + "; stopping";
    w->Cancel(id, c, a.rec.backend_id, false, NoticeFor(a));
  }
}

void ControlPlaneImpl::MarkDown(CenterId c, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  x.up = false;
  x.down_reason = fmt::format("not answering since {}: {}", FormatMs(x.failing_since), x.error);
  spdlog::warn("pass={} center={} unavailable ({}); its jobs are re-dispatched", pass_id_, x.built->name,
               x.down_reason);
  // Running jobs being cancelled end here; their runs are given up on
  // (cancelled there if the center comes back).
  std::vector<int64_t> running(x.running.begin(), x.running.end());
  std::sort(running.begin(), running.end());
  for (int64_t id : running) {
    Active& a = active_.at(id);
    if (PhaseOf(a) != NetPhase::kRunning || !a.cancel_requested) continue;
    x.abandoned[id] = a.rec.backend_id;
    EndRun(a, JobState::kCancelled, now,
           fmt::format("cancelled by {} (center {} stopped answering)", a.cancelled_by, x.built->name), w);
  }
  // The others start again elsewhere (OnRunLost), and pending jobs go elsewhere.
  SyncCenter(c);
  // Each lost run keeps the work up to the checkpoint its job reported.
  Status st = net_->Evict(c, t_, true, [&](JobId slot) -> std::optional<Duration> {
    auto it = by_slot_.contains(slot) ? active_.find(by_slot_[slot]) : active_.end();
    if (it == active_.end()) return std::nullopt;
    return KeptOfRun(it->second, c, now);
  });
  if (!st.ok()) spdlog::error("pass={} center={} {}", pass_id_, x.built->name, st.message());
  ApplyDecisions(now, w);
  x.abandoned_dirty = true;
}

void ControlPlaneImpl::SyncCenter(CenterId c) {
  const CenterRt& x = centers_[c];
  net_->SetCenter(c, Available(c), x.up && x.answering && x.has_nodes, t_);
}

void ControlPlaneImpl::ForgetAbandoned(CenterId c, int64_t id) {
  CenterRt& x = centers_[c];
  x.abandoned_cancelled.erase(id);
  if (!x.abandoned.erase(id)) return;
  x.abandoned_dirty = true;
  // Its job may go there again.
  auto it = active_.find(id);
  if (it == active_.end()) return;
  const JobId slot = it->second.slot;
  net_->Avoid(slot, kNoCenter, 0);
  // Held: dispatched again now if the center takes jobs, else with the
  // others held when it does (NetworkScheduler::SetCenter).
  if (net_->phase(slot) == NetPhase::kHeld && net_->up(c)) net_->Ready(slot, net_->generation(slot), t_);
}

std::vector<CenterView> ControlPlaneImpl::Centers() {
  const WallMs now = Now();
  std::vector<CenterView> out;
  std::lock_guard<std::mutex> lk(mu_);
  for (CenterId c : centers_.ids()) out.push_back(ViewOf(c, now));
  return out;
}

std::vector<CenterHistory> ControlPlaneImpl::History() {
  std::vector<CenterHistory> out;
  std::lock_guard<std::mutex> lk(mu_);
  for (const CenterRt& x : centers_)
    out.push_back({x.built->name, std::vector<CenterSample>(x.history.begin(), x.history.end())});
  return out;
}

namespace {

// A center's samples are kept in the store as one row per hour of the day
// ("history/CENTER/H", H = 0..23 of UTC), each the JSON array of that hour's
// samples [time_ms, busy, devices, pending, running]; the row of an hour is
// rewritten at each of its samples and overwritten a day later, so the
// store holds at most a day of it.
constexpr int64_t kHourMs = 3'600'000;
std::string HistoryKey(const std::string& center, int64_t hour_of_day) {
  return fmt::format("history/{}/{}", center, hour_of_day);
}

}  // namespace

void ControlPlaneImpl::SampleHistory(WallMs now, PassWork* w) {
  if (last_sample_.ms() != 0 && now - last_sample_ < kHistoryIntervalS * 1000) return;
  last_sample_ = now;
  for (CenterId c : centers_.ids()) {
    const CenterView v = ViewOf(c, now);
    CenterRt& x = centers_[c];
    x.history.push_back({now, v.busy_devices, v.devices, v.pending, v.running});
    if (x.history.size() > kHistorySamples) x.history.pop_front();
    if (replay_) continue;  // a replay's store is thrown away
    nlohmann::json hour = nlohmann::json::array();
    for (auto it = x.history.end(); it != x.history.begin();) {
      --it;
      if (it->time_ms.ms() / kHourMs != now.ms() / kHourMs) break;
      hour.push_back({it->time_ms.ms(), it->busy_devices, it->devices, it->pending, it->running});
    }
    std::reverse(hour.begin(), hour.end());
    w->settings.emplace_back(HistoryKey(x.built->name, (now.ms() / kHourMs) % 24), hour.dump());
  }
}

void ControlPlaneImpl::LoadHistory(CenterId c, WallMs now) {
  CenterRt& x = centers_[c];
  const int64_t day_ms = static_cast<int64_t>(kHistorySamples) * kHistoryIntervalS * 1000;
  std::vector<CenterSample> got;
  for (int h = 0; h < 24; ++h) {
    const std::string key = HistoryKey(x.built->name, h);
    auto row = store_->GetSetting(key);
    if (!row.ok() || !*row) continue;
    auto j = nlohmann::json::parse(**row, nullptr, false);
    if (!j.is_array()) {
      spdlog::warn("center={} setting {} is not a JSON array; ignored", x.built->name, key);
      continue;
    }
    for (const auto& e : j) {
      if (!e.is_array() || e.size() != 5 || !e[0].is_number_integer() || !e[1].is_number() ||
          !e[2].is_number_integer() || !e[3].is_number_integer() || !e[4].is_number_integer())
        continue;
      CenterSample s{WallMs{e[0].get<int64_t>()}, e[1].get<double>(), e[2].get<int>(), e[3].get<int>(),
                     e[4].get<int>()};
      // The last day before now: older rows (a server stopped for hours) and
      // samples from a clock that was ahead are left out.
      if (s.time_ms > now || now - s.time_ms >= day_ms) continue;
      got.push_back(s);
    }
  }
  std::sort(got.begin(), got.end(), [](const CenterSample& a, const CenterSample& b) { return a.time_ms < b.time_ms; });
  x.history.assign(got.begin(), got.end());
  while (x.history.size() > kHistorySamples) x.history.pop_front();
  if (!x.history.empty()) last_sample_ = std::max(last_sample_, x.history.back().time_ms);
}

CenterView ControlPlaneImpl::ViewOf(CenterId c, WallMs now) const {
  const CenterRt& x = centers_[c];
  const Center& ce = network_.centers[c];
  CenterView v;
  v.name = x.built->name;
  v.backend = x.built->kind;
  v.region = ce.region;
  v.up = x.up;
  v.drained = x.drained;
  if (!x.up) v.reason = x.down_reason;
  else if (x.drained) v.reason = "drained by an operator";
  else if (!x.answering) v.reason = fmt::format("not answering since {}: {}", FormatMs(x.failing_since), x.error);
  else if (!x.has_nodes) v.reason = "no nodes";
  v.devices = x.devices;
  // Jobs its own queue holds (slurm) are pending there, not running.
  int held = 0;
  for (int64_t id : x.running) held += active_.at(id).rec.state == JobState::kPending ? 1 : 0;
  v.pending = static_cast<int>(x.queued.size()) + held;
  v.running = static_cast<int>(x.running.size()) - held;
  for (const auto& [node, why] : x.down_nodes) v.nodes_down.push_back({node, why});
  if (auto* ab = dynamic_cast<const AgentBackend*>(x.built->backend.get())) v.agent = ab->link()->View();
  v.pue = ce.pue;
  const int hour = LocalHour(ce, CoreTime(now), start_hour_);
  v.price_now = ce.price_per_kwh[hour];
  v.carbon_now = ce.carbon_g_per_kwh[hour];
  std::map<ModelId, int> totals;
  for (const Node& n : x.built->net.nodes)
    if (n.devices > 0 && n.model != kNoModel) totals[n.model] += n.devices;
  for (const auto& [m, total] : totals) {
    ModelUse u;
    u.model = catalog_.model(m).name;
    u.total = total;
    if (const Scheduler* sched = net_->scheduler(c)) {
      const ClusterState& st = sched->state();
      int slot = st.SlotOfModel(m);
      u.busy = static_cast<double>(st.slot_capacity_milli(slot) - st.slot_free_milli(slot)) / kWholeDevice;
    }
    v.busy_devices += u.busy;
    v.power_kw += u.busy * catalog_.model(m).power_w * ce.pue / 1000.0;
    v.models.push_back(std::move(u));
  }
  return v;
}

Status ControlPlaneImpl::Drain(const Caller& caller, const std::string& center) {
  if (!caller.admin) return PermissionDenied("draining a center is for the admin");
  auto c = FindCenter(center);
  if (!c) return NotFound("center '{}' not found (centers: {})", center, Join(center_names_, ", "));
  SUANLI_RETURN_IF_ERROR(store_->PutSetting("drain/" + center, "1"));
  PassWork w;
  {
    std::lock_guard<std::mutex> lk(mu_);
    CenterRt& x = centers_[*c];
    x.drained = true;
    const WallMs now = Step();
    const size_t queued = x.queued.size();
    // Pending jobs go elsewhere at once; running ones go on.
    SyncCenter(*c);
    Status st = net_->Evict(*c, t_, false);
    if (!st.ok()) spdlog::error("center={} {}", center, st.message());
    ApplyDecisions(now, &w);
    spdlog::info("center={} drained by {}; {} pending job(s) re-dispatched", center, caller.tenant, queued);
  }
  if (!w.writes.empty()) {
    // Jobs that can run nowhere else end: written by the store stage, in
    // order with the passes' writes.
    ToStore([this, recs = std::move(w.writes)] {
      for (size_t i = 0; const Status& st : store_->UpdateJobs(recs)) {
        if (!st.ok()) spdlog::error("drain: job={} store write failed: {}", recs[i].id, st.message());
        ++i;
      }
    });
  }
  Wake();
  return Status::Ok();
}

Status ControlPlaneImpl::Resume(const Caller& caller, const std::string& center) {
  if (!caller.admin) return PermissionDenied("resuming a center is for the admin");
  auto c = FindCenter(center);
  if (!c) return NotFound("center '{}' not found (centers: {})", center, Join(center_names_, ", "));
  SUANLI_RETURN_IF_ERROR(store_->PutSetting("drain/" + center, "0"));
  {
    std::lock_guard<std::mutex> lk(mu_);
    CenterRt& x = centers_[*c];
    x.drained = false;
    Step();
    SyncCenter(*c);
    spdlog::info("center={} resumed by {}", center, caller.tenant);
  }
  Wake();
  return Status::Ok();
}

void ControlPlaneImpl::SaveAbandoned(CenterId c, PassWork* w) {
  CenterRt& x = centers_[c];
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, bid] : x.abandoned) j[std::to_string(id)] = bid;
  w->settings.emplace_back("abandoned/" + x.built->name, j.dump());
  x.abandoned_dirty = false;
}

}  // namespace suanli::live::control_detail
