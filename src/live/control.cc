// The live control plane: set-up, the loop and one pass. See control_impl.h
// for how the parts fit, docs/control-plane.md for what a pass does.
#include "live/control.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <ctime>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "core/policy/dispatch/allocation_lp.h"
#include "io/model_loader.h"
#include "live/control_impl.h"

namespace suanli::live {
namespace control_detail {

Time SystemNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatMs(WallMs ms) {
  std::time_t t = static_cast<std::time_t>(ms.ms() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ------------------------------------------------------------------ set-up

ControlPlaneImpl::ControlPlaneImpl(ServerConfig config, std::unique_ptr<Store> store, BuiltNetwork built)
    : config_(std::move(config)),
      catalog_(BuiltinCatalog()),
      store_(std::move(store)),
      built_(std::move(built)),
      network_(built_.network),
      start_hour_(0) {}  // CoreTime is Unix time: 0 is 00:00 UTC; centers read their own local hour

void ControlPlaneImpl::SetReplay(ReplaySetup* replay) {
  replay_ = replay;
  no_jobs_ = replay->base;
  no_jobs_.jobs.clear();
  start_hour_ = replay->start_hour;
}

void ControlPlaneImpl::StartStore() {
  store_thread_ = std::thread([this] { StoreLoop(); });
}

void ControlPlaneImpl::StartLoop() {
  StartStore();
  StartForecaster();
  StartStager();
  loop_ = std::thread([this] { Loop(); });
}

void ControlPlaneImpl::Stop() {
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  StopForecaster();
  StopStager();
  {
    // The last pass's decisions are committed and acted on.
    std::lock_guard<std::mutex> pass_lock(pass_mu_);
    ActOnCommitted();
  }
  {
    std::lock_guard<std::mutex> lk(store_mu_);
    store_stop_ = true;
  }
  store_cv_.notify_all();
  if (store_thread_.joinable()) store_thread_.join();
}

Status ControlPlaneImpl::Init() {
  const size_t nc = network_.centers.size();
  centers_.resize(nc);
  SUANLI_ASSIGN_OR_RETURN(PolicySpec policy, ParsePolicySpec(config_.policy));
  NetworkOptions opt;
  SUANLI_ASSIGN_OR_RETURN(opt.dispatch, ParseDispatchSpec(config_.dispatch));
  deferred_for_ = DeferredFor(opt.dispatch);
  // A launch names one node: gangs do not span nodes in the live plane.
  opt.scheduler.allow_multi_node = false;
  opt.scheduler.min_run = Seconds(config_.min_run_s);
  opt.start_hour = start_hour_;
  opt.seed = 0x73756e6c69ULL;
  opt.task_mix_from_workload = false;
  opt.confirm_stops = true;     // a preempted run is stopped by its backend before its job runs again
  opt.explain_dispatch = true;  // a job's history says why it went where it went
  requeue_avoid_ = Seconds(config_.center_timeout_s);
  center_timeout_ms_ = int64_t{config_.center_timeout_s} * 1000;
  if (replay_) {
    max_requeues_ = INT_MAX;
    requeue_avoid_ = 0;
    center_timeout_ms_ = 0;
    opt = replay_->options;
    if (opt.scheduler.allow_multi_node) return InvalidArgument("replay: the live plane runs each job on one node");
  }
  SUANLI_ASSIGN_OR_RETURN(net_, NetworkScheduler::Create(no_jobs_, network_, catalog_, policy, opt));
  for (CenterId c : Ids<CenterId>(nc)) {
    CenterRt& x = centers_[c];
    x.built = built_.centers[c].get();
    center_names_.push_back(x.built->name);
    center_ids_[x.built->name] = c;
    for (const Node& n : x.built->net.nodes) x.devices += n.devices;
    if (x.built->net.nodes.empty()) {
      x.down_reason = "no nodes";
      continue;
    }
    x.has_nodes = true;
    for (NodeId i : x.built->global.ids())
      if (net_->CenterNode(c, i) != x.built->global[i])
        return Internal("center '{}': its nodes are numbered apart from the network scheduler's", x.built->name);
    // Admission asks whether the hardware could ever run a job, whoever's it
    // is: the tenant's quota is the center scheduler's to enforce.
    SchedulerOptions admit_opt = opt.scheduler;
    admit_opt.quotas = nullptr;
    auto a = Scheduler::Create(policy, catalog_, x.built->net, no_jobs_, admit_opt);
    if (!a.ok()) return a.status().Wrap(fmt::format("center '{}'", x.built->name));
    x.admit = std::move(*a);
  }
  if (!replay_) SUANLI_RETURN_IF_ERROR(InitQuotas());
  SUANLI_RETURN_IF_ERROR(LoadDatasets());
  SUANLI_RETURN_IF_ERROR(LoadRunShares());
  // Drain flags and abandoned runs survive restarts.
  Step();
  for (CenterId c : Ids<CenterId>(nc)) {
    CenterRt& x = centers_[c];
    SUANLI_ASSIGN_OR_RETURN(auto drain, store_->GetSetting("drain/" + x.built->name));
    x.drained = drain && *drain == "1";
    SyncCenter(c);
    SUANLI_ASSIGN_OR_RETURN(auto ab, store_->GetSetting("abandoned/" + x.built->name));
    if (ab && !ab->empty()) {
      auto j = nlohmann::json::parse(*ab, nullptr, false);
      if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
          auto id = ParseInt(it.key());
          if (id && it.value().is_string()) x.abandoned[*id] = it.value().get<std::string>();
        }
        x.resend_abandoned = !x.abandoned.empty();
      } else {
        spdlog::warn("center={} setting abandoned/{} is not a JSON object; ignored", x.built->name, x.built->name);
      }
    }
    if (!replay_) LoadHistory(c, Now());
  }
  SUANLI_RETURN_IF_ERROR(InitAgents());
  SUANLI_RETURN_IF_ERROR(BootstrapAdmin());
  if (!replay_) SUANLI_RETURN_IF_ERROR(AssignHomes());
  return Recover();
}

std::string ControlPlaneImpl::HomeFor(const std::vector<Tenant>& tenants) const {
  // The non-edge center with nodes that is home to the fewest tenants (the
  // first in the network's order on a tie); any center if none qualifies.
  std::map<std::string, size_t> at;
  for (const Tenant& t : tenants) ++at[t.home];
  std::string best;
  size_t fewest = SIZE_MAX;
  for (bool strict : {true, false}) {
    for (CenterId c : centers_.ids()) {
      const CenterRt& x = centers_[c];
      if (strict && (!x.has_nodes || network_.centers[c].edge)) continue;
      const size_t n = at[x.built->name];
      if (n < fewest) {
        fewest = n;
        best = x.built->name;
      }
    }
    if (!best.empty()) break;
  }
  return best;
}

Status ControlPlaneImpl::AssignHomes() {
  // Tenants of a store made before homes, or whose home left the network,
  // get one now (kept from then on).
  SUANLI_ASSIGN_OR_RETURN(std::vector<Tenant> tenants, store_->ListTenants());
  for (Tenant& t : tenants) {
    if (!t.home.empty() && center_ids_.contains(t.home)) continue;
    const std::string old = t.home;
    t.home.clear();
    t.home = HomeFor(tenants);
    SUANLI_RETURN_IF_ERROR(store_->PutTenant(t));
    if (old.empty()) spdlog::info("tenant={} home={} (assigned)", t.name, t.home);
    else spdlog::warn("tenant={} home={}: its home {} is not a center of this network any more", t.name, t.home, old);
  }
  return Status::Ok();
}

Status ControlPlaneImpl::BootstrapAdmin() {
  if (config_.admin_token.empty()) return Status::Ok();
  SUANLI_ASSIGN_OR_RETURN(auto tenants, store_->ListTenants());
  for (const Tenant& t : tenants)
    if (t.admin) return Status::Ok();
  SUANLI_ASSIGN_OR_RETURN(auto existing, store_->GetTenant("admin"));
  Tenant admin = existing ? *existing : Tenant{};
  admin.name = "admin";
  admin.admin = true;
  admin.token_sha256 = Sha256Hex(config_.admin_token);
  if (admin.created_ms.ms() == 0) admin.created_ms = WallOf(SystemNowUs());
  if (admin.home.empty()) admin.home = HomeFor(tenants);
  SUANLI_RETURN_IF_ERROR(store_->PutTenant(admin));
  spdlog::info("tenant=admin created from the configured admin token");
  return Status::Ok();
}

// ------------------------------------------------------------------ the loop

void ControlPlaneImpl::Wake() {
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void ControlPlaneImpl::Loop() {
  auto last = std::chrono::steady_clock::now() - std::chrono::hours(1);
  const auto interval = std::chrono::milliseconds(config_.pass_interval_ms);
  std::unique_lock<std::mutex> lk(in_mu_);
  while (!stop_) {
    cv_.wait_until(lk, last + interval, [&] { return stop_ || wake_ || committed_; });
    if (stop_) break;
    if (committed_ && !wake_ && std::chrono::steady_clock::now() < last + interval) {
      // The last pass's decisions are on disk: launch them now, not at the
      // next pass.
      committed_ = false;
      lk.unlock();
      {
        std::lock_guard<std::mutex> pass_lock(pass_mu_);
        ActOnCommitted();
      }
      lk.lock();
      continue;
    }
    // Coalesce a burst: at most one pass per kMinPassGap.
    auto earliest = last + kMinPassGap;
    if (std::chrono::steady_clock::now() < earliest) {
      cv_.wait_until(lk, earliest, [&] { return stop_; });
      if (stop_) break;
    }
    wake_ = false;
    committed_ = false;  // the pass acts on it first
    lk.unlock();
    last = std::chrono::steady_clock::now();
    RunPass();
    lk.lock();
  }
  // The dispatcher's LP solver keeps per-thread state; this thread ends here.
  ReleaseLpSolverThreadState();
}

void ControlPlaneImpl::TakeIncoming(WallMs now, PassWork* w, std::vector<JobId>* arrived) {
  std::vector<JobRecord> in;
  std::unordered_map<int64_t, Job> jobs;
  size_t fresh = 0;  // in[fresh..]: replicas back from their backoff
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    in.swap(incoming_);
    jobs.swap(incoming_jobs_);
    // Services' replicas whose backoff is over arrive again.
    fresh = in.size();
    while (!restarting_.empty() && restarting_.begin()->first <= now) {
      in.push_back(std::move(restarting_.begin()->second));
      restarting_.erase(restarting_.begin());
    }
  }
  for (size_t i = 0; i < in.size(); ++i) {
    const JobRecord& rec = in[i];
    auto j = jobs.find(rec.id);
    Active& a = AddActive(rec, j == jobs.end() ? nullptr : &j->second);
    if (std::string gone = DatasetGone(rec); !gone.empty()) {
      net_->Withdraw(a.slot, t_);
      Finish(a, JobState::kFailed, now, std::move(gone), w);
      continue;
    }
    if (i >= fresh) {
      a.rec.est_start_ms = WallMs{};
      Event(a, "restarted", "its backoff is over: placed again within its bound", now);
      w->writes.push_back(a.rec);
    }
    arrived->push_back(a.slot);
  }
}

void ControlPlaneImpl::RunPass() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  const auto t0 = std::chrono::steady_clock::now();
  // 0. The previous pass's decisions (committed by now, as a rule): launched
  // before anything is polled or decided, so that no pass sees a started job
  // that was not launched yet.
  ActOnCommitted();
  const auto t_acted = std::chrono::steady_clock::now();
  const int64_t pass = ++pass_id_;
  const Time polled_at = NowUs();
  WallMs now = WallOf(polled_at);
  const size_t nc = centers_.size();
  PassWork w;

