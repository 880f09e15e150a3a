#include "core/network/network_scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/policy/place/fragmentation.h"

namespace suanli {

NetworkScheduler::NetworkScheduler(const Workload& workload, const Network& network, const Catalog& catalog,
                                   const NetworkOptions& options)
    : workload_(workload),
      network_(network),
      catalog_(catalog),
      opt_(options),
      paths_(network),
      rng_(options.seed),
      estimate_rng_(options.seed ^ 0x657374696d617465ULL) {}

Result<std::unique_ptr<NetworkScheduler>> NetworkScheduler::Create(const Workload& workload, const Network& network,
                                                                   const Catalog& catalog, const PolicySpec& policy,
                                                                   const NetworkOptions& options) {
  const std::vector<Job>& jobs = workload.jobs.vec();
  for (size_t i = 1; i < jobs.size(); ++i)
    if (jobs[i].submit < jobs[i - 1].submit)
      return InvalidArgument("workload is not sorted by submit time (job {})", i);
  if (network.centers.empty()) return InvalidArgument("network '{}' has no centers", network.name);
  std::unique_ptr<NetworkScheduler> s(new NetworkScheduler(workload, network, catalog, options));
  SUANLI_RETURN_IF_ERROR(s->Init(policy));
  return s;
}

Status NetworkScheduler::Init(const PolicySpec& policy) {
  const Workload& workload = workload_;
  const Network& network = network_;
  const size_t n = workload.jobs.size();
  const size_t nc = network.centers.size();

  // Places named by jobs must exist in the network.
  place_center_.assign(workload.places.size(), kNoCenter);
  place_region_.assign(workload.places.size(), UINT32_MAX);
  for (size_t p = 0; p < workload.places.size(); ++p) {
    const std::string& name = workload.places.Name(static_cast<uint32_t>(p));
    if (auto c = network.FindCenter(name)) place_center_[p] = *c;
    if (auto r = network.FindRegion(name)) place_region_[p] = *r;
  }
  for (JobId i : workload.jobs.ids()) {
    const Job& j = workload.jobs[i];
    auto bad = [&](uint16_t place, const char* field, bool want_center) -> Status {
      if (place == kNoPlace) return Status::Ok();
      if (place >= workload.places.size())
        return InvalidArgument("job {} ({}): {} index out of range", i, workload.JobName(i), field);
      bool ok = want_center ? place_center_[place] != kNoCenter : place_region_[place] != UINT32_MAX;
      if (!ok)
        return InvalidArgument("job {} ({}): {} '{}' is not a {} of network '{}'", i, workload.JobName(i), field,
                               workload.places.Name(place), want_center ? "center" : "region", network.name);
      return Status::Ok();
    };
    SUANLI_RETURN_IF_ERROR(bad(j.home, "home", true));
    SUANLI_RETURN_IF_ERROR(bad(j.data_at, "data_at", true));
    SUANLI_RETURN_IF_ERROR(bad(j.region, "region", false));
  }

  // Its own copy of the jobs: the dispatcher may hold a job to one model at
  // the center it picks.
  w_.name = workload.name;
  w_.jobs = workload.jobs;
  w_.tenants = workload.tenants;
  w_.users = workload.users;
  w_.overrides = workload.overrides;
  w_.places = workload.places;
  jobs_.resize(n);
  asked_models_.resize(n);
  for (JobId i : workload.jobs.ids()) {
    jobs_[i].remaining = workload.jobs[i].work;
    asked_models_[i] = workload.jobs[i].models;
  }

  // One scheduler per center, over its own nodes.
  centers_.resize(nc);
  for (NodeId i : network.nodes.ids()) centers_[network.nodes[i].center].global.push_back(i);
  TaskMix mix;
  const bool with_mix = opt_.task_mix || opt_.task_mix_from_workload;
  if (opt_.task_mix) mix = *opt_.task_mix;
  else if (opt_.task_mix_from_workload) mix = ComputeTaskMix(workload);
  if (with_mix) mix_ = std::make_shared<const TaskMix>(mix);
  for (CenterId c : network.centers.ids()) {
    CenterSlot& x = centers_[c];
    if (x.global.empty()) continue;
    x.net.name = network.name + "/" + network.centers[c].name;
    x.net.centers = network.centers;
    x.net.pools = network.pools;
    x.net.num_racks = network.num_racks;
    x.net.num_pods = network.num_pods;
    x.net.nodes.reserve(x.global.size());
    for (NodeId g : x.global) x.net.nodes.push_back(network.nodes[g]);
    SUANLI_ASSIGN_OR_RETURN(x.sched, Scheduler::Create(policy, catalog_, x.net, w_, opt_.scheduler));
    if (with_mix) x.sched->placer().SetTaskMix(mix);
  }
  SUANLI_ASSIGN_OR_RETURN(dispatcher_, MakeDispatcher(opt_.dispatch, network, catalog_));
  dispatcher_->set_explain(opt_.explain_dispatch);
  status_.resize(nc);
  for (CenterId c : network.centers.ids()) status_[c].sched = centers_[c].sched.get();
  view_ = std::make_unique<DispatchView>(
      DispatchView{network, catalog_, w_, paths_, status_, place_center_, place_region_, opt_.start_hour});
  return Status::Ok();
}

size_t NetworkScheduler::num_pending() const {
  size_t pending = 0;
  for (const auto& c : centers_)
    if (c.sched) pending += c.sched->num_pending();
  return pending;
}

Allocation NetworkScheduler::ToNetwork(CenterId c, Allocation local) const {
  for (auto& sh : local.shares) sh.node = centers_[c].global[sh.node];
  return local;
}

// ---------------------------------------------------------------- dispatch

void NetworkScheduler::RecordUnschedulable(JobId id, std::string why) {
  NetJob& j = jobs_[id];
  if (j.phase == NetPhase::kDone) return;
  j.phase = NetPhase::kDone;
  dispatcher_->Done(id);
  NetDecision d;
  d.kind = NetDecision::Kind::kUnschedulable;
  d.job = id;
  d.center = j.center;
  d.reason = std::move(why);
  out_.push_back(std::move(d));
}

void NetworkScheduler::QueueAt(JobId id, CenterId c, Time t) {
  NetJob& j = jobs_[id];
  j.center = c;
  j.phase = NetPhase::kQueued;
  status_[c].backlog_dev_s += devices(id) * j.remaining;
  if (j.remaining == w_.jobs[id].work) centers_[c].sched->Submit(id, t);
  else centers_[c].sched->Submit(id, t, j.remaining);
  centers_[c].changed = true;
}

void NetworkScheduler::Hold(JobId id, CenterId c, Time retry, std::string why) {
  NetJob& j = jobs_[id];
  j.phase = NetPhase::kHeld;
  j.center = c;
  held_.push_back(id);
  NetDecision h;
  h.kind = NetDecision::Kind::kHold;
  h.job = id;
  h.center = c;
  h.at = retry;
  h.generation = j.gen;
  h.reason = std::move(why);
  out_.push_back(std::move(h));
}

NetDecision& NetworkScheduler::Send(JobId id, CenterId c, Time at) {
  NetDecision& s = out_.emplace_back();
  s.kind = NetDecision::Kind::kSend;
  s.job = id;
  s.center = c;
  s.at = at;
  s.generation = jobs_[id].gen;
  return s;
}

void NetworkScheduler::Dispatch(JobId id, Time t) {
  NetJob& j = jobs_[id];
  w_.jobs[id].models = asked_models_[id];
  static const Places kAnywhere;
  auto placed = places_.empty() ? places_.end() : places_.find(id);
  const Places& p = placed == places_.end() ? kAnywhere : placed->second;
  const bool avoiding = p.avoid != kNoCenter && t < p.avoid_until;
  if (p.pinned != kNoCenter) {
    // Pinned to one center: it waits for that center, or never runs.
    const CenterId c = p.pinned;
    const std::string& name = network_.centers[c].name;
    std::string why = centers_[c].sched ? centers_[c].sched->WhyNever(w_.jobs[id]) : "it has no nodes";
    if (!why.empty()) return RecordUnschedulable(id, fmt::format("cannot run at center {}: {}", name, why));
    if (!status_[c].up) return Hold(id, c, kNever, fmt::format("its center {} takes no jobs now", name));
    if (avoiding && p.avoid == c)
      return Hold(id, c, p.avoid_until, fmt::format("center {} stopped its last run", name));
    // Its dataset, held elsewhere, is staged first: in the time its links
    // take, at least a microsecond (with no route between the two, the
    // network has no figure for it; the live plane copies it all the same).
    const Job& job = w_.jobs[id];
    const CenterId data = job.data_at != kNoPlace && job.data_at < view_->place_center.size()
                              ? view_->place_center[job.data_at]
                              : kNoCenter;
    if (data == kNoCenter || data == c || job.data_gb <= 0) {
      NetDecision& s = Send(id, c, t);
      if (opt_.explain_dispatch) s.why = "the center it asked for";
      return QueueAt(id, c, t);
    }
    double transfer_s = view_->paths.TransferSeconds(data, c, job.data_gb);
    if (!std::isfinite(transfer_s)) transfer_s = 0;
    NetDecision& s = Send(id, c, t + std::max<Duration>(1, SecondsF(transfer_s)));
    if (opt_.explain_dispatch) s.why = "the center it asked for";
    s.transfer_s = transfer_s;
    j.phase = NetPhase::kInFlight;
    j.center = c;
    return;
  }
  view_->avoid = avoiding ? p.avoid : kNoCenter;
  DispatchDecision d = dispatcher_->Dispatch(id, j.remaining, t, *view_);
  view_->avoid = kNoCenter;
  const Time retry = avoiding ? p.avoid_until : kNever;
  switch (d.kind) {
    case DispatchDecision::Kind::kReject: RecordUnschedulable(id, d.reason); return;
    case DispatchDecision::Kind::kHold: Hold(id, d.center, retry, std::move(d.reason)); return;
    case DispatchDecision::Kind::kSend: break;
  }
  if (d.models) w_.jobs[id].models = d.models;
  NetDecision& s = Send(id, d.center, std::max(d.at, t));
  s.transfer_s = d.transfer_s;
  s.deferred = d.deferred;
  s.why = std::move(d.why);
  if (d.at <= t) {
    QueueAt(id, d.center, t);
  } else {
    j.phase = NetPhase::kInFlight;
    j.center = d.center;
  }
}

// ----------------------------------------------------------------- centers

void NetworkScheduler::SetCenter(CenterId c, bool accepting, bool passing, Time t) {
  CenterSlot& x = centers_[c];
  const bool was_accepting = status_[c].up;
  status_[c].up = accepting;
  if (passing && !x.passing) x.changed = true;
  x.passing = passing;
  if (accepting && !was_accepting) {
    std::vector<JobId> again;
    again.swap(held_);
    for (JobId id : again) Dispatch(id, t);
  }
}

Status NetworkScheduler::Evict(CenterId c, Time t, bool running, const KeptFn& kept) {
  if (!centers_[c].sched) return Status::Ok();
  // Running jobs lose the work since their last checkpoint; queued ones go
  // back to the dispatcher.
  std::vector<JobId> moved;
  for (JobId id : jobs_.ids()) {
    NetJob& j = jobs_[id];
    if (j.center != c) continue;
    if (running && j.phase == NetPhase::kRunning) {
      SUANLI_ASSIGN_OR_RETURN(RunEnd e, Interrupt(id, t, kept ? kept(id) : std::nullopt));
      NetDecision d;
      d.kind = NetDecision::Kind::kInterrupt;
      d.job = id;
      d.center = c;
      d.at = t;
      d.end = std::move(e);
      out_.push_back(std::move(d));
      moved.push_back(id);
    } else if (running && j.phase == NetPhase::kStopping) {
      // Out of the scheduler already: its run is given up on with the center.
      NetDecision d;
      d.kind = NetDecision::Kind::kInterrupt;
      d.job = id;
      d.center = c;
      d.at = t;
      d.end = UncountedEnd(id);
      ++j.gen;
      stopping_.erase(id);
      dispatcher_->Done(id);
      out_.push_back(std::move(d));
      moved.push_back(id);
    } else if (j.phase == NetPhase::kQueued) {
      TakeBack(id, t);
      moved.push_back(id);
    }
  }
  status_[c].backlog_dev_s = 0;
  for (JobId id : moved) Restart(id, t);
  return Status::Ok();
}

Status NetworkScheduler::CenterDown(CenterId c, Time t) {
  if (centers_[c].down_depth++ > 0) return Status::Ok();  // already down
  SetCenter(c, false, false, t);
  return Evict(c, t, true);
}

void NetworkScheduler::CenterUp(CenterId c, Time t) {
  if (--centers_[c].down_depth > 0) return;
  SetCenter(c, true, true, t);
}

void NetworkScheduler::SetNodeUp(CenterId c, NodeId local, bool up) {
  CenterSlot& x = centers_[c];
  if (!x.sched || x.sched->state().up(local) == up) return;
  x.sched->SetNodeUp(local, up);
  x.changed = true;
}

void NetworkScheduler::Wake(CenterId c, Time t) {
  if (centers_[c].wake == t) centers_[c].changed = true;
}

void NetworkScheduler::WakeDue(Time t) {
  for (CenterSlot& x : centers_)
    if (x.wake <= t) x.changed = true;
}

void NetworkScheduler::GiveUpHeld() {
  // Nothing else will happen: the centers these jobs wait for stay down.
  for (JobId id : held_)
    RecordUnschedulable(id, fmt::format("its center {} never came back", network_.centers[jobs_[id].center].name));
  held_.clear();
}

Status NetworkScheduler::SetQuotas(const std::shared_ptr<const QuotaSpec>& quotas) {
  // Resolve against every center first, so that an error changes none.
  if (quotas && !quotas->empty()) {
    for (const CenterSlot& x : centers_) {
      if (!x.sched) continue;
      auto q = QuotaUsage::Resolve(*quotas, w_.tenants, w_.tenants.size(), x.sched->state().total_capacity_milli());
      if (!q.ok()) return q.status();
    }
  }
  for (CenterSlot& x : centers_) {
    if (!x.sched) continue;
    SUANLI_RETURN_IF_ERROR(x.sched->SetQuotas(quotas));
    x.changed = true;
  }
  return Status::Ok();
}

// ------------------------------------------------------------------ passes

Status NetworkScheduler::Pass(Time t) {
  for (CenterId c : centers_.ids()) SUANLI_RETURN_IF_ERROR(PassCenter(c, t));
  return Status::Ok();
}

Status NetworkScheduler::PassCenter(CenterId c, Time t) {
  CenterSlot& x = centers_[c];
  if (!x.changed || !x.sched) return Status::Ok();
  auto wake = [&](Time at) {
    x.wake = at;
    NetDecision d;
    d.kind = NetDecision::Kind::kWake;
    d.center = c;
    d.at = at;
    out_.push_back(std::move(d));
  };
  if (opt_.pass_interval > 0 && x.last_pass >= 0 && t < x.last_pass + opt_.pass_interval) {
    // Passes at most every pass_interval (Slurm's sched_min_interval): what
    // happened since waits for the next one.
    Time next = x.last_pass + opt_.pass_interval;
    if (x.wake == kNever || x.wake > next) wake(next);
    return Status::Ok();
  }
  x.changed = false;
  x.wake = kNever;
  if (!x.passing) return Status::Ok();
  x.last_pass = t;
  PassResult pass = x.sched->Pass(t, rng_);
  ++passes_;
  for (auto& d : pass.decisions) {
    const JobId id = d.job;
    NetJob& j = jobs_[id];
    switch (d.kind) {
      case Decision::Kind::kStart: {
        const Job& job = w_.jobs[id];
        double s = d.alloc.model == kNoModel ? 1.0 : Speed(job, d.alloc.model, catalog_, w_);
        if (s <= 0) return Internal("job {} started on a model where it cannot run", id);
        const double dev = devices(id);
        status_[c].backlog_dev_s = std::max(0.0, status_[c].backlog_dev_s - dev * j.remaining);
        j.speed = s;
        j.run_start = t;
        j.phase = NetPhase::kRunning;
        Duration dur = j.overhead + std::max<Duration>(1, SecondsF(j.remaining / s));
        j.expected_end = t + dur;
        status_[c].running_devices += dev;
        status_[c].running_end_sum += dev * ToSeconds(j.expected_end);
        NetDecision o;
        o.kind = NetDecision::Kind::kStart;
        o.job = id;
        o.center = c;
        o.at = t;
        o.alloc = std::move(d.alloc);
        o.run = dur;
        o.generation = j.gen;
        out_.push_back(std::move(o));
        break;
      }
      case Decision::Kind::kPreempt: {
        // The scheduler has released it already and keeps it queued. A
        // preempted job checkpoints as it stops: it keeps its work.
        NetDecision o;
        o.kind = NetDecision::Kind::kPreempt;
        o.job = id;
        o.by = d.by;
        o.center = c;
        o.at = t;
        o.end = EndRun(id, c, std::move(d.alloc));
        o.end.lost_dev_s = ChargeOverhead(id, t);
        ++j.gen;
        if (opt_.confirm_stops) {
          // It waits out of the queue until its run has stopped (Stopped).
          Stopping& stop = stopping_[id];
          stop = Stopping{.carried = x.sched->Progress(id), .before = j.remaining, .overhead = j.overhead};
          const JobProgress& carried = stop.carried;
          x.sched->Remove(id, t);
          j.remaining = carried.remaining;
          j.overhead = 0;
          j.phase = NetPhase::kStopping;
          out_.push_back(std::move(o));
          break;
        }
        Duration useful = std::max<Duration>(0, t - j.run_start - j.overhead);
        j.remaining = std::max(0.0, j.remaining - ToSeconds(useful) * j.speed);
        j.overhead = 0;
        status_[c].backlog_dev_s += o.end.devices * j.remaining;
        j.phase = NetPhase::kQueued;
        out_.push_back(std::move(o));
        break;
      }
      case Decision::Kind::kUnschedulable: RecordUnschedulable(id, d.reason); break;
    }
  }
  if (pass.wake_at != kNever && pass.wake_at > t) wake(pass.wake_at);
  return Status::Ok();
}

}  // namespace suanli
