// Basic placement policies.
//
// first-fit: the lowest-numbered node that fits; devices: lowest free ones
//   (a share goes to the fullest device it fits). O(candidates) worst case,
//   usually stops early. Multi-node gangs: nodes with most free devices first.
// best-fit: the node left with the least free capacity after placement:
//   score = -(free accelerator fraction + free CPU fraction) after placing,
//   so the tightest node wins; ties by lowest id. O(candidates).
// random: a uniformly random feasible node (reservoir sampling with the
//   run's seeded generator). O(candidates).
#pragma once

#include "core/policy/place/placer.h"

namespace suanli {

class FirstFitPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "first-fit"; }

 protected:
  bool FirstFeasibleWins() const override { return true; }
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;
};

class BestFitPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "best-fit"; }

 protected:
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;
};

class RandomPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "random"; }

 protected:
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;
};

}  // namespace suanli
