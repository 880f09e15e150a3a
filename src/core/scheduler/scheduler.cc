#include "core/scheduler/scheduler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include "base/strings.h"

namespace suanli {

std::string_view BackfillName(BackfillMode m) {
  switch (m) {
    case BackfillMode::kNone: return "none";
    case BackfillMode::kGreedy: return "greedy";
    case BackfillMode::kEasy: return "easy";
  }
  return "none";
}

std::string PolicySpec::Canonical() const {
  std::string s = order;
  if (backfill != BackfillMode::kNone) s += "+" + std::string(BackfillName(backfill));
  s += "+" + place;
  return s;
}

Result<PolicySpec> ParsePolicySpec(std::string_view text) {
  PolicySpec spec;
  spec.text = std::string(Trim(text));
  if (spec.text.empty()) return InvalidArgument("empty policy name");
  bool have_order = false, have_bf = false, have_place = false;
  for (auto part : Split(spec.text, '+')) {
    std::string p = ToLower(Trim(part));
    auto known = [&]() {
      std::vector<std::string> names;
      for (const auto& o : OrderPolicies()) names.push_back(o.name);
      names.push_back("easy");
      names.push_back("greedy");
      for (const auto& pl : Placers()) names.push_back(pl.name);
      return Join(names, ", ");
    };
    if (MakeOrderPolicy(p)) {
      if (have_order) return InvalidArgument("policy '{}': two queue orders", spec.text);
      spec.order = p;
      have_order = true;
    } else if (p == "easy" || p == "greedy") {
      if (have_bf) return InvalidArgument("policy '{}': two backfill modes", spec.text);
      spec.backfill = p == "easy" ? BackfillMode::kEasy : BackfillMode::kGreedy;
      have_bf = true;
    } else if (MakePlacer(p)) {
      if (have_place) return InvalidArgument("policy '{}': two placement policies", spec.text);
      spec.place = p;
      have_place = true;
    } else {
      return InvalidArgument("policy '{}': unknown part '{}' (known: {}; see `suanli policies`)", spec.text, p,
                             known());
    }
  }
  if (spec.backfill == BackfillMode::kEasy && MakeOrderPolicy(spec.order)->preemptive())
    return InvalidArgument("policy '{}': EASY backfill needs a non-preemptive order", spec.text);
  return spec;
}

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const PolicySpec& spec, const Catalog& catalog,
                                                     const Network& network, const Workload& workload,
                                                     SchedulerOptions options) {
  auto order = MakeOrderPolicy(spec.order);
  if (!order) return InvalidArgument("unknown queue order '{}'", spec.order);
  auto placer = MakePlacer(spec.place);
  if (!placer) return InvalidArgument("unknown placement policy '{}'", spec.place);
  if (order->preemptive() && spec.backfill == BackfillMode::kEasy)
    return InvalidArgument("policy '{}': EASY backfill needs a non-preemptive order", spec.text);
  std::unique_ptr<Scheduler> s(
      new Scheduler(spec, catalog, network, workload, options, std::move(order), std::move(placer)));
  if (options.quotas && !options.quotas->empty()) {
    // Every tenant of the workload is a member of the cohort if it has a quota
    // (listed, or the default); tenants without a name get the default.
    size_t num_tenants = workload.tenants.size();
    for (const Job& j : workload.jobs) num_tenants = std::max<size_t>(num_tenants, size_t{j.tenant} + 1);
    auto q = QuotaUsage::Resolve(*options.quotas, workload.tenants, num_tenants, s->state_.total_capacity_milli());
    if (!q.ok()) return q.status();
    s->quota_ = std::move(q).value();
  }
  return s;
}

Scheduler::Scheduler(const PolicySpec& spec, const Catalog& catalog, const Network& network, const Workload& workload,
                     SchedulerOptions options, std::unique_ptr<OrderPolicy> order, std::unique_ptr<Placer> placer)
    : spec_(spec),
      catalog_(catalog),
      network_(network),
      workload_(workload),
      opt_(options),
      order_(std::move(order)),
      placer_(std::move(placer)),
      state_(network, catalog.size()),
      static_(!order_->dynamic()) {
  shapes_.resize(state_.num_slots());
  for (NodeId n = 0; n < network.nodes.size(); ++n) {
    const Node& node = network.nodes[n];
    auto& v = shapes_[state_.SlotOf(n)];
    auto it = std::find_if(v.begin(), v.end(), [&](const Shape& s) {
      return s.devices == node.devices && s.cpu == node.cpu_milli && s.mem == node.mem_mib;
    });
    if (it == v.end()) v.push_back({node.devices, node.cpu_milli, node.mem_mib, 1});
    else ++it->count;
  }
}

