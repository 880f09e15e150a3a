// An allocation: what a job holds on each node it uses.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/network.h"

namespace suanli {

inline constexpr uint16_t kWholeDeviceMilli = 1000;

struct NodeShare {
  NodeId node;
  uint32_t devices = 0;  // bit d = device d of the node
  uint16_t milli = 0;    // held on each device in `devices` (1000 = whole device)
  int64_t cpu_milli = 0;
  int64_t mem_mib = 0;
  int NumDevices() const { return __builtin_popcount(devices); }
};

struct Allocation {
  ModelId model = kNoModel;
  std::vector<NodeShare> shares;
  bool empty() const { return shares.empty(); }
  int NumNodes() const { return static_cast<int>(shares.size()); }
  int NumDevices() const {
    int n = 0;
    for (const auto& s : shares) n += s.NumDevices();
    return n;
  }
  int64_t GpuMilli() const {
    int64_t n = 0;
    for (const auto& s : shares) n += int64_t{s.NumDevices()} * s.milli;
    return n;
  }
};

}  // namespace suanli
