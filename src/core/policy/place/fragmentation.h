// GPU fragmentation with respect to a task mix (Weng et al., "Beware of
// Fragmentation", USENIX ATC'23), shared by the fgd placer and `suanli pack`.
//
// Assumes: a node's devices are all of its one model; a task shape asks for
// `num_gpus` devices of `gpu_milli` each (a share when num_gpus == 1 and
// gpu_milli < 1000), CPU and memory on one node, and a set of models (0 = any).
//
// Definition. The fragmentation of node n for one task shape m, F(n, m), is
// the free device capacity of n that m could not use:
//   - all of it when m cannot be placed on n at all: m is CPU-only, n's model
//     is not one m accepts, n lacks the CPU or memory, or fewer than num_gpus
//     devices have gpu_milli free;
//   - otherwise the free capacity of every device with less than gpu_milli free
//     (for whole-device tasks: of every partly used device).
// The node's fragmentation for a mix is the expectation sum_m w_m F(n, m), and
// the cluster's is the sum over its up nodes. Units: milli-devices.
//
// Evaluation. F(n, m) = free(n) - [m fits n] * usable(n, gpu_milli_m), where
// usable(n, x) is the free capacity on devices with at least x free, so one
// node costs O(devices * log L + S) for L distinct gpu_milli values and the S
// shapes whose models include the node's; shapes are scanned by ascending CPU
// and the scan stops at the first that asks more CPU than the node has.
// Weights are fixed-point integers (sum 2^24), so the node values are exact
// integers and equal states or equal changes compare equal.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/job.h"
#include "core/policy/place/placer.h"
#include "core/state/cluster_state.h"

namespace suanli {

// At most this many shapes are kept in a task mix (the most frequent; see ComputeTaskMix).
inline constexpr size_t kMaxTaskShapes = 2048;

// The task mix of a workload: jobs grouped by identical (cpu, mem, gpus, gpu_milli,
// models) shape, each weighted by how often it occurs; weights sum to 1. `models` is
// the job's own model constraint (Job::models; stack constraints are not part of
// the shape), gpu_milli is 1000 unless the job shares one device. Jobs that
// ask for more than kMaxDevicesPerNode devices (they never fit one node) are left
// out. Sorted by frequency (most frequent first), ties by shape. Truncation: only
// the `max_shapes` most frequent shapes are kept, weights renormalised (on the
// openb traces every shape is kept: 151 to 457 shapes).
TaskMix ComputeTaskMix(const Workload& workload, size_t max_shapes = kMaxTaskShapes);

// F(n, m) above for one task shape and one node state (milli-devices).
int64_t TaskFragmentation(const TaskShape& task, ModelId model, int64_t free_cpu, int64_t free_mem,
                          const uint16_t* dev_free, int devices);

// A task mix compiled for fast evaluation (immutable once built; safe to share
// between threads).
class FragModel {
 public:
  static constexpr int64_t kWeightScale = int64_t{1} << 24;

  FragModel() = default;
  explicit FragModel(const TaskMix& mix);

  bool empty() const { return weight_sum_ == 0; }
  size_t num_shapes() const { return num_shapes_; }
  // Sum of the fixed-point weights (about kWeightScale).
  int64_t weight_sum() const { return weight_sum_; }

  // The node fragmentation of a node state, scaled by weight_sum() (exact).
  int64_t NodeFragScaled(ModelId model, int64_t free_cpu, int64_t free_mem, const uint16_t* dev_free,
                         int devices) const;
  int64_t NodeFragScaled(const ClusterState& s, NodeId n) const;
  // In milli-devices.
  double ToMilli(int64_t scaled) const {
    return weight_sum_ == 0 ? 0.0 : static_cast<double>(scaled) / static_cast<double>(weight_sum_);
  }
  double NodeFragmentation(const ClusterState& s, NodeId n) const { return ToMilli(NodeFragScaled(s, n)); }
  // Sum over the up nodes, in milli-devices. O(nodes * S).
  double ClusterFragmentation(const ClusterState& s) const;

 private:
  struct ModelShapes {  // GPU shapes that accept one model, by ascending CPU
    std::vector<int64_t> cpu, mem, weight;
    std::vector<uint32_t> gpus;
    std::vector<uint16_t> level;  // index into levels_
  };
  std::vector<uint16_t> levels_;       // distinct gpu_milli values, ascending
  std::vector<ModelShapes> by_model_;  // kMaxModels entries
  int64_t weight_sum_ = 0;
  size_t num_shapes_ = 0;
};

}  // namespace suanli
