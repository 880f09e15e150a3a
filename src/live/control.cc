// The live control plane: the engine's policies on a wall clock.
//
// One loop thread runs scheduling passes; HTTP threads call Submit, Get, List,
// Cancel and the rest. Locks, always taken in this order:
//   pass_mu_  one pass at a time (the loop, or PassNow)
//   mu_       the in-memory state: active jobs, the centers' schedulers and
//             the dispatcher (never held across a store write or a backend call)
//   in_mu_    the queue of submitted jobs the loop has not taken yet, and the
//             loop's wake-up flag (Submit takes only this one)
// Leaf locks: auth_mu_ (token and tenant caches), admit_mu_ (admission
// checks), stats_mu_, tenant_locks_mu_.
//
// See docs/control-plane.md for what a pass does.
#include "live/control.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "base/rng.h"
#include "base/strings.h"
#include "core/model/energy.h"
#include "core/policy/dispatch/allocation_lp.h"
#include "core/policy/dispatch/dispatcher.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"
#include "live/control_internal.h"
#include "live/metering.h"

namespace suanli::live {

namespace {

using namespace control_detail;
namespace fs = std::filesystem;

WallMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// The core's time: Unix time in its unit (microseconds).
Time CoreTime(WallMs ms) { return ms * kMilli; }

// Whole hours east of UTC of this machine's time zone: hours of the day
// (tariffs, carbon) are the server's local hours.
std::string FormatMs(WallMs ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status FailedPrecondition(std::string message) { return Status(StatusCode::kFailedPrecondition, std::move(message)); }

// A slot of the live workload is reused only this long after its job left
// the schedulers: longer than an EASY reservation may be kept (60 s), so a
// reservation made for the old job can never be taken for the new one.
constexpr WallMs kSlotReuseDelayMs = 120'000;
// Estimated starts: at most this many pending jobs per center and pass.
constexpr size_t kEstimatesPerCenter = 200;
// Passes come at most this often under a storm of submissions.
constexpr auto kMinPassGap = std::chrono::milliseconds(50);
// An abandoned run whose cancel went through is forgotten this long after.
constexpr WallMs kAbandonedForgetMs = 60'000;
// A job whose runs the centers stop on their own (not its tenant) runs again
// at most this many times.
constexpr int kMaxRequeues = 3;
constexpr const char* kInTransit = "in transit between the loop and the store";
constexpr const char* kInTransitKind = "in_transit";  // Status::kind() of that error

const std::vector<double> kPassBuckets = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000};

enum class Phase : uint8_t {
  kDispatch,  // waiting for the dispatcher: new, re-dispatched or held
  kQueued,    // pending in its center's scheduler
  kRunning,   // started (launched or re-adopted)
  kStopping,  // preempted: the backend stops it, then it is queued again
};

struct Active {
  JobRecord rec;
  JobId slot = kNoJob;
  CenterId center = kNoCenter;  // kQueued, kRunning, kStopping
  Phase phase = Phase::kDispatch;
  ModelMask models = 0;   // as asked (the dispatcher may narrow the core job's)
  bool in_sched = false;  // running: its center's scheduler holds its allocation
  bool adopted = true;    // running: the backend follows it (false: Adopt failed, retried)
  bool cancel_requested = false;
  bool cancel_sent = false;
  double run_devices = 0;  // running: accelerators, and its expected end (seconds),
  double run_end_s = 0;    //   as counted in the dispatcher's view of the center
  WallMs not_before = 0;   // kDispatch: not before this (deferred by the dispatcher)
  std::string cancelled_by;
  int requeues = 0;            // runs the centers stopped on their own
  CenterId avoid = kNoCenter;  // a center that just stopped its run: not sent there again before
  WallMs avoid_until = 0;
  // What it takes into its next queue (Scheduler::Submit with progress):
  // after a preemption, all it had (attained service, work left, the time it
  // was queued again: as in the simulator, where a preempted job stays in
  // its queue); after a run its center stopped or lost, the work it had
  // left when that run started (it starts over, as the simulator's
  // interrupted runs without checkpoints). None: a fresh job.
  std::optional<JobProgress> carried;
  std::string stop_reason;  // kStopping: why it is stopped ("preempted", ...)
  JobProgress run_start;    // running: its progress when this run started
  double queued_work = 0;   // kQueued: its work as counted in the center's backlog
};

struct CenterRt {
  BuiltCenter* built = nullptr;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<Scheduler> admit;  // a second, idle scheduler: admission checks from HTTP threads
  int devices = 0;
  bool answering = true;  // the backend's last Poll answered
  WallMs failing_since = 0;
  bool up = true;  // false once it has not answered for center_timeout_s
  bool drained = false;
  std::string error;  // the backend's last error
  std::string down_reason;
  std::map<std::string, std::string> down_nodes;  // node -> why, as its backend reported
  bool changed = true;                            // something happened since its last pass
  Time wake = kNever;                             // its scheduler asked for a pass at this time
  WallMs last_poll = 0;
  WallMs up_since = 0;
  std::future<Result<std::vector<BackendEvent>>> poll_in_flight;  // while it does not answer
  std::set<int64_t> queued;                                       // job ids pending here
  std::unordered_set<int64_t> running;                            // job ids running (or stopping) here
  // Runs given up on while the center did not answer (job id -> backend id):
  // cancelled when it answers again; their events are not the job's.
  std::map<int64_t, std::string> abandoned;
  std::map<int64_t, WallMs> abandoned_cancelled;  // when the cancel of an abandoned run went through
  bool abandoned_dirty = false;
  bool resend_abandoned = false;  // abandoned runs read at start: cancel them once it answers
};

struct LaunchItem {
  int64_t id = 0;
  CenterId center = kNoCenter;
  LaunchRequest req;
};

struct CancelItem {
  int64_t id = 0;
  CenterId center = kNoCenter;
  std::string backend_id;
  bool abandoned = false;
};

struct PassWork {
  std::vector<JobRecord> writes;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<LaunchItem> launches;
  std::vector<CancelItem> cancels;
  int dispatched = 0, started = 0, ended = 0, requeued = 0, held = 0;
};

// A pass's decisions on their way to the store and then to the backends.
struct Batch {
  int64_t pass = 0;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<JobRecord> writes;
  std::vector<LaunchItem> launches;
  std::vector<CancelItem> cancels;
  std::vector<Status> written;  // by the store stage, one per write
  double commit_ms = 0;
  std::chrono::steady_clock::time_point decided;
};

class ControlPlaneImpl final : public ControlPlane {
 public:
  ControlPlaneImpl(ServerConfig config, std::unique_ptr<Store> store, BuiltNetwork built)
      : config_(std::move(config)),
        catalog_(BuiltinCatalog()),
        store_(std::move(store)),
        built_(std::move(built)),
        network_(built_.network),
        paths_(network_),
        start_hour_(0),  // CoreTime is Unix time: 0 is 00:00 UTC; centers read their own local hour
        rng_(0x73756e6c69ULL) {}

  ~ControlPlaneImpl() override { Stop(); }

