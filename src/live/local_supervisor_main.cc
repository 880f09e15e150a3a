// The local backend's supervisor and reaper: this same binary, started by
// SpawnSupervisor with kSupervisorArg or (inside the sandbox) kReaperArg as
// its first argument. What they do, step by step, is in local_supervisor.h.
//
// Both run in a process of their own (never a thread of the server), so they
// use fork, exec and _exit freely; they end with _exit so that nothing of
// the program's own exit handlers (a leak checker's, say) runs in them.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "live/cgroup.h"
#include "live/job_env.h"
#include "live/local_supervisor.h"

extern char** environ;

namespace suanli::live {
namespace {

// Messages go to stderr, which is the job's log.
void Say(const std::string& text) {
  std::string line = "suanli: " + text + "\n";
  (void)!::write(2, line.data(), line.size());
}

[[noreturn]] void Fail(const std::string& text) {
  Say(text);
  ::_exit(127);
}

bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes `text` to an existing file (a cgroup's control file).
bool WriteTo(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = WriteAll(fd, text);
  return ::close(fd) == 0 && ok;
}

std::string ReadFd(int fd, size_t limit) {
  std::string text;
  char buf[4096];
  while (text.size() < limit) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// CTL/NAME, atomically (WriteFileAtomic: a temporary file, then rename).
bool Put(const std::string& ctl, const std::string& name, const std::string& text) {
  return WriteFileAtomic(ctl + "/" + name, text).ok();
}

std::string WaitLine(int status) {
  return WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                             : "exit " + std::to_string(WEXITSTATUS(status));
}

pid_t WaitFor(pid_t pid, int* status) {
  pid_t w;
  do {
    w = ::waitpid(pid, status, 0);
  } while (w == -1 && errno == EINTR);
  return w;
}

// Runs `command` (found on the PATH of `env`) with the environment `env`.
[[noreturn]] void Exec(std::vector<std::string>& env, std::vector<std::string>& command) {
  std::vector<char*> argv, envp;
  for (std::string& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  environ = envp.data();  // execvp searches the job's PATH
  ::execvp(argv[0], argv.data());
  Fail("cannot run " + command[0] + ": " + std::strerror(errno));
}

// A gang's launcher (the job's uid, in the job's process group): one process
// per task, each with the job's environment and its own variables on top
// (job_env.h). A signal to the job's group reaches every task; the launcher
// only notes it (a handler, which exec resets in the tasks). A task that
// fails ends the others (SIGKILL), unless the job is being stopped (SIGTERM,
// SIGINT, SIGHUP, SIGQUIT came), when each task is left to end in its own
// time, as the server's grace period allows. The launcher ends as the first
// failed task did (the same exit code or signal), or with 0.
volatile sig_atomic_t g_stopping = 0;
void NoteSignal(int sig) {
  if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) g_stopping = 1;
}

[[noreturn]] void RunGang(const std::vector<std::string>& env, const std::vector<std::vector<std::string>>& tasks,
                          std::vector<std::string>& command) {
  struct sigaction note {};
  note.sa_handler = NoteSignal;
  sigemptyset(&note.sa_mask);
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE})
    (void)::sigaction(s, &note, nullptr);
  std::vector<pid_t> pids;
  auto kill_all = [&] {
    for (pid_t p : pids)
      if (p > 0) ::kill(p, SIGKILL);
  };
  for (const std::vector<std::string>& own : tasks) {
    pid_t pid = ::fork();
    if (pid < 0) {
      Say(std::string("cannot start the gang's task ") + std::to_string(pids.size()) + ": " + std::strerror(errno));
      kill_all();
      ::_exit(127);
    }
    if (pid == 0) {
      std::vector<std::string> mine = env;
      for (const std::string& kv : own) {
        const std::string_view key(kv.data(), kv.find('='));
        auto same = std::find_if(mine.begin(), mine.end(), [&](const std::string& e) {
          return e.size() > key.size() && e[key.size()] == '=' && std::string_view(e).substr(0, key.size()) == key;
        });
        if (same != mine.end()) {
          *same = kv;
        } else {
          mine.push_back(kv);
        }
      }
      Exec(mine, command);
    }
    pids.push_back(pid);
  }
  int first = 0;
  bool failed = false;
  for (size_t left = pids.size(); left > 0;) {
    int status = 0;
    pid_t w = ::waitpid(-1, &status, 0);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = std::find(pids.begin(), pids.end(), w);
    if (it == pids.end()) continue;
    *it = 0;
    --left;
    if ((WIFSIGNALED(status) || WEXITSTATUS(status) != 0) && !failed) {
      failed = true;
      first = status;
      if (g_stopping == 0) {
        Say("task " + std::to_string(it - pids.begin()) + " ended (" + WaitLine(status) +
            "): ending the gang's other tasks");
        kill_all();
      }
    }
  }
  if (!failed) ::_exit(0);
  if (WIFSIGNALED(first)) {
    const int sig = WTERMSIG(first);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    ::_exit(128 + sig);
  }
  ::_exit(WEXITSTATUS(first));
}

// Runs the job from a trusted process: reads its environment (NUL-separated
// KEY=VALUE from env_fd, then a gang's tasks, each after kTaskMark), restores
// the default signal handling, becomes its uid/gid ("-": unchanged) with no
// supplementary group but its own, then execs the command (found on the
// job's PATH), or a gang's launcher.
[[noreturn]] void RunJob(const std::string& uid, const std::string& gid, int env_fd, std::vector<std::string> command) {
  std::string text = ReadFd(env_fd, 64 << 20);
  ::close(env_fd);
  std::vector<std::string> env;
  std::vector<std::vector<std::string>> tasks;
  for (std::string_view kv : Split(text, '\0')) {
    if (kv == kTaskMark) {
      tasks.emplace_back();
      continue;
    }
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos && eq > 0) (tasks.empty() ? env : tasks.back()).emplace_back(kv);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) (void)::sigaction(s, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (uid != "-") {
    auto u = ParseInt(uid), g = ParseInt(gid);
    if (!u || !g || *u < 0 || *g < 0) Fail("bad uid/gid '" + uid + "'/'" + gid + "'");
    auto want_u = static_cast<uid_t>(*u);
    auto want_g = static_cast<gid_t>(*g);
    bool ok = ::setgroups(1, &want_g) == 0 && ::setresgid(want_g, want_g, want_g) == 0 &&
              ::setresuid(want_u, want_u, want_u) == 0;
    uid_t ru = 0, eu = 0, su = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    gid_t groups[2] = {};
    int n = ::getgroups(2, groups);
    ok = ok && ::getresuid(&ru, &eu, &su) == 0 && ::getresgid(&rg, &eg, &sg) == 0 && ru == want_u && eu == want_u &&
         su == want_u && rg == want_g && eg == want_g && sg == want_g && n == 1 && groups[0] == want_g;
    if (!ok) Fail("cannot become uid " + uid + ": " + std::strerror(errno));
  }
  if (!tasks.empty()) RunGang(env, tasks, command);
  Exec(env, command);
}

// Arguments: CTL N CGROUP_DIR... UID GID SANDBOX COMMAND... (SANDBOX 1: the
// command is bwrap's, ending with the reaper's).
[[noreturn]] void Supervise(const std::vector<std::string>& args) {
  size_t i = 0;
  auto next = [&]() -> const std::string& {
    if (i >= args.size()) Fail("supervisor: too few arguments");
    return args[i++];
  };
  const std::string& ctl = next();
  auto n = ParseInt(next());
  if (!n || *n < 0 || static_cast<size_t>(*n) > args.size()) Fail("supervisor: bad cgroup count");
  std::vector<std::string> cgroups;
  for (int64_t k = 0; k < *n; ++k) cgroups.push_back(next());
  const std::string& uid = next();
  const std::string& gid = next();
  const bool sandbox = next() == "1";
  std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (command.empty()) Fail("supervisor: no command");
  (void)::prctl(PR_SET_NAME, "suanli-superv", 0, 0, 0);

  int pipe_fd[2] = {-1, -1};
  if (sandbox && ::pipe2(pipe_fd, O_CLOEXEC) != 0) {
    Say(std::string("pipe: ") + std::strerror(errno));
    Put(ctl, "status", "exit 127\n");
    ::_exit(1);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    Say(std::string("cannot fork: ") + std::strerror(errno));
    Put(ctl, "status", "exit 127\n");
    ::_exit(1);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    const std::string self = std::to_string(::getpid()) + "\n";
    for (const std::string& d : cgroups) {
      if (!WriteTo(d + "/cgroup.procs", self)) Say("cannot join cgroup " + d + ": " + std::strerror(errno));
    }
    int env_fd = ::open((ctl + "/env").c_str(), O_RDONLY | O_CLOEXEC);
    if (env_fd < 0) Fail(std::string("cannot read the job's environment: ") + std::strerror(errno));
    if (!sandbox) RunJob(uid, gid, env_fd, command);
    // bwrap, with the reaper's status pipe on fd 3, the environment on fd 4
    // and this binary, which the reaper runs from, on kReaperProgramFd.
    int program = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (program < 0) Fail(std::string("cannot open this program for the sandbox: ") + std::strerror(errno));
    if (::dup2(pipe_fd[1], 3) < 0 || ::dup2(env_fd, 4) < 0 || ::dup2(program, kReaperProgramFd) < 0)
      Fail(std::string("dup2: ") + std::strerror(errno));
    for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2}) ::signal(s, SIG_IGN);
    std::vector<char*> argv;
    for (std::string& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    Fail("cannot run " + command[0] + ": " + std::strerror(errno));
  }
  if (sandbox) ::close(pipe_fd[1]);
  ::setpgid(pid, pid);
  Put(ctl, "pgid", std::to_string(pid) + "\n");
  int status = 0;
  pid_t w = WaitFor(pid, &status);
  std::string err = std::strerror(errno);
  ::kill(-pid, SIGKILL);
  (void)KillCgroup(cgroups);
  std::string line = w != pid ? "lost: " + err : WaitLine(status);
  if (sandbox && w == pid) {
    // The reaper's exact status, if it wrote one (bwrap reports a signal as 128+N).
    ::fcntl(pipe_fd[0], F_SETFL, ::fcntl(pipe_fd[0], F_GETFL) | O_NONBLOCK);
    char buf[64];
    ssize_t got = ::read(pipe_fd[0], buf, sizeof buf);
    std::string_view r(buf, got > 0 ? static_cast<size_t>(got) : 0);
    size_t nl = r.find('\n');
    std::string_view head = nl == std::string_view::npos ? std::string_view() : r.substr(0, nl);
    for (std::string_view prefix : {std::string_view("exit "), std::string_view("signal ")}) {
      std::string_view digits = head.substr(0, prefix.size()) == prefix ? head.substr(prefix.size()) : "";
      if (!digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string_view::npos) {
        line = std::string(head);
      }
    }
  }
  ::_exit(Put(ctl, "status", line + "\n") ? 0 : 1);
}

// Inside the sandbox. Arguments: UID GID COMMAND...; fd 3: where its wait
// status goes; fd 4: the job's environment.
[[noreturn]] void Reap(const std::vector<std::string>& args) {
  if (args.size() < 3) Fail("reaper: too few arguments");
  (void)::prctl(PR_SET_NAME, "suanli-reaper", 0, 0, 0);
  for (int fd : {3, 4, kReaperProgramFd}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  pid_t pid = ::fork();
  if (pid < 0) Fail(std::string("cannot fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(3);
    RunJob(args[0], args[1], 4, std::vector<std::string>(args.begin() + 2, args.end()));
  }
  ::close(4);
  int status = 0;
  if (WaitFor(pid, &status) != pid) ::_exit(127);
  WriteAll(3, WaitLine(status) + "\n");
  ::_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

}  // namespace

void RunLocalSupervisorIfAsked(int argc, char** argv) {
  if (argc < 2) return;
  std::string_view role = argv[1];
  if (role != kSupervisorArg && role != kReaperArg) return;
  std::vector<std::string> args(argv + 2, argv + argc);
  if (role == kSupervisorArg) Supervise(args);
  Reap(args);
}

}  // namespace suanli::live
