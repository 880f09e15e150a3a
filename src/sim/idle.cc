// Idle accelerators' energy over a chosen horizon, and the run's energy
// totals split into the jobs' own and the idle accelerators'.
#include <algorithm>
#include <cstdint>

#include "sim/engine.h"

namespace suanli {

void MeterIdle(SimResult* result, Duration horizon, const Network& network, const Catalog& catalog, int start_hour) {
  SimResult& res = *result;
  const BusyHours& busy = res.busy;
  res.usage.erase(
      std::remove_if(res.usage.begin(), res.usage.end(), [](const UsageRow& u) { return u.tenant == kIdleTenant; }),
      res.usage.end());
  // Idle accelerators draw idle power from the first arrival to the horizon.
  const Time t0 = busy.t0, t_end = t0 + std::max<Duration>(0, horizon);
  const size_t nm = busy.models;
  for (size_t sl = 0; nm > 0 && sl < busy.capacity.size(); ++sl) {
    const size_t c = sl / nm, m = sl % nm;
    if (m + 1 == nm || busy.capacity[sl] <= 0 || c >= network.centers.size()) continue;  // CPU-only: no accelerators
    const AcceleratorModel& am = catalog.model(static_cast<ModelId>(m));
    UsageRow idle;
    idle.tenant = kIdleTenant;
    idle.center = CenterId(static_cast<uint32_t>(c));
    idle.model = static_cast<ModelId>(m);
    const auto& hours = busy.hours[sl];
    for (Time a = t0; a < t_end; a += kHour) {
      Time b = std::min(t_end, a + kHour);
      size_t h = static_cast<size_t>((a - t0) / kHour);
      double busy_s = h < hours.size() ? hours[h] : 0;
      double idle_dev = std::max(0.0, busy.capacity[sl] * ToSeconds(b - a) - busy_s) / ToSeconds(b - a);
      idle.accelerator_s += idle_dev * ToSeconds(b - a);
      idle.energy += EnergyOver(network.centers[idle.center], idle_dev * am.idle_power_w, a, b, start_hour);
    }
    if (idle.accelerator_s > 0) res.usage.push_back(idle);  // after every tenant's rows, by center and model
  }
  SimSummary& s = res.summary;
  s.jobs_energy = Energy{};
  s.idle_energy = Energy{};
  s.energy_kwh = s.cost = s.carbon_kg = 0;
  s.idle_horizon_s = ToSeconds(t_end - t0);
  for (auto& x : res.centers) x.energy = Energy{};
  for (const auto& u : res.usage) {
    if (res.centers.contains(u.center)) res.centers[u.center].energy += u.energy;
    (u.tenant == kIdleTenant ? s.idle_energy : s.jobs_energy) += u.energy;
    s.energy_kwh += u.energy.kwh;
    s.cost += u.energy.cost;
    s.carbon_kg += u.energy.carbon_kg;
  }
}

}  // namespace suanli
