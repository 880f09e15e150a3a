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

// Writes the workload; gzip-compressed when `path` ends in ".gz".
Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog,
                           const std::string& path);
Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog, std::ostream& out);
std::string NativeWorkloadString(const Workload& workload, const Catalog& catalog);

}  // namespace suanli
