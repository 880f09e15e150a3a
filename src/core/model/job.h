// Jobs and workloads. A job is a gang: it gets all its accelerators at once
// or none. Work is measured in seconds on the reference card (A100 = 1.0), so
// its run time depends on the model it lands on.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/ids.h"

namespace suanli {

inline constexpr uint32_t kNoOverride = UINT32_MAX;
inline constexpr int kWholeDevice = 1000;         // milli-accelerators in one device
inline constexpr uint16_t kNoPlace = UINT16_MAX;  // no entry in Workload::places

struct Job {
  JobId id;
  TenantId tenant;    // Workload::tenants
  uint32_t user = 0;  // Workload::users
  Time submit = 0;
  uint32_t num_gpus = 0;              // devices in the gang; 0 = CPU-only job
  uint16_t gpu_milli = kWholeDevice;  // share of one device when num_gpus == 1 (GPU sharing)
  // The nodes a gang is spread over, num_gpus / nodes devices on each (a
  // live job's `nodes`: the launcher's ranks are laid out by node). 0: as
  // the placer finds room (one node if it can, else any split when
  // multi-node gangs are allowed; the traces' jobs); 1: one node.
  uint16_t nodes = 0;
  int64_t cpu_milli = 0;  // whole job (split over its nodes by GPU share)
  int64_t mem_mib = 0;    // whole job
  ModelMask models = 0;   // accepted models; 0 = any
  StackMask stacks = 0;   // accepted software stacks; 0 = any
  WorkloadClass cls = WorkloadClass::kOther;
  double work = 0;                        // seconds on the reference card (the truth, used by the simulator)
  double estimate = 0;                    // user's run-time estimate in reference seconds (0 = none)
  int32_t priority = 0;                   // larger = more important
  uint32_t speed_override = kNoOverride;  // index into Workload::overrides

  // Where the job belongs in a network of centers (indexes into
  // Workload::places, resolved against the network's centers and regions
  // when a simulation starts; kNoPlace = not given).
  uint16_t home = kNoPlace;     // the tenant's own center (dispatch `isolated` keeps it there)
  uint16_t data_at = kNoPlace;  // center holding the job's dataset
  uint16_t region = kNoPlace;   // user region a service answers (with latency_ms)
  float data_gb = 0;            // dataset size; staged over the links before a remote run
  float latency_ms = 0;         // service: round-trip bound from `region` to its center (0 = none)
  bool service = false;         // a long-running inference replica: never preempted
  Time deadline = kNever;       // deferrable: may wait for cheaper/cleaner hours, must end by this
  Duration checkpoint = 0;      // checkpoint interval while running (0 = the run's default)

  bool Deferrable() const { return deadline != kNever; }

  bool IsShared() const { return num_gpus == 1 && gpu_milli < kWholeDevice; }
  // Spread evenly over nodes > 1 nodes.
  bool Spread() const { return nodes > 1; }
  // GPU demand in milli-devices (num_gpus * 1000, or the shared fraction).
  int64_t GpuMilli() const { return IsShared() ? gpu_milli : int64_t{num_gpus} * kWholeDevice; }
};

// Measured run times per model, overriding the class speed (e.g. Gavel's
// throughputs). Models not listed cannot run the job.
struct SpeedOverride {
  std::vector<std::pair<ModelId, double>> seconds;  // run time in seconds on that model
};

struct Workload {
  std::string name;
  IdVector<JobId, Job> jobs;
  IdVector<JobId, std::string> names;  // optional, a job's name from the trace (empty = use id)
  BasicStringTable<TenantId> tenants;
  StringTable users;
  std::vector<SpeedOverride> overrides;
  StringTable places;  // center and region names used by Job::home, data_at, region

  const std::string& JobName(JobId id) const;
  // Appends a job (its id becomes its index) with its name from the trace.
  JobId Add(Job job, std::string name);
  // Sorts by submit time (stable), renumbers ids, keeps names aligned.
  void SortBySubmit();
};

// Run time of `work` reference-seconds on model m (kNever if it cannot run there).
Duration RunTime(const Job& job, double work, ModelId m, const Catalog& catalog, const Workload& workload);
// Relative speed of the job on model m (reference = 1.0), 0 if it cannot run there.
double Speed(const Job& job, ModelId m, const Catalog& catalog, const Workload& workload);
// Models the job may use, given its model and stack constraints and overrides.
ModelMask EligibleModels(const Job& job, const Catalog& catalog, const Workload& workload);

}  // namespace suanli
