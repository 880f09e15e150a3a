// The live control plane's implementation (not an API): its state and the
// parts of its work, one source file each:
//
//   control.cc          set-up, the loop and one pass
//   control_jobs.cc     the job table: the network scheduler's decisions
//                       applied to records, launches and cancels; runs ended
//   control_commit.cc   the commit pipeline: the store stage, then acting on
//                       what was committed (launches, cancels)
//   control_centers.cc  center health, backend events, nodes, drain
//   control_recover.cc  recovery at start
//   control_api.cc      the API-facing operations (submit, get, list, cancel, ...)
//
// Scheduling itself — dispatch, queues, passes, a job's phases, each
// center's status — is the core's NetworkScheduler, the one the simulator
// runs; this layer feeds it real events (submissions, backend events, health,
// the clock) and applies its decisions through the store and the backends.
//
// One loop thread runs scheduling passes; HTTP threads call Submit, Get, List,
// Cancel and the rest. Locks, always taken in this order:
//   pass_mu_  one pass at a time (the loop, or PassNow)
//   mu_       the in-memory state: active jobs and the network scheduler
//             (never held across a store write or a backend call)
//   in_mu_    the queue of submitted jobs the loop has not taken yet, and the
//             loop's wake-up flag (Submit takes only this one)
// Leaf locks: auth_mu_ (token and tenant caches), admit_mu_ (admission
// checks), stats_mu_, tenant_locks_mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/network/network_scheduler.h"
#include "live/control.h"
#include "live/control_internal.h"

namespace suanli::live::control_detail {

Time SystemNowUs();
std::string FormatMs(WallMs ms);
inline Status FailedPrecondition(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}

// Reasons of pending jobs: at most this many per center and pass.
inline constexpr size_t kReasonsPerCenter = 200;
// A center's start forecast is run again when its jobs change, and at least
// this often (dynamic orders move jobs as time passes).
inline constexpr int64_t kForecastMaxAgeMs = 60'000;
// A tenant's next run is predicted from this many of its last (Tsafrir et
// al.'s user-based prediction: the mean of the last two).
inline constexpr size_t kRunShareHistory = 2;
// A tenant with no run yet is predicted from this many of the last runs of
// every tenant (their mean share).
inline constexpr size_t kPooledRunShareHistory = 10;
// Passes come at most this often under a storm of submissions.
inline constexpr auto kMinPassGap = std::chrono::milliseconds(50);
// An abandoned run whose cancel went through is forgotten this long after.
inline constexpr int64_t kAbandonedForgetMs = 60'000;
// A job whose runs the centers stop on their own (not its tenant) runs again
// at most this many times.
inline constexpr int kMaxRequeues = 3;
// A pending job's reason until the scheduling pass has looked at it.
inline constexpr const char* kNextPass = "waiting for the next scheduling pass";
inline constexpr const char* kInTransit = "in transit between the loop and the store";
inline constexpr const char* kInTransitKind = "in_transit";  // Status::kind() of that error
inline const std::vector<double> kPassBuckets = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000};

// What `suanli replay` (replay/replay.h) sets in the control plane: the same
// code on a virtual clock, over a trace whose jobs' work is known.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  // Each decision of the network scheduler, as the control plane applies it at t.
  virtual void Decided(const NetDecision& d, Time t) = 0;
  // A job's run ended and the job is done (NetworkScheduler::Finished's answer).
  virtual void Finished(JobId slot, const RunEnd& end, Time t) = 0;
  // A run stopped by its center ended; its job runs again (Failed's answer).
  virtual void Failed(JobId slot, const RunEnd& end, Time t) = 0;
  // For a run that starts now (kStart): when its simulated center fails it
  // (µs after its start; 0 = it does not).
  virtual int64_t FailAfterUs(const NetDecision& start) = 0;
};

struct ReplaySetup {
  Workload base;           // the trace's tables (tenants, users, places, speed overrides), no jobs
  NetworkOptions options;  // the network scheduler's options: the simulator's, not the live defaults
  int start_hour = 0;      // hour of day (UTC) at time 0
  ReplayObserver* observer = nullptr;
};

