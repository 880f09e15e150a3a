// Accelerator catalog: every accelerator model Suanli knows, with its vendor,
// nominal figures, software stacks and per-workload-class speed relative to
// the reference card (A100 SXM4 80GB = 1.0). Loaded from data/accelerators.yaml
// by io; the core only reads it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanli {

using ModelId = uint8_t;     // index into Catalog::models()
using ModelMask = uint64_t;  // bit i = model i accepted; 0 = "any"
using StackMask = uint32_t;  // bit i = stack i; 0 = "any"
inline constexpr int kMaxModels = 64;
inline constexpr int kMaxStacks = 32;

enum class WorkloadClass : uint8_t { kCnn = 0, kTransformer, kRl, kScience, kOther };
inline constexpr int kNumClasses = 5;
std::string_view ClassName(WorkloadClass c);
std::optional<WorkloadClass> ParseClass(std::string_view s);

struct AcceleratorModel {
  std::string name;                  // canonical, e.g. "A100-80GB"
  std::vector<std::string> aliases;  // names used by traces, e.g. "V100M32"
  std::string vendor;
  double tflops16 = 0;  // dense FP16/BF16 TFLOPS (0 = unknown)
  double memory_gb = 0;
  double power_w = 0;  // board power at full load
  double idle_power_w = 0;
  StackMask stacks = 0;                     // software stacks this model runs
  std::array<double, kNumClasses> speed{};  // relative to the reference card
  bool inference_only = false;
};

class Catalog {
 public:
  // Adds a stack name (e.g. "cuda"), returning its bit index.
  Result<int> AddStack(std::string_view name);
  Result<ModelId> AddModel(AcceleratorModel m);

  const std::vector<AcceleratorModel>& models() const { return models_; }
  const AcceleratorModel& model(ModelId id) const { return models_[id]; }
  size_t size() const { return models_.size(); }
  // Case-insensitive lookup by name or alias.
  std::optional<ModelId> Find(std::string_view name) const;
  std::optional<int> FindStack(std::string_view name) const;
  const std::vector<std::string>& stacks() const { return stacks_; }
  // Models that run any of the given stacks (mask 0 = all models).
  ModelMask ModelsForStacks(StackMask stacks) const;
  ModelMask AllModels() const;
  std::string MaskToString(ModelMask mask) const;  // "A100-80GB|V100-32GB" or "any"

 private:
  std::vector<AcceleratorModel> models_;
  std::vector<std::string> stacks_;
};

}  // namespace suanli
