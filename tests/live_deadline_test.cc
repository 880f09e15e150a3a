// Deferrable jobs live (issue: time shifting): a job with a deadline is held
// by cost- or carbon-aware dispatch for a cheaper or cleaner hour, says so
// ("deferred until T (price)"), reaches its center then, and still ends by
// its deadline; a deadline that leaves no better hour runs it now. The
// control plane runs the tiny network's simulated centers on a clock of the
// test's own.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "base/time.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using testing::live_control::kAdmin;

class Net : public testing::live_control::ClockedNetwork {
 public:
  Net(const std::string& dispatch, const char* start) : ClockedNetwork(*ParseRfc3339(start), dispatch, false) {}
  void MoveTo(const char* t) { ClockedNetwork::MoveTo(*ParseRfc3339(t)); }
  Result<JobRecord> Submit(const std::string& model, const std::string& deadline) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = 8;
    s.models = {model};
    s.time_limit_s = 3600;
    s.deadline = deadline;
    return ClockedNetwork::Submit(s);
  }
};

std::vector<std::string> Kinds(const JobRecord& r) {
  std::vector<std::string> k;
  for (const JobEvent& e : r.events) k.push_back(e.kind);
  return k;
}

// East (the only A100s) pays peak 08-11 and 18-21, valley 23-07 (UTC).
TEST(LiveDeadline, CostAwareHoldsADeferrableJobForTheValleyHourAndRunsItThen) {
  Net net("cost-aware", "2026-12-07T09:00:00Z");
  auto late = net.Submit("A100-80GB", "2026-12-08T05:00:00+00:00");
  ASSERT_TRUE(late.ok()) << late.status().message();
  JobRecord r = net.Get(late->id);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.reason, "deferred until 2026-12-07T23:00:00Z (price)");
  EXPECT_EQ(r.est_start_ms, *ParseRfc3339("2026-12-07T23:00:00Z"));
  EXPECT_TRUE(r.center.empty());
  ASSERT_EQ(Kinds(r), (std::vector<std::string>{"submitted", "deferred"}));
  // Why: the figures it was held for (the only center with A100s).
  EXPECT_EQ(r.events[1].message,
            "for east until 2026-12-07T23:00:00Z (price), by cost-aware: energy cost 1.25, starting in 14h00m00s");
  EXPECT_EQ(r.spec.deadline, "2026-12-08T05:00:00+00:00");

  // Its deadline (+08:00: 11:00 UTC) leaves only peak hours: it runs now.
  auto soon = net.Submit("A100-80GB", "2026-12-07T19:00:00+08:00");
  ASSERT_TRUE(soon.ok()) << soon.status().message();
  EXPECT_EQ(net.Get(soon->id).state, JobState::kRunning);
  ASSERT_GE(net.Get(soon->id).events.size(), 2u);
  EXPECT_EQ(net.Get(soon->id).events[1].message, "to east by cost-aware: energy cost 4.16");
  // A job without a deadline is not held either.
  auto plain = net.Submit("A100-80GB", "");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(net.Get(plain->id).state, JobState::kRunning);

  net.MoveTo("2026-12-07T22:59:59Z");
  EXPECT_EQ(net.Get(late->id).state, JobState::kPending);
  net.MoveTo("2026-12-07T23:00:00Z");
  r = net.Get(late->id);
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.center, "east");
  EXPECT_EQ(r.start_ms, *ParseRfc3339("2026-12-07T23:00:00Z"));
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"submitted", "deferred", "dispatched", "started"}));
  net.MoveTo("2026-12-08T00:00:01Z");
  r = net.Get(late->id);
  EXPECT_EQ(r.state, JobState::kSucceeded);
  EXPECT_LE(r.end_ms, *ParseRfc3339(r.spec.deadline));
  // Metered at the valley price: 8 A100s for an hour cost less than the
  // job that ran at the peak.
  EXPECT_LT(r.cost, net.Get(soon->id).cost);
}

// West's grid is cleanest at 11-13 (90 g/kWh).
TEST(LiveDeadline, CarbonAwareHoldsItForTheCleanestHour) {
  Net net("carbon-aware", "2026-12-07T00:00:00Z");
  auto j = net.Submit("V100-32GB", "2026-12-07T20:00:00Z");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(net.Get(j->id).reason, "deferred until 2026-12-07T11:00:00Z (carbon)");
}

TEST(LiveDeadline, EarliestStartDoesNotHoldIt) {
  Net net("earliest-start", "2026-12-07T09:00:00Z");
  auto j = net.Submit("A100-80GB", "2026-12-08T05:00:00Z");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(net.Get(j->id).state, JobState::kRunning);
  // A job's history says why it went where it went: here, where it starts
  // first, against the other centers' start.
  EXPECT_EQ(net.Get(j->id).events[1].message, "to east by earliest-start: starts now");
  auto fill = net.Submit("V100-32GB", "");
  ASSERT_TRUE(fill.ok());
  auto fill2 = net.Submit("V100-32GB", "");
  ASSERT_TRUE(fill2.ok());
  JobSpec any;
  any.command = {"train"};
  any.gpus = 8;
  any.time_limit_s = 3600;
  auto k = net.cp().Submit(kAdmin, any);
  ASSERT_TRUE(k.ok());
  for (int i = 0; i < 3; ++i) net.cp().PassNow();
  const JobRecord kr = net.Get(k->id);
  ASSERT_GE(kr.events.size(), 2u);
  // (West's two nodes are busy for the next hour; its start is the
  // dispatcher's wait estimate, docs/dispatch.md.)
  EXPECT_EQ(kr.events[1].message, "to east by earliest-start: starts now (against west: starts in 1h14m48s)");
}

TEST(LiveDeadline, APassedOrMalformedDeadlineIsRefusedNamingTheField) {
  Net net("cost-aware", "2026-12-07T09:00:00Z");
  for (const char* bad : {"2026-12-07T09:00:00Z", "2026-12-07T16:59:59+08:00", "12h", "2026-12-07"}) {
    auto r = net.Submit("A100-80GB", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "deadline") << bad << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace suanli::live