  Status Init();
  void StartLoop() {
    store_thread_ = std::thread([this] { StoreLoop(); });
    loop_ = std::thread([this] { Loop(); });
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lk(in_mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (loop_.joinable()) loop_.join();
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

  std::optional<Caller> Authenticate(const std::string& bearer_token) override;
  Result<JobRecord> Submit(const Caller& caller, JobSpec spec) override;
  Result<JobRecord> Get(const Caller& caller, int64_t id) override;
  Result<std::vector<JobRecord>> List(const Caller& caller, JobFilter filter) override;
  Result<JobRecord> Cancel(const Caller& caller, int64_t id) override;
  Result<JobRecord> CancelOnce(const Caller& caller, int64_t id);
  Result<std::string> LogPath(const Caller& caller, int64_t id, const std::string& stream) override;
  std::vector<CenterView> Centers() override;
  Status Drain(const Caller& caller, const std::string& center) override;
  Status Resume(const Caller& caller, const std::string& center) override;
  Result<NewTenant> CreateTenant(const Caller& caller, Tenant t) override;
  Result<std::vector<Tenant>> Tenants(const Caller& caller) override;
  Result<std::vector<UsageSum>> Usage(const Caller& caller, WallMs from_ms, WallMs to_ms) override;
  PassStats Stats() override;
  void PassNow() override { RunPass(); }
  // The wall clock: the config's (tests) or the system's.
  WallMs Now() const { return config_.clock ? config_.clock() : NowMs(); }

 private:
  // ---- set-up
  Status Recover();
  Status BootstrapAdmin();
  // ---- the loop
  void Loop();
  void Wake() {
    {
      std::lock_guard<std::mutex> lk(in_mu_);
      wake_ = true;
    }
    cv_.notify_one();
  }
  void RunPass();
  // ---- the store stage: a pass's writes are committed on a thread of their
  // own, in the order they were handed over, while the loop goes on.
  void StoreLoop();
  void ToStore(std::function<void()> work);  // runs it at once once stopped
  void WaitForStore();                       // until everything handed over is done
  // The previous pass's decisions, once committed: launch what started (only
  // if its record is on disk), send cancels, record what came of them
  // (pass_mu_ held).
  void ActOnCommitted();
  void TakeIncoming(WallMs now);
  void ApplyEvents(CenterId c, const std::vector<BackendEvent>& events, WallMs now, PassWork* w);
  void CheckHealth(CenterId c, const Status& polled, bool was_polled, WallMs now, PassWork* w);
  void MarkDown(CenterId c, WallMs now, PassWork* w);
  void StopThenRequeue(Active& a, Time t, const std::string& why, PassWork* w);
  void NodeChanged(CenterId c, const std::string& node, bool up, const std::string& why, WallMs now, PassWork* w);
  void DispatchWaiting(WallMs now, PassWork* w);
  void PassCenter(CenterId c, WallMs now, PassWork* w);
  void EstimateStarts(WallMs now);
  // ---- job life (mu_ held)
  JobId AllocSlot(WallMs now);
  void FreeSlot(JobId slot, WallMs now);
  Active& AddActive(const JobRecord& rec, WallMs now);
  void Queue(Active& a, CenterId c, WallMs now);
  void Unqueue(Active& a, WallMs now);                 // kQueued -> out of its scheduler
  void StopRun(Active& a, WallMs now, bool finished);  // running -> out of its scheduler
  void ToDispatch(Active& a, const std::string& reason);
  void AddQueuedAt(const JobFilter& filter, std::vector<JobRecord>* jobs);  // mu_ held
  void Finish(Active& a, JobState state, WallMs end_ms, std::string reason, PassWork* w);
  void AdoptFailed(Active& a, const Status& st, WallMs now, PassWork* w);
  // A running (or stopping) job goes back to the dispatcher, its run given up;
  // with `avoid`, not to the same center for center_timeout_s.
  // `outcome`: how its run ended, kept as an attempt ending at `ended_ms`
  // (0: now): "preempted" (it keeps what it had and goes back to the same
  // center's queue if it can), "requeued" or "abandoned" (it starts over);
  // empty: the run never started (no attempt).
  void Requeue(Active& a, WallMs now, std::string reason, bool avoid, PassWork* w, std::string_view outcome = {},
               WallMs ended_ms = 0);
  // Ends the job's current run as an attempt (if it started): metered, kept
  // in rec.attempts, added to the job's totals.
  void EndAttempt(Active& a, WallMs end_ms, std::string_view outcome, const std::string& reason);
  void Meter(JobAttempt* at, CenterId c, double devices) const;
  void ClearRun(JobRecord* rec) const;
  double Devices(JobId slot) const { return static_cast<double>(workload_.jobs[slot].GpuMilli()) / kWholeDevice; }
  // Takes new jobs: up, answering, not drained, has nodes.
  bool Available(CenterId c) const {
    const CenterRt& x = centers_[c];
    return x.up && x.answering && !x.drained && x.sched;
  }
  std::optional<Allocation> AllocationFromRecord(const JobRecord& rec, CenterId c) const;
  LaunchRequest RequestFor(const JobRecord& rec) const;
  std::string JobDir(int64_t id) const { return (fs::path(config_.data_dir) / "jobs" / std::to_string(id)).string(); }
  void SaveAbandoned(CenterId c, PassWork* w);
  // ---- helpers for the API
  Tenant TenantInfo(const std::string& name);
  Status CheckAdmission(const JobSpec& spec) const;
  std::mutex& TenantLock(const std::string& tenant);
  std::optional<CenterId> FindCenter(const std::string& name) const {
    auto it = center_ids_.find(name);
    if (it == center_ids_.end()) return std::nullopt;
    return it->second;
  }

  ServerConfig config_;
  const Catalog& catalog_;
  std::unique_ptr<Store> store_;
  BuiltNetwork built_;
  const Network& network_;
  Paths paths_;
  const int start_hour_;
  std::vector<CenterRt> centers_;
  std::vector<std::string> center_names_;
  std::unordered_map<std::string, CenterId> center_ids_;
  Workload workload_;  // the active jobs' slots
  Workload no_jobs_;   // for the admission schedulers
  std::vector<CenterStatus> status_;
  const std::vector<CenterId> place_center_;
  const std::vector<uint32_t> place_region_;
  std::unique_ptr<DispatchView> view_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Rng rng_;

  std::mutex pass_mu_;
  int64_t pass_id_ = 0;
  std::shared_ptr<Batch> inflight_;  // the last pass's decisions, not acted on yet (pass_mu_)

  std::mutex store_mu_;
  std::condition_variable store_cv_;
  std::deque<std::function<void()>> store_q_;
  bool store_busy_ = false;
  bool store_stop_ = false;
  std::thread store_thread_;

  std::mutex mu_;
  std::unordered_map<int64_t, Active> active_;
  std::vector<int64_t> by_slot_;  // slot -> job id (0 = free)
  std::deque<std::pair<JobId, WallMs>> free_slots_;
  std::vector<int64_t> to_dispatch_;

  std::mutex in_mu_;
  std::condition_variable cv_;
  std::vector<JobRecord> incoming_;
  bool wake_ = false;
  bool committed_ = false;  // a pass's decisions were committed: act on them
  bool stop_ = false;
  std::thread loop_;

  mutable std::mutex admit_mu_;

  std::mutex auth_mu_;
  std::unordered_map<std::string, Caller> token_cache_;
  std::unordered_map<std::string, Tenant> tenant_cache_;
  std::mutex create_mu_;
  std::mutex tenant_locks_mu_;
  std::unordered_map<std::string, std::unique_ptr<std::mutex>> tenant_locks_;

  std::mutex stats_mu_;
  PassStats stats_;
};

// ------------------------------------------------------------------ set-up

Status ControlPlaneImpl::Init() {
  const size_t nc = network_.centers.size();
  centers_.resize(nc);
  status_.resize(nc);
  SUANLI_ASSIGN_OR_RETURN(PolicySpec policy, ParsePolicySpec(config_.policy));
  SUANLI_ASSIGN_OR_RETURN(DispatchSpec dspec, ParseDispatchSpec(config_.dispatch));
  SchedulerOptions opt;
  // A launch names one node: gangs do not span nodes in the live plane.
  opt.allow_multi_node = false;
  for (CenterId c = 0; c < nc; ++c) {
    CenterRt& x = centers_[c];
    x.built = built_.centers[c].get();
    center_names_.push_back(x.built->name);
    center_ids_[x.built->name] = c;
    for (const Node& n : x.built->net.nodes) x.devices += n.devices;
    if (x.built->net.nodes.empty()) {
      x.down_reason = "no nodes";
      continue;
    }
    auto s = Scheduler::Create(policy, catalog_, x.built->net, workload_, opt);
    if (!s.ok()) return s.status().Wrap(fmt::format("center '{}'", x.built->name));
    x.sched = std::move(*s);
    auto a = Scheduler::Create(policy, catalog_, x.built->net, no_jobs_, opt);
    if (!a.ok()) return a.status().Wrap(fmt::format("center '{}'", x.built->name));
    x.admit = std::move(*a);
    status_[c].sched = x.sched.get();
  }
  view_ = std::make_unique<DispatchView>(
      DispatchView{network_, catalog_, workload_, paths_, status_, place_center_, place_region_, start_hour_});
  SUANLI_ASSIGN_OR_RETURN(dispatcher_, MakeDispatcher(dspec, network_, catalog_));
  // Drain flags and abandoned runs survive restarts.
  for (CenterId c = 0; c < nc; ++c) {
    CenterRt& x = centers_[c];
    SUANLI_ASSIGN_OR_RETURN(auto drain, store_->GetSetting("drain/" + x.built->name));
    x.drained = drain && *drain == "1";
    status_[c].up = Available(c);
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
  }
  SUANLI_RETURN_IF_ERROR(BootstrapAdmin());
  return Recover();
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
  if (admin.created_ms == 0) admin.created_ms = NowMs();
  SUANLI_RETURN_IF_ERROR(store_->PutTenant(admin));
  spdlog::info("tenant=admin created from the configured admin token");
  return Status::Ok();
}

std::optional<Allocation> ControlPlaneImpl::AllocationFromRecord(const JobRecord& rec, CenterId c) const {
  const BuiltCenter& b = *centers_[c].built;
  auto it = b.node_index.find(rec.node);
  if (it == b.node_index.end()) return std::nullopt;
  const Node& node = b.net.nodes[it->second];
  Allocation a;
  if (!rec.model.empty()) {
    auto m = catalog_.Find(rec.model);
    if (!m) return std::nullopt;
    a.model = *m;
  }
  NodeShare sh;
  sh.node = it->second;
  for (int d : rec.devices) {
    if (d < 0 || d >= node.devices) return std::nullopt;
    sh.devices |= 1u << d;
  }
  if (static_cast<uint32_t>(sh.NumDevices()) != rec.spec.gpus) return std::nullopt;
  if (rec.spec.gpus > 0 && node.model != a.model) return std::nullopt;
  sh.milli = sh.devices ? kWholeDeviceMilli : 0;
  sh.cpu_milli = rec.spec.cpu_milli;
  sh.mem_mib = rec.spec.mem_mib;
  a.shares.push_back(sh);
  return a;
}

LaunchRequest ControlPlaneImpl::RequestFor(const JobRecord& rec) const {
  LaunchRequest r;
  r.job_id = rec.id;
  r.spec = rec.spec;
  r.node = rec.node;
  r.model = rec.model;
  r.devices = rec.devices;
  r.job_dir = JobDir(rec.id);
  r.start_ms = rec.start_ms;
  return r;
}

Status ControlPlaneImpl::Recover() {
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->LoadActive());
  const WallMs now = Now();
  std::vector<JobRecord> failed;
  PassWork w;
  int adopted = 0, requeued = 0;
  std::lock_guard<std::mutex> lk(mu_);
  for (const JobRecord& rec : jobs) {
    // Pending and not sent anywhere yet (no node): dispatched again. One
    // with a node was launched to a center that queues it (or was being
    // launched): followed there as a run.
    if (rec.state == JobState::kPending && rec.node.empty()) {
      Active& a = AddActive(rec, now);
      a.rec.center.clear();
      a.rec.est_start_ms = 0;
      ToDispatch(a, rec.reason);
      ++requeued;
      continue;
    }
    // Running: follow it again where it runs.
    auto c = FindCenter(rec.center);
    if (!c) {
      JobRecord r = rec;
      r.state = JobState::kFailed;
      r.end_ms = now;
      r.reason = fmt::format("its center '{}' is no longer configured; its run could not be followed", rec.center);
      failed.push_back(std::move(r));
      continue;
    }
    Active& a = AddActive(rec, now);
    CenterRt& x = centers_[*c];
    a.phase = Phase::kRunning;
    a.center = *c;
    x.running.insert(rec.id);
    if (x.sched) {
      if (auto alloc = AllocationFromRecord(rec, *c)) {
        a.in_sched = x.sched->Adopt(a.slot, *alloc, CoreTime(rec.start_ms > 0 ? rec.start_ms : now), CoreTime(now));
        if (a.in_sched) {
          a.run_devices = Devices(a.slot);
          a.run_end_s = ToSeconds(x.sched->ExpectedEnd(a.slot));
          status_[*c].running_devices += a.run_devices;
          status_[*c].running_end_sum += a.run_devices * a.run_end_s;
        }
      }
      if (!a.in_sched)
        spdlog::warn(
            "job={} center={} node={} its recorded placement does not fit the center any more; it is "
            "followed but not counted by the center's scheduler",
            rec.id, rec.center, rec.node);
    }
    Status st = x.built->backend->Adopt(RequestFor(rec), rec.backend_id);
    a.adopted = st.ok();
    ++adopted;
    if (!st.ok()) AdoptFailed(a, st, now, &w);
  }
  for (JobRecord& r : w.writes) failed.push_back(std::move(r));
  for (const auto& r : store_->UpdateJobs(failed))
    if (!r.ok()) return r.Wrap("recovery");
  spdlog::info("recovered: {} running job(s) re-adopted, {} pending job(s) queued again, {} failed", adopted, requeued,
               failed.size());
  return Status::Ok();
}

// A running job its backend would not adopt (mu_ held). Without a backend id
// (the server stopped between recording its start and recording the launch's
// id) it either never started — no trace in its job directory, or a simulated
// run: queued again — or it cannot be followed and fails, naming why, rather
// than run twice. With a malformed id it fails; other errors (the center does
// not answer) are retried every pass.
void ControlPlaneImpl::AdoptFailed(Active& a, const Status& st, WallMs now, PassWork* w) {
  CenterRt& x = centers_[a.center];
  const bool no_id = a.rec.backend_id.empty();
  if (!no_id && st.code() != StatusCode::kInvalidArgument) {
    spdlog::warn("pass={} job={} center={} backend could not adopt it yet ({}); retried every pass", pass_id_, a.rec.id,
                 x.built->name, st.message());
    return;
  }
  if (no_id) {
    std::error_code ec;
    const bool traces =
        x.built->kind != "simulated" && fs::exists(JobDir(a.rec.id), ec) && !fs::is_empty(JobDir(a.rec.id), ec);
    if (!traces) {
      Requeue(a, now, "the server stopped before launching it; queued again", false, w);
      return;
    }
  }
  StopRun(a, now, false);
  Finish(a, JobState::kFailed, now,
         no_id ? fmt::format("the server stopped while launching it on {}; its run cannot be followed (see its logs)",
                             x.built->name)
               : fmt::format("its run on {} cannot be followed: {}", x.built->name, st.message()),
         w);
}

// ------------------------------------------------------------------ job life

JobId ControlPlaneImpl::AllocSlot(WallMs now) {
  if (!free_slots_.empty() && free_slots_.front().second + kSlotReuseDelayMs <= now) {
    JobId s = free_slots_.front().first;
    free_slots_.pop_front();
    return s;
  }
  JobId s = static_cast<JobId>(workload_.jobs.size());
  workload_.jobs.emplace_back();
  by_slot_.push_back(0);
  return s;
}

void ControlPlaneImpl::FreeSlot(JobId slot, WallMs now) {
  dispatcher_->Done(slot);
  by_slot_[slot] = 0;
  free_slots_.emplace_back(slot, now);
}

Active& ControlPlaneImpl::AddActive(const JobRecord& rec, WallMs now) {
  JobId slot = AllocSlot(now);
  uint32_t tenant = workload_.tenants.Intern(rec.tenant);
  Job j = CoreJob(rec.spec, catalog_, tenant, CoreTime(rec.submit_ms));
  j.id = slot;
  workload_.jobs[slot] = j;
  by_slot_[slot] = rec.id;
  Active& a = active_[rec.id];
  a = Active{};
  a.rec = rec;
  a.slot = slot;
  a.models = j.models;
  a.run_start.remaining = j.work;
  return a;
}

void ControlPlaneImpl::ToDispatch(Active& a, const std::string& reason) {
  a.phase = Phase::kDispatch;
  a.center = kNoCenter;
  a.rec.center.clear();
  a.rec.model.clear();
  a.rec.reason = reason;
  a.rec.est_start_ms = 0;
  to_dispatch_.push_back(a.rec.id);
}

void ControlPlaneImpl::Queue(Active& a, CenterId c, WallMs now) {
  CenterRt& x = centers_[c];
  if (a.carried) x.sched->Submit(a.slot, CoreTime(now), *a.carried);
  else x.sched->Submit(a.slot, CoreTime(now));
  a.queued_work = a.carried ? a.carried->remaining : workload_.jobs[a.slot].work;
  status_[c].backlog_dev_s += Devices(a.slot) * a.queued_work;
  x.queued.insert(a.rec.id);
  x.changed = true;
  a.phase = Phase::kQueued;
  a.center = c;
  a.rec.center = x.built->name;
  a.rec.reason.clear();
}

void ControlPlaneImpl::Unqueue(Active& a, WallMs now) {
  CenterRt& x = centers_[a.center];
  x.sched->Remove(a.slot, CoreTime(now));
  status_[a.center].backlog_dev_s = std::max(0.0, status_[a.center].backlog_dev_s - Devices(a.slot) * a.queued_work);
  // It goes elsewhere with the work it has left (as the simulator's queued
  // jobs taken back from a center that went down).
  JobProgress p;
  p.remaining = x.sched->Progress(a.slot).remaining;
  a.carried = p;
  x.queued.erase(a.rec.id);
  x.changed = true;
  dispatcher_->Done(a.slot);
}

// Takes a running job out of its center's scheduler (with what it has
// received) and asks its backend to stop it; once its run has ended it is
// queued again (ApplyEvents, kStopping), `why` being the reason (mu_ held).
void ControlPlaneImpl::StopThenRequeue(Active& a, Time t, const std::string& why, PassWork* w) {
  CenterRt& x = centers_[a.center];
  if (a.in_sched) {
    x.sched->Remove(a.slot, t);
    a.in_sched = false;
    status_[a.center].running_devices = std::max(0.0, status_[a.center].running_devices - a.run_devices);
    status_[a.center].running_end_sum -= a.run_devices * a.run_end_s;
  }
  a.carried = x.sched->Progress(a.slot);
  a.phase = Phase::kStopping;
  a.stop_reason = why;
  a.rec.reason = why + "; stopping";
  w->cancels.push_back({a.rec.id, a.center, a.rec.backend_id, false});
}

void ControlPlaneImpl::StopRun(Active& a, WallMs now, bool finished) {
  CenterRt& x = centers_[a.center];
  if (a.in_sched) {
    if (finished) x.sched->Finish(a.slot, CoreTime(now));
    else x.sched->Remove(a.slot, CoreTime(now));
    status_[a.center].running_devices = std::max(0.0, status_[a.center].running_devices - a.run_devices);
    status_[a.center].running_end_sum -= a.run_devices * a.run_end_s;
    if (status_[a.center].running_devices <= 0) status_[a.center].running_end_sum = 0;
    a.in_sched = false;
  }
  x.running.erase(a.rec.id);
  x.changed = true;
}

void ControlPlaneImpl::ClearRun(JobRecord* rec) const {
  rec->center.clear();
  rec->node.clear();
  rec->model.clear();
  rec->devices.clear();
  rec->backend_id.clear();
  rec->start_ms = 0;
  rec->exit_code = -1;
  rec->signal = 0;
}

void ControlPlaneImpl::Requeue(Active& a, WallMs now, std::string reason, bool avoid, PassWork* w,
                               std::string_view outcome, WallMs ended_ms) {
  const CenterId c = a.center;
  // A run stopped for a preemption keeps what it had (taken at the
  // preemption); any other keeps the work it had when it started (none of
  // a run that never started is lost).
  const bool preempted = a.phase == Phase::kStopping && a.carried;
  if (!preempted) {
    JobProgress p = a.run_start;
    if (!outcome.empty()) {
      p = JobProgress{};
      p.remaining = a.run_start.remaining;
    }
    p.queued_since = -1;
    a.carried = p;
  }
  StopRun(a, now, false);
  if (!outcome.empty()) EndAttempt(a, ended_ms > 0 ? ended_ms : now, preempted ? "preempted" : outcome, reason);
  ClearRun(&a.rec);
  a.rec.state = JobState::kPending;
  a.cancel_sent = false;
  if (preempted && Available(c) && !centers_[c].abandoned.count(a.rec.id)) {
    // Back to the queue it was preempted from, as in the simulator.
    spdlog::info("pass={} job={} center={} queued again: {}", pass_id_, a.rec.id, centers_[c].built->name, reason);
    Queue(a, c, now);
    a.rec.reason = std::move(reason);
    w->writes.push_back(a.rec);
    ++w->requeued;
    return;
  }
  dispatcher_->Done(a.slot);
  if (avoid) {
    a.avoid = c;
    a.avoid_until = now + int64_t{config_.center_timeout_s} * 1000;
  }
  spdlog::info("pass={} job={} center={} requeued: {}", pass_id_, a.rec.id, centers_[c].built->name, reason);
  ToDispatch(a, std::move(reason));
  w->writes.push_back(a.rec);
  ++w->requeued;
}

// Whether a run ended by its center's doing (an operator's scancel, a node
// failure, a cluster shutting down), not by the job's own failure or its
// tenant's cancel. The backends report these as `cancelled` that Suanli did
// not ask for, or as `failed` with BackendEvent::center_stopped.
bool StoppedByCenter(const BackendEvent& ev, bool cancel_requested) {
  if (cancel_requested) return false;
  return ev.state == JobState::kCancelled || (ev.state == JobState::kFailed && ev.center_stopped);
}

void ControlPlaneImpl::Meter(JobAttempt* at, CenterId c, double devices) const {
  const AcceleratorModel* model = nullptr;
  if (!at->model.empty()) {
    if (auto m = catalog_.Find(at->model)) model = &catalog_.model(*m);
  }
  MeterRun(at, c == kNoCenter ? nullptr : &network_.centers[c], model, devices);
}

void ControlPlaneImpl::EndAttempt(Active& a, WallMs end_ms, std::string_view outcome, const std::string& reason) {
  JobRecord& r = a.rec;
  if (r.start_ms <= 0) return;  // never ran
  JobAttempt at;
  at.n = static_cast<int>(r.attempts.size()) + 1;
  at.center = r.center;
  at.node = r.node;
  at.model = r.model;
  at.devices = r.devices;
  at.start_ms = r.start_ms;
  // A backend's clock (Slurm's whole seconds) may put the end just before the start.
  at.end_ms = std::max(end_ms, r.start_ms);
  at.outcome = std::string(outcome);
  at.reason = reason;
  Meter(&at, a.center, r.spec.gpus);
  r.gpu_seconds += at.gpu_seconds;
  r.energy_kwh += at.energy_kwh;
  r.cost += at.cost;
  r.carbon_kg += at.carbon_kg;
  spdlog::info("pass={} job={} attempt={} center={} outcome={} gpu_seconds={:.1f}", pass_id_, r.id, at.n, at.center,
               at.outcome, at.gpu_seconds);
  r.attempts.push_back(std::move(at));
}

// The job leaves the active set with a final state (mu_ held).
void ControlPlaneImpl::Finish(Active& a, JobState state, WallMs end_ms, std::string reason, PassWork* w) {
  // A backend's clock (Slurm's whole seconds) may put the end just before the start.
  if (a.rec.start_ms > 0 && end_ms < a.rec.start_ms) end_ms = a.rec.start_ms;
  EndAttempt(a, end_ms, StateName(state), reason);
  JobRecord r = std::move(a.rec);
  r.state = state;
  r.end_ms = end_ms;
  r.reason = std::move(reason);
  r.est_start_ms = 0;
  const JobId slot = a.slot;
  const int64_t id = r.id;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    if (state == JobState::kSucceeded) ++stats_.successes;
    else if (state == JobState::kFailed) ++stats_.failures;
    else if (state == JobState::kCancelled) ++stats_.cancellations;
  }
  spdlog::info("pass={} job={} tenant={} center={} state={} reason=\"{}\" gpu_seconds={:.1f} energy_kwh={:.3f}",
               pass_id_, id, r.tenant, r.center, StateName(state), r.reason, r.gpu_seconds, r.energy_kwh);
  w->writes.push_back(std::move(r));
  ++w->ended;
  active_.erase(id);
  FreeSlot(slot, Now());
}

void ControlPlaneImpl::SaveAbandoned(CenterId c, PassWork* w) {
  CenterRt& x = centers_[c];
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, bid] : x.abandoned) j[std::to_string(id)] = bid;
  w->settings.emplace_back("abandoned/" + x.built->name, j.dump());
  x.abandoned_dirty = false;
}

