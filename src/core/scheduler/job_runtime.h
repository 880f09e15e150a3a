// What the scheduler knows about each job as it moves through its life.
#pragma once

#include <cstdint>

#include "base/time.h"
#include "core/model/job.h"

namespace suanli {

// kUnknown: never submitted here, or taken out by Scheduler::Remove (it may be
// submitted again; `remaining` keeps the work it had left).
enum class JobState : uint8_t { kUnknown = 0, kPending, kRunning, kDone, kUnschedulable };

struct JobRuntime {
  JobState state = JobState::kUnknown;
  ModelId model = kNoModel;   // model of the current (or last) run
  uint16_t preemptions = 0;
  Time queued_since = 0;      // when it last entered the queue
  Time last_start = -1;       // start of the current (or last) run
  Time first_start = -1;
  double remaining = 0;       // reference-seconds of work left at last_start (or now, if pending)
  double est_remaining = 0;   // the estimate of the same (for backfill)
  double attained = 0;        // accelerator-seconds received before last_start (LAS)
  double speed = 1.0;         // speed on the current model (reference = 1)
};

}  // namespace suanli
