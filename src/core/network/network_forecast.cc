// Start times from a forward simulation (forecast.h): the snapshot of one
// center's jobs, and the run of a fresh scheduler of the same policy over
// it. Asking changes nothing: the copy has its own scheduler, placer and
// random stream.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/network/forecast.h"
#include "core/network/network_scheduler.h"

namespace suanli {

namespace {
// The predictor's share, kept in (0, 1]; 1 without one.
double ShareOf(const RunShare& share, const Job& j) {
  if (!share) return 1;
  const double f = share(j);
  return std::isfinite(f) && f > 0 ? std::min(f, 1.0) : 1.0;
}
}  // namespace

ForecastSnapshot NetworkScheduler::SnapshotForecast(CenterId c, Time t, const RunShare& share) const {
  ForecastSnapshot s;
  s.center = c;
  s.t = t;
  s.seed = opt_.seed ^ 0x666f726563617374ULL ^ static_cast<uint64_t>(t);
  const CenterSlot& x = centers_[c];
  if (!x.sched) return s;
  const Scheduler& real = *x.sched;
  for (JobId id : jobs_.ids())
    if (jobs_[id].phase == NetPhase::kQueued && jobs_[id].center == c) {
      JobProgress p = real.Progress(id);
      if (share) {
        const Job& j = w_.jobs[id];
        // What the scheduler expects of it (its estimate, else its work, less
        // the work it did), that share of it.
        const double base = j.estimate > 0 ? j.estimate : j.work;
        const double est = p.est_remaining >= 0 ? p.est_remaining : base - (j.work - p.remaining);
        if (est > 0) p.est_remaining = est * ShareOf(share, j);
      }
      s.queued.emplace_back(id, p);
      s.generations.push_back(jobs_[id].gen);
    }
  if (s.queued.empty()) return s;
  s.policy = real.spec();
  s.options = real.options();
  s.net = x.net;
  s.mix = mix_;
  s.workload = w_;
  for (NodeId n : x.net.nodes.ids())
    if (!real.state().up(n)) s.down.push_back(n);
  for (JobId id : real.running_jobs())
    if (const Allocation* a = real.AllocationOf(id)) {
      const Time start = real.runtime(id).last_start;
      Time end = real.ExpectedEnd(id);
      if (share && end != kNever && end > start) {
        const Time predicted =
            start + static_cast<Duration>(static_cast<double>(end - start) * ShareOf(share, w_.jobs[id]));
        if (predicted > t) end = predicted;
      }
      s.running.push_back({id, *a, start, end});
    }
  return s;
}

Result<Forecast> RunForecast(const ForecastSnapshot& s, const Catalog& catalog, const std::atomic<bool>* stop,
                             uint64_t max_passes, Duration horizon) {
  Forecast out;
  out.center = s.center;
  out.t = s.t;
  out.generations = s.generations;
  for (const auto& [id, progress] : s.queued) out.starts.emplace_back(id, kNever);
  if (s.queued.empty()) return out;
  SUANLI_ASSIGN_OR_RETURN(auto copy, Scheduler::Create(s.policy, catalog, s.net, s.workload, s.options));
  if (s.mix) copy->placer().SetTaskMix(*s.mix);
  for (NodeId n : s.down) copy->SetNodeUp(n, false);
  // Running jobs keep their allocation, start and expected end (one that
  // does not fit, as the copy sees it, is left out).
  for (const auto& r : s.running) copy->Adopt(r.job, r.alloc, r.start, s.t, r.expected_end);
  // Queued jobs, with what they received before (attained service, work
  // left, the time they entered the queue).
  for (const auto& [id, progress] : s.queued) copy->Submit(id, s.t, progress);
  std::unordered_map<JobId, size_t> index;
  index.reserve(out.starts.size());
  for (size_t i = 0; i < out.starts.size(); ++i) index.emplace(out.starts[i].first, i);

  Rng rng(s.seed);
  size_t left = out.starts.size();
  const Time until = s.t + horizon;
  for (Time now = s.t; left > 0 && out.passes < max_passes && now <= until;) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return Unavailable("start forecast stopped");
    PassResult pass = copy->Pass(now, rng);
    ++out.passes;
    for (const Decision& d : pass.decisions) {
      if (d.kind != Decision::Kind::kStart) continue;
      auto it = index.find(d.job);
      if (it == index.end() || out.starts[it->second].second != kNever) continue;
      out.starts[it->second].second = now;
      --left;
    }
    // On to the next end of a run, or the time the pass asked to be woken.
    const Time next = std::min(copy->NextExpectedEnd().first, pass.wake_at > now ? pass.wake_at : kNever);
    if (next == kNever) break;  // nothing runs: what is still queued never starts here
    now = std::max(now + 1, next);
    for (auto e = copy->NextExpectedEnd(); e.first <= now; e = copy->NextExpectedEnd()) copy->Finish(e.second, now);
  }
  return out;
}

}  // namespace suanli