OrderContext Scheduler::Ctx(Time now) const {
  OrderContext c;
  c.now = now;
  c.workload = &workload_;
  c.catalog = &catalog_;
  c.network = &network_;
  c.runtime = &rt_;
  return c;
}

std::string Scheduler::WhyNever(const Job& job) const {
  std::string why = WhyNeverFits(job);
  if (why.empty() && quota_) why = quota_->WhyNever(job.tenant, job.GpuMilli());
  return why;
}

std::string Scheduler::WhyNeverFits(const Job& job) const {
  if (job.num_gpus == 0) {
    for (const auto& slot : shapes_)
      for (const auto& s : slot)
        if (s.cpu >= job.cpu_milli && s.mem >= job.mem_mib) return "";
    return fmt::format("no node has {} mCPU and {} MiB free when empty", job.cpu_milli, job.mem_mib);
  }
  ModelMask mask = EligibleModels(job, catalog_, workload_);
  if (mask == 0)
    return fmt::format("no accelerator model accepts it (models: {}, stacks: {:#x})", catalog_.MaskToString(job.models),
                       job.stacks);
  const bool shared = job.IsShared();
  const int need = shared ? 1 : static_cast<int>(job.num_gpus);
  int64_t eligible_devices = 0;
  int largest = 0;
  for (size_t m = 0; m < catalog_.size(); ++m) {
    if (!(mask >> m & 1)) continue;
    for (const auto& s : shapes_[m]) {
      eligible_devices += s.count * s.devices;
      largest = std::max(largest, s.devices);
      if (s.devices >= need && s.cpu >= job.cpu_milli && s.mem >= job.mem_mib) return "";
    }
    if (!shared && need > 1 && opt_.allow_multi_node) {
      PlacementRequest r;
      r.num_gpus = job.num_gpus;
      r.cpu_milli = job.cpu_milli;
      r.mem_mib = job.mem_mib;
      int64_t cpu1 = CpuForDevices(r, 1), mem1 = MemForDevices(r, 1);
      int64_t cap = 0;
      for (const auto& s : shapes_[m]) {
        int64_t g = s.devices;
        if (cpu1 > 0) g = std::min(g, s.cpu / cpu1);
        if (mem1 > 0) g = std::min(g, s.mem / mem1);
        cap += g * s.count;
      }
      if (cap >= need) return "";
    }
  }
  if (eligible_devices == 0)
    return fmt::format("no node in this network has an accelerator it accepts ({})", catalog_.MaskToString(mask));
  return fmt::format(
      "needs {} x {} ({} mCPU, {} MiB) but the eligible nodes have {} devices in all, at most {} per node",
      shared ? std::string("a share of 1") : std::to_string(job.num_gpus), catalog_.MaskToString(mask), job.cpu_milli,
      job.mem_mib, eligible_devices, largest);
}

void Scheduler::Submit(JobId id, Time now) { Submit(id, now, workload_.jobs[id].work); }

void Scheduler::Submit(JobId id, Time now, double remaining_work) {
  JobProgress p;
  p.remaining = remaining_work;
  Submit(id, now, p);
}

JobProgress Scheduler::Progress(JobId id) const {
  JobProgress p;
  if (id >= rt_.size()) {
    p.remaining = workload_.jobs[id].work;
    return p;
  }
  const JobRuntime& r = rt_[id];
  p.remaining = r.remaining;
  p.est_remaining = r.est_remaining;
  p.attained = r.attained;
  p.preemptions = r.preemptions;
  p.first_start = r.first_start;
  p.last_start = r.last_start;
  p.queued_since = r.queued_since;
  return p;
}

