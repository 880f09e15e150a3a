// The core's network scheduler, driven directly as the live plane drives it:
// jobs added and freed, pinned and avoided centers, stops that must be
// confirmed, a center's availability by parts, decisions as data.
#include "core/network/network_scheduler.h"

#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support/network_fixture.h"

namespace suanli {
namespace {

using Fixture = testing::NetFixture;
using testing::MakeJob;

TEST(NetworkScheduler, ASlotIsReusedAtOnceUnderANewGenerationAndOldEventsAreStale) {
  Fixture f;
  JobId a = f.Add(8, 100);
  f.ns->Arrive(a, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  auto ds = f.Take();
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, a), nullptr);
  const uint32_t gen = Fixture::Find(ds, NetDecision::Kind::kStart, a)->generation;
  ASSERT_TRUE(f.ns->Finished(a, Seconds(100)).ok());
  f.ns->FreeJob(a);
  JobId b = f.Add(8, 50);
  EXPECT_EQ(b, a) << "the freed slot is taken again at once";
  EXPECT_GT(f.ns->generation(b), gen);
  // An event of the old job (a Ready under its generation) does nothing to the new one.
  f.ns->Ready(b, gen, Seconds(100));
  EXPECT_EQ(f.ns->phase(b), NetPhase::kWaiting);
  f.ns->Arrive(b, Seconds(100));
  ASSERT_TRUE(f.ns->Pass(Seconds(100)).ok());
  ds = f.Take();
  const NetDecision* s = Fixture::Find(ds, NetDecision::Kind::kStart, b);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->run, Seconds(50)) << "the new job's work, not the old one's";
}

TEST(NetworkScheduler, APinnedJobGoesOnlyToItsCenterWaitsForItOrIsRefused) {
  Fixture f;
  // East is busy; an unpinned job would go west.
  JobId busy = f.Add(8, 1000);
  f.ns->Pin(busy, CenterId{0});
  f.ns->Arrive(busy, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  JobId pinned = f.Add(8, 10);
  f.ns->Pin(pinned, CenterId{0});
  f.ns->Arrive(pinned, Seconds(1));
  auto ds = f.Take();
  const NetDecision* send = Fixture::Find(ds, NetDecision::Kind::kSend, pinned);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->center, CenterId{0});
  // Pinned to a center that takes no jobs: held until it does.
  f.ns->SetCenter(CenterId{1}, false, true, Seconds(2));
  JobId west = f.Add(1, 10);
  f.ns->Pin(west, CenterId{1});
  f.ns->Arrive(west, Seconds(2));
  ds = f.Take();
  const NetDecision* hold = Fixture::Find(ds, NetDecision::Kind::kHold, west);
  ASSERT_NE(hold, nullptr);
  EXPECT_EQ(hold->at, kNever);
  EXPECT_EQ(f.ns->phase(west), NetPhase::kHeld);
  f.ns->SetCenter(CenterId{1}, true, true, Seconds(3));
  ds = f.Take();
  send = Fixture::Find(ds, NetDecision::Kind::kSend, west);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->center, CenterId{1});
  // Pinned to a center that could never run it.
  JobId huge = f.Add(16, 10);
  f.ns->Pin(huge, CenterId{1});
  f.ns->Arrive(huge, Seconds(4));
  ds = f.Take();
  const NetDecision* no = Fixture::Find(ds, NetDecision::Kind::kUnschedulable, huge);
  ASSERT_NE(no, nullptr);
  EXPECT_NE(no->reason.find("cannot run at center west"), std::string::npos) << no->reason;
}

TEST(NetworkScheduler, ACenterThatStoppedARunIsAvoidedUntilTheTimeGiven) {
  Fixture f;
  JobId a = f.Add(8, 100);
  f.ns->Arrive(a, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  auto ds = f.Take();
  const NetDecision* start = Fixture::Find(ds, NetDecision::Kind::kStart, a);
  ASSERT_NE(start, nullptr);
  const CenterId first = start->center;
  // The other center is busy with a long job.
  JobId other = f.Add(8, 10000);
  const CenterId second{1 - first.value()};
  f.ns->Pin(other, second);
  f.ns->Arrive(other, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  // Its center stops the run: it goes to the other center, though it is busy.
  ASSERT_TRUE(f.ns->Failed(a, Seconds(10), Seconds(70)).ok());
  ds = f.Take();
  const NetDecision* send = Fixture::Find(ds, NetDecision::Kind::kSend, a);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->center, second);
  // Without avoiding, it goes back to the idle center at once.
  f.ns->Withdraw(a, Seconds(11));
  f.Take();
  JobId b = f.Add(8, 100);
  f.ns->Arrive(b, Seconds(12));
  ASSERT_TRUE(f.ns->Pass(Seconds(12)).ok());
  ds = f.Take();
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, b), nullptr);
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kStart, b)->center, first);
}

