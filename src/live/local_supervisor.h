// The local backend's per-job supervisor and the files it keeps.
//
// Each job runs under a supervisor of its own: this same binary, started
// again (posix_spawn of /proc/self/exe, in a new session, as the server's
// user, with a fixed environment of its own) with kSupervisorArg first. The
// supervisor
//   1. forks; the child makes its own process group, writes itself into the
//      job's cgroups, and runs the job: directly, or inside a bubblewrap
//      sandbox through a "reaper" (the binary again, with kReaperArg) that is
//      the parent of the command inside the sandbox and reports its wait
//      status on fd 3;
//   2. the job's environment is read from CTL/env (NUL-separated KEY=VALUE)
//      by the last trusted process, after it has become the job's uid, so no
//      variable of the job (LD_PRELOAD ...) reaches a trusted one;
//   3. writes the group to CTL/pgid, waits, kills what is left of the job
//      (its process group and cgroups), then writes "exit N" / "signal N"
//      atomically to CTL/status.
// CTL is the job's control directory, DATA/run/JOB_ID (0700, the server's):
// the job can neither see nor write it. Its stdout and stderr stay in the
// job's directory.
//
// Every program that may run a local backend calls
// RunLocalSupervisorIfAsked first thing in main().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanli::live {

// The first argument that makes the binary a job's supervisor, or its
// reaper inside the sandbox.
inline constexpr std::string_view kSupervisorArg = "--suanli-job-supervisor";
inline constexpr std::string_view kReaperArg = "--suanli-job-reaper";
// Inside the sandbox the reaper is started as /proc/self/fd/5: the
// supervisor opens its own binary (/proc/self/exe) on fd 5 for bwrap, so no
// path to the binary need exist, or be open to the job's uid, in the sandbox.
inline constexpr int kReaperProgramFd = 5;

// If argv[1] is kSupervisorArg or kReaperArg, runs that part and never
// returns (local_supervisor_main.cc); otherwise returns at once.
void RunLocalSupervisorIfAsked(int argc, char** argv);

// The running binary's path, the supervisor's argv[0] (it is started through
// /proc/self/exe: the running file itself, whatever its directory's modes).
Result<std::string> SupervisorProgram();

struct SupervisorLaunch {
  std::string program;               // SupervisorProgram()
  std::string ctl_dir;               // status, pgid, env
  std::string workdir;               // the supervisor's working directory (the job's, outside a sandbox)
  std::vector<std::string> cgroups;  // directories the job's processes join
  std::vector<std::string> sandbox;  // bwrap's arguments up to "--" (empty: no sandbox)
  int64_t uid = -1, gid = -1;        // the job's uid / gid (-1: the server's)
  std::vector<std::string> command;
  int stdout_fd = -1, stderr_fd = -1;  // the job's logs, opened by the server
};

// Starts the supervisor; returns its pid.
Result<pid_t> SpawnSupervisor(const SupervisorLaunch& launch);

// Fields of /proc/PID/stat that matter here.
struct ProcStat {
  char state = '?';
  int64_t pgrp = 0, session = 0;
  uint64_t start_ticks = 0;
};
std::optional<ProcStat> ReadProcStat(int64_t pid);

// The supervisor's status line.
struct ParsedStatus {
  int exit_code = -1;
  int signal = 0;
  bool lost = false;
  std::string text;
};
std::optional<ParsedStatus> ParseStatusFile(const std::string& text);

// ---- the job's and the supervisor's files

std::optional<std::string> ReadSmallFile(const std::string& path);
// Writes `text` to `path` atomically (a temporary file, then rename), mode
// 0600, never through a link.
Status WriteFileAtomic(const std::string& path, const std::string& text);
// Modification time in Unix milliseconds (0: none).
int64_t FileMtimeMs(const std::string& path);
// Opens (creates) a job's log for appending, as a plain file only: a link,
// FIFO or device the job left in its place is replaced. Given to uid:gid
// when uid >= 0. The descriptor is close-on-exec.
Result<int> OpenLog(const std::string& path, int64_t uid, int64_t gid);
// Gives the job's directory to uid:gid, mode 0711 (others may enter it, not
// list it); what is in it too when it belonged to another uid.
void GiveDirectory(const std::string& dir, int64_t uid, int64_t gid);

}  // namespace suanli::live