// ------------------------------------------------------------------ the loop

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

void ControlPlaneImpl::TakeIncoming(WallMs now) {
  std::vector<JobRecord> in;
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    in.swap(incoming_);
  }
  for (const JobRecord& rec : in) {
    Active& a = AddActive(rec, now);
    ToDispatch(a, "");
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
  WallMs now = Now();
  const size_t nc = centers_.size();
  PassWork w;

  // 1. Backends: runs to adopt again, then poll (no lock: backends may be slow).
  std::vector<std::pair<CenterId, std::pair<LaunchRequest, std::string>>> to_adopt;
  std::vector<bool> poll_due(nc, false);
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [id, a] : active_)
      if (a.phase == Phase::kRunning && !a.adopted && centers_[a.center].answering)
        to_adopt.push_back({a.center, {RequestFor(a.rec), a.rec.backend_id}});
    for (CenterId c = 0; c < nc; ++c) {
      const CenterRt& x = centers_[c];
      WallMs gap = !x.answering ? 1000 : x.built->kind == "slurm" ? 500 : 0;
      poll_due[c] = now - x.last_poll >= gap;
    }
  }
  std::vector<std::pair<int64_t, Status>> adopt_results;
  for (auto& [c, item] : to_adopt)
    adopt_results.emplace_back(item.first.job_id, centers_[c].built->backend->Adopt(item.first, item.second));
  // A center that does not answer is polled on a thread of its own, so that
  // its commands' time-outs never hold up the pass; nothing else is sent to
  // it meanwhile (no launches, cancels or adoptions while it does not answer).
  std::vector<Result<std::vector<BackendEvent>>> polls;
  polls.reserve(nc);
  for (CenterId c = 0; c < nc; ++c) {
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
    if (!x.answering) {
      Backend* b = x.built->backend.get();
      x.poll_in_flight = std::async(std::launch::async, [b, now] { return b->Poll(now); });
      x.last_poll = now;
      poll_due[c] = false;
      polls.emplace_back(std::vector<BackendEvent>{});
      continue;
    }
    polls.push_back(x.built->backend->Poll(now));
  }
  now = Now();
  const auto t_polled = std::chrono::steady_clock::now();

  // 2. Decide, under the lock.
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [id, st] : adopt_results) {
      auto it = active_.find(id);
      if (it == active_.end() || it->second.phase != Phase::kRunning) continue;
      if (st.ok()) it->second.adopted = true;
      else AdoptFailed(it->second, st, now, &w);
    }
    TakeIncoming(now);
    for (CenterId c = 0; c < nc; ++c) {
      if (poll_due[c]) centers_[c].last_poll = now;
      if (poll_due[c] && polls[c].ok()) ApplyEvents(c, *polls[c], now, &w);
      CheckHealth(c, polls[c].status(), poll_due[c], now, &w);
      status_[c].up = Available(c);
    }
    // Cancels asked for running jobs.
    for (auto& [id, a] : active_) {
      if (a.phase == Phase::kRunning && a.cancel_requested && !a.cancel_sent && a.adopted &&
          centers_[a.center].answering) {
        w.cancels.push_back({id, a.center, a.rec.backend_id, false});
        a.cancel_sent = true;
      }
    }
    DispatchWaiting(now, &w);
    for (CenterId c = 0; c < nc; ++c) PassCenter(c, now, &w);
    EstimateStarts(now);
    for (CenterId c = 0; c < nc; ++c)
      if (centers_[c].abandoned_dirty) SaveAbandoned(c, &w);
  }

  const auto t_decided = std::chrono::steady_clock::now();
  // 3. Hand the decisions to the store stage, which commits them (settings
  // first: abandoned runs must be on disk before their jobs are requeued;
  // then the jobs, queued together) while the loop goes on. They are acted
  // on once committed (ActOnCommitted), never before.
  const size_t writes = w.writes.size();
  if (!w.writes.empty() || !w.settings.empty() || !w.launches.empty() || !w.cancels.empty()) {
    auto b = std::make_shared<Batch>();
    b->pass = pass;
    b->decided = t_decided;
    b->settings = std::move(w.settings);
    b->writes = std::move(w.writes);
    b->launches = std::move(w.launches);
    b->cancels = std::move(w.cancels);
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

// ------------------------------------------------------------- store stage

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
  // Launch what started (only once its record is on disk), cancel.
  std::vector<JobRecord> after;
  std::vector<std::pair<std::string, std::string>> late_settings;
  std::vector<std::pair<int64_t, Result<std::string>>> launched;
  for (LaunchItem& l : b->launches) {
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
  std::vector<std::pair<CancelItem, Status>> cancelled;
  for (const CancelItem& ci : b->cancels)
    cancelled.emplace_back(ci, centers_[ci.center].built->backend->Cancel(ci.id, ci.backend_id));
  const auto t_launched = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lk(mu_);
    const WallMs t = Now();
    PassWork w2;
    for (auto& [id, res] : launched) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Active& a = it->second;
      if (a.phase != Phase::kRunning) continue;
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
        StopRun(a, t, false);
        ClearRun(&a.rec);
        a.rec.state = JobState::kPending;
        ToDispatch(a, "the store could not record its start; retried");
        continue;
      }
      if (res.status().code() == StatusCode::kUnavailable && a.requeues < kMaxRequeues) {
        // The center does not answer: the job goes elsewhere (or waits), the
        // center's health is judged by its polls.
        CenterRt& x = centers_[a.center];
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
      StopRun(a, t, false);
      a.rec.backend_id.clear();
      a.rec.start_ms = 0;  // never ran: nothing to meter
      Finish(a, JobState::kFailed, t, fmt::format("launch failed: {}", res.status().message()), &w2);
    }
    for (auto& [ci, st] : cancelled) {
      if (ci.abandoned) {
        if (st.ok()) {
          centers_[ci.center].abandoned_cancelled[ci.id] = t;
        } else if (st.code() == StatusCode::kNotFound) {
          centers_[ci.center].abandoned.erase(ci.id);
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

void ControlPlaneImpl::ApplyEvents(CenterId c, const std::vector<BackendEvent>& events, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  for (const BackendEvent& ev : events) {
    if (ev.kind == BackendEvent::Kind::kNode) {
      NodeChanged(c, ev.node, ev.up, ev.reason, now, w);
      continue;
    }
    // A run given up on while the center was away is not the job's run any more.
    if (auto ab = x.abandoned.find(ev.job_id); ab != x.abandoned.end()) {
      if (ev.kind != BackendEvent::Kind::kStarted) {
        spdlog::info("pass={} job={} center={} abandoned run ended ({})", pass_id_, ev.job_id, x.built->name,
                     ev.reason);
        x.abandoned_cancelled.erase(ab->first);
        x.abandoned.erase(ab);
        x.abandoned_dirty = true;
      }
      continue;
    }
    auto it = active_.find(ev.job_id);
    if (it == active_.end() || it->second.center != c ||
        (it->second.phase != Phase::kRunning && it->second.phase != Phase::kStopping)) {
      spdlog::debug("pass={} center={} event for job {} which does not run there; ignored", pass_id_, x.built->name,
                    ev.job_id);
      continue;
    }
    Active& a = it->second;
    const WallMs at = ev.at_ms > 0 ? ev.at_ms : now;
    switch (ev.kind) {
      case BackendEvent::Kind::kStarted:
        // It left the center's own queue (slurm): running, metered from here.
        if (a.phase != Phase::kRunning) break;
        if (a.rec.state == JobState::kPending) {
          a.rec.state = JobState::kRunning;
          a.rec.start_ms = at;
          a.rec.reason.clear();
          w->writes.push_back(a.rec);
          spdlog::info("pass={} job={} center={} started there", pass_id_, a.rec.id, x.built->name);
        } else if (ev.at_ms > 0) {
          a.rec.start_ms = ev.at_ms;
        }
        break;
      case BackendEvent::Kind::kHeld: {
        if (a.phase != Phase::kRunning || a.rec.state != JobState::kPending) break;
        std::string why = fmt::format("held by {} at {}: {}", x.built->kind, x.built->name, ev.reason);
        if (why == a.rec.reason) break;
        a.rec.reason = std::move(why);
        w->writes.push_back(a.rec);
        break;
      }
      case BackendEvent::Kind::kNode: break;  // above
      case BackendEvent::Kind::kLost: {
        if (a.phase == Phase::kStopping || a.rec.backend_id.empty()) {
          // Never launched (the server stopped between recording the start
          // and launching), or stopped for a preemption: queue it again.
          if (a.phase == Phase::kStopping) Requeue(a, now, a.stop_reason + "; queued again", false, w, "preempted", at);
          else Requeue(a, now, "its launch was not found; queued again", false, w);
          break;
        }
        StopRun(a, now, false);
        Finish(a, JobState::kFailed, at, fmt::format("lost by the {} backend: {}", x.built->kind, ev.reason), w);
        break;
      }
      case BackendEvent::Kind::kEnded: {
        if (a.phase == Phase::kStopping) {
          Requeue(a, now, a.stop_reason + "; queued again", false, w, "preempted", at);
          break;
        }
        if (StoppedByCenter(ev, a.cancel_requested) && a.requeues < kMaxRequeues) {
          // Not the job's failure nor its tenant's cancel: it runs again,
          // elsewhere if it can.
          ++a.requeues;
          Requeue(a, now,
                  fmt::format("attempt on {} stopped by the center ({}); requeued", x.built->name,
                              ev.reason.empty() ? "cancelled" : ev.reason),
                  true, w, "requeued", at);
          break;
        }
        StopRun(a, now, true);  // the scheduler keeps to the server's clock
        a.rec.exit_code = ev.exit_code;
        a.rec.signal = ev.signal;
        JobState st = ev.state;
        std::string reason = ev.reason;
        if (!IsTerminal(st)) st = JobState::kFailed;
        if (a.cancel_requested && st != JobState::kSucceeded) {
          st = JobState::kCancelled;
          reason = fmt::format("cancelled by {}", a.cancelled_by);
        }
        Finish(a, st, at, std::move(reason), w);
        break;
      }
    }
  }
}

void ControlPlaneImpl::CheckHealth(CenterId c, const Status& polled, bool was_polled, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  if (!was_polled) {
    if (!x.answering && x.up && now - x.failing_since >= int64_t{config_.center_timeout_s} * 1000) MarkDown(c, now, w);
    return;
  }
  if (polled.ok()) {
    if (!x.answering) spdlog::info("pass={} center={} answers again", pass_id_, x.built->name);
    x.answering = true;
    x.failing_since = 0;
    x.error.clear();
    if (!x.up || x.resend_abandoned) {
      if (!x.up) spdlog::info("pass={} center={} available again", pass_id_, x.built->name);
      x.up = true;
      x.up_since = now;
      x.down_reason.clear();
      x.changed = true;
      x.resend_abandoned = false;
      status_[c].up = Available(c);
      // Runs given up on: stop them there (never run twice).
      for (const auto& [id, bid] : x.abandoned) w->cancels.push_back({id, c, bid, true});
      if (!x.abandoned.empty())
        spdlog::info("pass={} center={} {} abandoned run(s) cancelled there", pass_id_, x.built->name,
                     x.abandoned.size());
    }
    // An abandoned run whose cancel went through is forgotten a minute later
    // even if the backend never reports its end (it may not follow it).
    for (auto it = x.abandoned_cancelled.begin(); it != x.abandoned_cancelled.end();) {
      if (it->second + kAbandonedForgetMs <= now) {
        if (x.abandoned.erase(it->first)) x.abandoned_dirty = true;
        it = x.abandoned_cancelled.erase(it);
      } else {
        ++it;
      }
    }
    return;
  }
  if (x.answering) {
    x.answering = false;
    x.failing_since = now;
    spdlog::warn("pass={} center={} not answering: {}", pass_id_, x.built->name, polled.message());
  }
  x.error = polled.message();
  if (x.up && now - x.failing_since >= int64_t{config_.center_timeout_s} * 1000) MarkDown(c, now, w);
}

// A node of center c went down (drained, failed, gone) or came back (mu_
// held). Its center's scheduler places nothing on a down node; a job sent
// there that the center still holds in its own queue (it would wait for the
// node forever) is withdrawn (cancelled there) and, once that is done,
// placed again. Runs that started there go on: the center decides about them.
void ControlPlaneImpl::NodeChanged(CenterId c, const std::string& node, bool up, const std::string& why, WallMs now,
                                   PassWork* w) {
  CenterRt& x = centers_[c];
  auto it = x.built->node_index.find(node);
  if (it == x.built->node_index.end() || !x.sched) return;  // not a node it schedules
  if (up) x.down_nodes.erase(node);
  else x.down_nodes[node] = why;
  if (x.sched->state().up(it->second) == up) return;
  x.sched->SetNodeUp(it->second, up);
  x.changed = true;
  spdlog::warn("pass={} center={} node={} {} ({})", pass_id_, x.built->name, node,
               up ? "up again: receives jobs" : "down: receives no jobs", why);
  if (up) return;
  std::vector<int64_t> held;
  for (int64_t id : x.running) {
    const Active& a = active_.at(id);
    if (a.phase == Phase::kRunning && a.rec.state == JobState::kPending && a.rec.node == node &&
        !a.rec.backend_id.empty())
      held.push_back(id);
  }
  std::sort(held.begin(), held.end());
  for (int64_t id : held)
    StopThenRequeue(active_.at(id), CoreTime(now),
                    fmt::format("withdrawn from {}: node {} is down ({})", x.built->name, node, why), w);
}

void ControlPlaneImpl::MarkDown(CenterId c, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  x.up = false;
  x.down_reason = fmt::format("not answering since {}: {}", FormatMs(x.failing_since), x.error);
  status_[c].up = false;
  spdlog::warn("pass={} center={} unavailable ({}); its jobs are re-dispatched", pass_id_, x.built->name,
               x.down_reason);
  // Pending jobs go elsewhere.
  std::vector<int64_t> queued(x.queued.begin(), x.queued.end());
  for (int64_t id : queued) {
    Active& a = active_.at(id);
    Unqueue(a, now);
    ToDispatch(a, fmt::format("re-dispatched: center {} not answering", x.built->name));
  }
  // Running jobs: their runs are given up on (cancelled there if the center
  // comes back) and they start again elsewhere.
  std::vector<int64_t> running(x.running.begin(), x.running.end());
  std::sort(running.begin(), running.end());
  for (int64_t id : running) {
    Active& a = active_.at(id);
    if (a.phase == Phase::kRunning && a.cancel_requested) {
      // It was being cancelled: it ends here.
      x.abandoned[id] = a.rec.backend_id;
      StopRun(a, now, false);
      Finish(a, JobState::kCancelled, now,
             fmt::format("cancelled by {} (center {} stopped answering)", a.cancelled_by, x.built->name), w);
      continue;
    }
    x.abandoned[id] = a.rec.backend_id;
    Requeue(a, now,
            fmt::format("attempt on {} (started {}) lost: center not answering since {}; requeued", x.built->name,
                        FormatMs(a.rec.start_ms), FormatMs(x.failing_since)),
            false, w, "abandoned", now);
  }
  x.abandoned_dirty = true;
}

void ControlPlaneImpl::DispatchWaiting(WallMs now, PassWork* w) {
  std::vector<int64_t> ids;
  ids.swap(to_dispatch_);
  const Time t = CoreTime(now);
  for (int64_t id : ids) {
    auto it = active_.find(id);
    if (it == active_.end() || it->second.phase != Phase::kDispatch) continue;
    Active& a = it->second;
    if (a.not_before > now) {
      to_dispatch_.push_back(id);
      continue;
    }
    Job& j = workload_.jobs[a.slot];
    j.models = a.models;
    auto hold = [&](std::string why) {
      dispatcher_->Done(a.slot);
      a.rec.reason = std::move(why);
      to_dispatch_.push_back(id);
      ++w->held;
    };
    if (!a.rec.spec.center.empty()) {
      // Pinned to one center.
      CenterId c = center_ids_.at(a.rec.spec.center);
      CenterRt& x = centers_[c];
      std::string why = x.sched ? x.sched->WhyNever(j) : "it has no nodes";
      if (!why.empty()) {
        Finish(a, JobState::kFailed, now, fmt::format("cannot run at center {}: {}", x.built->name, why), w);
        continue;
      }
      if (!Available(c)) {
        hold(fmt::format("held: its center {} is {}", x.built->name, x.drained ? "drained" : "not answering"));
        continue;
      }
      if (a.avoid == c && now < a.avoid_until) {
        hold(fmt::format("held: center {} stopped its last run; tried there again after {}", x.built->name,
                         FormatMs(a.avoid_until)));
        continue;
      }
      Queue(a, c, now);
      ++w->dispatched;
      continue;
    }
    // A center that just stopped its run is left out for a while.
    const bool avoiding = a.avoid != kNoCenter && now < a.avoid_until && status_[a.avoid].up;
    if (avoiding) status_[a.avoid].up = false;
    DispatchDecision d = dispatcher_->Dispatch(a.slot, a.carried ? a.carried->remaining : j.work, t, *view_);
    if (avoiding) status_[a.avoid].up = true;
    switch (d.kind) {
      case DispatchDecision::Kind::kReject: Finish(a, JobState::kFailed, now, d.reason, w); break;
      case DispatchDecision::Kind::kHold: hold("held: " + d.reason); break;
      case DispatchDecision::Kind::kSend: {
        CenterRt& x = centers_[d.center];
        if (x.abandoned.count(id)) {
          // Its earlier run there has not been confirmed stopped yet.
          hold(fmt::format("held: its earlier run at {} is being stopped", x.built->name));
          break;
        }
        if (d.models) j.models = d.models;
        if (d.at > t + kSecond) {
          a.not_before = d.at / kMilli;
          hold(fmt::format("deferred until {}", FormatMs(a.not_before)));
          break;
        }
        Queue(a, d.center, now);
        // Held to one model (heterogeneity-aware): the job shows which while it waits.
        if (d.models && std::has_single_bit(d.models)) a.rec.model = catalog_.model(std::countr_zero(d.models)).name;
        ++w->dispatched;
        break;
      }
    }
  }
}

void ControlPlaneImpl::PassCenter(CenterId c, WallMs now, PassWork* w) {
  CenterRt& x = centers_[c];
  // Nothing starts at a center that does not answer (its queue waits for it,
  // or for the time-out that sends it elsewhere).
  if (!x.sched || !x.up || !x.answering) return;
  const Time t = CoreTime(now);
  if (!x.changed && x.wake > t) return;
  x.changed = false;
  PassResult pr = x.sched->Pass(t, rng_);
  x.wake = pr.wake_at;
  for (Decision& d : pr.decisions) {
    const int64_t id = d.job < by_slot_.size() ? by_slot_[d.job] : 0;
    auto it = active_.find(id);
    if (id == 0 || it == active_.end()) {
      spdlog::error("pass={} center={} decision for an unknown slot {}", pass_id_, x.built->name, d.job);
      continue;
    }
    Active& a = it->second;
    switch (d.kind) {
      case Decision::Kind::kStart: {
        const NodeShare& sh = d.alloc.shares.front();
        JobRecord& r = a.rec;
        r.state = JobState::kRunning;
        r.center = x.built->name;
        r.node = x.built->net.nodes[sh.node].name;
        r.model = d.alloc.model == kNoModel ? "" : catalog_.model(d.alloc.model).name;
        r.devices.clear();
        for (int dv = 0; dv < kMaxDevicesPerNode; ++dv)
          if (sh.devices >> dv & 1) r.devices.push_back(dv);
        r.start_ms = now;
        r.end_ms = 0;
        r.reason.clear();
        r.est_start_ms = 0;
        r.backend_id.clear();
        a.phase = Phase::kRunning;
        a.in_sched = true;
        a.adopted = false;  // until Launch returns
        a.cancel_sent = false;
        x.queued.erase(id);
        x.running.insert(id);
        a.run_start = x.sched->Progress(a.slot);
        a.carried.reset();
        const double dev = Devices(a.slot);
        status_[c].backlog_dev_s = std::max(0.0, status_[c].backlog_dev_s - dev * a.queued_work);
        a.run_devices = dev;
        a.run_end_s = ToSeconds(x.sched->ExpectedEnd(a.slot));
        status_[c].running_devices += dev;
        status_[c].running_end_sum += dev * a.run_end_s;
        if (x.built->backend->LaunchQueues()) {
          // Submitted to the center's own queue: pending, and not metered,
          // until the center says it started (kStarted).
          r.state = JobState::kPending;
          r.start_ms = 0;
          r.reason = fmt::format("submitted to {}; waiting for it to start", x.built->name);
        }
        w->writes.push_back(r);
        w->launches.push_back({id, c, RequestFor(r)});
        // A run after a preemption goes on from the work kept (simulated centers).
        w->launches.back().req.done_s = std::max(0.0, workload_.jobs[a.slot].work - a.run_start.remaining);
        w->launches.back().req.attempt = static_cast<int>(r.attempts.size()) + 1;
        ++w->started;
        break;
      }
      case Decision::Kind::kPreempt:
        // The scheduler queued it again; keep it out until its run has
        // stopped, then it is queued afresh.
        StopThenRequeue(a, CoreTime(now), "preempted", w);
        spdlog::info("pass={} job={} center={} preempted", pass_id_, id, x.built->name);
        break;
      case Decision::Kind::kUnschedulable:
        x.queued.erase(id);
        status_[c].backlog_dev_s = std::max(0.0, status_[c].backlog_dev_s - Devices(a.slot) * a.queued_work);
        Finish(a, JobState::kFailed, now, fmt::format("cannot run at center {}: {}", x.built->name, d.reason), w);
        break;
    }
  }
}

void ControlPlaneImpl::EstimateStarts(WallMs now) {
  const Time t = CoreTime(now);
  for (CenterRt& x : centers_) {
    if (!x.sched || !x.up) continue;
    // Jobs of the same shape get the same answer ("if nothing else changed").
    std::map<std::tuple<ModelMask, StackMask, uint32_t, int64_t, int64_t, uint8_t>, WallMs> memo;
    size_t n = 0;
    for (int64_t id : x.queued) {
      if (n++ >= kEstimatesPerCenter) break;
      Active& a = active_.at(id);
      const Job& j = workload_.jobs[a.slot];
      auto key = std::make_tuple(j.models, j.stacks, j.num_gpus, j.cpu_milli, j.mem_mib, static_cast<uint8_t>(j.cls));
      auto m = memo.find(key);
      if (m == memo.end()) {
        auto res = x.sched->EstimateStart(a.slot, t, rng_);
        WallMs est = res && res->start != kNever ? std::max<WallMs>(now, res->start / kMilli) : 0;
        m = memo.emplace(key, est).first;
      }
      a.rec.est_start_ms = m->second;
    }
  }
}

// ------------------------------------------------------------------ the API

std::optional<Caller> ControlPlaneImpl::Authenticate(const std::string& bearer_token) {
  if (bearer_token.empty() || bearer_token.size() > 1024) return std::nullopt;
  const std::string hash = Sha256Hex(bearer_token);
  {
    std::lock_guard<std::mutex> lk(auth_mu_);
    if (auto it = token_cache_.find(hash); it != token_cache_.end()) return it->second;
  }
  auto t = store_->TenantByTokenHash(hash);
  if (!t.ok()) {
    spdlog::error("store: token lookup: {}", t.status().message());
    return std::nullopt;
  }
  if (!*t) return std::nullopt;
  Caller c{(*t)->name, (*t)->admin};
  std::lock_guard<std::mutex> lk(auth_mu_);
  if (token_cache_.size() > 100'000) token_cache_.clear();
  token_cache_[hash] = c;
  tenant_cache_[(*t)->name] = **t;
  return c;
}

Tenant ControlPlaneImpl::TenantInfo(const std::string& name) {
  {
    std::lock_guard<std::mutex> lk(auth_mu_);
    if (auto it = tenant_cache_.find(name); it != tenant_cache_.end()) return it->second;
  }
  Tenant t;
  t.name = name;
  auto r = store_->GetTenant(name);
  if (r.ok() && *r) t = **r;
  std::lock_guard<std::mutex> lk(auth_mu_);
  tenant_cache_[name] = t;
  return t;
}

std::mutex& ControlPlaneImpl::TenantLock(const std::string& tenant) {
  std::lock_guard<std::mutex> lk(tenant_locks_mu_);
  auto& m = tenant_locks_[tenant];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status ControlPlaneImpl::CheckAdmission(const JobSpec& spec) const {
  const Job j = CoreJob(spec, catalog_, 0, 0);
  std::vector<std::string> reasons;
  std::lock_guard<std::mutex> lk(admit_mu_);
  if (spec.gpus > 0) {
    bool any = false;
    for (const CenterRt& x : centers_) any = any || x.devices > 0;
    if (!any)
      return InvalidField("gpus",
                          "asks for {} accelerator(s) but no center has any (centers: {}); submit it with gpus 0 to "
                          "run on CPU slots",
                          spec.gpus, Join(center_names_, ", "));
  }
  for (CenterId c = 0; c < centers_.size(); ++c) {
    const CenterRt& x = centers_[c];
    if (!spec.center.empty() && x.built->name != spec.center) continue;
    if (!x.admit) {
      reasons.push_back(fmt::format("{}: it has no nodes", x.built->name));
      continue;
    }
    std::string why = x.admit->WhyNever(j);
    if (why.empty()) return Status::Ok();
    reasons.push_back(fmt::format("{}: {}", x.built->name, why));
  }
  return InvalidField(spec.gpus > 0 ? "gpus" : "cpu_milli", "no center can ever run this job ({})",
                      Join(reasons, "; "));
}

Result<JobRecord> ControlPlaneImpl::Submit(const Caller& caller, JobSpec spec) {
  if (spec.workload_class.empty()) spec.workload_class = "other";
  SUANLI_RETURN_IF_ERROR(ValidateSpec(spec, catalog_, center_names_));
  const Tenant t = TenantInfo(caller.tenant);
  if (t.max_gpus_per_job > 0 && spec.gpus > static_cast<uint64_t>(t.max_gpus_per_job))
    return ResourceExhausted("gpus: {} asked, but tenant '{}' may ask for at most {} per job (max_gpus_per_job)",
                             spec.gpus, caller.tenant, t.max_gpus_per_job)
        .WithField("gpus");
  if (!caller.admin && spec.priority > t.max_priority)
    return PermissionDenied(
        "priority: {} asked, but tenant '{}' may ask for at most {} (max_priority, set by the admin)", spec.priority,
        caller.tenant, t.max_priority);
  SUANLI_RETURN_IF_ERROR(CheckAdmission(spec));
  JobRecord rec;
  rec.tenant = caller.tenant;
  rec.spec = std::move(spec);
  rec.state = JobState::kPending;
  rec.submit_ms = Now();
  if (t.max_active_jobs > 0) {
    // Count and insert as one step for this tenant (other tenants go on).
    std::lock_guard<std::mutex> lk(TenantLock(caller.tenant));
    SUANLI_ASSIGN_OR_RETURN(int64_t n, store_->ActiveJobs(caller.tenant));
    if (n >= t.max_active_jobs)
      return ResourceExhausted(
                 "max_active_jobs: tenant '{}' has {} pending or running job(s), its quota is {}; wait for some to end",
                 caller.tenant, n, t.max_active_jobs)
          .WithField("max_active_jobs");
    SUANLI_ASSIGN_OR_RETURN(rec.id, store_->InsertJob(rec));
  } else {
    SUANLI_ASSIGN_OR_RETURN(rec.id, store_->InsertJob(rec));
  }
  {
    std::lock_guard<std::mutex> lk(in_mu_);
    incoming_.push_back(rec);
    wake_ = true;
  }
  cv_.notify_one();
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.submissions;
  }
  return rec;
}

Result<JobRecord> ControlPlaneImpl::Get(const Caller& caller, int64_t id) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = active_.find(id); it != active_.end()) {
      if (!caller.admin && it->second.rec.tenant != caller.tenant) return NotFound("job {} not found", id);
      return it->second.rec;
    }
  }
  SUANLI_ASSIGN_OR_RETURN(auto rec, store_->GetJob(id));
  if (!rec || (!caller.admin && rec->tenant != caller.tenant)) return NotFound("job {} not found", id);
  return *rec;
}

Result<std::vector<JobRecord>> ControlPlaneImpl::List(const Caller& caller, JobFilter filter) {
  if (!caller.admin) filter.tenant = caller.tenant;
  filter.limit = std::clamp(filter.limit, 1, 10'000);
  SUANLI_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->ListJobs(filter));
  std::lock_guard<std::mutex> lk(mu_);
  for (JobRecord& r : jobs) {
    if (IsTerminal(r.state)) continue;
    auto it = active_.find(r.id);
    if (it == active_.end()) continue;
    r.est_start_ms = it->second.rec.est_start_ms;
    if (r.state == JobState::kPending) {
      r.center = it->second.rec.center;
      r.model = it->second.rec.model;
      r.reason = it->second.rec.reason;
    }
  }
  if (!filter.center.empty()) AddQueuedAt(filter, &jobs);
  return jobs;
}

// The center a pending job waits at is the control loop's (the store records
// a job's center when it starts): a listing by center takes its pending jobs
// from memory, newest first as the store's, within the same limit.
void ControlPlaneImpl::AddQueuedAt(const JobFilter& filter, std::vector<JobRecord>* jobs) {
  const bool pending_asked = filter.states.empty() || std::find(filter.states.begin(), filter.states.end(),
                                                                JobState::kPending) != filter.states.end();
  std::erase_if(*jobs, [&](const JobRecord& r) { return r.state == JobState::kPending && r.center != filter.center; });
  if (!pending_asked) return;
  std::unordered_set<int64_t> listed;
  for (const JobRecord& r : *jobs) listed.insert(r.id);
  for (const auto& [id, a] : active_) {
    const JobRecord& r = a.rec;
    if (r.state != JobState::kPending || r.center != filter.center || listed.count(id)) continue;
    if (!filter.tenant.empty() && r.tenant != filter.tenant) continue;
    if (filter.before_id > 0 && id >= filter.before_id) continue;
    jobs->push_back(r);
  }
  std::sort(jobs->begin(), jobs->end(), [](const JobRecord& x, const JobRecord& y) { return x.id > y.id; });
  if (jobs->size() > static_cast<size_t>(filter.limit)) jobs->resize(static_cast<size_t>(filter.limit));
}

Result<JobRecord> ControlPlaneImpl::Cancel(const Caller& caller, int64_t id) {
  // A job found neither in memory nor finished in the store is between the
  // two (ending in the pass now running): look again after the pass.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = CancelOnce(caller, id);
    if (r.ok() || r.status().kind() != kInTransitKind) return r;
    std::lock_guard<std::mutex> wait_pass(pass_mu_);
    WaitForStore();
  }
  return Unavailable("job {} is changing state; try again", id);
}

Result<JobRecord> ControlPlaneImpl::CancelOnce(const Caller& caller, int64_t id) {
  const std::string who = caller.tenant.empty() ? "admin" : caller.tenant;
  JobRecord done;
  bool from_incoming = false;
  {
    std::unique_lock<std::mutex> lk(mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      Active& a = it->second;
      if (!caller.admin && a.rec.tenant != caller.tenant) return NotFound("job {} not found", id);
      if (a.phase == Phase::kRunning || a.phase == Phase::kStopping) {
        if (!a.cancel_requested) {
          a.cancel_requested = true;
          a.cancelled_by = who;
          a.rec.reason = fmt::format("cancel requested by {}", who);
        }
        JobRecord r = a.rec;
        lk.unlock();
        Wake();
        return r;
      }
      // Pending: out of its scheduler and cancelled now.
      const WallMs now = Now();
      if (a.phase == Phase::kQueued) Unqueue(a, now);
      done = std::move(a.rec);
      const JobId slot = a.slot;
      active_.erase(it);
      FreeSlot(slot, now);
    } else {
      std::lock_guard<std::mutex> in(in_mu_);
      auto q = std::find_if(incoming_.begin(), incoming_.end(), [&](const JobRecord& r) { return r.id == id; });
      if (q != incoming_.end()) {
        if (!caller.admin && q->tenant != caller.tenant) return NotFound("job {} not found", id);
        done = std::move(*q);
        incoming_.erase(q);
        from_incoming = true;
      }
    }
  }
  if (done.id == 0) {
    SUANLI_ASSIGN_OR_RETURN(auto rec, store_->GetJob(id));
    if (!rec || (!caller.admin && rec->tenant != caller.tenant)) return NotFound("job {} not found", id);
    if (IsTerminal(rec->state))
      return FailedPrecondition(fmt::format("job {} has already ended ({})", id, StateName(rec->state)));
    return Unavailable("{}", kInTransit).WithKind(kInTransitKind);
  }
  JobRecord r = done;
  r.state = JobState::kCancelled;
  r.end_ms = Now();
  r.est_start_ms = 0;
  r.reason = fmt::format("cancelled by {} before it started", who);
  // Through the store stage, after any write of this job a pass handed over
  // before (a requeue's, say): the cancellation is the job's last write.
  std::promise<Status> written;
  std::future<Status> wait = written.get_future();
  ToStore([&] { written.set_value(store_->UpdateJob(r)); });
  Status st = wait.get();
  if (!st.ok()) {
    // Not on disk: it stays pending.
    std::lock_guard<std::mutex> lk(mu_);
    if (from_incoming) {
      std::lock_guard<std::mutex> in(in_mu_);
      incoming_.push_back(done);
    } else {
      Active& a = AddActive(done, Now());
      ToDispatch(a, "");
    }
    Wake();
    return Unavailable("job {}: the store could not record the cancellation: {}", id, st.message());
  }
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.cancellations;
  }
  spdlog::info("job={} tenant={} cancelled before it started by {}", id, r.tenant, who);
  Wake();
  return r;
}

