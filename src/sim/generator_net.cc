// The workload generator's china-aicc profile (see generator.h and
// docs/generator.md): tenants with home centers and stacks, datasets,
// deferrable jobs, large-model jobs and inference services over a span.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "sim/generator.h"
#include "sim/generator_internal.h"

namespace suanli {

using generator_detail::AddWeight;
using generator_detail::MemoryFloor;
using generator_detail::PaddedName;

// ===========================================================================
// The china-aicc profile: a workload for a network of centers. Every choice
// below that no trace records is ILLUSTRATIVE; docs/generator.md lists them.
// ===========================================================================
namespace {

struct NetTenantSpec {
  const char* name;
  uint32_t weight;                    // per mille of the batch jobs
  uint32_t science_permille;          // its GPU jobs re-labelled as the science class
  std::array<const char*, 3> stacks;  // preferred stacks; the one with most devices wins
  uint32_t large_weight;              // weight among the tenants that train large models
};
constexpr NetTenantSpec kNetTenants[] = {
    {"lab-nlp", 200, 20, {"cuda", nullptr, nullptr}, 3},      {"lab-vision", 170, 20, {"cuda", nullptr, nullptr}, 0},
    {"lab-science", 110, 400, {"cuda", nullptr, nullptr}, 0}, {"startup-a", 140, 20, {"cuda", nullptr, nullptr}, 2},
    {"startup-b", 80, 20, {"musa", "bang", "corex"}, 0},      {"gov-ai", 130, 20, {"cann", nullptr, nullptr}, 1},
    {"univ-hpc", 120, 50, {"cann", nullptr, nullptr}, 0},     {"inference", 50, 0, {"cuda", nullptr, nullptr}, 0},
};
constexpr uint32_t kNumNetTenants = sizeof(kNetTenants) / sizeof(kNetTenants[0]);
constexpr uint32_t kInferenceTenant = 7;        // owns the services
constexpr uint32_t kServicePermille = 20;       // services among the arrivals
constexpr uint32_t kStackSpecificPercent = 75;  // jobs written for their tenant's stack
constexpr uint32_t kHomeDataPercent = 80;       // datasets at the tenant's home center
constexpr double kDataMedianGb = 50, kDataSigma = 1.6, kDataMinGb = 0.1, kDataMaxGb = 20000;
constexpr uint32_t kDeferrablePercent = 20;
constexpr double kDeferrableMaxWork = 6 * 3600.0;  // "short/medium": up to 6 reference hours
constexpr int64_t kSlackMinMinutes = 6 * 60, kSlackMaxMinutes = 48 * 60;
constexpr double kServiceMinDays = 1, kServiceMaxDays = 14;
constexpr int64_t kLatencyMinMs = 20, kLatencyMaxMs = 60;
constexpr double kLargePerMonthPer10k = 1.0;  // large-model jobs per 30 days per 10,000 accelerators
constexpr double kLargeMinGpus = 1000, kLargeMaxGpus = 12000;
constexpr double kLargeMinDays = 7, kLargeMaxDays = 28;
constexpr int64_t kCheckpointMinMinutes = 60, kCheckpointMaxMinutes = 180;
constexpr double kLargeMinDataGb = 1000, kLargeMaxDataGb = 10000;
constexpr double kLargeMinMemoryGb = 64;
constexpr double kDefaultDays = 30;
constexpr double kMaxDays = 3650;
constexpr double kMinStreamShare = 0.1;  // large jobs take at most 90 % of the offered load
constexpr double kMinWorkScale = 0.01, kMaxWorkScale = 1e6;

}  // namespace

struct WorkloadGenerator::NetProfile {
  // What a job accepts, and the most devices of one accepted model in one center.
  struct Choice {
    ModelMask models = 0;
    StackMask stacks = 0;
    int64_t block = 0;
  };
  struct Tenant {
    uint32_t center = 0;  // home, index into GenTarget::centers
    StackMask stack = 0;  // its stack (0: the catalog has none)
    uint32_t science_permille = 0;
    // [stack-agnostic, its stack][no model constraint, memory floor, transformer floor]
    std::array<std::array<Choice, 3>, 2> choice{};
    Choice large;
    // Services: the least round trip from each region to a center with an
    // accepted model, [stack-agnostic, its stack]; infinity = none.
    std::array<std::vector<double>, 2> min_rtt;
  };
  std::vector<Tenant> tenants;
  Table tenant_table;  // batch jobs
  StringTable places;  // centers, then regions
  std::vector<uint16_t> center_place, region_place;
  std::vector<uint32_t> data_centers;  // centers that are not edge sites and have accelerators
  std::vector<Job> large;              // sorted by submit
  size_t next_large = 0;
  Time horizon = 0;
  bool by_count = false;
  uint64_t stream_jobs = 0, stream_drawn = 0;
  bool have_pending = false, stream_done = false;
  Time pending = 0;
  double work_scale = 1;
  double max_work = 0;  // batch run times and service lifetimes: at most the span, whole seconds
};

double WorkloadGenerator::work_scale() const { return net_ ? net_->work_scale : 1.0; }
uint64_t WorkloadGenerator::large_jobs() const { return net_ ? net_->large.size() : 0; }

Status WorkloadGenerator::SetUpNetwork(WorkloadGenerator* g, const Catalog& catalog, Rng lr) {
  const GenOptions& o = g->opts_;
  const GenTarget& t = o.target;
  if (o.tenants != 0)
    return InvalidArgument("--tenants: the china-aicc profile has its own {} tenants", kNumNetTenants);
  if (!(o.days >= 0) || o.days > kMaxDays)
    return InvalidArgument("--days: expected a number of days > 0 and at most {}, got {}", kMaxDays, o.days);
  const double days = o.days > 0 ? o.days : kDefaultDays;
  auto net = std::make_shared<NetProfile>();
  NetProfile& p = *net;
  const size_t nc = t.centers.size(), nr = t.regions.size();
  for (size_t c = 0; c < nc; ++c)
    if (!t.centers[c].edge && !t.centers[c].devices.empty()) p.data_centers.push_back(static_cast<uint32_t>(c));
  if (p.data_centers.empty())
    return InvalidArgument(
        "--network: the china-aicc profile needs a network with a center (not an edge site) that "
        "has accelerators");
  if (nc + nr >= kNoPlace) return InvalidArgument("--network: too many centers and regions ({})", nc + nr);
  for (const auto& c : t.centers) p.center_place.push_back(static_cast<uint16_t>(p.places.Intern(c.name)));
  for (const auto& r : t.regions) p.region_place.push_back(static_cast<uint16_t>(p.places.Intern(r)));

  auto in_mask = [](ModelMask mask, ModelId m) { return m < kMaxModels && (mask >> m & 1); };
  ModelMask present = 0;  // training-capable models of the network
  for (const auto& c : t.centers)
    for (const auto& [m, d] : c.devices)
      if (m < catalog.size() && m < kMaxModels && !catalog.model(m).inference_only) present |= ModelMask{1} << m;
  // Devices of training-capable models running `st` (0 = any) in center c.
  auto stack_devices = [&](size_t c, StackMask st) {
    const ModelMask ok = catalog.ModelsForStacks(st);
    int64_t n = 0;
    for (const auto& [m, d] : t.centers[c].devices)
      if (in_mask(ok, m) && in_mask(present, m)) n += d;
    return n;
  };
  // The most devices of one accepted model in one center (EligibleModels' rule:
  // models 0 = any, stacks 0 = any): in center `only`, or in any (SIZE_MAX).
  auto block = [&](ModelMask models, StackMask stacks, size_t only) {
    const ModelMask ok = (models ? models : ~ModelMask{0}) & catalog.ModelsForStacks(stacks);
    int64_t best = 0;
    for (size_t c = 0; c < nc; ++c) {
      if (only != SIZE_MAX && c != only) continue;
      for (const auto& [m, d] : t.centers[c].devices)
        if (in_mask(ok, m)) best = std::max(best, d);
    }
    return best;
  };

  // Tenants: a stack each (the preferred one with the most accelerators in the
  // network, else cuda, else the stack with the most).
  std::vector<StackMask> stack_of(kNumNetTenants, 0);
  for (uint32_t i = 0; i < kNumNetTenants; ++i) {
    StackMask st = 0;
    int64_t best = 0;
    auto consider = [&](const char* name) {
      if (!name) return;
      auto id = catalog.FindStack(name);
      if (!id || *id >= kMaxStacks) return;
      const StackMask m = StackMask{1} << *id;
      int64_t n = 0;
      for (uint32_t c : p.data_centers) n += stack_devices(c, m);
      if (n > best) {
        best = n;
        st = m;
      }
    };
    for (const char* name : kNetTenants[i].stacks) consider(name);
    if (!st) consider("cuda");
    for (size_t k = 0; !st && k < catalog.stacks().size(); ++k) consider(catalog.stacks()[k].c_str());
    stack_of[i] = st;
  }
  // Homes, greedily in order of the tenants' expected load (accelerator-seconds
  // per arrival, services included; whole numbers so that comparisons are
  // exact): each goes to the center, running its stack, with the most
  // accelerators of that stack per unit of load homed there with it.
  const double batch_unit = (1 - kServicePermille / 1000.0) * g->mean_acc_ * g->mean_dur_;
  const double service_unit = kServicePermille / 1000.0 * (kServiceMaxDays - kServiceMinDays) * 86400 /
                              std::log(kServiceMaxDays / kServiceMinDays);
  std::vector<int64_t> demand(kNumNetTenants);
  for (uint32_t i = 0; i < kNumNetTenants; ++i)
    demand[i] = std::max<int64_t>(
        1, std::llround(kNetTenants[i].weight / 1000.0 * batch_unit + (i == kInferenceTenant ? service_unit : 0)));
  std::vector<uint32_t> order(kNumNetTenants);
  for (uint32_t i = 0; i < kNumNetTenants; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return demand[a] > demand[b]; });
  std::vector<int64_t> homed_load(nc, 0);
  std::vector<uint32_t> home_of(kNumNetTenants, p.data_centers.front());
  for (uint32_t i : order) {
    int64_t best_d = -1, best_l = 1;
    for (uint32_t c : p.data_centers) {
      const int64_t d = stack_devices(c, stack_of[i]);
      if (d == 0) continue;
      const int64_t l = homed_load[c] + demand[i];
      if (best_d < 0 || d * best_l > best_d * l) {  // d / l > best_d / best_l
        best_d = d;
        best_l = l;
        home_of[i] = c;
      }
    }
    homed_load[home_of[i]] += demand[i];
  }
  for (uint32_t i = 0; i < kNumNetTenants; ++i) {
    const NetTenantSpec& spec = kNetTenants[i];
    const StackMask st = stack_of[i];
    const uint32_t home = home_of[i];
    NetProfile::Tenant tn;
    tn.center = home;
    tn.stack = st;
    tn.science_permille = spec.science_permille;
    // Batch jobs can always run at home: their memory floors pick among the
    // home's models, and their size is capped at the home's largest block of
    // one accepted model.
    ModelMask home_models = 0;
    for (const auto& [m, d] : t.centers[home].devices)
      if (in_mask(present, m)) home_models |= ModelMask{1} << m;
    for (int sp = 0; sp < 2; ++sp) {
      const StackMask stacks = sp ? st : 0;
      ModelMask pool = home_models & catalog.ModelsForStacks(stacks);
      if (!pool) pool = present & catalog.ModelsForStacks(stacks);
      for (int f = 0; f < 3; ++f) {
        NetProfile::Choice ch;
        ch.stacks = stacks;
        if (f > 0)
          ch.models = MemoryFloor(catalog, pool,
                                  f == 2 ? g->assume_.transformer_min_memory_gb : g->assume_.other_min_memory_gb);
        ch.block = block(ch.models, ch.stacks, home);
        if (ch.block == 0) ch.block = block(ch.models, ch.stacks, SIZE_MAX);
        if (ch.block == 0) ch = {0, 0, block(0, 0, SIZE_MAX)};  // nothing accepted: run anywhere
        tn.choice[sp][f] = ch;
      }
      const ModelMask ok = catalog.ModelsForStacks(stacks);
      tn.min_rtt[sp].assign(nr, std::numeric_limits<double>::infinity());
      for (const auto& c : t.centers) {
        bool has = false;
        for (const auto& [m, d] : c.devices) has |= in_mask(ok, m);
        for (size_t r = 0; has && r < nr && r < c.region_rtt_ms.size(); ++r)
          tn.min_rtt[sp][r] = std::min(tn.min_rtt[sp][r], c.region_rtt_ms[r]);
      }
    }
    tn.large.stacks = st;
    tn.large.models = MemoryFloor(catalog, present & catalog.ModelsForStacks(st), kLargeMinMemoryGb);
    tn.large.block = block(tn.large.models, st, SIZE_MAX);
    if (tn.large.block == 0) tn.large = tn.choice[0][0];
    p.tenants.push_back(std::move(tn));
    AddWeight(&p.tenant_table.cum, spec.weight);
  }

