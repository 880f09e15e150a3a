// Time zones and hours: tariffs and carbon intensity are read at a center's
// local hour (its `tz` / `utc_offset_h` in the network file), whatever the
// machine's TZ, and a span of use is split at the hours it covers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/model/energy.h"
#include "io/embedded.h"
#include "io/model_loader.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

const Center& Zhengzhou() {
  static const Network* const kNet = [] {
    auto net = LoadNetwork("china-aicc", BuiltinCatalog());
    EXPECT_TRUE(net.ok()) << net.status().message();
    return new Network(net.ok() ? std::move(net).value() : Network{});
  }();
  static const Center kNone;
  auto id = kNet->FindCenter("zhengzhou");
  EXPECT_TRUE(id.has_value());
  return id ? kNet->centers[*id] : kNone;
}

// 2026-03-10 17:16 UTC as Unix time (what the live control plane passes).
constexpr int64_t kUnix1716 = 1773162960;

TEST(CenterTime, ChinaAiccCentersAreInAsiaShanghai) {
  auto net = LoadNetwork("china-aicc", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  for (const Center& c : net->centers) {
    EXPECT_EQ(c.tz, "Asia/Shanghai") << c.name;
    EXPECT_EQ(c.utc_offset_s, 8 * 3600) << c.name;
  }
}

TEST(CenterTime, ZhengzhouAt1716UtcIsPricedAtTheValleyOf0116Beijing) {
  const Center& zz = Zhengzhou();
  ASSERT_EQ(kUnix1716 % 86400, (17 * 60 + 16) * 60);
  const Time t = Seconds(kUnix1716);
  EXPECT_EQ(HourOfDay(t, 0), 17);
  EXPECT_EQ(LocalHour(zz, t, 0), 1);
  EXPECT_DOUBLE_EQ(zz.price_per_kwh[LocalHour(zz, t, 0)], 0.32);
  // One minute of 1 kW (before the PUE) at that time costs the valley price.
  Energy e = EnergyOver(zz, 1000, t, t + kMinute, 0);
  EXPECT_NEAR(e.cost / e.kwh, 0.32, 1e-12);
  // The simulator's clock: t = 0 is 00:00 UTC plus --start-hour.
  EXPECT_EQ(LocalHour(zz, 16 * kMinute, 17), 1);
  EXPECT_EQ(LocalHour(zz, 0, 0), 8);
  EXPECT_NEAR(EnergyOver(zz, 1000, 0, kMinute, 0).cost / EnergyOver(zz, 1000, 0, kMinute, 0).kwh, 0.9, 1e-12)
      << "08:00 Beijing is a peak hour";
}

TEST(CenterTime, ASpanIsSplitAtItsLocalHoursWithEachHoursPrice) {
  Center c;
  c.pue = 1.0;
  c.utc_offset_s = 8 * 3600;
  for (int h = 0; h < 24; ++h) c.price_per_kwh[h] = h, c.carbon_g_per_kwh[h] = 100 * h;
  // 23:30 to 01:30 local = 15:30 to 17:30 UTC.
  const Time from = 15 * kHour + 30 * kMinute, to = from + 2 * kHour;
  std::vector<HourSlice> s;
  ForEachHour(c, from, to, 0, [&](const HourSlice& x) { s.push_back(x); });
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].to - s[0].from, 30 * kMinute);
  EXPECT_EQ(s[1].to - s[1].from, 60 * kMinute);
  EXPECT_EQ(s[2].to - s[2].from, 30 * kMinute);
  EXPECT_EQ(s[0].local_hour, 23);
  EXPECT_EQ(s[1].local_hour, 0);
  EXPECT_EQ(s[2].local_hour, 1);
  EXPECT_EQ(s[0].utc_hour, 15);
  EXPECT_EQ(s[2].utc_hour, 17);
  Energy e = EnergyOver(c, 1000, from, to, 0);  // 1 kW for 2 h
  EXPECT_DOUBLE_EQ(e.kwh, 2.0);
  EXPECT_DOUBLE_EQ(e.cost, 0.5 * 23 + 1.0 * 0 + 0.5 * 1);
  EXPECT_DOUBLE_EQ(e.carbon_kg, (0.5 * 2300 + 0 + 0.5 * 100) / 1000);
  // A half-hour offset cuts at both the UTC and the local hour boundaries.
  c.utc_offset_s = 5 * 3600 + 1800;
  s.clear();
  ForEachHour(c, 0, kHour, 0, [&](const HourSlice& x) { s.push_back(x); });
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].local_hour, 5);
  EXPECT_EQ(s[1].local_hour, 6);
  EXPECT_EQ(s[0].to, 30 * kMinute);
  EXPECT_EQ(s[0].utc_hour, 0);
  EXPECT_EQ(s[1].utc_hour, 0);
  // Before time 0 and with a negative offset the hours still wrap to 0..23.
  c.utc_offset_s = -3 * 3600;
  EXPECT_EQ(LocalHour(c, -kMinute, 0), 20);
  EXPECT_EQ(HourOfDay(-kMinute, 0), 23);
}

