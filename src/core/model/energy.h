// Energy, cost and carbon of running accelerators at a center over a span of
// time. Energy = devices x board power (at full use; idle power for idle
// devices) x the center's PUE; priced by the center's tariff and carbon
// intensity for each hour of the day the span covers. Time 0 is midnight of
// day 0 plus `start_hour` hours (all centers share one time zone).
#pragma once

#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/network.h"

namespace suanli {

struct Energy {
  double kwh = 0;
  double cost = 0;       // in the network's currency
  double carbon_kg = 0;
  Energy& operator+=(const Energy& o) {
    kwh += o.kwh;
    cost += o.cost;
    carbon_kg += o.carbon_kg;
    return *this;
  }
};

// Hour of day (0..23) at time t.
int HourOfDay(Time t, int start_hour);

// Facility energy of drawing `watts` at the accelerators of `center` over
// [from, to), split at hour boundaries. O(hours spanned).
Energy EnergyOver(const Center& center, double watts, Time from, Time to, int start_hour);

// The same for `devices` accelerators of `model` busy at full power.
inline Energy BusyEnergy(const Center& c, const AcceleratorModel& m, double devices, Time from, Time to,
                         int start_hour) {
  return EnergyOver(c, devices * m.power_w, from, to, start_hour);
}

}  // namespace suanli
