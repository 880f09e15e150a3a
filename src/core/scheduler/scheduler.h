// The center scheduler: orders a center's queue and places jobs on its nodes.
//
// It is pure: time and randomness come in, decisions go out as data. The
// caller (simulator or live control loop) tells it what happened (Submit,
// Finish) and calls Pass(now), which returns the decisions it made and a
// time to be woken at. The scheduler keeps its own ClusterState and applies
// its decisions to it; the caller applies them to the world.
//
// A pass, in numbered steps:
//  1. emit jobs found unschedulable at submit (they could never fit here);
//  2. take the pending jobs in the order policy's order;
//  3. start each job that fits now, in order;
//  4. when a job does not fit:
//     - no backfill: stop (strict order; the head blocks the queue);
//     - greedy: skip it and go on (later jobs may overtake it);
//     - easy: reserve the earliest time and place it could start (releasing
//       running jobs in order of their expected end) and start later jobs only
//       if they end before that time or do not touch the reserved devices;
//     - preemptive orders: stop running jobs with a worse key, worst first,
//       until it fits (victims that turn out not to be needed keep running;
//       a job that has run less than SchedulerOptions::min_run is not one);
//  5. at most `backfill_depth` jobs are examined per pass (Slurm's bf_max_job_test).
//
// With tenant quotas (SchedulerOptions::quotas), a job whose start would take
// its tenant beyond what its quota allows now is skipped before step 3 (it
// waits, and never blocks other tenants' jobs, whatever the backfill mode);
// and a job that does not fit, of a tenant that stays within its nominal
// quota, first reclaims borrowed capacity by preempting jobs of tenants over
// their nominal quota, newest first (QuotaSpec::reclaim).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/model/quota.h"
#include "core/policy/order/order.h"
#include "core/policy/place/placer.h"
#include "core/scheduler/failure_memo.h"
#include "core/scheduler/job_queue.h"
#include "core/scheduler/job_runtime.h"
#include "core/state/cluster_state.h"

namespace suanli {

enum class BackfillMode : uint8_t { kNone, kGreedy, kEasy };

// A policy is written ORDER[+BACKFILL][+PLACEMENT], e.g. "fifo", "sjf+easy",
// "las+fgd", "fifo+easy+best-fit". Defaults: no backfill, first-fit.
struct PolicySpec {
  std::string order = "fifo";
  BackfillMode backfill = BackfillMode::kNone;
  std::string place = "first-fit";
  std::string text;  // as written
  std::string Canonical() const;
};
Result<PolicySpec> ParsePolicySpec(std::string_view text);
std::string_view BackfillName(BackfillMode m);

struct SchedulerOptions {
  int backfill_depth = 1000;                   // jobs examined per pass
  int preempt_depth = 32;                      // waiting jobs that may preempt per pass
  Duration reservation_refresh = Seconds(60);  // EASY: recompute the reservation at least this often
  bool models_in_order = true;                 // try the fastest eligible model first
  bool allow_multi_node = true;                // whole-device gangs may span nodes
  // A running job is not preempted (by a preemptive order or a quota's
  // reclaim) before it has run this long in its current run, so that
  // fairness does not thrash (KAI's and Armada's minimum run time); the
  // pass is woken when the first such job becomes preemptible. 0 = none.
  Duration min_run = 0;
  // Tenant quotas in a cohort (Kueue-style); null or empty = none. Fractions
  // are of this scheduler's (center's) accelerator capacity.
  std::shared_ptr<const QuotaSpec> quotas;
};

struct Decision {
  enum class Kind : uint8_t { kStart, kPreempt, kUnschedulable };
  Kind kind = Kind::kStart;
  JobId job = kNoJob;
  Allocation alloc;    // kStart: where it runs; kPreempt: what it gave back
  std::string reason;  // kUnschedulable: why
  JobId by = kNoJob;   // kPreempt: the job it was stopped for
};

struct PassResult {
  std::vector<Decision> decisions;
  Time wake_at = kNever;  // call Pass again at this time even if nothing happens
  int examined = 0;
};

struct Reservation {
  JobId job = kNoJob;
  Time start = kNever;
  Allocation alloc;
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(const PolicySpec& spec, const Catalog& catalog,
                                                   const Network& network, const Workload& workload,
                                                   const SchedulerOptions& options = {});

