#include "base/time.h"

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

}  // namespace suanli
