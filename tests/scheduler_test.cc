// The scheduler used directly (no simulator): placement queries and
// priority tiers.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/scheduler/scheduler.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;

TEST(Scheduler, EstimateStartReleasesRunningJobsInOrderOfTheirEnd) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 2, 100), "a");  // runs on 2 of 4 devices until t=100
  w.Add(MakeJob(0, 1, 300), "b");  // runs on 1 device until t=300
  w.Add(MakeJob(0, 3, 50), "c");   // needs 3: free only once a ends
  w.Add(MakeJob(0, 4, 50), "d");   // needs all 4: once b ends too
  w.Add(MakeJob(0, 16, 50), "e");  // never fits here
  auto s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w);
  ASSERT_TRUE(s.ok()) << s.status().message();
  Rng rng(1);
  for (JobId j : Ids<JobId>(5)) (*s)->Submit(j, 0);
  PassResult p = (*s)->Pass(0, rng);
  ASSERT_EQ((*s)->runtime(JobId{0}).state, JobState::kRunning);
  ASSERT_EQ((*s)->runtime(JobId{1}).state, JobState::kRunning);
  EXPECT_EQ((*s)->runtime(JobId{4}).state, JobState::kUnschedulable);
  EXPECT_NE((*s)->WhyNever(w.jobs[JobId{4}]).find("at most 4 per node"), std::string::npos);
  EXPECT_EQ((*s)->WhyNever(w.jobs[JobId{2}]), "");

  auto c = (*s)->EstimateStart(JobId{2}, Seconds(10), rng);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->start, Seconds(100));
  EXPECT_EQ(c->alloc.NumDevices(), 3);
  auto d = (*s)->EstimateStart(JobId{3}, Seconds(10), rng);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, Seconds(300));
  // The query leaves the state as it found it.
  EXPECT_EQ((*s)->state().total_free_milli(), 1000);
  EXPECT_FALSE((*s)->EstimateStart(JobId{4}, Seconds(10), rng).has_value());
}

// Asking changes no decision: fgd without a given mix learns the task mix
// from the requests it places (the live plane's case), and the estimates and
// reasons asked of pending jobs between passes are trials it leaves out. Two
// schedulers run the same jobs; one is asked about every pending job before
// each pass; both decide the same starts on the same devices.
TEST(Scheduler, EstimatesAndReasonsAreTrialsThatALearningPlacerLeavesOut) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 4}});
  Workload w;
  uint32_t x = 12345;
  auto next = [&x] { return (x = x * 1103515245u + 12345u) >> 16; };
  for (int i = 0; i < 150; ++i) {
    const uint16_t milli = std::array<uint16_t, 4>{250, 500, 1000, 1000}[next() % 4];
    const uint32_t gpus = milli < 1000 ? 1 : 1u << (next() % 3);
    w.Add(MakeJob(Seconds(10 * (i / 3)), gpus, 50 + next() % 400, milli), "j" + std::to_string(i));
  }
  auto run = [&](bool ask) {
    auto s = Scheduler::Create(*ParsePolicySpec("fifo+fgd"), cat, net, w);
    EXPECT_TRUE(s.ok()) << s.status().message();
    Rng rng(3), ask_rng(4);
    std::vector<std::string> log;
    std::vector<Time> ends(w.jobs.size(), kNever);
    size_t submitted = 0;
    for (Time t = 0; t < Seconds(3000); t += Seconds(10)) {
      for (JobId j : w.jobs.ids())
        if (ends[j.value()] <= t) {
          (*s)->Finish(j, t);
          ends[j.value()] = kNever;
        }
      for (; submitted < w.jobs.size() && w.jobs.vec()[submitted].submit <= t; ++submitted)
        (*s)->Submit(JobId(static_cast<uint32_t>(submitted)), t);
      if (ask)
        for (JobId j : Ids<JobId>(submitted)) {
          (void)(*s)->EstimateStart(j, t, ask_rng);
          (void)(*s)->WhyWaiting(j, t, ask_rng);
        }
      for (const Decision& d : (*s)->Pass(t, rng).decisions) {
        if (d.kind != Decision::Kind::kStart) continue;
        ends[d.job.value()] = t + Seconds(w.jobs[d.job].work);
        std::string where;
        for (const auto& sh : d.alloc.shares) where += fmt::format(" {}:{:x}", sh.node.value(), sh.devices);
        log.push_back(fmt::format("t={} job={}{}", t, d.job.value(), where));
      }
    }
    return log;
  };
  const std::vector<std::string> plain = run(false), asked = run(true);
  EXPECT_GT(plain.size(), 80u);
  EXPECT_EQ(plain, asked);
}

