// Internals of the live control plane shared by its source files (not an API):
// the network the server runs (centers, their backends and node slices) and
// the mapping of a tenant's JobSpec to a core Job.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "live/backend.h"
#include "live/control.h"
#include "live/live_job.h"

namespace suanli::live::control_detail {

// Figures of a center that the network file does not describe (a local or
// slurm center named only in `centers`): PUE 1.3, a flat 0.6 per kWh and
// 570.3 gCO2/kWh (the same illustrative figures as the uniform-100k network).
inline constexpr double kDefaultPue = 1.3;
inline constexpr double kDefaultPrice = 0.6;
inline constexpr double kDefaultCarbon = 570.3;

// Limits on what a job may ask for (checked at submit).

// One center of the server's network as built at start: its backend and its
// slice of the network (nodes renumbered from 0, as the simulator does).
struct BuiltCenter {
  std::string name;
  std::string kind;  // backend: local | slurm | simulated
  std::unique_ptr<Backend> backend;
  Network net;                                         // this center's nodes only (centers and pools: all of them)
  IdVector<NodeId, NodeId> global;                     // local node -> network node
  std::unordered_map<std::string, NodeId> node_index;  // node name -> local node
};

struct BuiltNetwork {
  Network network;  // every center, global node ids
  IdVector<CenterId, std::unique_ptr<BuiltCenter>> centers;
};

// Loads the `network` spec (if any), adds the centers run by local and slurm
// backends (their nodes from Probe), makes every backend. Errors name the
// center and what failed.
Result<BuiltNetwork> BuildNetwork(const ServerConfig& config, const Catalog& catalog);

// Checks a spec field by field; InvalidArgument messages start with the
// field's name ("gpus: ...").

// The core job of a valid spec. Work and estimate are time_limit_s reference
// seconds; `tenant` is the interned tenant id (also used as the user).
Job CoreJob(const JobSpec& spec, const Catalog& catalog, TenantId tenant, Time submit);

// [a-z][a-z0-9_-]{0,39}
bool ValidTenantName(std::string_view name);

}  // namespace suanli::live::control_detail
