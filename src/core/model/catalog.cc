#include "core/model/catalog.h"

#include "base/strings.h"

namespace suanli {

std::string_view ClassName(WorkloadClass c) {
  switch (c) {
    case WorkloadClass::kCnn: return "cnn";
    case WorkloadClass::kTransformer: return "transformer";
    case WorkloadClass::kRl: return "rl";
    case WorkloadClass::kScience: return "science";
    case WorkloadClass::kOther: return "other";
  }
  return "other";
}

std::optional<WorkloadClass> ParseClass(std::string_view s) {
  std::string l = ToLower(Trim(s));
  for (int i = 0; i < kNumClasses; ++i) {
    auto c = static_cast<WorkloadClass>(i);
    if (l == ClassName(c)) return c;
  }
  return std::nullopt;
}

Result<int> Catalog::AddStack(std::string_view name) {
  if (auto id = FindStack(name)) return *id;
  if (stacks_.size() >= kMaxStacks) return InvalidArgument("more than {} software stacks", kMaxStacks);
  stacks_.push_back(ToLower(name));
  return static_cast<int>(stacks_.size() - 1);
}

Result<ModelId> Catalog::AddModel(AcceleratorModel m) {
  if (m.name.empty()) return InvalidArgument("accelerator model without a name");
  if (Find(m.name)) return InvalidArgument("accelerator model '{}' defined twice", m.name);
  for (const auto& a : m.aliases)
    if (Find(a)) return InvalidArgument("alias '{}' of '{}' is already taken", a, m.name);
  if (models_.size() >= kMaxModels) return InvalidArgument("more than {} accelerator models", kMaxModels);
  models_.push_back(std::move(m));
  return static_cast<ModelId>(models_.size() - 1);
}

std::optional<ModelId> Catalog::Find(std::string_view name) const {
  std::string l = ToLower(Trim(name));
  for (size_t i = 0; i < models_.size(); ++i) {
    if (ToLower(models_[i].name) == l) return static_cast<ModelId>(i);
    for (const auto& a : models_[i].aliases)
      if (ToLower(a) == l) return static_cast<ModelId>(i);
  }
  return std::nullopt;
}

std::optional<int> Catalog::FindStack(std::string_view name) const {
  std::string l = ToLower(Trim(name));
  for (size_t i = 0; i < stacks_.size(); ++i)
    if (stacks_[i] == l) return static_cast<int>(i);
  return std::nullopt;
}

ModelMask Catalog::ModelsForStacks(StackMask stacks) const {
  if (stacks == 0) return AllModels();
  ModelMask out = 0;
  for (size_t i = 0; i < models_.size(); ++i)
    if (models_[i].stacks & stacks) out |= ModelMask{1} << i;
  return out;
}

ModelMask Catalog::AllModels() const {
  return models_.size() >= 64 ? ~ModelMask{0} : ((ModelMask{1} << models_.size()) - 1);
}

std::string Catalog::MaskToString(ModelMask mask) const {
  if (mask == 0 || mask == AllModels()) return "any";
  std::string out;
  for (size_t i = 0; i < models_.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    if (!out.empty()) out += '|';
    out += models_[i].name;
  }
  return out;
}

}  // namespace suanli
