#include "core/model/network.h"

#include <algorithm>

namespace suanli {

int64_t Network::TotalDevices() const {
  int64_t n = 0;
  for (const auto& node : nodes) n += node.devices;
  return n;
}

int64_t Network::TotalDevices(ModelId m) const {
  int64_t n = 0;
  for (const auto& node : nodes)
    if (node.model == m) n += node.devices;
  return n;
}

int Network::MaxDevicesPerNode() const {
  int m = 0;
  for (const auto& node : nodes) m = std::max<int>(m, node.devices);
  return m;
}

Status Network::Validate(const Catalog& catalog) const {
  if (nodes.empty()) return InvalidArgument("network '{}' has no nodes", name);
  for (size_t i = 0; i < centers.size(); ++i) {
    const auto& c = centers[i];
    if (c.pue < 1.0) return InvalidArgument("center '{}': pue {} is below 1.0", c.name, c.pue);
    for (int h = 0; h < 24; ++h) {
      if (c.price_per_kwh[h] < 0) return InvalidArgument("center '{}': negative power price", c.name);
      if (c.carbon_g_per_kwh[h] < 0)
        return InvalidArgument("center '{}': negative carbon intensity", c.name);
    }
  }
  for (const auto& p : pools)
    if (p.center >= centers.size()) return InvalidArgument("pool '{}' names a missing center", p.name);
  for (const auto& n : nodes) {
    if (n.pool >= pools.size()) return InvalidArgument("node '{}' names a missing pool", n.name);
    if (n.center >= centers.size()) return InvalidArgument("node '{}' names a missing center", n.name);
    if (n.devices > kMaxDevicesPerNode)
      return InvalidArgument("node '{}': {} devices, at most {} per node", n.name, n.devices,
                             kMaxDevicesPerNode);
    if (n.devices > 0 && (n.model == kNoModel || n.model >= catalog.size()))
      return InvalidArgument("node '{}' has devices of an unknown model", n.name);
    if (n.cpu_milli <= 0) return InvalidArgument("node '{}': cpu must be positive", n.name);
    if (n.mem_mib <= 0) return InvalidArgument("node '{}': memory must be positive", n.name);
  }
  for (const auto& l : links) {
    if (l.a >= centers.size() || l.b >= centers.size())
      return InvalidArgument("a link names a missing center");
    if (l.bandwidth_gbps <= 0) return InvalidArgument("a link has non-positive bandwidth");
    if (l.latency_ms < 0) return InvalidArgument("a link has negative latency");
  }
  return Status::Ok();
}

}  // namespace suanli
