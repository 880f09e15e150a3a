#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/policy/place/fragmentation.h"

namespace suanli {
namespace {

// The simulator's own account of what is allocated, independent of the
// scheduler's ClusterState, to catch any over-allocation.
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

struct Event {
  Time t;
  uint64_t seq;
  JobId job;
  uint32_t gen;
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && seq > o.seq); }
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) ;
  k = std::min(v.size() - 1, k == 0 ? 0 : k - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

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
  SUANLI_ASSIGN_OR_RETURN(auto sched, Scheduler::Create(policy, catalog, network, workload, options.scheduler));
  // Placers that weigh the workload's task mix (fgd) see the whole trace's
  // mix, as in the FGD paper's experiments.
  sched->placer().SetTaskMix(ComputeTaskMix(workload));
  const size_t n = workload.jobs.size();
  for (size_t i = 1; i < n; ++i)
    if (workload.jobs[i].submit < workload.jobs[i - 1].submit)
      return InvalidArgument("workload is not sorted by submit time (job {})", i);

  SimResult res;
  res.policy = policy.text.empty() ? policy.Canonical() : policy.text;
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
  std::vector<double> speed(n, 1.0);
  for (size_t i = 0; i < n; ++i) remaining[i] = workload.jobs[i].work;

  Ledger ledger(network);
  Rng rng(options.seed);
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  uint64_t seq = 0;
  size_t next_arrival = 0;
  Time wake = kNever;

  const double capacity = static_cast<double>(network.TotalDevices());
  const Time t0 = n ? workload.jobs.front().submit : 0;
  Duration step = options.util_interval;
  if (step <= 0) {
    Time span = n ? workload.jobs.back().submit - t0 : 0;
    step = std::clamp<Duration>(span / 400, kMinute, kDay);
    step = (step / kMinute) * kMinute;
  }
  double busy_milli = 0;  // accelerator milli allocated now
  Time last_t = t0;
  Time window = t0;
  double window_integral = 0;  // milli × µs in the current window
  double total_integral = 0;
  size_t running = 0;
  auto advance = [&](Time t) {
    while (t >= window + step) {
      double part = busy_milli * static_cast<double>(window + step - last_t);
      window_integral += part;
      total_integral += part;
      UtilSample s;
      s.t = window;
      s.busy_devices = window_integral / 1000.0 / static_cast<double>(step);
      s.utilization = capacity > 0 ? s.busy_devices / capacity : 0;
      s.pending = static_cast<uint32_t>(sched->num_pending());
      s.running = static_cast<uint32_t>(running);
      res.util.push_back(s);
      last_t = window + step;
      window += step;
      window_integral = 0;
    }
    double part = busy_milli * static_cast<double>(t - last_t);
    window_integral += part;
    total_integral += part;
    last_t = t;
  };

  size_t reported = 0;
  while (true) {
    Time t = kNever;
    if (next_arrival < n) t = workload.jobs[next_arrival].submit;
    if (!events.empty()) t = std::min(t, events.top().t);
    if (wake != kNever) t = std::min(t, wake);
    if (t == kNever) break;
    advance(t);
    bool changed = false;
    while (!events.empty() && events.top().t == t) {
      Event e = events.top();
      events.pop();
      if (e.gen != gen[e.job]) continue;  // preempted since
      const Job& j = workload.jobs[e.job];
      const Allocation* a = sched->AllocationOf(e.job);
      if (!a) return Internal("job {} finished but the scheduler does not hold it", e.job);
      SUANLI_RETURN_IF_ERROR(ledger.Apply(j, *a, ~ModelMask{0}, -1));
      busy_milli -= static_cast<double>(a->GpuMilli());
      --running;
      sched->Finish(e.job, t);
      res.jobs[e.job].end = t;
      remaining[e.job] = 0;
      changed = true;
    }
    while (next_arrival < n && workload.jobs[next_arrival].submit == t) {
      sched->Submit(static_cast<JobId>(next_arrival), t);
      ++next_arrival;
      changed = true;
    }
    if (options.progress && n && next_arrival * 200 / n > reported) {
      reported = next_arrival * 200 / n;
      options.progress(static_cast<double>(next_arrival) / static_cast<double>(n));
    }
    if (!changed && t != wake) continue;
    wake = kNever;
    PassResult pass = sched->Pass(t, rng);
    ++res.summary.passes;
    for (auto& d : pass.decisions) {
      const Job& j = workload.jobs[d.job];
      JobRecord& r = res.jobs[d.job];
      switch (d.kind) {
        case Decision::Kind::kStart: {
          SUANLI_RETURN_IF_ERROR(ledger.Apply(j, d.alloc, EligibleModels(j, catalog, workload), +1));
          if (r.start < 0) r.start = t;
          r.model = d.alloc.model;
          r.nodes = static_cast<uint16_t>(d.alloc.shares.size());
          double s = d.alloc.model == kNoModel ? 1.0 : Speed(j, d.alloc.model, catalog, workload);
          if (s <= 0) return Internal("job {} started on a model where it cannot run", d.job);
          speed[d.job] = s;
          run_start[d.job] = t;
          busy_milli += static_cast<double>(d.alloc.GpuMilli());
          ++running;
          Duration dur = std::max<Duration>(1, SecondsF(remaining[d.job] / s));
          events.push({t + dur, seq++, d.job, gen[d.job]});
          break;
        }
        case Decision::Kind::kPreempt: {
          // The scheduler has released it already; take it off the ledger too.
          SUANLI_RETURN_IF_ERROR(ledger.Apply(j, d.alloc, ~ModelMask{0}, -1));
          busy_milli -= static_cast<double>(d.alloc.GpuMilli());
          ++gen[d.job];
          double done = ToSeconds(t - run_start[d.job]) * speed[d.job];
          remaining[d.job] = std::max(0.0, remaining[d.job] - done);
          ++r.preemptions;
          --running;
          break;
        }
        case Decision::Kind::kUnschedulable:
          r.unschedulable = true;
          res.unschedulable.emplace_back(d.job, d.reason);
          break;
      }
    }
    res.peak_pending = std::max<double>(res.peak_pending, static_cast<double>(sched->num_pending()));
    if (pass.wake_at != kNever && pass.wake_at > t) wake = pass.wake_at;
  }
  advance(last_t);

  for (size_t i = 0; i < n; ++i) {
    const JobRecord& r = res.jobs[i];
    if (!r.unschedulable && r.end < 0)
      return Internal("job {} ({}) neither finished nor was reported unschedulable", i, workload.JobName(i));
  }
  res.summary = [&] {
    SimSummary s = Summarize(res.jobs);
    s.passes = res.summary.passes;
    return s;
  }();
  if (capacity > 0 && res.summary.makespan_s > 0)
    res.summary.utilization = total_integral / 1000.0 / 1e6 / (capacity * res.summary.makespan_s);
  return res;
}

}  // namespace suanli
