// Control groups for the local backend's jobs: every process of a job (those
// that called setsid included) lives in the job's cgroup, so that cancel and
// the time limit end all of them, and the job's CPU and memory requests are
// enforced by the kernel.
//
// Both layouts are supported:
//   v1  one hierarchy per controller (freezer, cpu, memory) — the job gets a
//       directory in each; it is killed by freezing it, sending SIGKILL to
//       every process listed, and thawing it (until it is empty).
//   v2  the unified hierarchy — one directory; killed through cgroup.kill
//       (Linux 5.14+), else like v1 without the freezer.
// The job's directories are PARENT/suanli-INSTANCE-job-ID, INSTANCE telling
// apart the servers of one machine (job ids are per server: two servers both
// have a job 1, and neither may take the other's cgroup for its own), PARENT being the configured
// `cgroup_parent` under the server's own cgroup (v1) or under the hierarchy's
// root (v2, where a cgroup with processes cannot also delegate controllers).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanli::live {

struct CgroupLayout {
  enum class Version : uint8_t { kNone, kV1, kV2 };
  Version version = Version::kNone;
  std::string v2_root;                           // v2: the cgroup2 mount point
  std::map<std::string, std::string> v1_mounts;  // v1: controller -> mount point (freezer, cpu, memory)
  std::map<std::string, std::string> self;       // v1: controller -> the server's own cgroup path ("/" ...)
};

// The layout from /proc/self/mounts and /proc/self/cgroup (texts given, for tests).
// v1 wins where both are mounted (hybrid: the controllers are on v1).
CgroupLayout ParseCgroupLayout(const std::string& mounts, const std::string& self_cgroup);
CgroupLayout DetectCgroupLayout();

// What a job's cgroups can do on this machine (found by trying: a directory is
// created under the parent and removed).
struct CgroupAbility {
  bool usable = false;  // the job's directories can be created and processes moved in
  bool kill = false;    // every process can be killed (v2 cgroup.kill or v1 freezer)
  bool cpu = false;     // cpu.max / cpu.cfs_quota_us
  bool memory = false;  // memory.max / memory.limit_in_bytes
  std::string why;      // when not usable: the reason
};

class JobCgroups {
 public:
  // `instance`: this server's tag in its jobs' cgroup names (empty: none).
  JobCgroups(CgroupLayout layout, std::string parent_name, std::string instance = "");

  const CgroupLayout& layout() const { return layout_; }
  // Tries it once (creates and removes a probe directory).
  CgroupAbility Probe();

  // Creates the job's directories and sets its limits (cpu_milli 0 / mem_mib 0:
  // none). Returns the directories, whose cgroup.procs the job's first process
  // writes itself into.
  Result<std::vector<std::string>> Create(int64_t job_id, int64_t cpu_milli, int64_t mem_mib);

 private:
  std::vector<std::string> Parents() const;
  CgroupLayout layout_;
  std::string parent_name_;
  std::string instance_;
};

// The processes in the directories (each listed once).
std::vector<pid_t> CgroupProcs(const std::vector<std::string>& dirs);
// Sends `sig` to each of them.
void SignalCgroup(const std::vector<std::string>& dirs, int sig);
// Kills every process in the directories (cgroup.kill, or freeze + SIGKILL +
// thaw); true when none is left within about `timeout_ms`.
bool KillCgroup(const std::vector<std::string>& dirs, int timeout_ms = 2000);
// Removes the directories; false if one is still busy (try again later).
bool RemoveCgroup(const std::vector<std::string>& dirs);

}  // namespace suanli::live