  // 1. Backends: runs to adopt again, then poll (no lock: backends may be slow).
  std::vector<std::pair<CenterId, std::pair<LaunchRequest, std::string>>> to_adopt;
  IdVector<CenterId, bool> poll_due(nc, false);
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [id, a] : active_)
      if (PhaseOf(a) == NetPhase::kRunning && !a.adopted && centers_[CenterOf(a)].answering)
        to_adopt.push_back({CenterOf(a), {RequestFor(a.rec), a.rec.backend_id}});
    for (CenterId c : Ids<CenterId>(nc)) {
      const CenterRt& x = centers_[c];
      const int64_t gap_ms = replay_ ? 0 : !x.answering ? 1000 : x.built->kind == "slurm" ? 500 : 0;
      poll_due[c] = now - x.last_poll >= gap_ms;
    }
  }
  std::vector<std::pair<int64_t, Status>> adopt_results;
  for (auto& [c, item] : to_adopt)
    adopt_results.emplace_back(item.first.job_id, centers_[c].built->backend->Adopt(item.first, item.second));
  // A center that does not answer is polled on a thread of its own, so that
  // its commands' time-outs never hold up the pass; nothing else is sent to
  // it meanwhile (no launches, cancels or adoptions while it does not answer).
  IdVector<CenterId, Result<std::vector<BackendEvent>>> polls;  // pushed in center order
  polls.reserve(nc);
  for (CenterId c : Ids<CenterId>(nc)) {
    CenterRt& x = centers_[c];
    if (x.poll_in_flight.valid()) {
      const bool ready = x.poll_in_flight.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      poll_due[c] = ready;
      polls.push_back(ready ? x.poll_in_flight.get() : Result<std::vector<BackendEvent>>(std::vector<BackendEvent>{}));
      continue;
    }
    if (!poll_due[c]) {
      polls.emplace_back(std::vector<BackendEvent>{});
      continue;
    }
    if (!x.answering && !replay_) {
      Backend* b = x.built->backend.get();
      x.poll_in_flight = std::async(std::launch::async, [b, polled_at] { return b->PollUs(polled_at); });
      x.last_poll = now;
      poll_due[c] = false;
      polls.emplace_back(std::vector<BackendEvent>{});
      continue;
    }
    polls.push_back(x.built->backend->PollUs(polled_at));
  }
  const auto t_polled = std::chrono::steady_clock::now();

  // 2. Decide, under the lock: events first, then arrivals, then the passes.
  {
    std::lock_guard<std::mutex> lk(mu_);
    now = Step();
    const Time t = t_;
    for (auto& [id, st] : adopt_results) {
      auto it = active_.find(id);
      if (it == active_.end() || PhaseOf(it->second) != NetPhase::kRunning) continue;
      if (st.ok()) it->second.adopted = true;
      else AdoptFailed(it->second, st, now, &w);
    }
    std::vector<JobId> arrived;
    TakeIncoming(now, &w, &arrived);
    for (CenterId c : Ids<CenterId>(nc)) {
      if (poll_due[c]) centers_[c].last_poll = now;
      if (poll_due[c] && polls[c].ok()) ApplyEvents(c, *polls[c], now, &w);
      CheckHealth(c, polls[c].status(), poll_due[c], now, &w);
      SyncCenter(c);
    }
    ApplyDecisions(now, &w);
    // Cancels asked for running jobs.
    for (auto& [id, a] : active_) {
      if (PhaseOf(a) == NetPhase::kRunning && a.cancel_requested && !a.cancel_sent && a.adopted &&
          centers_[CenterOf(a)].answering) {
        w.Cancel(id, CenterOf(a), a.rec.backend_id, false);
        a.cancel_sent = true;
      }
    }
    RefreshCheckpoints(now, &w);
    // Jobs whose datasets were copied, jobs due at a center, then arrivals
    // (the simulator's order).
    ApplyStaged(now, &w);
    while (!timers_.empty() && timers_.begin()->first <= t) {
      auto [slot, gen] = timers_.begin()->second;
      timers_.erase(timers_.begin());
      if (ReadyUnlessStaging(slot, gen)) net_->Ready(slot, gen, t);
    }
    ApplyDecisions(now, &w);
    for (JobId slot : arrived) net_->Arrive(slot, t);
    ApplyDecisions(now, &w);
    net_->WakeDue(t);
    wakes_.erase(wakes_.begin(), wakes_.upper_bound(t));
    Status st = net_->Pass(t);
    if (!st.ok()) spdlog::error("pass={} {}", pass, st.message());
    ApplyDecisions(now, &w);
    EstimateStarts(now);
    SampleHistory(now, &w);
    for (CenterId c : Ids<CenterId>(nc))
      if (centers_[c].abandoned_dirty) SaveAbandoned(c, &w);
  }

  const auto t_decided = std::chrono::steady_clock::now();
  // 3. Hand the decisions to the store stage; acted on once committed.
  const size_t writes = w.writes.size();
  Commit(pass, &w, t_decided);

  // 4. Figures.
  const auto t_end = std::chrono::steady_clock::now();
  auto span_ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  const double ms = span_ms(t0, t_end);
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.passes;
    stats_.last_pass_ms = ms;
    stats_.pass_ms_sum += ms;
    if (stats_.pass_ms_counts.empty()) {
      stats_.pass_ms_buckets_le = kPassBuckets;
      stats_.pass_ms_counts.assign(kPassBuckets.size(), 0);
    }
    for (size_t i = 0; i < kPassBuckets.size(); ++i)
      if (ms <= kPassBuckets[i]) ++stats_.pass_ms_counts[i];
  }
  const bool busy = w.dispatched || w.started || w.ended || w.requeued;
  if (busy)
    spdlog::info(
        "pass={} ms={:.1f} act_ms={:.1f} poll_ms={:.1f} decide_ms={:.1f} dispatched={} held={} started={} ended={} "
        "requeued={} writes={}",
        pass, ms, span_ms(t0, t_acted), span_ms(t_acted, t_polled), span_ms(t_polled, t_decided), w.dispatched, w.held,
        w.started, w.ended, w.requeued, writes);
  else spdlog::debug("pass={} ms={:.1f} idle", pass, ms);
}

}  // namespace control_detail

Result<std::unique_ptr<ControlPlane>> ControlPlane::Start(const ServerConfig& config) {
  using namespace control_detail;
  namespace fs = std::filesystem;
  SUANLI_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::error_code ec;
  fs::create_directories(fs::path(config.data_dir) / "jobs", ec);
  if (ec) return IoError("data: cannot create '{}': {}", config.data_dir, ec.message());
  StoreOptions so;
  so.synchronous_full = config.durable;
  so.accept_data_loss = config.accept_data_loss;
  auto store = Store::Open((fs::path(config.data_dir) / "suanli.db").string(), so);
  if (!store.ok()) return store.status();
  auto built = BuildNetwork(config, BuiltinCatalog());
  if (!built.ok()) return built.status();
  auto cp = std::make_unique<ControlPlaneImpl>(config, std::move(*store), std::move(*built));
  SUANLI_RETURN_IF_ERROR(cp->Init());
  cp->StartLoop();
  return std::unique_ptr<ControlPlane>(std::move(cp));
}

}  // namespace suanli::live
