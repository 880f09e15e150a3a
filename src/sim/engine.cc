#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>

#include "core/policy/place/fragmentation.h"

namespace suanli {
namespace {

// The simulator's own account of what is allocated, independent of the
// schedulers' ClusterStates, to catch any over-allocation. Node ids are the
// network's (global).
class Ledger {
 public:
  explicit Ledger(const Network& net) : net_(net) {
    cpu_.assign(net.nodes.size(), 0);
    mem_.assign(net.nodes.size(), 0);
    off_.resize(net.nodes.size() + 1);
    uint32_t o = 0;
    for (size_t i = 0; i < net.nodes.size(); ++i) {
      off_[i] = o;
      o += net.nodes[i].devices;
    }
    off_.back() = o;
    dev_.assign(o, 0);
  }
  Status Apply(const Job& job, const Allocation& a, ModelMask eligible, int sign) {
    if (sign > 0) {
      // Gang: all devices at once, of one accepted model.
      int64_t milli = a.GpuMilli();
      if (milli != job.GpuMilli())
        return Internal("job {}: allocation holds {} milli-devices, the job asks {}", job.id, milli, job.GpuMilli());
      if (job.num_gpus > 0 && !(eligible >> a.model & 1))
        return Internal("job {}: placed on a model it does not accept", job.id);
    }
    for (const auto& sh : a.shares) {
      if (sh.node >= net_.nodes.size()) return Internal("job {}: node {} out of range", job.id, sh.node);
      const Node& n = net_.nodes[sh.node];
      if (sign > 0 && sh.devices && n.model != a.model)
        return Internal("job {}: node {} is not of the allocation's model", job.id, n.name);
      cpu_[sh.node] += sign * sh.cpu_milli;
      mem_[sh.node] += sign * sh.mem_mib;
      if (cpu_[sh.node] > n.cpu_milli || mem_[sh.node] > n.mem_mib || cpu_[sh.node] < 0 || mem_[sh.node] < 0)
        return Internal("node {} CPU or memory over-allocated by job {}", n.name, job.id);
      for (int d = 0; d < n.devices; ++d) {
        if (!(sh.devices >> d & 1)) continue;
        int32_t& u = dev_[off_[sh.node] + d];
        u += sign * sh.milli;
        if (u > 1000 || u < 0) return Internal("device {} of node {} over-allocated by job {}", d, n.name, job.id);
      }
      if (n.devices < 32 && (sh.devices >> n.devices))
        return Internal("job {}: device index beyond node {}", job.id, n.name);
    }
    return Status::Ok();
  }

