#include "core/policy/place/fgd.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace suanli {

namespace {
constexpr size_t kMaxCacheEntries = size_t{4} << 20;
constexpr int8_t kInfeasible = -2;

bool IsPowerOfTwo(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }
}  // namespace

double FgdPlacer::QuantisedScore(double increase_milli) {
  return std::floor(100.0 / (1.0 + std::exp(increase_milli / 1000.0)));
}

void FgdPlacer::SetTaskMix(const TaskMix& mix) {
  explicit_mix_ = !mix.empty();
  SetModel(mix);
}

void FgdPlacer::SetModel(const TaskMix& mix) {
  model_ = FragModel(mix);
  rows_.clear();
  row_of_.clear();
  current_ = nullptr;
  // Every node's fragmentation must be recomputed under the new mix.
  std::fill(snap_cpu_.begin(), snap_cpu_.end(), -1);
}

void FgdPlacer::Reset(const ClusterState& s) {
  network_ = &s.network();
  const size_t n = s.num_nodes();
  dev_offset_.assign(n + 1, 0);
  for (NodeId i : Ids<NodeId>(n)) dev_offset_[i.value() + 1] = dev_offset_[i.value()] + s.devices(i);
  snap_cpu_.assign(n, -1);  // -1: no snapshot yet
  snap_mem_.assign(n, 0);
  snap_dev_.assign(dev_offset_[n], 0);
  epoch_.assign(n, 0);
  frag_before_.assign(n, 0);
  scratch_.assign(kMaxDevicesPerNode, 0);
  rows_.clear();
  row_of_.clear();
  current_ = nullptr;
  max_rows_ = std::max<size_t>(4, kMaxCacheEntries / std::max<size_t>(1, n));
}

void FgdPlacer::ObserveRequest(const PlacementRequest& req, const Key& key) {
  if (explicit_mix_) return;
  if (req.job != kNoJob) {
    if (!seen_jobs_.contains(req.job)) seen_jobs_.resize(std::max<size_t>(req.job.value() + 1, seen_jobs_.size() * 2));
    if (seen_jobs_[req.job]) return;
    seen_jobs_[req.job] = true;
  }
  uint64_t& c = seen_counts_[key];
  const bool new_shape = c == 0;
  ++c;
  ++seen_total_;
  // Rebuild (and drop the cached scores) when the count doubles, or for a new shape
  // once 1/16 of the requests seen arrived since the last rebuild: O(log n) rebuilds.
  const bool due = IsPowerOfTwo(seen_total_) ||
                   (new_shape && seen_total_ - seen_at_rebuild_ >= std::max<uint64_t>(1, seen_total_ / 16));
  if (!due) return;
  seen_at_rebuild_ = seen_total_;
  std::vector<std::pair<Key, uint64_t>> v(seen_counts_.begin(), seen_counts_.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > kMaxTaskShapes) v.resize(kMaxTaskShapes);
  TaskMix mix;
  for (const auto& [k, cnt] : v) {
    TaskShape t;
    t.cpu_milli = k.cpu;
    t.mem_mib = k.mem;
    t.num_gpus = k.gpus;
    t.gpu_milli = k.milli;
    t.models = k.models;
    t.weight = static_cast<double>(cnt) / static_cast<double>(seen_total_);
    mix.push_back(t);
  }
  SetModel(mix);
}

void FgdPlacer::Revalidate(const ClusterState& s, NodeId n) {
  const int nd = s.devices(n);
  uint16_t* snap = snap_dev_.data() + dev_offset_[n.value()];
  const uint16_t* cur = s.dev_free_ptr(n);
  if (snap_cpu_[n] == s.free_cpu(n) && snap_mem_[n] == s.free_mem(n) &&
      (nd == 0 || std::memcmp(snap, cur, sizeof(uint16_t) * nd) == 0))
    return;
  snap_cpu_[n] = s.free_cpu(n);
  snap_mem_[n] = s.free_mem(n);
  if (nd > 0) std::memcpy(snap, cur, sizeof(uint16_t) * nd);
  ++epoch_[n];
  frag_before_[n] = model_.NodeFragScaled(s, n);
}

