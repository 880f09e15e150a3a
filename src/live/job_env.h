// A job's environment, built from an allow-list: never the server's own
// (which may hold SUANLI_ADMIN_TOKEN, cloud credentials, SLURM_CONF ...).
//
//   PATH   a minimal one (kJobPath)
//   HOME   the job's directory
//   LANG   the server's LANG if set, else C.UTF-8; TZ the server's TZ if set
//   then the job spec's `env` (which may replace any of those),
//   then the device variables (CUDA_VISIBLE_DEVICES ...), and
//   SUANLI_JOB_ID, SUANLI_JOB_DIR, SUANLI_ATTEMPT (1 for its first run, then
//   2, 3 ...) and SUANLI_CHECKPOINT_DIR (which the spec cannot replace).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace suanli::live {

inline constexpr std::string_view kJobPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// PATH, HOME, LANG and TZ as above; `server_env` is KEY=VALUE strings (the
// server's environment, of which only LANG and TZ are read).
std::map<std::string, std::string> JobBaseEnvironment(const std::string& job_dir,
                                                      const std::vector<std::string>& server_env);

// A job's checkpoint directory: inside its directory, so that it is kept
// from one attempt to the next (docs/checkpoints.md). A checkpoint is
// reported by writing the file kCheckpointMark in it (DeepSpeed writes it
// after each save) or through the API.
std::string CheckpointDir(const std::string& job_dir);
inline constexpr std::string_view kCheckpointMark = "latest";
// The modification time (Unix ms) of the job's checkpoint mark, when it is
// a regular file; the job owns it, so a link is not followed.
std::optional<int64_t> CheckpointMarkMs(const std::string& job_dir);

// The whole environment of a job's run number `attempt`.
std::map<std::string, std::string> JobEnvironment(int64_t job_id, int attempt, const std::string& job_dir,
                                                  const std::map<std::string, std::string>& spec_env,
                                                  const std::map<std::string, std::string>& device_env,
                                                  const std::vector<std::string>& server_env);

// KEY=VALUE strings, each followed by a NUL byte (the form the local
// backend's supervisor reads).
std::string EncodeEnvironment(const std::map<std::string, std::string>& env);

// A multi-node gang on one machine (the local backend): what torchrun,
// DeepSpeed and Megatron read, as the Slurm backend sets them from Slurm's
// own. `common` (every task): MASTER_ADDR, MASTER_PORT, WORLD_SIZE and
// SUANLI_NODELIST (the nodes, comma-separated). `tasks`, one per device of
// each node (one per node without devices) in rank order: RANK, LOCAL_RANK,
// NODE_RANK, LOCAL_WORLD_SIZE, its node's device variables and, for Ascend's
// collective library (HCCL, as CANN documents it), RANK_ID, RANK_SIZE and
// DEVICE_ID (numbered among the visible devices).
struct GangEnvironment {
  std::map<std::string, std::string> common;
  std::vector<std::map<std::string, std::string>> tasks;
};
GangEnvironment GangEnv(const std::vector<std::string>& nodes,
                        const std::vector<std::map<std::string, std::string>>& node_device_env, int tasks_per_node,
                        const std::string& master_addr, int master_port);

// The tasks' own variables, after the job's environment (EncodeEnvironment)
// in the same file: each task's start with kTaskMark, then its KEY=VALUE
// strings, each followed by a NUL byte. The supervisor runs one process per
// task, each with the job's environment and its own on top.
inline constexpr std::string_view kTaskMark = "--suanli-task";
std::string EncodeTasks(const std::vector<std::map<std::string, std::string>>& tasks);

}  // namespace suanli::live
