// The placement registry: every placement policy, by name.
#include "core/policy/place/basic.h"
#include "core/policy/place/placer.h"

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
  };
  return kPlacers;
}

std::unique_ptr<Placer> MakePlacer(std::string_view name) {
  for (const auto& p : Placers())
    if (p.name == name) return p.make();
  return nullptr;
}

}  // namespace suanli