  // A job enters the queue (or is found unschedulable, reported by the next pass).
  void Submit(JobId id, Time now);
  // The same, for a job that has `remaining_work` reference-seconds left (a job
  // moved here from elsewhere, or resubmitted after Remove); it is otherwise a
  // fresh arrival. Submit(id, now) is Submit(id, now, job.work).
  void Submit(JobId id, Time now, double remaining_work);
  // The same, for a job that comes back with what it had received before
  // (Progress, taken when it left): its attained service, work left,
  // preemptions, starts and the time it entered the queue are kept, as if it
  // had stayed queued. Submit(id, now, w) is Submit(id, now, {.remaining = w}).
  void Submit(JobId id, Time now, const JobProgress& carried);
  // What a pending job, or one taken out by Remove, has received and has left
  // (Remove brings it up to the time of removal).
  JobProgress Progress(JobId id) const;
  // Takes a job out of the scheduler whatever its state: a pending job leaves
  // the queue; a running one stops and its allocation is returned (its
  // resources are free for the next pass). nullopt if the job was not pending
  // or running (unknown, done, or unschedulable — then it is not reported).
  // The job may be submitted again later, here or to another scheduler;
  // runtime(id).remaining holds the work it had left.
  std::optional<Allocation> Remove(JobId id, Time now);
  // A running job finished its work: its resources are freed.
  void Finish(JobId id, Time now);
  // A job that is already running on `alloc` (this scheduler's node numbering)
  // since `started` enters as running, without a pass and without a decision
  // (the live control plane re-adopting its jobs after a restart). False, and
  // nothing changes, if the job is queued or running here already or `alloc`
  // does not fit what is free (or is not of one model).
  // `expected_end` (kNever: from the job's estimate since `started`) is when
  // it is expected to end (a forecast's copy keeps the original's).
  bool Adopt(JobId id, const Allocation& alloc, Time started, Time now, Time expected_end = kNever);
  // A running job is really on `nodes` (this scheduler's numbering, one per
  // share of its allocation, in the same order), not where it was placed: a
  // center that places jobs itself (Slurm without --nodelist) put it there.
  // Each share moves to its new node with the same number of devices (the
  // lowest-numbered free ones), CPU and memory. Returns the new allocation;
  // nullptr, and nothing changes, if the job is not running here, the list
  // does not match its shares, or a node lacks the room (as this scheduler
  // sees it).
  const Allocation* Relocate(JobId id, const std::vector<NodeId>& nodes);
  PassResult Pass(Time now, Rng& rng);
  // A node (this scheduler's numbering) goes down: nothing new is placed on
  // it (jobs running there keep their allocation until they stop), or comes
  // back. The next pass looks at the whole queue.
  void SetNodeUp(NodeId node, bool up);

  // "When and where would it run?" — the earliest start if nothing else changed
  // (releasing running jobs at their expected end). nullopt if never.
  std::optional<Reservation> EstimateStart(JobId id, Time now, Rng& rng);
  // "Why does it wait?" — a pending job's reason in words (over quota,
  // waiting for resources (which), behind a reservation, behind the queue in
  // strict order); "" if it is not pending here. Changes nothing (its
  // placement trial draws from `rng`).
  std::string WhyWaiting(JobId id, Time now, Rng& rng);
  // "Could it ever run here?" — empty string if yes, otherwise the reason.
  std::string WhyNever(const Job& job) const;

  const ClusterState& state() const { return state_; }
  const JobRuntime& runtime(JobId id) const { return rt_[id]; }
  const PolicySpec& spec() const { return spec_; }
  OrderPolicy& order() { return *order_; }
  Placer& placer() { return *placer_; }
  size_t num_pending() const { return static_ ? queue_.size() : pending_.size(); }
  size_t num_running() const { return running_.size(); }
  const Allocation* AllocationOf(JobId id) const;
  Time ExpectedEnd(JobId id) const;
  const std::vector<JobId>& running_jobs() const { return running_; }
  // The running job expected to end first: (kNever, kNoJob) if none runs.
  std::pair<Time, JobId> NextExpectedEnd() const {
    return by_end_.empty() ? std::pair<Time, JobId>{kNever, kNoJob} : *by_end_.begin();
  }
  const SchedulerOptions& options() const { return opt_; }
  // Per-tenant quotas and usage (nominal, borrowed, in use); null without quotas.
  const QuotaUsage* quota_usage() const { return quota_ ? &*quota_ : nullptr; }
  // Replaces the quotas (null or empty: none) while jobs run: resolved
  // against this center's capacity, with what its running jobs use counted
  // at once. Nothing running is stopped; the next pass looks at the whole
  // queue (a tenant may now start jobs, or reclaim). On error nothing changes.
  Status SetQuotas(std::shared_ptr<const QuotaSpec> quotas);