// A job from 23:30 to 01:30 (the center's local time) is metered 30, 60 and
// 30 minutes in three hours, each at its own hour's price.
TEST(CenterTime, UsageByHourPutsEachHourItsShareAtItsPrice) {
  const Center& zz = Zhengzhou();  // valley 0.32 from 0 to 8, flat 0.6 at 23 (Beijing time)
  // 23:30 Beijing = 15:30 UTC; day 20,000 since 1970.
  const Time from = Seconds(int64_t{20000} * 86400 + 15 * 3600 + 1800), to = from + 2 * kHour;
  auto hours = UsageByHour(zz, 1000, from, to, 0);
  ASSERT_EQ(hours.size(), 3u);
  const double minutes[] = {30, 60, 30};
  const double prices[] = {zz.price_per_kwh[23], zz.price_per_kwh[0], zz.price_per_kwh[1]};
  EXPECT_DOUBLE_EQ(prices[0], 0.6);
  EXPECT_DOUBLE_EQ(prices[1], 0.32);
  Energy sum;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(hours[i].utc_hour, int64_t{20000} * 24 + 15 + i);
    EXPECT_DOUBLE_EQ(hours[i].seconds, minutes[i] * 60);
    EXPECT_DOUBLE_EQ(hours[i].energy.kwh, zz.pue * minutes[i] / 60);
    EXPECT_NEAR(hours[i].energy.cost, zz.pue * minutes[i] / 60 * prices[i], 1e-12);
    sum += hours[i].energy;
  }
  Energy whole = EnergyOver(zz, 1000, from, to, 0);
  EXPECT_NEAR(sum.cost, whole.cost, 1e-12);
  EXPECT_NEAR(sum.carbon_kg, whole.carbon_kg, 1e-12);
}

constexpr const char* kOne = R"(
name: one
centers:
  - name: a
    TZ_LINE
    pue: 1.2
    price_per_kwh: 0.5
    carbon_g_per_kwh: 500
    pools:
      - name: p
        nodes:
          - {count: 1, prefix: a-, accelerator: A800, devices: 8, cpu: 64, memory_gib: 512}
)";

Result<Network> WithTz(const std::string& line) {
  std::string y = kOne;
  y.replace(y.find("TZ_LINE"), 7, line.empty() ? "region: x" : line);
  return ParseNetworkYaml(y, "tz.yaml", BuiltinCatalog());
}

TEST(CenterTime, NetworkFileGivesAZoneByNameOrOffset) {
  struct Good {
    std::string line, tz;
    int32_t offset_s;
  };
  for (const Good& g : std::vector<Good>{{"", "UTC", 0},
                                         {"tz: Asia/Shanghai", "Asia/Shanghai", 8 * 3600},
                                         {"tz: Asia/Kolkata", "Asia/Kolkata", 5 * 3600 + 1800},
                                         {"utc_offset_h: -3.5", "UTC-03:30", -(3 * 3600 + 1800)},
                                         {"{tz: Europe/Berlin, utc_offset_h: 1}", "Europe/Berlin", 3600}}) {
    std::string line = g.line;
    if (line.rfind('{', 0) == 0) line = "tz: Europe/Berlin\n    utc_offset_h: 1";
    auto net = WithTz(line);
    ASSERT_TRUE(net.ok()) << g.line << ": " << net.status().message();
    EXPECT_EQ(net->centers[CenterId{0}].tz, g.tz);
    EXPECT_EQ(net->centers[CenterId{0}].utc_offset_s, g.offset_s);
  }
  struct Bad {
    std::string line, error;
  };
  for (const Bad& b : std::vector<Bad>{
           {"tz: Europe/Berlin", "give utc_offset_h as well"},
           {"tz: Asia/Shanghai\n    utc_offset_h: 9", "'Asia/Shanghai' is UTC+08:00, but utc_offset_h says UTC+09:00"},
           {"utc_offset_h: 15", "from -12 to 14"},
           {"utc_offset_h: 1.1", "steps of 0.25"},
           {"tz: [1, 2]", "tz"},
       }) {
    auto net = WithTz(b.line);
    ASSERT_FALSE(net.ok()) << b.line;
    EXPECT_THAT(net.status().message(), HasSubstr("tz.yaml:")) << b.line;
    EXPECT_THAT(net.status().message(), HasSubstr(b.error)) << b.line;
  }
}

}  // namespace
}  // namespace suanli
