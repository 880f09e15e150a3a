// The synthetic workload generator's china-aicc profile, a workload for a
// network of centers: jobs consistent with the network, large-model jobs and
// tenant stacks, the bundled week, determinism and the round trip through
// the native importer, run times scaled by the job count, bad options.
#include "sim/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "io/line_reader.h"
#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/trace.h"
#include "support/generator.h"

namespace suanli {
namespace {

using ::suanli::testing::generator::NetOpts;
using ::suanli::testing::generator::ReadAll;
using ::suanli::testing::generator::TempPath;

// ---------------------------------------------------------------------------
// The china-aicc profile: a workload for a network of centers

bool IsLarge(const Job& j) { return j.checkpoint != 0; }

// Checks every job of a china-aicc workload against its network; returns a
// message naming the first job that breaks a rule ("" = all good).
struct NetCheck {
  size_t services = 0, large = 0, short_batch = 0, deferrable = 0, data_home = 0, batch = 0;
  std::vector<double> data_gb;
  std::string failure;
};
NetCheck CheckNetworkWorkload(const Workload& w, const Network& net, const GenOptions& o) {
  const Catalog& cat = BuiltinCatalog();
  NetCheck r;
  const GenTarget& t = o.target;
  // Devices per (center, model), and the center of each place name.
  std::map<std::pair<size_t, ModelId>, int64_t> devices;
  for (const Node& n : net.nodes)
    if (n.model != kNoModel) devices[{n.center.value(), n.model}] += n.devices;
  auto center_of = [&](uint16_t place) -> int {
    if (place == kNoPlace || place >= w.places.size()) return -1;
    auto c = net.FindCenter(w.places.Name(place));
    return c ? static_cast<int>(c->value()) : -1;
  };
  std::map<TenantId, int> tenant_home;
  std::map<TenantId, StackMask> tenant_stack;
  auto fail = [&](const Job& j, const std::string& why) {
    if (r.failure.empty()) r.failure = fmt::format("job {}: {}", j.id, why);
  };
  for (const Job& j : w.jobs) {
    if (j.tenant.value() >= w.tenants.size() || j.user >= w.users.size()) fail(j, "tenant or user");
    const int home = center_of(j.home);
    if (home < 0 || net.centers.vec()[home].edge) fail(j, "home is not a center of the network");
    auto [h, fresh] = tenant_home.emplace(j.tenant, home);
    if (h->second != home) fail(j, "a tenant with two homes");
    if (j.stacks) {
      auto [s, first] = tenant_stack.emplace(j.tenant, j.stacks);
      if (s->second != j.stacks) fail(j, "a tenant with two stacks");
    }
    const int data = center_of(j.data_at);
    if (data < 0 || net.centers.vec()[data].edge) fail(j, "data_at is not a center");
    r.data_home += data == home;
    if (!(j.data_gb >= 0.1f && j.data_gb <= 20000)) fail(j, "data_gb out of range");
    r.data_gb.push_back(j.data_gb);
    const ModelMask ok = EligibleModels(j, cat, w);
    const int64_t k = j.IsShared() ? 1 : j.num_gpus;
    if (j.service) {
      ++r.services;
      if (j.num_gpus != 1 || j.IsShared()) fail(j, "a service is one whole accelerator");
      if (w.tenants.Name(j.tenant) != "inference") fail(j, "services belong to 'inference'");
      if (j.work < 86400 || j.work > 14 * 86400) fail(j, "a service lives 1 to 14 days");
      if (j.Deferrable() || IsLarge(j)) fail(j, "a service with a deadline or checkpoint");
      // Its region is one of the network's, and some center with an accepted
      // model is within its latency bound.
      if (j.region == kNoPlace) fail(j, "a service without a region");
      auto reg = std::find(t.regions.begin(), t.regions.end(), w.places.Name(j.region));
      if (reg == t.regions.end()) {
        fail(j, "unknown region");
        continue;
      }
      if (j.latency_ms < 20) fail(j, "latency bound below 20 ms");
      bool near = false;
      for (const auto& [cm, n] : devices)
        near |= (ok >> cm.second & 1) && t.centers[cm.first].region_rtt_ms[reg - t.regions.begin()] <= j.latency_ms;
      if (!near) fail(j, "no center within the latency bound");
      if (j.latency_ms > 60 && !near) fail(j, "latency bound raised too far");
      continue;
    }
    if (j.region != kNoPlace || j.latency_ms != 0) fail(j, "a batch job with a region");
    if (IsLarge(j)) {
      ++r.large;
      if (j.cls != WorkloadClass::kTransformer) fail(j, "a large-model job is a transformer");
      if (j.checkpoint < kHour || j.checkpoint > 3 * kHour) fail(j, "checkpoint not 1-3 h");
      if (j.work < 7 * 86400 || j.work > 28 * 86400) fail(j, "a large-model job runs 1-4 weeks");
      if (j.Deferrable()) fail(j, "a deferrable large-model job");
    } else {
      ++r.batch;
      if (j.work <= 6 * 3600) {
        ++r.short_batch;
        if (j.Deferrable()) {
          ++r.deferrable;
          const Duration slack = j.deadline - j.submit - Seconds(static_cast<int64_t>(j.work));
          if (slack < 6 * kHour || slack > 48 * kHour) fail(j, "slack outside 6-48 h");
        }
      } else if (j.Deferrable()) {
        fail(j, "a long job is deferrable");
      }
    }
    // It could run somewhere: one center holds enough accelerators of one
    // accepted model, on nodes that fit its CPU and memory share. A batch job
    // can run at its home (a large-model job may need a bigger center).
    bool fits = false;
    for (const Node& n : net.nodes) {
      if (n.model == kNoModel || !(ok >> n.model & 1) || devices[{n.center.value(), n.model}] < k) continue;
      if (!IsLarge(j) && static_cast<int>(n.center.value()) != home) continue;
      const int64_t d = std::min<int64_t>(k, n.devices);
      fits |= j.cpu_milli * d <= n.cpu_milli * k && j.mem_mib * d <= n.mem_mib * k;
      if (fits) break;
    }
    if (!fits) fail(j, fmt::format("{} x {} does not fit", k, cat.MaskToString(ok)));
  }
  // A tenant's stack runs at its home.
  for (const auto& [tenant, st] : tenant_stack) {
    const int home = tenant_home[tenant];
    bool runs = false;
    for (const auto& [cm, n] : devices)
      runs |= cm.first == static_cast<size_t>(home) && (cat.model(cm.second).stacks & st);
    if (!runs) r.failure += " tenant " + w.tenants.Name(tenant) + ": its stack does not run at home;";
  }
  return r;
}

TEST(GeneratorChinaAicc, JobsAreConsistentWithTheNetwork) {
  const Catalog& cat = BuiltinCatalog();
  struct Case {
    const char* network;
    double days;
    uint64_t jobs;
  };
  for (const Case& c :
       {Case{"china-aicc", 2, 0}, Case{"cn-alliance", 7, 0}, Case{"china-aicc", 7, 40000}, Case{"tiny", 7, 0}}) {
    SCOPED_TRACE(fmt::format("{} {} days {} jobs", c.network, c.days, c.jobs));
    auto net = LoadNetwork(c.network, cat);
    ASSERT_TRUE(net.ok()) << net.status().message();
    GenOptions o = NetOpts(*net, c.days, c.jobs, 5);
    auto gen = WorkloadGenerator::Create(o, cat);
    ASSERT_TRUE(gen.ok()) << gen.status().message();
    auto w = GenerateWorkload(o, cat);
    ASSERT_TRUE(w.ok());
    const double n = static_cast<double>(w->jobs.size());
    if (c.jobs) {
      EXPECT_EQ(w->jobs.size(), c.jobs);
    }
    NetCheck r = CheckNetworkWorkload(*w, *net, o);
    EXPECT_EQ(r.failure, "");
    EXPECT_EQ(w->tenants.size(), 8u);
    EXPECT_GE(r.large, 1u);
    EXPECT_EQ(r.large, gen->large_jobs());
    if (n < 10000) continue;  // tiny: too few jobs for the shares below
    // Services: about 2 %; large-model jobs: at least one, as planned.
    EXPECT_NEAR(r.services / n, 0.02, 0.004);
    // Deferrable: about 20 % of the short and medium batch jobs.
    EXPECT_NEAR(static_cast<double>(r.deferrable) / r.short_batch, 0.20, 0.015);
    // Datasets: about 80 % at home; lognormal with a median of 50 GB.
    EXPECT_NEAR(static_cast<double>(r.data_home) / n, 0.8, 0.03);
    std::nth_element(r.data_gb.begin(), r.data_gb.begin() + r.data_gb.size() / 2, r.data_gb.end());
    EXPECT_NEAR(r.data_gb[r.data_gb.size() / 2], 50, 5);
    // Offered load: about --load over the span (large-model jobs counted inside it).
    double acc_s = 0;
    const double span = c.days * 86400;
    for (const Job& j : w->jobs) {
      const double run = IsLarge(j) ? std::min(j.work, span - ToSeconds(j.submit)) : j.work;
      acc_s += static_cast<double>(j.GpuMilli()) / 1000 * run;
    }
    const double load = acc_s / (span * static_cast<double>(o.gpus));
    EXPECT_NEAR(load, o.load, 0.15 * o.load);
    // Arrivals span the days asked for.
    EXPECT_LE(ToSeconds(w->jobs.back().submit), span * 1.02);
    EXPECT_GE(ToSeconds(w->jobs.back().submit), span * 0.95);
    if (c.jobs == 0) {
      EXPECT_NEAR(n, gen->arrival_rate() * span, 5 * std::sqrt(n) + r.large);
    }
  }
}

// On the full network the large-model jobs are 1,000 or more accelerators,
// never more than one center holds of one accepted model; the tenants' stacks
// follow their homes (a home with only Ascend means CANN).
TEST(GeneratorChinaAicc, LargeModelJobsAndTenantStacks) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("china-aicc", cat);
  ASSERT_TRUE(net.ok()) << net.status().message();
  GenOptions o = NetOpts(*net, 30, 200000, 2);
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  size_t large = 0;
  std::map<std::string, std::set<std::string>> stacks;
  for (const Job& j : w->jobs) {
    if (IsLarge(j)) {
      ++large;
      EXPECT_GE(j.num_gpus, 1000u) << j.id;
      EXPECT_LE(j.num_gpus, 12000u) << j.id;
      EXPECT_EQ(j.num_gpus % 8, 0u) << j.id;
      EXPECT_GT(j.data_gb, 999) << j.id;
    }
    std::string st;
    for (size_t i = 0; i < cat.stacks().size(); ++i)
      if (j.stacks >> i & 1) st = cat.stacks()[i];
    if (!st.empty()) stacks[w->tenants.Name(j.tenant)].insert(st);
  }
  // 47,896 accelerators: one a month per 10,000, so 5.
  EXPECT_EQ(large, 5u);
  // Most tenants write CUDA, two CANN, one a domestic GPU stack.
  std::map<std::string, int> by_stack;
  for (const auto& [tenant, s] : stacks) {
    ASSERT_EQ(s.size(), 1u) << tenant;
    ++by_stack[*s.begin()];
  }
  EXPECT_EQ(by_stack["cuda"], 5);
  EXPECT_EQ(by_stack["cann"], 2);
  EXPECT_EQ(by_stack["musa"] + by_stack["bang"] + by_stack["corex"], 1);
  // A tenant at a center with only CANN accelerators writes for CANN.
  std::map<std::string, ModelMask> center_models;
  for (const Node& n : net->nodes)
    if (n.model != kNoModel) center_models[net->centers[n.center].name] |= ModelMask{1} << n.model;
  for (const Job& j : w->jobs) {
    const ModelMask here = center_models[w->places.Name(j.home)];
    if (here && (here & ~cat.ModelsForStacks(StackMask{1} << *cat.FindStack("cann"))) == 0) {
      ASSERT_TRUE(j.stacks == 0 || j.stacks == StackMask{1} << *cat.FindStack("cann")) << j.id;
    }
  }
}

// A small network still gets a large-model job, cut to what one of its centers holds.
TEST(GeneratorChinaAicc, SmallNetworksStillHaveALargeModelJob) {
  const Catalog& cat = BuiltinCatalog();
  for (const char* name : {"tiny", "cn-alliance", "china-aicc:1/100"}) {
    auto net = LoadNetwork(name, cat);
    ASSERT_TRUE(net.ok()) << net.status().message();
    GenOptions o = NetOpts(*net, 30, 0, 3);
    auto w = GenerateWorkload(o, cat);
    ASSERT_TRUE(w.ok());
    NetCheck r = CheckNetworkWorkload(*w, *net, o);
    EXPECT_EQ(r.failure, "") << name;
    EXPECT_GE(r.large, 1u) << name;
  }
}

// data/workloads/china-aicc-week.csv.gz is exactly what its documented command
// writes (data/workloads/README.md); regenerate it when the profile changes.
TEST(GeneratorChinaAicc, BundledWeekIsReproducible) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("china-aicc:1/10", cat);
  ASSERT_TRUE(net.ok()) << net.status().message();
  GenOptions o = NetOpts(*net, 7, 40000, 1);
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  auto bundled = ReadFileMaybeGz(std::string(SUANLI_SOURCE_DIR) + "/data/workloads/china-aicc-week.csv.gz");
  ASSERT_TRUE(bundled.ok()) << bundled.status().message();
  EXPECT_TRUE(*bundled == NativeWorkloadString(*w, cat))
      << "regenerate with: suanli gen --profile china-aicc --network china-aicc:1/10 --days 7 "
         "--jobs 40000 --seed 1 --out data/workloads/china-aicc-week.csv.gz";
  NetCheck r = CheckNetworkWorkload(*w, *net, o);
  EXPECT_EQ(r.failure, "");
  EXPECT_EQ(r.large, 1u);
}

