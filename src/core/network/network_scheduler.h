// The network scheduler: two-level scheduling of a network of centers, as one
// pure state machine shared by the simulator and the live control plane.
//
// It owns the dispatcher, one center scheduler per center, each job's phase
// and each center's status as the dispatcher sees it. The driver (the
// simulator's Engine, or the live control plane) tells it what happened —
// a job arrived, reached its center, finished or failed, a center went down
// or came back, time went on — and applies the decisions it returns as data
// (NetDecision): send a job to a center (now or at a later time), hold it,
// start it on an allocation, preempt it, give up a run lost with its center,
// report it unschedulable, wake a center at a time. No I/O, clock or threads:
// time and randomness come in.
//
// A job's phases:
//
//   (arrives) ──► waiting ──dispatch──► in flight ──Ready──► queued ──pass──► running
//                   ▲   │                  (dataset,            ▲  │            │
//                   │   └──hold──► held     deferral)           │  └─preempt◄──┘
//                   │                │                          │
//                   └── failure, outage (run lost: restarts) ◄──┴── outage (taken back)
//   running ──Finished──► done;   any phase ──unschedulable──► done
//
// A run's end is accounted here (checkpoints, restart overhead, lost work);
// the driver meters and records it from the RunEnd it gets back.
//
// Generations: every time a job leaves a center (preempted, failed, taken
// back) its generation goes up, so the driver's events for an earlier run or
// an earlier send (Ready, its own finish timers) are recognised as stale.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/network/forecast.h"
#include "core/policy/dispatch/dispatcher.h"
#include "core/scheduler/scheduler.h"

namespace suanli {

struct NetworkOptions {
  SchedulerOptions scheduler;
  DispatchSpec dispatch;  // default: earliest-start
  int start_hour = 0;     // hour of day at time 0 (tariffs and carbon by hour)
  // A center's scheduler passes at most this often (0 = at every event).
  Duration pass_interval = 0;
  // Default checkpoint interval of jobs without their own (0 = none), and the
  // time a run after a failure or an outage spends restarting.
  Duration checkpoint = 0;
  Duration restart_cost = 0;
  // A job whose runs are lost more than this many times in a row before any
  // checkpoint (failures, outages) is given up on (kUnschedulable): a run
  // longer than its centers stay up, with no checkpoint in reach, would start
  // over for ever. A lost run that kept work starts the count again (0 = no
  // limit).
  int max_restarts = 100;
  uint64_t seed = 1;  // the center schedulers' random stream
  // Placers that weigh the workload's task mix (fgd) see the whole
  // workload's mix, as in the FGD paper's experiments.
  bool task_mix_from_workload = true;
  // Given: this mix instead (a replay's control plane starts with no jobs;
  // its trace's mix is the simulator's). Shared, read at Create.
  std::shared_ptr<const TaskMix> task_mix;
  // A preempted run must be confirmed stopped (Stopped) before its job can
  // start again (live: the backend stops it). Without, a preempted job
  // stays in its center's queue at once (the simulator).
  bool confirm_stops = false;
  // Each send says why that center (NetDecision::why; Dispatcher::set_explain):
  // the live plane's job history.
  bool explain_dispatch = false;
};

enum class NetPhase : uint8_t { kWaiting, kInFlight, kQueued, kRunning, kHeld, kDone, kStopping };

// How a run ended, for the driver's accounts.
struct RunEnd {
  CenterId center = kNoCenter;
  Allocation alloc;       // in the center's node numbering (CenterNode maps it)
  Time start = -1;        // when the run started
  double devices = 0;     // accelerators it held
  double lost_dev_s = 0;  // accelerator-seconds that did no lasting work
};

struct NetDecision {
  enum class Kind : uint8_t {
    kSend,           // to `center`, reaching it at `at`; at > now: call Ready(job, generation, at) then
    kHold,           // it waits: at = kNever, until a center comes back; else call Ready(job, generation, at)
    kStart,          // starts at `center` on `alloc`, for `run` if nothing happens
    kPreempt,        // its center preempted it (`end`): it waits in that center's queue again
    kInterrupt,      // its run was lost with its center (`end`): it restarts, elsewhere if need be
    kUnschedulable,  // `reason`
    kWake,           // call Wake(center, at) at `at`
  };
  Kind kind = Kind::kSend;
  JobId job = kNoJob;
  CenterId center = kNoCenter;
  Time at = 0;
  uint32_t generation = 0;  // kSend, kStart: the job's as decided (its events carry it)
  Allocation alloc;         // kStart
  Duration run = 0;         // kStart: restart overhead + remaining work at its speed
  double transfer_s = 0;    // kSend: staging its dataset
  bool deferred = false;    // kSend: held back for a better hour
  RunEnd end;               // kPreempt, kInterrupt
  std::string reason;       // kUnschedulable
  std::string why;          // kSend, with NetworkOptions::explain_dispatch: why that center
  JobId by = kNoJob;        // kPreempt: the job it was stopped for
};

// Why a job sent to reach its center later (kSend, at > now) waits, in the
// words the live plane and the simulator's jobs.csv share: "deferred until T
// (price)" for a better hour (deferred_for: DeferredFor of the dispatcher),
// else "staging its dataset until T". `until` is T as the caller writes times.
std::string SentLaterReason(const NetDecision& d, std::string_view until, std::string_view deferred_for);
// What a waiting job's reason adds when the dispatcher held it to one model
// (heterogeneity-aware) though it named none or several.
std::string HeldToModel(std::string_view model, std::string_view dispatch);

class NetworkScheduler {
 public:
  // Checks the places the jobs name, splits the network into its centers and
  // creates their schedulers and the dispatcher. The workload must be sorted
  // by submit time.
  static Result<std::unique_ptr<NetworkScheduler>> Create(const Workload& workload, const Network& network,
                                                          const Catalog& catalog, const PolicySpec& policy,
                                                          const NetworkOptions& options);

