// The baselines of the FGD paper (Weng et al., ATC'23, Section 6), written
// after the paper's artifact (hkust-adsl/kubernetes-scheduler-simulator,
// pkg/simulator/plugin/{dot_product,gpu_packing,gpu_clustering}_score.go) as it
// is configured for the paper's runs (experiments/run_scripts: DotProd with
// "merge" dimensions and "max" normalisation, every baseline with best-fit
// device selection).
//
// Common assumptions: a node is feasible when DefaultShare accepts it (CPU,
// memory, model, enough devices); the devices are DefaultShare's: a share goes
// to the fullest device it fits on (the artifact's "best" GPU selection; ties
// lowest index), whole devices are the lowest-numbered wholly free ones (the
// artifact's AllocateExclusiveGpuId). The artifact normalises by the largest
// node spec of its cluster (128 CPUs, 8 GPUs); we use the larger of those and
// the largest node of the network, which is the same on the openb cluster.
// Scores are the artifact's integers (0..100): dot-product truncates
// 100 * score as the artifact does, the other two are integer by design. Where
// kube-scheduler picks at random among equal top scores, we take the lowest node
// id. Memory is never scored (the artifact's resource vectors
// carry none), only checked. Complexity: O(candidates * devices) per placement.
// Multi-node gangs (never in the artifact): the base greedy.
//
// dot-product (Tetris-style alignment): node vector = (free CPU / max CPU,
//   free device capacity / max devices), task vector = (CPU / max CPU, devices
//   asked / max devices); score = int(100 * (1 - (node . task) / 2)), so the
//   node whose free resources are least aligned with the task wins; nodes within
//   one point tie (as in the artifact). Ties: lowest node id.
// gpu-packing: integer tiers, higher is better, ties lowest node id:
//   - the task only needs already shared devices: 100 - (sum over the devices it
//     uses of floor(free * 100 / 1000)) / 10, at least 50;
//   - it needs wholly free devices on a node already in use: 50 - (number of
//     wholly free devices it takes), at least 33;
//   - the node is wholly free: max(33 - free devices, free devices).
//   CPU-only tasks score 0 everywhere (all nodes tie: lowest id wins).
// gpu-clustering: keeps tasks with the same GPU demand together. Kinds: a share
//   of one device, or k whole devices (ClusterState::share_kinds). With
//   b = floor(25 * (max devices - free device capacity) / max devices):
//   node holding only tasks of the task's kind: 75 + b; holding that kind and
//   others: 50 + b; holding no GPU task: 25 + b; holding only other kinds: b.
//   CPU-only tasks score 0 everywhere. Ties: lowest node id.
#pragma once

#include "core/policy/place/placer.h"

namespace suanli {

// The normalising spec: max(128 CPUs, largest node CPU), max(8, largest node devices) * 1000.
struct SpecNorm {
  const Network* network = nullptr;
  size_t nodes = 0;
  int64_t cpu_milli = 128000;
  int64_t gpu_milli = 8000;
  void Update(const Network& net);
};

class DotProductPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "dot-product"; }
  // 1 - (node . task) / 2 for a node with the given free resources (higher is better).
  static double Score(int64_t free_cpu, int64_t free_gpu_milli, int64_t cpu, int64_t gpu_milli, const SpecNorm& norm);
  // The artifact's integer score, int(100 * Score): what the placer compares.
  static int64_t IntScore(int64_t free_cpu, int64_t free_gpu_milli, int64_t cpu, int64_t gpu_milli,
                          const SpecNorm& norm);

 protected:
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;

 private:
  SpecNorm norm_;
};

class GpuPackingPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "gpu-packing"; }
  // The artifact's tier score for placing `share` on node n (state before placement).
  static int64_t Score(const ClusterState& s, NodeId n, const PlacementRequest& req, const NodeShare& share);

 protected:
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;
};

class GpuClusteringPlacer : public ScoringPlacer {
 public:
  std::string_view name() const override { return "gpu-clustering"; }
  static int64_t Score(const ClusterState& s, NodeId n, const PlacementRequest& req, const SpecNorm& norm);

 protected:
  bool ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                 double* score) override;

 private:
  SpecNorm norm_;
};

}  // namespace suanli
