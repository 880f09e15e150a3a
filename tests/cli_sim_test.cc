// End-to-end tests of `suanli sim`, `suanli policies`, `suanli network` and
// `suanli trace convert` through the real binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/csv.h"
#include "support/cli.h"

namespace suanli {
namespace {

using testing::ReadFile;
using testing::RunSuanli;
using testing::Source;
using testing::TempDir;
using testing::WriteNativeWorkload;

TEST(CliSim, DefaultRunComparesDispatchPoliciesOnChinaAicc) {
  auto r = RunSuanli("sim -q");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* d :
       {"isolated", "earliest-start", "data-aware", "cost-aware", "carbon-aware", "heterogeneity-aware"})
    EXPECT_NE(r.out.find(std::string("\n") + d + "/fifo+easy "), std::string::npos) << d << "\n" << r.out;
}

TEST(CliSim, OneCenterComparesCenterPoliciesOnTheBundledWorkload) {
  auto r = RunSuanli("sim -q --network gavel-philly");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* p : {"fifo", "fifo+easy", "sjf", "srtf", "las", "qssf", "drf"})
    EXPECT_NE(r.out.find(std::string("\n") + p + " "), std::string::npos) << p << "\n" << r.out;
  EXPECT_NE(r.out.find("15264"), std::string::npos) << r.out;
}

TEST(CliSim, WritesSummaryJobsAndUtilisationAndIsByteIdenticalForASeed) {
  std::string a = TempDir("sim_a"), b = TempDir("sim_b");
  std::string args = "sim -q --workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                     " --network tiny --dispatch earliest-start --policy fifo,las,fifo+easy+random --seed 7 "
                     "--threads 2 --device-mtbf-h 200 --checkpoint-h 0.5 --out ";
  ASSERT_EQ(RunSuanli(args + a).code, 0);
  ASSERT_EQ(RunSuanli(args + b).code, 0);
  for (const char* f : {"summary.json", "jobs.csv", "utilization.csv", "centers.csv", "usage.csv"}) {
    std::string x = ReadFile(a + "/" + f), y = ReadFile(b + "/" + f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f << " differs between two runs with the same seed";
  }
  auto summary = nlohmann::json::parse(ReadFile(a + "/summary.json"));
  ASSERT_EQ(summary["policies"].size(), 3u);
  for (const auto& p : summary["policies"]) {
    EXPECT_EQ(p["jobs"], 60);
    EXPECT_EQ(p["finished"].get<int>() + p["unschedulable"].get<int>(), 60);
    for (const char* k : {"avg_jct_s", "p50_jct_s", "p95_jct_s", "p99_jct_s", "avg_wait_s", "makespan_s", "utilization",
                          "energy_kwh", "cost", "carbon_kg", "goodput", "lost_work_s"})
      EXPECT_TRUE(p.contains(k)) << k;
    EXPECT_EQ(p["dispatch"], "earliest-start");
    EXPECT_EQ(p["centers"].size(), 2u);
    EXPECT_GT(p["energy_kwh"].get<double>(), 0);
  }
  EXPECT_EQ(summary["policies"][0]["policy"], "earliest-start/fifo");
  std::string jobs = ReadFile(a + "/jobs.csv");
  EXPECT_EQ(jobs.substr(0, jobs.find('\n')),
            "policy,job,name,tenant,submit_s,start_s,end_s,wait_s,jct_s,accelerators,gpu_milli,nodes,model,"
            "preemptions,state,center,restarts,lost_work_s,transfer_s");
  EXPECT_EQ(std::count(jobs.begin(), jobs.end(), '\n'), 1 + 3 * 60);
  std::string util = ReadFile(a + "/utilization.csv");
  EXPECT_EQ(util.substr(0, util.find('\n')), "policy,time_s,busy_accelerators,utilization,pending,running");
  std::string usage = ReadFile(a + "/usage.csv");
  EXPECT_EQ(usage.substr(0, usage.find('\n')),
            "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg");
  EXPECT_NE(usage.find("(idle)"), std::string::npos);
  std::string centers = ReadFile(a + "/centers.csv");
  EXPECT_NE(centers.find("earliest-start/fifo,0,east,"), std::string::npos) << centers.substr(0, 300);
}

// A preemptive order, quotas that reclaim and a dispatcher that sees every
// center: once, this input never ended (a job reclaimed its tenant's quota
// from a borrower, the borrower preempted it back by the order's key, and so
// on at one instant). Run under `timeout`, so that a regression fails here
// instead of hanging the suite; every job must finish or be reported
// unschedulable (the simulator checks it, and so does this test).
TEST(CliSim, PreemptiveOrderWithReclaimingQuotasEnds) {
  for (const char* policy : {"las", "srtf"}) {
    std::string out = TempDir(std::string("sim_reclaim_") + policy);
    auto r = testing::RunShell("timeout 120 " + std::string(SUANLI_BINARY) + " sim -q --network china-aicc:1/100 " +
                               "--workload " + Source("tests/data/day-hang.csv.gz") +
                               " --dispatch earliest-start --policy " + policy + " --quotas " +
                               Source("data/quotas/china-aicc.yaml") + " --out " + out);
    ASSERT_EQ(r.code, 0) << policy << " (124: still running after 120 s)\n" << r.out;
    auto summary = nlohmann::json::parse(ReadFile(out + "/summary.json"));
    ASSERT_EQ(summary["policies"].size(), 1u);
    const auto& p = summary["policies"][0];
    EXPECT_EQ(p["jobs"], 423) << policy;
    EXPECT_EQ(p["finished"].get<int>() + p["unschedulable"].get<int>(), 423) << policy;
    EXPECT_GT(p["finished"].get<int>(), 400) << policy;
    std::string jobs = ReadFile(out + "/jobs.csv");
    EXPECT_EQ(std::count(jobs.begin(), jobs.end(), '\n'), 1 + 423) << policy;
  }
}

TEST(CliSim, ClusterTableFromATraceAsNetwork) {
  auto r = RunSuanli("sim -q --workload " +
                     Source("data/traces/alibaba-gpu-v2023-openb/csv/openb_pod_list_gpushare40.csv.gz") +
                     " --network " + Source("data/traces/alibaba-gpu-v2023-openb/csv/openb_node_list_all_node.csv.gz") +
                     " --policy fifo+fgd");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("8152"), std::string::npos) << r.out;
}

