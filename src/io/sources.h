// Resolves what the user named on the command line: a built-in workload or a
// file, in a given (or guessed) trace format.
#pragma once

#include <string>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "io/trace.h"

namespace suanli {

// The built-in default: a real workload shipped in data/workloads/ (native format).
inline constexpr const char* kDefaultWorkload = "default";
// china-aicc at one tenth of its size, so that the default run takes seconds;
// its bundled week of arrivals was generated for exactly this size.
inline constexpr const char* kDefaultNetwork = "china-aicc:1/10";
// The workload for china-aicc networks when none is named.
inline constexpr const char* kDefaultNetworkWorkload = "builtin:china-aicc-week";

// `spec` is "default" (the built-in workload), "builtin:NAME" (data/workloads/NAME),
// or a path. `format` "" means guess from the file.
Result<Workload> LoadWorkload(const std::string& spec, const std::string& format, const Catalog& catalog,
                              const ImportOptions& opts, ImportReport* report);

// Appends b's jobs to *a: tenants, users and places (home, data_at, region)
// are matched by name, measured run times re-indexed, names kept. The result is sorted by submit time
// (stable: a's jobs first among equal times).
void AppendWorkload(Workload* a, const Workload& b);

// `spec` is a built-in network name, a network YAML file, or a cluster table
// from a trace (openb node list, Tiresias cluster spec, ...). `format` ""
// means: YAML for .yaml/.yml files and built-in names, else guessed. A YAML
// network may be scaled down: "china-aicc:1/100" (see LoadNetwork).
Result<Network> LoadNetworkSpec(const std::string& spec, const std::string& format, const Catalog& catalog);

}  // namespace suanli
