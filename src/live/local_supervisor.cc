#include "live/local_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/strings.h"
#include "live/job_env.h"

namespace suanli::live {
namespace fs = std::filesystem;
Result<std::string> SupervisorProgram() {
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Unavailable("cannot find the running program (/proc/self/exe): {}", ec.message());
  // Started through /proc/self/exe (SpawnSupervisor): the running file
  // itself, even where its directory is closed to this uid or the file was
  // replaced since.
  if (::access("/proc/self/exe", X_OK) != 0) {
    return Unavailable("the running program {} cannot be started again: {}", self, std::strerror(errno));
  }
  return self;
}

Result<pid_t> SpawnSupervisor(const SupervisorLaunch& l) {
  std::string uid = l.uid >= 0 ? std::to_string(l.uid) : "-", gid = l.gid >= 0 ? std::to_string(l.gid) : "-";
  const bool sandbox = !l.sandbox.empty();
  std::vector<std::string> args = {l.program, std::string(kSupervisorArg), l.ctl_dir, std::to_string(l.cgroups.size())};
  args.insert(args.end(), l.cgroups.begin(), l.cgroups.end());
  args.insert(args.end(), {sandbox ? "-" : uid, sandbox ? "-" : gid, sandbox ? "1" : "0"});
  if (sandbox) {
    args.insert(args.end(), l.sandbox.begin(), l.sandbox.end());
    args.insert(args.end(), {"/proc/self/fd/" + std::to_string(kReaperProgramFd), std::string(kReaperArg), uid, gid});
  }
  args.insert(args.end(), l.command.begin(), l.command.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The trusted processes' own environment: fixed, nothing of the server's or the job's.
  std::vector<std::string> env = {"PATH=" + std::string(kJobPath), "LANG=C"};
  std::vector<char*> envp;
  for (std::string& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_init(&fa);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, l.stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, l.stderr_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawn_file_actions_addchdir_np(&fa, sandbox ? "/" : l.workdir.c_str());
  pid_t pid = -1;
  // The child's /proc/self/exe is still this process's binary when it execs
  // it (argv[0] names its path).
  int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return IoError("cannot start its supervisor ({}): {}", l.program, std::strerror(rc));
  return pid;
}

std::optional<ProcStat> ReadProcStat(int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  // Fields after the name: 3 state, 4 ppid, 5 pgrp, 6 session, ... 22 starttime.
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok && f.size() < 20) f.push_back(tok);
  if (f.size() < 20) return std::nullopt;
  ProcStat s;
  s.state = f[0].empty() ? '?' : f[0][0];
  auto pgrp = ParseInt(f[2]), session = ParseInt(f[3]), start = ParseInt(f[19]);
  if (!pgrp || !session || !start) return std::nullopt;
  s.pgrp = *pgrp;
  s.session = *session;
  s.start_ticks = static_cast<uint64_t>(*start);
  return s;
}

std::optional<ParsedStatus> ParseStatusFile(const std::string& text) {
  std::string_view t = Trim(text);
  ParsedStatus s;
  s.text = std::string(t);
  auto num = [&](std::string_view prefix) -> std::optional<int64_t> {
    if (t.substr(0, prefix.size()) != prefix) return std::nullopt;
    return ParseInt(t.substr(prefix.size()));
  };
  if (auto code = num("exit "); code && *code >= 0 && *code <= 255) {
    s.exit_code = static_cast<int>(*code);
    return s;
  }
  if (auto sig = num("signal "); sig && *sig > 0 && *sig < 128) {
    s.signal = static_cast<int>(*sig);
    return s;
  }
  if (t.substr(0, 5) == "lost:") {
    s.lost = true;
    return s;
  }
  return std::nullopt;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Writes `text` to `path` atomically (temporary file, then rename), owner-only.
Status WriteFileAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("{}: cannot write: {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return IoError("{}: cannot write: {}", tmp, std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return IoError("{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  }
  return Status::Ok();
}

int64_t FileMtimeMs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

// Opens (creates) a job's log for appending, as a plain file only: a symbolic
// link, FIFO or device the job left in its directory is replaced.
Result<int> OpenLog(const std::string& path, int64_t uid, int64_t gid) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      ::fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
      if (uid >= 0 && ::fchown(fd, static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
        int e = errno;
        ::close(fd);
        return IoError("{}: cannot give it to uid {}: {}", path, uid, std::strerror(e));
      }
      return fd;
    }
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
  }
  return IoError("{}: cannot open: {}", path, std::strerror(errno));
}

// Gives the job's directory (and, if it belonged to another uid, what is in it)
// to uid:gid, mode 0711: others (the sandbox's setup, root without
// capabilities) may enter it, not list it.
void GiveDirectory(const std::string& dir, int64_t uid, int64_t gid) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  auto u = static_cast<uid_t>(uid);
  auto g = static_cast<gid_t>(gid);
  if (st.st_uid != u || st.st_gid != g) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      (void)::lchown(it->path().c_str(), u, g);
    }
    (void)::lchown(dir.c_str(), u, g);
  }
  ::chmod(dir.c_str(), 0711);
}

}  // namespace suanli::live
