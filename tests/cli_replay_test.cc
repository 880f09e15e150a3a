// `suanli replay` runs the live control plane over a trace; for the same
// input it writes what `suanli sim --single-node` writes, byte for byte. That
// is the proof that the simulator and the live plane schedule by one code
// path (docs/architecture.md, "One path").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "support/cli.h"

namespace suanli {
namespace {

using testing::ReadFile;
using testing::RunSuanli;
using testing::Source;
using testing::TempDir;
using testing::WriteNativeWorkload;

constexpr const char* kFiles[] = {"summary.json", "jobs.csv", "utilization.csv", "centers.csv", "usage.csv"};

// Runs `suanli sim --single-node ARGS` and `suanli replay ARGS`; returns
// the sim's summary.
nlohmann::json ExpectReplayEqualsSim(const std::string& name, const std::string& args) {
  const std::string sim = TempDir(name + "_sim"), rep = TempDir(name + "_replay");
  auto s = RunSuanli("sim -q --single-node " + args + " --out " + sim);
  EXPECT_EQ(s.code, 0) << s.out;
  auto r = RunSuanli("replay -q " + args + " --out " + rep);
  EXPECT_EQ(r.code, 0) << r.out;
  for (const char* f : kFiles) {
    const std::string a = ReadFile(sim + "/" + f), b = ReadFile(rep + "/" + f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_TRUE(a == b) << f << " differs between suanli sim and suanli replay (" << args << ")";
  }
  EXPECT_EQ(s.out, r.out) << "the comparison tables differ";
  return nlohmann::json::parse(ReadFile(sim + "/summary.json"), nullptr, false);
}

int Sum(const nlohmann::json& summary, const char* key) {
  int n = 0;
  for (const auto& p : summary["policies"]) n += p[key].get<int>();
  return n;
}

// Two centers; preemptive orders (LAS, SRTF), random placement.
TEST(CliReplay, EqualsSimWithPreemptionAndRandomPlacement) {
  auto summary =
      ExpectReplayEqualsSim("tiny", "--workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                                        " --network tiny --dispatch carbon-aware,earliest-start,heterogeneity-aware "
                                        "--policy las,srtf,fifo+easy+random --seed 7");
  ASSERT_TRUE(summary.is_object());
  ASSERT_EQ(summary["policies"].size(), 9u);
  // What the comparison covers: otherwise it would prove less than it says.
  EXPECT_GT(Sum(summary, "preemptions"), 10);
}

// Seven centers of different accelerators (speeds differ, so runs end at
// any microsecond), every dispatch policy, datasets moved between centers,
// jobs deferred to cheaper or cleaner hours.
TEST(CliReplay, EqualsSimOnAHeterogeneousNetworkUnderEveryDispatcher) {
  auto summary = ExpectReplayEqualsSim(
      "aicc", "--workload " + Source("tests/data/day-hang.csv.gz") +
                  " --network china-aicc:1/100 --policy fifo+easy --seed 3 "
                  "--dispatch isolated,earliest-start,data-aware,cost-aware,carbon-aware,heterogeneity-aware");
  ASSERT_TRUE(summary.is_object());
  ASSERT_EQ(summary["policies"].size(), 6u);
  EXPECT_GT(Sum(summary, "deferred"), 50);
  EXPECT_GT(Sum(summary, "finished"), 6 * 400);
}

// Tenants' guaranteed shares and borrowing limits (quotas), enforced in every
// center, preempting borrowed accelerators when their owners need them; and
// device failures: a simulated center fails the run when the simulator's
// draw says so, the live plane requeues it, the work since its last
// checkpoint is lost.
TEST(CliReplay, EqualsSimWithTenantQuotasAndDeviceFailures) {
  auto summary = ExpectReplayEqualsSim(
      "quotas", "--workload " + Source("tests/data/day-hang.csv.gz") +
                    " --network china-aicc:1/100 --dispatch earliest-start,carbon-aware --policy fifo+easy,las "
                    "--quotas " +
                    Source("data/quotas/china-aicc.yaml") + " --device-mtbf-h 300 --checkpoint-h 1 --seed 3");
  ASSERT_TRUE(summary.is_object());
  ASSERT_EQ(summary["policies"].size(), 4u);
  EXPECT_GT(Sum(summary, "preemptions"), 100);
  EXPECT_GT(Sum(summary, "failures"), 20);
  for (const auto& p : summary["policies"]) EXPECT_GT(p["lost_work_s"].get<double>(), 0) << p["policy"];
}

// Center outages, random and scheduled: a simulated center stops answering
// and loses its runs; the control plane finds out from its polls, gives the
// runs up, sends its jobs elsewhere or holds them, and takes it back when it
// answers again. The golden china-aicc run (device failures, outages,
// quotas, checkpoints); two centers that fail every half hour under
// preemptive orders (jobs preempted and started again in one pass, jobs
// held while both centers are away); a network file's scheduled outage; and
// a job given up on after --max-restarts lost runs.
TEST(CliReplay, EqualsSimWithCenterOutages) {
  auto golden = ExpectReplayEqualsSim(
      "golden", "--network china-aicc:1/100 --workload " + Source("tests/data/day-hang.csv.gz") +
                    " --dispatch earliest-start,heterogeneity-aware,carbon-aware --policy fifo+easy,las --quotas " +
                    Source("data/quotas/china-aicc.yaml") +
                    " --device-mtbf-h 300 --center-mtbf-h 240 --checkpoint-h 1 --seed 3");
  ASSERT_TRUE(golden.is_object());
  ASSERT_EQ(golden["policies"].size(), 6u);
  EXPECT_GT(Sum(golden, "outages"), 5);
  EXPECT_GT(Sum(golden, "failures"), 50);

  // Centers that fail every 20 hours under LAS: jobs preempted, queued where
  // they were, then sent elsewhere by an outage of that center.
  auto often = ExpectReplayEqualsSim(
      "often", "--network china-aicc:1/100 --workload " + Source("tests/data/day-hang.csv.gz") +
                   " --dispatch earliest-start,data-aware --policy las --center-mtbf-h 20 --device-mtbf-h 500 "
                   "--checkpoint-h 1 --seed 3");
  ASSERT_TRUE(often.is_object());
  EXPECT_GT(Sum(often, "outages"), 40);
  EXPECT_GT(Sum(often, "preemptions"), 10);

  auto flaky =
      ExpectReplayEqualsSim("flaky", "--workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                                         " --network tiny --center-mtbf-h 0.5 --dispatch earliest-start,carbon-aware "
                                         "--policy srtf,las,fifo+easy+random --seed 7");
  ASSERT_TRUE(flaky.is_object());
  EXPECT_GT(Sum(flaky, "outages"), 10);
  EXPECT_GT(Sum(flaky, "restarts"), 10);
  EXPECT_GT(Sum(flaky, "preemptions"), 20);

  // A network file's scheduled outage (center b, from 30 s for 120 s).
  auto scheduled =
      ExpectReplayEqualsSim("scheduled", "--workload " + Source("data/traces/tiresias/60_job.csv.gz") + " --network " +
                                             Source("tests/data/lab-network.yaml") + " --policy las,fifo+easy");
  ASSERT_TRUE(scheduled.is_object());
  EXPECT_GT(Sum(scheduled, "outages"), 0);

  const std::string d = TempDir("replay_given_up");
  WriteNativeWorkload(d + "/w.csv",
                      {"long,t,u,0,1,1000,1000,1024,,,cnn,864000,0,0,", "short,t,u,5,1,1000,1000,1024,,,cnn,100,0,0,"});
  auto given_up =
      ExpectReplayEqualsSim("given_up",
                            "--network tiny --dispatch earliest-start --policy fifo --format native --center-mtbf-h 3 "
                            "--max-restarts 5 --workload " +
                                d + "/w.csv");
  ASSERT_TRUE(given_up.is_object());
  EXPECT_EQ(Sum(given_up, "unschedulable"), 1);
}

// Shares of one GPU (gpu_milli below 1000) packed by fgd, whose weights are
// the trace's task mix in both: the control plane starts with no jobs, so
// the replay hands it the trace's mix (without, its fgd scored against an
// empty mix and diverged from the simulator's).
TEST(CliReplay, EqualsSimWithSharedGpusPackedByFgd) {
  const std::string d = TempDir("replay_shares");
  {
    std::ofstream f(d + "/w.csv");
    f << "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,estimate_s,priority,"
         "durations\n";
    constexpr int kMilli[] = {250, 500, 1000, 750, 1000, 250, 500};
    for (int i = 0; i < 80; ++i) {
      const int milli = kMilli[i % 7];
      const int gpus = milli < 1000 ? 1 : 1 << (i % 3);
      f << fmt::format("j{},t{},u{},{},{},{},1000,4096,,,other,{},,0,\n", i, i % 3, i % 5, i * 30, gpus, milli,
                       300 + (i * 397) % 2700);
    }
  }
  auto summary = ExpectReplayEqualsSim(
      "shares", "--network tiny --format native --workload " + d +
                    "/w.csv --policy fifo+fgd,las+fgd,fifo+easy+fgd --dispatch earliest-start,data-aware --seed 5");
  ASSERT_TRUE(summary.is_object());
  ASSERT_EQ(summary["policies"].size(), 6u);
  EXPECT_GT(Sum(summary, "preemptions"), 0);
}

// Multi-node gangs (the native format's `nodes`): 16 and 8 devices spread
// over 2 nodes, 4 over 4, among single-node jobs; placed by the core's
// PlaceSpread in both, preempted and resumed whole.
TEST(CliReplay, EqualsSimWithMultiNodeGangs) {
  const std::string d = TempDir("replay_gangs");
  {
    std::ofstream f(d + "/w.csv");
    f << "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,estimate_s,priority,"
         "durations,home,data_at,data_gb,region,latency_ms,service,deadline_s,checkpoint_s,nodes\n";
    constexpr int kGpus[] = {16, 2, 8, 4, 1, 16, 8};
    constexpr int kNodes[] = {2, 0, 2, 4, 0, 2, 1};
    for (int i = 0; i < 60; ++i) {
      const int k = i % 7;
      f << fmt::format("j{},t{},u{},{},{},,{},{},,,transformer,{},,0,,,,,,,,,,{}\n", i, i % 3, i % 5, i * 40, kGpus[k],
                       4000 * kGpus[k], 16384 * kGpus[k], 600 + (i * 397) % 3000,
                       kNodes[k] == 0 ? std::string() : std::to_string(kNodes[k]));
    }
  }
  auto summary = ExpectReplayEqualsSim(
      "gangs", "--network tiny --format native --workload " + d +
                   "/w.csv --policy fifo,las,fifo+easy --dispatch earliest-start,carbon-aware --seed 3");
  ASSERT_TRUE(summary.is_object());
  ASSERT_EQ(summary["policies"].size(), 6u);
  EXPECT_GT(Sum(summary, "preemptions"), 0);
  // The gangs ran spread: jobs.csv's `nodes` column (after gpu_milli) says 2 and 4.
  const std::string jobs =
      ReadFile((std::filesystem::temp_directory_path() / "suanli_test_gangs_sim/jobs.csv").string());
  EXPECT_NE(jobs.find(",j0,t0,0,0,600,0,600,16,1000,2,A100-80GB,"), std::string::npos) << jobs.substr(0, 1000);
  EXPECT_NE(jobs.find(",j3,t0,120,"), std::string::npos);
  EXPECT_NE(jobs.find(",4,1000,4,A100-80GB,"), std::string::npos) << jobs.substr(0, 1000);
}

// Why each job waited (--reasons): jobs.csv's last column, in the words the
// live plane shows for a pending job, the same in both; and asking changes
// nothing else: the other columns are those of a run without --reasons. A
// network (datasets staged, deferral, quotas, models held by the LP, runs
// lost to failures: a job that started at once and waits after a lost run
// has no reason, as its wait_s is 0) and one busy center (EASY's
// reservation).
TEST(CliReplay, EqualsSimWithWhyEachJobWaited) {
  std::map<std::string, int> kinds;  // the reasons' first words
  int held_to_model = 0;
  auto check = [&](const std::string& name, const std::string& args, size_t runs) {
    auto summary = ExpectReplayEqualsSim(name, args + " --reasons");
    ASSERT_TRUE(summary.is_object());
    ASSERT_EQ(summary["policies"].size(), runs);
    const std::string plain = TempDir(name + "_plain");
    auto s = RunSuanli("sim -q --single-node " + args + " --out " + plain);
    ASSERT_EQ(s.code, 0) << s.out;
    // (ExpectReplayEqualsSim's output, which TempDir would empty.)
    const auto sim = std::filesystem::temp_directory_path() / ("suanli_test_" + name + "_sim") / "jobs.csv";
    std::istringstream with(ReadFile(sim.string())), without(ReadFile(plain + "/jobs.csv"));
    std::string a, b;
    ASSERT_TRUE(std::getline(with, a) && std::getline(without, b));
    EXPECT_EQ(a, b + ",reason");
    int rows = 0, waited = 0, explained = 0;
    while (std::getline(with, a)) {
      ASSERT_TRUE(std::getline(without, b));
      ASSERT_EQ(a.substr(0, b.size() + 1), b + ",") << name << " row " << rows;
      const std::string reason = a.substr(b.size() + 1);
      // wait_s is the 8th column; names and tenants have no commas here.
      std::vector<std::string> f;
      std::istringstream row(b);
      for (std::string x; std::getline(row, x, ',');) f.push_back(x);
      ASSERT_GE(f.size(), 8u);
      ++rows;
      if (!f[7].empty() && std::stod(f[7]) > 0) {
        ++waited;
        EXPECT_FALSE(reason.empty()) << "a job that waited has no reason: " << a;
      } else {
        EXPECT_TRUE(reason.empty()) << "a job that did not wait has a reason: " << a;
      }
      const std::string text = reason.size() > 1 && reason[0] == '"' ? reason.substr(1) : reason;
      for (const char* kind : {"waiting for resources: ", "behind a reservation: ", "over quota: ", "deferred until ",
                               "staging its dataset until ", "behind the jobs ahead of it", "held: "})
        if (text.starts_with(kind)) {
          ++kinds[kind];
          ++explained;
        }
      if (text.find("; held to model ") != std::string::npos) ++held_to_model;
    }
    EXPECT_FALSE(std::getline(without, b));
    EXPECT_GT(waited, 100) << name;
    EXPECT_EQ(explained, waited) << name << ": a reason in other words";
  };
  check("reasons_net",
        "--workload " + Source("tests/data/day-hang.csv.gz") +
            " --network china-aicc:1/100 --dispatch earliest-start,cost-aware,data-aware,heterogeneity-aware "
            "--policy fifo+easy,fifo --quotas " +
            Source("data/quotas/china-aicc.yaml") + " --device-mtbf-h 300 --checkpoint-h 1 --seed 3",
        8);
  check("reasons_center", "--network gavel-philly --policy fifo+easy", 1);
  for (const char* kind : {"waiting for resources: ", "behind a reservation: ", "over quota: ", "deferred until ",
                           "staging its dataset until ", "behind the jobs ahead of it"})
    EXPECT_GT(kinds[kind], 0) << "no job waited as '" << kind << "'";
  EXPECT_GT(held_to_model, 0) << "no job held to one model by heterogeneity-aware dispatch said so";
}

TEST(CliReplay, RefusesWhatTheLivePlaneDoesNotRunYet) {
  const std::string workload = "replay -q --workload " + Source("data/traces/tiresias/60_job.csv.gz");
  // The live plane runs the built-in catalog only.
  auto r = RunSuanli(workload + " --network tiny --catalog " + Source("data/accelerators.yaml"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("built-in catalog"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace suanli
