// The synthetic workload generator: its constants against the bundled traces,
// determinism, job counts, the load formula, the fitted distributions, the
// round trip through the native importer, and the command line.
#include "sim/generator.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include "support/cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "io/line_reader.h"
#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/trace.h"
#include "sim/trace_stats.h"

namespace suanli {
namespace {

const std::string kTraces = std::string(SUANLI_SOURCE_DIR) + "/data/traces";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("suanli_gen_test_" + name)).string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

GenOptions Opts(uint64_t jobs, uint64_t seed = 1) {
  GenOptions o;
  o.jobs = jobs;
  o.seed = seed;
  return o;
}

// ---------------------------------------------------------------------------
// The constants

// Recomputes the fit from data/traces and checks the compiled-in constants are
// what the traces give. On a mismatch the message carries the new source.
TEST(GeneratorFit, BuiltinMatchesBundledTraces) {
  auto fit = FitGeneratorFromTraces(kTraces);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  const GeneratorFit& b = BuiltinFit();
  const std::string hint = "\nrefit source:\n" + FitToSource(*fit);

  ASSERT_EQ(fit->philly_sizes.size(), b.philly_sizes.size()) << hint;
  for (size_t i = 0; i < b.philly_sizes.size(); ++i) {
    EXPECT_EQ(fit->philly_sizes[i].gpus, b.philly_sizes[i].gpus) << i << hint;
    EXPECT_EQ(fit->philly_sizes[i].cls, b.philly_sizes[i].cls) << i << hint;
    EXPECT_EQ(fit->philly_sizes[i].jobs, b.philly_sizes[i].jobs) << i << hint;
  }
  ASSERT_EQ(fit->openb_pods.size(), b.openb_pods.size()) << hint;
  for (size_t i = 0; i < b.openb_pods.size(); ++i) {
    const auto &x = fit->openb_pods[i], &y = b.openb_pods[i];
    EXPECT_TRUE(x.gpus == y.gpus && x.gpu_milli == y.gpu_milli && x.cpu_milli == y.cpu_milli &&
                x.mem_mib == y.mem_mib && x.pods == y.pods)
        << "openb row " << i << hint;
  }
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(fit->diurnal[k], b.diurnal[k], 1e-6) << k << hint;
  EXPECT_NEAR(fit->tenant_zipf, b.tenant_zipf, 1e-6) << hint;
  EXPECT_EQ(fit->tenant_count, b.tenant_count) << hint;
}

// The run-time table needs philly/philly_runtime.csv.gz, which is bundled only
// where the data set includes it; the published figures below are checked always.
TEST(GeneratorFit, DurationTableMatchesPhillyRuntimes) {
  auto fit = FitGeneratorFromTraces(kTraces);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  if (fit->duration_quantiles.empty())
    GTEST_SKIP() << "data/traces/philly/philly_runtime.csv.gz is not bundled; the table cannot be "
                    "refitted here";
  const auto& b = BuiltinFit().duration_quantiles;
  ASSERT_EQ(fit->duration_quantiles.size(), b.size()) << FitToSource(*fit);
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_DOUBLE_EQ(fit->duration_quantiles[i].first, b[i].first) << i;
    EXPECT_NEAR(fit->duration_quantiles[i].second, b[i].second, 1e-3) << i << FitToSource(*fit);
  }
}

