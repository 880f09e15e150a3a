#include "core/policy/order/orders.h"

#include <algorithm>
#include <queue>

namespace suanli {

double OrderContext::Attained(JobId id) const {
  const JobRuntime& r = rt(id);
  double a = r.attained;
  if (r.state == JobState::kRunning) {
    double gpus = std::max(1.0, job(id).GpuMilli() / 1000.0);
    a += gpus * ToSeconds(now - r.last_start);
  }
  return a;
}

double OrderContext::Remaining(JobId id) const {
  const JobRuntime& r = rt(id);
  if (r.state != JobState::kRunning) return r.remaining;
  return std::max(0.0, r.remaining - ToSeconds(now - r.last_start) * r.speed);
}

void OrderPolicy::Sort(std::vector<JobId>* jobs, const OrderContext& ctx) const {
  std::vector<std::pair<OrderKey, JobId>> keyed;
  keyed.reserve(jobs->size());
  for (JobId j : *jobs) keyed.emplace_back(Key(j, ctx), j);
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t i = 0; i < keyed.size(); ++i) (*jobs)[i] = keyed[i].second;
}

OrderKey FifoOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  return {static_cast<double>(ctx.job(id).submit), 0};
}

OrderKey SjfOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  return {ctx.job(id).work, static_cast<double>(ctx.job(id).submit)};
}

OrderKey SrtfOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  return {ctx.Remaining(id), static_cast<double>(ctx.job(id).submit)};
}

int LasOrder::QueueOf(double attained) const {
  int q = 0;
  while (q < static_cast<int>(thresholds.size()) && attained >= thresholds[q]) ++q;
  return q;
}

OrderKey LasOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  const JobRuntime& r = ctx.rt(id);
  double attained = ctx.Attained(id);
  int q = QueueOf(attained);
  if (r.state == JobState::kPending && q > 0 && r.last_start >= 0) {
    // Starvation guard: promote a job that has waited much longer than it last ran.
    double waited = ToSeconds(ctx.now - r.queued_since);
    double gpus = std::max(1.0, ctx.job(id).GpuMilli() / 1000.0);
    double ran = r.attained / gpus;
    if (waited >= starve_factor * std::max(ran, thresholds.front() / gpus)) q = 0;
  }
  return {static_cast<double>(q), static_cast<double>(ctx.job(id).submit)};
}

Time LasOrder::NextKeyChange(JobId id, const OrderContext& ctx) const {
  const JobRuntime& r = ctx.rt(id);
  if (r.state != JobState::kRunning) return kNever;
  double attained = ctx.Attained(id);
  int q = QueueOf(attained);
  if (q >= static_cast<int>(thresholds.size())) return kNever;
  double gpus = std::max(1.0, ctx.job(id).GpuMilli() / 1000.0);
  double secs = (thresholds[q] - attained) / gpus;
  return ctx.now + std::max<Time>(1, static_cast<Time>(std::ceil(secs * 1e6)));
}

double QssfOrder::History::Mean() const {
  if (last.empty()) return 0;
  double s = 0;
  for (double v : last) s += v;
  return s / static_cast<double>(last.size());
}

OrderKey QssfOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  double gpus = std::max(1.0, ctx.job(id).GpuMilli() / 1000.0);
  return {Predicted(id) * gpus, static_cast<double>(ctx.job(id).submit)};
}

void QssfOrder::OnSubmit(JobId id, const OrderContext& ctx) {
  if (!predicted_.contains(id)) predicted_.resize(id.value() + 1, 0);
  const Job& j = ctx.job(id);
  double p = 0;
  auto it = by_user_gpus_.find((uint64_t{j.user} << 32) | j.num_gpus);
  if (it != by_user_gpus_.end() && !it->second.last.empty()) {
    p = it->second.Mean();
  } else if (auto u = by_user_.find(j.user); u != by_user_.end() && !u->second.last.empty()) {
    p = u->second.Mean();
  } else if (global_n_ > 0) {
    p = global_sum_ / static_cast<double>(global_n_);
  } else {
    p = 3600;
  }
  predicted_[id] = p;
}

void QssfOrder::OnStop(JobId id, bool finished, const OrderContext& ctx) {
  if (!finished) return;
  const Job& j = ctx.job(id);
  double run = j.work;  // reference seconds actually needed
  auto push = [&](History& h) {
    h.last.push_back(run);
    if (h.last.size() > kWindow) h.last.pop_front();
  };
  push(by_user_gpus_[(uint64_t{j.user} << 32) | j.num_gpus]);
  push(by_user_[j.user]);
  global_sum_ += run;
  ++global_n_;
}

void DrfOrder::Capacity(const OrderContext& ctx) const {
  if (capacity_[1] > 0) return;
  for (const auto& n : ctx.network->nodes) {
    capacity_[0] += n.devices * 1000.0;
    capacity_[1] += static_cast<double>(n.cpu_milli);
    capacity_[2] += static_cast<double>(n.mem_mib);
  }
  for (auto& c : capacity_) c = std::max(c, 1.0);
}