// A job the control plane holds (pending or running). Its phase is the
// network scheduler's (NetworkScheduler::phase of its slot).
struct Active {
  JobRecord rec;
  JobId slot = kNoJob;
  bool adopted = true;  // running: the backend follows it (false: Adopt failed, retried)
  bool cancel_requested = false;
  bool cancel_sent = false;
  std::string cancelled_by;
  int requeues = 0;                  // runs the centers stopped on their own
  std::string stop_reason;           // kStopping: why it is stopped ("preempted", ...)
  bool known_work = false;           // a trace's job (replay): its runs last what the scheduler expects
  bool checkpoint_reported = false;  // through the API since the last pass: its record is written then
  CenterId queued_at = kNoCenter;    // the center whose queue holds it (CenterRt::queued)
  // Its dataset being copied to the center it was sent to (generation gen of
  // that send); due: the time it was sent for has come, so it reaches the
  // center as soon as the copy ends.
  struct Staging {
    uint32_t gen = 0;
    bool due = false;
  };
  std::optional<Staging> staging;
};

// A dataset copy for a job (control_datasets.cc), and how it went.
struct StageTask {
  int64_t job = 0;
  JobId slot = kNoJob;
  uint32_t gen = 0;
  std::string tenant, dataset, from, to;  // from, to: center names
  std::string src, dst;                   // directories
  double modelled_s = 0;                  // the dispatcher's transfer time
};
struct StageDone {
  StageTask task;
  Status status;
  double seconds = 0;
  WallMs ended{};
};

struct CenterRt {
  BuiltCenter* built = nullptr;
  std::unique_ptr<Scheduler> admit;  // an idle scheduler of its nodes: admission checks from HTTP threads
  bool has_nodes = false;
  int devices = 0;
  bool answering = true;  // the backend's last Poll answered
  WallMs failing_since{};
  bool up = true;  // false once it has not answered for center_timeout_s
  bool drained = false;
  std::string error;  // the backend's last error
  std::string down_reason;
  std::map<std::string, std::string> down_nodes;  // node -> why, as its backend reported
  WallMs last_poll{};
  WallMs up_since{};
  std::future<Result<std::vector<BackendEvent>>> poll_in_flight;  // while it does not answer
  std::set<int64_t> queued;                                       // job ids pending here
  std::unordered_set<int64_t> running;                            // job ids running (or stopping) here
  // Runs given up on while the center did not answer (job id -> backend id):
  // cancelled when it answers again; their events are not the job's.
  std::map<int64_t, std::string> abandoned;
  std::deque<CenterSample> history;               // oldest first, at most kHistorySamples
  std::map<int64_t, WallMs> abandoned_cancelled;  // when the cancel of an abandoned run went through
  bool abandoned_dirty = false;
  bool resend_abandoned = false;  // abandoned runs read at start: cancel them once it answers
  // The last start forecast (NetworkScheduler::ForecastStarts): what the
  // center held then, and when.
  struct ForecastKey {
    uint64_t state = 0;  // its scheduler's ClusterState::generation
    size_t pending = 0, running = 0;
    bool operator==(const ForecastKey&) const = default;
  };
  ForecastKey forecast_key;
  WallMs forecast_at{};
  bool forecasting = false;  // a snapshot of it is with the forecaster
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
  size_t after_launches = 0;         // launches decided before it: they go first
  std::optional<StopNotice> notice;  // a checkpointing job stopped for its scheduler: Backend::Stop
};

