// The commit pipeline of the live control plane: a pass's decisions are
// committed by the store stage (a thread of its own, in the order they were
// handed over) while the loop goes on, and acted on — launches, cancels —
// only once committed.
#include <spdlog/spdlog.h>

#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace fs = std::filesystem;

void ControlPlaneImpl::Commit(int64_t pass, PassWork* w, std::chrono::steady_clock::time_point decided) {
  // Settings first: abandoned runs must be on disk before their jobs are
  // requeued; then the jobs, queued together.
  if (!w->writes.empty() || !w->settings.empty() || !w->launches.empty() || !w->cancels.empty()) {
    auto b = std::make_shared<Batch>();
    b->pass = pass;
    b->decided = decided;
    b->settings = std::move(w->settings);
    b->writes = std::move(w->writes);
    b->launches = std::move(w->launches);
    b->cancels = std::move(w->cancels);
    inflight_ = b;
    ToStore([this, b] {
      const auto c0 = std::chrono::steady_clock::now();
      for (const auto& [k, v] : b->settings) {
        Status st = store_->PutSetting(k, v);
        if (!st.ok()) spdlog::error("pass={} store: setting {}: {}", b->pass, k, st.message());
      }
      b->written = store_->UpdateJobs(b->writes);
      b->commit_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count();
      {
        std::lock_guard<std::mutex> lk(in_mu_);
        committed_ = true;
      }
      cv_.notify_all();
    });
  }
}

void ControlPlaneImpl::StoreLoop() {
  std::unique_lock<std::mutex> lk(store_mu_);
  for (;;) {
    store_cv_.wait(lk, [&] { return store_stop_ || !store_q_.empty(); });
    if (store_q_.empty()) return;  // stopping, and everything handed over is done
    std::function<void()> work = std::move(store_q_.front());
    store_q_.pop_front();
    store_busy_ = true;
    lk.unlock();
    work();
    lk.lock();
    store_busy_ = false;
    store_cv_.notify_all();
  }
}

void ControlPlaneImpl::ToStore(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lk(store_mu_);
    if (!store_stop_) {
      store_q_.push_back(std::move(work));
      store_cv_.notify_all();
      return;
    }
  }
  work();  // stopped: nothing else writes any more
}

void ControlPlaneImpl::WaitForStore() {
  std::unique_lock<std::mutex> lk(store_mu_);
  store_cv_.wait(lk, [&] { return store_q_.empty() && !store_busy_; });
}

