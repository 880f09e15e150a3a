// `suanli replay`: the live control plane over a trace, on a virtual clock.
//
// It runs the control plane the server runs (a store in a temporary
// directory, every center `simulated`, the same passes, commit pipeline and
// backends) and reports what it did as `suanli sim` does, through the same
// Recorder. Center outages (the network file's, and random ones drawn as the
// simulator draws them) are outages of the simulated centers: they stop
// answering and lose their runs, and the control plane finds out from its
// polls, as it would of a real center. For the same input and options the
// result equals Simulate's:
// that is the proof that the simulator and the live plane schedule by one
// code path (docs/architecture.md, "One path").
#pragma once

#include <string>

#include "base/status.h"
#include "sim/engine.h"

namespace suanli {

// What the live plane does not run yet, as a message naming it ("" when the
// run can be replayed): jobs that span nodes.
std::string ReplayUnsupported(const SimOptions& options);

// Replays `workload` on the network `network_spec` names (a built-in name or
// a file, loaded by the live plane itself; `network` is the same network as
// the caller loaded it). The catalog must be the built-in one (the live
// plane's). `data_dir`: where the store goes ("" = a temporary directory,
// removed afterwards).
Result<SimResult> Replay(const Workload& workload, const std::string& network_spec, const Network& network,
                         const Catalog& catalog, const PolicySpec& policy, const SimOptions& options,
                         const std::string& data_dir = "");

}  // namespace suanli