TEST(GeneratorFit, AgreesWithPublishedFigures) {
  const GeneratorFit& f = BuiltinFit();
  // Philly runtimes (philly/README): 83,154 values, median 1,186 s, max 4,628,239 s, mean 14,613 s.
  auto median = std::find_if(f.duration_quantiles.begin(), f.duration_quantiles.end(),
                             [](const auto& q) { return q.first == 0.5; });
  ASSERT_NE(median, f.duration_quantiles.end());
  EXPECT_EQ(median->second, 1186);
  EXPECT_EQ(f.duration_quantiles.back().second, 4628239);
  auto gen = WorkloadGenerator::Create(Opts(10), BuiltinCatalog());
  ASSERT_TRUE(gen.ok());
  EXPECT_NEAR(gen->mean_duration(), 14613.3, 0.02 * 14613.3);  // the interpolated table's mean

  // Gavel msr/seed=0 (gavel-philly-vc/README): 15,264 jobs; GPUs 1: 10,480, 2: 463, 4: 2,044,
  // 7: 2, 8: 1,916, 12: 6, 16: 255, 20: 1, 24: 5, 32: 91, 64: 1.
  std::map<uint32_t, uint32_t> by_gpus;
  uint32_t total = 0;
  for (const auto& s : f.philly_sizes) {
    by_gpus[s.gpus] += s.jobs;
    total += s.jobs;
  }
  EXPECT_EQ(total, 15264u);
  const std::map<uint32_t, uint32_t> kGavel = {{1, 10480}, {2, 463}, {4, 2044}, {7, 2},   {8, 1916}, {12, 6},
                                               {16, 255},  {20, 1},  {24, 5},   {32, 91}, {64, 1}};
  EXPECT_EQ(by_gpus, kGavel);

  // openb default (data/traces/README): 8,152 pods; 1,088 ask for no GPU, 6,989 for one
  // (3,078 of them for a share), 16 for 2, 15 for 4, 44 for 8.
  std::map<std::string, uint32_t> openb;
  for (const auto& p : f.openb_pods) {
    openb["all"] += p.pods;
    openb[std::to_string(p.gpus)] += p.pods;
    if (p.gpu_milli < kWholeDevice) openb["shared"] += p.pods;
  }
  EXPECT_EQ(openb["all"], 8152u);
  EXPECT_EQ(openb["0"], 1088u);
  EXPECT_EQ(openb["1"], 6989u);
  EXPECT_EQ(openb["shared"], 3078u);
  EXPECT_EQ(openb["2"], 16u);
  EXPECT_EQ(openb["4"], 15u);
  EXPECT_EQ(openb["8"], 44u);

  // Diurnal profile: mean 1, quiet before dawn, busy in the afternoon (the Helios sample).
  auto h = HourlyProfile(f.diurnal);
  double sum = 0;
  for (double x : h) sum += x;
  EXPECT_NEAR(sum, 24, 1e-9);
  EXPECT_LT(h[5], 0.2);
  EXPECT_GT(h[14], 1.8);
  EXPECT_EQ(f.tenant_count, 11u);
  EXPECT_GT(f.tenant_zipf, 0.5);
  EXPECT_LT(f.tenant_zipf, 1.5);
}

// ---------------------------------------------------------------------------
// Determinism and counts

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  const Catalog& cat = BuiltinCatalog();
  for (std::string ext : {".csv", ".csv.gz"}) {
    std::string a = TempPath("a" + ext), b = TempPath("b" + ext), c = TempPath("c" + ext);
    ASSERT_TRUE(WriteGeneratedWorkload(Opts(50000, 7), cat, a, nullptr).ok());
    ASSERT_TRUE(WriteGeneratedWorkload(Opts(50000, 7), cat, b, nullptr).ok());
    ASSERT_TRUE(WriteGeneratedWorkload(Opts(50000, 8), cat, c, nullptr).ok());
    std::string ta = ReadAll(a), tb = ReadAll(b), tc = ReadAll(c);
    EXPECT_FALSE(ta.empty());
    EXPECT_EQ(ta, tb) << ext;
    EXPECT_NE(ta, tc) << ext;
    std::filesystem::remove(a);
    std::filesystem::remove(b);
    std::filesystem::remove(c);
  }
}

// A fixed seed always gives these first jobs: a change to the sampling is a
// change to every generated workload and must be deliberate.
TEST(Generator, FirstJobsAreStable) {
  GenOptions o = Opts(3, 1);
  auto a100 = BuiltinCatalog().Find("A100-80GB");
  ASSERT_TRUE(a100.has_value());
  o.target.models = ModelMask{1} << *a100;
  auto w = GenerateWorkload(o, BuiltinCatalog());
  ASSERT_TRUE(w.ok());
  std::string text = NativeWorkloadString(*w, BuiltinCatalog());
  EXPECT_EQ(text,
            "# suanli workload v1\n"
            "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,"
            "estimate_s,"
            "priority,durations\n"
            "0,t05,t05-u13,0,8,1000,64000,262144,A100-80GB,cuda,cnn,61,0,0,\n"
            "1,t01,t01-u03,2.588,1,220,8000,30517,,cuda,science,1517,0,0,\n"
            "2,t00,t00-u08,2.783,4,1000,32000,131072,A100-80GB,cuda,cnn,836,0,0,\n");
}