Result<std::string> ControlPlaneImpl::LogPath(const Caller& caller, int64_t id, const std::string& stream) {
  if (stream != "stdout" && stream != "stderr")
    return InvalidField("stream", "must be stdout or stderr, got '{}'", stream.substr(0, 40));
  SUANLI_ASSIGN_OR_RETURN(JobRecord rec, Get(caller, id));
  return (fs::path(JobDir(rec.id)) / stream).string();
}

std::vector<CenterView> ControlPlaneImpl::Centers() {
  const WallMs now = Now();
  std::vector<CenterView> out;
  std::lock_guard<std::mutex> lk(mu_);
  for (CenterId c = 0; c < centers_.size(); ++c) {
    const CenterRt& x = centers_[c];
    const Center& ce = network_.centers[c];
    CenterView v;
    v.name = x.built->name;
    v.backend = x.built->kind;
    v.region = ce.region;
    v.up = x.up;
    v.drained = x.drained;
    if (!x.up) v.reason = x.down_reason;
    else if (x.drained) v.reason = "drained by an operator";
    else if (!x.answering) v.reason = fmt::format("not answering since {}: {}", FormatMs(x.failing_since), x.error);
    else if (!x.sched) v.reason = "no nodes";
    v.devices = x.devices;
    // Jobs its own queue holds (slurm) are pending there, not running.
    int held = 0;
    for (int64_t id : x.running) held += active_.at(id).rec.state == JobState::kPending ? 1 : 0;
    v.pending = static_cast<int>(x.queued.size()) + held;
    v.running = static_cast<int>(x.running.size()) - held;
    for (const auto& [node, why] : x.down_nodes) v.nodes_down.push_back({node, why});
    v.pue = ce.pue;
    const int hour = LocalHour(ce, CoreTime(now), start_hour_);
    v.price_now = ce.price_per_kwh[hour];
    v.carbon_now = ce.carbon_g_per_kwh[hour];
    std::map<ModelId, int> totals;
    for (const Node& n : x.built->net.nodes)
      if (n.devices > 0 && n.model != kNoModel) totals[n.model] += n.devices;
    for (const auto& [m, total] : totals) {
      ModelUse u;
      u.model = catalog_.model(m).name;
      u.total = total;
      if (x.sched) {
        const ClusterState& st = x.sched->state();
        int slot = st.SlotOfModel(m);
        u.busy = static_cast<double>(st.slot_capacity_milli(slot) - st.slot_free_milli(slot)) / kWholeDevice;
      }
      v.busy_devices += u.busy;
      v.power_kw += u.busy * catalog_.model(m).power_w * ce.pue / 1000.0;
      v.models.push_back(std::move(u));
    }
    out.push_back(std::move(v));
  }
  return out;
}