// A run that never outlasts its centers' uptime would start over for ever
// (no checkpoints): after max_restarts lost runs, failures and outages alike,
// the job is given up on.
TEST(NetworkScheduler, AJobWhoseRunsAreLostMoreThanMaxRestartsTimesIsGivenUp) {
  Fixture f("fifo", true, 2);
  JobId a = f.Add(8, 1000);
  f.ns->Arrive(a, 0);
  Time t = 0;
  auto start = [&]() -> CenterId {
    EXPECT_TRUE(f.ns->Pass(t).ok());
    auto ds = f.Take();
    const NetDecision* s = Fixture::Find(ds, NetDecision::Kind::kStart, a);
    EXPECT_NE(s, nullptr);
    return s ? s->center : kNoCenter;
  };
  // Lost once to a failure, once to an outage of its center: it runs again.
  CenterId c = start();
  ASSERT_NE(c, kNoCenter);
  t += Seconds(10);
  ASSERT_TRUE(f.ns->Failed(a, t).ok());
  EXPECT_EQ(Fixture::Find(f.Take(), NetDecision::Kind::kUnschedulable, a), nullptr);
  c = start();
  ASSERT_NE(c, kNoCenter);
  t += Seconds(10);
  ASSERT_TRUE(f.ns->CenterDown(c, t).ok());
  auto ds = f.Take();
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kInterrupt, a), nullptr);
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kUnschedulable, a), nullptr);
  f.ns->CenterUp(c, t);
  f.Take();
  // The third time, it is given up on, and says why.
  c = start();
  ASSERT_NE(c, kNoCenter);
  t += Seconds(10);
  ASSERT_TRUE(f.ns->Failed(a, t).ok());
  ds = f.Take();
  const NetDecision* given_up = Fixture::Find(ds, NetDecision::Kind::kUnschedulable, a);
  ASSERT_NE(given_up, nullptr);
  EXPECT_NE(given_up->reason.find("last 3 runs were lost before a checkpoint"), std::string::npos) << given_up->reason;
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kSend, a), nullptr);
  EXPECT_EQ(f.ns->phase(a), NetPhase::kDone);
}

// A lost run that kept work (a checkpoint reached) starts the count again:
// a job that progresses is never given up on.
TEST(NetworkScheduler, LostRunsThatKeptWorkDoNotCountTowardsGivingUp) {
  Fixture f("fifo", true, 1);
  Job j = MakeJob(0, 8, 1000);
  j.checkpoint = Seconds(10);
  j.tenant = f.ns->InternTenant("t");
  const JobId a = f.ns->AddJob(j);
  f.ns->Arrive(a, 0);
  Time t = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(f.ns->Pass(t).ok());
    auto ds = f.Take();
    ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, a), nullptr) << "run " << i;
    t += Seconds(15);  // one checkpoint in each run
    ASSERT_TRUE(f.ns->Failed(a, t).ok());
    ds = f.Take();
    EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kUnschedulable, a), nullptr) << "run " << i;
  }
  EXPECT_NE(f.ns->phase(a), NetPhase::kDone);
}

TEST(NetworkScheduler, AvoidingTheOnlyCenterThatCanRunAJobHoldsItUntilThen) {
  Fixture f;
  f.ns->SetCenter(CenterId{1}, false, false, 0);  // west takes nothing
  JobId a = f.Add(8, 100);
  f.ns->Arrive(a, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  ASSERT_TRUE(f.ns->Failed(a, Seconds(10), Seconds(70)).ok());
  auto ds = f.Take();
  const NetDecision* hold = Fixture::Find(ds, NetDecision::Kind::kHold, a);
  ASSERT_NE(hold, nullptr);
  EXPECT_EQ(hold->at, Seconds(70)) << "tried again when the avoidance ends";
  f.ns->Ready(a, hold->generation, Seconds(70));
  ds = f.Take();
  const NetDecision* send = Fixture::Find(ds, NetDecision::Kind::kSend, a);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->center, CenterId{0});
}

