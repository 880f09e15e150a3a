// RFC 3339 times (base/time.h): a job's deadline is one.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "base/time.h"

namespace suanli {
namespace {

int64_t Ms(const char* text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t ? t->ms() : -1;
}

TEST(Rfc3339, ParsesOffsetsFractionsAndTheFormsRfc3339Allows) {
  const int64_t utc = 1796421600000;  // 2026-12-04T22:00:00Z (date -u -d ... +%s)
  EXPECT_EQ(Ms("2026-12-04T22:00:00Z"), utc);
  EXPECT_EQ(Ms("2026-12-05T06:00:00+08:00"), utc);
  EXPECT_EQ(Ms("2026-12-04T16:30:00-05:30"), utc);
  EXPECT_EQ(Ms("2026-12-04t22:00:00z"), utc);
  EXPECT_EQ(Ms("2026-12-04 22:00:00Z"), utc);
  EXPECT_EQ(Ms("2026-12-04T22:00:00.25Z"), utc + 250);
  EXPECT_EQ(Ms("2026-12-04T22:00:00.123456789Z"), utc + 123);
  EXPECT_EQ(Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Ms("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(Ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(Ms("2016-12-31T23:59:60Z"), Ms("2017-01-01T00:00:00Z"));  // a leap second
}

TEST(Rfc3339, RefusesEverythingElse) {
  for (const char* bad : {"",
                          "2026-12-05",
                          "2026-12-05T06:00:00",
                          "2026-12-05T06:00Z",
                          "2026-13-05T06:00:00Z",
                          "2026-02-29T00:00:00Z",
                          "2026-12-32T00:00:00Z",
                          "2026-12-05T24:00:00Z",
                          "2026-12-05T06:60:00Z",
                          "2026-12-05T06:00:61Z",
                          "2026-12-05T06:00:00+24:00",
                          "2026-12-05T06:00:00+08",
                          "2026-12-05T06:00:00+0800",
                          "2026-12-05T06:00:00.Z",
                          "2026-12-05T06:00:00Z ",
                          " 2026-12-05T06:00:00Z",
                          "+2026-12-05T06:00:00Z",
                          "2026-1-05T06:00:00Z",
                          "12h",
                          "now",
                          "2026-12-05X06:00:00Z",
                          "2026-12-05T06:00:00\nZ"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339, FormatsInUtcAndParsesBack) {
  EXPECT_EQ(FormatRfc3339(WallMs(1796421600000)), "2026-12-04T22:00:00Z");
  EXPECT_EQ(FormatRfc3339(WallMs(1796421600250)), "2026-12-04T22:00:00.250Z");
  EXPECT_EQ(FormatRfc3339(WallMs(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(WallMs(int64_t{4000000} * 86400 * 1000)), "");  // beyond year 9999
  EXPECT_EQ(FormatRfc3339(WallMs(INT64_MAX)), "");
  EXPECT_EQ(FormatRfc3339(WallMs(INT64_MIN + 1)), "");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("9999-12-31T23:59:59.999Z")), "9999-12-31T23:59:59.999Z");
  for (int64_t ms : {int64_t{0}, int64_t{-86400001}, int64_t{1709164800000}, int64_t{253402300799999}}) {
    auto back = ParseRfc3339(FormatRfc3339(WallMs(ms)));
    ASSERT_TRUE(back.has_value()) << ms;
    EXPECT_EQ(back->ms(), ms);
  }
}

}  // namespace
}  // namespace suanli