 private:
  const Network& net_;
  std::vector<int64_t> cpu_, mem_;
  std::vector<uint32_t> off_;
  std::vector<int32_t> dev_;
};

enum class Ev : uint8_t { kFinish, kFail, kReady, kOutageStart, kOutageEnd, kWake };

struct Event {
  Time t;
  uint64_t seq;
  Ev kind;
  uint32_t id;   // job, or center
  uint32_t gen;  // job generation (stale events are skipped); outage: its duration index
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && seq > o.seq); }
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  k = std::min(v.size() - 1, k == 0 ? 0 : k - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// One center: its slice of the network (nodes renumbered from 0) and its scheduler.
struct CenterSim {
  Network net;
  std::vector<NodeId> global;  // local node -> network node
  std::unique_ptr<Scheduler> sched;
  bool changed = false;
  Time wake = kNever;
  Time last_pass = -1;
};

enum class JobPhase : uint8_t { kWaiting, kInFlight, kQueued, kRunning, kHeld, kDone };

}  // namespace

SimSummary Summarize(const std::vector<JobRecord>& jobs) {
  SimSummary s;
  s.jobs = jobs.size();
  std::vector<double> jct, wait;
  jct.reserve(jobs.size());
  wait.reserve(jobs.size());
  Time first = kNever, last = 0;
  for (const auto& j : jobs) {
    first = std::min(first, j.submit);
    s.preemptions += j.preemptions;
    if (j.unschedulable) {
      ++s.unschedulable;
      continue;
    }
    if (j.end < 0) continue;
    ++s.finished;
    jct.push_back(ToSeconds(j.end - j.submit));
    wait.push_back(ToSeconds(j.start - j.submit));
    last = std::max(last, j.end);
  }
  if (!jct.empty()) {
    double sj = 0, sw = 0;
    for (double v : jct) sj += v;
    for (double v : wait) sw += v;
    s.avg_jct_s = sj / static_cast<double>(jct.size());
    s.avg_wait_s = sw / static_cast<double>(wait.size());
    s.p50_jct_s = Percentile(jct, 0.50);
    s.p95_jct_s = Percentile(jct, 0.95);
    s.p99_jct_s = Percentile(jct, 0.99);
    s.p50_wait_s = Percentile(wait, 0.50);
    s.p99_wait_s = Percentile(wait, 0.99);
    s.makespan_s = ToSeconds(last - first);
  }
  return s;
}

Result<SimResult> Simulate(const Workload& workload, const Network& network, const Catalog& catalog,
                           const PolicySpec& policy, const SimOptions& options) {
  const size_t n = workload.jobs.size();
  for (size_t i = 1; i < n; ++i)
    if (workload.jobs[i].submit < workload.jobs[i - 1].submit)
      return InvalidArgument("workload is not sorted by submit time (job {})", i);
  const size_t nc = network.centers.size();
  if (nc == 0) return InvalidArgument("network '{}' has no centers", network.name);

  // Places named by jobs must exist in the network.
  std::vector<CenterId> place_center(workload.places.size(), kNoCenter);
  std::vector<uint32_t> place_region(workload.places.size(), UINT32_MAX);
  for (size_t p = 0; p < workload.places.size(); ++p) {
    const std::string& name = workload.places.Name(static_cast<uint32_t>(p));
    if (auto c = network.FindCenter(name)) place_center[p] = *c;
    if (auto r = network.FindRegion(name)) place_region[p] = *r;
  }
  for (size_t i = 0; i < n; ++i) {
    const Job& j = workload.jobs[i];
    auto bad = [&](uint16_t place, const char* field, bool want_center) -> Status {
      if (place == kNoPlace) return Status::Ok();
      if (place >= workload.places.size())
        return InvalidArgument("job {} ({}): {} index out of range", i, workload.JobName(i), field);
      bool ok = want_center ? place_center[place] != kNoCenter : place_region[place] != UINT32_MAX;
      if (!ok)
        return InvalidArgument("job {} ({}): {} '{}' is not a {} of network '{}'", i, workload.JobName(i), field,
                               workload.places.Name(place), want_center ? "center" : "region", network.name);
      return Status::Ok();
    };
    SUANLI_RETURN_IF_ERROR(bad(j.home, "home", true));
    SUANLI_RETURN_IF_ERROR(bad(j.data_at, "data_at", true));
    SUANLI_RETURN_IF_ERROR(bad(j.region, "region", false));
  }

  // The engine's own copy of the jobs: the dispatcher may hold a job to one
  // model at the center it picks.
  Workload w;
  w.name = workload.name;
  w.jobs = workload.jobs;
  w.tenants = workload.tenants;
  w.users = workload.users;
  w.overrides = workload.overrides;
  w.places = workload.places;

  // One scheduler per center, over its own nodes.
  std::vector<CenterSim> cs(nc);
  std::vector<NodeId> local_of(network.nodes.size());
  for (size_t i = 0; i < network.nodes.size(); ++i) {
    CenterSim& c = cs[network.nodes[i].center];
    local_of[i] = static_cast<NodeId>(c.global.size());
    c.global.push_back(static_cast<NodeId>(i));
  }
  const TaskMix mix = ComputeTaskMix(workload);
  for (size_t c = 0; c < nc; ++c) {
    CenterSim& x = cs[c];
    if (x.global.empty()) continue;
    x.net.name = network.name + "/" + network.centers[c].name;
    x.net.centers = network.centers;
    x.net.pools = network.pools;
    x.net.num_racks = network.num_racks;
    x.net.num_pods = network.num_pods;
    x.net.nodes.reserve(x.global.size());
    for (NodeId g : x.global) x.net.nodes.push_back(network.nodes[g]);
    SUANLI_ASSIGN_OR_RETURN(x.sched, Scheduler::Create(policy, catalog, x.net, w, options.scheduler));
    // Placers that weigh the workload's task mix (fgd) see the whole trace's
    // mix, as in the FGD paper's experiments.
    x.sched->placer().SetTaskMix(mix);
  }
  SUANLI_ASSIGN_OR_RETURN(auto dispatcher, MakeDispatcher(options.dispatch, network, catalog));
  const Paths paths(network);
  std::vector<CenterStatus> status(nc);
  for (size_t c = 0; c < nc; ++c) status[c].sched = cs[c].sched.get();
  const DispatchView view{network, catalog, w, paths, status, place_center, place_region, options.start_hour};

  SimResult res;
  const std::string center_policy = policy.text.empty() ? policy.Canonical() : policy.text;
  res.center_policy = center_policy;
  res.dispatch = options.dispatch.text.empty() ? options.dispatch.name : options.dispatch.text;
  res.policy = nc > 1 ? res.dispatch + "/" + center_policy : center_policy;
  res.jobs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Job& j = workload.jobs[i];
    JobRecord& r = res.jobs[i];
    r.id = static_cast<JobId>(i);
    r.submit = j.submit;
    r.gpus = j.num_gpus;
    r.gpu_milli = j.gpu_milli;
  }
  std::vector<double> remaining(n);
  std::vector<uint32_t> gen(n, 0);
  std::vector<Time> run_start(n, -1);
  std::vector<Duration> overhead(n, 0);  // restart overhead of the current run
  std::vector<double> speed(n, 1.0);
  std::vector<CenterId> center_of(n, kNoCenter);
  std::vector<JobPhase> phase(n, JobPhase::kWaiting);
  std::vector<Time> expected_end(n, 0);
  for (size_t i = 0; i < n; ++i) remaining[i] = workload.jobs[i].work;

