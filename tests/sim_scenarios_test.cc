// Golden scenarios: small cases whose exact outcome is worked out by hand.
#include <gtest/gtest.h>

#include "sim/engine.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;
using testing::TestCatalog;
using testing::TestNetwork;

struct SimRun {
  SimResult r;
  double Start(int i) const { return ToSeconds(r.jobs[i].start); }
  double End(int i) const { return ToSeconds(r.jobs[i].end); }
};

SimRun Sim(const Workload& w, const Network& net, const std::string& policy, SimOptions opt = {}) {
  static const Catalog cat = TestCatalog();
  auto spec = ParsePolicySpec(policy);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  auto r = Simulate(w, net, cat, *spec, opt);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return {std::move(r).value()};
}

Workload Jobs(std::vector<Job> jobs) {
  Workload w;
  w.tenants.Intern("a");
  w.tenants.Intern("b");
  w.users.Intern("u");
  w.users.Intern("v");
  w.jobs = std::move(jobs);
  w.SortBySubmit();
  return w;
}

// One node with 4 devices of model A: J0 holds 2 devices for 100 s, J1 wants
// all 4, J2 wants 1 for 10 s (or 200 s).
Workload HeadOfLine(double j2_work) {
  return Jobs({MakeJob(0, 2, 100), MakeJob(Seconds(1), 4, 100), MakeJob(Seconds(2), 1, j2_work)});
}

TEST(Scenario, StrictFifoBlocksBehindTheHead) {
  Network net = TestNetwork({{0, 1, 4}});
  SimRun run = Sim(HeadOfLine(10), net, "fifo");
  EXPECT_EQ(run.Start(0), 0);
  EXPECT_EQ(run.Start(1), 100);
  EXPECT_EQ(run.Start(2), 200);  // waits behind J1 although a device is free
  EXPECT_EQ(run.End(2), 210);
}

TEST(Scenario, EasyBackfillsAShortJobWithoutDelayingTheHead) {
  Network net = TestNetwork({{0, 1, 4}});
  SimRun run = Sim(HeadOfLine(10), net, "fifo+easy");
  EXPECT_EQ(run.Start(2), 2);  // ends at 12, before J1's reservation at 100
  EXPECT_EQ(run.End(2), 12);
  EXPECT_EQ(run.Start(1), 100);  // the head is not delayed
}

TEST(Scenario, EasyRefusesAJobThatWouldDelayTheHead) {
  Network net = TestNetwork({{0, 1, 4}});
  SimRun run = Sim(HeadOfLine(200), net, "fifo+easy");
  EXPECT_EQ(run.Start(1), 100);
  EXPECT_EQ(run.Start(2), 200);
  // Greedy has no reservation: J2 starts at once and delays J1 to 202.
  SimRun greedy = Sim(HeadOfLine(200), net, "fifo+greedy");
  EXPECT_EQ(greedy.Start(2), 2);
  EXPECT_EQ(greedy.Start(1), 202);
}

TEST(Scenario, SjfRunsShortestFirst) {
  Network net = TestNetwork({{0, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 300), MakeJob(0, 1, 100), MakeJob(0, 1, 200)});
  SimRun run = Sim(w, net, "sjf");
  EXPECT_EQ(run.End(1), 100);
  EXPECT_EQ(run.End(2), 300);
  EXPECT_EQ(run.End(0), 600);
  EXPECT_NEAR(run.r.summary.avg_jct_s, (100 + 300 + 600) / 3.0, 1e-9);
  SimRun fifo = Sim(w, net, "fifo");
  EXPECT_NEAR(fifo.r.summary.avg_jct_s, (300 + 400 + 600) / 3.0, 1e-9);
}

TEST(Scenario, SrtfPreemptsAndTheVictimResumesWithItsRemainingWork) {
  Network net = TestNetwork({{0, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 1000), MakeJob(Seconds(100), 1, 10)});
  SimRun run = Sim(w, net, "srtf");
  EXPECT_EQ(run.Start(1), 100);
  EXPECT_EQ(run.End(1), 110);
  EXPECT_EQ(run.End(0), 1010);  // 900 s of work left, resumed at 110
  EXPECT_EQ(run.r.jobs[0].preemptions, 1);
}

TEST(Scenario, LasDemotesALongJobPastTheFirstThreshold) {
  // J0 has attained 4000 accelerator-seconds (> 3600) when J1 arrives: J1 is in
  // a higher-priority queue and preempts it.
  Network net = TestNetwork({{0, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 10000), MakeJob(Seconds(4000), 1, 50)});
  SimRun run = Sim(w, net, "las");
  EXPECT_EQ(run.Start(1), 4000);
  EXPECT_EQ(run.End(1), 4050);
  EXPECT_EQ(run.End(0), 10050);
  // Before the threshold nobody is preempted: J1 arriving at 1000 waits (same queue, FIFO).
  Workload w2 = Jobs({MakeJob(0, 1, 10000), MakeJob(Seconds(1000), 1, 50)});
  SimRun run2 = Sim(w2, net, "las");
  EXPECT_EQ(run2.Start(1), 3600);  // J0 is demoted at 3600 and J1 takes over
  EXPECT_EQ(run2.r.jobs[0].preemptions, 1);
}