 private:
  Scheduler(const PolicySpec& spec, const Catalog& catalog, const Network& network, const Workload& workload,
            SchedulerOptions options, std::unique_ptr<OrderPolicy> order, std::unique_ptr<Placer> placer);
  struct Running {
    Allocation alloc;
    Time expected_end = kNever;
  };
  struct QueueEntry {
    OrderKey key;
    JobId job;
    bool operator<(const QueueEntry& o) const { return key < o.key || (key == o.key && job < o.job); }
  };
  OrderContext Ctx(Time now) const;
  // WhyNever without quotas: could it fit on the empty center?
  std::string WhyNeverFits(const Job& job) const;
  // The same for a gang spread over Job::nodes nodes (models in `mask`).
  std::string WhyNeverSpread(const Job& job, ModelMask mask) const;
  void Enqueue(JobId id, Time now);
  void ForgetSlot(JobId id);
  void Dequeue(JobId id);
  std::vector<JobId> OrderedPending(Time now);
  // The placement request for a job, in request_.
  void FillRequest(JobId id);
  std::optional<Allocation> TryPlace(JobId id, Rng& rng);
  // Places the filled request_: a spread gang (Job::nodes > 1) by
  // PlaceSpread, any other by the placer.
  std::optional<Allocation> PlaceRequest(Rng& rng);
  void Start(JobId id, Allocation alloc, Time now, PassResult* out);
  void Preempt(JobId id, JobId by, Time now, PassResult* out);
  void StopRunning(JobId id, Time now, bool finished);
  // Quotas: may the job start now as far as its tenant's quota goes?
  bool QuotaAdmits(JobId id) const;
  // Quotas: could the job reclaim borrowed capacity (its tenant stays within
  // its nominal quota and some tenant is borrowing)?
  bool CanReclaim(JobId id) const;
  // Whether running job v has run min_run in its current run; if not, the
  // pass is woken when it has.
  bool Preemptible(JobId v, Time now, PassResult* out) const;
  // Preempts jobs of borrowing tenants, newest first, until `id` fits (beside
  // the reservation `res`, if any), and starts it; false (nothing changed) if
  // even that does not make it fit.
  bool Reclaim(JobId id, const Reservation* res, Time now, Rng& rng, PassResult* out);
  // Places `id`; with a reservation, an allocation that would delay it (ends
  // after its start on reserved devices) is retried with those devices held back.
  std::optional<Allocation> TryPlaceBeside(JobId id, const Reservation* res, Time now, Rng& rng);
  // The free parts of the reserved devices, to hold them back from a
  // placement (valid until the next call).
  const Allocation& ReservedBlock(const Reservation& res);
  Duration RunTimeOn(JobId id, const Allocation& a) const;
  std::optional<Reservation> ComputeReservation(JobId id, Time now, Rng& rng);
  // Running jobs a preemptive order may stop, worst (largest order key,
  // then largest id) first, sorted only as far as a pass walks them: a heap
  // popped on demand (most walks stop after a few victims). A walk for a job
  // of key K stops at the first victim whose key is not worse than K, so
  // only those worse than some K asked for enter the heap (Admit); the
  // others wait aside, all of them less bad than every one admitted.
  class Victims {
   public:
    void Reset(std::vector<std::pair<OrderKey, JobId>> keyed);
    // Admits the victims whose key is worse than `key`.
    void Admit(const OrderKey& key);
    // The i-th worst admitted (i at most one past the last one asked); false past the end.
    bool At(size_t i, JobId* out);

   private:
    std::vector<std::pair<OrderKey, JobId>> aside_;  // not admitted yet
    std::optional<OrderKey> bound_;                  // every one aside is no worse than this
    std::vector<std::pair<OrderKey, JobId>> heap_;
    std::vector<JobId> sorted_;
  };
  bool PreemptFor(JobId id, Time now, Rng& rng, Victims* victims, PassResult* out);
  // Ends an eviction: `released` jobs were taken off the state to make room;
  // with a placement `a` for `id`, stops only those that no longer fit
  // beside it and starts `id`; without one, puts them all back.
  bool EvictFor(JobId id, const std::vector<JobId>& released, std::optional<Allocation> a, Time now, PassResult* out);
  // EASY: starts `id` (which fits as `a`) if it ends before the reservation or
  // keeps off the reserved devices. Returns whether it started.
  bool Backfill(JobId id, Allocation a, const Reservation* res, Time now, Rng& rng, PassResult* out);
  // When nothing was freed since a pass that ended on a blocked head, only the
  // jobs that arrived since can start: examine just them. False if a full
  // pass is needed.
  bool IncrementalPass(Time now, Rng& rng, PassResult* out);
  OrderKey StaticKey(JobId id) const { return order_->Key(id, Ctx(rt_[id].queued_since)); }
  // Per-pass memo of requests that did not fit: is a waiting job's request
  // ruled out, and recording one that failed (jobs with their own per-model
  // times are not recorded: their eligibility differs per job).
  bool Dominated(FailureMemo& memo, JobId id) const { return memo.Rules(shape_of_[id]); }
  void Record(FailureMemo* memo, JobId id) const {
    if (workload_.jobs[id].speed_override == kNoOverride) memo->Record(shape_of_[id]);
  }
  const std::vector<ModelId>& ModelOrder(JobId id);
  // Shortest run time the job could have (its estimate on its fastest model).
  Duration MinRunTime(JobId id);

