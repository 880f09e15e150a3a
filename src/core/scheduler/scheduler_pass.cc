// The center scheduler's pass (scheduler.h): the incremental pass over the
// jobs that arrived since a blocked head, and the full pass over the queue.
#include <algorithm>

#include "core/scheduler/scheduler.h"

namespace suanli {

bool Scheduler::IncrementalPass(Time now, Rng& rng, PassResult* out) {
  if (!static_ || order_->preemptive() || freed_ || blocked_head_ == kNoJob) return false;
  if (rt_[blocked_head_].state != JobState::kPending) return false;
  // While some tenant borrows, a waiting job may reclaim: look at the whole queue.
  if (quota_ && quota_->reclaim() && quota_->cohort_borrowed() > 0) return false;
  const Reservation* res = nullptr;
  if (spec_.backfill == BackfillMode::kEasy) {
    bool fresh = reservation_ && reservation_->job == blocked_head_ &&
                 now < reservation_at_ + opt_.reservation_refresh && now < reservation_->start;
    if (!fresh) return false;
    res = &*reservation_;
  }
  const QueueEntry head{StaticKey(blocked_head_), blocked_head_};
  std::vector<QueueEntry> arrived;
  for (JobId j : arrivals_)
    if (rt_[j].state == JobState::kPending) arrived.push_back({StaticKey(j), j});
  std::sort(arrived.begin(), arrived.end());
  for (const auto& e : arrived) {
    if (rt_[e.job].state != JobState::kPending) continue;
    ++out->examined;
    // Quota-blocked jobs wait and block no one (nothing freed: they still are).
    if (!QuotaAdmits(e.job)) continue;
    if (e < head) {
      // Ahead of the blocked head: everything before it failed and nothing was
      // freed, so it starts if it fits; if not, it is the new head.
      auto a = TryPlace(e.job, rng);
      if (!a) return false;
      Start(e.job, std::move(*a), now, out);
      continue;
    }
    if (spec_.backfill == BackfillMode::kNone) continue;
    // A job that could reclaim borrowed capacity needs a full pass.
    if (res && Dominated(blocked_failures_, e.job) && now + MinRunTime(e.job) > res->start) {
      if (CanReclaim(e.job)) return false;
      continue;
    }
    if (Dominated(failures_, e.job)) {
      if (CanReclaim(e.job)) return false;
      continue;
    }
    auto a = TryPlace(e.job, rng);
    if (!a) {
      Record(&failures_, e.job);
      if (CanReclaim(e.job)) return false;
      continue;
    }
    if (spec_.backfill == BackfillMode::kGreedy) Start(e.job, std::move(*a), now, out);
    else if (!Backfill(e.job, std::move(*a), res, now, rng, out) && CanReclaim(e.job)) return false;
  }
  return true;
}

PassResult Scheduler::Pass(Time now, Rng& rng) {
  PassResult out;
  for (auto& [id, why] : unschedulable_)
    out.decisions.push_back({Decision::Kind::kUnschedulable, id, {}, std::move(why)});
  unschedulable_.clear();
  failures_.Clear();
  blocked_failures_.Clear();
  reclaim_failures_.Clear();
  const bool preemptive = order_->preemptive();
  const BackfillMode mode = spec_.backfill;
  OrderContext ctx = Ctx(now);
  if (IncrementalPass(now, rng, &out)) {
    arrivals_.clear();
    freed_ = false;
    return out;
  }
  arrivals_.clear();
  freed_ = false;
  blocked_head_ = kNoJob;

  std::vector<JobId> dyn_order;
  size_t dyn_i = 0;
  if (!static_) {
    dyn_order = pending_;
    order_->Sort(&dyn_order, ctx);
  }
  // For static orders, walk the queue with a cursor that is moved past a job
  // before the job can leave the queue (preempted jobs re-enter behind or
  // ahead and are not revisited). The entry carries the job's request shape
  // and shortest run time, so a job ruled out by the failure memo is skipped
  // without looking it up.
  JobQueue::Cursor cursor(queue_);
  uint32_t cur_shape = 0;
  Duration cur_min_run = 0;
  bool blocked = false;  // EASY: the head did not fit, the rest are backfill candidates
  const Reservation* res = nullptr;
  // Nothing can start once free capacity is below every waiting job's demand
  // (unless the order may preempt).
  auto exhausted = [&]() {
    if (preemptive || demand_count_.empty()) return false;
    if (quota_ && quota_->reclaim() && quota_->cohort_borrowed() > 0) return false;  // may reclaim
    return state_.total_free_milli() < demand_count_.begin()->first;
  };
  // Without quotas and preemption, beside a blocked head (or in greedy
  // order), a job the failure memo rules out, or a long one no smaller than
  // one that did not fit beside the reservation, changes nothing: the loop
  // below would only count it as examined. Such jobs are counted here, in a
  // tight loop (nothing changes while they are, so neither does exhausted()).
  const bool skip_ruled = static_ && !quota_ && !preemptive;
  auto next = [&]() -> JobId {
    if (!static_) {
      while (dyn_i < dyn_order.size()) {
        JobId j = dyn_order[dyn_i++];
        if (rt_[j].state == JobState::kPending) return j;
      }
      return kNoJob;
    }
    const bool skip = skip_ruled && (blocked || mode == BackfillMode::kGreedy) && !exhausted();
    const int depth = opt_.backfill_depth;
    while (const JobQueue::Entry* e = cursor.Next()) {
      if (skip && out.examined < depth &&
          (failures_.Rules(e->shape) || (res && blocked_failures_.Rules(e->shape) && now + e->min_run > res->start))) {
        ++out.examined;
        continue;
      }
      cur_shape = e->shape;
      cur_min_run = e->min_run;
      return e->job;
    }
    return kNoJob;
  };
  // Quotas: a job that does not fit, of a tenant within its nominal quota,
  // takes borrowed capacity back (beside the EASY reservation once blocked).
  bool reclaimed = false;
  auto reclaim = [&](JobId j, const Reservation* r) {
    if (!CanReclaim(j)) return false;
    if (!r && Dominated(reclaim_failures_, j)) return false;
    if (!Reclaim(j, r, now, rng, &out)) {
      if (!r) Record(&reclaim_failures_, j);
      return false;
    }
    failures_.Clear();  // resources were freed
    blocked_failures_.Clear();
    reclaim_failures_.Clear();
    reclaimed = true;
    return true;
  };

  int preempt_budget = opt_.preempt_depth;
  Victims victims;
  bool victims_ready = false;

  JobId first_failed = kNoJob;
  JobId id = next();
  for (; id != kNoJob && out.examined < opt_.backfill_depth && !exhausted(); id = next()) {
    ++out.examined;
    // Quotas: a job its tenant may not start now waits, and blocks no one.
    if (!QuotaAdmits(id)) continue;
    const uint32_t shape = static_ ? cur_shape : shape_of_[id];
    std::optional<Allocation> a;
    // A long backfill candidate no smaller than one that did not fit beside
    // the reservation cannot fit either (the state only fills up).
    const bool hopeless =
        blocked && res && blocked_failures_.Rules(shape) && now + (static_ ? cur_min_run : MinRunTime(id)) > res->start;
    if (hopeless && !CanReclaim(id)) continue;
    if (!hopeless && !failures_.Rules(shape)) {
      a = TryPlace(id, rng);
      if (!a) Record(&failures_, id);
    }
    if (!blocked) {
      if (a) {
        Start(id, std::move(*a), now, &out);
        continue;
      }
      if (reclaim(id, nullptr)) continue;
      if (preemptive) {
        if (preempt_budget-- > 0 && !running_.empty()) {
          if (!victims_ready) {
            std::vector<std::pair<OrderKey, JobId>> keyed;
            keyed.reserve(running_.size());
            // Inference services are never preempted: they answer users.
            for (JobId v : running_)
              if (!workload_.jobs[v].service) keyed.emplace_back(order_->Key(v, ctx), v);
            victims.Reset(std::move(keyed));
            victims_ready = true;
          }
          if (PreemptFor(id, now, rng, &victims, &out)) {
            failures_.Clear();  // resources were freed
            blocked_failures_.Clear();
            continue;
          }
        }
        continue;  // preemptive orders skip jobs that cannot start
      }
      if (first_failed == kNoJob) first_failed = id;
      if (mode == BackfillMode::kNone) {
        id = kNoJob;  // strict order: the rest is not examined, as if the queue ended here
        break;
      }
      if (mode == BackfillMode::kGreedy) continue;
      // EASY: reserve for the head, then backfill around the reservation.
      blocked = true;
      bool fresh = reservation_ && reservation_->job == id && now < reservation_at_ + opt_.reservation_refresh &&
                   now < reservation_->start;
      if (!fresh) {
        reservation_ = ComputeReservation(id, now, rng);
        reservation_at_ = now;
        block_room_.generation = UINT64_MAX;
      }
      res = reservation_ ? &*reservation_ : nullptr;
      continue;
    }
    // Backfill candidate (EASY, head blocked).
    if (a && Backfill(id, std::move(*a), res, now, rng, &out)) continue;
    reclaim(id, res);
  }
  // The next pass may look at new arrivals only if this one saw the whole
  // queue (or ran out of capacity) and nothing is freed in between.
  if (!preemptive && static_ && (id == kNoJob || exhausted())) blocked_head_ = first_failed;
  if (reclaimed) {
    // Jobs examined before a reclaim may fit in what it left free: look again
    // at once, with a full pass.
    freed_ = true;
    out.wake_at = std::min(out.wake_at, now + 1);
  }

  if (preemptive) {
    OrderContext c2 = Ctx(now);
    for (JobId v : running_) out.wake_at = std::min(out.wake_at, order_->NextKeyChange(v, c2));
  }
  return out;
}

}  // namespace suanli
