#include "core/policy/place/topology.h"

#include <algorithm>
#include <map>

namespace suanli {

namespace {

struct Cand {
  NodeId node;
  int usable;
};

uint32_t DomainOf(const Node& n, int level) {
  switch (level) {
    case 0: return n.rack;
    case 1: return n.pod;
    default: return n.pool.value();
  }
}

}  // namespace

std::optional<Allocation> TopologyPlacer::PlaceMultiNode(const ClusterState& state, int slot,
                                                         const PlacementRequest& req, Rng& rng) {
  const int64_t cpu1 = CpuForDevices(req, 1), mem1 = MemForDevices(req, 1);
  std::vector<Cand> cands;
  state.ForEachWithFreeWhole(slot, 1, [&](NodeId n) {
    int g = state.free_whole(n);
    if (cpu1 > 0) g = static_cast<int>(std::min<int64_t>(g, state.free_cpu(n) / cpu1));
    if (mem1 > 0) g = static_cast<int>(std::min<int64_t>(g, state.free_mem(n) / mem1));
    if (g > 0) cands.push_back({n, g});
    return true;
  });
  const int64_t need = req.num_gpus;
  const auto& nodes = state.network().nodes;
  for (int level = 0; level < 3; ++level) {
    std::map<uint32_t, int64_t> usable;  // domain -> usable devices (ordered: ties go to the lowest id)
    for (const auto& c : cands) usable[DomainOf(nodes[c.node], level)] += c.usable;
    bool found = false;
    uint32_t best = 0;
    int64_t best_usable = 0;
    for (const auto& [d, u] : usable) {
      if (u >= need && (!found || u < best_usable)) {
        found = true;
        best = d;
        best_usable = u;
      }
    }
    if (!found) continue;
    std::vector<Cand> in;
    for (const auto& c : cands)
      if (DomainOf(nodes[c.node], level) == best) in.push_back(c);
    std::stable_sort(in.begin(), in.end(), [](const Cand& a, const Cand& b) { return a.usable > b.usable; });
    Allocation a;
    int left = static_cast<int>(need);
    for (const auto& c : in) {
      if (left == 0) break;
      int g = std::min(left, c.usable);
      NodeShare sh;
      sh.node = c.node;
      sh.devices = LowestFreeDevices(state, c.node, g);
      sh.milli = kWholeDeviceMilli;
      sh.cpu_milli = CpuForDevices(req, g);
      sh.mem_mib = MemForDevices(req, g);
      a.shares.push_back(sh);
      left -= g;
    }
    if (left == 0) return a;
  }
  return ScoringPlacer::PlaceMultiNode(state, slot, req, rng);
}

}  // namespace suanli
