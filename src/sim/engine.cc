#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/network/network_scheduler.h"
#include "sim/accounts.h"

namespace suanli {
namespace {

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

namespace {

// The simulator's driver of the network scheduler: it keeps the simulated
// world's events (arrivals, ends of runs, failures, outages, wake-ups) in
// time order, feeds them to the network scheduler, and applies its
// decisions to the accounts and the job records. Events at the same time
// are taken together, then one scheduling pass.
class Engine {
 public:
  Engine(const Workload& workload, const Network& network, const SimOptions& options, NetworkScheduler& net,
         Accounts& accounts, SimResult* res)
      : workload_(workload),
        network_(network),
        opt_(options),
        net_(net),
        accounts_(accounts),
        res_(*res),
        fail_rng_(options.seed ^ 0x6661696c75726573ULL),  // independent of the schedulers' stream
        open_(workload.jobs.size()) {}

  Status Run();

 private:
  void Push(Time t, Ev kind, uint32_t id, uint32_t g) { events_.push({t, seq_++, kind, id, g}); }
  void RandomOutage(CenterId c, Time after);
  Status OnEvent(const Event& e);
  // Applies what the network scheduler decided at time t.
  Status Apply(Time t);

  const Workload& workload_;
  const Network& network_;
  const SimOptions& opt_;
  NetworkScheduler& net_;
  Accounts& accounts_;
  SimResult& res_;
  Rng fail_rng_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  size_t open_;  // jobs neither finished nor unschedulable
  std::vector<Duration> outage_len_;
};

void Engine::RandomOutage(CenterId c, Time after) {
  Time at = after + SecondsF(fail_rng_.Exponential(opt_.center_mtbf_h * 3600.0));
  Duration len = std::max<Duration>(kMinute, SecondsF(fail_rng_.Exponential(ToSeconds(opt_.outage_mean))));
  Push(at, Ev::kOutageStart, c, static_cast<uint32_t>(outage_len_.size()));
  outage_len_.push_back(len);
}

Status Engine::Apply(Time t) {
  auto& out = net_.decisions();
  for (NetDecision& d : out) {
    const JobId id = d.job;
    switch (d.kind) {
      case NetDecision::Kind::kSend: {
        JobRecord& r = res_.jobs[id];
        r.transfer_s += static_cast<float>(d.transfer_s);
        res_.summary.transfer_s += d.transfer_s;
        if (d.deferred && !r.deferred) {
          r.deferred = true;
          ++res_.summary.deferred;
        }
        if (d.at > t) Push(d.at, Ev::kReady, id, d.generation);
        break;
      }
      case NetDecision::Kind::kHold: break;
      case NetDecision::Kind::kStart: {
        const Workload& w = net_.workload();
        const Job& j = w.jobs[id];
        SUANLI_RETURN_IF_ERROR(accounts_.Started(id, d.center, d.alloc, EligibleModels(j, net_.catalog(), w)));
        JobRecord& r = res_.jobs[id];
        if (r.start < 0) r.start = t;
        r.model = d.alloc.model;
        r.nodes = static_cast<uint16_t>(d.alloc.shares.size());
        r.center = d.center;
        const double dev = net_.devices(id);
        Duration fail_in = kNever;
        if (opt_.device_mtbf_h > 0 && dev > 0)
          fail_in = SecondsF(fail_rng_.Exponential(opt_.device_mtbf_h * 3600.0 / dev));
        const uint32_t gen = d.generation;
        if (fail_in < d.run) Push(t + std::max<Duration>(1, fail_in), Ev::kFail, id, gen);
        else Push(t + d.run, Ev::kFinish, id, gen);
        break;
      }
      case NetDecision::Kind::kPreempt:
        SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, d.end, t));
        ++res_.jobs[id].preemptions;
        break;
      case NetDecision::Kind::kInterrupt:
        SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, d.end, t));
        ++res_.jobs[id].restarts;
        ++res_.summary.restarts;
        break;
      case NetDecision::Kind::kUnschedulable: {
        JobRecord& r = res_.jobs[id];
        r.unschedulable = true;
        res_.unschedulable.emplace_back(id, std::move(d.reason));
        --open_;
        break;
      }
      case NetDecision::Kind::kWake: Push(d.at, Ev::kWake, d.center, 0); break;
    }
  }
  out.clear();
  return Status::Ok();
}