  // ---- Jobs that come and go (live): a slot for a new job, reused at once
  // (its generation goes up, so nothing of the old job is taken for it); a
  // slot is freed once its job is done (Finished, Withdraw, unschedulable).
  JobId AddJob(Job job);
  void FreeJob(JobId id);
  TenantId InternTenant(const std::string& name) { return w_.tenants.Intern(name); }
  // The place (Workload::places) that names center c, added on first use:
  // a live job's Job::home, the tenant's own center.
  uint16_t CenterPlace(CenterId c);
  // The place of a center's or a user region's name (a live service's
  // Job::region), added on first use.
  uint16_t Place(std::string_view name);
  // The job runs only at this center (or is unschedulable if it never could).
  void Pin(JobId id, CenterId c) { places_[id].pinned = c; }
  // The job is not sent to center c before `until` (it just stopped the
  // job's run there); kNoCenter: no such center.
  void Avoid(JobId id, CenterId c, Time until);

  // ---- Events. Each may append decisions (decisions()).
  void Arrive(JobId id, Time t);
  // A job sent with NetDecision::at > now reaches its center, or a held job
  // with a retry time is dispatched again (stale generations are ignored; a
  // center that stopped accepting meanwhile re-dispatches it).
  void Ready(JobId id, uint32_t generation, Time t);
  // A job not running leaves the network (its tenant cancelled it).
  void Withdraw(JobId id, Time t);
  // A job already running at c on `local` since `started` (the live plane
  // re-adopting its runs after a restart). Not counted by the center's
  // scheduler (returns false) without an allocation or if it does not fit.
  bool Adopt(JobId id, CenterId c, const Allocation* local, Time started, Time t);
  // A running job is really on `nodes` of its center (Scheduler::Relocate):
  // the new allocation, or nullptr if its center's scheduler cannot move it
  // there (it keeps the old one).
  const Allocation* Relocate(JobId id, const std::vector<NodeId>& nodes);
  // The job's run finished its work.
  Result<RunEnd> Finished(JobId id, Time t);
  // The job's run failed (a device failed, its center stopped it): it keeps
  // the work up to its last checkpoint and is dispatched again, with
  // `avoid_until` not to the same center before then. The last checkpoint
  // is its checkpoint interval's (the simulator's model) unless `kept` says
  // how long into the run the job last checkpointed (the live plane: what
  // the job reported; 0 = it kept nothing).
  Result<RunEnd> Failed(JobId id, Time t, Time avoid_until = 0, std::optional<Duration> kept = std::nullopt);
  // A run is to be stopped (live: the job was sent to a node that went down
  // while the center still queued it): out of its scheduler now; the job
  // waits in kStopping for Stopped.
  Result<RunEnd> Stop(JobId id, Time t);
  // A run being stopped (kStopping) has stopped: the job waits in the same
  // center's queue again with what it had, or is dispatched again if that
  // center no longer accepts jobs or `elsewhere`. It keeps all the work of
  // the run (it checkpointed as it stopped, the simulator's model) unless
  // `kept` says how long into the run it last checkpointed (live: what the
  // job reported; 0 = it kept nothing of this run).
  void Stopped(JobId id, Time t, bool elsewhere = false, std::optional<Duration> kept = std::nullopt);
  // A center goes down (depth counted: nested outages) or comes back. Down:
  // its running jobs lose their runs (kInterrupt), queued ones are taken
  // back, and all are dispatched again. Up: held jobs are dispatched again.
  Status CenterDown(CenterId c, Time t);
  void CenterUp(CenterId c, Time t);
  // A center's availability by parts (live): `accepting` new jobs from the
  // dispatcher, `passing` (its scheduler may start jobs). Held jobs are
  // dispatched again when a center starts accepting.
  void SetCenter(CenterId c, bool accepting, bool passing, Time t);
  // Takes back the jobs queued at c (and with `running`, interrupts the
  // runs there) and dispatches them again. An interrupted run keeps the work
  // up to its checkpoint interval's last multiple (the simulator's model)
  // unless `kept` gives, for its job, how long into the run the job last
  // checkpointed (the live plane: what the job reported).
  using KeptFn = std::function<std::optional<Duration>(JobId)>;
  Status Evict(CenterId c, Time t, bool running, const KeptFn& kept = {});
  // A node of c (its numbering) goes down (nothing new is placed on it) or up.
  void SetNodeUp(CenterId c, NodeId local, bool up);
  // A wake-up asked for by a kWake decision (exactly at its time), or every
  // wake-up due by t.
  void Wake(CenterId c, Time t);
  void WakeDue(Time t);
  // Replaces the tenant quotas of every center's scheduler
  // (Scheduler::SetQuotas); each passes again. On error (a quota that does
  // not resolve against some center) no center changes.
  Status SetQuotas(const std::shared_ptr<const QuotaSpec>& quotas);
  // When and where a queued job would start if nothing else changed (it
  // draws from a random stream of its own: asking changes no decision).
  std::optional<Reservation> EstimateStart(JobId id, Time t);
  // Why a job queued at a center waits, in words (Scheduler::WhyWaiting; a
  // random stream drawn from the job and t alone, so the answer depends on
  // the state only): "" if it is not queued.
  std::string WhyWaiting(JobId id, Time t);
  // The jobs of center c now, for a start forecast (forecast.h): a copy,
  // so that RunForecast may run it anywhere. Empty `queued`: nothing to ask.
  ForecastSnapshot SnapshotForecast(CenterId c, Time t, const RunShare& share = nullptr) const;
  // One scheduling pass at every center that needs one.
  Status Pass(Time t);
  // Nothing else will happen: held jobs wait for centers that stay down.
  void GiveUpHeld();