void Scheduler::Submit(JobId id, Time now, const JobProgress& carried) {
  const double remaining_work = carried.remaining;
  SUANLI_CHECK_MSG(std::isfinite(remaining_work) && remaining_work >= 0, "submit with invalid remaining work");
  SUANLI_CHECK_MSG(std::isfinite(carried.attained) && carried.attained >= 0, "submit with invalid attained service");
  if (rt_.size() <= id) {
    size_t n = std::max<size_t>(id + 1, rt_.size() * 2);
    rt_.resize(n);
    pending_pos_.resize(n, UINT32_MAX);
    running_pos_.resize(n, UINT32_MAX);
  }
  const Job& job = workload_.jobs[id];
  JobRuntime& r = rt_[id];
  SUANLI_CHECK_MSG(r.state != JobState::kPending && r.state != JobState::kRunning,
                   "submit of a job that is already queued or running here (Remove it first)");
  r = JobRuntime{};
  ForgetSlot(id);
  r.remaining = remaining_work;
  // The estimate loses what the job has already done elsewhere, as on preemption.
  const double estimate = job.estimate > 0 ? job.estimate : job.work;
  r.est_remaining = carried.est_remaining >= 0 && std::isfinite(carried.est_remaining)
                        ? carried.est_remaining
                        : std::max(0.0, estimate - (job.work - remaining_work));
  r.attained = carried.attained;
  r.preemptions = carried.preemptions;
  r.first_start = carried.first_start;
  r.last_start = carried.last_start;
  if (quota_) quota_->Ensure(job.tenant, workload_.tenants);
  std::string why = WhyNever(job);
  if (!why.empty()) {
    r.state = JobState::kUnschedulable;
    unschedulable_.emplace_back(id, std::move(why));
    return;
  }
  order_->OnSubmit(id, Ctx(now));
  // A job that comes back keeps the time it entered the queue (the starvation
  // clock runs on from there).
  Enqueue(id, carried.queued_since >= 0 ? std::min(carried.queued_since, now) : now);
  arrivals_.push_back(id);
}

void Scheduler::Enqueue(JobId id, Time now) {
  JobRuntime& r = rt_[id];
  r.state = JobState::kPending;
  r.queued_since = now;
  const Job& job = workload_.jobs[id];
  ++demand_count_[job.GpuMilli()];
  if (shape_of_.size() <= id) shape_of_.resize(std::max<size_t>(id + 1, rt_.size()));
  const uint32_t shape = shapes_table_.Intern(RequestShape::Of(job));
  shape_of_[id] = shape;
  if (shape_order_.size() <= shape) shape_order_.resize(shape + 1, nullptr);
  if (!shape_order_[shape] && job.speed_override == kNoOverride) shape_order_[shape] = &ModelOrder(id);
  if (static_) {
    queue_.Insert({order_->Key(id, Ctx(now)), id, shape_of_[id], MinRunTime(id)});
  } else {
    pending_pos_[id] = static_cast<uint32_t>(pending_.size());
    pending_.push_back(id);
  }
}

void Scheduler::Dequeue(JobId id) {
  auto d = demand_count_.find(workload_.jobs[id].GpuMilli());
  SUANLI_CHECK(d != demand_count_.end());
  if (--d->second == 0) demand_count_.erase(d);
  if (static_) {
    // Keys of waiting jobs do not change for static orders, so the key found
    // now is the one it was inserted with.
    SUANLI_CHECK_MSG(queue_.Erase(StaticKey(id), id), "dequeue of a job not in the queue");
  } else {
    uint32_t p = pending_pos_[id];
    SUANLI_CHECK(p < pending_.size() && pending_[p] == id);
    JobId last = pending_.back();
    pending_[p] = last;
    pending_pos_[last] = p;
    pending_.pop_back();
    pending_pos_[id] = UINT32_MAX;
  }
}

const std::vector<ModelId>& Scheduler::ModelOrder(JobId id) {
  const Job& job = workload_.jobs[id];
  static const std::vector<ModelId> kNone;
  if (job.num_gpus == 0) return kNone;
  if (job.speed_override != kNoOverride) {
    thread_local std::vector<ModelId> own;
    own = MakePlacementRequest(job, catalog_, workload_).models;
    return own;
  }
  uint64_t key =
      job.models ^ (uint64_t{job.stacks} * 0x9E3779B97F4A7C15ULL) ^ (uint64_t{static_cast<uint8_t>(job.cls)} << 58);
  auto it = model_order_.find(key);
  if (it == model_order_.end())
    it = model_order_.emplace(key, MakePlacementRequest(job, catalog_, workload_).models).first;
  return it->second;
}