  Ledger ledger(network);
  Rng rng(options.seed);
  Rng fail_rng(options.seed ^ 0x6661696c75726573ULL);  // independent of the schedulers' stream
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  uint64_t seq = 0;
  auto push = [&](Time t, Ev kind, uint32_t id, uint32_t g) { events.push({t, seq++, kind, id, g}); };
  size_t next_arrival = 0;
  size_t open = n;  // jobs neither finished nor unschedulable
  std::vector<JobId> held;

  // ---- Accounting: utilisation windows, metering.
  const Time t0 = n ? workload.jobs.front().submit : 0;
  const size_t nm = catalog.size() + 1;  // models, plus one for CPU-only
  auto slot_of = [&](CenterId c, ModelId m) { return c * nm + (m == kNoModel ? nm - 1 : m); };
  std::vector<double> capacity(nc * nm, 0);
  for (const auto& node : network.nodes)
    if (node.devices > 0) capacity[slot_of(node.center, node.model)] += node.devices;
  const double total_capacity = static_cast<double>(network.TotalDevices());
  Duration step = options.util_interval;
  if (step <= 0) {
    Time span = n ? workload.jobs.back().submit - t0 : 0;
    step = std::clamp<Duration>(span / 400, kMinute, kDay);
    step = (step / kMinute) * kMinute;
  }
  std::vector<double> busy(nc * nm, 0);  // milli-accelerators allocated now
  std::vector<double> win(nc * nm, 0);   // milli x µs in the current window
  std::vector<double> integral(nc * nm, 0);
  double busy_total = 0, win_total = 0, integral_total = 0;
  std::vector<uint32_t> running_in(nc, 0);
  size_t running = 0;
  Time last_t = t0, window = t0;
  auto accrue = [&](Time until) {
    double dt = static_cast<double>(until - last_t);
    if (dt <= 0) return;
    for (size_t s = 0; s < busy.size(); ++s)
      if (busy[s] > 0) {
        win[s] += busy[s] * dt;
        integral[s] += busy[s] * dt;
      }
    win_total += busy_total * dt;
    integral_total += busy_total * dt;
    last_t = until;
  };
  auto advance = [&](Time t) {
    while (t >= window + step) {
      accrue(window + step);
      UtilSample u;
      u.t = window;
      u.busy_devices = win_total / 1000.0 / static_cast<double>(step);
      u.utilization = total_capacity > 0 ? u.busy_devices / total_capacity : 0;
      size_t pending = 0;
      for (const auto& c : cs)
        if (c.sched) pending += c.sched->num_pending();
      u.pending = static_cast<uint32_t>(pending);
      u.running = static_cast<uint32_t>(running);
      res.util.push_back(u);
      if (nc > 1) {
        for (size_t c = 0; c < nc; ++c)
          for (size_t m = 0; m < nm; ++m) {
            size_t s = c * nm + m;
            if (capacity[s] <= 0) continue;
            PoolSample p;
            p.t = window;
            p.center = static_cast<uint32_t>(c);
            p.model = m == nm - 1 ? kNoModel : static_cast<ModelId>(m);
            p.busy_devices = win[s] / 1000.0 / static_cast<double>(step);
            p.capacity = capacity[s];
            p.pending = cs[c].sched ? static_cast<uint32_t>(cs[c].sched->num_pending()) : 0;
            p.running = running_in[c];
            res.pools.push_back(p);
          }
      }
      std::fill(win.begin(), win.end(), 0.0);
      win_total = 0;
      window += step;
    }
    accrue(t);
  };

