// Trace statistics (`suanli trace info`): a hand-built workload, a bundled
// trace, and the command line.
#include "sim/trace_stats.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include "support/cli.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/model_loader.h"
#include "io/trace.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

const std::string kTraces = std::string(SUANLI_SOURCE_DIR) + "/data/traces";

Job MakeJob(Time submit, uint32_t gpus, uint16_t milli, double work, TenantId tenant, uint32_t user) {
  Job j;
  j.submit = submit;
  j.num_gpus = gpus;
  j.gpu_milli = milli;
  j.work = work;
  j.tenant = tenant;
  j.user = user;
  j.cpu_milli = 2000;
  return j;
}

TEST(GpuBins, Boundaries) {
  auto bin = [](uint32_t g, uint16_t milli = kWholeDevice) {
    Job j;
    j.num_gpus = g;
    j.gpu_milli = milli;
    return std::string(GpuBinLabel(GpuBin(j)));
  };
  EXPECT_EQ(bin(0), "0");
  EXPECT_EQ(bin(1, 500), "shared");
  EXPECT_EQ(bin(1), "1");
  EXPECT_EQ(bin(2), "2");
  EXPECT_EQ(bin(3), "3-4");
  EXPECT_EQ(bin(4), "3-4");
  EXPECT_EQ(bin(5), "5-8");
  EXPECT_EQ(bin(8), "5-8");
  EXPECT_EQ(bin(9), "9-16");
  EXPECT_EQ(bin(16), "9-16");
  EXPECT_EQ(bin(17), "17-32");
  EXPECT_EQ(bin(32), "17-32");
  EXPECT_EQ(bin(33), "33-63");
  EXPECT_EQ(bin(63), "33-63");
  EXPECT_EQ(bin(64), "64+");
  EXPECT_EQ(bin(1000), "64+");
}

