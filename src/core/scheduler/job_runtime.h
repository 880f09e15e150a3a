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
  ModelId model = kNoModel;  // model of the current (or last) run
  uint16_t preemptions = 0;
  Time queued_since = 0;  // when it last entered the queue
  Time last_start = -1;   // start of the current (or last) run
  Time first_start = -1;
  double remaining = 0;      // reference-seconds of work left at last_start (or now, if pending)
  double est_remaining = 0;  // the estimate of the same (for backfill)
  double attained = 0;       // accelerator-seconds received before last_start (LAS)
  double speed = 1.0;        // speed on the current model (reference = 1)
};

// What a job has received and what it has left, carried from one stay in a
// scheduler's queue to the next: Scheduler::Progress gives it when the job
// leaves (Remove), Scheduler::Submit(id, now, progress) takes it back. A
// preempted job carries all of it (the simulator keeps a preempted job in
// its queue, with this same runtime; the live control plane takes it out
// while its run stops and submits it again with what it had); a job moved
// elsewhere after a failure carries only the work it has left.
struct JobProgress {
  double remaining = 0;       // reference-seconds of work left
  double est_remaining = -1;  // the estimate of the same; < 0: the job's estimate less the work done
  double attained = 0;        // accelerator-seconds received (LAS)
  uint16_t preemptions = 0;
  Time first_start = -1;   // first run's start (-1: never ran)
  Time last_start = -1;    // last run's start (-1: never ran)
  Time queued_since = -1;  // when it entered the queue (LAS's starvation clock); < 0: at submit
};

}  // namespace suanli