FgdPlacer::Row& FgdPlacer::RowFor(const Key& key) {
  auto it = row_of_.find(key);
  size_t r;
  if (it != row_of_.end()) {
    r = it->second;
  } else if (rows_.size() < max_rows_) {
    r = rows_.size();
    rows_.emplace_back();
    rows_[r].entries.assign(epoch_.size(), Entry{});
    row_of_[key] = r;
  } else {
    r = 0;
    for (size_t i = 1; i < rows_.size(); ++i)
      if (rows_[i].last_used < rows_[r].last_used) r = i;
    for (auto i = row_of_.begin(); i != row_of_.end(); ++i) {
      if (i->second == r) {
        row_of_.erase(i);
        break;
      }
    }
    std::fill(rows_[r].entries.begin(), rows_[r].entries.end(), Entry{});
    row_of_[key] = r;
  }
  rows_[r].last_used = ++clock_;
  return rows_[r];
}

int64_t FgdPlacer::FragAfter(const ClusterState& s, NodeId n, int64_t cpu, int64_t mem, int device, uint16_t milli,
                             uint32_t whole_mask) {
  const int nd = s.devices(n);
  if (nd == 0) return 0;
  std::memcpy(scratch_.data(), s.dev_free_ptr(n), sizeof(uint16_t) * nd);
  if (device >= 0) scratch_[device] = static_cast<uint16_t>(scratch_[device] - milli);
  while (whole_mask) {
    int d = __builtin_ctz(whole_mask);
    whole_mask &= whole_mask - 1;
    scratch_[d] = 0;
  }
  return model_.NodeFragScaled(s.network().nodes[n].model, s.free_cpu(n) - cpu, s.free_mem(n) - mem, scratch_.data(),
                               nd);
}

std::optional<Allocation> FgdPlacer::Place(const ClusterState& state, const PlacementRequest& req, Rng& rng) {
  if (network_ != &state.network() || epoch_.size() != state.num_nodes()) Reset(state);
  Key key{req.cpu_milli, req.mem_mib, req.num_gpus,
          static_cast<uint16_t>(req.IsShared() ? req.gpu_milli : kWholeDevice), 0};
  for (ModelId m : req.models)
    if (m < kMaxModels) key.models |= ModelMask{1} << m;
  if (req.observe) ObserveRequest(req, key);
  current_ = &RowFor(key);
  auto a = ScoringPlacer::Place(state, req, rng);
  current_ = nullptr;
  return a;
}

bool FgdPlacer::ScoreNode(const ClusterState& s, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                          double* score) {
  (void)rng;
  if (!FitsCpuMem(s, n, req.cpu_milli, req.mem_mib)) return false;
  SUANLI_CHECK(current_ != nullptr);
  Revalidate(s, n);
  Entry& e = current_->entries[n];
  if (e.epoch != epoch_[n]) {
    e.epoch = epoch_[n];
    e.device = kInfeasible;
    const int64_t before = frag_before_[n];
    if (req.IsCpuOnly()) {
      e.device = -1;
      e.delta = FragAfter(s, n, req.cpu_milli, req.mem_mib, -1, 0, 0) - before;
    } else if (req.IsShared()) {
      const uint16_t* f = s.dev_free_ptr(n);
      const int nd = s.devices(n);
      for (int d = 0; d < nd; ++d) {
        if (f[d] < req.gpu_milli) continue;
        bool seen = false;  // an earlier device with the same free capacity gives the same result
        for (int p = 0; p < d && !seen; ++p) seen = f[p] == f[d];
        if (seen) continue;
        int64_t delta = FragAfter(s, n, req.cpu_milli, req.mem_mib, d, req.gpu_milli, 0) - before;
        bool better =
            e.device < 0 || (quantize_ ? QuantisedScore(model_.ToMilli(delta)) > QuantisedScore(model_.ToMilli(e.delta))
                                       : delta < e.delta);
        if (better) {
          e.device = static_cast<int8_t>(d);
          e.delta = delta;
        }
      }
    } else {
      uint32_t mask = LowestFreeDevices(s, n, static_cast<int>(req.num_gpus));
      if (mask) {
        e.device = -1;
        e.delta = FragAfter(s, n, req.cpu_milli, req.mem_mib, -1, 0, mask) - before;
      }
    }
  }
  if (e.device == kInfeasible) return false;
  share->node = n;
  share->cpu_milli = req.cpu_milli;
  share->mem_mib = req.mem_mib;
  if (req.IsCpuOnly()) {
    share->devices = 0;
    share->milli = 0;
  } else if (req.IsShared()) {
    share->devices = 1u << e.device;
    share->milli = req.gpu_milli;
  } else {
    share->devices = LowestFreeDevices(s, n, static_cast<int>(req.num_gpus));
    share->milli = kWholeDeviceMilli;
    if (!share->devices) return false;
  }
  *score = quantize_ ? QuantisedScore(model_.ToMilli(e.delta)) : -static_cast<double>(e.delta);
  return true;
}

}  // namespace suanli