TEST(CliSim, BadInputGivesAClearMessageAndExitCode2) {
  struct Case {
    std::string args, needle;
  };
  std::string bad = TempDir("sim_bad");
  {
    std::ofstream f(bad + "/bad.csv");
    f << "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,estimate_s,priority,"
         "durations\n"
      << "j1,t,u,0,1,1000,1000,1024,,,cnn,100,0,0,\n"
      << "j2,t,u,5,two,1000,1000,1024,,,cnn,100,0,0,\n";
    std::ofstream n(bad + "/net.yaml");
    n << "name: broken\ncenters:\n  - name: a\n    pue: 1.2\n    price_per_kwh: 0.5\n    carbon_g_per_kwh: 500\n"
      << "    pools:\n      - name: p\n        nodes:\n"
      << "          - {count: 2, prefix: n-, accelerator: NoSuchGPU, devices: 8, cpu: 64, memory_gib: 512}\n";
  }
  const Case cases[] = {
      {"sim --policy nosuch", "unknown part 'nosuch'"},
      {"sim --policy las+easy", "EASY backfill needs a non-preemptive order"},
      {"sim --network nosuch-network", "nosuch-network"},
      {"sim --workload /nonexistent/trace.csv --format native", "cannot open"},
      {"sim --workload " + bad + "/bad.csv --format native", "bad.csv:3"},
      {"sim --network " + bad + "/net.yaml", "NoSuchGPU"},
  };
  for (const auto& c : cases) {
    auto r = RunSuanli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
  // --skip-invalid counts and reports the bad row, and runs.
  auto r = RunSuanli("sim -q --skip-invalid --network tiny --workload " + bad + "/bad.csv --format native");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 invalid rows skipped"), std::string::npos) << r.out;
}

// A ten-day job without checkpoints on centers that fail every few hours
// would start over for ever: the run ends, the job given up on after
// --max-restarts lost runs, with the reason.
TEST(CliSim, AJobThatOutlastsEveryUptimeIsGivenUpAndTheRunEnds) {
  std::string d = TempDir("sim_given_up");
  WriteNativeWorkload(d + "/w.csv",
                      {"long,t,u,0,1,1000,1000,1024,,,cnn,864000,0,0,", "short,t,u,5,1,1000,1000,1024,,,cnn,100,0,0,"});
  auto r = RunSuanli(
      "sim --network tiny --dispatch earliest-start --policy fifo --format native --center-mtbf-h 3 "
      "--max-restarts 5 --workload " +
      d + "/w.csv --out " + d + "/out");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("its last 6 runs were lost before a checkpoint (failures, outages); given up"),
            std::string::npos)
      << r.out;
  auto summary = nlohmann::json::parse(ReadFile(d + "/out/summary.json"));
  EXPECT_EQ(summary["policies"][0]["unschedulable"], 1);
  EXPECT_EQ(summary["policies"][0]["finished"], 1);
  EXPECT_GE(summary["policies"][0]["restarts"].get<int>(), 6);
}