struct PassWork {
  std::vector<JobRecord> writes;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<LaunchItem> launches;
  std::vector<CancelItem> cancels;
  int dispatched = 0, started = 0, ended = 0, requeued = 0, held = 0;
  // Launches and cancels reach the backends in the order they are decided:
  // a run started and preempted in one pass is launched, then cancelled; one
  // preempted and started again (a replay's) is cancelled, then launched.
  void Cancel(int64_t id, CenterId center, std::string backend_id, bool abandoned,
              std::optional<StopNotice> notice = std::nullopt) {
    cancels.push_back({id, center, std::move(backend_id), abandoned, launches.size(), std::move(notice)});
  }
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
  ControlPlaneImpl(ServerConfig config, std::unique_ptr<Store> store, BuiltNetwork built);
  ~ControlPlaneImpl() override { Stop(); }

  // Before Init: run as `suanli replay` does (slots are not reused, so that
  // job ids order ties as in the trace).
  void SetReplay(ReplaySetup* replay);
  Status Init();
  void StartLoop();
  void StartStore();  // the store stage alone: passes are driven by PassNow and Flush (replay)
  void Stop() override;

  std::optional<Caller> Authenticate(const std::string& bearer_token) override;
  Result<JobRecord> Submit(const Caller& caller, JobSpec spec) override;
  Result<JobRecord> Get(const Caller& caller, int64_t id) override;
  Result<std::vector<JobRecord>> List(const Caller& caller, JobFilter filter) override;
  Result<JobRecord> Cancel(const Caller& caller, int64_t id) override;
  Result<JobRecord> CancelOnce(const Caller& caller, int64_t id);
  Result<JobRecord> ReportCheckpoint(const Caller& caller, int64_t id) override;
  Result<std::string> LogPath(const Caller& caller, int64_t id, const std::string& stream) override;
  std::vector<CenterView> Centers() override;
  std::vector<CenterHistory> History() override;
  Status Drain(const Caller& caller, const std::string& center) override;
  Status Resume(const Caller& caller, const std::string& center) override;
  Result<std::string> IssueAgentCredential(const Caller& caller, const std::string& center) override;
  Result<AgentSyncResponse> AgentSync(const std::string& center, const std::string& credential,
                                      const AgentSyncRequest& req) override;
  Status AuthenticateAgent(const std::string& center, const std::string& credential) override;
  Status InitAgents();
  std::shared_ptr<AgentLink> AgentLinkFor(const std::string& center, const std::string& credential);
  // The logs and checkpoint marks an agent sent of its center's runs.
  void TakeAgentOutputs(const std::string& center, const std::vector<AgentEvent>& outputs);
  Result<NewTenant> CreateTenant(const Caller& caller, Tenant t) override;
  Result<std::vector<Tenant>> Tenants(const Caller& caller) override;
  Result<std::vector<UsageSum>> Usage(const Caller& caller, WallMs from_ms, WallMs to_ms) override;
  Result<QuotasView> Quotas(const Caller& caller) override;
  Result<QuotasView> SetQuotas(const Caller& caller, const std::optional<std::string>& document) override;
  Result<Dataset> RegisterDataset(const Caller& caller, Dataset d) override;
  Result<std::vector<Dataset>> Datasets(const Caller& caller) override;
  Result<Dataset> GetDataset(const Caller& caller, const std::string& name) override;
  Status DeleteDataset(const Caller& caller, const std::string& name) override;
  Result<std::vector<JobRecord>> Replicas(const Caller& caller, int64_t id) override;
  std::vector<std::pair<int64_t, std::vector<JobRecord>>> Services(const Caller& caller) override;
  Result<std::vector<JobRecord>> Scale(const Caller& caller, int64_t id, uint32_t replicas) override;
  PassStats Stats() override;
  void PassNow() override { RunPass(); }
  // ---- replay: submits a trace's job as it is (its work, estimate and
  // constraints), stored as `spec` under `tenant`.
  Result<int64_t> SubmitTraceJob(const std::string& tenant, JobSpec spec, const Job& job);
  // Acts on the last pass's decisions now (launches, cancels).
  void Flush();
  // The next time (µs) at which something is due: a timer, a wake-up, a
  // backend's own event (INT64_MAX: none; the loop thread's callers only).
  int64_t NextEventUs();
  // Jobs given up on because the centers they wait for never come back.
  void GiveUpHeld();
  // An outage of simulated center c from `at` (away) until it is back: its
  // runs are lost and it answers nothing (SetSimulatedCenterAway).
  Status SetCenterAway(CenterId c, bool away, Time at);
  const NetworkScheduler& network_scheduler() const { return *net_; }
  // A replay between passes (no loop, no other thread): asks it why jobs wait.
  NetworkScheduler& mutable_network_scheduler() { return *net_; }
  // The wall clock in microseconds: the config's (tests, replay) or the system's.
  Time NowUs() const { return config_.clock ? config_.clock() : SystemNowUs(); }
  WallMs Now() const { return WallOf(NowUs()); }

