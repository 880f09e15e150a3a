// The network: centers -> pools -> nodes -> devices. A node holds devices of
// one accelerator model (or none: a CPU-only node). Topology inside a center
// is node < rack < pod; ids of racks and pods are global.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"

namespace suanli {

using CenterId = uint32_t;
using PoolId = uint32_t;
using NodeId = uint32_t;
inline constexpr int kMaxDevicesPerNode = 32;
inline constexpr ModelId kNoModel = 255;

struct Center {
  std::string name;
  std::string region;
  double pue = 1.3;
  std::array<double, 24> price_per_kwh{};     // by hour of day (local time)
  std::array<double, 24> carbon_g_per_kwh{};  // by hour of day
  double latitude = 0, longitude = 0;
  bool edge = false;
};

struct Pool {
  std::string name;
  CenterId center = 0;
};

struct Node {
  std::string name;
  CenterId center = 0;
  PoolId pool = 0;
  uint32_t rack = 0;  // global rack id
  uint32_t pod = 0;   // global pod id (a group of racks)
  ModelId model = kNoModel;
  uint8_t devices = 0;
  int64_t cpu_milli = 0;
  int64_t mem_mib = 0;
};

struct Link {
  CenterId a = 0, b = 0;
  double latency_ms = 0;
  double bandwidth_gbps = 0;
};

struct Network {
  std::string name;
  std::vector<Center> centers;
  std::vector<Pool> pools;
  std::vector<Node> nodes;
  std::vector<Link> links;
  uint32_t num_racks = 0;
  uint32_t num_pods = 0;

  int64_t TotalDevices() const;
  int64_t TotalDevices(ModelId m) const;
  int MaxDevicesPerNode() const;
  // Checks internal consistency (ids in range, positive capacities).
  Status Validate(const Catalog& catalog) const;
};

}  // namespace suanli
