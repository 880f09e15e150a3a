// Synthetic workload generator; see generator.h and docs/generator.md. Its
// source files are listed in generator_internal.h.
#include "sim/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "base/strings.h"
#include "sim/generator_internal.h"

namespace suanli {

using generator_detail::AddWeight;
using generator_detail::MemoryFloor;
using generator_detail::PaddedName;

// ===========================================================================
// Generator
// ===========================================================================

namespace {
enum Profile { kMixed = 0, kPhilly = 1, kOpenb = 2, kChinaAicc = 3 };
}  // namespace

const std::vector<GenProfileInfo>& GeneratorProfiles() {
  static const std::vector<GenProfileInfo> kProfiles = {
      {"mixed",
       "Philly GPU counts and classes (Gavel), openb GPU sharing and host demand, memory-floor and "
       "software-stack constraints (default)"},
      {"philly", "Philly GPU counts and classes (Gavel) with openb host demand; no sharing, no constraints"},
      {"openb", "openb pods as they are (CPU-only, shared, 1-8 GPUs) with Philly run times and constraints"},
      {"china-aicc",
       "a network of centers: 8 tenants with home centers and stacks, datasets, deferrable jobs, "
       "large-model jobs and inference services over --days (default 30)"},
  };
  return kProfiles;
}

uint64_t WorkloadGenerator::Table::Pick(Rng& rng) const {
  uint64_t x = rng.Below(cum.back());
  return static_cast<uint64_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
}

namespace {

// Index of the openb whole-GPU table used for a job of `gpus` devices: 1, 2, 4, 8.
int WholeBucket(uint32_t gpus) { return gpus >= 8 ? 3 : gpus >= 4 ? 2 : gpus >= 2 ? 1 : 0; }

}  // namespace

namespace generator_detail {

ModelMask MemoryFloor(const Catalog& catalog, ModelMask pool, double min_gb) {
  ModelMask out = 0, best = 0;
  double best_gb = -1;
  for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m) {
    if (!(pool >> m & 1)) continue;
    double gb = catalog.model(static_cast<ModelId>(m)).memory_gb;
    if (gb >= min_gb) out |= ModelMask{1} << m;
    if (gb > best_gb) {
      best_gb = gb;
      best = 0;
    }
    if (gb == best_gb) best |= ModelMask{1} << m;
  }
  return out ? out : best;
}

std::string PaddedName(const char* prefix, uint32_t i, uint32_t count) {
  int width = std::max<int>(2, static_cast<int>(std::to_string(count ? count - 1 : 0).size()));
  return fmt::format("{}{:0{}}", prefix, i, width);
}

}  // namespace generator_detail