// The streamed file (several chunks) is what WriteNativeWorkload writes for the
// in-memory workload; it re-imports through the native importer unchanged.
TEST(Generator, StreamEqualsInMemoryAndReimports) {
  const Catalog& cat = BuiltinCatalog();
  GenOptions o = Opts(100003, 3);
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->jobs.size(), 100003u);
  std::string streamed = TempPath("stream.csv"), whole = TempPath("whole.csv");
  GenSummary sum;
  ASSERT_TRUE(WriteGeneratedWorkload(o, cat, streamed, &sum).ok());
  ASSERT_TRUE(WriteNativeWorkload(*w, cat, whole).ok());
  EXPECT_EQ(ReadAll(streamed), ReadAll(whole));
  EXPECT_EQ(sum.jobs, 100003u);

  ImportReport report;
  auto back = ImportWorkload(streamed, "native", cat, ImportOptions{}, &report);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(report.rows, 100003u);
  EXPECT_EQ(report.skipped, 0u);
  ASSERT_EQ(back->jobs.size(), w->jobs.size());
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    const Job &a = w->jobs[i], &b = back->jobs[i];
    ASSERT_TRUE(a.submit == b.submit && a.num_gpus == b.num_gpus && a.gpu_milli == b.gpu_milli &&
                a.cpu_milli == b.cpu_milli && a.mem_mib == b.mem_mib && a.models == b.models && a.stacks == b.stacks &&
                a.cls == b.cls && a.work == b.work && a.priority == b.priority)
        << "job " << i;
    ASSERT_EQ(w->tenants.Name(a.tenant), back->tenants.Name(b.tenant)) << i;
    ASSERT_EQ(w->users.Name(a.user), back->users.Name(b.user)) << i;
  }
  // The gzip file holds the same text.
  std::string gz = TempPath("stream.csv.gz");
  ASSERT_TRUE(WriteGeneratedWorkload(o, cat, gz, nullptr).ok());
  auto text = ReadFileMaybeGz(gz);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, ReadAll(whole));
  for (const auto& p : {streamed, whole, gz}) std::filesystem::remove(p);
}

TEST(Generator, RequestedJobCount) {
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{32767}, uint64_t{32768}, uint64_t{32769}}) {
    std::string path = TempPath("count.csv");
    GenSummary sum;
    ASSERT_TRUE(WriteGeneratedWorkload(Opts(n), BuiltinCatalog(), path, &sum).ok());
    EXPECT_EQ(sum.jobs, n);
    auto back = ImportWorkload(path, "", BuiltinCatalog(), ImportOptions{}, nullptr);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->jobs.size(), n);
    EXPECT_EQ(back->jobs.front().submit, 0);
    std::filesystem::remove(path);
  }
}

TEST(Generator, RejectsBadOptions) {
  const Catalog& cat = BuiltinCatalog();
  GenOptions o = Opts(10);
  o.profile = "nope";
  auto g = WorkloadGenerator::Create(o, cat);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("mixed"), std::string::npos);
  o = Opts(0);
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  o = Opts(10);
  o.load = 0;
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  o.load = std::nan("");
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  o = Opts(10);
  o.gpus = 0;
  EXPECT_FALSE(WorkloadGenerator::Create(o, cat).ok());
  EXPECT_FALSE(WriteGeneratedWorkload(Opts(10), cat, "/nonexistent-dir/x.csv", nullptr).ok());
}

// ---------------------------------------------------------------------------
// The load formula and the distributions

// Offered load of a generated stream, without keeping the jobs.
struct Offered {
  double load = 0;
  double acc = 0, work = 0;
  uint64_t jobs = 0;
};
Offered MeasureLoad(const GenOptions& o) {
  auto gen = WorkloadGenerator::Create(o, BuiltinCatalog());
  EXPECT_TRUE(gen.ok());
  Workload chunk = gen->NewWorkload();
  Offered r;
  double acc_s = 0;
  Time last = 0;
  while (gen->Next(1 << 16, &chunk) > 0) {
    for (const Job& j : chunk.jobs) {
      double a = static_cast<double>(j.GpuMilli()) / kWholeDevice;
      acc_s += a * j.work;
      r.acc += a;
      r.work += j.work;
    }
    r.jobs += chunk.jobs.size();
    last = chunk.jobs.back().submit;
    chunk.jobs.clear();
  }
  r.load = acc_s / (ToSeconds(last) * static_cast<double>(o.gpus));
  r.acc /= static_cast<double>(r.jobs);
  r.work /= static_cast<double>(r.jobs);
  return r;
}

