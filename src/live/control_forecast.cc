// Start times and reasons of pending jobs: the forecaster thread runs start
// forecasts (core/network/forecast.h) off the scheduling pass; each pass
// takes the finished ones and hands it a snapshot of every center whose
// jobs changed. Reasons come from the network scheduler (WhyWaiting).
#include <spdlog/spdlog.h>

#include <cmath>
#include <map>
#include <tuple>

#include "live/control_impl.h"

namespace suanli::live::control_detail {

void ControlPlaneImpl::StartForecaster() {
  forecaster_ = std::thread([this] {
    std::unique_lock<std::mutex> lk(fc_mu_);
    while (true) {
      fc_cv_.wait(lk, [&] { return fc_stop_ || !fc_todo_.empty(); });
      if (fc_stop_) return;  // (read under fc_mu_ here, without it below)
      std::vector<ForecastSnapshot> todo;
      todo.swap(fc_todo_);
      lk.unlock();
      std::vector<Forecast> done;
      for (const ForecastSnapshot& snap : todo) {
        auto fc = RunForecast(snap, catalog_, &fc_stop_);
        if (fc_stop_) return;
        if (fc.ok()) {
          done.push_back(std::move(fc).value());
        } else {
          spdlog::warn("start forecast of center {}: {}", snap.center, fc.status().message());
          Forecast none;  // no answer: asked again later
          none.center = snap.center;
          none.t = snap.t;
          done.push_back(std::move(none));
        }
      }
      lk.lock();
      for (Forecast& f : done) fc_done_.push_back(std::move(f));
    }
  });
}

void ControlPlaneImpl::StopForecaster() {
  {
    // Under the lock, so that the thread cannot miss it between its check
    // and its wait; atomic, so that a forecast under way gives up too.
    std::lock_guard<std::mutex> lk(fc_mu_);
    fc_stop_ = true;
  }
  fc_cv_.notify_all();
  if (forecaster_.joinable()) forecaster_.join();
}

void ControlPlaneImpl::NoteRunShare(const JobRecord& r, JobState state, WallMs end_ms) {
  // Runs that ended on their own (not cancelled, not stopped), in one go.
  if (replay_ || (state != JobState::kSucceeded && state != JobState::kFailed) || r.start_ms.ms() <= 0 ||
      !r.attempts.empty() || r.spec.time_limit_s <= 0)
    return;
  const double share = static_cast<double>(end_ms.ms() - r.start_ms.ms()) / (1000.0 * r.spec.time_limit_s);
  if (!std::isfinite(share) || share <= 0) return;
  std::deque<double>& h = run_shares_[net_->InternTenant(r.tenant).value()];
  h.push_back(std::min(share, 1.0));
  while (h.size() > kRunShareHistory) h.pop_front();
  pooled_run_shares_.push_back(std::min(share, 1.0));
  while (pooled_run_shares_.size() > kPooledRunShareHistory) pooled_run_shares_.pop_front();
}

double ControlPlaneImpl::RunShareOf(const Job& j) const {
  // A service (a replica, an inference job) runs as long as it may: its
  // tenant's batch jobs say nothing of it.
  if (j.service) return 1;
  auto it = run_shares_.find(j.tenant.value());
  const std::deque<double>& h = it != run_shares_.end() && !it->second.empty() ? it->second : pooled_run_shares_;
  if (h.empty()) return 1;
  double sum = 0;
  for (double s : h) sum += s;
  return sum / static_cast<double>(h.size());
}

Status ControlPlaneImpl::LoadRunShares() {
  if (replay_) return Status::Ok();
  JobFilter f;
  f.states = {JobState::kSucceeded, JobState::kFailed};
  f.limit = 1000;
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> ended, store_->ListJobs(f));
  std::lock_guard<std::mutex> lk(mu_);
  // Newest first: each tenant's newest runs, put back in order.
  for (auto it = ended.rbegin(); it != ended.rend(); ++it) NoteRunShare(*it, it->state, it->end_ms);
  return Status::Ok();
}

