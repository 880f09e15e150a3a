// Backends: how a center's jobs are really run. Each center of the server's
// network names one:
//   local      child processes on this machine (GPUs from nvidia-smi, or CPU slots)
//   slurm      a real Slurm cluster, through sbatch / squeue / scontrol / scancel / sinfo
//   simulated  jobs "run" for their declared duration (demos, tests at scale)
//
// The control loop decides what runs where (the engine's policies) and calls
// Launch with the node and devices it chose; the backend starts it and later
// reports how it ended through Poll. Backends are called from the control
// loop's thread only (one at a time); they must not block for long (a Slurm
// command that hangs is cut off by a timeout and reported as an error).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "live/live_job.h"

namespace suanli::live {

// What a center offers, as probed from the backend.
struct BackendNode {
  std::string name;       // node name (local: this host's name; slurm: NodeName)
  std::string model;      // catalog model name of its accelerators ("" = none)
  int devices = 0;        // accelerators on the node
  int64_t cpu_milli = 0;  // CPUs (local without accelerators: slots x 1000)
  int64_t mem_mib = 0;
  bool up = true;  // slurm: not down/drained
};

struct BackendCapacity {
  std::vector<BackendNode> nodes;
};

struct LaunchRequest {
  int64_t job_id = 0;
  JobSpec spec;
  // The chosen node (slurm: passed as --nodelist when configured to); a
  // multi-node job's nodes, comma-separated in rank order (spec.nodes).
  std::string node;
  std::string model;         // chosen model ("" for CPU-only)
  std::vector<int> devices;  // device indices on that node (several nodes: each one's in turn, as many on each)
  std::string job_dir;       // per-job directory (logs: job_dir/stdout, job_dir/stderr)
  WallMs start_ms{};         // when the control loop launched it
  int64_t start_us = 0;      // the same in microseconds (0 = CoreTime(start_ms))
  // When > 0: how long the run lasts (µs) as the network scheduler expects it,
  // for a job whose work is known (a trace's job in `suanli replay`): a
  // simulated center runs it exactly this long.
  int64_t run_us = 0;
  // When > 0 (simulated centers): the run fails after this long, stopped by
  // its center (an injected device failure; `suanli replay --device-mtbf-h`).
  int64_t fail_after_us = 0;
  // Reference-seconds of work its earlier runs did and kept (a preempted
  // job keeps its work, as in the simulator): a simulated run lasts its
  // duration less this. A local or slurm job's process starts again; resuming
  // from its own checkpoints, if it writes any, is the job's business.
  double done_s = 0;
  int attempt = 1;  // 1 for its first run, then 2, 3, ...
  // Its dataset (docs/datasets.md): the directory it reads at this center
  // (SUANLI_DATASET_DIR; "" = none).
  std::string dataset_dir;

  // Its nodes one by one, in rank order, each with its devices (an error
  // when the devices do not split evenly over them).
  struct Host {
    std::string name;
    std::vector<int> devices;
  };
  Result<std::vector<Host>> Hosts() const;
};

// What a job is told before it is stopped for its scheduler (a preemption,
// a withdrawal from a node going down): `signal` (a kStopSignals name), then
// `grace_s` seconds to save its state before it is stopped as a cancel is.
struct StopNotice {
  std::string signal = "USR1";
  int64_t grace_s = 0;
};
// The signal's number (SIGUSR1 for "USR1"; 0 for a name not in kStopSignals).
int StopSignalNumber(std::string_view name);

struct BackendEvent {
  // kStarted: it left the center's own queue and runs (a backend whose
  // launches queue reports it once, before kEnded of a run that started);
  // kHeld: it waits in the center's own queue, `reason` saying why (reported
  // when the reason changes); kEnded, kLost: its run is over; kNode: `node`
  // went down (up = false; drained, failed, gone) or came back, `reason`
  // being the center's word for its state.
  enum class Kind : uint8_t { kStarted, kEnded, kLost, kHeld, kNode };
  Kind kind = Kind::kEnded;
  int64_t job_id = 0;
  JobState state = JobState::kSucceeded;  // kEnded: succeeded | failed | cancelled
  int exit_code = -1;
  int signal = 0;
  std::string reason;  // e.g. "time limit", "exit 3", "killed by SIGKILL", "node failure"
  WallMs at_ms{};      // when it started / ended (as well as the backend knows)
  // kNode: the node; kStarted: where the center's own placement put it (a
  // Slurm host list such as "n[1-2]"), empty when not known.
  std::string node;
  bool up = true;  // kNode
  // kEnded as failed: the center stopped the run on its own (a node failure,
  // an operator's cancel, its own preemption), which is not the job's
  // failure: the control plane runs it again (at most 3 times).
  bool center_stopped = false;
};

struct BackendConfig {
  std::string kind;  // local | slurm | simulated
  // local
  int slots = 0;                         // CPU slots offered when no accelerator is found (0 = number of cores)
  bool detect_gpus = true;               // run nvidia-smi to find NVIDIA GPUs
  int grace_s = 10;                      // cancel: SIGTERM, then SIGKILL after this
  std::string sandbox = "auto";          // auto | bwrap | off (docs/security.md)
  std::string cgroups = "auto";          // auto | off
  std::string cgroup_parent = "suanli";  // the jobs' cgroups: PARENT/suanli-job-ID
  int64_t job_uid_base = 60000;          // server as root: jobs run as uids job_uid_base.. (0 = as root)
  int64_t job_uids = 1000;               // how many
  // This machine offered as `nodes` nodes, each with an even share of its
  // GPUs (of each model), CPUs and memory: a multi-node gang runs on it as on
  // a cluster, one task per device (docs/backends.md).
  int nodes = 1;
  // The name its node goes by ("" = this host's short name; with `nodes`
  // K > 1, NAME-0 .. NAME-{K-1}): an agent's center is named in the hub's
  // network file, whose nodes must carry the names its backend reports.
  std::string node_name;
  // slurm
  std::string slurm_conf;  // SLURM_CONF for its commands (empty = the environment's)
  std::string partition;   // empty = the cluster's default
  // Pass Suanli's choice of nodes as sbatch --nodelist; otherwise (default)
  // Slurm chooses them, and Suanli follows where Slurm put each job.
  bool nodelist = false;
  int command_timeout_s = 15;  // a Slurm command that takes longer counts as "not answering"
  // Set by the control plane, not read from the config: every center's
  // data root (docs/datasets.md), hidden in a local job's sandbox but for
  // the job's own dataset.
  std::vector<std::string> hidden_data_roots;
  // simulated: capacity comes from the network file's pools for this center.
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view kind() const = 0;

