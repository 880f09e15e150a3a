// Golden scenarios: small cases whose exact outcome is worked out by hand.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/scheduler/scheduler.h"
#include "sim/engine.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;
using testing::TestCatalog;
using testing::TestNetwork;

struct SimRun {
  SimResult r;
  double Start(int i) const { return ToSeconds(r.jobs.vec()[i].start); }
  double End(int i) const { return ToSeconds(r.jobs.vec()[i].end); }
};

SimRun Sim(const Workload& w, const Network& net, const std::string& policy, const SimOptions& opt = {}) {
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
  w.jobs = IdVector<JobId, Job>(std::move(jobs));
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
  EXPECT_EQ(run.r.jobs[JobId{0}].preemptions, 1);
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
  EXPECT_EQ(run2.r.jobs[JobId{0}].preemptions, 1);
}

// Priority tiers (docs/policies.md): J0 runs on the one device from 0 for
// 100 s; J1 (priority 0, 10 s) arrives at `j1_at`, J2 (priority 5, 50 s) at 20.
Workload Tiers(double j1_at) {
  Job j2 = MakeJob(Seconds(20), 1, 50);
  j2.priority = 5;
  return Jobs({MakeJob(0, 1, 100), MakeJob(SecondsF(j1_at), 1, 10), j2});
}

TEST(Scenario, PriorityTierGoesFirstAndPreemptsOnlyUnderAPreemptiveOrder) {
  Network net = TestNetwork({{0, 1, 1}});
  // fifo: no preemption; J2 overtakes the earlier J1 when J0 ends.
  SimRun fifo = Sim(Tiers(10), net, "fifo");
  EXPECT_EQ(fifo.End(0), 100);
  EXPECT_EQ(fifo.r.jobs[JobId{0}].preemptions, 0);
  EXPECT_EQ(fifo.Start(2), 100);
  EXPECT_EQ(fifo.Start(1), 150);
  EXPECT_EQ(fifo.End(1), 160);
  // srtf: J2 preempts J0 at 20 (80 s left). J1 arrives at 25 with the
  // shortest remaining time but a lower tier: it does not preempt J2, and
  // runs when J2 ends, before J0 (same tier, shorter).
  SimRun srtf = Sim(Tiers(25), net, "srtf");  // sorted by submission: J2 is job 1, J1 is job 2
  EXPECT_EQ(srtf.Start(1), 20);
  EXPECT_EQ(srtf.End(1), 70);
  EXPECT_EQ(srtf.r.jobs[JobId{1}].preemptions, 0);
  EXPECT_EQ(srtf.Start(2), 70);
  EXPECT_EQ(srtf.End(2), 80);
  EXPECT_EQ(srtf.End(0), 160);
  EXPECT_EQ(srtf.r.jobs[JobId{0}].preemptions, 1);
}