  // Metering: per (tenant, center, model), and busy accelerator-seconds per
  // (center, model) and hour for the idle energy.
  std::unordered_map<uint64_t, UsageRow> usage;
  std::vector<std::vector<double>> busy_hours(nc * nm);
  double allocated_dev_s = 0, lost_dev_s = 0;
  auto meter = [&](JobId id, CenterId c, ModelId m, double devices, Time a, Time b) {
    if (b <= a) return;
    const Job& j = w.jobs[id];
    double secs = ToSeconds(b - a);
    allocated_dev_s += devices * secs;
    uint64_t key = (uint64_t{j.tenant} << 32) | (uint64_t{c} << 8) | (m == kNoModel ? 255u : m);
    UsageRow& u = usage[key];
    u.tenant = j.tenant;
    u.center = c;
    u.model = m;
    u.accelerator_s += devices * secs;
    if (m != kNoModel) {
      const AcceleratorModel& am = catalog.model(m);
      u.reference_s += devices * secs * Speed(workload.jobs[id], m, catalog, workload);
      u.pflop_days += devices * secs / 86400.0 * am.tflops16 / 1000.0;
      u.energy += BusyEnergy(network.centers[c], am, devices, a, b, options.start_hour);
      auto& hours = busy_hours[slot_of(c, m)];
      for (Time t = a; t < b;) {
        size_t h = static_cast<size_t>((t - t0) / kHour);
        Time end = std::min(b, t0 + static_cast<Time>(h + 1) * kHour);
        if (hours.size() <= h) hours.resize(h + 1, 0.0);
        hours[h] += devices * ToSeconds(end - t);
        t = end;
      }
    }
  };

