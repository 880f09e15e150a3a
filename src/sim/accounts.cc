#include "sim/accounts.h"

#include <algorithm>

#include "core/model/energy.h"

namespace suanli {

Ledger::Ledger(const Network& net) : net_(net) {
  cpu_.assign(net.nodes.size(), 0);
  mem_.assign(net.nodes.size(), 0);
  off_.resize(net.nodes.size() + 1);
  uint32_t o = 0;
  for (NodeId i : net.nodes.ids()) {
    off_[i.value()] = o;
    o += net.nodes[i].devices;
  }
  off_.back() = o;
  dev_.assign(o, 0);
}

Status Ledger::Apply(const Job& job, const Allocation& a, const IdVector<NodeId, NodeId>& global, ModelMask eligible,
                     int sign) {
  if (sign > 0) {
    // Gang: all devices at once, of one accepted model.
    int64_t milli = a.GpuMilli();
    if (milli != job.GpuMilli())
      return Internal("job {}: allocation holds {} milli-devices, the job asks {}", job.id, milli, job.GpuMilli());
    if (job.num_gpus > 0 && !(eligible >> a.model & 1))
      return Internal("job {}: placed on a model it does not accept", job.id);
  }
  for (const auto& sh : a.shares) {
    if (!global.contains(sh.node)) return Internal("job {}: node {} out of range", job.id, sh.node);
    const NodeId node = global[sh.node];
    const Node& n = net_.nodes[node];
    if (sign > 0 && sh.devices && n.model != a.model)
      return Internal("job {}: node {} is not of the allocation's model", job.id, n.name);
    cpu_[node] += sign * sh.cpu_milli;
    mem_[node] += sign * sh.mem_mib;
    if (cpu_[node] > n.cpu_milli || mem_[node] > n.mem_mib || cpu_[node] < 0 || mem_[node] < 0)
      return Internal("node {} CPU or memory over-allocated by job {}", n.name, job.id);
    for (int d = 0; d < n.devices; ++d) {
      if (!(sh.devices >> d & 1)) continue;
      int32_t& u = dev_[off_[node.value()] + d];
      u += sign * sh.milli;
      if (u > 1000 || u < 0) return Internal("device {} of node {} over-allocated by job {}", d, n.name, job.id);
    }
    if (n.devices < 32 && (sh.devices >> n.devices))
      return Internal("job {}: device index beyond node {}", job.id, n.name);
  }
  return Status::Ok();
}

Accounts::Accounts(const Workload& workload, const Network& network, const Catalog& catalog, const SimOptions& options,
                   const NetworkScheduler& net, SimResult* res)
    : workload_(workload),
      network_(network),
      catalog_(catalog),
      opt_(options),
      net_(net),
      res_(res),
      ledger_(network),
      nc_(network.centers.size()),
      nm_(catalog.size() + 1),
      t0_(workload.jobs.empty() ? 0 : workload.jobs.front().submit) {
  const size_t n = workload.jobs.size();
  capacity_.assign(nc_ * nm_, 0);
  for (const auto& node : network.nodes)
    if (node.devices > 0) capacity_[SlotOf(node.center, node.model)] += node.devices;
  total_capacity_ = static_cast<double>(network.TotalDevices());
  step_ = options.util_interval;
  if (step_ <= 0) {
    Time span = n ? workload.jobs.back().submit - t0_ : 0;
    step_ = std::clamp<Duration>(span / 400, kMinute, kDay);
    step_ = (step_ / kMinute) * kMinute;
  }
  busy_.assign(nc_ * nm_, 0);
  win_.assign(nc_ * nm_, 0);
  integral_.assign(nc_ * nm_, 0);
  running_in_.assign(nc_, 0);
  busy_hours_.resize(nc_ * nm_);
  last_t_ = window_ = t0_;
}

void Accounts::Accrue(Time until) {
  double dt = static_cast<double>(until - last_t_);
  if (dt <= 0) return;
  for (size_t s = 0; s < busy_.size(); ++s)
    if (busy_[s] > 0) {
      win_[s] += busy_[s] * dt;
      integral_[s] += busy_[s] * dt;
    }
  win_total_ += busy_total_ * dt;
  integral_total_ += busy_total_ * dt;
  last_t_ = until;
}

void Accounts::Advance(Time t) {
  while (t >= window_ + step_) {
    Accrue(window_ + step_);
    UtilSample u;
    u.t = window_;
    u.busy_devices = win_total_ / 1000.0 / static_cast<double>(step_);
    u.utilization = total_capacity_ > 0 ? u.busy_devices / total_capacity_ : 0;
    u.pending = static_cast<uint32_t>(net_.num_pending());
    u.running = static_cast<uint32_t>(running_);
    res_->util.push_back(u);
    if (nc_ > 1) {
      for (CenterId c : Ids<CenterId>(nc_))
        for (size_t m = 0; m < nm_; ++m) {
          size_t s = c.value() * nm_ + m;
          if (capacity_[s] <= 0) continue;
          PoolSample p;
          p.t = window_;
          p.center = c;
          p.model = m == nm_ - 1 ? kNoModel : static_cast<ModelId>(m);
          p.busy_devices = win_[s] / 1000.0 / static_cast<double>(step_);
          p.capacity = capacity_[s];
          p.pending = static_cast<uint32_t>(net_.num_pending(c));
          p.running = running_in_[c];
          res_->pools.push_back(p);
        }
    }
    std::fill(win_.begin(), win_.end(), 0.0);
    win_total_ = 0;
    window_ += step_;
  }
  Accrue(t);
}

void Accounts::Meter(JobId id, CenterId c, ModelId m, double devices, Time a, Time b) {
  if (b <= a) return;
  const Job& j = net_.workload().jobs[id];
  double secs = ToSeconds(b - a);
  allocated_dev_s_ += devices * secs;
  uint64_t key = (uint64_t{j.tenant.value()} << 32) | (uint64_t{c.value()} << 8) | (m == kNoModel ? 255u : m);
  UsageRow& u = usage_[key];
  u.tenant = j.tenant;
  u.center = c;
  u.model = m;
  u.accelerator_s += devices * secs;
  if (m != kNoModel) {
    const AcceleratorModel& am = catalog_.model(m);
    u.reference_s += devices * secs * Speed(workload_.jobs[id], m, catalog_, workload_);
    u.pflop_days += devices * secs / 86400.0 * am.tflops16 / 1000.0;
    u.energy += BusyEnergy(network_.centers[c], am, devices, a, b, opt_.start_hour);
    auto& hours = busy_hours_[SlotOf(c, m)];
    for (Time t = a; t < b;) {
      size_t h = static_cast<size_t>((t - t0_) / kHour);
      Time end = std::min(b, t0_ + static_cast<Time>(h + 1) * kHour);
      if (hours.size() <= h) hours.resize(h + 1, 0.0);
      hours[h] += devices * ToSeconds(end - t);
      t = end;
    }
  }
}

Status Accounts::Started(JobId id, CenterId c, const Allocation& local, ModelMask eligible) {
  const Job& j = net_.workload().jobs[id];
  SUANLI_RETURN_IF_ERROR(ledger_.Apply(j, local, net_.CenterNodes(c), eligible, +1));
  busy_[SlotOf(c, local.model)] += static_cast<double>(local.GpuMilli());
  busy_total_ += static_cast<double>(local.GpuMilli());
  ++running_;
  ++running_in_[c];
  return Status::Ok();
}

Status Accounts::Ended(JobId id, const RunEnd& e, Time t) {
  const CenterId c = e.center;
  SUANLI_RETURN_IF_ERROR(ledger_.Apply(net_.workload().jobs[id], e.alloc, net_.CenterNodes(c), ~ModelMask{0}, -1));
  busy_[SlotOf(c, e.alloc.model)] -= static_cast<double>(e.alloc.GpuMilli());
  busy_total_ -= static_cast<double>(e.alloc.GpuMilli());
  --running_;
  --running_in_[c];
  Meter(id, c, e.alloc.model, e.devices, e.start, t);
  lost_dev_s_ += e.lost_dev_s;
  res_->jobs[id].lost_work_s += static_cast<float>(e.lost_dev_s);
  return Status::Ok();
}

void Accounts::Finish(SimSummary* s) {
  SimResult& res = *res_;
  s->lost_work_s = lost_dev_s_;
  s->goodput = allocated_dev_s_ > 0 ? (allocated_dev_s_ - lost_dev_s_) / allocated_dev_s_ : 1.0;
  if (total_capacity_ > 0 && s->makespan_s > 0)
    s->utilization = integral_total_ / 1000.0 / 1e6 / (total_capacity_ * s->makespan_s);

  // At most ~500 time steps per pool in the output: long runs merge steps.
  if (size_t steps = res.util.size(); !res.pools.empty() && steps > 500) {
    const size_t per = res.pools.size() / steps;  // pools sampled per step
    const size_t g = (steps + 499) / 500;
    std::vector<PoolSample> merged;
    merged.reserve((steps + g - 1) / g * per);
    for (size_t first = 0; first < steps; first += g) {
      const size_t last = std::min(steps, first + g);
      for (size_t k = 0; k < per; ++k) {
        PoolSample p = res.pools[last * per - per + k];  // pending, running: at the end
        p.t = res.pools[first * per + k].t;
        double sum = 0;
        for (size_t i = first; i < last; ++i) sum += res.pools[i * per + k].busy_devices;
        p.busy_devices = sum / static_cast<double>(last - first);
        merged.push_back(p);
      }
    }
    res.pools = std::move(merged);
  }
  res.usage.reserve(usage_.size());
  for (auto& [k, u] : usage_) res.usage.push_back(u);
  std::sort(res.usage.begin(), res.usage.end(), [](const UsageRow& a, const UsageRow& b) {
    return std::tie(a.tenant, a.center, a.model) < std::tie(b.tenant, b.center, b.model);
  });
  // Per center.
  res.centers.resize(nc_);
  for (CenterId c : res.centers.ids()) {
    CenterSummary& x = res.centers[c];
    const Center& cc = network_.centers[c];
    x.name = cc.name;
    x.edge = cc.edge;
    x.lat = cc.latitude;
    x.lon = cc.longitude;
    double cap = 0, integ = 0;
    for (size_t m = 0; m < nm_; ++m) {
      cap += capacity_[c.value() * nm_ + m];
      integ += integral_[c.value() * nm_ + m];
    }
    x.accelerators = static_cast<int64_t>(cap);
    if (cap > 0 && s->makespan_s > 0) x.utilization = integ / 1000.0 / 1e6 / (cap * s->makespan_s);
  }
  res.busy.t0 = t0_;
  res.busy.models = nm_;
  res.busy.capacity = capacity_;
  res.busy.hours = std::move(busy_hours_);
}

}  // namespace suanli
