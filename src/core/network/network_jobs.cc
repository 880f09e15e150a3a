// The network scheduler's job life: jobs added and freed, arrivals, runs
// that end, fail or are stopped, and a tenant's withdrawal
// (network_scheduler.h).
#include <algorithm>

#include <fmt/format.h>

#include "core/network/network_scheduler.h"

namespace suanli {

RunEnd NetworkScheduler::UncountedEnd(JobId id) const {
  RunEnd e;
  e.center = jobs_[id].center;
  e.start = jobs_[id].run_start;
  e.devices = devices(id);
  return e;
}

RunEnd NetworkScheduler::EndRun(JobId id, CenterId c, Allocation local) {
  const NetJob& j = jobs_[id];
  RunEnd e = UncountedEnd(id);
  e.center = c;
  e.alloc = std::move(local);
  status_[c].running_devices -= e.devices;
  status_[c].running_end_sum -= e.devices * ToSeconds(j.expected_end);
  return e;
}

double NetworkScheduler::ChargeOverhead(JobId id, Time t) {
  const NetJob& j = jobs_[id];
  if (j.overhead <= 0) return 0;
  return devices(id) * ToSeconds(std::min(j.overhead, t - j.run_start));
}

Result<RunEnd> NetworkScheduler::Interrupt(JobId id, Time t, std::optional<Duration> kept) {
  NetJob& j = jobs_[id];
  const CenterId c = j.center;
  RunEnd e;
  if (j.counted) {
    auto alloc = centers_[c].sched->Remove(id, t);
    if (!alloc) return Internal("job {} was running but its center's scheduler does not hold it", id);
    e = EndRun(id, c, std::move(*alloc));
  } else {
    e = UncountedEnd(id);
  }
  Duration useful = std::max<Duration>(0, t - j.run_start - j.overhead);
  const Job& job = w_.jobs[id];
  Duration interval = job.checkpoint > 0 ? job.checkpoint : opt_.checkpoint;
  Duration saved = interval > 0 ? useful / interval * interval : 0;
  if (kept) saved = std::clamp<Duration>(*kept - j.overhead, 0, useful);
  j.remaining = std::max(0.0, j.remaining - ToSeconds(saved) * j.speed);
  e.lost_dev_s = e.devices * ToSeconds(t - j.run_start - saved);
  j.overhead = opt_.restart_cost;
  j.counted = true;
  j.fruitless = saved > 0 ? 0 : j.fruitless + 1;
  ++j.gen;
  dispatcher_->Done(id);
  return e;
}

void NetworkScheduler::Restart(JobId id, Time t) {
  const int n = jobs_[id].fruitless;
  if (opt_.max_restarts > 0 && n > opt_.max_restarts) {
    return RecordUnschedulable(
        id, fmt::format("its last {} runs were lost before a checkpoint (failures, outages); given up", n));
  }
  Dispatch(id, t);
}

void NetworkScheduler::TakeBack(JobId id, Time t) {
  NetJob& j = jobs_[id];
  const CenterId c = j.center;
  centers_[c].sched->Remove(id, t);
  status_[c].backlog_dev_s = std::max(0.0, status_[c].backlog_dev_s - devices(id) * j.remaining);
  dispatcher_->Done(id);
  ++j.gen;
}

// ------------------------------------------------------------------ events

JobId NetworkScheduler::AddJob(Job job) {
  JobId id;
  if (!free_slots_.empty()) {
    id = free_slots_.back();
    free_slots_.pop_back();
    const uint32_t gen = jobs_[id].gen + 1;
    jobs_[id] = NetJob{};
    jobs_[id].gen = gen;
    places_.erase(id);
  } else {
    id = jobs_.next_id();
    jobs_.emplace_back();
    w_.jobs.emplace_back();
    asked_models_.push_back(0);
  }
  job.id = id;
  jobs_[id].remaining = job.work;
  asked_models_[id] = job.models;
  w_.jobs[id] = job;
  return id;
}

void NetworkScheduler::FreeJob(JobId id) {
  if (jobs_[id].phase != NetPhase::kDone) Withdraw(id, 0);
  dispatcher_->Done(id);
  places_.erase(id);
  free_slots_.push_back(id);
}

void NetworkScheduler::Avoid(JobId id, CenterId c, Time until) {
  Places& p = places_[id];
  p.avoid = c;
  p.avoid_until = until;
}

void NetworkScheduler::Arrive(JobId id, Time t) { Dispatch(id, t); }

uint16_t NetworkScheduler::CenterPlace(CenterId c) { return Place(network_.centers[c].name); }

uint16_t NetworkScheduler::Place(std::string_view name) {
  const uint32_t p = w_.places.Intern(name);
  if (p >= place_center_.size()) {
    place_center_.resize(p + 1, kNoCenter);
    place_region_.resize(p + 1, UINT32_MAX);
    if (auto c = network_.FindCenter(name)) place_center_[p] = *c;
    if (auto r = network_.FindRegion(name)) place_region_[p] = *r;
  }
  return static_cast<uint16_t>(p);
}

void NetworkScheduler::Ready(JobId id, uint32_t generation, Time t) {
  NetJob& j = jobs_[id];
  if (generation != j.gen) return;
  if (j.phase == NetPhase::kHeld) {
    held_.erase(std::remove(held_.begin(), held_.end(), id), held_.end());
    return Dispatch(id, t);
  }
  if (j.phase != NetPhase::kInFlight) return;
  if (!status_[j.center].up) return Dispatch(id, t);
  QueueAt(id, j.center, t);
  Send(id, j.center, t);  // it is in that center's queue now
}

void NetworkScheduler::Withdraw(JobId id, Time t) {
  NetJob& j = jobs_[id];
  switch (j.phase) {
    case NetPhase::kQueued: TakeBack(id, t); break;
    case NetPhase::kHeld: held_.erase(std::remove(held_.begin(), held_.end(), id), held_.end()); break;
    case NetPhase::kRunning:
    case NetPhase::kStopping:
      if (j.counted) {
        if (auto a = centers_[j.center].sched->Remove(id, t)) EndRun(id, j.center, *a);
        centers_[j.center].changed = true;
      }
      break;
    default: break;
  }
  j.phase = NetPhase::kDone;
  ++j.gen;
  stopping_.erase(id);
  dispatcher_->Done(id);
}

bool NetworkScheduler::Adopt(JobId id, CenterId c, const Allocation* local, Time started, Time t) {
  NetJob& j = jobs_[id];
  j.center = c;
  j.phase = NetPhase::kRunning;
  j.run_start = started;
  const Job& job = w_.jobs[id];
  j.speed = !local || local->model == kNoModel ? 1.0 : std::max(1e-9, Speed(job, local->model, catalog_, w_));
  Scheduler* sched = centers_[c].sched.get();
  j.counted = sched && local && sched->Adopt(id, *local, started, t);
  if (!j.counted) return false;
  j.expected_end = sched->ExpectedEnd(id);
  status_[c].running_devices += devices(id);
  status_[c].running_end_sum += devices(id) * ToSeconds(j.expected_end);
  return true;
}

const Allocation* NetworkScheduler::Relocate(JobId id, const std::vector<NodeId>& nodes) {
  NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kRunning || !j.counted) return nullptr;
  Scheduler* sched = centers_[j.center].sched.get();
  const Allocation* moved = sched ? sched->Relocate(id, nodes) : nullptr;
  if (moved) centers_[j.center].changed = true;
  return moved;
}

