// The network: centers -> pools -> nodes -> devices. A node holds devices of
// one accelerator model (or none: a CPU-only node). Topology inside a center
// is node < rack < pod; ids of racks and pods are global.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/ids.h"

namespace suanli {

inline constexpr int kMaxDevicesPerNode = 32;
inline constexpr ModelId kNoModel = 255;
// Time zones span UTC-12:00 to UTC+14:00.
inline constexpr int32_t kMinUtcOffsetS = -12 * 3600;
inline constexpr int32_t kMaxUtcOffsetS = 14 * 3600;

struct Center {
  std::string name;
  std::string region;
  double pue = 1.3;
  std::array<double, 24> price_per_kwh{};     // by hour of day, the center's local time
  std::array<double, 24> carbon_g_per_kwh{};  // by hour of day, the center's local time
  // The center's time zone: local time = UTC + utc_offset_s, all year (a
  // fixed offset; see docs/formats-network.md). `tz` names it (an IANA name
  // such as "Asia/Shanghai", or "UTC+05:30" for a bare offset).
  std::string tz = "UTC";
  int32_t utc_offset_s = 0;
  double latitude = 0, longitude = 0;
  bool edge = false;
};

struct Pool {
  std::string name;
  CenterId center;
};

struct Node {
  std::string name;
  CenterId center;
  PoolId pool;
  uint32_t rack = 0;  // global rack id
  uint32_t pod = 0;   // global pod id (a group of racks)
  ModelId model = kNoModel;
  uint8_t devices = 0;
  int64_t cpu_milli = 0;
  int64_t mem_mib = 0;
};

struct Link {
  CenterId a, b;
  double latency_ms = 0;
  double bandwidth_gbps = 0;
};

// A place users are (for inference services' latency bounds).
struct Region {
  std::string name;
  double latitude = 0, longitude = 0;
};

// A center out of service from `start` for `duration` (all its running jobs
// are interrupted, its queue is re-dispatched where the policy allows).
struct Outage {
  CenterId center;
  Time start = 0;
  Duration duration = 0;
};

struct Network {
  std::string name;
  IdVector<CenterId, Center> centers;
  IdVector<PoolId, Pool> pools;
  IdVector<NodeId, Node> nodes;
  std::vector<Link> links;
  std::vector<Region> regions;
  std::vector<Outage> outages;  // scheduled
  uint32_t num_racks = 0;
  uint32_t num_pods = 0;

  std::optional<CenterId> FindCenter(std::string_view name) const;
  std::optional<uint32_t> FindRegion(std::string_view name) const;

  int64_t TotalDevices() const;
  int64_t TotalDevices(ModelId m) const;
  int MaxDevicesPerNode() const;
  // Checks internal consistency (ids in range, positive capacities).
  Status Validate(const Catalog& catalog) const;
};

// Wide-area paths between centers: the lowest-latency route over the links
// (latency adds up, bandwidth is the narrowest hop). Centers with no route
// are unreachable (latency and transfer time kNever/infinity).
class Paths {
 public:
  explicit Paths(const Network& net);
  double LatencyMs(CenterId a, CenterId b) const { return lat_[At(a, b)]; }
  double BandwidthGbps(CenterId a, CenterId b) const { return bw_[At(a, b)]; }
  bool Reachable(CenterId a, CenterId b) const;
  // Seconds to move `gb` gigabytes from a to b (size / bandwidth + latency); 0 if a == b.
  double TransferSeconds(CenterId a, CenterId b, double gb) const;

 private:
  size_t At(CenterId a, CenterId b) const { return a.value() * n_ + b.value(); }
  size_t n_ = 0;
  std::vector<double> lat_, bw_;
};

// Great-circle distance in km.
double DistanceKm(double lat1, double lon1, double lat2, double lon2);
// Round-trip latency estimate from a user region to a center: fibre path
// 1.5 x the great-circle distance at 200 km per ms, there and back.
double RegionLatencyMs(const Region& r, const Center& c);

}  // namespace suanli