TEST(Generator, OfferedLoadMatchesTheFormula) {
  struct Case {
    const char* profile;
    double load;
    int64_t gpus;
    bool diurnal;
  };
  for (const Case& c : {Case{"mixed", 0.8, 10000, true}, Case{"mixed", 0.5, 5000, false},
                        Case{"philly", 1.2, 20000, true}, Case{"openb", 0.8, 3000, true}}) {
    GenOptions o = Opts(1'000'000, 11);
    o.profile = c.profile;
    o.load = c.load;
    o.gpus = c.gpus;
    o.diurnal = c.diurnal;
    auto gen = WorkloadGenerator::Create(o, BuiltinCatalog());
    ASSERT_TRUE(gen.ok());
    // rate = load x gpus / (E[accelerators] x E[duration])
    EXPECT_NEAR(gen->arrival_rate(), c.load * c.gpus / (gen->mean_accelerators() * gen->mean_duration()), 1e-9);
    Offered r = MeasureLoad(o);
    EXPECT_NEAR(r.load, c.load, 0.04 * c.load) << c.profile;
    EXPECT_NEAR(r.acc, gen->mean_accelerators(), 0.01 * gen->mean_accelerators()) << c.profile;
    EXPECT_NEAR(r.work, gen->mean_duration(), 0.04 * gen->mean_duration()) << c.profile;
  }
}