  // Capacity and health; an error means "not answering" (the control loop
  // marks the center unavailable after its timeout).
  virtual Result<BackendCapacity> Probe() = 0;
  // Starts the job. Returns its backend id (kept in JobRecord::backend_id).
  virtual Result<std::string> Launch(const LaunchRequest& req) = 0;
  // Whether a launch only submits the job to the center's own queue (slurm):
  // then the job is pending until Poll reports kStarted, and metered from
  // there. Otherwise it runs from its launch.
  virtual bool LaunchQueues() const { return false; }
  // Whether the center chooses a queued job's nodes itself (Slurm without
  // `nodelist: true`): then a node going down does not strand a job queued
  // for it, and kStarted says where it went.
  virtual bool PlacesJobs() const { return false; }
  // Asks the job to stop (local: SIGTERM, SIGKILL after the grace period;
  // slurm: scancel). Its end is reported by a later Poll as cancelled.
  virtual Status Cancel(int64_t job_id, const std::string& backend_id) = 0;
  // The same, with notice: the job gets notice.signal now and is stopped as
  // by Cancel notice.grace_s seconds later (or at once when it ends by
  // itself). Its end is reported as cancelled. By default (simulated
  // centers, whose runs have no process to tell) it is Cancel.
  virtual Status Stop(int64_t job_id, const std::string& backend_id, const StopNotice& notice) {
    (void)notice;
    return Cancel(job_id, backend_id);
  }
  // Events since the last call: jobs that started (slurm: left the queue),
  // are held in the center's queue, or ended; nodes that went down or up.
  virtual Result<std::vector<BackendEvent>> Poll(WallMs now) = 0;
  // The same, with the time in microseconds (the control loop calls this
  // one): backends that keep whole milliseconds poll at WallOf(now_us); a
  // simulated center reports its runs' ends to the microsecond.
  virtual Result<std::vector<BackendEvent>> PollUs(int64_t now_us) { return Poll(WallOf(now_us)); }
  // When this backend will next have something to report of its own accord
  // (Unix µs; INT64_MAX = nothing it knows of): a simulated center's next end
  // of a run. A virtual clock (`suanli replay`) moves on to it.
  virtual int64_t NextEventUs() { return INT64_MAX; }
  // After a server restart: follow a job launched by an earlier server
  // process. If it ended meanwhile, the next Poll reports its end (exit status
  // included where the backend keeps it); if it cannot be found, kLost.
  virtual Status Adopt(const LaunchRequest& req, const std::string& backend_id) = 0;
};

// Builds a backend. `data_dir` is the server's data directory (the local
// backend keeps its supervisor status files under it). For `simulated`,
// `capacity` is what the network file gives the center.
Result<std::unique_ptr<Backend>> MakeBackend(const BackendConfig& config, const std::string& center,
                                             const std::string& data_dir, const BackendCapacity& capacity);

}  // namespace suanli::live