Result<RunEnd> NetworkScheduler::Finished(JobId id, Time t) {
  NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kRunning)
    return Internal("job {} finished but was not running (phase {})", id, static_cast<int>(j.phase));
  const CenterId c = j.center;
  RunEnd e;
  if (j.counted) {
    const Allocation* a = centers_[c].sched->AllocationOf(id);
    if (!a) return Internal("job {} finished but its center's scheduler does not hold it", id);
    e = EndRun(id, c, *a);
    e.lost_dev_s = ChargeOverhead(id, t);
    centers_[c].sched->Finish(id, t);
    centers_[c].changed = true;
  } else {
    e = UncountedEnd(id);
  }
  j.remaining = 0;
  j.phase = NetPhase::kDone;
  dispatcher_->Done(id);
  return e;
}

Result<RunEnd> NetworkScheduler::Failed(JobId id, Time t, Time avoid_until, std::optional<Duration> kept) {
  if (jobs_[id].phase != NetPhase::kRunning)
    return Internal("job {} failed but was not running (phase {})", id, static_cast<int>(jobs_[id].phase));
  const CenterId c = jobs_[id].center;
  SUANLI_ASSIGN_OR_RETURN(RunEnd e, Interrupt(id, t, kept));
  centers_[c].changed = true;
  if (avoid_until > t) Avoid(id, c, avoid_until);
  Restart(id, t);
  return e;
}