Status ControlPlaneImpl::Drain(const Caller& caller, const std::string& center) {
  if (!caller.admin) return PermissionDenied("draining a center is for the admin");
  auto c = FindCenter(center);
  if (!c) return NotFound("center '{}' not found (centers: {})", center, Join(center_names_, ", "));
  SUANLI_RETURN_IF_ERROR(store_->PutSetting("drain/" + center, "1"));
  {
    std::lock_guard<std::mutex> lk(mu_);
    CenterRt& x = centers_[*c];
    x.drained = true;
    status_[*c].up = false;
    const WallMs now = Now();
    std::vector<int64_t> queued(x.queued.begin(), x.queued.end());
    for (int64_t id : queued) {
      Active& a = active_.at(id);
      Unqueue(a, now);
      ToDispatch(a, fmt::format("re-dispatched: center {} drained", center));
    }
    spdlog::info("center={} drained by {}; {} pending job(s) re-dispatched", center, caller.tenant, queued.size());
  }
  Wake();
  return Status::Ok();
}

Status ControlPlaneImpl::Resume(const Caller& caller, const std::string& center) {
  if (!caller.admin) return PermissionDenied("resuming a center is for the admin");
  auto c = FindCenter(center);
  if (!c) return NotFound("center '{}' not found (centers: {})", center, Join(center_names_, ", "));
  SUANLI_RETURN_IF_ERROR(store_->PutSetting("drain/" + center, "0"));
  {
    std::lock_guard<std::mutex> lk(mu_);
    CenterRt& x = centers_[*c];
    x.drained = false;
    x.changed = true;
    status_[*c].up = Available(*c);
    spdlog::info("center={} resumed by {}", center, caller.tenant);
  }
  Wake();
  return Status::Ok();
}