Duration Scheduler::MinRunTime(JobId id) {
  const Job& job = workload_.jobs[id];
  const auto& order = ModelOrder(id);
  double speed = order.empty() ? 1.0 : Speed(job, order.front(), catalog_, workload_);
  return SecondsF(rt_[id].est_remaining / std::max(1e-9, speed));
}

void Scheduler::FillRequest(JobId id) {
  const Job& job = workload_.jobs[id];
  PlacementRequest& req = request_;
  req.job = id;
  req.num_gpus = job.num_gpus;
  req.gpu_milli = job.num_gpus == 1 ? job.gpu_milli : static_cast<uint16_t>(kWholeDevice);
  req.cpu_milli = job.cpu_milli;
  req.mem_mib = job.mem_mib;
  req.models_in_order = opt_.models_in_order;
  req.allow_multi_node = opt_.allow_multi_node;
  // A waiting job's model order is its shape's (jobs with their own per-model
  // times have their own).
  const uint32_t shape = id < shape_of_.size() ? shape_of_[id] : UINT32_MAX;
  if (job.speed_override == kNoOverride && shape < shape_order_.size() && shape_order_[shape] &&
      rt_[id].state == JobState::kPending) {
    // Consecutive requests are often of one shape: its list is copied once.
    const std::vector<ModelId>* order = shape_order_[shape];
    if (request_models_ != order) req.models = *order;
    request_models_ = order;
  } else {
    req.models = ModelOrder(id);
    request_models_ = nullptr;
  }
}

std::optional<Allocation> Scheduler::TryPlace(JobId id, Rng& rng) {
  FillRequest(id);
  return placer_->Place(state_, request_, rng);
}

const Allocation* Scheduler::AllocationOf(JobId id) const {
  auto it = run_.find(id);
  return it == run_.end() ? nullptr : &it->second.alloc;
}

Time Scheduler::ExpectedEnd(JobId id) const {
  auto it = run_.find(id);
  return it == run_.end() ? kNever : it->second.expected_end;
}

void Scheduler::Start(JobId id, Allocation alloc, Time now, PassResult* out) {
  const Job& job = workload_.jobs[id];
  Dequeue(id);
  state_.Allocate(alloc);
  if (quota_) quota_->Add(job.tenant, job.GpuMilli());
  JobRuntime& r = rt_[id];
  r.state = JobState::kRunning;
  r.model = alloc.model;
  r.last_start = now;
  if (r.first_start < 0) r.first_start = now;
  r.speed = alloc.model == kNoModel ? 1.0 : Speed(job, alloc.model, catalog_, workload_);
  if (r.speed <= 0) r.speed = 1.0;
  Time end = now + std::max<Duration>(1, SecondsF(r.est_remaining / r.speed));
  running_pos_[id] = static_cast<uint32_t>(running_.size());
  running_.push_back(id);
  by_end_.insert({end, id});
  Running& run = run_[id];
  run.alloc = alloc;
  run.expected_end = end;
  order_->OnStart(id, Ctx(now));
  out->decisions.push_back({Decision::Kind::kStart, id, std::move(alloc), {}});
}

void Scheduler::StopRunning(JobId id, Time now, bool finished) {
  auto it = run_.find(id);
  SUANLI_CHECK_MSG(it != run_.end(), "stop of a job that is not running");
  state_.Release(it->second.alloc);
  if (quota_) quota_->Sub(workload_.jobs[id].tenant, workload_.jobs[id].GpuMilli());
  by_end_.erase({it->second.expected_end, id});
  uint32_t p = running_pos_[id];
  JobId last = running_.back();
  running_[p] = last;
  running_pos_[last] = p;
  running_.pop_back();
  running_pos_[id] = UINT32_MAX;
  JobRuntime& r = rt_[id];
  double secs = ToSeconds(now - r.last_start);
  double done = secs * r.speed;
  r.remaining = std::max(0.0, r.remaining - done);
  r.est_remaining = std::max(0.0, r.est_remaining - done);
  r.attained += std::max(1.0, workload_.jobs[id].GpuMilli() / 1000.0) * secs;
  order_->OnStop(id, finished, Ctx(now));
  run_.erase(it);
}

