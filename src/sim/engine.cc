#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/network/network_scheduler.h"
#include "sim/recorder.h"

namespace suanli {
namespace {

enum class Ev : uint8_t { kFinish, kFail, kReady, kOutageStart, kOutageEnd, kWake };

struct Event {
  Time t;
  uint64_t seq;
  Ev kind;
  uint32_t id;   // job, or center (job(), center())
  uint32_t gen;  // job generation (stale events are skipped); outage: its duration index
  JobId job() const { return JobId(id); }
  CenterId center() const { return CenterId(id); }
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

SimSummary Summarize(const IdVector<JobId, JobRecord>& jobs) {
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
// time order, feeds them to the network scheduler, and hands its decisions
// and the runs that end to the Recorder. Events at the same time are taken
// together, then one scheduling pass.
class Engine {
 public:
  Engine(const Workload& workload, const Network& network, const SimOptions& options, NetworkScheduler& net,
         Recorder& rec)
      : workload_(workload), network_(network), opt_(options), net_(net), rec_(rec), failures_(options) {}

  Status Run();

 private:
  void Push(Time t, Ev kind, JobId job, uint32_t g) { events_.push({t, seq_++, kind, job.value(), g}); }
  void Push(Time t, Ev kind, CenterId c, uint32_t g) { events_.push({t, seq_++, kind, c.value(), g}); }
  void RandomOutage(CenterId c, Time after);
  Status OnEvent(const Event& e);
  // Applies what the network scheduler decided at time t.
  Status Apply(Time t);

  const Workload& workload_;
  const Network& network_;
  const SimOptions& opt_;
  NetworkScheduler& net_;
  Recorder& rec_;
  FailureDraws failures_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  std::vector<Duration> outage_len_;
};

void Engine::RandomOutage(CenterId c, Time after) {
  const auto [at, len] = failures_.NextOutage(after);
  Push(at, Ev::kOutageStart, c, static_cast<uint32_t>(outage_len_.size()));
  outage_len_.push_back(len);
}

Status Engine::Apply(Time t) {
  auto& out = net_.decisions();
  for (const NetDecision& d : out) {
    SUANLI_RETURN_IF_ERROR(rec_.Decided(d, t));
    switch (d.kind) {
      case NetDecision::Kind::kSend:
        if (d.at > t) Push(d.at, Ev::kReady, d.job, d.generation);
        break;
      case NetDecision::Kind::kStart: {
        const Duration fails = failures_.FailsAfter(net_.devices(d.job), d.run);
        if (fails != kNever) Push(t + fails, Ev::kFail, d.job, d.generation);
        else Push(t + d.run, Ev::kFinish, d.job, d.generation);
        break;
      }
      case NetDecision::Kind::kWake: Push(d.at, Ev::kWake, d.center, 0); break;
      default: break;
    }
  }
  out.clear();
  return Status::Ok();
}

Status Engine::OnEvent(const Event& e) {
  const Time t = e.t;
  switch (e.kind) {
    case Ev::kFinish: {
      if (e.gen != net_.generation(e.job())) return Status::Ok();
      SUANLI_ASSIGN_OR_RETURN(RunEnd end, net_.Finished(e.job(), t));
      SUANLI_RETURN_IF_ERROR(rec_.Finished(e.job(), end, t));
      break;
    }
    case Ev::kFail: {
      if (e.gen != net_.generation(e.job())) return Status::Ok();
      SUANLI_ASSIGN_OR_RETURN(RunEnd end, net_.Failed(e.job(), t));
      SUANLI_RETURN_IF_ERROR(rec_.Failed(e.job(), end, t));
      break;
    }
    case Ev::kReady: net_.Ready(e.job(), e.gen, t); break;
    case Ev::kOutageStart:
      rec_.Outage();
      Push(t + outage_len_[e.gen], Ev::kOutageEnd, e.center(), e.gen);
      SUANLI_RETURN_IF_ERROR(net_.CenterDown(e.center(), t));
      break;
    case Ev::kOutageEnd:
      net_.CenterUp(e.center(), t);
      if (net_.up(e.center()) && failures_.outages() && rec_.open() > 0) RandomOutage(e.center(), t);
      break;
    case Ev::kWake: net_.Wake(e.center(), t); break;
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
  if (failures_.outages())
    for (CenterId c : network_.centers.ids()) RandomOutage(c, t0);

  // Jobs arrive in id order (the workload is sorted by submit time).
  size_t next_arrival = 0, reported = 0;
  while (rec_.open() > 0) {
    Time t = kNever;
    if (next_arrival < n) t = workload_.jobs.vec()[next_arrival].submit;
    if (!events_.empty()) t = std::min(t, events_.top().t);
    if (t == kNever) break;
    rec_.Advance(t);
    while (!events_.empty() && events_.top().t == t) {
      Event e = events_.top();
      events_.pop();
      SUANLI_RETURN_IF_ERROR(OnEvent(e));
    }
    while (next_arrival < n && workload_.jobs.vec()[next_arrival].submit == t) {
      net_.Arrive(JobId(static_cast<uint32_t>(next_arrival)), t);
      SUANLI_RETURN_IF_ERROR(Apply(t));
      ++next_arrival;
    }
    if (opt_.progress && n && next_arrival * 200 / n > reported) {
      reported = next_arrival * 200 / n;
      opt_.progress(static_cast<double>(next_arrival) / static_cast<double>(n));
    }
    SUANLI_RETURN_IF_ERROR(net_.Pass(t));
    SUANLI_RETURN_IF_ERROR(Apply(t));
    if (opt_.reasons) rec_.Explain(net_, t);
    rec_.Passed();
  }
  net_.GiveUpHeld();
  return Apply(rec_.last_t());
}

}  // namespace

NetworkOptions NetworkOptionsOf(const SimOptions& options) {
  NetworkOptions no;
  no.scheduler = options.scheduler;
  no.dispatch = options.dispatch;
  no.start_hour = options.start_hour;
  no.pass_interval = options.pass_interval;
  no.checkpoint = options.checkpoint;
  no.restart_cost = options.restart_cost;
  no.max_restarts = options.max_restarts;
  no.seed = options.seed;
  return no;
}

Result<SimResult> Simulate(const Workload& workload, const Network& network, const Catalog& catalog,
                           const PolicySpec& policy, const SimOptions& options) {
  SUANLI_ASSIGN_OR_RETURN(auto net,
                          NetworkScheduler::Create(workload, network, catalog, policy, NetworkOptionsOf(options)));
  Recorder rec(workload, network, catalog, policy, options, *net);
  Engine engine(workload, network, options, *net, rec);
  SUANLI_RETURN_IF_ERROR(engine.Run());
  return rec.Finish();
}

}  // namespace suanli
