#include "core/policy/place/fgd_baselines.h"

#include <algorithm>
#include <cmath>

namespace suanli {

namespace {
constexpr int64_t kMaxNodeScore = 100;

int64_t RequestGpuMilli(const PlacementRequest& req) {
  if (req.IsCpuOnly()) return 0;
  return req.IsShared() ? req.gpu_milli : int64_t{req.num_gpus} * kWholeDevice;
}
}  // namespace

void SpecNorm::Update(const Network& net) {
  if (network == &net && nodes == net.nodes.size()) return;
  network = &net;
  nodes = net.nodes.size();
  cpu_milli = 128000;
  gpu_milli = 8000;
  for (const Node& n : net.nodes) {
    cpu_milli = std::max(cpu_milli, n.cpu_milli);
    gpu_milli = std::max<int64_t>(gpu_milli, int64_t{n.devices} * kWholeDevice);
  }
}

// ---------------------------------------------------------------------------
// dot-product

double DotProductPlacer::Score(int64_t free_cpu, int64_t free_gpu_milli, int64_t cpu, int64_t gpu_milli,
                               const SpecNorm& norm) {
  const double c = static_cast<double>(norm.cpu_milli), g = static_cast<double>(norm.gpu_milli);
  const double dot = (static_cast<double>(free_cpu) / c) * (static_cast<double>(cpu) / c) +
                     (static_cast<double>(free_gpu_milli) / g) * (static_cast<double>(gpu_milli) / g);
  return 1.0 - dot / 2.0;
}

int64_t DotProductPlacer::IntScore(int64_t free_cpu, int64_t free_gpu_milli, int64_t cpu, int64_t gpu_milli,
                                   const SpecNorm& norm) {
  return static_cast<int64_t>(static_cast<double>(kMaxNodeScore) *
                              Score(free_cpu, free_gpu_milli, cpu, gpu_milli, norm));
}

bool DotProductPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng,
                                 NodeShare* share, double* score) {
  (void)rng;
  if (!DefaultShare(s, n, req, share)) return false;
  norm_.Update(s.network());
  *score = static_cast<double>(IntScore(s.free_cpu(n), s.free_milli(n), req.cpu_milli, RequestGpuMilli(req), norm_));
  return true;
}

// ---------------------------------------------------------------------------
// gpu-packing

int64_t GpuPackingPlacer::Score(const ClusterState& s, NodeId n, const PlacementRequest& req, const NodeShare& share) {
  if (req.IsCpuOnly()) return 0;
  const int nd = s.devices(n);
  const int fully_free = s.free_whole(n);
  if (fully_free == nd) return std::max<int64_t>(kMaxNodeScore / 3 - fully_free, fully_free);
  int fully_used = 0;
  int64_t free_ratio = 0;  // sum of floor(free * 100 / 1000) over the devices used
  for (int d = 0; d < nd; ++d) {
    if (!(share.devices >> d & 1)) continue;
    const uint16_t f = s.dev_free(n, d);
    if (f == kWholeDeviceMilli) ++fully_used;
    free_ratio += int64_t{f} * 100 / kWholeDeviceMilli;
  }
  if (fully_used > 0) return std::max<int64_t>(kMaxNodeScore / 2 - fully_used, kMaxNodeScore / 3);
  return std::max<int64_t>(kMaxNodeScore - free_ratio / 10, kMaxNodeScore / 2);
}

bool GpuPackingPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng,
                                 NodeShare* share, double* score) {
  (void)rng;
  if (!DefaultShare(s, n, req, share)) return false;
  *score = static_cast<double>(Score(s, n, req, *share));
  return true;
}

// ---------------------------------------------------------------------------
// gpu-clustering

int64_t GpuClusteringPlacer::Score(const ClusterState& s, NodeId n, const PlacementRequest& req, const SpecNorm& norm) {
  if (req.IsCpuOnly()) return 0;
  const int kind =
      req.IsShared() ? 0 : static_cast<int>(std::min<uint32_t>(req.num_gpus, ClusterState::kNumShareKinds - 1));
  const uint16_t kinds = s.share_kinds(n);
  const uint16_t bit = static_cast<uint16_t>(1u << kind);
  const int64_t base = kMaxNodeScore / 4 * (norm.gpu_milli - s.free_milli(n)) / norm.gpu_milli;
  if (kinds & bit) return base + (kinds == bit ? kMaxNodeScore * 3 / 4 : kMaxNodeScore * 2 / 4);
  return base + (kinds == 0 ? kMaxNodeScore / 4 : 0);
}

bool GpuClusteringPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng,
                                    NodeShare* share, double* score) {
  (void)rng;
  if (!DefaultShare(s, n, req, share)) return false;
  norm_.Update(s.network());
  *score = static_cast<double>(Score(s, n, req, norm_));
  return true;
}

}  // namespace suanli
