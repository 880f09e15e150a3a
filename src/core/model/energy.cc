#include "core/model/energy.h"

namespace suanli {

int HourOfDay(Time t, int start_hour) {
  int64_t h = FloorDiv(t, kHour) + start_hour;
  h %= 24;
  if (h < 0) h += 24;
  return static_cast<int>(h);
}

int LocalHour(const Center& center, Time t, int start_hour) {
  int64_t h = FloorDiv(t + int64_t{start_hour} * kHour + int64_t{center.utc_offset_s} * kSecond, kHour) % 24;
  if (h < 0) h += 24;
  return static_cast<int>(h);
}

Energy EnergyOver(const Center& center, double watts, Time from, Time to, int start_hour) {
  Energy e;
  if (to <= from || watts <= 0) return e;
  const double kw = watts * center.pue / 1000.0;
  ForEachHour(center, from, to, start_hour, [&](const HourSlice& s) {
    double kwh = kw * ToSeconds(s.to - s.from) / 3600.0;
    e.kwh += kwh;
    e.cost += kwh * center.price_per_kwh[s.local_hour];
    e.carbon_kg += kwh * center.carbon_g_per_kwh[s.local_hour] / 1000.0;
  });
  return e;
}

std::vector<HourUsage> UsageByHour(const Center& center, double watts, Time from, Time to, int start_hour) {
  std::vector<HourUsage> out;
  const double kw = std::max(0.0, watts) * center.pue / 1000.0;
  ForEachHour(center, from, to, start_hour, [&](const HourSlice& s) {
    if (out.empty() || out.back().utc_hour != s.utc_hour) out.push_back(HourUsage{s.utc_hour, 0, {}});
    HourUsage& u = out.back();
    const double secs = ToSeconds(s.to - s.from);
    const double kwh = kw * secs / 3600.0;
    u.seconds += secs;
    u.energy.kwh += kwh;
    u.energy.cost += kwh * center.price_per_kwh[s.local_hour];
    u.energy.carbon_kg += kwh * center.carbon_g_per_kwh[s.local_hour] / 1000.0;
  });
  return out;
}

}  // namespace suanli
