// The model's ids: each kind is a type of its own (base/strong_id.h), so a
// center's id cannot index the jobs, nor a plain integer stand for a node.
// Each is a dense index, from 0, into the table it names.
#pragma once

#include <cstdint>

#include "base/strong_id.h"

namespace suanli {

using JobId = StrongId<struct JobTag>;        // Workload::jobs
using TenantId = StrongId<struct TenantTag>;  // Workload::tenants (Job::tenant)
using CenterId = StrongId<struct CenterTag>;  // Network::centers
using PoolId = StrongId<struct PoolTag>;      // Network::pools
using NodeId = StrongId<struct NodeTag>;      // Network::nodes (or a center's own numbering of its nodes)

inline constexpr JobId kNoJob{UINT32_MAX};
inline constexpr CenterId kNoCenter{UINT32_MAX};

}  // namespace suanli