// Energy: the jobs' own apart from the idle accelerators', and idle energy
// over a chosen horizon. One center, one 2-device node of a 400 W (100 W
// idle) model, PUE 1.5, 1 per kWh, 500 g per kWh. J0 runs 1 device 0-3600 s.
TEST(Scenario, JobsEnergyApartFromIdleEnergyOverAChosenHorizon) {
  Catalog cat;
  AcceleratorModel a;
  a.name = "A";
  a.stacks = 1u << *cat.AddStack("cuda");
  a.speed = {1, 1, 1, 1, 1};
  a.power_w = 400;
  a.idle_power_w = 100;
  ASSERT_TRUE(cat.AddModel(a).ok());
  Network net = TestNetwork({{0, 1, 2}});
  net.centers[CenterId{0}].pue = 1.5;
  net.centers[CenterId{0}].price_per_kwh.fill(1.0);
  net.centers[CenterId{0}].carbon_g_per_kwh.fill(500);
  Workload w = Jobs({MakeJob(0, 1, 3600)});
  auto spec = ParsePolicySpec("fifo");
  ASSERT_TRUE(spec.ok());
  auto r = Simulate(w, net, cat, *spec, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const SimSummary& s = r->summary;
  // Jobs: 400 W x 1.5 x 1 h = 0.6 kWh. Idle over the makespan (1 h): the other
  // device, 100 W x 1.5 x 1 h = 0.15 kWh.
  EXPECT_NEAR(s.jobs_energy.kwh, 0.6, 1e-9);
  EXPECT_NEAR(s.jobs_energy.cost, 0.6, 1e-9);
  EXPECT_NEAR(s.jobs_energy.carbon_kg, 0.3, 1e-9);
  EXPECT_NEAR(s.idle_energy.kwh, 0.15, 1e-9);
  EXPECT_NEAR(s.idle_horizon_s, 3600, 1e-9);
  EXPECT_NEAR(s.energy_kwh, 0.75, 1e-9);
  // Over a 3-hour horizon: 2 more hours of both devices idle, 0.6 kWh more
  // idle energy; the jobs' own energy is unchanged.
  SimResult x = std::move(r).value();
  MeterIdle(&x, 3 * kHour, net, cat, 0);
  EXPECT_NEAR(x.summary.jobs_energy.kwh, 0.6, 1e-9);
  EXPECT_NEAR(x.summary.idle_energy.kwh, 0.75, 1e-9);
  EXPECT_NEAR(x.summary.idle_horizon_s, 3 * 3600, 1e-9);
  EXPECT_NEAR(x.summary.energy_kwh, 1.35, 1e-9);
  EXPECT_NEAR(x.summary.carbon_kg, 1.35 * 0.5, 1e-9);
  ASSERT_EQ(x.centers.size(), 1u);
  EXPECT_NEAR(x.centers[CenterId{0}].energy.kwh, 1.35, 1e-9);
  int idle_rows = 0;
  for (const UsageRow& u : x.usage) idle_rows += u.tenant == kIdleTenant;
  EXPECT_EQ(idle_rows, 1) << "the idle row is replaced, not added";
}

TEST(Scenario, FasterModelFirstAndRunTimeScalesWithSpeed) {
  // Model A (speed 1) with 1 device, model B (speed 0.5) with 1 device.
  Network net = TestNetwork({{0, 1, 1}, {1, 1, 1}});
  Workload w = Jobs({MakeJob(0, 1, 100), MakeJob(0, 1, 100)});
  SimRun run = Sim(w, net, "fifo");
  EXPECT_EQ(run.End(0), 100);  // on A
  EXPECT_EQ(run.End(1), 200);  // on B at half speed
  EXPECT_EQ(run.r.jobs[JobId{0}].model, 0);
  EXPECT_EQ(run.r.jobs[JobId{1}].model, 1);
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
  EXPECT_EQ(run.r.jobs[JobId{0}].nodes, 2);
  EXPECT_EQ(run.r.jobs[JobId{1}].nodes, 1);
}

TEST(Scenario, ImpossibleJobIsReportedWithAReason) {
  Network net = TestNetwork({{0, 1, 8}});
  Workload w = Jobs({MakeJob(0, 16, 100), MakeJob(0, 1, 100)});
  w.jobs[JobId{1}].stacks = 1u << 1;  // CANN only; the network has no CANN model
  SimRun run = Sim(w, net, "fifo");
  ASSERT_EQ(run.r.unschedulable.size(), 2u);
  EXPECT_NE(run.r.unschedulable[0].second.find("at most 8 per node"), std::string::npos)
      << run.r.unschedulable[0].second;
  EXPECT_NE(run.r.unschedulable[1].second.find("no node in this network has an accelerator it accepts (C)"),
            std::string::npos)
      << run.r.unschedulable[1].second;
}

TEST(Scenario, StackConstraintPicksTheCompatibleModel) {
  Network net = TestNetwork({{0, 1, 4}, {2, 1, 4}});  // A (CUDA) and C (CANN)
  Job j = MakeJob(0, 2, 80);
  j.stacks = 1u << 1;  // CANN
  SimRun run = Sim(Jobs({j}), net, "fifo");
  EXPECT_EQ(run.r.jobs[JobId{0}].model, 2);
  EXPECT_EQ(run.End(0), 100);  // 80 / 0.8
}

TEST(Scenario, DrfLetsTheSmallTenantOvertake) {
  // Tenant a fills the cluster and queues more; tenant b's job, submitted
  // last, goes before a's queued jobs under drf but not under fifo.
  Network net = TestNetwork({{0, 1, 2}});
  std::vector<Job> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(MakeJob(Seconds(i), 1, 100));
  Job b = MakeJob(Seconds(10), 1, 100);
  b.tenant = TenantId{1};
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

// Random placement with one seed places every job on the same nodes and
// devices each time (and another seed places them elsewhere: the test sees
// placements, not only times that identical nodes would give anyway).
TEST(Scenario, SameSeedByteIdenticalRandomPlacement) {
  Catalog cat = TestCatalog();
  Network net = TestNetwork({{0, 8, 4}});
  std::vector<Job> jobs;
  for (int i = 0; i < 50; ++i) jobs.push_back(MakeJob(Seconds(i), 1 + i % 3, 100 + i));
  Workload w = Jobs(jobs);
  // Every start decision as (job, node, devices), in order.
  auto placements = [&](uint64_t seed) {
    auto s = Scheduler::Create(*ParsePolicySpec("fifo+random"), cat, net, w);
    EXPECT_TRUE(s.ok()) << s.status().message();
    std::vector<std::tuple<JobId, NodeId, uint32_t>> out;
    if (!s.ok()) return out;
    Rng rng(seed);
    for (JobId j : w.jobs.ids()) {
      const Time t = w.jobs[j].submit;
      (*s)->Submit(j, t);
      for (const Decision& d : (*s)->Pass(t, rng).decisions)
        if (d.kind == Decision::Kind::kStart)
          for (const NodeShare& sh : d.alloc.shares) out.emplace_back(d.job, sh.node, sh.devices);
    }
    return out;
  };
  const auto a = placements(42), b = placements(42), c = placements(43);
  ASSERT_GE(a.size(), 15u);  // until the 32 devices are full
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // And the simulator's whole run with one seed: the same ends.
  SimOptions o1, o2;
  o1.seed = o2.seed = 42;
  SimRun x = Sim(w, net, "fifo+random", o1), y = Sim(w, net, "fifo+random", o2);
  for (size_t i = 0; i < w.jobs.size(); ++i) EXPECT_EQ(x.r.jobs.vec()[i].end, y.r.jobs.vec()[i].end);
}

}  // namespace
}  // namespace suanli