 private:
  // Sets t_ to the clock's time and returns it in milliseconds (mu_ held).
  WallMs Step() {
    t_ = NowUs();
    return WallOf(t_);
  }
  // ---- set-up (control.cc, control_recover.cc)
  Status Recover();
  Status BootstrapAdmin();
  // Gives each tenant without a home center (or whose home left the
  // network) one, in the store; HomeFor picks it for a new tenant.
  Status AssignHomes();
  std::string HomeFor(const std::vector<Tenant>& tenants) const;
  // ---- the loop (control.cc)
  void Loop();
  void Wake();
  void RunPass();
  // Under mu_. A job whose dataset was deleted between its submission's
  // check and here fails at once (DatasetGone).
  void TakeIncoming(WallMs now, PassWork* w, std::vector<JobId>* arrived);
  // Why a job that has not been sent anywhere yet cannot be: its dataset is
  // no longer registered (deleted since it was submitted, or while the
  // server was down). Empty when it can.
  std::string DatasetGone(const JobRecord& rec);
  // ---- start times and reasons of pending jobs (control_forecast.cc; mu_ held)
  void EstimateStarts(WallMs now);
  // Takes the forecasts the forecaster finished (each pending job's
  // est_start_ms), and hands it a snapshot of each center whose jobs changed.
  void RefreshForecasts(WallMs now);
  // Run-time predictions for forecasts (control_forecast.cc): a run that
  // ended on its own teaches its tenant's share; at start, the store's
  // newest ended jobs do.
  void NoteRunShare(const JobRecord& r, JobState state, WallMs end_ms);
  double RunShareOf(const Job& j) const;
  Status LoadRunShares();
  void StartForecaster();
  void StopForecaster();
  // Datasets (control_datasets.cc).
  Status LoadDatasets();
  std::optional<Dataset> FindDataset(const std::string& tenant, const std::string& name);
  // Where a job's dataset lives, for the network scheduler (Job::data_at, data_gb).
  void SetJobData(const JobSpec& spec, const std::string& tenant, Job* j);
  // The dataset's directory at center c ("" when c has no data root).
  std::string DatasetDir(CenterId c, const std::string& tenant, const std::string& name) const;
  // A job sent to center `to`: whether its dataset is copied there by the
  // stager (then a.staging is set and Ready waits for the copy).
  bool StartStaging(Active& a, const NetDecision& d);
  // Copies the stager finished: Ready for jobs whose time has come.
  void ApplyStaged(WallMs now, PassWork* w);
  // A timer for (slot, gen) came due: false while its copy runs (it is
  // Ready when the copy ends).
  bool ReadyUnlessStaging(JobId slot, uint32_t gen);
  void StartStager();
  void StopStager();
  // A center as the API shows it (mu_ held).
  CenterView ViewOf(CenterId c, WallMs now) const;
  // Appends each center's sample when kHistoryIntervalS have passed since
  // the last one (mu_ held).
  void SampleHistory(WallMs now, PassWork* w);
  // The day's samples from the store (at start).
  void LoadHistory(CenterId c, WallMs now);
  WallMs last_sample_{};
  // ---- the commit pipeline (control_commit.cc): a pass's writes are
  // committed on a thread of their own, in the order they were handed over,
  // while the loop goes on.
  void StoreLoop();
  void ToStore(std::function<void()> work);  // runs it at once once stopped
  void WaitForStore();                       // until everything handed over is done
  // The previous pass's decisions, once committed: launch what started (only
  // if its record is on disk), send cancels, record what came of them
  // (pass_mu_ held).
  void ActOnCommitted();
  // Hands a pass's work to the store stage (pass_mu_ held); it is acted on
  // once committed.
  void Commit(int64_t pass, PassWork* w, std::chrono::steady_clock::time_point decided);
  // ---- centers (control_centers.cc; mu_ held)
  void ApplyEvents(CenterId c, const std::vector<BackendEvent>& events, WallMs now, PassWork* w);
  void CheckHealth(CenterId c, const Status& polled, bool was_polled, WallMs now, PassWork* w);
  void MarkDown(CenterId c, WallMs now, PassWork* w);
  void NodeChanged(CenterId c, const std::string& node, bool up, const std::string& why, PassWork* w);
  // Tells the network scheduler whether c takes new jobs and may start them.
  void SyncCenter(CenterId c);
  void SaveAbandoned(CenterId c, PassWork* w);
  void ForgetAbandoned(CenterId c, int64_t id);
  // ---- the job table (control_jobs.cc; mu_ held)
  // `job`: a trace's job (replay); else built from the record's spec.
  Active& AddActive(const JobRecord& rec, const Job* job = nullptr);
  // Applies the network scheduler's decisions to the records, launches and
  // cancels of this pass.
  void ApplyDecisions(WallMs now, PassWork* w);
  void OnStart(Active& a, const NetDecision& d, WallMs now, PassWork* w);
  // The record's node and devices from an allocation.
  static void SetPlacement(JobRecord& r, const BuiltCenter& b, const Allocation& alloc);
  // A center that places jobs itself (Slurm without `nodelist: true`) started
  // the job on `nodes` ("n1,n2"): its allocation and record follow.
  void FollowCenterPlacement(Active& a, CenterId c, const std::string& nodes);
  void OnRunLost(Active& a, CenterId c, WallMs now, PassWork* w);
  // The job's run ended at `ended_ms` and will not run again: out of the
  // network scheduler, then Finish.
  void EndRun(Active& a, JobState state, WallMs ended_ms, std::string reason, PassWork* w);
  // The job's run (or launch) is given up and it goes back to the
  // dispatcher: kept as an attempt with `outcome` (empty: it never started),
  // `reason` shown, with `avoid` not to the same center for center_timeout_s.
  void Requeue(Active& a, WallMs now, std::string reason, bool avoid, PassWork* w, std::string_view outcome = {},
               WallMs ended_ms = WallMs{});
  // A run being stopped has ended: the job is queued again (same center if it can).
  void Restop(Active& a, WallMs ended_ms, WallMs now, PassWork* w);
  // A preempted run is over: its attempt recorded, the job pending again.
  void EndPreempted(Active& a, CenterId c, WallMs ended_ms, PassWork* w);
  // Adds to the job's history (not in a replay, whose jobs are a trace's):
  // its first kMaxEvents - 1 events and its end are kept.
  void Event(Active& a, std::string_view kind, std::string message, WallMs at);
  // The dispatch policy as configured, for events.
  const std::string& DispatchName() const { return config_.dispatch; }
  // What the dispatch policy holds deferrable jobs for ("price", "carbon", ...).
  std::string deferred_for_;
  // ---- checkpoints (control_checkpoint.cc; mu_ held)
  // The notice a job gets before its scheduler stops it (none: it does not
  // checkpoint).
  std::optional<StopNotice> NoticeFor(const Active& a) const;
  // Reads the job's checkpoint mark (job_env.h) and keeps the later of it
  // and what the job reported through the API, within its current run, in
  // rec.checkpoint_ms (with an event); true if that changed.
  bool RefreshCheckpoint(Active& a, WallMs now);
  // How long into its run, ended at `ended_ms`, the job last checkpointed:
  // the work the network scheduler credits it with (Stopped, Failed).
  // nullopt for a run of a simulated center or a trace's job, which keep
  // the simulator's model.
  std::optional<Duration> KeptOfRun(Active& a, CenterId c, WallMs ended_ms);
  // Each pass: the checkpoint marks of the running jobs that checkpoint.
  void RefreshCheckpoints(WallMs now, PassWork* w);
  // Ends the job's current run as an attempt (if it started): metered, kept
  // in rec.attempts, added to the job's totals.
  void EndAttempt(Active& a, WallMs end_ms, std::string_view outcome, const std::string& reason);
  void Finish(Active& a, JobState state, WallMs end_ms, std::string reason, PassWork* w);
  void AdoptFailed(Active& a, const Status& st, WallMs now, PassWork* w);
  void Meter(JobAttempt* at, CenterId c, double devices) const;
  void ClearRun(JobRecord* rec) const;
  void AddQueuedAt(const JobFilter& filter, std::vector<JobRecord>* jobs);
  CenterId CenterOf(const Active& a) const { return net_->center_of(a.slot); }
  NetPhase PhaseOf(const Active& a) const { return net_->phase(a.slot); }
  bool Running(const Active& a) const {
    NetPhase p = PhaseOf(a);
    return p == NetPhase::kRunning || p == NetPhase::kStopping;
  }
  // Takes new jobs: up, answering, not drained, has nodes.
  bool Available(CenterId c) const {
    const CenterRt& x = centers_[c];
    return x.up && x.answering && !x.drained && x.has_nodes;
  }
  std::optional<Allocation> AllocationFromRecord(const JobRecord& rec, CenterId c) const;
  LaunchRequest RequestFor(const JobRecord& rec) const;
  std::string JobDir(int64_t id) const {
    return (std::filesystem::path(config_.data_dir) / "jobs" / std::to_string(id)).string();
  }
  // ---- the API (control_api.cc)
  Tenant TenantInfo(const std::string& name);
  Status CheckAdmission(const JobSpec& spec) const;
  void AddRunningUsage(const Caller& caller, WallMs from_ms, WallMs to_ms, std::vector<UsageSum>* out);
  // ---- services (control_services.cc)
  // A service's region is one of the network's, and some center is within
  // its latency bound.
  Status CheckRegion(const JobSpec& spec) const;
  // Stores n jobs like `rec` (a service's replicas: of `service`, 0 = a new
  // one, whose id is the first's) within the tenant's max_active_jobs, and
  // queues them for the next pass.
  Result<std::vector<JobRecord>> AddJobs(const std::string& tenant, const Tenant& t, const JobRecord& rec, uint32_t n,
                                         int64_t service);
  // A replica's run ended (not by a cancel): it leaves the network and waits
  // its backoff in restarting_, then arrives again (TakeIncoming).
  bool RestartsOnEnd(const Active& a) const { return a.rec.spec.replicas > 0 && !a.cancel_requested && !replay_; }
  void RestartReplica(Active& a, JobState state, WallMs ended_ms, std::string why, WallMs now, PassWork* w);
  // The replicas not ended (in memory: pending, running or waiting to
  // restart) of `service`, or of every service (0), oldest first; mu_ held.
  std::vector<JobRecord> LiveReplicas(int64_t service);
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
  int start_hour_;
  ReplaySetup* replay_ = nullptr;
  // The quotas in force (mu_): the store's (set through the API), else the config's.
  std::shared_ptr<const QuotaSpec> quotas_;
  // At start: the quotas in force, applied to every center's scheduler.
  Status InitQuotas();
  // Applies `q` to the network scheduler (mu_ held); nothing changes on error.
  Status ApplyQuotas(std::shared_ptr<const QuotaSpec> q);
  // Runs its centers stop on their own that a job gets again, and how long
  // it avoids such a center then: kMaxRequeues and center_timeout_s; a
  // replay's are the simulator's (no limit, no avoidance).
  int max_requeues_ = kMaxRequeues;
  Duration requeue_avoid_ = 0;
  // How long a center may not answer before it is unavailable:
  // center_timeout_s; a replay's centers are polled at each pass, in the
  // pass, and unavailable at once (the simulator's outages).
  int64_t center_timeout_ms_ = 0;
  IdVector<CenterId, CenterRt> centers_;
  std::vector<std::string> center_names_;
  std::unordered_map<std::string, CenterId> center_ids_;
  Workload no_jobs_;  // the network scheduler's initial workload, and the admission schedulers'
  std::unique_ptr<NetworkScheduler> net_;
  // The time of what is being decided (µs; mu_): the network scheduler's
  // clock, set by Step() wherever decisions are made.
  Time t_ = 0;

