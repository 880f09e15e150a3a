// The live control plane's job and tenant records: what a tenant submits
// (JobSpec), what the server keeps about it (JobRecord), and tenants. These
// are plain data shared by the store, the backends, the control loop and the
// HTTP API; they hold wall-clock times as WallMs (Unix milliseconds,
// base/time.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace suanli {
class Catalog;
}

namespace suanli::live {

enum class JobState : uint8_t { kPending, kRunning, kSucceeded, kFailed, kCancelled };
// "pending", "running", "succeeded", "failed", "cancelled".
std::string_view StateName(JobState s);
std::optional<JobState> ParseState(std::string_view s);
inline bool IsTerminal(JobState s) { return s != JobState::kPending && s != JobState::kRunning; }

// A job spec's limits: the spec's table of fields (live/record_schema.cc)
// takes them from here, and from the table the server's check
// (ValidateSpec), the CLI's check before it sends a job, the JSON codec and
// the OpenAPI document (data/api/openapi.json, generated from the table).
inline constexpr uint32_t kMaxGpus = 4096;
inline constexpr int64_t kMaxTimeLimitS = 31 * 86400;
inline constexpr size_t kMaxArgs = 256;
inline constexpr size_t kMaxArgBytes = 64 * 1024;
inline constexpr size_t kMaxCommandBytes = 1 << 20;
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxEnvVars = 256;
inline constexpr size_t kMaxEnvKeyBytes = 256;
inline constexpr size_t kMaxEnvBytes = 1 << 20;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxListItems = 64;
inline constexpr int64_t kMaxCpuMilli = int64_t{1} << 40;
inline constexpr int64_t kMaxMemMib = int64_t{1} << 40;
inline constexpr int64_t kMaxGraceS = 3600;
inline constexpr size_t kMaxDeadlineBytes = 64;
inline constexpr uint32_t kMaxNodes = 1024;
inline constexpr size_t kMaxDatasetNameBytes = 64;
inline constexpr uint32_t kMaxReplicas = 256;
inline constexpr int64_t kMaxLatencyMs = 60'000;
inline constexpr size_t kMaxRegionBytes = 64;

// An accelerator demand, in thousandths of a device: whole devices, or a
// share of one device (GPU sharing, docs/control-plane.md "Fractional
// accelerators"). The API writes it as a number: `gpus: 2`, `gpus: 0.25`.
// Built from an integer it is that many whole devices (at most 4,294,967:
// the API's limit is kMaxGpus).
class Gpus {
 public:
  static constexpr uint32_t kMilli = 1000;  // thousandths in one device

  constexpr Gpus() = default;
  constexpr Gpus(uint32_t devices) : milli_(devices * kMilli) {}  // NOLINT(google-explicit-constructor)
  static constexpr Gpus FromMilli(uint32_t milli) {
    Gpus g;
    g.milli_ = milli;
    return g;
  }
  // The number as the API writes it, in thousandths; nullopt for a
  // negative or not finite number, one beyond what a Gpus holds, or one with
  // more than three decimals. (The API's range is the field check's.)
  static std::optional<Gpus> FromNumber(double v);

  constexpr uint32_t milli() const { return milli_; }
  // The devices it holds: a share holds (part of) one.
  constexpr uint32_t devices() const { return (milli_ + kMilli - 1) / kMilli; }
  // A share of one device (0 < gpus < 1).
  constexpr bool shared() const { return milli_ % kMilli != 0; }
  // The share of each of its devices in thousandths (1000 for whole ones).
  constexpr uint32_t per_device_milli() const { return shared() ? milli_ : kMilli; }
  constexpr double value() const { return milli_ / static_cast<double>(kMilli); }
  // "2", "0.25".
  std::string ToString() const;

  constexpr auto operator<=>(const Gpus&) const = default;