TEST(Quantile, TypeSeven) {
  std::vector<double> v = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Quantile(&v, 0), 1);
  EXPECT_DOUBLE_EQ(Quantile(&v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile(&v, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(Quantile(&v, 1), 4);
  std::vector<double> empty;
  EXPECT_EQ(Quantile(&empty, 0.5), 0);
}

TEST(TraceStats, HandBuiltWorkload) {
  Catalog cat = testing::TestCatalog();  // models A, B (cuda), C (cann)
  Workload w;
  w.name = "hand";
  TenantId ta = w.tenants.Intern("alpha"), tb = w.tenants.Intern("beta");
  w.tenants.Intern("idle");  // a tenant without jobs is not counted
  uint32_t u1 = w.users.Intern("u1"), u2 = w.users.Intern("u2"), u3 = w.users.Intern("u3");
  // submit times: 00:30, 01:10, 01:50, 25:00 (hour 1 of day 2), 26:00, 49:30
  w.jobs.push_back(MakeJob(30 * kMinute, 0, kWholeDevice, 100, ta, u1));
  w.jobs.push_back(MakeJob(70 * kMinute, 1, 250, 200, ta, u1));
  w.jobs.push_back(MakeJob(110 * kMinute, 1, kWholeDevice, 300, ta, u2));
  w.jobs.push_back(MakeJob(25 * kHour, 8, kWholeDevice, 400, tb, u2));
  w.jobs.push_back(MakeJob(26 * kHour, 64, kWholeDevice, 500, ta, u3));
  w.jobs.push_back(MakeJob(49 * kHour + 30 * kMinute, 3, kWholeDevice, 1000, ta, u1));
  w.jobs[JobId{1}].models = 0b001;  // A
  w.jobs[JobId{2}].models = 0b011;  // A|B
  w.jobs[JobId{3}].stacks = 0b10;   // cann
  w.jobs[JobId{3}].cls = WorkloadClass::kTransformer;
  w.jobs[JobId{4}].cls = WorkloadClass::kTransformer;
  w.jobs[JobId{5}].cls = WorkloadClass::kRl;
  w.jobs[JobId{5}].speed_override = 0;
  w.overrides.push_back({{{0, 10.0}}});

  TraceStats s = ComputeTraceStats(w, cat);
  EXPECT_EQ(s.jobs, 6u);
  EXPECT_EQ(s.first_submit, 30 * kMinute);
  EXPECT_EQ(s.last_submit, 49 * kHour + 30 * kMinute);
  EXPECT_EQ(s.span, 49 * kHour);
  EXPECT_DOUBLE_EQ(s.arrivals_per_hour, 6.0 / 49);
  EXPECT_EQ(s.by_hour[0], 1u);
  EXPECT_EQ(s.by_hour[1], 4u);  // 01:10, 01:50, day 2 01:00, day 3 01:30
  EXPECT_EQ(s.by_hour[2], 1u);
  EXPECT_EQ(s.busiest_hour, 1);
  EXPECT_EQ(s.tenants, 2u);
  EXPECT_EQ(s.users, 3u);
  ASSERT_EQ(s.top_tenants.size(), 2u);
  EXPECT_EQ(s.top_tenants[0], (std::pair<std::string, uint64_t>{"alpha", 5}));
  EXPECT_EQ(s.top_tenants[1], (std::pair<std::string, uint64_t>{"beta", 1}));
  EXPECT_EQ(s.gpu_bins[0], 1u);  // 0
  EXPECT_EQ(s.gpu_bins[1], 1u);  // shared
  EXPECT_EQ(s.gpu_bins[2], 1u);  // 1
  EXPECT_EQ(s.gpu_bins[4], 1u);  // 3-4
  EXPECT_EQ(s.gpu_bins[5], 1u);  // 5-8
  EXPECT_EQ(s.gpu_bins[9], 1u);  // 64+
  EXPECT_EQ(s.max_gpus, 64u);
  const double acc = 0 + 0.25 + 1 + 8 + 64 + 3;
  EXPECT_DOUBLE_EQ(s.mean_accelerators, acc / 6);
  EXPECT_DOUBLE_EQ(s.accelerator_seconds, 0.25 * 200 + 300 + 8 * 400 + 64 * 500 + 3 * 1000);
  EXPECT_DOUBLE_EQ(s.cpu_core_seconds, 2.0 * (100 + 200 + 300 + 400 + 500 + 1000));
  EXPECT_DOUBLE_EQ(s.work_mean, 2500.0 / 6);
  EXPECT_DOUBLE_EQ(s.work_p50, 350);
  EXPECT_DOUBLE_EQ(s.work_p90, 750);
  EXPECT_DOUBLE_EQ(s.work_p99, 975);
  EXPECT_DOUBLE_EQ(s.work_max, 1000);
  EXPECT_EQ(s.any_model, 4u);
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.models[0], (std::pair<std::string, uint64_t>{"A", 2}));
  EXPECT_EQ(s.models[1], (std::pair<std::string, uint64_t>{"B", 1}));
  EXPECT_EQ(s.any_stack, 5u);
  ASSERT_EQ(s.stacks.size(), 1u);
  EXPECT_EQ(s.stacks[0], (std::pair<std::string, uint64_t>{"cann", 1}));
  EXPECT_EQ(s.with_measured_speeds, 1u);
  EXPECT_EQ(s.classes[static_cast<int>(WorkloadClass::kOther)], 3u);
  EXPECT_EQ(s.classes[static_cast<int>(WorkloadClass::kTransformer)], 2u);
  EXPECT_EQ(s.classes[static_cast<int>(WorkloadClass::kRl)], 1u);
  EXPECT_DOUBLE_EQ(s.OfferedLoad(10), s.accelerator_seconds / (49 * 3600.0 * 10));
  EXPECT_EQ(s.OfferedLoad(0), 0);
}

TEST(TraceStats, EmptyWorkload) {
  Workload w;
  TraceStats s = ComputeTraceStats(w, testing::TestCatalog());
  EXPECT_EQ(s.jobs, 0u);
  EXPECT_EQ(s.span, 0);
  EXPECT_EQ(s.arrivals_per_hour, 0);
  EXPECT_EQ(s.OfferedLoad(100), 0);
}

// openb_pod_list_default (data/traces/README): 8,152 pods; 1,088 ask for no GPU,
// 6,989 for one (3,078 of them for a share), 16 for 2, 15 for 4, 44 for 8;
// creation times 0 to 12,901,761 s.
TEST(TraceStats, OpenbDefault) {
  const Catalog& cat = BuiltinCatalog();
  ImportReport report;
  auto w = ImportWorkload(kTraces + "/alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz", "", cat,
                          ImportOptions{}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  TraceStats s = ComputeTraceStats(*w, cat);
  EXPECT_EQ(s.jobs, 8152u);
  EXPECT_EQ(report.rows, 8152u);
  EXPECT_EQ(s.gpu_bins[0], 1088u);
  EXPECT_EQ(s.gpu_bins[1], 3078u);
  EXPECT_EQ(s.gpu_bins[2], 6989u - 3078u);
  EXPECT_EQ(s.gpu_bins[3], 16u);
  EXPECT_EQ(s.gpu_bins[4], 15u);
  EXPECT_EQ(s.gpu_bins[5], 44u);
  EXPECT_EQ(s.max_gpus, 8u);
  EXPECT_EQ(s.span, Seconds(12'901'761));
  EXPECT_EQ(s.any_model, 8152u);  // the default trace names no GPU type
  uint64_t hours = 0;
  for (uint64_t n : s.by_hour) hours += n;
  EXPECT_EQ(hours, 8152u);
}

// Tiresias 60_job (tiresias/README): 60 jobs; 30 ask for 1 GPU, 10 for 2, 10 for 4, 10 for 8.
TEST(TraceStats, Tiresias60Jobs) {
  const Catalog& cat = BuiltinCatalog();
  auto w = ImportWorkload(kTraces + "/tiresias/60_job.csv.gz", "", cat, ImportOptions{}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  TraceStats s = ComputeTraceStats(*w, cat);
  EXPECT_EQ(s.jobs, 60u);
  EXPECT_EQ(s.gpu_bins[2], 30u);
  EXPECT_EQ(s.gpu_bins[3], 10u);
  EXPECT_EQ(s.gpu_bins[4], 10u);
  EXPECT_EQ(s.gpu_bins[5], 10u);
  EXPECT_DOUBLE_EQ(s.mean_accelerators, (30 + 20 + 40 + 80) / 60.0);
  EXPECT_EQ(s.first_submit, 0);
}

// ---------------------------------------------------------------------------
// Command line

int RunSuanli(const std::string& args, std::string* out) {
  auto r = testing::RunSuanli(args);
  *out += r.out;
  return r.code;
}

TEST(TraceCli, InfoTextAndJson) {
  const std::string openb = kTraces + "/alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz";
  std::string out;
  ASSERT_EQ(RunSuanli("trace info " + openb, &out), 0) << out;
  EXPECT_NE(out.find("8,152 jobs"), std::string::npos) << out;
  EXPECT_NE(out.find("shared        3,078"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(RunSuanli("trace info --json --gpus 6212 " + openb, &out), 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["jobs"], 8152);
  EXPECT_EQ(j["import"]["rows"], 8152);
  EXPECT_EQ(j["accelerators_per_job"]["shared"], 3078);
  EXPECT_EQ(j["accelerators_per_job"]["0"], 1088);
  EXPECT_EQ(j["jobs_by_hour"].size(), 24u);
  EXPECT_TRUE(j.contains("offered_load"));
}

TEST(TraceCli, Formats) {
  std::string out;
  ASSERT_EQ(RunSuanli("trace formats", &out), 0);
  for (const auto& f : TraceFormats()) EXPECT_NE(out.find(f.name), std::string::npos) << f.name;
  for (const auto& f : ClusterFormats()) EXPECT_NE(out.find(f.name), std::string::npos) << f.name;
}

TEST(TraceCli, BadInputExitsWithTwoAndNamesTheLine) {
  auto path = (std::filesystem::temp_directory_path() / "suanli_trace_info_bad.csv").string();
  {
    std::ofstream f(path);
    f << "# suanli workload v1\n"
         "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,"
         "estimate_s,"
         "priority,durations\n"
         "0,a,b,1,1,1000,0,0,,,cnn,10,0,0,\n"
         "1,a,b,2,x,1000,0,0,,,cnn,10,0,0,\n";
  }
  std::string out;
  EXPECT_EQ(RunSuanli("trace info " + path, &out), 2);
  EXPECT_NE(out.find("suanli_trace_info_bad.csv:4"), std::string::npos) << out;
  EXPECT_NE(out.find("gpus"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("trace info --skip-invalid " + path, &out), 0) << out;
  EXPECT_NE(out.find("1 invalid rows skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped: "), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("trace info --format nope " + path, &out), 2);
  out.clear();
  EXPECT_EQ(RunSuanli("trace info /nonexistent/trace.csv", &out), 2);
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace suanli