TEST(GeneratorChinaAicc, DeterministicStreamedAndReimported) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("cn-alliance", cat);
  ASSERT_TRUE(net.ok());
  GenOptions o = NetOpts(*net, 10, 0, 7);
  std::string a = TempPath("net_a.csv"), b = TempPath("net_b.csv.gz"), c = TempPath("net_c.csv"),
              whole = TempPath("net_whole.csv");
  GenSummary sum;
  ASSERT_TRUE(WriteGeneratedWorkload(o, cat, a, &sum).ok());
  ASSERT_TRUE(WriteGeneratedWorkload(o, cat, b, nullptr).ok());
  GenOptions other = o;
  other.seed = 8;
  ASSERT_TRUE(WriteGeneratedWorkload(other, cat, c, nullptr).ok());
  EXPECT_GT(sum.jobs, 40000u);  // several chunks
  EXPECT_EQ(ReadAll(a), *ReadFileMaybeGz(b));
  EXPECT_NE(ReadAll(a), ReadAll(c));
  EXPECT_EQ(sum.work_scale, 1);
  EXPECT_GT(sum.services, 0u);
  EXPECT_GT(sum.deferrable, 0u);
  EXPECT_GE(sum.large_jobs, 1u);

  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->jobs.size(), sum.jobs);
  ASSERT_TRUE(WriteNativeWorkload(*w, cat, whole).ok());
  EXPECT_EQ(ReadAll(a), ReadAll(whole));
  EXPECT_EQ(ReadAll(a).rfind(std::string(kNativeMagic) + "\n" + NativeHeaderLine(true) + "\n", 0), 0u);

  auto back = ImportWorkload(a, "native", cat, ImportOptions{}, nullptr);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->jobs.size(), w->jobs.size());
  auto place = [](const Workload& x, uint16_t p) { return p == kNoPlace ? std::string() : x.places.Name(p); };
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    const Job &x = w->jobs.vec()[i], &y = back->jobs.vec()[i];
    ASSERT_TRUE(x.submit == y.submit && x.num_gpus == y.num_gpus && x.work == y.work && x.stacks == y.stacks &&
                x.models == y.models && x.data_gb == y.data_gb && x.latency_ms == y.latency_ms &&
                x.service == y.service && x.deadline == y.deadline && x.checkpoint == y.checkpoint)
        << i;
    ASSERT_EQ(place(*w, x.home), place(*back, y.home)) << i;
    ASSERT_EQ(place(*w, x.data_at), place(*back, y.data_at)) << i;
    ASSERT_EQ(place(*w, x.region), place(*back, y.region)) << i;
  }
  for (const auto& p : {a, b, c, whole}) std::filesystem::remove(p);
}

