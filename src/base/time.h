// Time is an integer count of microseconds (simulated or wall-clock, the core
// does not know which). Durations use the same type.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace suanli {

using Time = int64_t;
using Duration = int64_t;

inline constexpr Time kMicro = 1;
inline constexpr Time kMilli = 1000;
inline constexpr Time kSecond = 1'000'000;
inline constexpr Time kMinute = 60 * kSecond;
inline constexpr Time kHour = 60 * kMinute;
inline constexpr Time kDay = 24 * kHour;
inline constexpr Time kNever = std::numeric_limits<Time>::max();

constexpr Time Seconds(int64_t s) { return s * kSecond; }
inline Time SecondsF(double s) { return static_cast<Time>(std::llround(s * 1e6)); }
inline double ToSeconds(Time t) { return static_cast<double>(t) / 1e6; }

// "3d04h05m06s" style, for logs and tables.
std::string FormatDuration(Duration d);

}  // namespace suanli
