// The control plane's simulated backend: jobs end at their duration, to the
// microsecond, or fail where injected; outages lose runs and report them;
// cancel, adopt and bad requests; many jobs in order. And an unknown backend
// kind is an error.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "live/backend.h"
#include "live/backend_simulated.h"

namespace suanli::live {
namespace {

// ---- simulated backend -------------------------------------------------------------------

BackendCapacity SimCapacity(int nodes, int devices) {
  BackendCapacity c;
  for (int i = 0; i < nodes; ++i) {
    BackendNode n;
    n.name = "n" + std::to_string(i);
    n.model = "A100-80GB";
    n.devices = devices;
    n.cpu_milli = 64000;
    n.mem_mib = 512000;
    c.nodes.push_back(n);
  }
  return c;
}

std::unique_ptr<Backend> MakeSim(const BackendCapacity& cap) {
  BackendConfig c;
  c.kind = "simulated";
  auto b = MakeBackend(c, "sim", "", cap);
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

LaunchRequest SimRequest(int64_t id, WallMs start, int64_t duration_s, int64_t limit_s) {
  LaunchRequest r;
  r.job_id = id;
  r.spec.command = {"train"};
  r.spec.duration_s = duration_s;
  r.spec.time_limit_s = limit_s;
  r.node = "n0";
  r.model = "A100-80GB";
  r.devices = {0};
  r.start_ms = start;
  return r;
}

TEST(LiveBackendSimulated, JobsEndAtTheirDuration) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), "simulated");
  auto cap = b->Probe();
  ASSERT_TRUE(cap.ok());
  EXPECT_EQ(cap->nodes.size(), 2u);
  const WallMs t0{1'700'000'000'000};
  auto id = b->Launch(SimRequest(1, t0, 10, 3600));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "sim-1");
  ASSERT_TRUE(b->Launch(SimRequest(2, t0, 0, 20)).ok());    // runs its time limit, succeeds
  ASSERT_TRUE(b->Launch(SimRequest(3, t0, 100, 30)).ok());  // stopped at its limit
  auto none = b->Poll(t0 + 9'999);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto one = b->Poll(t0 + 10'000);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].job_id, 1);
  EXPECT_EQ((*one)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*one)[0].exit_code, 0);
  EXPECT_EQ((*one)[0].at_ms, t0 + 10'000);
  auto rest = b->Poll(t0 + 1'000'000);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].job_id, 2);
  EXPECT_EQ((*rest)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*rest)[0].at_ms, t0 + 20'000);
  EXPECT_EQ((*rest)[1].job_id, 3);
  EXPECT_EQ((*rest)[1].state, JobState::kFailed);
  EXPECT_EQ((*rest)[1].reason, "time limit 30 s exceeded");
  EXPECT_EQ((*rest)[1].at_ms, t0 + 30'000);
}

// A replayed trace job runs exactly what the scheduler expects, to the
// microsecond; an injected device failure stops it earlier, as its center's
// doing; NextEventUs says when the next run ends.
TEST(LiveBackendSimulated, RunsToTheMicrosecondAndFailsWhereInjected) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);
  const int64_t t0 = 1'700'000'000'000'123;  // µs
  LaunchRequest a = SimRequest(1, WallOf(t0), 10, 0);
  a.start_us = t0;
  a.run_us = 2'500'001;  // spec.duration_s does not count
  ASSERT_TRUE(b->Launch(a).ok());
  LaunchRequest f = SimRequest(2, WallOf(t0), 10, 0);
  f.start_us = t0;
  f.run_us = 9'000'000;
  f.fail_after_us = 4'000'000;
  ASSERT_TRUE(b->Launch(f).ok());
  LaunchRequest late = SimRequest(3, WallOf(t0), 10, 0);
  late.start_us = t0;
  late.run_us = 1'000'000;
  late.fail_after_us = 2'000'000;  // after its end: no failure
  ASSERT_TRUE(b->Launch(late).ok());
  EXPECT_EQ(b->NextEventUs(), t0 + 1'000'000);
  ASSERT_EQ(b->PollUs(t0 + 1'000'000)->size(), 1u);
  EXPECT_EQ(b->NextEventUs(), t0 + 2'500'001);
  EXPECT_TRUE(b->PollUs(t0 + 2'500'000)->empty());
  auto one = b->PollUs(t0 + 2'500'001);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].job_id, 1);
  EXPECT_EQ((*one)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*one)[0].at_ms, WallOf(t0 + 2'500'001));
  auto failed = b->PollUs(t0 + 4'000'000);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].job_id, 2);
  EXPECT_EQ((*failed)[0].state, JobState::kFailed);
  EXPECT_TRUE((*failed)[0].center_stopped);
  EXPECT_EQ((*failed)[0].reason, "device failure");
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);
}

// A simulated center's outage (suanli replay): it answers nothing while
// away, loses its runs, and reports them lost when it is back.
TEST(LiveBackendSimulated, AnOutageLosesItsRunsAndReportsThemWhenItIsBack) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  const int64_t t0 = 1'700'000'000'000'000;
  for (int64_t id : {7, 3}) {
    LaunchRequest r = SimRequest(id, WallOf(t0), 100, 0);
    r.start_us = t0;
    ASSERT_TRUE(b->Launch(r).ok());
  }
  ASSERT_TRUE(SetSimulatedCenterAway(*b, true, t0 + 5'000'000).ok());
  EXPECT_EQ(b->PollUs(t0 + 6'000'000).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->Launch(SimRequest(9, WallOf(t0), 100, 0)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->Cancel(7, "sim-7").code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);  // nothing ends while it is away
  ASSERT_TRUE(SetSimulatedCenterAway(*b, false, t0 + 200'000'000).ok());
  EXPECT_EQ(b->NextEventUs(), INT64_MIN);  // its lost runs, at the next poll
  auto back = b->PollUs(t0 + 200'000'000);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].job_id, 3);
  EXPECT_EQ((*back)[1].job_id, 7);
  for (const BackendEvent& ev : *back) {
    EXPECT_EQ(ev.kind, BackendEvent::Kind::kLost);
    EXPECT_EQ(ev.at_ms, WallOf(t0 + 5'000'000));
  }
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);  // nothing runs there any more
}

