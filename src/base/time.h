// Time is an integer count of microseconds (simulated or wall-clock, the core
// does not know which). Durations use the same type.
//
// WallMs is wall-clock time as the live control plane keeps it: Unix epoch
// milliseconds (its records, the store, the API). It is a type of its own, so
// that milliseconds are never taken for the core's microseconds: built from
// milliseconds only explicitly, read back with ms(), moved by a number of
// milliseconds; the difference of two is one. The live plane hands a wall
// time to the core with CoreTime and reads the core's time with WallOf (the
// core runs there on Unix time, in microseconds).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

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

class WallMs {
 public:
  constexpr WallMs() = default;
  constexpr explicit WallMs(int64_t ms) : ms_(ms) {}
  constexpr int64_t ms() const { return ms_; }

  friend constexpr bool operator==(WallMs, WallMs) = default;
  friend constexpr auto operator<=>(WallMs, WallMs) = default;
  // Moved by `ms` milliseconds; the milliseconds from b to a.
  friend constexpr WallMs operator+(WallMs t, int64_t ms) { return WallMs(t.ms_ + ms); }
  friend constexpr WallMs operator-(WallMs t, int64_t ms) { return WallMs(t.ms_ - ms); }
  friend constexpr int64_t operator-(WallMs a, WallMs b) { return a.ms_ - b.ms_; }
  constexpr WallMs& operator+=(int64_t ms) {
    ms_ += ms;
    return *this;
  }

 private:
  int64_t ms_ = 0;
};

// The core's time of a wall time (Unix microseconds), and the wall time of
// the core's (truncated to the millisecond).
constexpr Time CoreTime(WallMs t) { return t.ms() * kMilli; }
constexpr WallMs WallOf(Time t) { return WallMs(t / kMilli); }

// "3d04h05m06s" style, for logs and tables.
std::string FormatDuration(Duration d);

// An RFC 3339 time, "2026-12-05T06:00:00+08:00" (or "...Z", a fraction of a
// second, 't' or ' ' for 'T'), as Unix milliseconds (a fraction beyond the
// millisecond is dropped); nothing for any other text or a field out of
// range (month 13, February 30, offset +24:00). Years 0000..9999.
std::optional<WallMs> ParseRfc3339(std::string_view text);
// The same time in UTC, "2026-12-04T22:00:00Z" (".250Z" with milliseconds);
// "" outside years 0000..9999.
std::string FormatRfc3339(WallMs t);

}  // namespace suanli
