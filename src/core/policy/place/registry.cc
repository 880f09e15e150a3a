// The placement registry: every placement policy, by name.
#include "core/policy/place/basic.h"
#include "core/policy/place/fgd.h"
#include "core/policy/place/fgd_baselines.h"
#include "core/policy/place/placer.h"
#include "core/policy/place/topology.h"

namespace suanli {

namespace {
template <typename T>
std::unique_ptr<Placer> Make() {
  return std::make_unique<T>();
}
}  // namespace

const std::vector<PlacerInfo>& Placers() {
  static const std::vector<PlacerInfo> kPlacers = {
      {"first-fit", "lowest-numbered node that fits", &Make<FirstFitPlacer>},
      {"best-fit", "node left with the least free accelerator and CPU capacity", &Make<BestFitPlacer>},
      {"random", "uniformly random feasible node (seeded)", &Make<RandomPlacer>},
      {"dot-product", "FGD baseline: node whose free CPU/GPU vector is least aligned with the task (Tetris)",
       &Make<DotProductPlacer>},
      {"gpu-packing", "FGD baseline: shared GPUs first, then used nodes, then idle nodes", &Make<GpuPackingPlacer>},
      {"gpu-clustering", "FGD baseline: keep tasks with the same GPU demand on the same nodes",
       &Make<GpuClusteringPlacer>},
      {"fgd", "fragmentation gradient descent: least increase of expected GPU fragmentation", &Make<FgdPlacer>},
      {"fgd-artifact", "fgd with the FGD artifact's integer score (0-100); ties: lowest node id",
       &Make<FgdArtifactPlacer>},
      {"topology", "best-fit; gangs into the tightest rack, else pod, else pool", &Make<TopologyPlacer>},
  };
  return kPlacers;
}

std::unique_ptr<Placer> MakePlacer(std::string_view name) {
  for (const auto& p : Placers())
    if (p.name == name) return p.make();
  return nullptr;
}

}  // namespace suanli
