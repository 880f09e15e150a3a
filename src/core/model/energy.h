// Energy, cost and carbon of running accelerators at a center over a span of
// time. Energy = devices x board power (at full use; idle power for idle
// devices) x the center's PUE; priced by the center's tariff and carbon
// intensity for each hour of the center's local day that the span covers.
//
// Time. Time t (microseconds) is `start_hour` hours after 00:00 UTC of day
// 0: the simulator's t = 0 is that instant, and the live control plane passes
// Unix time with start_hour 0. A center's local time is UTC plus its fixed
// offset (Center::utc_offset_s); nothing here reads the machine's time zone.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/network.h"

namespace suanli {

struct Energy {
  double kwh = 0;
  double cost = 0;  // in the network's currency
  double carbon_kg = 0;
  Energy& operator+=(const Energy& o) {
    kwh += o.kwh;
    cost += o.cost;
    carbon_kg += o.carbon_kg;
    return *this;
  }
};

// Floor division of a time by a positive length.
inline int64_t FloorDiv(Time t, Duration d) { return t >= 0 ? t / d : -((-(t + 1)) / d) - 1; }

// UTC hour of day (0..23) at time t.
int HourOfDay(Time t, int start_hour);
// The center's local hour of day (0..23) at time t: the hour its tariff and
// carbon intensity are read at.
int LocalHour(const Center& center, Time t, int start_hour);

// A piece of a span that lies in one UTC hour and one local hour of a center.
struct HourSlice {
  Time from = 0, to = 0;  // [from, to)
  int64_t utc_hour = 0;   // whole UTC hours since 00:00 UTC of day 0 (live: since 1970)
  int local_hour = 0;     // the center's local hour of day, 0..23
};

// Cuts [from, to) at every UTC and every local hour boundary of `center`,
// calling fn(HourSlice) in time order. Nothing when to <= from. O(hours
// spanned). The one rule for splitting usage across the hours a job ran,
// shared by the simulator and the live metering.
template <class Fn>
void ForEachHour(const Center& center, Time from, Time to, int start_hour, Fn&& fn) {
  const Time utc0 = int64_t{start_hour} * kHour;                      // t + utc0 = time since 00:00 UTC, day 0
  const Time local0 = utc0 + int64_t{center.utc_offset_s} * kSecond;  // t + local0 = local time since then
  Time t = from;
  while (t < to) {
    const int64_t uh = FloorDiv(t + utc0, kHour);
    const int64_t lh = FloorDiv(t + local0, kHour);
    const Time end = std::min({to, (uh + 1) * kHour - utc0, (lh + 1) * kHour - local0});
    int64_t hod = lh % 24;
    if (hod < 0) hod += 24;
    fn(HourSlice{t, end, uh, static_cast<int>(hod)});
    t = end;
  }
}

// Facility energy of drawing `watts` at the accelerators of `center` over
// [from, to), priced hour by hour of the center's local time. O(hours spanned).
Energy EnergyOver(const Center& center, double watts, Time from, Time to, int start_hour);

// Use of one UTC hour: the seconds of [from, to) in it and their energy,
// priced at the center's local hour(s).
struct HourUsage {
  int64_t utc_hour = 0;  // as HourSlice::utc_hour
  double seconds = 0;
  Energy energy;
};

// [from, to) at `watts` split into the UTC hours it covers, in order, for
// metering by hour (a job's use goes to the hours it ran in, not the hour it
// ended). Sums to EnergyOver over the whole span. O(hours spanned).
std::vector<HourUsage> UsageByHour(const Center& center, double watts, Time from, Time to, int start_hour);

// The same for `devices` accelerators of `model` busy at full power.
inline Energy BusyEnergy(const Center& c, const AcceleratorModel& m, double devices, Time from, Time to,
                         int start_hour) {
  return EnergyOver(c, devices * m.power_w, from, to, start_hour);
}

}  // namespace suanli