void Scheduler::Finish(JobId id, Time now) {
  freed_ = true;
  StopRunning(id, now, true);
  rt_[id].state = JobState::kDone;
  rt_[id].remaining = 0;
}

void Scheduler::ForgetSlot(JobId id) {
  // A slot taken again (the live plane reuses them at once): a reservation
  // or a blocked head of the job it held before is not this job's.
  if (blocked_head_ == id) blocked_head_ = kNoJob;
  if (reservation_ && reservation_->job == id) {
    reservation_.reset();
    reservation_at_ = -1;
    block_room_.generation = UINT64_MAX;
  }
}

std::optional<Allocation> Scheduler::Remove(JobId id, Time now) {
  if (id >= rt_.size()) return std::nullopt;
  JobRuntime& r = rt_[id];
  std::optional<Allocation> held;
  switch (r.state) {
    case JobState::kPending: Dequeue(id); break;
    case JobState::kRunning:
      held = run_[id].alloc;
      StopRunning(id, now, false);
      freed_ = true;
      break;
    case JobState::kUnschedulable:
      // Not reported yet: it never will be.
      unschedulable_.erase(
          std::remove_if(unschedulable_.begin(), unschedulable_.end(), [&](const auto& u) { return u.first == id; }),
          unschedulable_.end());
      break;
    default: return std::nullopt;
  }
  r.state = JobState::kUnknown;
  arrivals_.erase(std::remove(arrivals_.begin(), arrivals_.end(), id), arrivals_.end());
  ForgetSlot(id);
  return held;
}

void Scheduler::Preempt(JobId id, Time now, PassResult* out) {
  Allocation held = run_[id].alloc;
  StopRunning(id, now, false);
  ++rt_[id].preemptions;
  Enqueue(id, now);
  out->decisions.push_back({Decision::Kind::kPreempt, id, std::move(held), {}});
}

std::optional<Reservation> Scheduler::ComputeReservation(JobId id, Time now, Rng& rng) {
  if (auto a = TryPlace(id, rng)) return Reservation{id, now, std::move(*a)};
  // Placement looks only at the nodes of the models the job accepts (any
  // node for a CPU-only job): a job running on another model's nodes need
  // not be taken off the state, it changes nothing the placement sees. Jobs
  // without accelerators may hold CPU and memory on any node.
  ModelMask relevant = ~ModelMask{0};
  if (workload_.jobs[id].num_gpus > 0) {
    relevant = 0;
    for (ModelId m : ModelOrder(id)) relevant |= ModelMask{1} << m;
  }
  // Releasing an allocation adds at most its devices to its slot's free
  // capacity. While even that leaves no room for the placer's capacity test
  // (Place would fail at once), the releases are only counted; they are
  // applied, and the placer asked, once there may be room.
  std::vector<const Allocation*>& released = released_;
  released.clear();
  size_t applied = 0;  // released[0, applied) are released in the state
  extra_whole_.assign(state_.num_slots(), 0);
  extra_milli_.assign(state_.num_slots(), 0);
  std::optional<Reservation> res;
  bool added = true, room = false;  // capacity counted since the last test; its outcome
  FillRequest(id);                  // the same request after each release
  for (const auto& [end, v] : by_end_) {
    const ModelId m = rt_[v].model;  // the model of its allocation
    if (m == kNoModel || (relevant >> m & 1)) {
      const Allocation& held = run_.find(v)->second.alloc;
      released.push_back(&held);
      for (const auto& sh : held.shares) {
        if (!sh.devices || !state_.up(sh.node)) continue;
        const int slot = state_.SlotOf(sh.node);
        const int n = std::popcount(sh.devices);
        extra_whole_[slot] += n;
        extra_milli_[slot] += int64_t{n} * sh.milli;
        added = true;
      }
    }
    // Nothing added since a failed test: it fails again.
    if (!added && !room) continue;
    added = false;
    room = RoomFor(state_, request_, extra_whole_.data(), extra_milli_.data());
    if (!room) continue;
    for (; applied < released.size(); ++applied) state_.Release(*released[applied]);
    std::fill(extra_whole_.begin(), extra_whole_.end(), 0);
    std::fill(extra_milli_.begin(), extra_milli_.end(), 0);
    if (auto a = placer_->Place(state_, request_, rng)) {
      res = Reservation{id, std::max(end, now + 1), std::move(*a)};
      break;
    }
  }
  for (size_t i = 0; i < applied; ++i) state_.Allocate(*released[i]);
  std::fill(extra_whole_.begin(), extra_whole_.end(), 0);
  std::fill(extra_milli_.begin(), extra_milli_.end(), 0);
  return res;
}