  // ---- Job life.
  auto record_unschedulable = [&](JobId id, std::string why) {
    JobRecord& r = res.jobs[id];
    if (r.unschedulable) return;
    r.unschedulable = true;
    res.unschedulable.emplace_back(id, std::move(why));
    phase[id] = JobPhase::kDone;
    dispatcher->Done(id);
    --open;
  };
  auto queue_at = [&](JobId id, CenterId c, Time t) {
    center_of[id] = c;
    phase[id] = JobPhase::kQueued;
    double dev = static_cast<double>(w.jobs[id].GpuMilli()) / kWholeDevice;
    status[c].backlog_dev_s += dev * remaining[id];
    if (remaining[id] == workload.jobs[id].work) cs[c].sched->Submit(id, t);
    else cs[c].sched->Submit(id, t, remaining[id]);
    cs[c].changed = true;
  };
  auto dispatch = [&](JobId id, Time t) {
    w.jobs[id].models = workload.jobs[id].models;
    DispatchDecision d = dispatcher->Dispatch(id, remaining[id], t, view);
    switch (d.kind) {
      case DispatchDecision::Kind::kReject: record_unschedulable(id, d.reason); return;
      case DispatchDecision::Kind::kHold:
        phase[id] = JobPhase::kHeld;
        center_of[id] = d.center;
        held.push_back(id);
        return;
      case DispatchDecision::Kind::kSend: break;
    }
    if (d.models) w.jobs[id].models = d.models;
    JobRecord& r = res.jobs[id];
    r.transfer_s += static_cast<float>(d.transfer_s);
    res.summary.transfer_s += d.transfer_s;
    if (d.deferred && !r.deferred) {
      r.deferred = true;
      ++res.summary.deferred;
    }
    if (d.at <= t) {
      queue_at(id, d.center, t);
    } else {
      phase[id] = JobPhase::kInFlight;
      center_of[id] = d.center;
      push(d.at, Ev::kReady, id, gen[id]);
    }
  };
  auto job_devices = [&](JobId id) { return static_cast<double>(w.jobs[id].GpuMilli()) / kWholeDevice; };
  // Takes a run off the accounts (ledger, utilisation, the dispatcher's view
  // of the center) and meters it. `local` is the allocation in the center's
  // node numbering.
  auto end_run = [&](JobId id, CenterId c, const Allocation& local, Time t) -> Status {
    Allocation g = local;
    for (auto& sh : g.shares) sh.node = cs[c].global[sh.node];
    SUANLI_RETURN_IF_ERROR(ledger.Apply(w.jobs[id], g, ~ModelMask{0}, -1));
    const double dev = job_devices(id);
    busy[slot_of(c, local.model)] -= static_cast<double>(local.GpuMilli());
    busy_total -= static_cast<double>(local.GpuMilli());
    status[c].running_devices -= dev;
    status[c].running_end_sum -= dev * ToSeconds(expected_end[id]);
    --running;
    --running_in[c];
    meter(id, c, local.model, dev, run_start[id], t);
    return Status::Ok();
  };
  // The restart overhead of a run that ended normally was allocated but did no work.
  auto charge_overhead = [&](JobId id, Time t) {
    if (overhead[id] <= 0) return;
    double lost = job_devices(id) * ToSeconds(std::min(overhead[id], t - run_start[id]));
    lost_dev_s += lost;
    res.jobs[id].lost_work_s += static_cast<float>(lost);
  };
  // Takes a running job off its center because of a failure or an outage:
  // it keeps the work up to its last checkpoint.
  auto interrupt = [&](JobId id, Time t) -> Status {
    CenterId c = center_of[id];
    const Job& j = w.jobs[id];
    auto alloc = cs[c].sched->Remove(id, t);
    if (!alloc) return Internal("job {} was running but its center's scheduler does not hold it", id);
    SUANLI_RETURN_IF_ERROR(end_run(id, c, *alloc, t));
    const double dev = job_devices(id);
    Duration useful = std::max<Duration>(0, t - run_start[id] - overhead[id]);
    Duration interval = j.checkpoint > 0 ? j.checkpoint : options.checkpoint;
    Duration saved = interval > 0 ? useful / interval * interval : 0;
    remaining[id] = std::max(0.0, remaining[id] - ToSeconds(saved) * speed[id]);
    double lost = dev * ToSeconds(t - run_start[id] - saved);
    lost_dev_s += lost;
    JobRecord& r = res.jobs[id];
    r.lost_work_s += static_cast<float>(lost);
    ++r.restarts;
    ++res.summary.restarts;
    overhead[id] = options.restart_cost;
    ++gen[id];
    dispatcher->Done(id);
    return Status::Ok();
  };
  auto take_back = [&](JobId id, Time t) {  // a queued job leaves its center
    CenterId c = center_of[id];
    cs[c].sched->Remove(id, t);
    status[c].backlog_dev_s = std::max(0.0, status[c].backlog_dev_s - job_devices(id) * remaining[id]);
    dispatcher->Done(id);
    ++gen[id];
  };

