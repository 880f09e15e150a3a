// Suanli's native workload format: a CSV file (plain or gzip) that holds every
// field of the job model, so that any imported or generated workload can be
// saved and read back unchanged. The layout is in docs/formats-traces.md; the
// reader is the "native" trace format (io/trace.h).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"

namespace suanli {

inline constexpr std::string_view kNativeMagic = "# suanli workload v1";
inline constexpr std::string_view kNativeHeader =
    "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,"
    "estimate_s,priority,durations";
// Optional columns for a network of centers (Job::home ... Job::checkpoint). The
// reader takes them when present; the writer appends them when a job uses them.
inline constexpr std::string_view kNativeNetworkColumns =
    "home,data_at,data_gb,region,latency_ms,service,deadline_s,checkpoint_s";
// After them, a gang's nodes (Job::nodes): written only when a job has it, so
// that every workload written before it existed is written as before.
inline constexpr std::string_view kNativeNodesColumn = "nodes";

// Which columns the writer puts out: the 15 base columns, the base and network
// columns, or (kAuto) the network columns only when some job uses them, so that
// workloads without network fields are written exactly as before.
enum class NativeColumns { kAuto, kBase, kNetwork };
// True when the job has any network field set (a place, data, a service, a
// deadline or a checkpoint interval).
bool UsesNetworkFields(const Job& job);
// The header line (no newline) for base-only or base + network columns.
std::string NativeHeaderLine(bool network_columns, bool nodes_column = false);

// Writes the workload; gzip-compressed when `path` ends in ".gz".
Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog, const std::string& path);
Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog, std::ostream& out);
std::string NativeWorkloadString(const Workload& workload, const Catalog& catalog,
                                 NativeColumns columns = NativeColumns::kAuto);

}  // namespace suanli