TEST(NetworkScheduler, APreemptedJobWaitsForItsRunToStopThenQueuesWhereItWas) {
  Fixture f("srtf", true);
  JobId low = f.Add(8, 1000, 0);
  f.ns->Pin(low, CenterId{0});
  f.ns->Arrive(low, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  JobId high = f.Add(8, 100, 10);
  f.ns->Pin(high, CenterId{0});
  f.ns->Arrive(high, Seconds(100));
  ASSERT_TRUE(f.ns->Pass(Seconds(100)).ok());
  auto ds = f.Take();
  const NetDecision* pre = Fixture::Find(ds, NetDecision::Kind::kPreempt, low);
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->by, high) << "it says which job it was stopped for";
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, high), nullptr);
  EXPECT_EQ(f.ns->phase(low), NetPhase::kStopping);
  // The high job ends before the low one's run has stopped: the low job
  // does not start again meanwhile.
  ASSERT_TRUE(f.ns->Finished(high, Seconds(200)).ok());
  ASSERT_TRUE(f.ns->Pass(Seconds(200)).ok());
  ds = f.Take();
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kStart, low), nullptr);
  f.ns->Stopped(low, Seconds(201));
  ds = f.Take();
  const NetDecision* back = Fixture::Find(ds, NetDecision::Kind::kSend, low);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->center, CenterId{0});
  ASSERT_TRUE(f.ns->Pass(Seconds(201)).ok());
  ds = f.Take();
  const NetDecision* again = Fixture::Find(ds, NetDecision::Kind::kStart, low);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->run, Seconds(900)) << "it keeps the 100 s it had done";
}

// The live plane says how far into a run its job last checkpointed: a run
// stopped for a preemption keeps the work up to there, not all of it; a lost
// run keeps that instead of its interval's model.
TEST(NetworkScheduler, ARunKeepsTheWorkUpToTheCheckpointItsJobReported) {
  Fixture f("srtf", true);
  JobId low = f.Add(8, 1000, 0);
  f.ns->Pin(low, CenterId{0});
  f.ns->Arrive(low, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  JobId high = f.Add(8, 100, 10);
  f.ns->Pin(high, CenterId{0});
  f.ns->Arrive(high, Seconds(100));
  ASSERT_TRUE(f.ns->Pass(Seconds(100)).ok());
  ASSERT_NE(Fixture::Find(f.Take(), NetDecision::Kind::kPreempt, low), nullptr);
  ASSERT_TRUE(f.ns->Finished(high, Seconds(200)).ok());
  f.ns->Stopped(low, Seconds(201), false, Seconds(40));  // its last checkpoint: 40 s into the run
  f.Take();
  ASSERT_TRUE(f.ns->Pass(Seconds(201)).ok());
  auto ds = f.Take();
  const NetDecision* again = Fixture::Find(ds, NetDecision::Kind::kStart, low);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->run, Seconds(960)) << "it keeps the 40 s up to its checkpoint";
  EXPECT_DOUBLE_EQ(f.ns->remaining(low), 960);
  // Lost 100 s later with its last checkpoint 30 s into that run: 930 s left
  // (its interval, none, would have kept nothing).
  ASSERT_TRUE(f.ns->Failed(low, Seconds(301), 0, Seconds(30)).ok());
  EXPECT_DOUBLE_EQ(f.ns->remaining(low), 930);
  f.Take();
  ASSERT_TRUE(f.ns->Pass(Seconds(301)).ok());
  ds = f.Take();
  again = Fixture::Find(ds, NetDecision::Kind::kStart, low);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->run, Seconds(930));
  // A run that reported no checkpoint keeps nothing.
  ASSERT_TRUE(f.ns->Failed(low, Seconds(400), 0, Duration{0}).ok());
  EXPECT_DOUBLE_EQ(f.ns->remaining(low), 930);
}

