// The center scheduler's quotas and preemption (scheduler.h): whether a
// tenant's quota admits a job, reclaiming capacity that other tenants borrow,
// and preempting jobs of a worse queue position.
#include <algorithm>
#include <unordered_map>

#include "core/scheduler/scheduler.h"

namespace suanli {

bool Scheduler::Preemptible(JobId v, Time now, PassResult* out) const {
  const Time from = rt_[v].last_start + opt_.min_run;
  if (opt_.min_run <= 0 || now >= from) return true;
  out->wake_at = std::min(out->wake_at, from);
  return false;
}

bool Scheduler::QuotaAdmits(JobId id) const {
  if (!quota_) return true;
  const Job& job = workload_.jobs[id];
  return quota_->Admits(job.tenant, job.GpuMilli());
}

bool Scheduler::CanReclaim(JobId id) const {
  if (!quota_ || !quota_->reclaim() || quota_->cohort_borrowed() == 0) return false;
  const Job& job = workload_.jobs[id];
  return job.GpuMilli() > 0 && quota_->WithinNominal(job.tenant, job.GpuMilli());
}

bool Scheduler::Reclaim(JobId id, const Reservation* res, Time now, Rng& rng, PassResult* out) {
  const TenantId tenant = workload_.jobs[id].tenant;
  const int64_t need = workload_.jobs[id].GpuMilli();
  // Candidates: running jobs of the other tenants that borrow, newest first.
  std::vector<std::pair<Time, JobId>> cand;
  for (JobId v : running_) {
    const Job& vj = workload_.jobs[v];
    if (vj.tenant != tenant && vj.GpuMilli() > 0 && !vj.service && quota_->tenant(vj.tenant).borrowed() > 0 &&
        Preemptible(v, now, out))
      cand.emplace_back(rt_[v].last_start, v);
  }
  std::sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) {
    return x.first > y.first || (x.first == y.first && x.second > y.second);
  });
  // A tenant loses jobs only while it still borrows.
  std::unordered_map<TenantId, int64_t> borrowed;
  std::vector<JobId> released;
  std::optional<Allocation> a;
  for (const auto& [started, v] : cand) {
    const Job& vj = workload_.jobs[v];
    auto b = borrowed.try_emplace(vj.tenant, quota_->tenant(vj.tenant).borrowed()).first;
    if (b->second <= 0) continue;
    b->second -= vj.GpuMilli();
    state_.Release(run_[v].alloc);
    released.push_back(v);
    if (state_.total_free_milli() < need) continue;  // cannot fit yet: skip the placement
    if ((a = TryPlaceBeside(id, res, now, rng))) break;
  }
  return EvictFor(id, released, std::move(a), now, out);
}

bool Scheduler::EvictFor(JobId id, const std::vector<JobId>& released, std::optional<Allocation> a, Time now,
                         PassResult* out) {
  if (!a) {
    for (JobId v : released) state_.Allocate(run_[v].alloc);
    return false;
  }
  // Keep the victims that still fit beside the new job; stop only the others.
  state_.Allocate(*a);
  std::vector<JobId> stop;
  for (auto it = released.rbegin(); it != released.rend(); ++it) {
    if (state_.CanAllocate(run_[*it].alloc)) state_.Allocate(run_[*it].alloc);
    else stop.push_back(*it);
  }
  state_.Release(*a);
  for (JobId v : stop) state_.Allocate(run_[v].alloc);
  for (JobId v : stop) Preempt(v, id, now, out);
  Start(id, std::move(*a), now, out);
  return true;
}

namespace {
// Heap order: the top is the worst victim (largest key, then largest id).
bool LessBad(const std::pair<OrderKey, JobId>& x, const std::pair<OrderKey, JobId>& y) {
  return x.first < y.first || (x.first == y.first && x.second < y.second);
}
}  // namespace

void Scheduler::Victims::Reset(std::vector<std::pair<OrderKey, JobId>> keyed) {
  aside_ = std::move(keyed);
  bound_.reset();
  heap_.clear();
  sorted_.clear();
}

void Scheduler::Victims::Admit(const OrderKey& key) {
  if (bound_ && !(key < *bound_)) return;  // those worse than `key` are in already
  bound_ = key;
  auto worse = std::partition(aside_.begin(), aside_.end(), [&](const auto& v) { return !(key < v.first); });
  if (worse == aside_.end()) return;
  // Each one admitted now is less bad than those admitted before (popped or
  // not), so the walk's order is that of one heap of all of them.
  heap_.insert(heap_.end(), worse, aside_.end());
  aside_.erase(worse, aside_.end());
  std::make_heap(heap_.begin(), heap_.end(), LessBad);
}

bool Scheduler::Victims::At(size_t i, JobId* out) {
  while (sorted_.size() <= i && !heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), LessBad);
    sorted_.push_back(heap_.back().second);
    heap_.pop_back();
  }
  if (i >= sorted_.size()) return false;
  *out = sorted_[i];
  return true;
}

bool Scheduler::PreemptFor(JobId id, Time now, Rng& rng, Victims* victims, PassResult* out) {
  OrderContext ctx = Ctx(now);
  OrderKey mine = order_->Key(id, ctx);
  std::vector<JobId> released;
  std::optional<Allocation> a;
  // With quotas, the order takes nothing that reclaim would give back: a job
  // that would make its tenant borrow preempts only its own tenant's jobs
  // and jobs that borrowed capacity, and those only while their tenant stays
  // at or above its nominal quota without them. Otherwise the victim,
  // within its nominal quota again, reclaims its capacity at once, the
  // preemptor preempts it again, and so on without end at one instant.
  const Job& job = workload_.jobs[id];
  const bool lender =
      !quota_ || !quota_->tenant(job.tenant).limited || quota_->WithinNominal(job.tenant, job.GpuMilli());
  std::unordered_map<TenantId, int64_t> borrowed;  // what each victim's tenant still borrows
  victims->Admit(mine);
  JobId v;
  for (size_t i = 0; victims->At(i, &v); ++i) {
    if (rt_[v].state != JobState::kRunning) continue;
    if (!(mine < order_->Key(v, ctx))) break;  // victims are sorted worst first
    if (!Preemptible(v, now, out)) continue;
    const Job& vj = workload_.jobs[v];
    if (!lender && vj.tenant != job.tenant && quota_->tenant(vj.tenant).limited) {
      auto b = borrowed.try_emplace(vj.tenant, quota_->tenant(vj.tenant).borrowed()).first;
      if (b->second < vj.GpuMilli()) continue;
      b->second -= vj.GpuMilli();
    }
    state_.Release(run_[v].alloc);
    released.push_back(v);
    if ((a = TryPlace(id, rng))) break;
  }
  return EvictFor(id, released, std::move(a), now, out);
}

}  // namespace suanli