  // Scheduled outages.
  std::vector<Duration> outage_len;
  for (const auto& o : network.outages) {
    push(o.start, Ev::kOutageStart, o.center, static_cast<uint32_t>(outage_len.size()));
    outage_len.push_back(o.duration);
  }
  if (options.center_mtbf_h > 0)
    for (size_t c = 0; c < nc; ++c) {
      Time at = t0 + SecondsF(fail_rng.Exponential(options.center_mtbf_h * 3600.0));
      Duration len = std::max<Duration>(kMinute, SecondsF(fail_rng.Exponential(ToSeconds(options.outage_mean))));
      push(at, Ev::kOutageStart, static_cast<uint32_t>(c), static_cast<uint32_t>(outage_len.size()));
      outage_len.push_back(len);
    }
  std::vector<int> down_depth(nc, 0);

  size_t reported = 0;
  while (open > 0) {
    Time t = kNever;
    if (next_arrival < n) t = workload.jobs[next_arrival].submit;
    if (!events.empty()) t = std::min(t, events.top().t);
    if (t == kNever) break;
    advance(t);
    while (!events.empty() && events.top().t == t) {
      Event e = events.top();
      events.pop();
      switch (e.kind) {
        case Ev::kFinish: {
          JobId id = e.id;
          if (e.gen != gen[id]) break;
          if (phase[id] != JobPhase::kRunning)
            return Internal("job {} finished but was not running (phase {})", id, static_cast<int>(phase[id]));
          CenterId c = center_of[id];
          const Allocation* a = cs[c].sched->AllocationOf(id);
          if (!a) return Internal("job {} finished but its center's scheduler does not hold it", id);
          SUANLI_RETURN_IF_ERROR(end_run(id, c, *a, t));
          charge_overhead(id, t);
          cs[c].sched->Finish(id, t);
          cs[c].changed = true;
          res.jobs[id].end = t;
          res.jobs[id].center = c;
          remaining[id] = 0;
          phase[id] = JobPhase::kDone;
          dispatcher->Done(id);
          --open;
          break;
        }
        case Ev::kFail: {
          JobId id = e.id;
          if (e.gen != gen[id]) break;
          CenterId c = center_of[id];
          ++res.summary.failures;
          SUANLI_RETURN_IF_ERROR(interrupt(id, t));
          cs[c].changed = true;
          dispatch(id, t);
          break;
        }
        case Ev::kReady: {
          JobId id = e.id;
          if (e.gen != gen[id] || phase[id] != JobPhase::kInFlight) break;
          CenterId c = center_of[id];
          if (status[c].up) queue_at(id, c, t);
          else dispatch(id, t);
          break;
        }
        case Ev::kOutageStart: {
          CenterId c = e.id;
          ++res.summary.outages;
          Duration len = outage_len[e.gen];
          push(t + len, Ev::kOutageEnd, c, e.gen);
          if (down_depth[c]++ > 0) break;  // already down
          status[c].up = false;
          if (!cs[c].sched) break;
          // Everything at the center leaves it: running jobs lose the work
          // since their last checkpoint; queued ones go back to the dispatcher.
          std::vector<JobId> moved;
          for (JobId id = 0; id < n; ++id) {
            if (center_of[id] != c) continue;
            if (phase[id] == JobPhase::kRunning) {
              SUANLI_RETURN_IF_ERROR(interrupt(id, t));
              moved.push_back(id);
            } else if (phase[id] == JobPhase::kQueued) {
              take_back(id, t);
              moved.push_back(id);
            }
          }
          status[c].backlog_dev_s = 0;
          for (JobId id : moved) dispatch(id, t);
          break;
        }
        case Ev::kOutageEnd: {
          CenterId c = e.id;
          if (--down_depth[c] > 0) break;
          status[c].up = true;
          cs[c].changed = true;
          if (options.center_mtbf_h > 0 && open > 0) {
            Time at = t + SecondsF(fail_rng.Exponential(options.center_mtbf_h * 3600.0));
            Duration len = std::max<Duration>(kMinute, SecondsF(fail_rng.Exponential(ToSeconds(options.outage_mean))));
            push(at, Ev::kOutageStart, c, static_cast<uint32_t>(outage_len.size()));
            outage_len.push_back(len);
          }
          std::vector<JobId> again;
          again.swap(held);
          for (JobId id : again) dispatch(id, t);
          break;
        }
        case Ev::kWake: {
          CenterId c = e.id;
          if (cs[c].wake == t) cs[c].changed = true;
          break;
        }
      }
    }
    while (next_arrival < n && workload.jobs[next_arrival].submit == t) {
      dispatch(static_cast<JobId>(next_arrival), t);
      ++next_arrival;
    }
    if (options.progress && n && next_arrival * 200 / n > reported) {
      reported = next_arrival * 200 / n;
      options.progress(static_cast<double>(next_arrival) / static_cast<double>(n));
    }
    for (size_t c = 0; c < nc; ++c) {
      CenterSim& x = cs[c];
      if (!x.changed || !x.sched) continue;
      if (options.pass_interval > 0 && x.last_pass >= 0 && t < x.last_pass + options.pass_interval) {
        // Passes at most every pass_interval (Slurm's sched_min_interval):
        // what happened since waits for the next one.
        Time next = x.last_pass + options.pass_interval;
        if (x.wake == kNever || x.wake > next) {
          x.wake = next;
          push(next, Ev::kWake, static_cast<uint32_t>(c), 0);
        }
        continue;
      }
      x.changed = false;
      x.wake = kNever;
      if (!status[c].up) continue;
      x.last_pass = t;
      PassResult pass = x.sched->Pass(t, rng);
      ++res.summary.passes;
      for (auto& d : pass.decisions) {
        const JobId id = d.job;
        const Job& j = w.jobs[id];
        JobRecord& r = res.jobs[id];
        Allocation g = d.alloc;
        for (auto& sh : g.shares) sh.node = x.global[sh.node];
        switch (d.kind) {
          case Decision::Kind::kStart: {
            SUANLI_RETURN_IF_ERROR(ledger.Apply(j, g, EligibleModels(j, catalog, w), +1));
            if (r.start < 0) r.start = t;
            r.model = d.alloc.model;
            r.nodes = static_cast<uint16_t>(d.alloc.shares.size());
            r.center = static_cast<CenterId>(c);
            double s = d.alloc.model == kNoModel ? 1.0 : Speed(j, d.alloc.model, catalog, w);
            if (s <= 0) return Internal("job {} started on a model where it cannot run", id);
            const double dev = job_devices(id);
            status[c].backlog_dev_s = std::max(0.0, status[c].backlog_dev_s - dev * remaining[id]);
            speed[id] = s;
            run_start[id] = t;
            phase[id] = JobPhase::kRunning;
            busy[slot_of(static_cast<CenterId>(c), d.alloc.model)] += static_cast<double>(d.alloc.GpuMilli());
            busy_total += static_cast<double>(d.alloc.GpuMilli());
            ++running;
            ++running_in[c];
            Duration dur = overhead[id] + std::max<Duration>(1, SecondsF(remaining[id] / s));
            expected_end[id] = t + dur;
            status[c].running_devices += dev;
            status[c].running_end_sum += dev * ToSeconds(expected_end[id]);
            Duration fail_in = kNever;
            if (options.device_mtbf_h > 0 && dev > 0)
              fail_in = SecondsF(fail_rng.Exponential(options.device_mtbf_h * 3600.0 / dev));
            if (fail_in < dur) push(t + std::max<Duration>(1, fail_in), Ev::kFail, id, gen[id]);
            else push(t + dur, Ev::kFinish, id, gen[id]);
            break;
          }
          case Decision::Kind::kPreempt: {
            // The scheduler has released it already; take it off the ledger
            // too. A preempted job checkpoints as it stops: it keeps its work.
            SUANLI_RETURN_IF_ERROR(end_run(id, static_cast<CenterId>(c), d.alloc, t));
            charge_overhead(id, t);
            const double dev = job_devices(id);
            ++gen[id];
            Duration useful = std::max<Duration>(0, t - run_start[id] - overhead[id]);
            remaining[id] = std::max(0.0, remaining[id] - ToSeconds(useful) * speed[id]);
            overhead[id] = 0;
            status[c].backlog_dev_s += dev * remaining[id];
            phase[id] = JobPhase::kQueued;
            ++r.preemptions;
            break;
          }
          case Decision::Kind::kUnschedulable: record_unschedulable(id, d.reason); break;
        }
      }
      if (pass.wake_at != kNever && pass.wake_at > t) {
        x.wake = pass.wake_at;
        push(pass.wake_at, Ev::kWake, static_cast<uint32_t>(c), 0);
      }
    }
    double pending = 0;
    for (const auto& x : cs)
      if (x.sched) pending += static_cast<double>(x.sched->num_pending());
    res.peak_pending = std::max(res.peak_pending, pending);
  }
  if (!held.empty()) {
    // Nothing else will happen: the centers these jobs wait for stay down.
    for (JobId id : held)
      record_unschedulable(id, fmt::format("its center {} never came back", network.centers[center_of[id]].name));
    held.clear();
  }
  advance(last_t);

