// What the slurm backend gives sbatch: the batch script of a job (its
// environment, its device variables and its command, quoted for bash) and
// sbatch's command line.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/backend_slurm.h"
#include "live/gpu_detect.h"
#include "live/job_env.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace {

bool ValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

Result<std::string> SlurmJobScript(int64_t job_id, int attempt, const JobSpec& spec, const std::string& model,
                                   const Catalog& catalog, const std::string& job_dir, const std::string& dataset_dir) {
  if (spec.command.empty() || spec.command[0].empty()) return InvalidArgument("job {}: command is empty", job_id);
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Suanli job {}: the command, its environment and its devices.\n", job_id);
  // sbatch --export=NONE: nothing of the server's environment arrives; the
  // job's starts from the same allow-list as on a local center.
  for (const auto& [k, v] : JobBaseEnvironment(job_dir, CurrentEnvironment())) {
    if (k == "HOME" && job_dir.empty()) continue;  // no directory given: Slurm's
    s += fmt::format("export {}={}\n", k, ShellQuote(v));
  }
  for (const auto& [k, v] : spec.env) {
    if (!ValidEnvName(k)) return InvalidArgument("job {}: env: '{}' is not an environment variable name", job_id, k);
    if (v.find('\0') != std::string::npos) return InvalidArgument("job {}: env: {} holds a NUL byte", job_id, k);
    s += fmt::format("export {}={}\n", k, ShellQuote(v));
  }
  s += fmt::format("export SUANLI_JOB_ID={}\n", job_id);
  s += fmt::format("export SUANLI_ATTEMPT={}\n", attempt);
  if (!job_dir.empty()) {
    s += fmt::format("export SUANLI_JOB_DIR={}\n", ShellQuote(job_dir));
    s += fmt::format("export SUANLI_CHECKPOINT_DIR={}\n", ShellQuote(CheckpointDir(job_dir)));
  }
  if (!dataset_dir.empty()) s += fmt::format("export SUANLI_DATASET_DIR={}\n", ShellQuote(dataset_dir));
  // Device variables: Slurm sets CUDA_VISIBLE_DEVICES for a GRES job (a
  // task); the other variables of the model's stacks follow it, the rest are
  // hidden.
  auto env = DeviceEnvironment(catalog, model, {});
  if (!env.ok()) return env.status().Wrap(fmt::format("job {}", job_id));
  std::set<std::string> mine;
  if (!model.empty()) {
    auto id = catalog.Find(model);
    for (const DeviceVariable& dv : DeviceVariables()) {
      auto st = catalog.FindStack(dv.stack);
      if (id && st && (catalog.model(*id).stacks & (StackMask{1} << *st)) != 0) mine.insert(std::string(dv.variable));
    }
  }
  std::string devices;
  if (!mine.empty()) devices += "slurm_devices=\"${CUDA_VISIBLE_DEVICES-}\"\n";
  // A share of one device (a GRES shard): its limits, as on a local center.
  if (!model.empty())
    for (const auto& [k, v] : ShareEnvironment(catalog, model, spec.gpus))
      devices += fmt::format("export {}={}\n", k, ShellQuote(v));
  std::set<std::string> done;
  for (const DeviceVariable& dv : DeviceVariables()) {
    std::string var(dv.variable);
    if (!done.insert(var).second) continue;
    if (mine.count(var) == 0) {
      devices += fmt::format("export {}=\n", var);
    } else if (var != "CUDA_VISIBLE_DEVICES") {
      devices += fmt::format("export {}=\"$slurm_devices\"\n", var);
    }
  }
  std::string command;
  for (const std::string& a : spec.command) {
    if (a.find('\0') != std::string::npos) return InvalidArgument("job {}: command holds a NUL byte", job_id);
    command += " " + ShellQuote(a);
  }
  if (spec.nodes <= 1) return s + devices + "exec" + command + "\n";
  // A gang over several nodes: the launcher's variables (what torchrun,
  // DeepSpeed and Megatron read), the job's from Slurm's, then one task per
  // device on each node, each with its ranks.
  s += "suanli_nodes=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" 2>/dev/null | paste -sd, -)\n";
  s += "export SUANLI_NODELIST=\"${suanli_nodes:-$SLURM_JOB_NODELIST}\"\n";
  s += "export MASTER_ADDR=\"${SUANLI_NODELIST%%,*}\"\n";
  s += "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n";
  s += "export WORLD_SIZE=\"$SLURM_NTASKS\"\n";
  std::string task =
      "export RANK=\"$SLURM_PROCID\" LOCAL_RANK=\"$SLURM_LOCALID\" NODE_RANK=\"$SLURM_NODEID\" "
      "LOCAL_WORLD_SIZE=\"${SLURM_NTASKS_PER_NODE%%(*}\"\n";
  // Ascend's collective library (HCCL) as CANN documents it for TensorFlow
  // and MindSpore: RANK_ID, RANK_SIZE, and the task's device (DEVICE_ID,
  // numbered among the visible ones).
  if (mine.count("ASCEND_RT_VISIBLE_DEVICES") > 0)
    task += "export RANK_ID=\"$RANK\" RANK_SIZE=\"$WORLD_SIZE\" DEVICE_ID=\"$LOCAL_RANK\"\n";
  task += devices + "exec \"$@\"";
  // sbatch --export=NONE is handed on to srun (SLURM_EXPORT_ENV): its tasks
  // get this script's environment only with --export=ALL.
  s += "exec srun --export=ALL --kill-on-bad-exit=1 /bin/bash -c " + ShellQuote(task) + " suanli-task" + command + "\n";
  return s;
}

