// topology: topology-aware consolidation of multi-node gangs.
//
// Assumes: the network's topology inside a center is node < rack < pod, with
// global rack and pod ids, and nodes grouped into pools (Node::rack, pod, pool).
// A gang spanning nodes talks most within a rack, less within a pod, least
// across the pool, so it should span as small a domain as possible.
//
// Scores: a job that fits one node is placed as best-fit (the node left with
// the least free accelerator and CPU fraction). A whole-device gang that fits
// no single node goes into the smallest kind of domain that can hold it: one
// rack, else one pod, else one pool, else the whole model's nodes (the base
// greedy). Among domains of that kind it picks the tightest: the fewest usable
// free devices that still hold the gang (a node's usable devices are its wholly
// free devices, limited by its free CPU and memory per device). Inside the
// domain, nodes with the most usable devices go first (fewest nodes).
//
// Complexity: single node O(candidates); a gang O(c log c) for c candidate nodes.
// Ties: domain with the lowest id; inside it, lowest node id; single-node as best-fit.
#pragma once

#include "core/policy/place/basic.h"

namespace suanli {

class TopologyPlacer : public BestFitPlacer {
 public:
  std::string_view name() const override { return "topology"; }

 protected:
  std::optional<Allocation> PlaceMultiNode(const ClusterState& state, int slot, const PlacementRequest& req,
                                           Rng& rng) override;
};

}  // namespace suanli