  PolicySpec spec_;
  const Catalog& catalog_;
  const Network& network_;
  const Workload& workload_;
  SchedulerOptions opt_;
  std::unique_ptr<OrderPolicy> order_;
  std::unique_ptr<Placer> placer_;
  ClusterState state_;
  bool static_;

  IdVector<JobId, JobRuntime> rt_;
  JobQueue queue_;                            // static orders
  std::vector<JobId> pending_;                // dynamic orders
  std::map<int64_t, uint32_t> demand_count_;  // pending jobs by accelerator demand (milli)
  IdVector<JobId, uint32_t> pending_pos_;     // index into pending_ (dynamic orders)
  std::vector<JobId> running_;
  IdVector<JobId, uint32_t> running_pos_;
  std::unordered_map<JobId, Running> run_;
  std::set<std::pair<Time, JobId>> by_end_;
  std::vector<std::pair<JobId, std::string>> unschedulable_;
  std::optional<Reservation> reservation_;
  bool freed_ = true;            // resources were freed since the last pass
  JobId blocked_head_ = kNoJob;  // the job that blocked the last full pass
  std::vector<JobId> arrivals_;  // submitted since the last pass
  Time reservation_at_ = -1;
  // Request shapes of the jobs that have waited here (shape_of_: by job,
  // set when a job enters the queue).
  ShapeTable shapes_table_;
  IdVector<JobId, uint32_t> shape_of_;
  // By shape: the eligible models in preference order (ModelOrder's), for
  // jobs without their own per-model times.
  std::vector<const std::vector<ModelId>*> shape_order_;
  // Per-pass memo of requests that did not fit (same models, no smaller demand).
  FailureMemo failures_{shapes_table_};          // did not fit at all
  FailureMemo blocked_failures_{shapes_table_};  // did not fit beside the EASY reservation
  FailureMemo reclaim_failures_{shapes_table_};  // did not fit even by reclaiming borrowed capacity
  std::optional<QuotaUsage> quota_;              // null = no quotas
  // Node shapes per model, for "could it ever run" checks.
  struct Shape {
    int devices;
    int64_t cpu, mem;
    int64_t count;
  };
  std::vector<std::vector<Shape>> shapes_;  // by slot
  // Eligible models in preference order, by job signature (models, stacks,
  // class) for jobs without measured per-model times.
  std::unordered_map<uint64_t, std::vector<ModelId>> model_order_;
  PlacementRequest request_;  // reused to avoid allocations
  bool trial_ = false;        // inside EstimateStart or WhyWaiting: placements are trials
  // The shape's model order request_.models was copied from (null: another).
  const std::vector<ModelId>* request_models_ = nullptr;
  Allocation block_;  // ReservedBlock's
  // The free part of reservation_'s devices, counted as the placer's capacity
  // test sees it (one slot: an allocation has one model), as of a state
  // generation; invalidated when reservation_ changes.
  struct BlockRoom {
    uint64_t generation = UINT64_MAX;
    int slot = 0;
    int64_t whole = 0, milli = 0;
  };
  BlockRoom block_room_;
  bool RoomBeside(const Reservation& res);
  // The job placed with the free part of res's devices held back; none,
  // without touching the state, when what is left beside them fails the
  // placer's capacity test (as it mostly does while the head waits for more
  // than is free).
  std::optional<Allocation> PlaceBeside(JobId id, const Reservation& res, Rng& rng);
  // By slot: capacity to add in the placer's capacity test (RoomFor); zero
  // between uses.
  std::vector<int64_t> extra_whole_, extra_milli_;
  std::vector<const Allocation*> released_;  // ComputeReservation's
};

}  // namespace suanli