Result<WorkloadGenerator> WorkloadGenerator::Create(const GenOptions& opts, const Catalog& catalog) {
  WorkloadGenerator g;
  g.opts_ = opts;
  const auto& profiles = GeneratorProfiles();
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const auto& p) { return p.name == opts.profile; });
  if (it == profiles.end()) {
    std::vector<std::string> names;
    for (const auto& p : profiles) names.push_back(p.name);
    return InvalidArgument("--profile: unknown profile '{}'; known: {}", opts.profile, Join(names, ", "));
  }
  g.profile_ = static_cast<int>(it - profiles.begin());
  if ((opts.jobs < 1 && g.profile_ != kChinaAicc) || opts.jobs >= kNoJob.value())
    return InvalidArgument("--jobs: expected 1 to {}, got {}", kNoJob.value() - 1, opts.jobs);
  if (!(opts.load > 0) || !std::isfinite(opts.load) || opts.load > 1e6)
    return InvalidArgument("--load: expected a number > 0, got {}", opts.load);
  if (opts.gpus < 1 || opts.gpus > 1'000'000'000)
    return InvalidArgument("--gpus: expected 1 to 1000000000, got {}", opts.gpus);
  if (opts.tenants > 1'000'000) return InvalidArgument("--tenants: expected at most 1000000, got {}", opts.tenants);
  if (g.opts_.name.empty()) g.opts_.name = fmt::format("gen-{}-{}", opts.profile, opts.seed);

  const GeneratorFit& fit = BuiltinFit();
  g.assume_ = BuiltinAssumptions();

  // Sizes and classes (Gavel / Philly).
  g.sizes_ = fit.philly_sizes;
  for (const auto& s : g.sizes_) {
    AddWeight(&g.size_table_.cum, s.jobs);
    g.class_weights_[static_cast<int>(s.cls)] += s.jobs;
  }
  for (uint64_t w : g.class_weights_) AddWeight(&g.class_table_.cum, w);

  // Host demand (openb).
  g.host_ = fit.openb_pods;
  g.host_whole_gpus_ = {1, 2, 4, 8};
  for (size_t i = 0; i < g.host_.size(); ++i) {
    const auto& h = g.host_[i];
    AddWeight(&g.host_all_.cum, h.pods);
    if (h.gpus == 0) {
      g.host_cpu_only_idx_.push_back(i);
      AddWeight(&g.host_cpu_only_.cum, h.pods);
      g.openb_cpu_only_ += h.pods;
      continue;
    }
    g.openb_gpu_ += h.pods;
    if (h.gpus == 1) g.one_gpu_ += h.pods;
    if (h.gpu_milli < kWholeDevice) {
      g.host_shared_idx_.push_back(i);
      AddWeight(&g.host_shared_.cum, h.pods);
      g.shared_ += h.pods;
      continue;
    }
    for (int b = 0; b < 4; ++b) {
      if (h.gpus == g.host_whole_gpus_[b]) {
        g.host_whole_idx_[b].push_back(i);
        AddWeight(&g.host_whole_[b].cum, h.pods);
      }
    }
  }
  for (int b = 0; b < 4; ++b)
    if (g.host_whole_idx_[b].empty())
      return Internal("generator fit: no openb pods with {} GPUs", g.host_whole_gpus_[b]);
  if (g.sizes_.empty() || g.host_shared_idx_.empty() || g.host_cpu_only_idx_.empty())
    return Internal("generator fit: empty size tables");

  // Durations.
  for (const auto& [p, v] : fit.duration_quantiles) {
    g.q_p_.push_back(p);
    g.q_log_.push_back(std::log(std::max(v, 1.0)));
  }
  if (g.q_p_.size() < 2 || g.q_p_.front() != 0 || g.q_p_.back() != 1)
    return Internal("generator fit: duration quantiles must run from p = 0 to p = 1");
  double mean_dur = 0;
  for (size_t i = 0; i + 1 < g.q_p_.size(); ++i) {
    double dp = g.q_p_[i + 1] - g.q_p_[i];
    double a = g.q_log_[i], b = g.q_log_[i + 1];
    mean_dur += b - a > 1e-12 ? dp * (std::exp(b) - std::exp(a)) / (b - a) : dp * std::exp(a);
  }
  g.mean_dur_ = mean_dur;

  // Mean accelerators per job.
  double shared_acc = 0;
  for (size_t i : g.host_shared_idx_) shared_acc += g.host_[i].pods * (g.host_[i].gpu_milli / 1000.0);
  if (g.profile_ == kOpenb) {
    double acc = 0;
    for (const auto& h : g.host_) acc += h.pods * (h.gpu_milli < kWholeDevice ? h.gpu_milli / 1000.0 : h.gpus);
    g.mean_acc_ = acc / static_cast<double>(g.openb_cpu_only_ + g.openb_gpu_);
  } else {
    double acc = 0;
    for (const auto& s : g.sizes_) {
      if (s.gpus == 1 && (g.profile_ == kMixed || g.profile_ == kChinaAicc)) {
        double whole = static_cast<double>(g.one_gpu_ - g.shared_);
        acc += s.jobs * (whole + shared_acc) / static_cast<double>(g.one_gpu_);
      } else {
        acc += static_cast<double>(s.jobs) * s.gpus;
      }
    }
    g.mean_acc_ = acc / static_cast<double>(g.size_table_.cum.back());
  }
  g.rate_ = opts.load * static_cast<double>(opts.gpus) / (g.mean_acc_ * g.mean_dur_);

  // Arrivals.
  if (opts.diurnal) {
    g.hourly_ = HourlyProfile(fit.diurnal);
  } else {
    g.hourly_.fill(1.0);
  }

  // Tenants and users: Zipf weights quantised to integers.
  g.tenants_ = opts.tenants ? opts.tenants : fit.tenant_count;
  if (g.tenants_ < 1) g.tenants_ = 1;
  for (uint32_t r = 1; r <= g.tenants_; ++r)
    AddWeight(&g.tenant_table_.cum, static_cast<uint64_t>(std::llround(1e9 * std::pow(r, -fit.tenant_zipf))) + 1);
  g.users_per_tenant_ = std::max<uint32_t>(1, g.assume_.users_per_tenant);
  for (uint32_t r = 1; r <= g.users_per_tenant_; ++r)
    AddWeight(&g.user_table_.cum, static_cast<uint64_t>(std::llround(1e9 * std::pow(r, -g.assume_.user_zipf))) + 1);

  // Constraints, limited to what the target has.
  ModelMask present = opts.target.models ? opts.target.models & catalog.AllModels() : catalog.AllModels();
  for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m)
    if (catalog.model(static_cast<ModelId>(m)).inference_only) present &= ~(ModelMask{1} << m);
  auto floor_mask = [&](ModelMask pool, double min_gb) { return MemoryFloor(catalog, pool, min_gb); };
  const char* kStackNames[] = {"", "cuda", "cann"};
  for (int c = 0; c < 3; ++c) {
    StackChoice& sc = g.stack_choice_[c];
    ModelMask pool = present;
    if (c > 0) {
      auto id = catalog.FindStack(kStackNames[c]);
      ModelMask runs = id ? catalog.ModelsForStacks(StackMask{1} << *id) & present : 0;
      if (!runs) {
        sc = g.stack_choice_[0];  // the target has no model for this stack: run anywhere
        continue;
      }
      sc.stacks = StackMask{1} << *id;
      pool = runs;
    }
    sc.floor[0] = floor_mask(pool, g.assume_.other_min_memory_gb);
    sc.floor[1] = floor_mask(pool, g.assume_.transformer_min_memory_gb);
  }

  Rng root(opts.seed);
  g.arrivals_rng_ = root.Fork(1);
  g.jobs_rng_ = root.Fork(2);
  if (g.profile_ == kChinaAicc) SUANLI_RETURN_IF_ERROR(SetUpNetwork(&g, catalog, root.Fork(3)));
  return g;
}

