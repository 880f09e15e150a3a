#include "core/model/network.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  for (const Center& c : centers) {
    if (c.pue < 1.0) return InvalidArgument("center '{}': pue {} is below 1.0", c.name, c.pue);
    if (c.utc_offset_s < kMinUtcOffsetS || c.utc_offset_s > kMaxUtcOffsetS || c.utc_offset_s % 900 != 0)
      return InvalidArgument(
          "center '{}': UTC offset of {} s is not a whole number of quarter hours from -12 h to +14 h", c.name,
          c.utc_offset_s);
    for (int h = 0; h < 24; ++h) {
      if (c.price_per_kwh[h] < 0) return InvalidArgument("center '{}': negative power price", c.name);
      if (c.carbon_g_per_kwh[h] < 0) return InvalidArgument("center '{}': negative carbon intensity", c.name);
    }
  }
  for (const auto& p : pools)
    if (!centers.contains(p.center)) return InvalidArgument("pool '{}' names a missing center", p.name);
  for (const auto& n : nodes) {
    if (!pools.contains(n.pool)) return InvalidArgument("node '{}' names a missing pool", n.name);
    if (!centers.contains(n.center)) return InvalidArgument("node '{}' names a missing center", n.name);
    if (n.devices > kMaxDevicesPerNode)
      return InvalidArgument("node '{}': {} devices, at most {} per node", n.name, n.devices, kMaxDevicesPerNode);
    if (n.devices > 0 && (n.model == kNoModel || n.model >= catalog.size()))
      return InvalidArgument("node '{}' has devices of an unknown model", n.name);
    if (n.cpu_milli <= 0) return InvalidArgument("node '{}': cpu must be positive", n.name);
    if (n.mem_mib <= 0) return InvalidArgument("node '{}': memory must be positive", n.name);
  }
  for (const auto& l : links) {
    if (!centers.contains(l.a) || !centers.contains(l.b)) return InvalidArgument("a link names a missing center");
    if (l.bandwidth_gbps <= 0) return InvalidArgument("a link has non-positive bandwidth");
    if (l.latency_ms < 0) return InvalidArgument("a link has negative latency");
  }
  for (const auto& o : outages) {
    if (!centers.contains(o.center)) return InvalidArgument("an outage names a missing center");
    if (o.start < 0 || o.duration <= 0)
      return InvalidArgument("outage of center '{}': start must be >= 0 and duration > 0", centers[o.center].name);
  }
  return Status::Ok();
}

std::optional<CenterId> Network::FindCenter(std::string_view name) const {
  for (CenterId c : centers.ids())
    if (centers[c].name == name) return c;
  return std::nullopt;
}

std::optional<uint32_t> Network::FindRegion(std::string_view name) const {
  for (size_t i = 0; i < regions.size(); ++i)
    if (regions[i].name == name) return static_cast<uint32_t>(i);
  return std::nullopt;
}

Paths::Paths(const Network& net) : n_(net.centers.size()) {
  const double inf = std::numeric_limits<double>::infinity();
  lat_.assign(n_ * n_, inf);
  bw_.assign(n_ * n_, 0);
  for (size_t i = 0; i < n_; ++i) {
    lat_[i * n_ + i] = 0;
    bw_[i * n_ + i] = inf;
  }
  // Floyd-Warshall on latency; the bandwidth of a path is its narrowest hop.
  // Parallel links keep the better one.
  for (const auto& l : net.links) {
    for (auto [a, b] : {std::pair{l.a, l.b}, std::pair{l.b, l.a}}) {
      size_t k = At(a, b);
      if (l.latency_ms < lat_[k] || (l.latency_ms == lat_[k] && l.bandwidth_gbps > bw_[k])) {
        lat_[k] = l.latency_ms;
        bw_[k] = l.bandwidth_gbps;
      }
    }
  }
  for (size_t k = 0; k < n_; ++k)
    for (size_t i = 0; i < n_; ++i)
      for (size_t j = 0; j < n_; ++j) {
        double via = lat_[i * n_ + k] + lat_[k * n_ + j];
        if (via < lat_[i * n_ + j]) {
          lat_[i * n_ + j] = via;
          bw_[i * n_ + j] = std::min(bw_[i * n_ + k], bw_[k * n_ + j]);
        }
      }
}

bool Paths::Reachable(CenterId a, CenterId b) const { return std::isfinite(LatencyMs(a, b)); }

double Paths::TransferSeconds(CenterId a, CenterId b, double gb) const {
  if (a == b) return 0;
  if (!Reachable(a, b)) return std::numeric_limits<double>::infinity();
  return gb * 8.0 / BandwidthGbps(a, b) + LatencyMs(a, b) / 1000.0;
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = 3.14159265358979323846 / 180.0, kEarthKm = 6371.0;
  double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthKm * std::asin(std::min(1.0, std::sqrt(a)));
}

double RegionLatencyMs(const Region& r, const Center& c) {
  return 2.0 * DistanceKm(r.latitude, r.longitude, c.latitude, c.longitude) * 1.5 / 200.0;
}

}  // namespace suanli