TEST(Scenario, FasterModelFirstAndRunTimeScalesWithSpeed) {
  // Model A (speed 1) with 1 device, model B (speed 0.5) with 1 device.
  Network net = TestNetwork({{0, 1, 1}, {1, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 100), MakeJob(0, 1, 100)});
  SimRun run = Sim(w, net, "fifo");
  EXPECT_EQ(run.End(0), 100);  // on A
  EXPECT_EQ(run.End(1), 200);  // on B at half speed
  EXPECT_EQ(run.r.jobs[0].model, 0);
  EXPECT_EQ(run.r.jobs[1].model, 1);
}

TEST(Scenario, SharedJobsShareOneDevice) {
  Network net = TestNetwork({{0, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 100, 500), MakeJob(0, 1, 100, 500), MakeJob(0, 1, 100, 500)});
  SimRun run = Sim(w, net, "fifo");
  EXPECT_EQ(run.Start(0), 0);
  EXPECT_EQ(run.Start(1), 0);
  EXPECT_EQ(run.Start(2), 100);
  EXPECT_NEAR(run.r.summary.utilization, 1.0 * 200 / 200 * (2.0 / 2.0) * 0.75, 0.26);
}

TEST(Scenario, GangSpansNodesOnlyWhenItMust) {
  Network net = TestNetwork({{0, 2, 4}});
  Workload w = Jobs({MakeJob(0, 8, 100), MakeJob(Seconds(200), 4, 100)});
  SimRun run = Sim(w, net, "fifo");
  EXPECT_EQ(run.r.jobs[0].nodes, 2);
  EXPECT_EQ(run.r.jobs[1].nodes, 1);
}

TEST(Scenario, ImpossibleJobIsReportedWithAReason) {
  Network net = TestNetwork({{0, 1, 8}});
  Workload w = Jobs({MakeJob(0, 16, 100), MakeJob(0, 1, 100)});
  w.jobs[1].stacks = 1u << 1;  // CANN only; the network has no CANN model
  SimRun run = Sim(w, net, "fifo");
  ASSERT_EQ(run.r.unschedulable.size(), 2u);
  EXPECT_NE(run.r.unschedulable[0].second.find("at most 8 per node"), std::string::npos)
      << run.r.unschedulable[0].second;
  EXPECT_NE(run.r.unschedulable[1].second.find("no node in this network has an accelerator it accepts (C)"), std::string::npos)
      << run.r.unschedulable[1].second;
}

TEST(Scenario, StackConstraintPicksTheCompatibleModel) {
  Network net = TestNetwork({{0, 1, 4}, {2, 1, 4}});  // A (CUDA) and C (CANN)
  Job j = MakeJob(0, 2, 80);
  j.stacks = 1u << 1;  // CANN
  SimRun run = Sim(Jobs({j}), net, "fifo");
  EXPECT_EQ(run.r.jobs[0].model, 2);
  EXPECT_EQ(run.End(0), 100);  // 80 / 0.8
}

TEST(Scenario, DrfLetsTheSmallTenantOvertake) {
  // Tenant a fills the cluster and queues more; tenant b's job, submitted
  // last, goes before a's queued jobs under drf but not under fifo.
  Network net = TestNetwork({{0, 1, 2}});
  std::vector<Job> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(MakeJob(Seconds(i), 1, 100));
  Job b = MakeJob(Seconds(10), 1, 100);
  b.tenant = 1;
  jobs.push_back(b);
  Workload w = Jobs(jobs);
  EXPECT_EQ(Sim(w, net, "drf").Start(4), 100);
  EXPECT_EQ(Sim(w, net, "fifo").Start(4), 200);
}

TEST(Scenario, QssfLearnsFromTheUsersHistory) {
  // User u's jobs are long, user v's short; after history exists, v's job is
  // predicted short and goes first.
  Network net = TestNetwork({{0, 1, 1}});
  std::vector<Job> jobs;
  Job u1 = MakeJob(0, 1, 1000);
  Job v1 = MakeJob(0, 1, 10);
  v1.user = 1;
  jobs.push_back(u1);
  jobs.push_back(v1);
  Job u2 = MakeJob(Seconds(2000), 1, 1000);
  Job u3 = MakeJob(Seconds(2001), 1, 1000);
  Job v2 = MakeJob(Seconds(2002), 1, 10);
  v2.user = 1;
  jobs.push_back(u2);
  jobs.push_back(u3);
  jobs.push_back(v2);
  Workload w = Jobs(jobs);
  SimRun run = Sim(w, net, "qssf");
  EXPECT_EQ(run.Start(4), 3000);  // right after u2, before u3
  EXPECT_EQ(run.Start(3), 3010);
}

TEST(Scenario, SameSeedByteIdenticalRandomPlacement) {
  Network net = TestNetwork({{0, 8, 4}});
  std::vector<Job> jobs;
  for (int i = 0; i < 50; ++i) jobs.push_back(MakeJob(Seconds(i), 1 + i % 3, 100 + i));
  Workload w = Jobs(jobs);
  SimOptions o1, o2;
  o1.seed = o2.seed = 42;
  SimRun a = Sim(w, net, "fifo+random", o1), b = Sim(w, net, "fifo+random", o2);
  for (size_t i = 0; i < w.jobs.size(); ++i) EXPECT_EQ(a.r.jobs[i].end, b.r.jobs[i].end);
}

}  // namespace
}  // namespace suanli