 private:
  uint32_t milli_ = 0;
};
// The signals a job may name as its notice (stop_signal), without "SIG".
inline constexpr std::string_view kStopSignals[] = {"USR1", "USR2", "TERM", "INT", "HUP", "URG"};

// What a tenant asks for. Names are catalog names (models: "a100", "ascend-910";
// stacks: "cuda", "cann"); empty lists mean "any".
struct JobSpec {
  std::string name;                        // optional label
  std::vector<std::string> command;        // argv, required, non-empty
  std::map<std::string, std::string> env;  // extra environment variables
  std::string workdir;                     // optional; default: the job's own directory
  Gpus gpus;                               // accelerators (0 = CPU-only job; below 1: a share of one)
  int64_t cpu_milli = 1000;                // whole job
  int64_t mem_mib = 1024;                  // whole job
  std::vector<std::string> models;         // accepted accelerator models
  std::vector<std::string> stacks;         // accepted software stacks
  std::string workload_class = "other";    // training | inference | other (catalog classes)
  int64_t time_limit_s = 3600;             // stopped after this; also the run-time estimate
  int64_t duration_s = 0;                  // simulated centers: how long it "runs" (0 = time limit)
  int32_t priority = 0;                    // larger = more important
  std::string center;                      // optional: only this center
  // Checkpoints (docs/checkpoints.md). A job that checkpoints about every
  // checkpoint_s seconds is told before it is preempted or stopped by the
  // scheduler: stop_signal, then grace_s seconds to save its state before
  // it is stopped. Work up to the last checkpoint it reported is credited.
  int64_t checkpoint_s = 0;          // 0: it does not checkpoint (stopped at once)
  int64_t grace_s = 60;              // notice before the stop
  std::string stop_signal = "USR1";  // kStopSignals
  // A deferrable job (docs/dispatch.md, "Deferrable jobs"): it must end by
  // this RFC 3339 time ("2026-12-05T06:00:00+08:00"); cost- and carbon-aware
  // dispatch may hold it for cheaper or cleaner hours until then. "" = none.
  std::string deadline;
  // A multi-node gang: its gpus spread over this many nodes, gpus / nodes on
  // each; every task gets the launcher's variables (job_env.h). 1: one node.
  uint32_t nodes = 1;
  // The name of one of its tenant's registered datasets (Dataset below): the
  // job reads it at SUANLI_DATASET_DIR; before a run at a center other than
  // the one holding it, it is staged there (docs/datasets.md). "" = none.
  std::string dataset;
  // An inference service (docs/services.md): this many replicas, each a job
  // of its own (JobRecord::service ties them), kept running with no time
  // limit, restarted when one ends, scaled through the API. 0: a batch job.
  uint32_t replicas = 0;
  // A service's users: a region of the server's network, and the most
  // round-trip milliseconds from it to a replica's center (0: no bound).
  // Replicas are placed only where the bound holds.
  std::string region;
  int64_t latency_ms = 0;

