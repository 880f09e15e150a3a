// The synthetic workload generator: its constants against the bundled traces,
// determinism, job counts, the load formula, the fitted distributions,
// profiles and the round trip through the native importer.
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

#include "io/line_reader.h"
#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/trace.h"
#include "sim/trace_stats.h"
#include "support/generator.h"

namespace suanli {
namespace {

using ::suanli::testing::generator::Opts;
using ::suanli::testing::generator::ReadAll;
using ::suanli::testing::generator::TempPath;

const std::string kTraces = std::string(SUANLI_SOURCE_DIR) + "/data/traces";

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
    const Job &a = w->jobs.vec()[i], &b = back->jobs.vec()[i];
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

}  // namespace
}  // namespace suanli
