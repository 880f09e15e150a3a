#include "base/time.h"

#include <chrono>

#include <fmt/format.h>

namespace suanli {

std::string FormatDuration(Duration d) {
  if (d == kNever) return "never";
  bool neg = d < 0;
  int64_t s = (neg ? -d : d) / kSecond;
  int64_t days = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
  std::string out = neg ? "-" : "";
  if (days) return out + fmt::format("{}d{:02}h{:02}m", days, h, m);
  if (h) return out + fmt::format("{}h{:02}m{:02}s", h, m, sec);
  if (m) return out + fmt::format("{}m{:02}s", m, sec);
  return out + fmt::format("{}s", sec);
}

namespace {

// Exactly `n` decimal digits at `*at`, moved past them.
bool Digits(std::string_view s, size_t* at, size_t n, int* out) {
  if (s.size() - *at < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*at + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *at += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* at, char c) {
  if (*at >= s.size() || s[*at] != c) return false;
  ++*at;
  return true;
}

}  // namespace

std::optional<WallMs> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  size_t at = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &at, 4, &y) || !Expect(s, &at, '-') || !Digits(s, &at, 2, &mo) || !Expect(s, &at, '-') ||
      !Digits(s, &at, 2, &d))
    return std::nullopt;
  if (at >= s.size() || (s[at] != 'T' && s[at] != 't' && s[at] != ' ')) return std::nullopt;
  ++at;
  if (!Digits(s, &at, 2, &h) || !Expect(s, &at, ':') || !Digits(s, &at, 2, &mi) || !Expect(s, &at, ':') ||
      !Digits(s, &at, 2, &sec))
    return std::nullopt;
  int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    size_t n = 0;
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++n)
      if (n < 3) ms = ms * 10 + (s[at] - '0');
    if (n == 0) return std::nullopt;
    for (; n < 3; ++n) ms *= 10;
  }
  int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int sign = s[at] == '-' ? -1 : 1;
    ++at;
    int oh = 0, om = 0;
    if (!Digits(s, &at, 2, &oh) || !Expect(s, &at, ':') || !Digits(s, &at, 2, &om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  // A leap second (:60) is the next second's start.
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  const int64_t days = sys_days(date).time_since_epoch().count();
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return WallMs(secs * 1000 + ms);
}

std::string FormatRfc3339(WallMs t) {
  using namespace std::chrono;
  const int64_t ms = t.ms();
  const int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);  // floor
  const int64_t days = secs / 86400 - (secs % 86400 < 0 ? 1 : 0);
  const int64_t in_day = secs - days * 86400;
  if (days < -719528 || days > 2932896) return "";  // 0000-01-01 .. 9999-12-31
  const year_month_day date{sys_days{std::chrono::days{days}}};
  const int y = static_cast<int>(date.year());
  if (y < 0 || y > 9999) return "";
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, static_cast<unsigned>(date.month()),
                                static_cast<unsigned>(date.day()), in_day / 3600, in_day / 60 % 60, in_day % 60);
  if (const int64_t frac = ms - secs * 1000; frac != 0) out += fmt::format(".{:03}", frac);
  return out + "Z";
}

}  // namespace suanli