  std::vector<NetDecision>& decisions() { return out_; }

  // ---- What the driver reads.
  const Workload& workload() const { return w_; }  // as dispatched (models narrowed)
  NetPhase phase(JobId id) const { return jobs_[id].phase; }
  CenterId center_of(JobId id) const { return jobs_[id].center; }
  uint32_t generation(JobId id) const { return jobs_[id].gen; }
  double remaining(JobId id) const { return jobs_[id].remaining; }  // reference-seconds
  double devices(JobId id) const { return static_cast<double>(w_.jobs[id].GpuMilli()) / kWholeDevice; }
  size_t num_centers() const { return centers_.size(); }
  size_t num_slots() const { return jobs_.size(); }
  bool up(CenterId c) const { return status_[c].up; }  // accepting jobs
  const Scheduler* scheduler(CenterId c) const { return centers_[c].sched.get(); }
  size_t num_pending(CenterId c) const { return centers_[c].sched ? centers_[c].sched->num_pending() : 0; }
  size_t num_pending() const;
  NodeId CenterNode(CenterId c, NodeId local) const { return centers_[c].global[local]; }
  const IdVector<NodeId, NodeId>& CenterNodes(CenterId c) const { return centers_[c].global; }  // local -> network node
  // The allocation in the network's node numbering.
  Allocation ToNetwork(CenterId c, Allocation local) const;
  uint64_t passes() const { return passes_; }
  const Network& network() const { return network_; }
  const Catalog& catalog() const { return catalog_; }