  std::mutex pass_mu_;
  int64_t pass_id_ = 0;
  std::shared_ptr<Batch> inflight_;  // the last pass's decisions, not acted on yet (pass_mu_)

  std::mutex store_mu_;
  std::condition_variable store_cv_;
  std::deque<std::function<void()>> store_q_;
  bool store_busy_ = false;
  bool store_stop_ = false;
  std::thread store_thread_;

  // Agents' centers: each one's link and the hash of its credential.
  struct AgentRt {
    std::shared_ptr<AgentLink> link;
    std::string credential_sha256;  // "" = none issued
  };
  std::mutex agents_mu_;
  std::map<std::string, AgentRt> agents_;

  std::mutex mu_;
  std::unordered_map<int64_t, Active> active_;
  IdVector<JobId, int64_t> by_slot_;  // slot -> job id (0 = free)
  // Jobs sent to a center later (deferred) or held until a time: the time,
  // then (slot, generation) for NetworkScheduler::Ready.
  std::multimap<Time, std::pair<JobId, uint32_t>> timers_;
  std::multiset<Time> wakes_;  // when the network scheduler asked to be woken (kWake)

  std::mutex in_mu_;
  std::condition_variable cv_;
  std::vector<JobRecord> incoming_;
  std::unordered_map<int64_t, Job> incoming_jobs_;  // replay: the trace's job of an incoming record
  // Services' replicas waiting out their backoff before they arrive again:
  // when, and the record.
  std::multimap<WallMs, JobRecord> restarting_;
  std::mutex scale_mu_;  // one Scale at a time
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

