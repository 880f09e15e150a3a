// A center's history (GET /api/v1/centers/history, the dashboard's charts):
// the server samples each center every minute of its clock, busy and total
// accelerators and jobs pending and running, and keeps the last 24 hours,
// across restarts.
// The tiny network's simulated centers on a clock of the test's own.
#include <gtest/gtest.h>

#include <string>

#include "base/time.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

const CenterHistory& Of(const std::vector<CenterHistory>& all, const std::string& center) {
  for (const CenterHistory& h : all)
    if (h.center == center) return h;
  static const CenterHistory kNone;
  return kNone;
}

TEST(LiveHistory, EveryCenterIsSampledEachMinuteAndTheLastDayIsKept) {
  testing::live_control::ClockedNetwork net(*ParseRfc3339("2026-12-07T09:00:00Z"));
  const WallMs t0 = net.now();
  JobSpec s;
  s.command = {"train"};
  s.models = {"A100-80GB"};
  s.time_limit_s = 3600;
  s.duration_s = 150;
  s.gpus = 8;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(net.Submit(s).ok());  // 4 nodes of 8 A100s: 2 wait
  for (int i = 0; i < 4; ++i) net.Advance(30);                  // samples at t0, t0+60 s, t0+120 s
  auto all = net.cp().History();
  ASSERT_EQ(all.size(), 2u);
  const CenterHistory& east = Of(all, "east");
  ASSERT_EQ(east.samples.size(), 3u);
  EXPECT_EQ(east.samples[0].time_ms, t0);
  EXPECT_EQ(east.samples[1].time_ms, t0 + 60'000);
  EXPECT_EQ(east.samples[2].time_ms, t0 + 120'000);
  EXPECT_EQ(east.samples[0].devices, 32);
  // The first sample comes before the jobs (the start's own pass); then 4
  // run on all 32 A100s and 2 wait.
  EXPECT_EQ(east.samples[0].busy_devices, 0);
  EXPECT_EQ(east.samples[1].busy_devices, 32);
  EXPECT_EQ(east.samples[1].running, 4);
  EXPECT_EQ(east.samples[1].pending, 2);
  const CenterHistory& west = Of(all, "west");
  ASSERT_EQ(west.samples.size(), 3u);
  EXPECT_EQ(west.samples[1].devices, 16);
  EXPECT_EQ(west.samples[1].busy_devices, 0);
  // After 150 s the first four end and the last two run.
  net.Advance(60);
  const CenterHistory later = Of(net.cp().History(), "east");
  ASSERT_EQ(later.samples.size(), 4u);
  EXPECT_EQ(later.samples[3].running, 2);
  EXPECT_EQ(later.samples[3].pending, 0);
  EXPECT_EQ(later.samples[3].busy_devices, 16);
  // A day and more: the last kHistorySamples stay.
  for (size_t i = 0; i < kHistorySamples + 10; ++i) net.Advance(kHistoryIntervalS);
  const CenterHistory day = Of(net.cp().History(), "east");
  ASSERT_EQ(day.samples.size(), kHistorySamples);
  EXPECT_EQ(day.samples.back().time_ms, net.now());
  EXPECT_EQ(day.samples.back().time_ms - day.samples.front().time_ms,
            static_cast<int64_t>(kHistorySamples - 1) * kHistoryIntervalS * 1000);
}

// The history is in the store too: a restart keeps the day's samples and
// goes on from them; samples older than a day (a server stopped for longer)
// are not brought back.
TEST(LiveHistory, ARestartKeepsTheDaysSamples) {
  testing::live_control::ClockedNetwork net(*ParseRfc3339("2026-12-07T09:58:30Z"));
  const WallMs t0 = net.now();
  JobSpec s;
  s.command = {"train"};
  s.models = {"A100-80GB"};
  s.time_limit_s = 3600;
  s.duration_s = 3000;
  s.gpus = 8;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.Submit(s).ok());
  for (int i = 0; i < 4; ++i) net.Advance(30);  // t0, +60 s, +120 s (10:00:30 UTC: the next hour's row)
  ASSERT_EQ(Of(net.cp().History(), "east").samples.size(), 3u);
  net.Restart();
  net.Advance(10);  // less than a minute since the last sample: none new
  CenterHistory east = Of(net.cp().History(), "east");
  ASSERT_EQ(east.samples.size(), 3u);
  EXPECT_EQ(east.samples[0].time_ms, t0);
  EXPECT_EQ(east.samples[1].time_ms, t0 + 60'000);
  EXPECT_EQ(east.samples[2].time_ms, t0 + 120'000);
  EXPECT_EQ(east.samples[1].busy_devices, 24);
  EXPECT_EQ(east.samples[1].running, 3);
  EXPECT_EQ(east.samples[1].devices, 32);
  EXPECT_EQ(Of(net.cp().History(), "west").samples.size(), 3u);
  // It goes on from them, and the next restart keeps that too.
  net.Advance(60);
  ASSERT_EQ(Of(net.cp().History(), "east").samples.size(), 4u);
  net.Restart();
  east = Of(net.cp().History(), "east");
  ASSERT_EQ(east.samples.size(), 4u);
  EXPECT_EQ(east.samples[3].time_ms, t0 + 190'000);
  // 25 hours on, a restart brings back nothing older than a day.
  net.MoveTo(t0 + 25 * 3'600'000);
  net.Restart();
  east = Of(net.cp().History(), "east");
  ASSERT_FALSE(east.samples.empty());
  EXPECT_GT(east.samples.front().time_ms, net.now() - 24 * 3'600'000);
}

}  // namespace
}  // namespace suanli::live