// A preempted job taken out of its queue (as the live control plane does
// while its run stops) and submitted again with its progress is where it
// would have been had it stayed: same attained service, work left,
// preemptions and queue time, so LAS keeps it behind the job that
// preempted it. Submitted without it, it would come back as new (attained
// 0, top queue) and preempt that job at once.
TEST(Scheduler, ProgressCarriedAcrossRemoveAndSubmitKeepsAttainedService) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 4, 3000), "first");
  w.Add(MakeJob(Seconds(5), 4, 3000), "second");
  for (bool carry : {true, false}) {
    auto s = Scheduler::Create(*ParsePolicySpec("las"), cat, net, w);
    ASSERT_TRUE(s.ok()) << s.status().message();
    Scheduler& x = **s;
    Rng rng(1);
    x.Submit(JobId{0}, 0);
    PassResult p = x.Pass(0, rng);
    ASSERT_EQ(x.runtime(JobId{0}).state, JobState::kRunning);
    x.Submit(JobId{1}, Seconds(5));
    p = x.Pass(Seconds(5), rng);
    ASSERT_EQ(x.runtime(JobId{1}).state, JobState::kPending);
    // 3600 accelerator-seconds (LAS's first threshold) on 4 devices: 900 s.
    ASSERT_EQ(p.wake_at, Seconds(900));
    p = x.Pass(Seconds(900), rng);
    ASSERT_EQ(p.decisions.size(), 2u);
    EXPECT_EQ(p.decisions[0].kind, Decision::Kind::kPreempt);
    EXPECT_EQ(p.decisions[0].job, JobId{0});
    EXPECT_EQ(p.decisions[1].kind, Decision::Kind::kStart);
    EXPECT_EQ(p.decisions[1].job, JobId{1});
    // Out of the queue and back, a minute later.
    ASSERT_FALSE(x.Remove(JobId{0}, Seconds(900)).has_value());  // it was pending: nothing held
    const JobProgress kept = x.Progress(JobId{0});
    EXPECT_DOUBLE_EQ(kept.attained, 3600);
    EXPECT_DOUBLE_EQ(kept.remaining, 2100);
    EXPECT_EQ(kept.preemptions, 1);
    EXPECT_EQ(kept.queued_since, Seconds(900));
    EXPECT_EQ(kept.first_start, 0);
    if (carry) x.Submit(JobId{0}, Seconds(960), kept);
    else x.Submit(JobId{0}, Seconds(960), kept.remaining);
    p = x.Pass(Seconds(960), rng);
    if (carry) {
      EXPECT_TRUE(p.decisions.empty());
      EXPECT_EQ(x.runtime(JobId{0}).state, JobState::kPending);
      EXPECT_DOUBLE_EQ(x.runtime(JobId{0}).attained, 3600);
      EXPECT_EQ(x.runtime(JobId{0}).queued_since, Seconds(900));
      EXPECT_EQ(x.Progress(JobId{0}).preemptions, 1);
    } else {
      // The reset that made live LAS preempt back and forth forever.
      ASSERT_EQ(p.decisions.size(), 2u);
      EXPECT_EQ(p.decisions[0].kind, Decision::Kind::kPreempt);
      EXPECT_EQ(p.decisions[0].job, JobId{1});
    }
  }
}

// ---------------------------------------------------------------- priority tiers

struct SchedRun {
  std::unique_ptr<Scheduler> s;
  Rng rng{1};
};

SchedRun Start(const std::string& policy, const Catalog& cat, const Network& net, const Workload& w) {
  auto s = Scheduler::Create(*ParsePolicySpec(policy), cat, net, w);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return SchedRun{s.ok() ? std::move(*s) : nullptr};
}