// Runs lost with their center (Evict) keep, each, the work up to the
// checkpoint its job reported; without a report, the interval's model.
TEST(NetworkScheduler, RunsLostWithTheirCenterKeepTheWorkUpToTheirReportedCheckpoints) {
  Fixture f("fifo", true);
  Job j = MakeJob(0, 4, 1000);  // two of them on center 0's node of 8
  j.checkpoint = Seconds(100);
  j.tenant = f.ns->InternTenant("t");
  const JobId reported = f.ns->AddJob(j);
  const JobId modelled = f.ns->AddJob(j);
  for (JobId id : {reported, modelled}) {
    f.ns->Pin(id, CenterId{0});
    f.ns->Arrive(id, 0);
  }
  ASSERT_TRUE(f.ns->Pass(0).ok());
  auto ds = f.Take();
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, reported), nullptr);
  ASSERT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, modelled), nullptr);
  std::vector<JobId> asked;
  ASSERT_TRUE(f.ns->Evict(CenterId{0}, Seconds(250), true,
                          [&](JobId id) -> std::optional<Duration> {
                            asked.push_back(id);
                            if (id == reported) return Seconds(30);  // its last checkpoint: 30 s into the run
                            return std::nullopt;
                          })
                  .ok());
  ds = f.Take();
  EXPECT_NE(Fixture::Find(ds, NetDecision::Kind::kInterrupt, reported), nullptr);
  EXPECT_NE(Fixture::Find(ds, NetDecision::Kind::kInterrupt, modelled), nullptr);
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_DOUBLE_EQ(f.ns->remaining(reported), 970);  // not the 200 s its interval would keep
  EXPECT_DOUBLE_EQ(f.ns->remaining(modelled), 800);  // two 100 s checkpoints in 250 s
}

// A minimum run time: a running job is not preempted before it has run that
// long; the center's scheduler asks to be woken then, and preempts.
TEST(NetworkScheduler, AJobIsNotPreemptedBeforeItsMinimumRunTime) {
  Fixture f("srtf", true, 100, Seconds(300));
  JobId low = f.Add(8, 1000, 0);
  f.ns->Pin(low, CenterId{0});
  f.ns->Arrive(low, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  JobId high = f.Add(8, 100, 10);
  f.ns->Pin(high, CenterId{0});
  f.ns->Arrive(high, Seconds(100));
  ASSERT_TRUE(f.ns->Pass(Seconds(100)).ok());
  auto ds = f.Take();
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kPreempt, low), nullptr) << "it has run 100 s of its 300";
  bool woken = false;
  for (const auto& d : ds) woken = woken || (d.kind == NetDecision::Kind::kWake && d.at == Seconds(300));
  EXPECT_TRUE(woken) << "a wake-up when it becomes preemptible";
  f.ns->WakeDue(Seconds(300));
  ASSERT_TRUE(f.ns->Pass(Seconds(300)).ok());
  ds = f.Take();
  EXPECT_NE(Fixture::Find(ds, NetDecision::Kind::kPreempt, low), nullptr);
  EXPECT_NE(Fixture::Find(ds, NetDecision::Kind::kStart, high), nullptr);
}

TEST(NetworkScheduler, ADrainedCenterKeepsItsRunsAndSendsItsQueueElsewhere) {
  Fixture f;
  JobId run = f.Add(8, 1000);
  f.ns->Pin(run, CenterId{0});
  f.ns->Arrive(run, 0);
  JobId queued = f.Add(8, 10);
  f.ns->Pin(queued, CenterId{0});
  f.ns->Arrive(queued, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  ASSERT_EQ(f.ns->phase(queued), NetPhase::kQueued);
  f.ns->Pin(queued, kNoCenter);
  f.ns->SetCenter(CenterId{0}, false, true, Seconds(1));
  ASSERT_TRUE(f.ns->Evict(CenterId{0}, Seconds(1), false).ok());
  auto ds = f.Take();
  const NetDecision* moved = Fixture::Find(ds, NetDecision::Kind::kSend, queued);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved->center, CenterId{1});
  EXPECT_EQ(f.ns->phase(run), NetPhase::kRunning);
  EXPECT_EQ(Fixture::Find(ds, NetDecision::Kind::kInterrupt, run), nullptr);
  // A center that goes down loses its runs.
  ASSERT_TRUE(f.ns->CenterDown(CenterId{0}, Seconds(2)).ok());
  ds = f.Take();
  const NetDecision* lost = Fixture::Find(ds, NetDecision::Kind::kInterrupt, run);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->end.start, 0);
  EXPECT_DOUBLE_EQ(lost->end.devices, 8);
}

TEST(NetworkScheduler, AWithdrawnJobLeavesItsQueueAndStaleReadiesAreIgnored) {
  Fixture f;
  JobId a = f.Add(1, 10);
  f.ns->Arrive(a, 0);
  f.Take();
  // Sent again by hand with a generation that is not the job's: ignored.
  f.ns->Ready(a, f.ns->generation(a) + 1, Seconds(5));
  EXPECT_EQ(f.ns->phase(a), NetPhase::kQueued);
  f.ns->Withdraw(a, Seconds(6));
  EXPECT_EQ(f.ns->phase(a), NetPhase::kDone);
  EXPECT_EQ(f.ns->num_pending(), 0u);
}

}  // namespace
}  // namespace suanli
