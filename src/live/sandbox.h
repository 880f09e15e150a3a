// How the local backend isolates a job from the server and from other jobs,
// and what it cannot isolate on this machine (docs/security.md):
//
//   sandbox   bubblewrap (bwrap): new mount, PID and IPC namespaces; the whole
//             filesystem read-only, the server's data directory replaced by an
//             empty tmpfs, only the job's directory (and its declared
//             working directory) writable, a private /tmp.
//   uid       when the server runs as root, each job runs as a uid of its own
//             (job_uid_base + a free slot), without supplementary groups, so it
//             cannot open the server's files even where it can see them.
//   cgroups   every process of the job in its cgroup (cgroup.h).
//
// A mechanism that is missing degrades the isolation; the server logs one
// line at start naming what is NOT isolated, and still runs jobs.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "live/backend.h"
#include "live/cgroup.h"

namespace suanli::live {

// What this machine offers (detected once per local center; tests inject it).
struct IsolationCaps {
  bool root = false;         // the server's effective uid is 0
  uid_t uid = 0;             // the server's uid (for the log line)
  std::string bwrap;         // bwrap's path ("" = not installed)
  bool bwrap_works = false;  // a trial sandbox started
  std::string bwrap_error;   // why not
  CgroupAbility cgroups;
};

IsolationCaps DetectIsolationCaps(JobCgroups& cgroups);

// What the backend does for each job.
struct IsolationPlan {
  bool sandbox = false;   // bwrap
  bool drop_uid = false;  // a uid per job
  bool cgroups = false;
  bool cpu_limit = false, memory_limit = false;
  std::vector<std::string> missing;  // what is not isolated, in words
};

// Errors only where the configuration asks for a mechanism (sandbox: bwrap)
// that does not work here.
Result<IsolationPlan> PlanIsolation(const IsolationCaps& caps, const BackendConfig& config);

// The start-up line: "jobs are isolated: ..." or "jobs are NOT isolated: ...".
std::string DescribeIsolation(const IsolationPlan& plan);

// bwrap's arguments (its path first) for a job: `data_dir` hidden, `job_dir`
// and `workdir` writable, the accelerator device nodes found under /dev
// passed through. The command to run inside follows.
struct SandboxPaths {
  std::string data_dir, job_dir, workdir;
  bool root = false;  // the server is root: keep CAP_SETUID/CAP_SETGID for the uid change inside
  // The data roots of this machine's centers, hidden, but for the job's
  // dataset in one of them (read-only).
  std::vector<std::string> data_roots;
  std::string dataset_dir;
};
std::vector<std::string> BwrapArgs(const std::string& bwrap, const SandboxPaths& paths);

// `p` absolute, symbolic links resolved where they exist.
std::string CanonicalPath(const std::string& p);
// `path` is `dir` or below it (both canonical).
bool PathInside(const std::string& path, const std::string& dir);

// Accelerator device nodes of this machine (/dev/nvidia*, /dev/dri, /dev/davinci* ...).
std::vector<std::string> AcceleratorDeviceNodes(const std::string& dev = "/dev");

}  // namespace suanli::live
