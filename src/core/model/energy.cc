#include "core/model/energy.h"

#include <algorithm>

namespace suanli {

int HourOfDay(Time t, int start_hour) {
  int64_t h = t / kHour + start_hour;
  h %= 24;
  if (h < 0) h += 24;
  return static_cast<int>(h);
}

Energy EnergyOver(const Center& center, double watts, Time from, Time to, int start_hour) {
  Energy e;
  if (to <= from || watts <= 0) return e;
  const double kw = watts * center.pue / 1000.0;
  Time t = from;
  while (t < to) {
    Time hour_start = (t >= 0 ? t / kHour : (t - kHour + 1) / kHour) * kHour;
    Time end = std::min(to, hour_start + kHour);
    double kwh = kw * ToSeconds(end - t) / 3600.0;
    int h = HourOfDay(t, start_hour);
    e.kwh += kwh;
    e.cost += kwh * center.price_per_kwh[h];
    e.carbon_kg += kwh * center.carbon_g_per_kwh[h] / 1000.0;
    t = end;
  }
  return e;
}

}  // namespace suanli
