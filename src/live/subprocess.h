// Runs a command (argv, no shell) with an environment, a working directory
// and a timeout, capturing its stdout and stderr. Used by the backends for
// sbatch / squeue / scontrol / scancel / sinfo and nvidia-smi.
//
// Safe in a multi-threaded process: the child is started with posix_spawn
// (nothing but async-signal-safe work between fork and exec), in its own
// process group, with stdin from /dev/null and every other descriptor of the
// server closed. A command that runs past its timeout gets SIGKILL (its whole
// process group) and is reported with timed_out = true.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanli::live {

struct SubprocessOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH
  std::map<std::string, std::string> env;  // set (or replace) in the server's environment
  std::vector<std::string> unset_env;      // removed from the server's environment
  std::string cwd;                         // empty = the server's
  int timeout_ms = 15000;                  // <= 0: no limit
  size_t max_output_bytes = 16 << 20;      // per stream; the rest is dropped (truncated = true)
  // When it becomes true, the command is killed as at its timeout (within
  // 200 ms) and reported with cancelled = true.
  const std::atomic<bool>* cancel = nullptr;
};

struct SubprocessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // terminating signal (SIGKILL after a timeout)
  bool timed_out = false;
  bool cancelled = false;
  bool truncated = false;
  std::string out, err;
  double wall_s = 0;
  bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
};

// Errors (NotFound: the program does not exist; IoError: it could not be
// started) only when the command could not run at all; a command that ran
// and failed or timed out is a result, described by Describe().
Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options);

// "exit 1: <first line of stderr>", "killed by SIGKILL", "no answer within 5 s".
std::string DescribeFailure(const SubprocessOptions& options, const SubprocessResult& r);

// "SIGKILL" for 9, "signal 77" when unnamed.
std::string SignalName(int sig);

// The environment `base` (KEY=VALUE strings, e.g. from environ) with `set`
// applied and `unset` removed, as KEY=VALUE strings.
std::vector<std::string> MergeEnvironment(const std::vector<std::string>& base,
                                          const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& unset = {});
// The process's environment as KEY=VALUE strings.
std::vector<std::string> CurrentEnvironment();

}  // namespace suanli::live