Result<NewTenant> ControlPlaneImpl::CreateTenant(const Caller& caller, Tenant t) {
  if (!caller.admin) return PermissionDenied("creating tenants is for the admin");
  if (!ValidTenantName(t.name))
    return InvalidField("name", "'{}' is not a tenant name (a lowercase letter, then up to 39 of a-z, 0-9, '_', '-')",
                        t.name.substr(0, 60));
  if (t.max_gpus_per_job < 0) return InvalidField("max_gpus_per_job", "must be >= 0 (0 = unlimited)");
  if (t.max_active_jobs < 0) return InvalidField("max_active_jobs", "must be >= 0 (0 = unlimited)");
  if (t.max_priority < 0 || t.max_priority > kMaxTenantPriority)
    return InvalidField("max_priority", "must be 0..{}", kMaxTenantPriority);
  std::lock_guard<std::mutex> lk(create_mu_);
  SUANLI_ASSIGN_OR_RETURN(auto existing, store_->GetTenant(t.name));
  if (existing) return FailedPrecondition(fmt::format("tenant '{}' already exists", t.name));
  SUANLI_ASSIGN_OR_RETURN(std::string token, RandomToken());
  t.token_sha256 = Sha256Hex(token);
  t.created_ms = NowMs();
  SUANLI_RETURN_IF_ERROR(store_->PutTenant(t));
  {
    std::lock_guard<std::mutex> a(auth_mu_);
    tenant_cache_[t.name] = t;
  }
  spdlog::info("tenant={} created by {} (admin={}, max_gpus_per_job={}, max_active_jobs={}, max_priority={})", t.name,
               caller.tenant, t.admin, t.max_gpus_per_job, t.max_active_jobs, t.max_priority);
  NewTenant out;
  out.tenant = t;
  out.tenant.token_sha256.clear();
  out.token = std::move(token);
  return out;
}