  bool operator==(const JobSpec&) const = default;
};

// The time limit a backend enforces on a job's run: none (0) for a
// service's replica, which runs until it is scaled down or cancelled.
inline int64_t EnforcedTimeLimitS(const JobSpec& spec) { return spec.replicas > 0 ? 0 : spec.time_limit_s; }

// Checks a spec field by field against the limits above and the catalog's
// models and stacks, and, when `centers` is given, that its center is one of
// them. Errors name the field (Status::field()). The server runs it on every
// submission; `suanli submit` runs it (without centers) before sending.
Status ValidateSpec(const JobSpec& spec, const Catalog& catalog, const std::vector<std::string>* centers);

// A run's metering in one UTC hour (hours since 1970): the part of the run
// inside that hour, [start_ms, end_ms). Usage over any range sums these,
// pro rata inside an hour (power and prices are constant within one).
struct UsageSlice {
  int64_t hour = 0;
  WallMs start_ms{}, end_ms{};
  double gpu_seconds = 0, energy_kwh = 0, cost = 0, carbon_kg = 0;
};

// One run of a job, kept once it has ended: a job preempted, or requeued
// because its center stopped it or was lost, has several.
struct JobAttempt {
  int n = 0;  // 1, 2, ... in the order they started
  std::string center, node, model;
  std::vector<int> devices;
  WallMs start_ms{}, end_ms{};
  // How it ended: succeeded, failed, cancelled (the job's own end), preempted
  // (its center's scheduler stopped it for another job; it keeps its work),
  // requeued (its center stopped it: a node failure, an operator's cancel),
  // abandoned (its center stopped answering; the run is cancelled there when
  // it answers again).
  std::string outcome;
  std::string reason;
  // When the job last reported a checkpoint during this run (0 = never): the
  // work up to it is what a preempted or lost run kept.
  WallMs checkpoint_ms{};
  // Metering of this run (as JobRecord's, for this run alone): the sums of
  // `hours`, the same split by the UTC hours it ran in. The store books
  // `hours` into usage with the attempt and does not read them back.
  double gpu_seconds = 0, energy_kwh = 0, cost = 0, carbon_kg = 0;
  std::vector<UsageSlice> hours;
};

// Something that happened to a job, for its history (a job's `events`):
// submitted, dispatched (to which center, by which policy), deferred, staged
// (its dataset copied to the center, and how long that took), held,
// started (where), preempted (for which job), checkpointed, requeued,
// restarting (a service's replica ended: it starts again after a backoff),
// restarted (its backoff is over), ended.
struct JobEvent {
  WallMs time_ms{};
  std::string kind;  // kEventKinds
  std::string message;
};
inline constexpr std::string_view kEventKinds[] = {"submitted", "dispatched", "deferred",  "staged",
                                                   "held",      "started",    "preempted", "checkpointed",
                                                   "requeued",  "restarting", "restarted", "ended"};
// A job keeps its first kMaxEvents - 1 events and its end.
inline constexpr size_t kMaxEvents = 100;

struct JobRecord {
  int64_t id = 0;  // assigned by the store (1, 2, ...), never reused
  std::string tenant;
  JobSpec spec;
  JobState state = JobState::kPending;
  WallMs submit_ms{}, start_ms{}, end_ms{};  // 0 = not yet
  std::string center;                        // where it was sent / runs (empty while undecided)
  std::string model;                         // accelerator model it runs on (empty for CPU-only)
  std::string node;                          // node name inside the center (several: comma-separated, in rank order)
  std::vector<int> devices;                  // device indices on that node (several nodes: each one's in turn)
  std::string backend_id;                    // local: pid of its supervisor; slurm: job id; simulated: id
  int exit_code = -1;                        // process exit status (-1 = none)
  int signal = 0;                            // terminating signal (0 = none)
  std::string reason;                        // why it is pending / failed / cancelled
  WallMs est_start_ms{};                     // pending: estimated start (0 = unknown)
  WallMs checkpoint_ms{};                    // running: its last checkpoint in this run (0 = none yet)
  // A replica of a service (spec.replicas > 0): the service's id, which is
  // its first replica's id (that one's own too). 0: a batch job.
  int64_t service = 0;
  // Metering: the sum over its attempts, filled as each ends.
  double gpu_seconds = 0;  // accelerator-seconds (cpu-seconds / 1000 for CPU-only jobs is not counted here)
  double energy_kwh = 0, cost = 0, carbon_kg = 0;
  // Its runs that have ended, oldest first (the store's job_attempts; loaded
  // by GetJob and LoadActive, not by ListJobs).
  std::vector<JobAttempt> attempts;
  // Its history, oldest first (the store's job_events, written once each;
  // loaded as attempts are).
  std::vector<JobEvent> events;
};

inline constexpr int64_t kMaxTenantPriority = 1'000'000;  // the most an admin may give a tenant
inline constexpr int64_t kMaxTenantGpusPerJob = int64_t{1} << 20;
inline constexpr int64_t kMaxTenantActiveJobs = int64_t{1} << 40;

struct Tenant {
  std::string name;          // [a-z][a-z0-9_-]{0,39}
  std::string token_sha256;  // hex SHA-256 of the bearer token (the token itself is never stored)
  bool admin = false;
  // Admission quotas (0 = unlimited): accelerators one job may ask for, and
  // jobs the tenant may have pending or running at once.
  int64_t max_gpus_per_job = 0;
  int64_t max_active_jobs = 0;
  WallMs created_ms{};
  // The highest `priority` its jobs may ask for (the admin sets it; 0 by
  // default, so a tenant cannot rank its jobs above others' on its own).
  int64_t max_priority = 0;
  // Its home center (a center of the server's network): where the
  // `isolated` dispatch policy keeps its jobs. Given at creation or assigned
  // then (the center with the fewest tenants at home), and kept in the store,
  // so that it stays the same across restarts.
  std::string home{};
};

// A registered dataset (docs/datasets.md): a directory of its tenant's at
// one center, `<data_root>/<tenant>/<name>` under that center's data root,
// which jobs name by `name`. Copies are made where jobs run (staging).
struct Dataset {
  std::string tenant;
  std::string name;    // kDatasetNameRule
  std::string center;  // where it lives (its origin)
  int64_t size_bytes = 0;
  WallMs created_ms{};
  // Centers it has been staged to, each with when its last copy there ended.
  struct Copy {
    std::string center;
    WallMs staged_ms{};
    bool operator==(const Copy&) const = default;
  };
  std::vector<Copy> copies;
  bool operator==(const Dataset&) const = default;
};
// A dataset's name: a path component that is never "." or "..".
inline constexpr std::string_view kDatasetNameRule = "[a-z0-9][a-z0-9._-]{0,63}";
bool ValidDatasetName(std::string_view name);

// Whether `node` is one of a job's nodes (JobRecord::node: a name, or a
// multi-node job's comma-separated names).
bool OnNode(std::string_view nodes, std::string_view node);

// Hex SHA-256 of a token (OpenSSL's libcrypto).
std::string Sha256Hex(std::string_view data);

// A random bearer token: 32 bytes from OpenSSL's RAND_bytes, in hex.
Result<std::string> RandomToken();

}  // namespace suanli::live