// --jobs N gives exactly N jobs over --days; the batch run times are scaled so
// that the load stays as asked.
TEST(GeneratorChinaAicc, JobCountScalesRunTimes) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("cn-alliance", cat);
  ASSERT_TRUE(net.ok());
  GenOptions natural = NetOpts(*net, 14, 0, 4);
  auto g0 = WorkloadGenerator::Create(natural, cat);
  ASSERT_TRUE(g0.ok());
  EXPECT_EQ(g0->work_scale(), 1);
  GenOptions fewer = NetOpts(*net, 14, 5000, 4);
  auto g1 = WorkloadGenerator::Create(fewer, cat);
  ASSERT_TRUE(g1.ok());
  // Fewer jobs than the load needs: longer run times, by more than the ratio of
  // the job counts (services keep their lifetimes, run times end within the span).
  const double natural_jobs = g0->arrival_rate() * 14 * 86400;
  ASSERT_GT(natural_jobs, 2 * 5000);
  EXPECT_GT(g1->work_scale(), natural_jobs / 5000);
  auto w = GenerateWorkload(fewer, cat);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->jobs.size(), 5000u);
  // ... and the load is still what was asked for.
  const double span = 14 * 86400.0;
  double acc_s = 0;
  for (const Job& j : w->jobs) {
    if (!IsLarge(j)) {
      EXPECT_LE(j.work, span) << j.id;
    }
    const double run = IsLarge(j) ? std::min(j.work, span - ToSeconds(j.submit)) : j.work;
    acc_s += static_cast<double>(j.GpuMilli()) / 1000 * run;
  }
  EXPECT_NEAR(acc_s / (span * static_cast<double>(fewer.gpus)), fewer.load, 0.15 * fewer.load);
  // Tiny counts still work (no large-model job when there is no room for one).
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}}) {
    auto small = GenerateWorkload(NetOpts(*net, 14, n, 4), cat);
    ASSERT_TRUE(small.ok());
    EXPECT_EQ(small->jobs.size(), n);
  }
}

TEST(GeneratorChinaAicc, RejectsBadOptions) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork("cn-alliance", cat);
  ASSERT_TRUE(net.ok());
  GenOptions o = NetOpts(*net, 7, 0, 1);
  o.tenants = 3;
  auto g = WorkloadGenerator::Create(o, cat);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("--tenants"), std::string::npos);
  o = NetOpts(*net, -1, 0, 1);
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  o = NetOpts(*net, 7, 0, 1);
  o.target = GenTarget{};  // no centers
  g = WorkloadGenerator::Create(o, cat);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("needs a network"), std::string::npos);
  // Only edge sites.
  o = NetOpts(*net, 7, 0, 1);
  for (auto& c : o.target.centers) c.edge = true;
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  // Other profiles still need --jobs.
  o = NetOpts(*net, 7, 0, 1);
  o.profile = "mixed";
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
}

}  // namespace
}  // namespace suanli
