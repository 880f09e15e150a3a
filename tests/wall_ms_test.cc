// Wall-clock time (WallMs, Unix milliseconds) and the core's time (Time,
// microseconds) do not mix: what must not compile is checked with concepts
// and type traits, the conversions by behaviour.
#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "base/time.h"
#include "live/backend.h"
#include "live/live_job.h"

namespace suanli {
namespace {

// Neither converts to the other, nor from a plain integer, implicitly.
static_assert(!std::is_convertible_v<Time, WallMs>);
static_assert(!std::is_convertible_v<WallMs, Time>);
static_assert(!std::is_convertible_v<int64_t, WallMs>);
static_assert(!std::is_convertible_v<int, WallMs>);
static_assert(!std::is_constructible_v<Time, WallMs>);
static_assert(std::is_constructible_v<WallMs, int64_t>);  // explicitly: WallMs(ms)
static_assert(!std::is_same_v<WallMs, Time>);
static_assert(sizeof(WallMs) == sizeof(int64_t));
static_assert(std::is_trivially_copyable_v<WallMs>);

// A wall time is compared with wall times only, moves by milliseconds, and
// the difference of two is a number of milliseconds.
template <typename A, typename B>
concept Comparable = requires(A a, B b) {
  a < b;
};
template <typename A, typename B>
concept Addable = requires(A a, B b) {
  a + b;
};
static_assert(Comparable<WallMs, WallMs>);
static_assert(!Comparable<WallMs, Time>);
static_assert(!Comparable<Time, WallMs>);
static_assert(!Addable<WallMs, WallMs>);
static_assert(std::is_same_v<decltype(WallMs{} + int64_t{1}), WallMs>);
static_assert(std::is_same_v<decltype(WallMs{} - WallMs{}), int64_t>);

// A function of the core's time takes no wall time, and the live records
// hold wall times.
template <typename T>
concept TakesTime = requires(T t) {
  ToSeconds(t);
};
static_assert(TakesTime<Time>);
static_assert(!TakesTime<WallMs>);
static_assert(std::is_same_v<decltype(live::JobRecord::submit_ms), WallMs>);
static_assert(std::is_same_v<decltype(live::BackendEvent::at_ms), WallMs>);

TEST(WallMs, ConvertsToAndFromTheCoresTime) {
  constexpr WallMs t{1'700'000'000'123};
  static_assert(CoreTime(t) == 1'700'000'000'123'000);
  EXPECT_EQ(CoreTime(t), Time{1'700'000'000'123'000});
  EXPECT_EQ(WallOf(CoreTime(t)), t);
  EXPECT_EQ(WallOf(Time{1'700'000'000'123'999}), t);  // truncated to the millisecond
  EXPECT_EQ(WallOf(0), WallMs{});
}

TEST(WallMs, ComparesAndMovesByMilliseconds) {
  const WallMs a{1000}, b{1500};
  EXPECT_LT(a, b);
  EXPECT_EQ(a + 500, b);
  EXPECT_EQ(b - 500, a);
  EXPECT_EQ(b - a, 500);
  WallMs c = a;
  c += 250;
  EXPECT_EQ(c.ms(), 1250);
  EXPECT_EQ(WallMs{}.ms(), 0);
}

}  // namespace
}  // namespace suanli