Result<std::vector<Tenant>> ControlPlaneImpl::Tenants(const Caller& caller) {
  std::vector<Tenant> out;
  if (caller.admin) {
    SUANLI_ASSIGN_OR_RETURN(out, store_->ListTenants());
  } else {
    SUANLI_ASSIGN_OR_RETURN(auto t, store_->GetTenant(caller.tenant));
    if (t) out.push_back(*t);
  }
  for (Tenant& t : out) t.token_sha256.clear();
  return out;
}

Result<std::vector<UsageSum>> ControlPlaneImpl::Usage(const Caller& caller, WallMs from_ms, WallMs to_ms) {
  if (to_ms <= 0) to_ms = std::numeric_limits<WallMs>::max();
  if (from_ms > to_ms) return InvalidField("from", "must not be after to");
  return store_->Usage(caller.admin ? "" : caller.tenant, from_ms, to_ms);
}

PassStats ControlPlaneImpl::Stats() {
  std::lock_guard<std::mutex> lk(stats_mu_);
  PassStats s = stats_;
  if (s.pass_ms_counts.empty()) {
    s.pass_ms_buckets_le = kPassBuckets;
    s.pass_ms_counts.assign(kPassBuckets.size(), 0);
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<ControlPlane>> ControlPlane::Start(const ServerConfig& config) {
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
