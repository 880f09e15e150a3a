#include "core/policy/place/basic.h"

namespace suanli {

bool FirstFitPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                               double* score) {
  (void)rng;
  *score = 0;
  return DefaultShare(s, n, req, share);
}

bool BestFitPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                              double* score) {
  (void)rng;
  if (!DefaultShare(s, n, req, share)) return false;
  const Node& node = s.network().nodes[n];
  double gpu_left = 0;
  if (node.devices > 0) {
    int64_t used = int64_t{share->NumDevices()} * share->milli;
    gpu_left = static_cast<double>(s.free_milli(n) - used) / (node.devices * 1000.0);
  }
  double cpu_left = static_cast<double>(s.free_cpu(n) - share->cpu_milli) / static_cast<double>(node.cpu_milli);
  *score = -(gpu_left + cpu_left);
  return true;
}

bool RandomPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                             double* score) {
  if (!DefaultShare(s, n, req, share)) return false;
  *score = rng.Uniform();
  return true;
}

}  // namespace suanli