  for (size_t i = 0; i < n; ++i) {
    const JobRecord& r = res.jobs[i];
    if (!r.unschedulable && r.end < 0)
      return Internal("job {} ({}) neither finished nor was reported unschedulable (phase {}, center {})", i,
                      workload.JobName(i), static_cast<int>(phase[i]), center_of[i]);
  }
  SimSummary s = Summarize(res.jobs);
  s.passes = res.summary.passes;
  s.transfer_s = res.summary.transfer_s;
  s.deferred = res.summary.deferred;
  s.failures = res.summary.failures;
  s.restarts = res.summary.restarts;
  s.outages = res.summary.outages;
  s.lost_work_s = lost_dev_s;
  s.goodput = allocated_dev_s > 0 ? (allocated_dev_s - lost_dev_s) / allocated_dev_s : 1.0;
  if (total_capacity > 0 && s.makespan_s > 0)
    s.utilization = integral_total / 1000.0 / 1e6 / (total_capacity * s.makespan_s);

  // At most ~500 time steps per pool in the output: long runs merge steps.
  if (size_t steps = res.util.size(); !res.pools.empty() && steps > 500) {
    const size_t per = res.pools.size() / steps;  // pools sampled per step
    const size_t g = (steps + 499) / 500;
    std::vector<PoolSample> merged;
    merged.reserve((steps + g - 1) / g * per);
    for (size_t first = 0; first < steps; first += g) {
      const size_t last = std::min(steps, first + g);
      for (size_t k = 0; k < per; ++k) {
        PoolSample p = res.pools[last * per - per + k];  // pending, running: at the end
        p.t = res.pools[first * per + k].t;
        double sum = 0;
        for (size_t i = first; i < last; ++i) sum += res.pools[i * per + k].busy_devices;
        p.busy_devices = sum / static_cast<double>(last - first);
        merged.push_back(p);
      }
    }
    res.pools = std::move(merged);
  }
  res.usage.reserve(usage.size());
  for (auto& [k, u] : usage) res.usage.push_back(u);
  std::sort(res.usage.begin(), res.usage.end(), [](const UsageRow& a, const UsageRow& b) {
    return std::tie(a.tenant, a.center, a.model) < std::tie(b.tenant, b.center, b.model);
  });
  // Per center.
  res.centers.resize(nc);
  for (size_t c = 0; c < nc; ++c) {
    CenterSummary& x = res.centers[c];
    const Center& cc = network.centers[c];
    x.name = cc.name;
    x.edge = cc.edge;
    x.lat = cc.latitude;
    x.lon = cc.longitude;
    double cap = 0, integ = 0;
    for (size_t m = 0; m < nm; ++m) {
      cap += capacity[c * nm + m];
      integ += integral[c * nm + m];
    }
    x.accelerators = static_cast<int64_t>(cap);
    if (cap > 0 && s.makespan_s > 0) x.utilization = integ / 1000.0 / 1e6 / (cap * s.makespan_s);
  }
  for (const auto& r : res.jobs)
    if (r.end >= 0 && r.center != kNoCenter) ++res.centers[r.center].jobs;
  res.summary = s;
  res.busy.t0 = t0;
  res.busy.models = nm;
  res.busy.capacity = capacity;
  res.busy.hours = std::move(busy_hours);
  MeterIdle(&res, SecondsF(s.makespan_s), network, catalog, options.start_hour);
  return res;
}

}  // namespace suanli
