// The center scheduler (scheduler.h): policy names, set-up, why a job can
// never run, and a job's life in it (submit, queue, place, start, stop,
// finish, remove, preempt, adopt; nodes up and down). Its other parts:
// scheduler_backfill.cc (reservations and backfill beside them),
// scheduler_preempt.cc (quotas: admission and reclaim; preemption) and
// scheduler_pass.cc (the scheduling pass).
#include "core/scheduler/scheduler.h"

#include <algorithm>
#include <cmath>

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
                                                     const SchedulerOptions& options) {
  auto order = MakeOrderPolicy(spec.order);
  if (!order) return InvalidArgument("unknown queue order '{}'", spec.order);
  auto placer = MakePlacer(spec.place);
  if (!placer) return InvalidArgument("unknown placement policy '{}'", spec.place);
  if (order->preemptive() && spec.backfill == BackfillMode::kEasy)
    return InvalidArgument("policy '{}': EASY backfill needs a non-preemptive order", spec.text);
  std::unique_ptr<Scheduler> s(
      new Scheduler(spec, catalog, network, workload, options, std::move(order), std::move(placer)));
  SUANLI_RETURN_IF_ERROR(s->SetQuotas(options.quotas));
  return s;
}

Status Scheduler::SetQuotas(std::shared_ptr<const QuotaSpec> quotas) {
  if (!quotas || quotas->empty()) {
    quota_.reset();
  } else {
    // Every tenant of the workload is a member of the cohort if it has a quota
    // (listed, or the default); tenants without a name get the default.
    size_t num_tenants = workload_.tenants.size();
    for (const Job& j : workload_.jobs) num_tenants = std::max<size_t>(num_tenants, size_t{j.tenant.value()} + 1);
    auto q = QuotaUsage::Resolve(*quotas, workload_.tenants, num_tenants, state_.total_capacity_milli());
    if (!q.ok()) return q.status();
    quota_ = std::move(q).value();
    for (JobId id : running_) {
      const Job& job = workload_.jobs[id];
      quota_->Ensure(job.tenant, workload_.tenants);
      quota_->Add(job.tenant, job.GpuMilli());
    }
  }
  opt_.quotas = std::move(quotas);
  freed_ = true;  // what may start has changed: a full pass
  return Status::Ok();
}