Status Engine::OnEvent(const Event& e) {
  const Time t = e.t;
  switch (e.kind) {
    case Ev::kFinish: {
      const JobId id = e.id;
      if (e.gen != net_.generation(id)) return Status::Ok();
      SUANLI_ASSIGN_OR_RETURN(RunEnd end, net_.Finished(id, t));
      SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, end, t));
      JobRecord& r = res_.jobs[id];
      r.end = t;
      r.center = end.center;
      --open_;
      break;
    }
    case Ev::kFail: {
      const JobId id = e.id;
      if (e.gen != net_.generation(id)) return Status::Ok();
      ++res_.summary.failures;
      SUANLI_ASSIGN_OR_RETURN(RunEnd end, net_.Failed(id, t));
      SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, end, t));
      ++res_.jobs[id].restarts;
      ++res_.summary.restarts;
      break;
    }
    case Ev::kReady: net_.Ready(e.id, e.gen, t); break;
    case Ev::kOutageStart:
      ++res_.summary.outages;
      Push(t + outage_len_[e.gen], Ev::kOutageEnd, e.id, e.gen);
      SUANLI_RETURN_IF_ERROR(net_.CenterDown(e.id, t));
      break;
    case Ev::kOutageEnd:
      net_.CenterUp(e.id, t);
      if (net_.up(e.id) && opt_.center_mtbf_h > 0 && open_ > 0) RandomOutage(e.id, t);
      break;
    case Ev::kWake: net_.Wake(e.id, t); break;
  }
  return Apply(t);
}

Status Engine::Run() {
  const size_t n = workload_.jobs.size();
  const Time t0 = n ? workload_.jobs.front().submit : 0;
  // Scheduled outages, then random ones.
  for (const auto& o : network_.outages) {
    Push(o.start, Ev::kOutageStart, o.center, static_cast<uint32_t>(outage_len_.size()));
    outage_len_.push_back(o.duration);
  }
  if (opt_.center_mtbf_h > 0)
    for (size_t c = 0; c < network_.centers.size(); ++c) RandomOutage(static_cast<CenterId>(c), t0);

  size_t next_arrival = 0, reported = 0;
  while (open_ > 0) {
    Time t = kNever;
    if (next_arrival < n) t = workload_.jobs[next_arrival].submit;
    if (!events_.empty()) t = std::min(t, events_.top().t);
    if (t == kNever) break;
    accounts_.Advance(t);
    while (!events_.empty() && events_.top().t == t) {
      Event e = events_.top();
      events_.pop();
      SUANLI_RETURN_IF_ERROR(OnEvent(e));
    }
    while (next_arrival < n && workload_.jobs[next_arrival].submit == t) {
      net_.Arrive(static_cast<JobId>(next_arrival), t);
      SUANLI_RETURN_IF_ERROR(Apply(t));
      ++next_arrival;
    }
    if (opt_.progress && n && next_arrival * 200 / n > reported) {
      reported = next_arrival * 200 / n;
      opt_.progress(static_cast<double>(next_arrival) / static_cast<double>(n));
    }
    SUANLI_RETURN_IF_ERROR(net_.Pass(t));
    SUANLI_RETURN_IF_ERROR(Apply(t));
    res_.peak_pending = std::max(res_.peak_pending, static_cast<double>(net_.num_pending()));
  }
  net_.GiveUpHeld();
  SUANLI_RETURN_IF_ERROR(Apply(accounts_.last_t()));
  accounts_.Advance(accounts_.last_t());
  for (size_t i = 0; i < n; ++i) {
    const JobRecord& r = res_.jobs[i];
    if (!r.unschedulable && r.end < 0)
      return Internal("job {} ({}) neither finished nor was reported unschedulable (phase {}, center {})", i,
                      workload_.JobName(i), static_cast<int>(net_.phase(i)), net_.center_of(i));
  }
  return Status::Ok();
}

}  // namespace

Result<SimResult> Simulate(const Workload& workload, const Network& network, const Catalog& catalog,
                           const PolicySpec& policy, const SimOptions& options) {
  NetworkOptions no;
  no.scheduler = options.scheduler;
  no.dispatch = options.dispatch;
  no.start_hour = options.start_hour;
  no.pass_interval = options.pass_interval;
  no.checkpoint = options.checkpoint;
  no.restart_cost = options.restart_cost;
  no.seed = options.seed;
  SUANLI_ASSIGN_OR_RETURN(auto net, NetworkScheduler::Create(workload, network, catalog, policy, no));

  const size_t n = workload.jobs.size();
  const size_t nc = network.centers.size();
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
  Accounts accounts(workload, network, catalog, options, *net, &res);
  Engine engine(workload, network, options, *net, accounts, &res);
  SUANLI_RETURN_IF_ERROR(engine.Run());

  SimSummary s = Summarize(res.jobs);
  s.passes = net->passes();
  s.transfer_s = res.summary.transfer_s;
  s.deferred = res.summary.deferred;
  s.failures = res.summary.failures;
  s.restarts = res.summary.restarts;
  s.outages = res.summary.outages;
  accounts.Finish(&s);
  for (const auto& r : res.jobs)
    if (r.end >= 0 && r.center != kNoCenter) ++res.centers[r.center].jobs;
  res.summary = s;
  MeterIdle(&res, SecondsF(s.makespan_s), network, catalog, options.start_hour);
  return res;
}

}  // namespace suanli
