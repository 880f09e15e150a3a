// Metering of a live run: split by the UTC hours it ran in, each priced at
// the center's own local hour.
#include <gtest/gtest.h>

#include "core/model/catalog.h"
#include "core/model/network.h"
#include "live/metering.h"

namespace suanli::live {
namespace {

constexpr int64_t kHour = 3600000;
constexpr int64_t kMin = 60000;
const int64_t kDay = (1700000000000 / (24 * kHour) + 1) * (24 * kHour);  // 00:00 UTC of a day

Center PricedByHour(int32_t utc_offset_s) {
  Center c;
  c.name = "c";
  c.pue = 1.25;
  c.utc_offset_s = utc_offset_s;
  for (int h = 0; h < 24; ++h) {
    c.price_per_kwh[h] = 1.0 + h;  // 1 at 00:00 local, 24 at 23:00
    c.carbon_g_per_kwh[h] = 100.0 * (h + 1);
  }
  return c;
}

AcceleratorModel Card(double watts) {
  AcceleratorModel m;
  m.name = "card";
  m.power_w = watts;
  return m;
}

// 4 cards of 400 W at a UTC+8 center from 17:30 to 19:15 UTC (01:30 to
// 03:15 there): three slices, priced at local hours 1, 2 and 3.
TEST(LiveMetering, ARunIsSplitByTheHoursItRanAndPricedAtTheCentersHour) {
  const Center c = PricedByHour(8 * 3600);
  const AcceleratorModel m = Card(400);
  JobAttempt at;
  at.start_ms = WallMs(kDay + 17 * kHour + 30 * kMin);
  at.end_ms = WallMs(kDay + 19 * kHour + 15 * kMin);
  MeterRun(&at, &c, &m, 4);
  ASSERT_EQ(at.hours.size(), 3u);
  const double kw = 4 * 400 * 1.25 / 1000;
  const int64_t secs[] = {1800, 3600, 900};
  double g = 0, cost = 0;
  for (int i = 0; i < 3; ++i) {
    const UsageSlice& s = at.hours[static_cast<size_t>(i)];
    EXPECT_EQ(s.hour, (kDay + (17 + i) * kHour) / kHour);
    EXPECT_EQ(s.start_ms, i == 0 ? at.start_ms : WallMs(kDay + (17 + i) * kHour));
    EXPECT_EQ(s.end_ms, i == 2 ? at.end_ms : WallMs(kDay + (18 + i) * kHour));
    EXPECT_DOUBLE_EQ(s.gpu_seconds, 4.0 * static_cast<double>(secs[i]));
    const double kwh = kw * static_cast<double>(secs[i]) / 3600;
    EXPECT_NEAR(s.energy_kwh, kwh, 1e-12);
    EXPECT_NEAR(s.cost, kwh * (2 + i), 1e-12) << "local hour " << 1 + i;
    EXPECT_NEAR(s.carbon_kg, kwh * 100 * (2 + i) / 1000, 1e-12);
    g += s.gpu_seconds;
    cost += s.cost;
  }
  EXPECT_DOUBLE_EQ(at.gpu_seconds, g);
  EXPECT_DOUBLE_EQ(at.cost, cost);
  EXPECT_DOUBLE_EQ(at.gpu_seconds, 4 * 6300.0);
}

// At UTC+5:30 one UTC hour holds two local hours: one slice, both prices.
TEST(LiveMetering, AHalfHourZoneGivesOneSlicePerUtcHourWithBothPrices) {
  const Center c = PricedByHour(5 * 3600 + 1800);
  const AcceleratorModel m = Card(1000);
  JobAttempt at;
  at.start_ms = WallMs(kDay);  // 05:30 local
  at.end_ms = WallMs(kDay + kHour);
  MeterRun(&at, &c, &m, 1);
  ASSERT_EQ(at.hours.size(), 1u);
  const double kwh_half = 1.25 / 2;
  EXPECT_NEAR(at.hours[0].cost, kwh_half * 6 + kwh_half * 7, 1e-12);  // local 05:xx and 06:xx
}

TEST(LiveMetering, WithoutCenterOrModelTimeIsMeteredAndEnergyIsNot) {
  const AcceleratorModel m = Card(400);
  JobAttempt at;
  at.start_ms = WallMs(kDay + 30 * kMin);
  at.end_ms = WallMs(kDay + 90 * kMin);
  MeterRun(&at, nullptr, &m, 2);
  ASSERT_EQ(at.hours.size(), 2u);
  EXPECT_DOUBLE_EQ(at.gpu_seconds, 2 * 3600.0);
  EXPECT_DOUBLE_EQ(at.hours[1].gpu_seconds, 2 * 1800.0);
  EXPECT_EQ(at.energy_kwh, 0);
  const Center c = PricedByHour(0);
  MeterRun(&at, &c, nullptr, 2);
  EXPECT_DOUBLE_EQ(at.gpu_seconds, 2 * 3600.0);
  EXPECT_EQ(at.cost, 0);
}

TEST(LiveMetering, ARunThatNeverStartedOrTookNoTimeIsNothing) {
  const Center c = PricedByHour(0);
  const AcceleratorModel m = Card(400);
  JobAttempt at;
  at.hours.push_back(UsageSlice{});
  at.gpu_seconds = 7;
  at.start_ms = WallMs(0);
  at.end_ms = WallMs(kDay);
  MeterRun(&at, &c, &m, 8);
  EXPECT_TRUE(at.hours.empty());
  EXPECT_EQ(at.gpu_seconds, 0);
  at.start_ms = at.end_ms = WallMs(kDay);
  MeterRun(&at, &c, &m, 8);
  EXPECT_TRUE(at.hours.empty());
  at.end_ms = WallMs(kDay + 1000);
  MeterRun(&at, &c, &m, 0);  // CPU-only
  EXPECT_TRUE(at.hours.empty());
}

}  // namespace
}  // namespace suanli::live
