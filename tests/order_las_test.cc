// The LAS order (Tiresias's discretised two-dimensional least attained
// service) on its own: queues by attained accelerator-seconds, FIFO within a
// queue, the starvation guard, and when a running job's key changes.
#include <gtest/gtest.h>

#include "core/policy/order/orders.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;

struct Las {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 8}});
  Workload w;
  IdVector<JobId, JobRuntime> rt;
  LasOrder order;

  // A job of `gpus` that has received `attained` accelerator-seconds, last
  // started at `last_start` (-1: never), queued since `queued_since`.
  JobId Add(Time submit, uint32_t gpus, double attained, JobState state, Time last_start, Time queued_since) {
    JobId id = w.Add(MakeJob(submit, gpus, 100000), "j" + std::to_string(w.jobs.size()));
    JobRuntime r;
    r.state = state;
    r.attained = attained;
    r.last_start = last_start;
    r.queued_since = queued_since;
    r.remaining = 100000;
    rt.push_back(r);
    return id;
  }
  OrderContext Ctx(Time now) {
    OrderContext c;
    c.now = now;
    c.workload = &w;
    c.catalog = &cat;
    c.network = &net;
    c.runtime = &rt;
    return c;
  }
};

TEST(LasOrder, LessAttainedServiceFirstWhateverTheArrival) {
  Las l;
  const Time now = Seconds(5000);
  // Queue 1 (3,600 accelerator-seconds or more), submitted first; it ran recently.
  JobId veteran = l.Add(0, 4, 8000, JobState::kPending, Seconds(1000), Seconds(4900));
  // Queue 0, submitted later.
  JobId fresh = l.Add(Seconds(4000), 8, 0, JobState::kPending, -1, Seconds(4000));
  JobId fresher = l.Add(Seconds(4500), 1, 100, JobState::kPending, Seconds(4500), Seconds(4600));
  auto ctx = l.Ctx(now);
  EXPECT_LT(l.order.Key(fresh, ctx), l.order.Key(veteran, ctx));
  EXPECT_LT(l.order.Key(fresher, ctx), l.order.Key(veteran, ctx));
  // Within one queue: first come, first served.
  EXPECT_LT(l.order.Key(fresh, ctx), l.order.Key(fresher, ctx));
  std::vector<JobId> ids = {veteran, fresher, fresh};
  l.order.Sort(&ids, ctx);
  EXPECT_EQ(ids, (std::vector<JobId>{fresh, fresher, veteran}));
  // The thresholds: 3,600 and 36,000 accelerator-seconds.
  EXPECT_EQ(l.order.QueueOf(3599), 0);
  EXPECT_EQ(l.order.QueueOf(3600), 1);
  EXPECT_EQ(l.order.QueueOf(36000), 2);
}

TEST(LasOrder, AJobThatWaitedTenTimesWhatItRanIsPromoted) {
  Las l;
  // 4 accelerators, 8,000 accelerator-seconds: it ran 2,000 s, then waited.
  JobId starving = l.Add(0, 4, 8000, JobState::kPending, Seconds(100), Seconds(2100));
  JobId newcomer = l.Add(Seconds(3000), 1, 0, JobState::kPending, -1, Seconds(3000));
  // After waiting 19,999 s it is still in queue 1; after 20,000 s (10 x 2,000) in queue 0,
  // where its earlier submission puts it first.
  auto before = l.Ctx(Seconds(2100 + 19999));
  EXPECT_LT(l.order.Key(newcomer, before), l.order.Key(starving, before));
  auto after = l.Ctx(Seconds(2100 + 20000));
  EXPECT_LT(l.order.Key(starving, after), l.order.Key(newcomer, after));
  // A job that never ran is never "promoted" past its own queue.
  EXPECT_EQ(l.order.Key(newcomer, after).primary, 0);
}

TEST(LasOrder, ARunningJobsKeyChangesWhenItCrossesAThreshold) {
  Las l;
  // 2 accelerators, 3,000 accelerator-seconds so far, running since t = 100 s:
  // 600 more accelerator-seconds = 300 s at 2 accelerators.
  JobId run = l.Add(0, 2, 3000, JobState::kRunning, Seconds(100), -1);
  auto ctx = l.Ctx(Seconds(100));
  EXPECT_EQ(l.order.NextKeyChange(run, ctx), Seconds(400));
  EXPECT_EQ(l.order.Key(run, ctx).primary, 0);
  auto later = l.Ctx(Seconds(400));
  EXPECT_EQ(l.order.Key(run, later).primary, 1) << "attained counts the current run";
  // In the last queue nothing changes any more; a pending job's key does not change by itself.
  JobId last = l.Add(0, 1, 40000, JobState::kRunning, 0, -1);
  EXPECT_EQ(l.order.NextKeyChange(last, ctx), kNever);
  JobId waiting = l.Add(0, 1, 0, JobState::kPending, -1, 0);
  EXPECT_EQ(l.order.NextKeyChange(waiting, ctx), kNever);
  EXPECT_TRUE(l.order.preemptive());
}

}  // namespace
}  // namespace suanli