TEST(Generator, DistributionsMatchTheFittedTargets) {
  const Catalog& cat = BuiltinCatalog();
  GenOptions o = Opts(100'000, 5);
  o.gpus = 2000;
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  TraceStats s = ComputeTraceStats(*w, cat);
  const double n = 100'000;
  // Median run time: Philly's 1,186 s.
  EXPECT_NEAR(s.work_p50, 1186, 0.05 * 1186);
  EXPECT_NEAR(s.work_p90, 12859.4, 0.08 * 12859.4);
  // One-GPU jobs (whole or shared): Gavel's 10,480 of 15,264 = 68.7 %.
  double one = static_cast<double>(s.gpu_bins[1] + s.gpu_bins[2]) / n;
  EXPECT_NEAR(one, 10480.0 / 15264, 0.01);
  // Shared among one-GPU jobs: openb's 3,078 of 6,989 = 44.0 %.
  EXPECT_NEAR(static_cast<double>(s.gpu_bins[1]) / static_cast<double>(s.gpu_bins[1] + s.gpu_bins[2]), 3078.0 / 6989,
              0.015);
  EXPECT_NEAR(static_cast<double>(s.gpu_bins[5]) / n, (2.0 + 1916) / 15264, 0.005);  // 5-8 GPUs
  EXPECT_EQ(s.gpu_bins[0], 0u);
  EXPECT_LE(s.max_gpus, 64u);
  // Classes: science about 5 %, RL about Gavel's 537/15,264 x 0.95.
  EXPECT_NEAR(s.classes[static_cast<int>(WorkloadClass::kScience)] / n, 0.05, 0.005);
  EXPECT_NEAR(s.classes[static_cast<int>(WorkloadClass::kRl)] / n, 537.0 / 15264 * 0.95, 0.005);
  // Constraints: about 33 % name models; 60 % ask for CUDA and 10 % for CANN (the
  // built-in catalog has both; no target network narrows it).
  EXPECT_NEAR(1 - s.any_model / n, 0.33, 0.01);
  EXPECT_NEAR(1 - s.any_stack / n, 0.70, 0.01);
  // Tenants: 11, Zipf-skewed; 20 users each.
  EXPECT_EQ(s.tenants, 11u);
  EXPECT_EQ(s.users, 220u);
  double h11 = 0;
  for (int r = 1; r <= 11; ++r) h11 += std::pow(r, -BuiltinFit().tenant_zipf);
  ASSERT_FALSE(s.top_tenants.empty());
  EXPECT_EQ(s.top_tenants[0].first, "t00");
  EXPECT_NEAR(static_cast<double>(s.top_tenants[0].second) / n, 1 / h11, 0.01);
  // Arrivals follow the hour-of-day profile.
  auto prof = HourlyProfile(BuiltinFit().diurnal);
  int peak = static_cast<int>(std::max_element(prof.begin(), prof.end()) - prof.begin());
  EXPECT_LE(std::abs(s.busiest_hour - peak), 1);
  for (int h = 0; h < 24; ++h) EXPECT_NEAR(s.by_hour[h] / n, prof[h] / 24, 0.004) << "hour " << h;
  // Host demand comes from openb: every whole one-GPU job asks for a CPU/memory pair openb has.
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (const auto& p : BuiltinFit().openb_pods)
    if (p.gpus == 1 && p.gpu_milli == kWholeDevice) pairs.insert({p.cpu_milli, p.mem_mib});
  for (const Job& j : w->jobs) {
    if (j.num_gpus == 1 && !j.IsShared()) {
      ASSERT_TRUE(pairs.count({j.cpu_milli, j.mem_mib})) << j.id;
    }
  }
}

TEST(Generator, Profiles) {
  const Catalog& cat = BuiltinCatalog();
  GenOptions o = Opts(50'000, 9);
  o.profile = "openb";
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  TraceStats s = ComputeTraceStats(*w, cat);
  EXPECT_NEAR(s.gpu_bins[0] / 50000.0, 1088.0 / 8152, 0.01);  // CPU-only pods
  EXPECT_NEAR(s.gpu_bins[1] / 50000.0, 3078.0 / 8152, 0.01);  // shared
  EXPECT_LE(s.max_gpus, 8u);

  o.profile = "philly";
  w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  s = ComputeTraceStats(*w, cat);
  EXPECT_EQ(s.gpu_bins[0], 0u);
  EXPECT_EQ(s.gpu_bins[1], 0u);  // no sharing
  EXPECT_EQ(s.any_model, s.jobs);
  EXPECT_EQ(s.any_stack, s.jobs);
  EXPECT_EQ(s.classes[static_cast<int>(WorkloadClass::kScience)], 0u);
}

// With a target network every job fits it: models it has, stacks it runs, and
// host demand no larger than its nodes' share per accelerator.
TEST(Generator, JobsFitTheTargetNetwork) {
  const Catalog& cat = BuiltinCatalog();
  for (const char* name : {"gavel-philly", "cn-alliance", "tiny", "uniform-100k"}) {
    auto net = LoadNetwork(name, cat);
    ASSERT_TRUE(net.ok()) << net.status().message();
    GenOptions o = Opts(20'000, 4);
    o.gpus = net->TotalDevices();
    o.target = TargetOf(*net);
    for (const char* profile : {"mixed", "openb"}) {
      o.profile = profile;
      auto w = GenerateWorkload(o, cat);
      ASSERT_TRUE(w.ok());
      for (const Job& j : w->jobs) {
        if (j.num_gpus == 0) {
          bool fits = false;
          for (const Node& n : net->nodes) fits |= n.cpu_milli >= j.cpu_milli && n.mem_mib >= j.mem_mib;
          ASSERT_TRUE(fits) << name << " job " << j.id;
          continue;
        }
        ModelMask ok = EligibleModels(j, cat, *w) & o.target.models;
        ASSERT_NE(ok, 0u) << name << " job " << j.id << " models " << cat.MaskToString(j.models);
        const int64_t k = j.IsShared() ? 1 : j.num_gpus;
        // Some node of an eligible model holds its share of the job.
        bool fits = false;
        for (const Node& n : net->nodes) {
          if (n.model == kNoModel || !(ok >> n.model & 1) || n.devices == 0) continue;
          const int64_t d = std::min<int64_t>(k, n.devices);
          fits |= j.cpu_milli * d <= n.cpu_milli * k && j.mem_mib * d <= n.mem_mib * k;
        }
        ASSERT_TRUE(fits) << name << " job " << j.id;
      }
    }
  }
  // cn-alliance has Ascend: some jobs are written for CANN; uniform-100k has none.
  auto cn = LoadNetwork("cn-alliance", cat);
  ASSERT_TRUE(cn.ok());
  GenOptions o = Opts(5000, 2);
  o.target = TargetOf(*cn);
  auto w = GenerateWorkload(o, cat);
  ASSERT_TRUE(w.ok());
  auto cann = cat.FindStack("cann");
  ASSERT_TRUE(cann.has_value());
  size_t n_cann =
      std::count_if(w->jobs.begin(), w->jobs.end(), [&](const Job& j) { return j.stacks == (StackMask{1} << *cann); });
  EXPECT_NEAR(n_cann / 5000.0, 0.10, 0.02);
}

// ---------------------------------------------------------------------------
// The china-aicc profile: a workload for a network of centers

GenOptions NetOpts(const Network& net, double days, uint64_t jobs, uint64_t seed) {
  GenOptions o;
  o.profile = "china-aicc";
  o.jobs = jobs;
  o.days = days;
  o.seed = seed;
  o.gpus = net.TotalDevices();
  o.target = TargetOf(net);
  return o;
}

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
    if (n.model != kNoModel) devices[{n.center, n.model}] += n.devices;
  auto center_of = [&](uint16_t place) -> int {
    if (place == kNoPlace || place >= w.places.size()) return -1;
    auto c = net.FindCenter(w.places.Name(place));
    return c ? static_cast<int>(*c) : -1;
  };
  std::map<uint32_t, int> tenant_home;
  std::map<uint32_t, StackMask> tenant_stack;
  auto fail = [&](const Job& j, const std::string& why) {
    if (r.failure.empty()) r.failure = fmt::format("job {}: {}", j.id, why);
  };
  for (const Job& j : w.jobs) {
    if (j.tenant >= w.tenants.size() || j.user >= w.users.size()) fail(j, "tenant or user");
    const int home = center_of(j.home);
    if (home < 0 || net.centers[home].edge) fail(j, "home is not a center of the network");
    auto [h, fresh] = tenant_home.emplace(j.tenant, home);
    if (h->second != home) fail(j, "a tenant with two homes");
    if (j.stacks) {
      auto [s, first] = tenant_stack.emplace(j.tenant, j.stacks);
      if (s->second != j.stacks) fail(j, "a tenant with two stacks");
    }
    const int data = center_of(j.data_at);
    if (data < 0 || net.centers[data].edge) fail(j, "data_at is not a center");
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
      if (n.model == kNoModel || !(ok >> n.model & 1) || devices[{n.center, n.model}] < k) continue;
      if (!IsLarge(j) && static_cast<int>(n.center) != home) continue;
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
    const Job &x = w->jobs[i], &y = back->jobs[i];
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

// ---------------------------------------------------------------------------
// Command line

int RunSuanli(const std::string& args, std::string* out) {
  auto r = testing::RunSuanli(args);
  *out += r.out;
  return r.code;
}

TEST(GeneratorCli, GenWritesTheSameFileAsTheLibrary) {
  std::string path = TempPath("cli.csv.gz"), lib = TempPath("lib.csv.gz");
  std::string out;
  ASSERT_EQ(RunSuanli("gen --jobs 2000 --seed 42 --gpus 500 --out " + path, &out), 0) << out;
  EXPECT_NE(out.find("wrote 2000 jobs"), std::string::npos) << out;
  auto net = LoadNetwork("uniform-100k", BuiltinCatalog());
  ASSERT_TRUE(net.ok());
  GenOptions o = Opts(2000, 42);
  o.gpus = 500;
  o.target = TargetOf(*net);
  ASSERT_TRUE(WriteGeneratedWorkload(o, BuiltinCatalog(), lib, nullptr).ok());
  EXPECT_EQ(*ReadFileMaybeGz(path), *ReadFileMaybeGz(lib));
  std::filesystem::remove(path);
  std::filesystem::remove(lib);
}

TEST(GeneratorCli, ChinaAiccProfile) {
  std::string path = TempPath("cli_net.csv.gz"), lib = TempPath("lib_net.csv.gz");
  std::string out;
  ASSERT_EQ(RunSuanli("gen --profile china-aicc --network cn-alliance --days 2 --seed 3 --out " + path, &out), 0)
      << out;
  EXPECT_NE(out.find("large-model jobs"), std::string::npos) << out;
  EXPECT_NE(out.find("inference services"), std::string::npos) << out;
  auto net = LoadNetwork("cn-alliance", BuiltinCatalog());
  ASSERT_TRUE(net.ok());
  GenOptions o = NetOpts(*net, 2, 0, 3);
  ASSERT_TRUE(WriteGeneratedWorkload(o, BuiltinCatalog(), lib, nullptr).ok());
  EXPECT_EQ(*ReadFileMaybeGz(path), *ReadFileMaybeGz(lib));
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --days 2 --out " + TempPath("x.csv"), &out), 2);
  EXPECT_NE(out.find("--days"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("gen --profile china-aicc --network cn-alliance --tenants 3 --out " + TempPath("x.csv"), &out),
            2);
  for (const auto& p : {path, lib, TempPath("x.csv")}) std::filesystem::remove(p);
}

TEST(GeneratorCli, BadArgumentsExitWithTwo) {
  std::string out;
  EXPECT_EQ(RunSuanli("gen --jobs 10 --profile nope --out " + TempPath("x.csv"), &out), 2);
  EXPECT_NE(out.find("unknown profile 'nope'"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --load -1 --out " + TempPath("x.csv"), &out), 2);
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --network no-such-net --out " + TempPath("x.csv"), &out), 2);
  out.clear();
  EXPECT_EQ(RunSuanli("gen --out " + TempPath("x.csv"), &out), 2);  // --jobs is required
  std::filesystem::remove(TempPath("x.csv"));
}

}  // namespace
}  // namespace suanli
