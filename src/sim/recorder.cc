#include "sim/recorder.h"

#include <bit>

#include <fmt/format.h>

namespace suanli {

Recorder::Recorder(const Workload& workload, const Network& network, const Catalog& catalog, const PolicySpec& policy,
                   const SimOptions& options, const NetworkScheduler& net)
    : workload_(workload),
      network_(network),
      catalog_(catalog),
      opt_(options),
      net_(net),
      accounts_(workload, network, catalog, options, net, &res_),
      open_(workload.jobs.size()) {
  const size_t n = workload.jobs.size();
  const std::string center_policy = policy.text.empty() ? policy.Canonical() : policy.text;
  res_.center_policy = center_policy;
  res_.dispatch = options.dispatch.text.empty() ? options.dispatch.name : options.dispatch.text;
  res_.policy = network.centers.size() > 1 ? res_.dispatch + "/" + center_policy : center_policy;
  res_.jobs.resize(n);
  for (JobId i : workload.jobs.ids()) {
    const Job& j = workload.jobs[i];
    JobRecord& r = res_.jobs[i];
    r.id = i;
    r.submit = j.submit;
    r.gpus = j.num_gpus;
    r.gpu_milli = j.gpu_milli;
  }
  if (options.reasons) {
    res_.reasons.emplace_back();
    reason_ids_.emplace("", 0);
    deferred_for_ = DeferredFor(options.dispatch);
  }
}

void Recorder::Note(JobId id, std::string reason) {
  JobRecord& r = res_.jobs[id];
  // What wait_s measures: the wait before the first start.
  if (r.reason != 0 || r.start >= 0 || reason.empty()) return;
  auto [it, added] = reason_ids_.emplace(std::move(reason), static_cast<uint32_t>(res_.reasons.size()));
  if (added) res_.reasons.push_back(it->first);
  r.reason = it->second;
}

void Recorder::Explain(NetworkScheduler& net, Time t) {
  for (JobId id : sent_) {
    if (res_.jobs[id].reason != 0 || res_.jobs[id].start >= 0 || net.phase(id) != NetPhase::kQueued) continue;
    std::string why = net.WhyWaiting(id, t);
    // Held to one model by the dispatcher (heterogeneity-aware), as the live plane says.
    const ModelMask asked = workload_.jobs[id].models, held = net.workload().jobs[id].models;
    if (!why.empty() && workload_.jobs[id].num_gpus > 0 && std::has_single_bit(held) && !std::has_single_bit(asked))
      why += HeldToModel(catalog_.model(static_cast<ModelId>(std::countr_zero(held))).name, res_.dispatch);
    Note(id, std::move(why));
  }
  sent_.clear();
}

Status Recorder::Decided(const NetDecision& d, Time t) {
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
      if (!opt_.reasons) break;
      // The time in seconds of the trace.
      if (d.at > t) Note(id, SentLaterReason(d, fmt::format("{:.0f} s", ToSeconds(d.at)), deferred_for_));
      else sent_.push_back(id);
      break;
    }
    case NetDecision::Kind::kStart: {
      const Workload& w = net_.workload();
      SUANLI_RETURN_IF_ERROR(accounts_.Started(id, d.center, d.alloc, EligibleModels(w.jobs[id], catalog_, w)));
      JobRecord& r = res_.jobs[id];
      if (r.start < 0) r.start = t;
      r.model = d.alloc.model;
      r.nodes = static_cast<uint16_t>(d.alloc.shares.size());
      r.center = d.center;
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
    case NetDecision::Kind::kUnschedulable:
      res_.jobs[id].unschedulable = true;
      res_.unschedulable.emplace_back(id, d.reason);
      --open_;
      break;
    case NetDecision::Kind::kHold:
      if (opt_.reasons) Note(id, "held: " + d.reason);
      break;
    case NetDecision::Kind::kWake: break;
  }
  return Status::Ok();
}

Status Recorder::Finished(JobId id, const RunEnd& e, Time t) {
  SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, e, t));
  JobRecord& r = res_.jobs[id];
  r.end = t;
  r.center = e.center;
  --open_;
  return Status::Ok();
}

Status Recorder::Failed(JobId id, const RunEnd& e, Time t) {
  ++res_.summary.failures;
  SUANLI_RETURN_IF_ERROR(accounts_.Ended(id, e, t));
  ++res_.jobs[id].restarts;
  ++res_.summary.restarts;
  return Status::Ok();
}

Result<SimResult> Recorder::Finish() {
  accounts_.Advance(accounts_.last_t());
  for (JobId i : res_.jobs.ids()) {
    const JobRecord& r = res_.jobs[i];
    if (!r.unschedulable && r.end < 0)
      return Internal("job {} ({}) neither finished nor was reported unschedulable (phase {}, center {})", i,
                      workload_.JobName(i), static_cast<int>(net_.phase(i)), net_.center_of(i));
  }
  SimSummary s = Summarize(res_.jobs);
  s.passes = net_.passes();
  s.transfer_s = res_.summary.transfer_s;
  s.deferred = res_.summary.deferred;
  s.failures = res_.summary.failures;
  s.restarts = res_.summary.restarts;
  s.outages = res_.summary.outages;
  accounts_.Finish(&s);
  for (const auto& r : res_.jobs)
    if (r.end >= 0 && r.center != kNoCenter) ++res_.centers[r.center].jobs;
  res_.summary = s;
  MeterIdle(&res_, SecondsF(s.makespan_s), network_, catalog_, opt_.start_hour);
  return std::move(res_);
}

}  // namespace suanli