  // Large-model jobs, drawn now so that they can be merged into the stream.
  p.horizon = static_cast<Time>(std::llround(days * 86400 * 1000)) * kMilli;
  const double horizon_s = ToSeconds(p.horizon);
  int64_t total_devices = 0;
  for (const auto& c : t.centers)
    for (const auto& [m, d] : c.devices) total_devices += d;
  uint64_t n_large =
      std::max<int64_t>(1, std::llround(kLargePerMonthPer10k * static_cast<double>(total_devices) / 10000 * days / 30));
  if (o.jobs > 0) n_large = std::min<uint64_t>(n_large, o.jobs / 2);
  Table large_tenants;
  for (const auto& spec : kNetTenants) AddWeight(&large_tenants.cum, spec.large_weight);
  double large_load = 0;  // accelerator-seconds per second of the span
  for (uint64_t i = 0; i < n_large; ++i) {
    Job j;
    j.submit = static_cast<Time>(std::llround(lr.Uniform() * horizon_s * 1000)) * kMilli;
    const auto ti = static_cast<uint32_t>(large_tenants.Pick(lr));
    const NetProfile::Tenant& tn = p.tenants[ti];
    const double size = std::exp(std::log(kLargeMinGpus) + lr.Uniform() * std::log(kLargeMaxGpus / kLargeMinGpus));
    int64_t gpus = std::min<int64_t>(std::llround(size), tn.large.block);
    if (gpus >= 8) gpus -= gpus % 8;  // whole 8-accelerator servers
    j.num_gpus = static_cast<uint32_t>(std::max<int64_t>(1, gpus));
    j.cls = WorkloadClass::kTransformer;
    j.models = tn.large.models;
    j.stacks = tn.large.stacks;
    g->WholeHost(j.num_gpus, lr, &j);
    g->CapHost(&j);
    j.tenant = TenantId(ti);
    j.user = ti * g->users_per_tenant_ + static_cast<uint32_t>(g->user_table_.Pick(lr));
    const double hours = std::round((kLargeMinDays + lr.Uniform() * (kLargeMaxDays - kLargeMinDays)) * 24);
    j.work = hours * 3600;
    j.checkpoint =
        (kCheckpointMinMinutes + static_cast<int64_t>(lr.Below(kCheckpointMaxMinutes - kCheckpointMinMinutes + 1))) *
        kMinute;
    j.home = j.data_at = p.center_place[tn.center];
    j.data_gb = static_cast<float>(
        std::round(std::exp(std::log(kLargeMinDataGb) + lr.Uniform() * std::log(kLargeMaxDataGb / kLargeMinDataGb))));
    // Its share of the span's load: the part of its run inside the span, were it
    // to start when submitted.
    large_load += j.num_gpus * std::min(j.work, horizon_s - ToSeconds(j.submit)) / horizon_s;
    p.large.push_back(j);
  }
  std::stable_sort(p.large.begin(), p.large.end(), [](const Job& a, const Job& b) { return a.submit < b.submit; });