std::vector<std::string> SbatchArgs(const LaunchRequest& req, const std::string& job_dir, const std::string& workdir,
                                    const std::string& gres_type, const std::string& partition, bool nodelist,
                                    int64_t shards_per_gpu) {
  const JobSpec& spec = req.spec;
  std::vector<std::string> a = {"--parsable",
                                "--export=NONE",
                                fmt::format("--job-name=suanli-{}", req.job_id),
                                "--output=" + job_dir + "/stdout",
                                "--error=" + job_dir + "/stderr",
                                "--chdir=" + workdir};
  // A multi-node gang: its nodes, one task per device on each (one per node
  // without devices), and each node's share of its devices, CPUs and memory.
  const int64_t nodes = std::max<int64_t>(1, spec.nodes);
  const int64_t per_node = static_cast<int64_t>(req.devices.size()) / nodes;
  const int64_t tasks = nodes > 1 ? std::max<int64_t>(1, per_node) : 1;
  a.push_back(fmt::format("--nodes={}", nodes));
  a.push_back(nodes > 1 ? fmt::format("--ntasks-per-node={}", tasks) : "--ntasks=1");
  if (nodelist && !req.node.empty()) a.push_back("--nodelist=" + req.node);
  if (spec.gpus.shared() && shards_per_gpu > 0) {
    const int64_t shards = (int64_t{spec.gpus.milli()} * shards_per_gpu + Gpus::kMilli - 1) / Gpus::kMilli;
    a.push_back(fmt::format("--gres=shard:{}", std::max<int64_t>(1, shards)));
  } else if (per_node > 0 && !gres_type.empty()) {
    a.push_back(fmt::format("--gres=gpu:{}:{}", gres_type, per_node));
  }
  int64_t cpus = std::max<int64_t>(1, (spec.cpu_milli + nodes * tasks * 1000 - 1) / (nodes * tasks * 1000));
  a.push_back(fmt::format("--cpus-per-task={}", cpus));
  if (spec.mem_mib > 0) a.push_back(fmt::format("--mem={}M", (spec.mem_mib + nodes - 1) / nodes));  // per node
  // A service's replica gets no --time: the partition's default (and
  // limit) applies.
  if (const int64_t limit = EnforcedTimeLimitS(spec); limit > 0)
    a.push_back(fmt::format("--time={}", (limit + 59) / 60));
  if (!partition.empty()) a.push_back("--partition=" + partition);
  return a;
}

}  // namespace suanli::live