// Under every order a higher priority goes first, whatever the order's own
// key says; within one priority the order's key decides.
// A node reported down (a drained Slurm node) receives nothing new; a job
// running there keeps it until it ends, and its devices stay out until the
// node is up again, under every placement the pass tries.
TEST(Scheduler, ADownNodeReceivesNoJobsUntilItIsUp) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});
  Workload w;
  w.Add(MakeJob(0, 4, 100), "a");
  w.Add(MakeJob(0, 4, 100), "b");
  w.Add(MakeJob(0, 4, 100), "c");
  for (const char* policy : {"fifo", "fifo+easy", "sjf", "las"}) {
    SCOPED_TRACE(policy);
    auto s = Scheduler::Create(*ParsePolicySpec(policy), cat, net, w);
    ASSERT_TRUE(s.ok()) << s.status().message();
    Scheduler& x = **s;
    Rng rng(1);
    x.SetNodeUp(NodeId{0}, false);
    x.Submit(JobId{0}, 0);
    x.Submit(JobId{1}, 0);
    x.Pass(0, rng);
    ASSERT_EQ(x.runtime(JobId{0}).state, JobState::kRunning);
    EXPECT_EQ(x.AllocationOf(JobId{0})->shares.front().node, NodeId{1});
    EXPECT_EQ(x.runtime(JobId{1}).state, JobState::kPending);
    EXPECT_EQ(x.WhyNever(w.jobs[JobId{1}]), "");  // it waits; it is not unschedulable
    x.SetNodeUp(NodeId{1}, false);                // a running on it: it goes on
    x.SetNodeUp(NodeId{0}, true);
    x.Pass(Seconds(1), rng);
    ASSERT_EQ(x.runtime(JobId{1}).state, JobState::kRunning);
    EXPECT_EQ(x.AllocationOf(JobId{1})->shares.front().node, NodeId{0});
    EXPECT_EQ(x.runtime(JobId{0}).state, JobState::kRunning);
    x.Finish(JobId{0}, Seconds(2));
    x.Submit(JobId{2}, Seconds(2));
    x.Pass(Seconds(2), rng);
    EXPECT_EQ(x.runtime(JobId{2}).state, JobState::kPending);  // node 1 is free but down
    x.SetNodeUp(NodeId{1}, true);
    x.Pass(Seconds(3), rng);
    ASSERT_EQ(x.runtime(JobId{2}).state, JobState::kRunning);
    EXPECT_EQ(x.AllocationOf(JobId{2})->shares.front().node, NodeId{1});
  }
}

TEST(SchedulerPriority, HigherTierFirstUnderEveryOrder) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  for (const char* policy : {"fifo", "sjf", "qssf", "drf", "fifo+easy", "srtf", "las"}) {
    Workload w;
    w.Add(MakeJob(0, 4, 100), "busy");        // holds all 4 devices
    w.Add(MakeJob(1, 4, 10), "early-short");  // first and shortest
    Job late = MakeJob(2, 4, 1000);
    late.priority = 7;
    w.Add(late, "late-long-important");
    Job mid = MakeJob(3, 4, 50);
    mid.priority = 7;
    w.Add(mid, "later-shorter-important");
    SchedRun r = Start(policy, cat, net, w);
    ASSERT_TRUE(r.s) << policy;
    r.s->Submit(JobId{0}, Seconds(0));
    r.s->Pass(Seconds(0), r.rng);
    ASSERT_EQ(r.s->runtime(JobId{0}).state, JobState::kRunning) << policy;
    for (uint32_t j = 1; j < 4; ++j) r.s->Submit(JobId{j}, Seconds(j));
    r.s->Pass(Seconds(3), r.rng);
    const bool preemptive = std::string(policy) == "srtf" || std::string(policy) == "las";
    if (!preemptive) {
      EXPECT_EQ(r.s->runtime(JobId{0}).state, JobState::kRunning) << policy << ": no preemption under this order";
      r.s->Finish(JobId{0}, Seconds(100));
      r.s->Pass(Seconds(100), r.rng);
    } else {
      EXPECT_NE(r.s->runtime(JobId{0}).state, JobState::kRunning) << policy << ": a higher tier preempts a lower one";
    }
    // Within tier 7 the order's key decides: fifo/drf/qssf take the earlier, sjf/srtf the shorter.
    const std::string p = policy;
    const JobId first{(p == "sjf" || p == "srtf") ? 3u : 2u};
    EXPECT_EQ(r.s->runtime(first).state, JobState::kRunning) << policy;
    EXPECT_EQ(r.s->runtime(JobId{1}).state, JobState::kPending) << policy << ": priority 0 waits for priority 7";
  }
}

// A running job of a higher priority is never preempted for a lower one, even
// when the order's own key prefers the waiting job (srtf: shorter remaining).
TEST(SchedulerPriority, ALowerTierNeverPreemptsAHigherOne) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  for (int important : {0, 3}) {
    Workload w;
    Job big = MakeJob(0, 4, 10000);
    big.priority = important;
    w.Add(big, "long");
    w.Add(MakeJob(1, 4, 10), "short");
    SchedRun r = Start("srtf", cat, net, w);
    r.s->Submit(JobId{0}, 0);
    r.s->Pass(0, r.rng);
    r.s->Submit(JobId{1}, Seconds(1));
    r.s->Pass(Seconds(1), r.rng);
    if (important > 0) {
      EXPECT_EQ(r.s->runtime(JobId{0}).state, JobState::kRunning);
      EXPECT_EQ(r.s->runtime(JobId{1}).state, JobState::kPending);
    } else {  // same tier: srtf preempts the long job for the short one
      EXPECT_EQ(r.s->runtime(JobId{1}).state, JobState::kRunning);
      EXPECT_EQ(r.s->runtime(JobId{0}).state, JobState::kPending);
    }
  }
}

}  // namespace
}  // namespace suanli
