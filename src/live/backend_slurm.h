// The slurm backend: a real Slurm cluster is a center (docs/backends.md).
//
// Every Slurm command (sinfo, sbatch, squeue, scontrol, scancel, sacct) runs
// with SLURM_CONF from the configuration (when set) and is cut off after
// command_timeout_s: a command that does not answer in time, or cannot reach
// slurmctld, makes Probe / Launch / Poll return an Unavailable error ("not
// answering"). Jobs are followed by their Slurm job id: one squeue per Poll
// for every followed id (pending / running / recently ended), then scontrol
// (or sacct where accounting is enabled) for the final state and exit code
// of those that ended.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "live/backend.h"

namespace suanli::live {

Result<std::unique_ptr<Backend>> MakeSlurmBackend(const BackendConfig& config, const std::string& center,
                                                  const Catalog& catalog);

// ---- the pieces, exposed for tests ------------------------------------------------------

// One node of `sinfo -N -h -o '%N|%c|%m|%G|%T'`, with its GPU GRES type.
struct SlurmNode {
  BackendNode node;
  std::string gres_type;  // "a100" in gpu:a100:4 ("" = untyped or none)
  int64_t shards = 0;     // GRES shards (shard:16): shares of its GPUs (docs/backends.md)
  std::string state;      // Slurm's long state ("idle", "drained", "down*")
  std::string note;       // why GPUs are not offered, when they are not
};
// Parses sinfo's lines (a node listed once per partition is kept once).
// Errors name the line.
Result<std::vector<SlurmNode>> ParseSinfoNodes(std::string_view text, const Catalog& catalog);
// Whether a node in this Slurm state takes jobs (idle, mixed, allocated,
// completing; not down, drained, draining, fail, maint, not responding "*").
bool SlurmNodeUp(std::string_view state);

// A job's row of `squeue -h -t all -j IDS -o '%i|%T|%N|%S|%r'`.
struct SqueueRow {
  std::string id;
  std::string state;  // PENDING, RUNNING, COMPLETED, ...
  std::string nodes;
  WallMs start_ms{};  // 0 = unknown / not started
  std::string reason;
};
Result<std::vector<SqueueRow>> ParseSqueue(std::string_view text);

// Final record from `scontrol show job -o ID` (or sacct).
struct SlurmFinal {
  std::string state;  // JobState: COMPLETED, FAILED, TIMEOUT, CANCELLED, ...
  int exit_code = -1;
  int signal = 0;
  WallMs end_ms{};
  std::string reason;  // Slurm's Reason
  WallMs start_ms{};   // 0 = it never started (or unknown)
  std::string nodes;   // the host list it ran on ("n[1-2]"; empty = none or unknown)
};
std::optional<SlurmFinal> ParseScontrolJob(std::string_view text);

// Whether a Slurm job state is final.
bool SlurmStateFinal(std::string_view state);
// The event for a job that ended in `f` (cancelled: Suanli asked for it).
BackendEvent SlurmEndEvent(int64_t job_id, const SlurmFinal& f, bool cancelled, int64_t time_limit_s);

// Expands a Slurm host list (squeue's %N, $SLURM_JOB_NODELIST: "n[1-3,07],gpu")
// into its names, in order. A bracket group holds numbers and ranges (a
// range's names keep its first bound's width: [08-10] is 08, 09, 10); a name
// with several groups expands as their product. InvalidArgument for
// unbalanced brackets, an empty name, a range that is not one, or more than
// `limit` names.
Result<std::vector<std::string>> ExpandHostlist(std::string_view list, size_t limit = 65536);

// Slurm's local time "2026-05-01T12:00:00" -> Unix ms (0 for Unknown/None/N/A).
WallMs ParseSlurmTime(std::string_view s);

// A word quoted for bash: 'it'\''s'.
std::string ShellQuote(std::string_view s);

// The batch script: exports spec.env and SUANLI_JOB_ID, sets the device
// variables of the model's stacks from the CUDA_VISIBLE_DEVICES Slurm gives
// a GRES job (hides them for CPU-only jobs), then execs the command.
// InvalidArgument for an environment variable name that is not one.
// The script starts from the allow-listed environment of job_env.h (HOME and
// SUANLI_JOB_DIR = `job_dir` when given, with SUANLI_CHECKPOINT_DIR inside
// it; SUANLI_ATTEMPT = `attempt`); sbatch runs it with --export=NONE.
// A multi-node job (spec.nodes > 1) runs its command as one srun task per
// device (per node when it has none), each with the launcher's variables:
// MASTER_ADDR (the first node), MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK,
// LOCAL_WORLD_SIZE, NODE_RANK and SUANLI_NODELIST, from Slurm's own.
Result<std::string> SlurmJobScript(int64_t job_id, int attempt, const JobSpec& spec, const std::string& model,
                                   const Catalog& catalog, const std::string& job_dir = "",
                                   const std::string& dataset_dir = "");

// The sbatch command line for a job (after `sbatch`): a multi-node job asks
// for its nodes, its tasks on each, and per node its share of the devices,
// CPUs and memory; `nodelist`: on the nodes Suanli chose (req.node),
// otherwise wherever Slurm places it. A share of one GPU (gpus below 1)
// asks for that share of a GPU's `shards_per_gpu` GRES shards, rounded up.
std::vector<std::string> SbatchArgs(const LaunchRequest& req, const std::string& job_dir, const std::string& workdir,
                                    const std::string& gres_type, const std::string& partition, bool nodelist,
                                    int64_t shards_per_gpu = 0);

}  // namespace suanli::live