void ControlPlaneImpl::ActOnCommitted() {
  if (!inflight_) return;
  std::shared_ptr<Batch> b = std::move(inflight_);
  const auto t0 = std::chrono::steady_clock::now();
  WaitForStore();  // its commit (handed over last)
  const auto t_committed = std::chrono::steady_clock::now();
  const int64_t pass = b->pass;
  std::unordered_set<int64_t> unwritten;
  for (size_t i = 0; i < b->written.size(); ++i)
    if (!b->written[i].ok()) {
      spdlog::error("pass={} job={} store write failed: {}", pass, b->writes[i].id, b->written[i].message());
      unwritten.insert(b->writes[i].id);
    }
  // Launch what started (only once its record is on disk), and cancel, in
  // the order decided (PassWork::Cancel).
  std::vector<JobRecord> after;
  std::vector<std::pair<std::string, std::string>> late_settings;
  std::vector<std::pair<CancelItem, Status>> cancelled;
  std::vector<std::pair<int64_t, Result<std::string>>> launched;
  size_t next_cancel = 0;
  auto cancel_upto = [&](size_t launches) {
    for (; next_cancel < b->cancels.size() && b->cancels[next_cancel].after_launches <= launches; ++next_cancel) {
      CancelItem& ci = b->cancels[next_cancel];
      if (ci.backend_id.empty()) {
        // Started and stopped in one pass: the backend id its launch returned.
        for (const auto& [id, res] : launched)
          if (id == ci.id && res.ok()) ci.backend_id = *res;
      }
      Backend& be = *centers_[ci.center].built->backend;
      cancelled.emplace_back(ci,
                             ci.notice ? be.Stop(ci.id, ci.backend_id, *ci.notice) : be.Cancel(ci.id, ci.backend_id));
    }
  };
  for (LaunchItem& l : b->launches) {
    cancel_upto(launched.size());
    if (unwritten.count(l.id)) {
      launched.emplace_back(l.id, Unavailable("the store did not record its start"));
      continue;
    }
    if (centers_[l.center].built->kind != "simulated") {
      // Its logs go there (the backend creates it too; a simulated run has none).
      std::error_code ec;
      fs::create_directories(l.req.job_dir, ec);
    }
    launched.emplace_back(l.id, centers_[l.center].built->backend->Launch(l.req));
  }
  cancel_upto(SIZE_MAX);
  const auto t_launched = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lk(mu_);
    const WallMs t = Step();
    PassWork w2;
    for (auto& [id, res] : launched) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Active& a = it->second;
      if (PhaseOf(a) != NetPhase::kRunning) continue;
      if (res.ok()) {
        a.rec.backend_id = *res;
        a.adopted = true;
        after.push_back(a.rec);
        spdlog::info("pass={} job={} tenant={} center={} node={} model={} devices={} launched backend_id={}", pass, id,
                     a.rec.tenant, a.rec.center, a.rec.node, a.rec.model, a.rec.devices.size(), *res);
        continue;
      }
      if (unwritten.count(id)) {
        // Not recorded as started: it goes back to the queue, as if never started.
        Requeue(a, t, "the store could not record its start; retried", false, &w2);
        continue;
      }
      if (res.status().code() == StatusCode::kUnavailable && a.requeues < max_requeues_) {
        // The center does not answer: the job goes elsewhere (or waits), the
        // center's health is judged by its polls.
        CenterRt& x = centers_[CenterOf(a)];
        if (x.answering) {
          x.answering = false;
          x.failing_since = t;
          x.error = res.status().message();
        }
        ++a.requeues;
        Requeue(a, t, fmt::format("launch on {} failed: {}; requeued", x.built->name, res.status().message()), true,
                &w2);
        continue;
      }
      a.rec.backend_id.clear();
      a.rec.start_ms = WallMs{};  // never ran: nothing to meter
      EndRun(a, JobState::kFailed, t, fmt::format("launch failed: {}", res.status().message()), &w2);
    }
    for (auto& [ci, st] : cancelled) {
      if (ci.abandoned) {
        if (st.ok()) {
          centers_[ci.center].abandoned_cancelled[ci.id] = t;
        } else if (st.code() == StatusCode::kNotFound) {
          ForgetAbandoned(ci.center, ci.id);
          SaveAbandoned(ci.center, &w2);
        } else {
          spdlog::warn("pass={} job={} center={} cancel of an abandoned run failed: {}", pass, ci.id,
                       centers_[ci.center].built->name, st.message());
        }
        continue;
      }
      if (st.ok()) continue;
      auto it = active_.find(ci.id);
      if (it == active_.end()) continue;
      spdlog::warn("pass={} job={} cancel failed: {}; retried", pass, ci.id, st.message());
      it->second.cancel_sent = false;
    }
    for (auto& r : w2.writes) after.push_back(std::move(r));
    late_settings.swap(w2.settings);
  }
  // Abandoned runs that are gone for good, and the backend ids of what was
  // launched (and the ends of failed launches): written by the store stage
  // while the loop goes on, before anything a later pass hands over (a job's
  // writes stay in order).
  const size_t late_writes = after.size();
  if (!late_settings.empty() || !after.empty()) {
    ToStore([this, pass, settings = std::move(late_settings), recs = std::move(after)] {
      for (const auto& [k, v] : settings) {
        Status st = store_->PutSetting(k, v);
        if (!st.ok()) spdlog::error("pass={} store: setting {}: {}", pass, k, st.message());
      }
      for (size_t i = 0; const Status& st : store_->UpdateJobs(recs)) {
        if (!st.ok()) spdlog::error("pass={} job={} store write failed: {}", pass, recs[i].id, st.message());
        ++i;
      }
    });
  }
  auto span_ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.acted;
    stats_.last_decision_to_launch_ms = span_ms(b->decided, t_launched);
  }
  if (!b->launches.empty() || !b->cancels.empty() || !b->writes.empty())
    spdlog::info(
        "pass={} acted: commit_ms={:.1f} waited_ms={:.1f} launch_ms={:.1f} record_ms={:.1f} launches={} "
        "cancels={} writes={} late_writes={}",
        pass, b->commit_ms, span_ms(t0, t_committed), span_ms(t_committed, t_launched),
        span_ms(t_launched, std::chrono::steady_clock::now()), b->launches.size(), b->cancels.size(), b->writes.size(),
        late_writes);
}

}  // namespace suanli::live::control_detail