// Job and tenant names with a comma and a quote are quoted in jobs.csv and
// usage.csv (RFC 4180), read back field by field, and `suanli report` takes
// the files.
TEST(CliSim, NamesWithCommasAndQuotesRoundTripThroughJobsCsvAndReport) {
  std::string d = TempDir("sim_csv_quote");
  WriteNativeWorkload(d + "/w.csv",
                      {"\"train, v2 \"\"big\"\"\",\"lab, \"\"north\"\"\",u,0,1,1000,1000,1024,,,cnn,100,0,0,",
                       "plain,t,u,5,1,1000,1000,1024,,,cnn,100,0,0,"});
  auto r = RunSuanli("sim -q --network tiny --dispatch earliest-start --policy fifo --format native --workload " + d +
                     "/w.csv --out " + d + "/out");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string jobs = ReadFile(d + "/out/jobs.csv");
  EXPECT_NE(jobs.find(",\"train, v2 \"\"big\"\"\",\"lab, \"\"north\"\"\","), std::string::npos) << jobs;
  // Every row has as many fields as the header once quotes are honoured.
  std::istringstream lines(jobs);
  std::string line, header;
  std::getline(lines, header);
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  ASSERT_TRUE(SplitCsv(header, ',', &fields, &storage));
  const size_t columns = fields.size();
  int rows = 0;
  bool found = false;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(SplitCsv(line, ',', &fields, &storage)) << line;
    ASSERT_EQ(fields.size(), columns) << line;
    if (fields[2] == "train, v2 \"big\"") {
      EXPECT_EQ(fields[3], "lab, \"north\"");
      found = true;
    }
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  EXPECT_TRUE(found) << jobs;
  std::string usage = ReadFile(d + "/out/usage.csv");
  EXPECT_NE(usage.find(",\"lab, \"\"north\"\"\","), std::string::npos) << usage;
  auto rep = RunSuanli("report " + d + "/out");
  EXPECT_EQ(rep.code, 0) << rep.out;
  EXPECT_NE(ReadFile(d + "/out/report.html").find("jobs.csv: 2 rows"), std::string::npos);
  auto use = RunSuanli("usage " + d + "/out --csv");
  EXPECT_EQ(use.code, 0) << use.out;
  EXPECT_NE(use.out.find("\"lab, \"\"north\"\"\""), std::string::npos) << use.out;
}

