#include "live/metering.h"

#include <algorithm>

#include "core/model/energy.h"

namespace suanli::live {

void MeterRun(JobAttempt* at, const Center* center, const AcceleratorModel* model, double devices) {
  at->hours.clear();
  at->gpu_seconds = at->energy_kwh = at->cost = at->carbon_kg = 0;
  if (at->start_ms.ms() <= 0 || at->end_ms <= at->start_ms || devices <= 0) return;
  static const Center kNowhere{};  // UTC hours; no power without a center
  const double watts = center != nullptr && model != nullptr ? devices * model->power_w : 0;
  constexpr int64_t kHourMs = 3600 * 1000;
  // The wall times as core time, from 00:00 UTC of 1970-01-01 (start hour
  // 0): HourUsage::utc_hour is then hours since 1970.
  for (const HourUsage& h : UsageByHour(center != nullptr ? *center : kNowhere, watts, CoreTime(at->start_ms),
                                        CoreTime(at->end_ms), /*start_hour=*/0)) {
    UsageSlice s;
    s.hour = h.utc_hour;
    s.start_ms = std::max(at->start_ms, WallMs(h.utc_hour * kHourMs));
    s.end_ms = std::min(at->end_ms, WallMs((h.utc_hour + 1) * kHourMs));
    s.gpu_seconds = devices * h.seconds;
    s.energy_kwh = h.energy.kwh;
    s.cost = h.energy.cost;
    s.carbon_kg = h.energy.carbon_kg;
    at->gpu_seconds += s.gpu_seconds;
    at->energy_kwh += s.energy_kwh;
    at->cost += s.cost;
    at->carbon_kg += s.carbon_kg;
    at->hours.push_back(s);
  }
}

}  // namespace suanli::live