// A run cancelled and launched again before the cancel is reported (a
// replay's job preempted and started again in one pass): the new run
// replaces it, and no end of the cancelled one is reported.
TEST(LiveBackendSimulated, ALaunchReplacesARunCancelledButNotReported) {
  auto b = MakeSim(SimCapacity(1, 8));
  ASSERT_NE(b, nullptr);
  const int64_t t0 = 1'700'000'000'000'000;
  LaunchRequest r = SimRequest(4, WallOf(t0), 100, 0);
  r.start_us = t0;
  ASSERT_TRUE(b->Launch(r).ok());
  EXPECT_FALSE(b->Launch(r).ok());  // running: not twice
  ASSERT_TRUE(b->Cancel(4, "sim-4").ok());
  r.start_us = t0 + 1'000'000;
  r.run_us = 3'000'000;
  ASSERT_TRUE(b->Launch(r).ok());
  EXPECT_EQ(b->NextEventUs(), t0 + 4'000'000);
  auto ended = b->PollUs(t0 + 4'000'000);
  ASSERT_TRUE(ended.ok());
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].state, JobState::kSucceeded);
}

TEST(LiveBackendSimulated, CancelAdoptAndBadRequests) {
  BackendCapacity cap = SimCapacity(1, 4);
  const WallMs t0{1'700'000'000'000};
  auto b = MakeSim(cap);
  ASSERT_NE(b, nullptr);
  auto id = b->Launch(SimRequest(1, t0, 100, 3600));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(b->Cancel(1, *id).ok());
  auto evs = b->Poll(t0 + 5'000);
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].state, JobState::kCancelled);
  EXPECT_EQ((*evs)[0].at_ms, t0 + 5'000);
  EXPECT_TRUE(b->Poll(t0 + 1'000'000)->empty());
  EXPECT_EQ(b->Cancel(1, *id).code(), StatusCode::kNotFound);

  // A new backend object adopts a job launched before: it continues from its start.
  auto b2 = MakeSim(cap);
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(SimRequest(2, t0, 50, 3600), "sim-2").ok());
  ASSERT_TRUE(b2->Adopt(SimRequest(3, t0, 5, 3600), "sim-3").ok());  // ended meanwhile
  auto first = b2->Poll(t0 + 10'000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].job_id, 3);
  EXPECT_EQ((*first)[0].at_ms, t0 + 5'000);
  auto second = b2->Poll(t0 + 50'000);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].job_id, 2);
  EXPECT_EQ(b2->Adopt(SimRequest(4, t0, 5, 3600), "4:123").code(), StatusCode::kInvalidArgument);

  LaunchRequest bad = SimRequest(5, t0, 5, 3600);
  bad.node = "nowhere";
  EXPECT_FALSE(b2->Launch(bad).ok());
  bad = SimRequest(5, t0, 5, 3600);
  bad.devices = {4};
  EXPECT_FALSE(b2->Launch(bad).ok());

  BackendCapacity dup = SimCapacity(2, 4);
  dup.nodes[1].name = dup.nodes[0].name;
  BackendConfig c;
  c.kind = "simulated";
  EXPECT_FALSE(MakeBackend(c, "sim", "", dup).ok());
}

TEST(LiveBackendSimulated, ManyJobsEndInOrder) {
  // 100,000 accelerators, 30,000 jobs with spread-out durations.
  auto b = MakeSim(SimCapacity(12'500, 8));
  ASSERT_NE(b, nullptr);
  const WallMs t0{1'700'000'000'000};
  const int kJobs = 30'000;
  for (int i = 1; i <= kJobs; ++i) {
    LaunchRequest r = SimRequest(i, t0, 1 + (i * 7919) % 5000, 0);
    r.node = "n" + std::to_string(i % 12'500);
    ASSERT_TRUE(b->Launch(r).ok());
  }
  int ended = 0;
  WallMs last_at{};
  for (WallMs now = t0; now <= t0 + 5'001'000; now += 100'000) {
    auto evs = b->Poll(now);
    ASSERT_TRUE(evs.ok());
    for (const BackendEvent& e : *evs) {
      EXPECT_LE(e.at_ms, now);
      EXPECT_GE(e.at_ms, last_at);
      last_at = e.at_ms;
      EXPECT_EQ(e.at_ms, t0 + (1 + (e.job_id * 7919) % 5000) * 1000);
      ++ended;
    }
  }
  EXPECT_EQ(ended, kJobs);
}

TEST(LiveBackendFactory, UnknownKindIsAnError) {
  BackendConfig c;
  c.kind = "kubernetes";
  auto b = MakeBackend(c, "c1", "", {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("kubernetes"), std::string::npos);
  EXPECT_NE(b.status().message().find("c1"), std::string::npos);
}

}  // namespace
}  // namespace suanli::live
