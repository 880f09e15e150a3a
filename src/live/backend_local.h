// The local backend: a center's jobs run as processes on this machine.
//
// Each job runs under a supervisor of its own (local_supervisor.h), isolated
// as this machine allows (sandbox.h: a bubblewrap sandbox, a uid per job,
// cgroups). The supervisor writes the job's exit status to its control
// directory DATA/run/JOB_ID, out of the job's reach; the server can therefore
// be killed (even with SIGKILL) while jobs run, and a new server process
// re-adopts them from their backend id "PID:START" (the supervisor's pid and
// its start time in clock ticks from /proc/PID/stat, which guards against pid
// reuse). docs/backends.md describes the files and the failure handling,
// docs/security.md what a job can and cannot do.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "live/backend.h"
#include "live/gpu_detect.h"
#include "live/sandbox.h"

namespace suanli::live {

// This host's short name ("gpu01" for gpu01.example.org).
std::string ShortHostName();

// The local center's nodes, from what was detected: one node named `host`
// with the GPUs of the catalog model found (the node's devices are numbered
// 0..n-1 and map to `physical`, the nvidia-smi indices). When GPUs of several
// models are found, one node per model named "HOST-MODEL" (lowercase model),
// the CPUs split by device count. GPUs that match no model are left out.
// Without GPUs: one node `host` with slots x 1000 milli-CPUs (slots 0 = cores).
// With `nodes` K > 1, each of those is split into K nodes NAME-0 .. NAME-(K-1)
// with an even share of its devices (in nvidia-smi order; no more nodes than
// devices), CPUs and memory: one machine that runs multi-node gangs.
struct LocalNodePlan {
  BackendNode node;
  std::vector<int> physical;  // node device i = nvidia-smi index physical[i]
};
std::vector<LocalNodePlan> PlanLocalNodes(const std::string& host, const std::vector<DetectedGpu>& gpus, int slots,
                                          int cores, int64_t mem_mib, int nodes = 1);

// Builds a local backend (see MakeBackend in backend.h). With
// `recorded_nvidia_smi`, that text stands for nvidia-smi's output instead of
// running it (tests of GPU hosts on machines without GPUs). With `caps`, what
// the machine offers for isolation is taken from it instead of detected
// (tests of the degraded modes). Logs one line saying how jobs are isolated
// and what is NOT.
Result<std::unique_ptr<Backend>> MakeLocalBackend(const BackendConfig& config, const std::string& center,
                                                  const std::string& data_dir, const Catalog& catalog,
                                                  std::optional<std::string> recorded_nvidia_smi = std::nullopt,
                                                  std::optional<IsolationCaps> caps = std::nullopt);

}  // namespace suanli::live
