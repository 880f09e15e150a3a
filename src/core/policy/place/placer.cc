#include "core/policy/place/placer.h"

#include <algorithm>
#include <map>

namespace suanli {

PlacementRequest MakePlacementRequest(const Job& job, const Catalog& catalog, const Workload& workload) {
  PlacementRequest r;
  r.job = job.id;
  r.num_gpus = job.num_gpus;
  r.gpu_milli = job.num_gpus == 1 ? job.gpu_milli : static_cast<uint16_t>(kWholeDevice);
  r.cpu_milli = job.cpu_milli;
  r.mem_mib = job.mem_mib;
  r.nodes = job.nodes;
  if (job.num_gpus > 0) {
    ModelMask mask = EligibleModels(job, catalog, workload);
    for (size_t m = 0; m < catalog.size(); ++m)
      if (mask >> m & 1) r.models.push_back(static_cast<ModelId>(m));
    std::stable_sort(r.models.begin(), r.models.end(), [&](ModelId a, ModelId b) {
      return Speed(job, a, catalog, workload) > Speed(job, b, catalog, workload);
    });
  }
  return r;
}

bool FitsCpuMem(const ClusterState& s, NodeId n, int64_t cpu, int64_t mem) {
  return s.free_cpu(n) >= cpu && s.free_mem(n) >= mem;
}

uint32_t LowestFreeDevices(const ClusterState& s, NodeId n, int k) {
  uint32_t mask = 0;
  const uint16_t* f = s.dev_free_ptr(n);
  for (int d = 0, nd = s.devices(n); d < nd && k > 0; ++d) {
    if (f[d] == kWholeDeviceMilli) {
      mask |= 1u << d;
      --k;
    }
  }
  return k == 0 ? mask : 0;
}

int BestFitDevice(const ClusterState& s, NodeId n, int milli) {
  int best = -1;
  const uint16_t* f = s.dev_free_ptr(n);
  for (int d = 0, nd = s.devices(n); d < nd; ++d)
    if (f[d] >= milli && (best < 0 || f[d] < f[best])) best = d;
  return best;
}

int64_t CpuForDevices(const PlacementRequest& req, int g) {
  if (req.num_gpus <= 1) return req.cpu_milli;
  int64_t per = (req.cpu_milli + req.num_gpus - 1) / req.num_gpus;
  return std::min(req.cpu_milli, per * g);
}

int64_t MemForDevices(const PlacementRequest& req, int g) {
  if (req.num_gpus <= 1) return req.mem_mib;
  int64_t per = (req.mem_mib + req.num_gpus - 1) / req.num_gpus;
  return std::min(req.mem_mib, per * g);
}

bool DefaultShare(const ClusterState& s, NodeId n, const PlacementRequest& req, NodeShare* share) {
  if (!FitsCpuMem(s, n, req.cpu_milli, req.mem_mib)) return false;
  share->node = n;
  share->cpu_milli = req.cpu_milli;
  share->mem_mib = req.mem_mib;
  if (req.IsCpuOnly()) {
    share->devices = 0;
    share->milli = 0;
    return true;
  }
  if (req.IsShared()) {
    int d = BestFitDevice(s, n, req.gpu_milli);
    if (d < 0) return false;
    share->devices = 1u << d;
    share->milli = req.gpu_milli;
    return true;
  }
  uint32_t mask = LowestFreeDevices(s, n, static_cast<int>(req.num_gpus));
  if (!mask) return false;
  share->devices = mask;
  share->milli = kWholeDeviceMilli;
  return true;
}

bool ScoringPlacer::ScanSlot(const ClusterState& state, int slot, const PlacementRequest& req, Rng& rng,
                             NodeShare* best, double* best_score, bool* found) {
  bool stop = false;
  auto visit = [&](NodeId n) {
    NodeShare share;
    double score = 0;
    if (!ScoreNode(state, n, req, rng, &share, &score)) return true;
    if (!*found || score > *best_score || (score == *best_score && n < best->node)) {
      *best = share;
      *best_score = score;
      *found = true;
      if (FirstFeasibleWins()) {
        stop = true;
        return false;
      }
    }
    return true;
  };
  if (req.IsCpuOnly()) {
    for (NodeId n : state.nodes_in_slot(slot)) {
      if (!state.up(n)) continue;
      if (!visit(n)) break;
    }
  } else if (req.IsShared()) {
    state.ForEachSharable(slot, req.gpu_milli, visit, req.cpu_milli);
  } else {
    state.ForEachWithFreeWhole(slot, static_cast<int>(req.num_gpus), visit, req.cpu_milli);
  }
  return stop;
}

namespace {
bool SlotHasRoom(const ClusterState& state, int slot, const PlacementRequest& req, int64_t extra_whole,
                 int64_t extra_milli) {
  const int64_t need_milli = req.IsShared() ? req.gpu_milli : int64_t{req.num_gpus} * kWholeDevice;
  if (state.slot_free_milli(slot) + extra_milli < need_milli) return false;
  return req.IsShared() || state.slot_free_whole(slot) + extra_whole >= req.num_gpus;
}
}  // namespace

bool RoomFor(const ClusterState& state, const PlacementRequest& req, const int64_t* extra_whole,
             const int64_t* extra_milli) {
  if (req.IsCpuOnly()) return true;
  for (ModelId m : req.models) {
    const int slot = state.SlotOfModel(m);
    if (SlotHasRoom(state, slot, req, extra_whole ? extra_whole[slot] : 0, extra_milli ? extra_milli[slot] : 0))
      return true;
  }
  return false;
}

std::optional<Allocation> ScoringPlacer::Place(const ClusterState& state, const PlacementRequest& req, Rng& rng) {
  NodeShare best;
  double best_score = 0;
  bool found = false;
  ModelId best_model = kNoModel;

  if (req.IsCpuOnly()) {
    // CPU-only jobs may use any node; CPU-only nodes first.
    for (int slot = state.num_slots() - 1; slot >= 0; --slot) {
      bool had = found;
      if (ScanSlot(state, slot, req, rng, &best, &best_score, &found)) break;
      if (found && !had && req.models_in_order) break;
    }
    if (!found) return std::nullopt;
    Allocation a;
    a.model = kNoModel;
    a.shares.push_back(best);
    return a;
  }

  for (ModelId m : req.models) {
    int slot = state.SlotOfModel(m);
    if (!SlotHasRoom(state, slot, req, 0, 0)) continue;
    bool had = found;
    NodeShare prev = best;
    double prev_score = best_score;
    bool stop = false;
    if (static_cast<int>(req.num_gpus) <= state.slot_max_devices(slot) || req.IsShared())
      stop = ScanSlot(state, slot, req, rng, &best, &best_score, &found);
    if (found && (!had || best.node != prev.node || best_score != prev_score)) best_model = m;
    if (stop || (found && req.models_in_order)) break;
  }
  if (found) {
    Allocation a;
    a.model = best_model;
    a.shares.push_back(best);
    return a;
  }
  if (!req.allow_multi_node || req.IsShared() || req.num_gpus < 2) return std::nullopt;
  for (ModelId m : req.models) {
    int slot = state.SlotOfModel(m);
    if (!SlotHasRoom(state, slot, req, 0, 0)) continue;
    auto a = PlaceMultiNode(state, slot, req, rng);
    if (a) {
      a->model = m;
      return a;
    }
  }
  return std::nullopt;
}

std::optional<Allocation> ScoringPlacer::PlaceMultiNode(const ClusterState& state, int slot,
                                                        const PlacementRequest& req, Rng& rng) {
  (void)rng;
  // Greedy: nodes with the most usable free devices first (fewest nodes), ties
  // by id. Nodes are visited bucket by bucket (k wholly free devices, k from
  // the largest down), which gives that order without sorting and stops as
  // soon as the gang is complete. A node whose CPU or memory allows fewer
  // devices than it has free is deferred to its usable count.
  struct Cand {
    NodeId node;
    int usable;
  };
  const int64_t cpu1 = CpuForDevices(req, 1), mem1 = MemForDevices(req, 1);
  const int max = state.slot_max_devices(slot);
  thread_local std::vector<std::vector<Cand>> deferred;
  deferred.assign(max + 1, {});
  std::vector<Cand> chosen;
  int left = static_cast<int>(req.num_gpus);
  for (int k = max; k >= 1 && left > 0; --k) {
    // Deferred nodes usable for exactly k devices merge with this bucket by id.
    std::vector<Cand> bucket;
    state.ForEachWithExactlyFreeWhole(
        slot, k,
        [&](NodeId n) {
          int g = k;
          if (cpu1 > 0) g = static_cast<int>(std::min<int64_t>(g, state.free_cpu(n) / cpu1));
          if (mem1 > 0) g = static_cast<int>(std::min<int64_t>(g, state.free_mem(n) / mem1));
          if (g == k) {
            if (deferred[k].empty()) {
              chosen.push_back({n, g});
              left -= g;
              return left > 0;
            }
            bucket.push_back({n, g});
          } else if (g > 0) {
            deferred[g].push_back({n, g});
          }
          return true;
        },
        cpu1);
    if (!deferred[k].empty()) {
      bucket.insert(bucket.end(), deferred[k].begin(), deferred[k].end());
      std::sort(bucket.begin(), bucket.end(), [](const Cand& a, const Cand& b) { return a.node < b.node; });
      for (const auto& c : bucket) {
        if (left <= 0) break;
        chosen.push_back(c);
        left -= c.usable;
      }
    }
  }
  if (left > 0) return std::nullopt;
  Allocation a;
  left = static_cast<int>(req.num_gpus);
  for (const auto& c : chosen) {
    int g = std::min(left, c.usable);
    NodeShare sh;
    sh.node = c.node;
    sh.devices = LowestFreeDevices(state, c.node, g);
    sh.milli = kWholeDeviceMilli;
    sh.cpu_milli = CpuForDevices(req, g);
    sh.mem_mib = MemForDevices(req, g);
    a.shares.push_back(sh);
    left -= g;
  }
  return a;
}

std::optional<Allocation> PlaceSpread(const ClusterState& state, const PlacementRequest& req) {
  const int k = req.nodes;
  if (k < 1 || req.IsShared() || req.num_gpus == 0 || req.num_gpus % k != 0) return std::nullopt;
  const int per = static_cast<int>(req.num_gpus) / k;
  const int64_t cpu = CpuForDevices(req, per), mem = MemForDevices(req, per);
  const auto& nodes = state.network().nodes;
  struct Cand {
    NodeId node;
    int free;
  };
  std::vector<Cand> cands;
  for (ModelId m : req.models) {
    const int slot = state.SlotOfModel(m);
    if (state.slot_free_whole(slot) < req.num_gpus) continue;
    cands.clear();
    state.ForEachWithFreeWhole(
        slot, per,
        [&](NodeId n) {
          if (FitsCpuMem(state, n, cpu, mem)) cands.push_back({n, state.free_whole(n)});
          return true;
        },
        cpu);
    if (static_cast<int>(cands.size()) < k) continue;
    // The fullest nodes first (they leave whole nodes free for others), ties by id.
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.free < b.free; });
    // The smallest domain (rack, pod, pool) with k of them; the first k
    // candidates (any domain) when none has.
    std::vector<NodeId> chosen;
    for (int level = 0; level < 3 && chosen.empty(); ++level) {
      auto domain = [&](NodeId n) {
        const Node& x = nodes[n];
        return level == 0 ? x.rack : level == 1 ? x.pod : x.pool.value();
      };
      std::map<uint32_t, int> count;  // ordered: ties go to the lowest id
      for (const Cand& c : cands) ++count[domain(c.node)];
      auto best = count.end();
      for (auto it = count.begin(); it != count.end(); ++it)
        if (it->second >= k && (best == count.end() || it->second < best->second)) best = it;
      if (best == count.end()) continue;
      for (const Cand& c : cands)
        if (static_cast<int>(chosen.size()) < k && domain(c.node) == best->first) chosen.push_back(c.node);
    }
    if (chosen.empty())
      for (int i = 0; i < k; ++i) chosen.push_back(cands[i].node);
    Allocation a;
    a.model = m;
    for (NodeId n : chosen) {
      NodeShare sh;
      sh.node = n;
      sh.devices = LowestFreeDevices(state, n, per);
      sh.milli = kWholeDeviceMilli;
      sh.cpu_milli = cpu;
      sh.mem_mib = mem;
      a.shares.push_back(sh);
    }
    return a;
  }
  return std::nullopt;
}

}  // namespace suanli
