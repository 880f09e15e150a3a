#include "live/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace suanli::live {
namespace {

using Clock = std::chrono::steady_clock;

struct SpawnAttrs {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string FirstLine(std::string_view s) {
  size_t start = s.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return "";
  s.remove_prefix(start);
  size_t nl = s.find('\n');
  std::string line(s.substr(0, nl));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

}  // namespace

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return fmt::format("signal {}", sig);
  return fmt::format("SIG{}", abbrev);
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

std::vector<std::string> MergeEnvironment(const std::vector<std::string>& base,
                                          const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& unset) {
  std::vector<std::string> out;
  out.reserve(base.size() + set.size());
  for (const std::string& kv : base) {
    size_t eq = kv.find('=');
    std::string key = kv.substr(0, eq);
    if (set.count(key) > 0) continue;
    bool drop = false;
    for (const std::string& u : unset) drop = drop || u == key;
    if (!drop) out.push_back(kv);
  }
  for (const auto& [k, v] : set) out.push_back(k + "=" + v);
  return out;
}

Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) return InvalidArgument("subprocess: empty command");
  const std::string& prog = options.argv[0];

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return IoError("{}: pipe: {}", prog, std::strerror(errno));
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return IoError("{}: pipe: {}", prog, std::strerror(errno));
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  std::vector<std::string> env = MergeEnvironment(CurrentEnvironment(), options.env, options.unset_env);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnAttrs sa;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&sa.attr, &none);
  posix_spawnattr_setsigdefault(&sa.attr, &all);
  posix_spawnattr_setpgroup(&sa.attr, 0);
  posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_addopen(&sa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&sa.actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&sa.actions, err_w.fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&sa.actions, options.cwd.c_str());

  auto start = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, prog.c_str(), &sa.actions, &sa.attr, argv.data(), envp.data());
  if (rc != 0) {
    if (rc == ENOENT && options.cwd.empty()) return NotFound("{}: command not found", prog);
    return IoError("{}: cannot start: {}{}", prog, std::strerror(rc),
                   options.cwd.empty() ? "" : fmt::format(" (working directory {})", options.cwd));
  }
  out_w.Close();
  err_w.Close();

  SubprocessResult r;
  auto deadline =
      options.timeout_ms > 0 ? start + std::chrono::milliseconds(options.timeout_ms) : Clock::time_point::max();
  bool reaped = false;
  int status = 0;
  Clock::time_point kill_time{};
  char buf[65536];
  while (true) {
    pollfd fds[2];
    int n = 0;
    if (out_r.fd >= 0) fds[n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) fds[n++] = {err_r.fd, POLLIN, 0};
    auto now = Clock::now();
    const bool cancelled = options.cancel != nullptr && options.cancel->load();
    if (!reaped && !r.timed_out && (now >= deadline || cancelled)) {
      r.timed_out = true;
      r.cancelled = cancelled;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      kill_time = now;
    }
    // After a kill, stop waiting for descendants that keep the pipes open.
    if (r.timed_out && now - kill_time > std::chrono::seconds(2)) {
      out_r.Close();
      err_r.Close();
      n = 0;
    }
    if (n == 0) {
      if (reaped) break;
      pid_t w = waitpid(pid, &status, r.timed_out ? 0 : WNOHANG);
      if (w == pid) {
        reaped = true;
        break;
      }
      if (w < 0 && errno != EINTR) break;  // not our child any more (SIGCHLD ignored): no status
      ::poll(nullptr, 0, 20);
      continue;
    }
    int wait_ms = 200;
    if (deadline != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      if (left >= 0 && left < wait_ms) wait_ms = static_cast<int>(left) + 1;
    }
    int pr = ::poll(fds, n, wait_ms);
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < n && pr > 0; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      bool is_out = fds[i].fd == out_r.fd;
      std::string& dst = is_out ? r.out : r.err;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        size_t room = dst.size() < options.max_output_bytes ? options.max_output_bytes - dst.size() : 0;
        if (static_cast<size_t>(got) > room) r.truncated = true;
        dst.append(buf, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        (is_out ? out_r : err_r).Close();
      }
    }
  }
  if (!reaped && r.timed_out) {
    // Pipes closed by a timeout: make sure the child is gone and reaped.
    kill(-pid, SIGKILL);
    if (waitpid(pid, &status, 0) == pid) reaped = true;
  }
  r.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (reaped) {
    if (WIFEXITED(status)) {
      r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      r.signal = WTERMSIG(status);
    }
  }
  return r;
}

std::string DescribeFailure(const SubprocessOptions& options, const SubprocessResult& r) {
  std::string prog = options.argv.empty() ? "command" : options.argv[0];
  if (r.cancelled) return fmt::format("{}: stopped (the server is stopping)", prog);
  if (r.timed_out) {
    return fmt::format("{}: no answer within {:.0f} s (killed)", prog, options.timeout_ms / 1000.0);
  }
  if (r.signal != 0) return fmt::format("{}: killed by {}", prog, SignalName(r.signal));
  std::string why = FirstLine(r.err);
  if (why.empty()) why = FirstLine(r.out);
  if (why.empty()) return fmt::format("{}: exit {}", prog, r.exit_code);
  return fmt::format("{}: exit {}: {}", prog, r.exit_code, why);
}

}  // namespace suanli::live