  // The arrival rate (docs/generator.md): services and batch jobs offer what the
  // large-model jobs leave of load x capacity.
  // Batch run times and service lifetimes end within the span: at most T
  // seconds (so the longest of them is not a whole span long after the last arrival).
  p.max_work = std::max(1.0, std::floor(horizon_s));
  const double T = p.max_work;
  const double capacity = static_cast<double>(o.gpus);
  const double service_share = kServicePermille / 1000.0;
  // E[min(L, T)] for the lifetime L, log-uniform in [a, b].
  const double a = kServiceMinDays * 86400, b = kServiceMaxDays * 86400;
  const double service_mean = T >= b   ? (b - a) / std::log(b / a)
                              : T <= a ? T
                                       : ((T - a) + T * std::log(b / T)) / std::log(b / a);
  const double e_service = service_share * service_mean;
  // E[min(k x d, T)] for the run-time table d (log-linear between its knots).
  auto batch_mean = [&](double k) {
    const double lt = std::log(T), lk = std::log(k);
    double m = 0;
    for (size_t i = 0; i + 1 < g->q_p_.size(); ++i) {
      const double dp = g->q_p_[i + 1] - g->q_p_[i];
      const double la = g->q_log_[i] + lk, lb = g->q_log_[i + 1] + lk;
      if (lb <= lt) {
        m += lb - la > 1e-12 ? dp * (std::exp(lb) - std::exp(la)) / (lb - la) : dp * std::exp(la);
      } else if (la >= lt) {
        m += dp * T;
      } else {
        const double f = (lt - la) / (lb - la);
        m += dp * (T - std::exp(la)) / (lb - la) + (1 - f) * dp * T;
      }
    }
    return (1 - service_share) * g->mean_acc_ * m;
  };
  const double target = std::max(o.load * capacity - large_load, kMinStreamShare * o.load * capacity);
  if (o.jobs > 0) {
    p.by_count = true;
    p.stream_jobs = o.jobs - p.large.size();
    g->rate_ = static_cast<double>(p.stream_jobs) / horizon_s;
    // The factor k with e_service + batch_mean(k) = target / rate (batch_mean
    // grows with k; bisection).
    const double need = target / g->rate_ - e_service;
    double lo = kMinWorkScale, hi = kMinWorkScale;
    if (batch_mean(lo) < need) {
      while (batch_mean(hi) < need && hi < kMaxWorkScale) hi *= 2;
      for (int it = 0; it < 100; ++it) {
        const double mid = (lo + hi) / 2;
        (batch_mean(mid) < need ? lo : hi) = mid;
      }
    }
    p.work_scale = hi;
  } else {
    g->rate_ = target / (e_service + batch_mean(1));
    const double expected = g->rate_ * horizon_s;
    if (expected > 2e9)
      return InvalidArgument("--days/--load: about {:.3g} jobs; at most 2e9 (lower --days or --load, or give --jobs)",
                             expected);
  }
  g->tenants_ = kNumNetTenants;
  g->net_ = std::move(net);
  return Status::Ok();
}