  // The forecaster: a thread that runs start forecasts (core/network/
  // forecast.h) off the scheduling pass, from snapshots the pass hands it.
  std::mutex fc_mu_;
  std::condition_variable fc_cv_;
  std::vector<ForecastSnapshot> fc_todo_;
  std::vector<Forecast> fc_done_;
  std::atomic<bool> fc_stop_{false};  // the thread ends; a forecast under way gives up (StopForecaster)
  std::thread forecaster_;
  // By tenant (TenantId): the shares of their time limits its last
  // kRunShareHistory runs used, newest last (mu_).
  std::unordered_map<uint32_t, std::deque<double>> run_shares_;
  std::deque<double> pooled_run_shares_;  // every tenant's last kPooledRunShareHistory (mu_)

  // Datasets (control_datasets.cc): the registry, as the store holds it
  // (ds_mu_, a leaf lock), and each center's data root ("" = none).
  std::mutex ds_mu_;
  std::map<std::pair<std::string, std::string>, Dataset> datasets_;  // (tenant, name)
  IdVector<CenterId, std::string> data_roots_;
  // The stager: a thread that runs stage_command for the copies the passes
  // hand it, one at a time; a later pass takes what it did.
  std::mutex st_mu_;
  std::condition_variable st_cv_;
  std::deque<StageTask> st_todo_;
  std::vector<StageDone> st_done_;
  bool st_stop_ = false;
  std::atomic<bool> st_cancel_{false};  // stopping: the running copy is killed
  std::thread stager_;
};

// Whether a run ended by its center's doing (an operator's scancel, a node
// failure, a cluster shutting down), not by the job's own failure or its
// tenant's cancel.
bool StoppedByCenter(const BackendEvent& ev, bool cancel_requested);

}  // namespace suanli::live::control_detail
