// Placement: where on the cluster a job's gang goes.
//
// A Placer looks at the ClusterState and returns an Allocation without
// changing the state. Most placers are "filter -> score -> pick": the
// ScoringPlacer base walks the candidate nodes of each eligible model (using
// the state's free-capacity indexes), asks the policy for a score and the
// devices it would use, and keeps the best (ties: lowest node id).
// Gangs larger than one node (whole devices only) go through PlaceMultiNode.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "core/model/job.h"
#include "core/state/cluster_state.h"

namespace suanli {

struct PlacementRequest {
  JobId job = kNoJob;
  uint32_t num_gpus = 0;
  uint16_t gpu_milli = kWholeDevice;
  int64_t cpu_milli = 0;
  int64_t mem_mib = 0;
  std::vector<ModelId> models;  // eligible models
  // true: try models one at a time in the given order (fastest first) and take
  // the first that fits; false: score nodes of all eligible models together.
  bool models_in_order = true;
  bool allow_multi_node = true;  // a whole-device gang may span nodes
  // Job::nodes: > 1 spreads the gang evenly over exactly that many nodes
  // (PlaceSpread, whatever the placer); 1 keeps it on one node.
  uint16_t nodes = 0;
  // false: a trial (an estimated start, a pending job's reason), not a
  // decision. Placers that learn from the requests they see (fgd's task mix)
  // leave trials out, so that asking changes no later decision.
  bool observe = true;

  bool IsShared() const { return num_gpus == 1 && gpu_milli < kWholeDevice; }
  bool IsCpuOnly() const { return num_gpus == 0; }
};

// The capacity test every placer starts with: some eligible model's slot has
// enough free devices (whole ones for a whole-device request) once each
// slot's free capacity is changed by `extra_whole[slot]` devices and
// `extra_milli[slot]` thousandths (null: unchanged). When it fails, Place
// fails at once without looking at a node (nor drawing a random number), so
// a caller may skip the call. CPU-only requests always pass.
bool RoomFor(const ClusterState& state, const PlacementRequest& req, const int64_t* extra_whole = nullptr,
             const int64_t* extra_milli = nullptr);

// A gang spread evenly over req.nodes nodes (num_gpus / nodes whole devices,
// and the same share of its CPU and memory, on each), of one model: the
// first eligible model (in the request's order) with that many nodes free
// enough. Topology-aware: the smallest rack, then pod, then pool that holds
// them, the fullest of its nodes that fit first (ties by id). Every placer's
// spread requests go through it; nullopt when no model has room.
std::optional<Allocation> PlaceSpread(const ClusterState& state, const PlacementRequest& req);

// The request for a job: eligible models ordered by the job's speed (fastest first, ties by id).
PlacementRequest MakePlacementRequest(const Job& job, const Catalog& catalog, const Workload& workload);

// A summary of the workload's task shapes and how often each occurs (fgd uses it).
struct TaskShape {
  uint32_t num_gpus = 0;
  uint16_t gpu_milli = kWholeDevice;
  int64_t cpu_milli = 0;
  int64_t mem_mib = 0;
  ModelMask models = 0;  // 0 = any
  double weight = 0;     // popularity, the weights sum to 1
};
using TaskMix = std::vector<TaskShape>;

class Placer {
 public:
  virtual ~Placer() = default;
  virtual std::string_view name() const = 0;
  virtual std::optional<Allocation> Place(const ClusterState& state, const PlacementRequest& req, Rng& rng) = 0;
  // Workload knowledge for policies that need it (fgd's task mix). Default: ignored.
  virtual void SetTaskMix(const TaskMix& mix) { (void)mix; }
};

// Base for filter -> score -> pick placers.
class ScoringPlacer : public Placer {
 public:
  std::optional<Allocation> Place(const ClusterState& state, const PlacementRequest& req, Rng& rng) override;

 protected:
  // Scores node n for the request (higher is better) and fills in the share
  // (devices, milli, cpu, mem). Returns false if the node cannot host it.
  // Called only for up nodes with enough free devices (or a sharable device).
  virtual bool ScoreNode(const ClusterState& state, NodeId n, const PlacementRequest& req, Rng& rng, NodeShare* share,
                         double* score) = 0;
  // True if the first feasible node wins (first-fit): the scan stops there.
  virtual bool FirstFeasibleWins() const { return false; }
  // Places a whole-device gang over several nodes of one slot.
  virtual std::optional<Allocation> PlaceMultiNode(const ClusterState& state, int slot, const PlacementRequest& req,
                                                   Rng& rng);

 private:
  bool ScanSlot(const ClusterState& state, int slot, const PlacementRequest& req, Rng& rng, NodeShare* best,
                double* best_score, bool* found);
};

// Helpers shared by placers.
bool FitsCpuMem(const ClusterState& s, NodeId n, int64_t cpu, int64_t mem);
// The lowest-numbered k wholly free devices of node n (0 if fewer).
uint32_t LowestFreeDevices(const ClusterState& s, NodeId n, int k);
// For a share of `milli`: the device with the least free capacity that still fits
// (best fit inside the node); -1 if none.
int BestFitDevice(const ClusterState& s, NodeId n, int milli);
// Fills share with the default device choice (lowest free whole devices, or the
// best-fitting device for a share). False if it does not fit.
bool DefaultShare(const ClusterState& s, NodeId n, const PlacementRequest& req, NodeShare* share);
// CPU and memory a node must give for g of the request's devices.
int64_t CpuForDevices(const PlacementRequest& req, int g);
int64_t MemForDevices(const PlacementRequest& req, int g);

// The registry of placement policies, by name ("first-fit", "fgd", ...).
struct PlacerInfo {
  std::string name;
  std::string summary;
  std::unique_ptr<Placer> (*make)();
};
const std::vector<PlacerInfo>& Placers();
std::unique_ptr<Placer> MakePlacer(std::string_view name);  // nullptr if unknown

}  // namespace suanli