Workload WorkloadGenerator::NewNetWorkload() const {
  Workload w;
  w.name = opts_.name;
  for (const auto& spec : kNetTenants) w.tenants.Intern(spec.name);
  for (const auto& spec : kNetTenants)
    for (uint32_t u = 0; u < users_per_tenant_; ++u) w.users.Intern(spec.name + PaddedName("-u", u, users_per_tenant_));
  w.places = net_->places;
  return w;
}

void WorkloadGenerator::FillNetJob(Job* job) {
  NetProfile& p = *net_;
  Rng& r = jobs_rng_;
  const bool service = r.Below(1000) < kServicePermille;
  const auto ti = service ? kInferenceTenant : static_cast<uint32_t>(p.tenant_table.Pick(r));
  const NetProfile::Tenant& tn = p.tenants[ti];
  const int specific = r.Below(100) < kStackSpecificPercent ? 1 : 0;
  job->gpu_milli = kWholeDevice;
  if (service) {
    // One inference replica: a whole accelerator for days, near its users.
    job->service = true;
    job->num_gpus = 1;
    WholeHost(1, r, job);
    job->cls = static_cast<WorkloadClass>(class_table_.Pick(r));
    const NetProfile::Choice& ch = tn.choice[specific][0];
    job->stacks = ch.stacks;
    job->models = ch.models;
    const double days = std::exp(std::log(kServiceMinDays) + r.Uniform() * std::log(kServiceMaxDays / kServiceMinDays));
    job->work = std::min(p.max_work, std::max(1.0, static_cast<double>(std::llround(days * 86400))));
    if (!p.region_place.empty()) {
      const auto reg = static_cast<size_t>(r.Below(p.region_place.size()));
      job->region = p.region_place[reg];
      double bound =
          static_cast<double>(kLatencyMinMs + static_cast<int64_t>(r.Below(kLatencyMaxMs - kLatencyMinMs + 1)));
      // A bound no center could meet is raised to the nearest center that can serve it.
      const double need = tn.min_rtt[specific][reg];
      if (std::isfinite(need) && bound < need) bound = std::ceil(need);
      job->latency_ms = static_cast<float>(bound);
    }
  } else {
    const auto& s = sizes_[size_table_.Pick(r)];
    job->num_gpus = s.gpus;
    job->cls = s.cls;
    const bool shared = s.gpus == 1 && r.Below(one_gpu_) < shared_;
    if (r.Below(1000) < tn.science_permille) job->cls = WorkloadClass::kScience;
    const bool constrained = r.Below(100) < assume_.model_constraint_percent;
    const NetProfile::Choice& ch =
        tn.choice[specific][constrained ? (job->cls == WorkloadClass::kTransformer ? 2 : 1) : 0];
    job->stacks = ch.stacks;
    job->models = ch.models;
    // No bigger than what one center holds of one accepted model.
    if (job->num_gpus > ch.block) job->num_gpus = static_cast<uint32_t>(ch.block);
    if (shared) {
      const auto& host = host_[host_shared_idx_[host_shared_.Pick(r)]];
      job->gpu_milli = host.gpu_milli;
      job->cpu_milli = host.cpu_milli;
      job->mem_mib = host.mem_mib;
    } else {
      WholeHost(job->num_gpus, r, job);
    }
    job->work =
        std::min(p.max_work, std::max(1.0, static_cast<double>(std::llround(SampleDuration(r) * p.work_scale))));
  }
  CapHost(job);
  job->tenant = TenantId(ti);
  job->user = ti * users_per_tenant_ + static_cast<uint32_t>(user_table_.Pick(r));
  job->home = p.center_place[tn.center];
  // The dataset: at home, or at another center.
  uint32_t data_center = tn.center;
  if (p.data_centers.size() > 1 && r.Below(100) >= kHomeDataPercent) {
    auto k = static_cast<size_t>(r.Below(p.data_centers.size() - 1));
    for (uint32_t c : p.data_centers) {
      if (c == tn.center) continue;
      if (k-- == 0) {
        data_center = c;
        break;
      }
    }
  }
  job->data_at = p.center_place[data_center];
  const double gb = kDataMedianGb * std::exp(kDataSigma * r.Normal());
  job->data_gb = static_cast<float>(std::clamp(std::round(gb * 10) / 10, kDataMinGb, kDataMaxGb));
  // Deferrable: a deadline of its run time plus a slack.
  if (!service && job->work <= kDeferrableMaxWork && r.Below(100) < kDeferrablePercent) {
    const auto slack = kSlackMinMinutes + static_cast<int64_t>(r.Below(kSlackMaxMinutes - kSlackMinMinutes + 1));
    job->deadline = job->submit + Seconds(static_cast<int64_t>(job->work)) + slack * kMinute;
  }
}

size_t WorkloadGenerator::NextNet(size_t max, Workload* out) {
  NetProfile& p = *net_;
  size_t n = 0;
  while (n < max && generated_ + 1 < kNoJob.value()) {
    if (!p.have_pending && !p.stream_done) {
      if (p.by_count && p.stream_drawn >= p.stream_jobs) {
        p.stream_done = true;
      } else {
        const Time t = NextArrival();
        if (!p.by_count && t >= p.horizon) {
          p.stream_done = true;
        } else {
          p.pending = t;
          p.have_pending = true;
          ++p.stream_drawn;
        }
      }
    }
    Job job;
    if (p.next_large < p.large.size() && (!p.have_pending || p.large[p.next_large].submit <= p.pending)) {
      job = p.large[p.next_large++];
    } else if (p.have_pending) {
      job.submit = p.pending;
      p.have_pending = false;
      FillNetJob(&job);
    } else {
      break;
    }
    job.id = JobId(static_cast<uint32_t>(generated_++));
    out->jobs.push_back(job);
    ++n;
  }
  return n;
}

}  // namespace suanli