GenTarget TargetOf(const Network& network) {
  GenTarget t;
  std::set<GenTarget::Shape> shapes;
  for (const Node& n : network.nodes) {
    if (n.model != kNoModel && n.devices > 0) {
      if (n.model < kMaxModels) t.models |= ModelMask{1} << n.model;
      shapes.insert({n.devices, n.cpu_milli, n.mem_mib});
    }
    if (n.cpu_milli > t.cpu_only_cpu || (n.cpu_milli == t.cpu_only_cpu && n.mem_mib > t.cpu_only_mem)) {
      t.cpu_only_cpu = n.cpu_milli;
      t.cpu_only_mem = n.mem_mib;
    }
  }
  t.shapes.assign(shapes.begin(), shapes.end());

  // Centers, their accelerators by model, and round trips to the user regions.
  std::vector<Region> regions = network.regions;
  if (regions.empty()) {
    // No regions in the file: one per distinct center label, at the mean position
    // of its centers.
    for (const Center& c : network.centers) {
      if (c.region.empty()) continue;
      auto it = std::find_if(regions.begin(), regions.end(), [&](const Region& r) { return r.name == c.region; });
      if (it != regions.end()) continue;
      Region r;
      r.name = c.region;
      int n = 0;
      for (const Center& d : network.centers) {
        if (d.region != c.region) continue;
        r.latitude += d.latitude;
        r.longitude += d.longitude;
        ++n;
      }
      r.latitude /= n;
      r.longitude /= n;
      regions.push_back(r);
    }
  }
  for (const Region& r : regions) t.regions.push_back(r.name);
  IdVector<CenterId, std::map<ModelId, int64_t>> devices(network.centers.size());
  for (const Node& n : network.nodes)
    if (n.model != kNoModel && n.devices > 0 && devices.contains(n.center)) devices[n.center][n.model] += n.devices;
  for (CenterId c : network.centers.ids()) {
    const Center& center = network.centers[c];
    GenTarget::CenterInfo info;
    info.name = center.name;
    info.edge = center.edge;
    info.devices.assign(devices[c].begin(), devices[c].end());
    for (const Region& r : regions) info.region_rtt_ms.push_back(RegionLatencyMs(r, center));
    t.centers.push_back(std::move(info));
  }
  return t;
}

Workload WorkloadGenerator::NewWorkload() const {
  if (net_) return NewNetWorkload();
  Workload w;
  w.name = opts_.name;
  for (uint32_t t = 0; t < tenants_; ++t) w.tenants.Intern(PaddedName("t", t, tenants_));
  for (uint32_t t = 0; t < tenants_; ++t)
    for (uint32_t u = 0; u < users_per_tenant_; ++u)
      w.users.Intern(PaddedName("t", t, tenants_) + PaddedName("-u", u, users_per_tenant_));
  return w;
}

Time WorkloadGenerator::NextArrival() {
  if (arrivals_++ == 0) return 0;                        // the first job arrives at time 0 (midnight of day 0)
  double need = arrivals_rng_.Exponential(1.0) / rate_;  // integrated intensity, in mean-rate seconds
  double t = clock_;
  while (true) {
    double hour_index = std::floor(t / 3600);
    int h = static_cast<int>(std::fmod(hour_index, 24.0));
    double end = (hour_index + 1) * 3600;
    double cap = (end - t) * hourly_[h];
    if (need <= cap) {
      t += need / hourly_[h];
      break;
    }
    need -= cap;
    t = end;
  }
  clock_ = t;
  return static_cast<Time>(std::llround(t * 1000)) * kMilli;
}