double DrfOrder::DominantShare(TenantId tenant, const OrderContext& ctx) const {
  Capacity(ctx);
  if (!usage_.contains(tenant)) return 0;
  const Usage& u = usage_[tenant];
  return std::max({u.gpu / capacity_[0], u.cpu / capacity_[1], u.mem / capacity_[2]});
}

OrderKey DrfOrder::OwnKey(JobId id, const OrderContext& ctx) const {
  return {DominantShare(ctx.job(id).tenant, ctx), static_cast<double>(ctx.job(id).submit)};
}

void DrfOrder::Sort(std::vector<JobId>* jobs, const OrderContext& ctx) const {
  // Higher priority tiers first (stable: submission order kept), then DRF
  // within each tier.
  std::stable_sort(jobs->begin(), jobs->end(),
                   [&](JobId a, JobId b) { return ctx.job(a).priority > ctx.job(b).priority; });
  for (size_t i = 0; i < jobs->size();) {
    size_t k = i + 1;
    while (k < jobs->size() && ctx.job((*jobs)[k]).priority == ctx.job((*jobs)[i]).priority) ++k;
    SortTier(jobs->data() + i, jobs->data() + k, ctx);
    i = k;
  }
}

void DrfOrder::SortTier(JobId* begin, JobId* end, const OrderContext& ctx) const {
  Capacity(ctx);
  // Per tenant, its jobs in submission order.
  std::unordered_map<TenantId, std::vector<JobId>> per;
  std::vector<TenantId> tenants;
  for (JobId* p = begin; p != end; ++p) {
    JobId j = *p;
    TenantId t = ctx.job(j).tenant;
    auto& v = per[t];
    if (v.empty()) tenants.push_back(t);
    v.push_back(j);
  }
  for (auto& [t, v] : per)
    std::sort(v.begin(), v.end(), [&](JobId a, JobId b) {
      return ctx.job(a).submit < ctx.job(b).submit || (ctx.job(a).submit == ctx.job(b).submit && a < b);
    });
  using Entry = std::tuple<double, TenantId, size_t>;  // share, tenant, next index
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  std::unordered_map<TenantId, Usage> virt;
  for (TenantId t : tenants) {
    virt[t] = usage_.contains(t) ? usage_[t] : Usage{};
    heap.emplace(DominantShare(t, ctx), t, 0);
  }
  JobId* out = begin;
  while (!heap.empty()) {
    auto [share, t, idx] = heap.top();
    heap.pop();
    const auto& v = per[t];
    JobId j = v[idx];
    *out++ = j;
    if (idx + 1 < v.size()) {
      Usage& u = virt[t];
      const Job& job = ctx.job(j);
      u.gpu += static_cast<double>(job.GpuMilli());
      u.cpu += static_cast<double>(job.cpu_milli);
      u.mem += static_cast<double>(job.mem_mib);
      double s = std::max({u.gpu / capacity_[0], u.cpu / capacity_[1], u.mem / capacity_[2]});
      heap.emplace(s, t, idx + 1);
    }
  }
}

void DrfOrder::OnStart(JobId id, const OrderContext& ctx) {
  const Job& j = ctx.job(id);
  if (!usage_.contains(j.tenant)) usage_.resize(j.tenant.value() + 1);
  usage_[j.tenant].gpu += static_cast<double>(j.GpuMilli());
  usage_[j.tenant].cpu += static_cast<double>(j.cpu_milli);
  usage_[j.tenant].mem += static_cast<double>(j.mem_mib);
}

void DrfOrder::OnStop(JobId id, bool finished, const OrderContext& ctx) {
  (void)finished;
  const Job& j = ctx.job(id);
  if (!usage_.contains(j.tenant)) return;
  Usage& u = usage_[j.tenant];
  u.gpu = std::max(0.0, u.gpu - static_cast<double>(j.GpuMilli()));
  u.cpu = std::max(0.0, u.cpu - static_cast<double>(j.cpu_milli));
  u.mem = std::max(0.0, u.mem - static_cast<double>(j.mem_mib));
}

namespace {
template <typename T>
std::unique_ptr<OrderPolicy> Make() {
  return std::make_unique<T>();
}
}  // namespace

const std::vector<OrderInfo>& OrderPolicies() {
  static const std::vector<OrderInfo> kOrders = {
      {"fifo", "first come, first served", &Make<FifoOrder>},
      {"sjf", "shortest job first (oracle run time)", &Make<SjfOrder>},
      {"srtf", "shortest remaining time first (preemptive)", &Make<SrtfOrder>},
      {"las", "Tiresias discretised 2D least-attained-service (preemptive)", &Make<LasOrder>},
      {"qssf", "Helios-like quasi-shortest-service-first from user history", &Make<QssfOrder>},
      {"drf", "dominant resource fairness across tenants", &Make<DrfOrder>},
  };
  return kOrders;
}

std::unique_ptr<OrderPolicy> MakeOrderPolicy(std::string_view name) {
  for (const auto& o : OrderPolicies())
    if (o.name == name) return o.make();
  return nullptr;
}

}  // namespace suanli
