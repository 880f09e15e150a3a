// Scheduler::Remove with resubmission: a pending job leaves the queue, a
// running one frees its devices, a resubmitted job keeps its remaining work,
// an unreported unschedulable job is dropped, and removing the reserved head
// lets the next job start.
#include <gtest/gtest.h>

#include <set>

#include "core/model/quota.h"
#include "core/scheduler/scheduler.h"
#include "support/fixtures.h"
#include "support/quota.h"

namespace suanli {
namespace {

using ::suanli::testing::quota::AddJob;
using ::suanli::testing::quota::Jobs;
using ::suanli::testing::quota::Make;
using ::suanli::testing::quota::Spec;
using ::suanli::testing::quota::Tenants;
using testing::MakeJob;

// --- Remove and resubmit --------------------------------------------------

TEST(SchedulerRemove, PendingJobLeavesTheQueue) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 4, 100), "a");
  w.Add(MakeJob(0, 4, 100), "b");
  w.Add(MakeJob(0, 2, 100), "c");
  auto s = Make("fifo+easy", cat, net, w, nullptr);
  Rng rng(1);
  for (JobId j : Ids<JobId>(3)) s->Submit(j, 0);
  s->Pass(0, rng);
  ASSERT_EQ(s->runtime(JobId{0}).state, JobState::kRunning);
  ASSERT_EQ(s->num_pending(), 2u);
  EXPECT_FALSE(s->Remove(JobId{1}, Seconds(5)).has_value());  // pending: nothing to give back
  EXPECT_EQ(s->runtime(JobId{1}).state, JobState::kUnknown);
  EXPECT_EQ(s->num_pending(), 1u);
  EXPECT_FALSE(s->Remove(JobId{1}, Seconds(5)).has_value());   // gone already
  EXPECT_FALSE(s->Remove(JobId{99}, Seconds(5)).has_value());  // never seen
  s->Finish(JobId{0}, Seconds(100));
  PassResult p = s->Pass(Seconds(100), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({2}));
  EXPECT_EQ(s->num_pending(), 0u);
  EXPECT_FALSE(s->Remove(JobId{0}, Seconds(100)).has_value());  // done
}

TEST(SchedulerRemove, RunningJobFreesItsDevicesForTheNextJob) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}, {1, 1, 4}});
  Workload w = Tenants();
  JobId a = AddJob(&w, 0, 0, 4, 1000);
  JobId b = AddJob(&w, 1, 0, 4, 1000);
  w.jobs[b].models = ModelMask{1} << 0;  // only A: the B devices left free are no use to it
  auto s = Make("fifo", cat, net, w, Spec({{"a", 4, -1, false}, {"b", 4, -1, false}}));
  Rng rng(1);
  s->Submit(a, 0);
  s->Submit(b, 0);
  s->Pass(0, rng);  // a runs on A, b waits (the pass ends on it)
  EXPECT_EQ(s->runtime(b).state, JobState::kPending);
  EXPECT_TRUE(s->Pass(Seconds(1), rng).decisions.empty());
  ASSERT_EQ(s->runtime(a).state, JobState::kRunning);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).used, 4000);
  auto held = s->Remove(a, Seconds(30));
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->NumDevices(), 4);
  EXPECT_EQ(s->runtime(a).state, JobState::kUnknown);
  EXPECT_DOUBLE_EQ(s->runtime(a).remaining, 970);
  EXPECT_EQ(s->AllocationOf(a), nullptr);
  EXPECT_EQ(s->num_running(), 0u);
  EXPECT_EQ(s->state().total_free_milli(), 8000);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).used, 0);
  PassResult p = s->Pass(Seconds(30), rng);
  ASSERT_EQ(Jobs(p, Decision::Kind::kStart), std::set<JobId>{b});
  // On the very devices it gave back.
  ASSERT_EQ(p.decisions[0].alloc.shares.size(), held->shares.size());
  EXPECT_EQ(p.decisions[0].alloc.shares[0].node, held->shares[0].node);
  EXPECT_EQ(p.decisions[0].alloc.shares[0].devices, held->shares[0].devices);
}

TEST(SchedulerRemove, ResubmittedJobKeepsItsRemainingWork) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 2, 100), "a");  // 100 s on the reference model A
  auto s = Make("fifo", cat, net, w, nullptr);
  Rng rng(1);
  s->Submit(JobId{0}, 0);
  s->Pass(0, rng);
  EXPECT_EQ(s->ExpectedEnd(JobId{0}), Seconds(100));
  ASSERT_TRUE(s->Remove(JobId{0}, Seconds(40)).has_value());
  const double left = s->runtime(JobId{0}).remaining;
  EXPECT_DOUBLE_EQ(left, 60);
  // Back here later: a fresh arrival with 60 s of work.
  s->Submit(JobId{0}, Seconds(500), left);
  EXPECT_EQ(s->runtime(JobId{0}).state, JobState::kPending);
  PassResult p = s->Pass(Seconds(500), rng);
  ASSERT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0}));
  EXPECT_EQ(s->ExpectedEnd(JobId{0}), Seconds(560));
  EXPECT_EQ(s->runtime(JobId{0}).first_start, Seconds(500));

  // Or to another center, whose only model runs at half speed: 30 s of work
  // left take 60 s there.
  Network slow = testing::TestNetwork({{1, 1, 4}});
  auto other = Make("fifo", cat, slow, w, nullptr);
  ASSERT_TRUE(s->Remove(JobId{0}, Seconds(530)).has_value());
  EXPECT_DOUBLE_EQ(s->runtime(JobId{0}).remaining, 30);
  other->Submit(JobId{0}, Seconds(600), s->runtime(JobId{0}).remaining);
  p = other->Pass(Seconds(600), rng);
  ASSERT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0}));
  EXPECT_EQ(other->ExpectedEnd(JobId{0}), Seconds(660));
  EXPECT_EQ(s->num_running() + s->num_pending(), 0u);
}

TEST(SchedulerRemove, UnreportedUnschedulableJobIsDropped) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 64, 100), "huge");
  auto s = Make("fifo", cat, net, w, nullptr);
  Rng rng(1);
  s->Submit(JobId{0}, 0);
  EXPECT_FALSE(s->Remove(JobId{0}, 0).has_value());
  EXPECT_TRUE(s->Pass(0, rng).decisions.empty());
}

TEST(SchedulerRemove, RemovingTheReservedHeadLetsTheNextJobStart) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 2, 100), "running");
  w.Add(MakeJob(0, 4, 100), "head");   // reserved at t=100
  w.Add(MakeJob(0, 2, 1000), "long");  // would delay the head: may not backfill
  auto s = Make("fifo+easy", cat, net, w, nullptr);
  Rng rng(1);
  for (JobId j : Ids<JobId>(3)) s->Submit(j, 0);
  PassResult p = s->Pass(0, rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0}));
  EXPECT_TRUE(s->Pass(Seconds(1), rng).decisions.empty());
  s->Remove(JobId{1}, Seconds(2));
  p = s->Pass(Seconds(2), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({2}));
  // Resubmitted, it waits for the devices again, like any arrival.
  s->Submit(JobId{1}, Seconds(3));
  EXPECT_TRUE(s->Pass(Seconds(3), rng).decisions.empty());
  s->Finish(JobId{0}, Seconds(100));
  EXPECT_TRUE(s->Pass(Seconds(100), rng).decisions.empty());
  s->Finish(JobId{2}, Seconds(1002));
  p = s->Pass(Seconds(1002), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({1}));
}

}  // namespace
}  // namespace suanli