void ControlPlaneImpl::RefreshForecasts(WallMs now) {
  std::vector<Forecast> done;
  {
    std::lock_guard<std::mutex> lk(fc_mu_);
    done.swap(fc_done_);
  }
  for (const Forecast& f : done) {
    centers_[f.center].forecasting = false;
    for (size_t i = 0; i < f.starts.size(); ++i) {
      const auto& [slot, start] = f.starts[i];
      // The same job, still queued (a slot is reused at once under a new generation).
      if (!by_slot_.contains(slot) || net_->generation(slot) != f.generations[i] ||
          net_->phase(slot) != NetPhase::kQueued)
        continue;
      auto a = active_.find(by_slot_[slot]);
      if (a == active_.end()) continue;
      a->second.rec.est_start_ms = start == kNever ? WallMs{} : std::max(now, WallOf(start));
    }
  }
  // A replay writes no estimates (they are not in its output): it runs no forecasts.
  if (replay_ || !forecaster_.joinable()) return;
  std::vector<ForecastSnapshot> todo;
  for (CenterId c : centers_.ids()) {
    CenterRt& x = centers_[c];
    const Scheduler* sched = net_->scheduler(c);
    if (!x.has_nodes || !x.up || !sched || x.forecasting || x.queued.empty()) continue;
    const CenterRt::ForecastKey key{sched->state().generation(), sched->num_pending(), sched->num_running()};
    if (key == x.forecast_key && now - x.forecast_at < kForecastMaxAgeMs) continue;
    ForecastSnapshot snap = net_->SnapshotForecast(c, t_, [this](const Job& j) { return RunShareOf(j); });
    if (snap.queued.empty()) continue;
    todo.push_back(std::move(snap));
    x.forecast_key = key;
    x.forecast_at = now;
    x.forecasting = true;
  }
  if (todo.empty()) return;
  {
    std::lock_guard<std::mutex> lk(fc_mu_);
    for (ForecastSnapshot& snap : todo) fc_todo_.push_back(std::move(snap));
  }
  fc_cv_.notify_one();
}

void ControlPlaneImpl::EstimateStarts(WallMs now) {
  RefreshForecasts(now);
  const Time t = t_;
  for (CenterId c : centers_.ids()) {
    CenterRt& x = centers_[c];
    if (!x.has_nodes || !x.up) continue;
    const Scheduler* sched = net_->scheduler(c);
    if (!sched) continue;
    // Reasons: jobs of the same shape (and tenant, where quotas count) get
    // the same answer; beyond the first ones a job keeps the reason it has.
    using Shape = std::tuple<ModelMask, StackMask, uint32_t, int64_t, int64_t, uint8_t, uint16_t, uint32_t, uint16_t>;
    std::map<Shape, std::string> memo;
    size_t n = 0;
    for (int64_t id : x.queued) {
      if (n++ >= kReasonsPerCenter) break;
      Active& a = active_.at(id);
      const Job& j = net_->workload().jobs[a.slot];
      const uint32_t tenant = sched->quota_usage() ? j.tenant.value() : 0u;
      Shape key{j.models,    j.stacks, j.num_gpus, j.cpu_milli, j.mem_mib, static_cast<uint8_t>(j.cls),
                j.gpu_milli, tenant,   j.nodes};
      auto m = memo.find(key);
      if (m == memo.end()) {
        std::string why = net_->WhyWaiting(a.slot, t);
        // Held to one model by the dispatcher (heterogeneity-aware): it says so.
        if (!a.rec.model.empty() && a.rec.spec.models.size() != 1) why += HeldToModel(a.rec.model, DispatchName());
        m = memo.emplace(key, std::move(why)).first;
      }
      a.rec.reason = m->second;
    }
  }
}

}  // namespace suanli::live::control_detail
