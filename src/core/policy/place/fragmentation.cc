#include "core/policy/place/fragmentation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

namespace suanli {

namespace {

struct ShapeKey {
  int64_t cpu, mem;
  uint32_t gpus;
  uint16_t milli;
  ModelMask models;
  auto Tie() const { return std::tie(cpu, mem, gpus, milli, models); }
  bool operator<(const ShapeKey& o) const { return Tie() < o.Tie(); }
};

bool Accepts(ModelMask models, ModelId model) {
  if (models == 0) return true;
  return model < kMaxModels && (models >> model & 1);
}

constexpr size_t kMaxLevels = kWholeDeviceMilli + 1;

}  // namespace

TaskMix ComputeTaskMix(const Workload& workload, size_t max_shapes) {
  std::map<ShapeKey, uint64_t> counts;
  for (const Job& j : workload.jobs) {
    if (j.num_gpus > static_cast<uint32_t>(kMaxDevicesPerNode)) continue;
    ShapeKey k{j.cpu_milli, j.mem_mib, j.num_gpus, static_cast<uint16_t>(j.IsShared() ? j.gpu_milli : kWholeDevice),
               j.models};
    ++counts[k];
  }
  std::vector<std::pair<ShapeKey, uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (max_shapes > 0 && v.size() > max_shapes) v.resize(max_shapes);
  uint64_t total = 0;
  for (const auto& [k, c] : v) total += c;
  TaskMix mix;
  mix.reserve(v.size());
  for (const auto& [k, c] : v) {
    TaskShape s;
    s.cpu_milli = k.cpu;
    s.mem_mib = k.mem;
    s.num_gpus = k.gpus;
    s.gpu_milli = k.milli;
    s.models = k.models;
    s.weight = static_cast<double>(c) / static_cast<double>(total);
    mix.push_back(s);
  }
  return mix;
}

int64_t TaskFragmentation(const TaskShape& task, ModelId model, int64_t free_cpu, int64_t free_mem,
                          const uint16_t* dev_free, int devices) {
  int64_t total = 0;
  for (int d = 0; d < devices; ++d) total += dev_free[d];
  if (task.num_gpus == 0 || devices == 0 || model == kNoModel) return total;
  if (!Accepts(task.models, model)) return total;
  if (free_cpu < task.cpu_milli || free_mem < task.mem_mib) return total;
  const int milli = task.num_gpus == 1 ? task.gpu_milli : kWholeDevice;
  uint32_t fit = 0;
  int64_t unusable = 0;
  for (int d = 0; d < devices; ++d) {
    if (dev_free[d] >= milli) ++fit;
    else unusable += dev_free[d];
  }
  if (fit < task.num_gpus) return total;
  return unusable;
}

FragModel::FragModel(const TaskMix& mix) {
  double wsum = 0;
  for (const auto& t : mix) wsum += std::max(0.0, t.weight);
  if (wsum <= 0) return;
  std::vector<int64_t> wq(mix.size());
  for (size_t i = 0; i < mix.size(); ++i) {
    wq[i] = std::llround(std::max(0.0, mix[i].weight) / wsum * static_cast<double>(kWeightScale));
    weight_sum_ += wq[i];
  }
  num_shapes_ = mix.size();
  for (const auto& t : mix)
    if (t.num_gpus > 0) levels_.push_back(t.num_gpus == 1 ? t.gpu_milli : kWholeDevice);
  std::sort(levels_.begin(), levels_.end());
  levels_.erase(std::unique(levels_.begin(), levels_.end()), levels_.end());

  by_model_.resize(kMaxModels);
  for (int m = 0; m < kMaxModels; ++m) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < mix.size(); ++i)
      if (mix[i].num_gpus > 0 && wq[i] > 0 && Accepts(mix[i].models, static_cast<ModelId>(m))) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return mix[a].cpu_milli < mix[b].cpu_milli; });
    ModelShapes& ms = by_model_[m];
    for (size_t i : idx) {
      const TaskShape& t = mix[i];
      uint16_t milli = static_cast<uint16_t>(t.num_gpus == 1 ? t.gpu_milli : kWholeDevice);
      ms.cpu.push_back(t.cpu_milli);
      ms.mem.push_back(t.mem_mib);
      ms.weight.push_back(wq[i]);
      ms.gpus.push_back(t.num_gpus);
      ms.level.push_back(
          static_cast<uint16_t>(std::lower_bound(levels_.begin(), levels_.end(), milli) - levels_.begin()));
    }
  }
}

int64_t FragModel::NodeFragScaled(ModelId model, int64_t free_cpu, int64_t free_mem, const uint16_t* dev_free,
                                  int devices) const {
  int64_t total = 0;
  for (int d = 0; d < devices; ++d) total += dev_free[d];
  if (total == 0 || weight_sum_ == 0) return 0;
  if (model >= kMaxModels) return weight_sum_ * total;
  const ModelShapes& ms = by_model_[model];
  const size_t n = ms.cpu.size();
  if (n == 0 || free_cpu < ms.cpu[0]) return weight_sum_ * total;

  // cnt[k] / use[k]: devices with at least levels_[k] free, and their free capacity.
  const size_t L = levels_.size();
  std::array<uint32_t, kMaxLevels + 1> cnt;
  std::array<int64_t, kMaxLevels + 1> use;
  std::fill_n(cnt.begin(), L + 1, 0u);
  std::fill_n(use.begin(), L + 1, int64_t{0});
  for (int d = 0; d < devices; ++d) {
    const uint16_t f = dev_free[d];
    if (f == 0) continue;
    // p = number of levels <= f; the device serves levels [0, p).
    size_t p = static_cast<size_t>(std::upper_bound(levels_.begin(), levels_.end(), f) - levels_.begin());
    if (p == 0) continue;
    ++cnt[p - 1];
    use[p - 1] += f;
  }
  for (size_t k = L - 1; k-- > 0;) {
    cnt[k] += cnt[k + 1];
    use[k] += use[k + 1];
  }
  int64_t usable = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ms.cpu[i] > free_cpu) break;
    const uint16_t k = ms.level[i];
    if (ms.mem[i] <= free_mem && cnt[k] >= ms.gpus[i]) usable += ms.weight[i] * use[k];
  }
  return weight_sum_ * total - usable;
}

int64_t FragModel::NodeFragScaled(const ClusterState& s, NodeId n) const {
  const int nd = s.devices(n);
  if (nd == 0) return 0;
  return NodeFragScaled(s.network().nodes[n].model, s.free_cpu(n), s.free_mem(n), s.dev_free_ptr(n), nd);
}

double FragModel::ClusterFragmentation(const ClusterState& s) const {
  int64_t sum = 0;
  for (NodeId n : Ids<NodeId>(s.num_nodes()))
    if (s.up(n)) sum += NodeFragScaled(s, n);
  return ToMilli(sum);
}

}  // namespace suanli