Result<RunEnd> NetworkScheduler::Stop(JobId id, Time t) {
  NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kRunning)
    return Internal("job {} is stopped but was not running (phase {})", id, static_cast<int>(j.phase));
  const CenterId c = j.center;
  RunEnd e = UncountedEnd(id);
  Stopping& stop = stopping_[id];
  stop = Stopping{.carried = {}, .before = j.remaining, .overhead = j.overhead};
  JobProgress& carried = stop.carried;
  carried.remaining = j.remaining;
  if (j.counted) {
    Scheduler& sched = *centers_[c].sched;
    if (auto a = sched.Remove(id, t)) e = EndRun(id, c, *a);
    carried = sched.Progress(id);
    j.remaining = carried.remaining;
    centers_[c].changed = true;
  }
  j.counted = true;
  j.phase = NetPhase::kStopping;
  ++j.gen;
  return e;
}

void NetworkScheduler::Stopped(JobId id, Time t, bool elsewhere, std::optional<Duration> kept) {
  NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kStopping) return;
  const CenterId c = j.center;
  const Stopping stop = stopping_[id];
  stopping_.erase(id);
  JobProgress carried = stop.carried;
  if (kept && j.run_start >= 0) {
    // Only the work up to its last checkpoint counts.
    const Duration useful = std::max<Duration>(0, *kept - stop.overhead);
    j.remaining = std::max(0.0, stop.before - ToSeconds(useful) * j.speed);
    carried.remaining = j.remaining;
    carried.est_remaining = -1;
  }
  if (!elsewhere && status_[c].up && centers_[c].sched) {
    // Back to the queue it was stopped from, with what it had.
    j.phase = NetPhase::kQueued;
    if (carried.queued_since < 0) carried.queued_since = t;
    centers_[c].sched->Submit(id, t, carried);
    status_[c].backlog_dev_s += devices(id) * j.remaining;
    centers_[c].changed = true;
    Send(id, c, t);
    return;
  }
  dispatcher_->Done(id);
  Dispatch(id, t);
}

std::optional<Reservation> NetworkScheduler::EstimateStart(JobId id, Time t) {
  const NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kQueued || !centers_[j.center].sched) return std::nullopt;
  return centers_[j.center].sched->EstimateStart(id, t, estimate_rng_);
}

std::string SentLaterReason(const NetDecision& d, std::string_view until, std::string_view deferred_for) {
  if (!d.deferred) return fmt::format("staging its dataset until {}", until);
  return deferred_for.empty() ? fmt::format("deferred until {}", until)
                              : fmt::format("deferred until {} ({})", until, deferred_for);
}

std::string HeldToModel(std::string_view model, std::string_view dispatch) {
  return fmt::format("; held to model {} by the dispatcher ({})", model, dispatch);
}

std::string NetworkScheduler::WhyWaiting(JobId id, Time t) {
  const NetJob& j = jobs_[id];
  if (j.phase != NetPhase::kQueued || !centers_[j.center].sched) return "";
  // A stream of its own per job and time: the answer depends on the state
  // only, not on what was asked before (a replay asks what the simulator
  // does not, and both write the same reasons).
  Rng rng(opt_.seed ^ 0x7768792077616974ULL ^ (uint64_t{id.value()} << 32) ^ static_cast<uint64_t>(t));
  return centers_[j.center].sched->WhyWaiting(id, t, rng);
}

}  // namespace suanli
