// The scheduler's placement queries, used directly (no simulator).
#include <gtest/gtest.h>

#include "core/scheduler/scheduler.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;

TEST(Scheduler, EstimateStartReleasesRunningJobsInOrderOfTheirEnd) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  w.Add(MakeJob(0, 2, 100), "a");   // runs on 2 of 4 devices until t=100
  w.Add(MakeJob(0, 1, 300), "b");   // runs on 1 device until t=300
  w.Add(MakeJob(0, 3, 50), "c");    // needs 3: free only once a ends
  w.Add(MakeJob(0, 4, 50), "d");    // needs all 4: once b ends too
  w.Add(MakeJob(0, 16, 50), "e");   // never fits here
  auto s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w);
  ASSERT_TRUE(s.ok()) << s.status().message();
  Rng rng(1);
  for (JobId j = 0; j < 5; ++j) (*s)->Submit(j, 0);
  PassResult p = (*s)->Pass(0, rng);
  ASSERT_EQ((*s)->runtime(0).state, JobState::kRunning);
  ASSERT_EQ((*s)->runtime(1).state, JobState::kRunning);
  EXPECT_EQ((*s)->runtime(4).state, JobState::kUnschedulable);
  EXPECT_NE((*s)->WhyNever(w.jobs[4]).find("at most 4 per node"), std::string::npos);
  EXPECT_EQ((*s)->WhyNever(w.jobs[2]), "");

  auto c = (*s)->EstimateStart(2, Seconds(10), rng);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->start, Seconds(100));
  EXPECT_EQ(c->alloc.NumDevices(), 3);
  auto d = (*s)->EstimateStart(3, Seconds(10), rng);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, Seconds(300));
  // The query leaves the state as it found it.
  EXPECT_EQ((*s)->state().total_free_milli(), 1000);
  EXPECT_FALSE((*s)->EstimateStart(4, Seconds(10), rng).has_value());
}

}  // namespace
}  // namespace suanli
