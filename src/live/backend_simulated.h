// The simulated backend: jobs "run" for their declared duration on the
// capacity the network file gives the center. Nothing is executed; Poll
// reports each job's end when the wall clock passes it. Used for demos and to
// run the control plane at scale (100,000 accelerators, tens of thousands of
// jobs: ends are kept in a min-heap, so a Poll costs O(ended x log jobs)).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/network.h"
#include "live/backend.h"

namespace suanli::live {

// A job runs from req.start_us (start_ms) for req.run_us when given (a
// replayed trace job: the run the network scheduler expects), else for
// spec.duration_s (spec.time_limit_s when 0), and then succeeds; a duration longer than a positive time limit stops
// at the limit and fails ("time limit N s exceeded"). Backend ids are the job
// ids ("sim-ID"). Cancel ends a job as cancelled at the next Poll (a launch
// of the job before that replaces the cancelled run, unreported). Adopt
// continues from req.start_ms (a job whose end passed meanwhile is reported
// at the next Poll with its end time).
Result<std::unique_ptr<Backend>> MakeSimulatedBackend(const std::string& center, const BackendCapacity& capacity);

// The nodes the network gives center c, as its simulated backend reports
// them (a hub's simulated center, a simulated agent's).
BackendCapacity CapacityOf(const Network& net, CenterId c, const Catalog& catalog);

// A simulated center's outage (`suanli replay`): from SetSimulatedCenterAway(
// true) at `at_us` its runs are lost and it answers nothing (Poll, Launch,
// Cancel and Adopt fail as unavailable) until SetSimulatedCenterAway(false);
// its first Poll then reports each lost run (kLost, at the outage's start), in
// the order of their job ids. An error for any other backend.
Status SetSimulatedCenterAway(Backend& backend, bool away, int64_t at_us);

}  // namespace suanli::live