// Idle accelerators are metered over one horizon common to every run
// compared (the longest makespan, or --idle-horizon-h); summary.json gives the
// jobs' own energy, cost and carbon apart from the idle ones.
TEST(CliSim, IdleEnergyOverOneHorizonCommonToTheRunsAndJobsEnergyApart) {
  std::string d = TempDir("sim_idle_horizon");
  const std::string args = "sim -q --workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                           " --network tiny --dispatch earliest-start,carbon-aware,cost-aware --policy fifo --out ";
  ASSERT_EQ(RunSuanli(args + d + "/a").code, 0);
  auto summary = nlohmann::json::parse(ReadFile(d + "/a/summary.json"));
  ASSERT_EQ(summary["policies"].size(), 3u);
  double longest = 0;
  for (const auto& p : summary["policies"]) longest = std::max(longest, p["makespan_s"].get<double>());
  std::set<double> makespans;
  for (const auto& p : summary["policies"]) {
    makespans.insert(p["makespan_s"].get<double>());
    EXPECT_DOUBLE_EQ(p["idle_horizon_s"].get<double>(), longest) << p["policy"];
    for (const char* k : {"energy_kwh", "cost", "carbon_kg"}) {
      std::string key = k;
      double jobs = p["jobs_" + key].get<double>(), idle = p["idle_" + key].get<double>();
      EXPECT_GT(jobs, 0) << key;
      EXPECT_GT(idle, 0) << key;
      EXPECT_NEAR(jobs + idle, p[key].get<double>(), 0.02) << key;
    }
  }
  EXPECT_GT(makespans.size(), 1u) << "the runs should end at different times for this test to mean something";
  // An explicit horizon: every run's idle energy grows, the jobs' own does not change.
  ASSERT_EQ(RunSuanli(args + d + "/b --idle-horizon-h 1000").code, 0);
  auto longer = nlohmann::json::parse(ReadFile(d + "/b/summary.json"));
  for (size_t i = 0; i < 3; ++i) {
    const auto &p = summary["policies"][i], &q = longer["policies"][i];
    EXPECT_DOUBLE_EQ(q["idle_horizon_s"].get<double>(), 3.6e6);
    EXPECT_DOUBLE_EQ(q["jobs_carbon_kg"].get<double>(), p["jobs_carbon_kg"].get<double>());
    EXPECT_GT(q["idle_carbon_kg"].get<double>(), p["idle_carbon_kg"].get<double>());
  }
  // usage.csv's (idle) rows carry the same common horizon's idle energy.
  auto use = RunSuanli("usage " + d + "/a --tenant '(idle)' --by tenant --json");
  ASSERT_EQ(use.code, 0) << use.out;
  auto u = nlohmann::json::parse(use.out);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(u["runs"][i]["total"]["energy_kwh"].get<double>(),
                summary["policies"][i]["idle_energy_kwh"].get<double>(), 0.01);
}

// Neither the simulator's outputs nor its prices depend on the machine's TZ.
TEST(CliSim, OutputsDoNotDependOnTheMachinesTimeZone) {
  std::string d = TempDir("sim_tz");
  const std::string args = " sim -q --workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                           " --network china-aicc:1/100 --dispatch earliest-start,carbon-aware --policy fifo --out ";
  ASSERT_EQ(testing::RunShell("TZ=America/New_York " + std::string(SUANLI_BINARY) + args + d + "/ny").code, 0);
  ASSERT_EQ(testing::RunShell("TZ=UTC " + std::string(SUANLI_BINARY) + args + d + "/utc").code, 0);
  for (const char* f : {"summary.json", "jobs.csv", "usage.csv"})
    EXPECT_EQ(ReadFile(d + "/ny/" + f), ReadFile(d + "/utc/" + f)) << f;
}

TEST(CliPolicies, ListsEveryPolicyKind) {
  auto r = RunSuanli("policies");
  ASSERT_EQ(r.code, 0);
  for (const char* p : {"fifo", "sjf", "srtf", "las", "qssf", "drf", "easy", "greedy", "first-fit", "best-fit",
                        "random", "fgd", "dot-product", "gpu-packing", "gpu-clustering", "topology"})
    EXPECT_NE(r.out.find(std::string("  ") + p + " "), std::string::npos) << p << "\n" << r.out;
}

TEST(CliNetwork, BuiltinsLoadAndSummarise) {
  auto r = RunSuanli("network list");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("uniform-100k"), std::string::npos);
  auto s = RunSuanli("network show uniform-100k");
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_NE(s.out.find("12500 nodes, 100000 accelerators"), std::string::npos) << s.out;
}

TEST(CliTrace, ConvertMergesTracesAndTheResultReimports) {
  std::string d = TempDir("convert");
  auto r = RunSuanli("trace convert " + Source("data/traces/gavel-philly-vc/msr/seed=0/795a4c.trace.gz") + " " +
                     Source("data/traces/gavel-philly-vc/msr/seed=0/925e2b.trace.gz") + " -o " + d + "/m.csv.gz");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("wrote 7 jobs"), std::string::npos) << r.out;
  auto info = RunSuanli("trace info --json " + d + "/m.csv.gz");
  ASSERT_EQ(info.code, 0) << info.out;
  auto j = nlohmann::json::parse(info.out.substr(info.out.find('{')));
  EXPECT_EQ(j["jobs"], 7);
}

}  // namespace
}  // namespace suanli
