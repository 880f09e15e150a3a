// Metering of one run of a live job: accelerator-seconds, energy, cost and
// carbon, split by the UTC hours it ran in, each priced at the center's own
// local hour (core/model/energy.h). Pure: the caller gives the center and the
// accelerator model.
#pragma once

#include "core/model/catalog.h"
#include "core/model/network.h"
#include "live/live_job.h"

namespace suanli::live {

// Fills at->hours and the sums at->gpu_seconds, energy_kwh, cost, carbon_kg
// for [at->start_ms, at->end_ms) (Unix milliseconds) on `devices`
// accelerators. Without a center (nullptr) hours are UTC; without a model
// (CPU-only, or not in the catalog) time is metered and energy is not. A run
// that never started (start_ms <= 0) or took no time is metered as nothing.
void MeterRun(JobAttempt* at, const Center* center, const AcceleratorModel* model, double devices);

}  // namespace suanli::live