std::optional<Reservation> Scheduler::EstimateStart(JobId id, Time now, Rng& rng) {
  if (id >= rt_.size()) return std::nullopt;
  if (rt_[id].state == JobState::kRunning) return Reservation{id, rt_[id].last_start, run_[id].alloc};
  if (rt_[id].state != JobState::kPending) return std::nullopt;
  return ComputeReservation(id, now, rng);
}

namespace {
bool Overlaps(const Allocation& a, const Allocation& b) {
  for (const auto& x : a.shares)
    for (const auto& y : b.shares)
      if (x.node == y.node && (x.devices & y.devices)) return true;
  return false;
}
}  // namespace

Duration Scheduler::RunTimeOn(JobId id, const Allocation& a) const {
  const Job& job = workload_.jobs[id];
  double speed = a.model == kNoModel ? 1.0 : Speed(job, a.model, catalog_, workload_);
  return SecondsF(rt_[id].est_remaining / std::max(1e-9, speed));
}

const Allocation& Scheduler::ReservedBlock(const Reservation& res) {
  Allocation& block = block_;
  block.shares.clear();
  for (const auto& sh : res.alloc.shares)
    for (int d = 0; d < state_.devices(sh.node); ++d)
      if ((sh.devices >> d & 1) && state_.dev_free(sh.node, d) > 0)
        block.shares.push_back({sh.node, 1u << d, state_.dev_free(sh.node, d), 0, 0});
  return block;
}

bool Scheduler::RoomBeside(const Reservation& res) {
  BlockRoom& r = block_room_;
  if (r.generation != state_.generation()) {
    r = BlockRoom{state_.generation(), state_.SlotOfModel(res.alloc.model), 0, 0};
    for (const auto& sh : res.alloc.shares) {
      if (!state_.up(sh.node)) continue;  // not in the slot's free capacity
      for (uint32_t mask = sh.devices; mask; mask &= mask - 1) {
        const uint16_t f = state_.dev_free(sh.node, std::countr_zero(mask));
        r.whole += f == kWholeDeviceMilli;
        r.milli += f;
      }
    }
  }
  if (extra_whole_.size() != static_cast<size_t>(state_.num_slots())) {
    extra_whole_.assign(state_.num_slots(), 0);
    extra_milli_.assign(state_.num_slots(), 0);
  }
  extra_whole_[r.slot] = -r.whole;
  extra_milli_[r.slot] = -r.milli;
  const bool room = RoomFor(state_, request_, extra_whole_.data(), extra_milli_.data());
  extra_whole_[r.slot] = extra_milli_[r.slot] = 0;
  return room;
}

std::optional<Allocation> Scheduler::PlaceBeside(JobId id, const Reservation& res, Rng& rng) {
  FillRequest(id);
  if (!RoomBeside(res)) return std::nullopt;
  const Allocation& block = ReservedBlock(res);
  state_.Allocate(block);
  auto b = placer_->Place(state_, request_, rng);
  state_.Release(block);
  block_room_.generation = state_.generation();  // the same state as before
  return b;
}