Scheduler::Scheduler(const PolicySpec& spec, const Catalog& catalog, const Network& network, const Workload& workload,
                     SchedulerOptions options, std::unique_ptr<OrderPolicy> order, std::unique_ptr<Placer> placer)
    : spec_(spec),
      catalog_(catalog),
      network_(network),
      workload_(workload),
      opt_(std::move(options)),
      order_(std::move(order)),
      placer_(std::move(placer)),
      state_(network, catalog.size()),
      static_(!order_->dynamic()) {
  shapes_.resize(state_.num_slots());
  for (NodeId n : network.nodes.ids()) {
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
  if (job.Spread()) return WhyNeverSpread(job, mask);
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
    if (!shared && need > 1 && opt_.allow_multi_node && job.nodes == 0) {
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
  if (job.nodes == 1 && !shared && need > largest && largest > 0) {
    // Kept to one node (a live job's nodes: 1): say how it could spread.
    int k = (need + largest - 1) / largest;
    while (need % k != 0) ++k;
    return fmt::format(
        "needs {} x {} on one node, but the eligible nodes have at most {} each; spread it over {} "
        "nodes (nodes: {})",
        need, catalog_.MaskToString(mask), largest, k, k);
  }
  return fmt::format(
      "needs {} x {} ({} mCPU, {} MiB) but the eligible nodes have {} devices in all, at most {} per node",
      shared ? std::string("a share of 1") : std::to_string(job.num_gpus), catalog_.MaskToString(mask), job.cpu_milli,
      job.mem_mib, eligible_devices, largest);
}

std::string Scheduler::WhyNeverSpread(const Job& job, ModelMask mask) const {
  if (job.IsShared() || job.num_gpus % job.nodes != 0)
    return fmt::format("{} devices cannot be spread evenly over {} nodes", job.num_gpus, job.nodes);
  PlacementRequest r;
  r.num_gpus = job.num_gpus;
  r.cpu_milli = job.cpu_milli;
  r.mem_mib = job.mem_mib;
  const int per = static_cast<int>(job.num_gpus / job.nodes);
  const int64_t cpu = CpuForDevices(r, per), mem = MemForDevices(r, per);
  int64_t most = 0;
  for (size_t m = 0; m < catalog_.size(); ++m) {
    if (!(mask >> m & 1)) continue;
    int64_t count = 0;
    for (const auto& s : shapes_[m])
      if (s.devices >= per && s.cpu >= cpu && s.mem >= mem) count += s.count;
    if (count >= job.nodes) return "";
    most = std::max(most, count);
  }
  return fmt::format(
      "needs {} nodes with {} x {} ({} mCPU, {} MiB) each, but at most {} nodes of a model it accepts have "
      "that much",
      job.nodes, per, catalog_.MaskToString(mask), cpu, mem, most);
}

void Scheduler::Submit(JobId id, Time now) { Submit(id, now, workload_.jobs[id].work); }

void Scheduler::Submit(JobId id, Time now, double remaining_work) {
  JobProgress p;
  p.remaining = remaining_work;
  Submit(id, now, p);
}

JobProgress Scheduler::Progress(JobId id) const {
  JobProgress p;
  if (!rt_.contains(id)) {
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
  if (!rt_.contains(id)) {
    size_t n = std::max<size_t>(id.value() + 1, rt_.size() * 2);
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
  if (!shape_of_.contains(id)) shape_of_.resize(std::max<size_t>(id.value() + 1, rt_.size()));
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
  req.observe = !trial_;
  req.num_gpus = job.num_gpus;
  req.gpu_milli = job.num_gpus == 1 ? job.gpu_milli : static_cast<uint16_t>(kWholeDevice);
  req.cpu_milli = job.cpu_milli;
  req.mem_mib = job.mem_mib;
  req.models_in_order = opt_.models_in_order;
  req.allow_multi_node = opt_.allow_multi_node && job.nodes == 0;
  req.nodes = job.nodes;
  // A waiting job's model order is its shape's (jobs with their own per-model
  // times have their own).
  const uint32_t shape = shape_of_.contains(id) ? shape_of_[id] : UINT32_MAX;
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
  return PlaceRequest(rng);
}

std::optional<Allocation> Scheduler::PlaceRequest(Rng& rng) {
  if (request_.nodes > 1) return PlaceSpread(state_, request_);
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
  if (!rt_.contains(id)) return std::nullopt;
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

void Scheduler::Preempt(JobId id, JobId by, Time now, PassResult* out) {
  Allocation held = run_[id].alloc;
  StopRunning(id, now, false);
  ++rt_[id].preemptions;
  Enqueue(id, now);
  out->decisions.push_back({Decision::Kind::kPreempt, id, std::move(held), {}, by});
}

void Scheduler::SetNodeUp(NodeId node, bool up) {
  if (!state_.has_node(node) || state_.up(node) == up) return;
  state_.SetUp(node, up);
  freed_ = true;
  reservation_.reset();  // counted on the nodes that were up
}

bool Scheduler::Adopt(JobId id, const Allocation& alloc, Time started, Time now, Time expected_end) {
  if (!rt_.contains(id)) {
    size_t n = std::max<size_t>(id.value() + 1, rt_.size() * 2);
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
  Time end =
      std::max(now + 1, expected_end != kNever ? expected_end
                                               : started + std::max<Duration>(1, SecondsF(r.est_remaining / r.speed)));
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

const Allocation* Scheduler::Relocate(JobId id, const std::vector<NodeId>& nodes) {
  auto it = run_.find(id);
  if (it == run_.end() || !rt_.contains(id) || rt_[id].state != JobState::kRunning) return nullptr;
  Allocation& now = it->second.alloc;
  if (nodes.size() != now.shares.size()) return nullptr;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!state_.has_node(nodes[i])) return nullptr;
    for (size_t j = 0; j < i; ++j)
      if (nodes[j] == nodes[i]) return nullptr;
  }
  state_.Release(now);
  Allocation to;
  to.model = now.model;
  bool fits = true;
  for (size_t i = 0; i < nodes.size() && fits; ++i) {
    const NodeShare& was = now.shares[i];
    NodeShare sh = was;
    sh.node = nodes[i];
    sh.devices = 0;
    int want = was.NumDevices();
    if (want > 0 && state_.SlotOf(sh.node) != state_.SlotOfModel(now.model)) fits = false;
    for (int d = 0; fits && want > 0 && d < state_.devices(sh.node); ++d) {
      if (state_.dev_free(sh.node, d) < was.milli) continue;
      sh.devices |= 1u << d;
      --want;
    }
    fits = fits && want == 0;
    to.shares.push_back(sh);
  }
  if (!fits || !state_.CanAllocate(to)) {
    state_.Allocate(now);
    return nullptr;
  }
  state_.Allocate(to);
  now = std::move(to);
  freed_ = true;  // its old nodes are free: the next pass looks at the whole queue
  return &now;
}

}  // namespace suanli