double WorkloadGenerator::SampleDuration(Rng& rng) const {
  double u = rng.Uniform();
  size_t i = static_cast<size_t>(std::upper_bound(q_p_.begin(), q_p_.end(), u) - q_p_.begin());
  i = std::clamp<size_t>(i, 1, q_p_.size() - 1) - 1;
  double f = (u - q_p_[i]) / (q_p_[i + 1] - q_p_[i]);
  double v = std::exp(q_log_[i] + (q_log_[i + 1] - q_log_[i]) * f);
  return std::max(1.0, static_cast<double>(std::llround(v)));
}

void WorkloadGenerator::FillJob(Job* job) {
  Rng& r = jobs_rng_;
  const GeneratorFit::HostDemand* host = nullptr;
  if (profile_ == kOpenb) {
    host = &host_[host_all_.Pick(r)];
    job->cls = host->gpus == 0 ? WorkloadClass::kOther : static_cast<WorkloadClass>(class_table_.Pick(r));
    job->num_gpus = host->gpus;
    job->gpu_milli = host->gpus == 0 ? kWholeDevice : host->gpu_milli;
    job->cpu_milli = host->cpu_milli;
    job->mem_mib = host->mem_mib;
  } else {
    const auto& s = sizes_[size_table_.Pick(r)];
    job->num_gpus = s.gpus;
    job->cls = s.cls;
    job->gpu_milli = kWholeDevice;
    if (s.gpus == 1 && profile_ == kMixed && r.Below(one_gpu_) < shared_) {
      host = &host_[host_shared_idx_[host_shared_.Pick(r)]];
      job->gpu_milli = host->gpu_milli;
      job->cpu_milli = host->cpu_milli;
      job->mem_mib = host->mem_mib;
    } else {
      WholeHost(s.gpus, r, job);
    }
  }
  if (profile_ != kPhilly && job->num_gpus > 0) {
    if (r.Below(1000) < assume_.science_permille) job->cls = WorkloadClass::kScience;
    const bool constrained = r.Below(100) < assume_.model_constraint_percent;
    uint64_t st = r.Below(100);
    const StackChoice& sc = stack_choice_[st < assume_.cuda_percent                          ? 1
                                          : st < assume_.cuda_percent + assume_.cann_percent ? 2
                                                                                             : 0];
    job->stacks = sc.stacks;
    if (constrained) job->models = sc.floor[job->cls == WorkloadClass::kTransformer ? 1 : 0];
  }
  CapHost(job);
  // Tenant t is the t-th one NewWorkload interns.
  uint32_t tenant = static_cast<uint32_t>(tenant_table_.Pick(r));
  job->tenant = TenantId(tenant);
  job->user = tenant * users_per_tenant_ + static_cast<uint32_t>(user_table_.Pick(r));
  job->work = SampleDuration(r);
}

void WorkloadGenerator::WholeHost(uint32_t gpus, Rng& r, Job* job) const {
  int b = WholeBucket(gpus);
  const GeneratorFit::HostDemand* host = &host_[host_whole_idx_[b][host_whole_[b].Pick(r)]];
  const int64_t base = host_whole_gpus_[b];
  job->cpu_milli = (host->cpu_milli * gpus + base / 2) / base;
  job->mem_mib = (host->mem_mib * gpus + base / 2) / base;
}

// Host demand capped so that the job fits the target's nodes.
void WorkloadGenerator::CapHost(Job* job) const {
  const GenTarget& t = opts_.target;
  if (job->num_gpus == 0) {
    if (t.cpu_only_cpu >= 0) job->cpu_milli = std::min(job->cpu_milli, t.cpu_only_cpu);
    if (t.cpu_only_mem >= 0) job->mem_mib = std::min(job->mem_mib, t.cpu_only_mem);
  } else {
    const int64_t k = job->IsShared() ? 1 : job->num_gpus;
    for (const auto& sh : t.shapes) {
      job->cpu_milli = std::min(job->cpu_milli, k <= sh.devices ? sh.cpu_milli : k * sh.cpu_milli / sh.devices);
      job->mem_mib = std::min(job->mem_mib, k <= sh.devices ? sh.mem_mib : k * sh.mem_mib / sh.devices);
    }
  }
}

size_t WorkloadGenerator::Next(size_t max, Workload* out) {
  if (net_) return NextNet(max, out);
  size_t n = static_cast<size_t>(std::min<uint64_t>(max, opts_.jobs - generated_));
  out->jobs.reserve(out->jobs.size() + n);
  for (size_t i = 0; i < n; ++i) {
    Job job;
    job.id = static_cast<JobId>(generated_);
    job.submit = NextArrival();
    FillJob(&job);
    out->jobs.push_back(job);
    ++generated_;
  }
  return n;
}

}  // namespace suanli