std::optional<Allocation> Scheduler::TryPlaceBeside(JobId id, const Reservation* res, Time now, Rng& rng) {
  auto a = TryPlace(id, rng);
  if (!a || !res || now + RunTimeOn(id, *a) <= res->start || !Overlaps(*a, res->alloc)) return a;
  return PlaceBeside(id, *res, rng);
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
  const uint32_t tenant = workload_.jobs[id].tenant;
  const int64_t need = workload_.jobs[id].GpuMilli();
  // Candidates: running jobs of the other tenants that borrow, newest first.
  std::vector<std::pair<Time, JobId>> cand;
  for (JobId v : running_) {
    const Job& vj = workload_.jobs[v];
    if (vj.tenant != tenant && vj.GpuMilli() > 0 && !vj.service && quota_->tenant(vj.tenant).borrowed() > 0)
      cand.emplace_back(rt_[v].last_start, v);
  }
  std::sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) {
    return x.first > y.first || (x.first == y.first && x.second > y.second);
  });
  // A tenant loses jobs only while it still borrows.
  std::unordered_map<uint32_t, int64_t> borrowed;
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
  for (JobId v : stop) Preempt(v, now, out);
  Start(id, std::move(*a), now, out);
  return true;
}

bool Scheduler::PreemptFor(JobId id, Time now, Rng& rng, std::vector<JobId>* victims, PassResult* out) {
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
  std::unordered_map<uint32_t, int64_t> borrowed;  // what each victim's tenant still borrows
  for (JobId v : *victims) {
    if (rt_[v].state != JobState::kRunning) continue;
    if (!(mine < order_->Key(v, ctx))) break;  // victims are sorted worst first
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

bool Scheduler::Backfill(JobId id, Allocation a, const Reservation* res, Time now, Rng& rng, PassResult* out) {
  if (!res || now + RunTimeOn(id, a) <= res->start || !Overlaps(a, res->alloc)) {
    Start(id, std::move(a), now, out);
    return true;
  }
  // Try again with the reserved devices held back.
  if (auto b = PlaceBeside(id, *res, rng)) {
    Start(id, std::move(*b), now, out);
    return true;
  }
  Record(&blocked_failures_, id);
  return false;
}

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

void Scheduler::SetNodeUp(NodeId node, bool up) {
  if (node >= state_.num_nodes() || state_.up(node) == up) return;
  state_.SetUp(node, up);
  freed_ = true;
  reservation_.reset();  // counted on the nodes that were up
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
  std::vector<JobId> victims;
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
            std::sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) {
              return y.first < x.first || (x.first == y.first && x.second > y.second);
            });
            for (auto& k : keyed) victims.push_back(k.second);
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

bool Scheduler::Adopt(JobId id, const Allocation& alloc, Time started, Time now) {
  if (rt_.size() <= id) {
    size_t n = std::max<size_t>(id + 1, rt_.size() * 2);
    rt_.resize(n);
    pending_pos_.resize(n, UINT32_MAX);
    running_pos_.resize(n, UINT32_MAX);
  }
  JobRuntime& r = rt_[id];
  if (r.state == JobState::kPending || r.state == JobState::kRunning) return false;
  if (!state_.CanAllocate(alloc)) return false;
  ForgetSlot(id);
  for (const auto& sh : alloc.shares)
    if (sh.devices && state_.SlotOf(sh.node) != state_.SlotOfModel(alloc.model)) return false;
  const Job& job = workload_.jobs[id];
  r = JobRuntime{};
  r.remaining = job.work;
  r.est_remaining = job.estimate > 0 ? job.estimate : job.work;
  r.queued_since = started;
  if (quota_) quota_->Ensure(job.tenant, workload_.tenants);
  order_->OnSubmit(id, Ctx(started));
  state_.Allocate(alloc);
  if (quota_) quota_->Add(job.tenant, job.GpuMilli());
  r.state = JobState::kRunning;
  r.model = alloc.model;
  r.last_start = started;
  r.first_start = started;
  r.speed = alloc.model == kNoModel ? 1.0 : Speed(job, alloc.model, catalog_, workload_);
  if (r.speed <= 0) r.speed = 1.0;
  Time end = std::max(now + 1, started + std::max<Duration>(1, SecondsF(r.est_remaining / r.speed)));
  running_pos_[id] = static_cast<uint32_t>(running_.size());
  running_.push_back(id);
  by_end_.insert({end, id});
  Running& run = run_[id];
  run.alloc = alloc;
  run.expected_end = end;
  order_->OnStart(id, Ctx(started));
  freed_ = true;  // the next pass looks at the whole queue
  return true;
}

}  // namespace suanli