 private:
  struct CenterSlot {
    Network net;                      // its slice of the network (nodes renumbered from 0)
    IdVector<NodeId, NodeId> global;  // local node -> network node
    std::unique_ptr<Scheduler> sched;
    bool changed = false;
    Time wake = kNever;
    Time last_pass = -1;
    int down_depth = 0;
    bool passing = true;
  };
  struct NetJob {
    NetPhase phase = NetPhase::kWaiting;
    CenterId center = kNoCenter;
    uint32_t gen = 0;
    double remaining = 0;  // reference-seconds of work left
    Time run_start = -1;
    Duration overhead = 0;  // restart overhead of the current (or next) run
    double speed = 1;
    Time expected_end = 0;
    bool counted = true;  // running: its center's scheduler holds its allocation
    int fruitless = 0;    // runs lost in a row that kept no work (Interrupt)
  };

  NetworkScheduler(const Workload& workload, const Network& network, const Catalog& catalog,
                   const NetworkOptions& options);
  Status Init(const PolicySpec& policy);

  void Dispatch(JobId id, Time t);
  // A job whose run was lost: dispatched again, or given up on after
  // max_restarts lost runs in a row that kept nothing.
  void Restart(JobId id, Time t);
  void Hold(JobId id, CenterId c, Time retry, std::string why);
  // A kSend decision: the job goes to c, reaching it at `at`.
  NetDecision& Send(JobId id, CenterId c, Time at);
  void QueueAt(JobId id, CenterId c, Time t);
  void RecordUnschedulable(JobId id, std::string why);
  // Takes a run off the center's status; returns it for the driver.
  RunEnd EndRun(JobId id, CenterId c, Allocation local);
  // The end of a run its center's scheduler does not hold (not counted, or
  // taken out already): no allocation.
  RunEnd UncountedEnd(JobId id) const;
  double ChargeOverhead(JobId id, Time t);  // a run that ended normally: its restart overhead did no work
  Result<RunEnd> Interrupt(JobId id, Time t, std::optional<Duration> kept = std::nullopt);
  void TakeBack(JobId id, Time t);
  Status PassCenter(CenterId c, Time t);

  const Workload& workload_;  // as submitted
  const Network& network_;
  const Catalog& catalog_;
  NetworkOptions opt_;
  Workload w_;
  IdVector<JobId, NetJob> jobs_;
  // kStopping jobs: what each had when stopped, and its work left and
  // restart overhead when the run started (for Stopped's `kept`).
  struct Stopping {
    JobProgress carried;
    double before = 0;
    Duration overhead = 0;
  };
  std::unordered_map<JobId, Stopping> stopping_;
  // Pinned and avoided centers, of the jobs that have them (the live plane's).
  struct Places {
    CenterId pinned = kNoCenter;
    CenterId avoid = kNoCenter;
    Time avoid_until = 0;
  };
  std::unordered_map<JobId, Places> places_;
  IdVector<CenterId, CenterSlot> centers_;
  IdVector<CenterId, CenterStatus> status_;
  std::vector<CenterId> place_center_;
  std::vector<uint32_t> place_region_;
  Paths paths_;
  std::unique_ptr<DispatchView> view_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::shared_ptr<const TaskMix> mix_;  // what fgd weighs (null: none given)
  Rng rng_;                             // the passes'
  Rng estimate_rng_;                    // start estimates draw from their own stream: asking never changes a decision
  IdVector<JobId, ModelMask> asked_models_;  // by job: as submitted (the dispatcher may narrow w_'s)
  std::vector<JobId> free_slots_;
  std::vector<JobId> held_;
  std::vector<NetDecision> out_;
  uint64_t passes_ = 0;
};

}  // namespace suanli
