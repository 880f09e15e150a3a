// suanli sweep: run a grid of simulations (network x dispatch x policy x scale
// x seed), each one a `suanli sim` process, on the local cores or as a Slurm
// job array, and gather their summary.json files into one table. See
// docs/sweep.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "commands.h"
#include "sim/sweep.h"

namespace suanli::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SweepArgs {
  std::string networks, dispatches, policies, scales, seeds, workload, out;
  unsigned parallel = 0;
  bool slurm = false;
  std::string slurm_conf, partition;
  int slurm_timeout_s = 24 * 3600;
  std::vector<std::string> sbatch_args;
  std::string metrics;
  bool quiet = false;
  std::vector<std::string> extra;
};

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "suanli sweep: %s\n", msg.c_str());
  return code;
}

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The last `n` lines of a text, each indented.
std::string TailLines(const std::string& text, size_t n, const std::string& indent = "    ") {
  std::vector<std::string> lines;
  for (auto l : Split(text, '\n'))
    if (!Trim(l).empty()) lines.emplace_back(l);
  size_t from = lines.size() > n ? lines.size() - n : 0;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) out += indent + lines[i] + "\n";
  return out;
}

std::string CommandText(const std::string& bin, const std::vector<std::string>& args) {
  std::string s = bin;
  for (const auto& a : args) {
    bool plain = !a.empty() && a.find_first_of(" \t'\"$\\;&|<>()*?![]{}~`") == std::string::npos;
    s += " " + (plain ? a : "'" + a + "'");
  }
  return s;
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (auto dir : Split(path ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string p = std::string(dir) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

std::vector<char*> Argv(const std::string& bin, const std::vector<std::string>& args) {
  std::vector<char*> v;
  v.push_back(const_cast<char*>(bin.c_str()));
  for (const auto& a : args) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

// Runs a command with a time limit and captures stdout and stderr together.
struct CommandResult {
  int code = -1;  // exit status; -1 when killed or not started
  bool timed_out = false;
  std::string out;
};
CommandResult RunCommand(const std::vector<std::string>& cmd, int timeout_s) {
  CommandResult r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.out = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  std::vector<std::string> rest(cmd.begin() + 1, cmd.end());
  auto argv = Argv(cmd[0], rest);
  pid_t pid = fork();
  if (pid < 0) {
    r.out = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    r.out.append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!r.timed_out && WIFEXITED(status)) r.code = WEXITSTATUS(status);
  return r;
}

// What happened to one point.
struct Outcome {
  bool ok = false;
  std::string why;  // for a failed point: exit status or Slurm state
};

std::string ReportFailure(const std::string& dir, const SweepPoint& p, const std::string& bin,
                          const std::vector<std::string>& args, const Outcome& o, const std::string& extra_log) {
  std::string log_path = dir + "/runs/" + p.id + "/log";
  std::string tail = TailLines(ReadAll(log_path), 12);
  std::string s = fmt::format("point {} failed ({})\n  command: {}\n", p.id, o.why, CommandText(bin, args));
  if (!tail.empty()) s += fmt::format("  {} ends:\n{}", log_path, tail);
  else s += fmt::format("  {} is empty or missing\n", log_path);
  if (!extra_log.empty()) {
    std::string t = TailLines(ReadAll(extra_log), 8);
    if (!t.empty()) s += fmt::format("  {} ends:\n{}", extra_log, t);
  }
  return s;
}

// ---- local mode: fork/exec, at most `parallel` at once --------------------------

std::vector<Outcome> RunLocal(const std::string& dir, const std::string& bin, const std::vector<SweepPoint>& points,
                              const std::vector<std::vector<std::string>>& args, unsigned parallel, bool quiet) {
  std::vector<Outcome> out(points.size());
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0;
  bool tty = !quiet && isatty(STDERR_FILENO);
  auto launch = [&](size_t i) {
    std::string log = dir + "/runs/" + points[i].id + "/log";
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      out[i].why = fmt::format("cannot write '{}': {}", log, std::strerror(errno));
      ++done;
      return;
    }
    auto argv = Argv(bin, args[i]);
    pid_t pid = fork();
    if (pid < 0) {
      out[i].why = fmt::format("fork: {}", std::strerror(errno));
      close(fd);
      ++done;
      return;
    }
    if (pid == 0) {
      int null = open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, 0);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(bin.c_str(), argv.data());
      std::fprintf(stderr, "cannot run %s: %s\n", bin.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(fd);
    running[pid] = i;
  };
  while (next < points.size() || !running.empty()) {
    while (next < points.size() && running.size() < parallel) launch(next++);
    if (running.empty()) continue;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    size_t i = it->second;
    running.erase(it);
    ++done;
    std::error_code ec;
    bool summary = fs::exists(dir + "/runs/" + points[i].id + "/summary.json", ec);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && summary) {
      out[i].ok = true;
    } else if (WIFEXITED(status)) {
      out[i].why =
          WEXITSTATUS(status) == 0 ? "exit 0 but no summary.json" : fmt::format("exit {}", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      out[i].why = fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    if (!out[i].ok) {
      if (tty) std::fputs("\r\033[K", stderr);
      std::fputs(("suanli sweep: " + ReportFailure(dir, points[i], bin, args[i], out[i], "")).c_str(), stderr);
    }
    if (tty) {
      std::fprintf(stderr, "\r\033[Ksuanli sweep: %zu/%zu points done", done, points.size());
      std::fflush(stderr);
    }
  }
  if (tty) std::fputs("\r\033[K", stderr);
  return out;
}

// ---- Slurm mode: one job array, polled with squeue -------------------------------

bool ActiveState(const std::string& s) {
  static const std::set<std::string> active = {"PENDING",   "RUNNING",     "CONFIGURING",  "COMPLETING", "SUSPENDED",
                                               "REQUEUED",  "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING",   "SIGNALING",
                                               "STAGE_OUT", "STOPPED",     "RESV_DEL_HOLD"};
  return active.count(s) > 0;
}

// Controller health: `scontrol ping` answers at once, also when slurmctld is down.
bool ControllerUp(std::string* text) {
  auto r = RunCommand({"scontrol", "ping"}, 15);
  if (text) *text = std::string(Trim(r.out.substr(0, r.out.find('\n'))));
  return r.code == 0 && r.out.find("UP") != std::string::npos;
}

int RunSlurm(const SweepArgs& a, const std::string& dir, const std::string& bin, const std::vector<SweepPoint>& points,
             const std::vector<std::vector<std::string>>& args, std::vector<Outcome>* outcomes) {
  if (!a.slurm_conf.empty()) {
    std::error_code ec;
    fs::path conf = fs::absolute(a.slurm_conf, ec);
    if (ec || !fs::is_regular_file(conf, ec))
      return Fail(2, fmt::format("--slurm-conf '{}': no such file", a.slurm_conf));
    setenv("SLURM_CONF", conf.c_str(), 1);
  } else if (!std::getenv("SLURM_CONF") && !fs::exists("/etc/slurm/slurm.conf")) {
    return Fail(2,
                "no Slurm configuration: pass --slurm-conf or set SLURM_CONF (scripts/slurm/start.sh starts a local "
                "cluster and writes one)");
  }
  std::vector<std::string> missing;
  for (const char* c : {"sbatch", "squeue", "scontrol", "scancel"})
    if (FindInPath(c).empty()) missing.push_back(c);
  if (!missing.empty())
    return Fail(1, fmt::format("Slurm's client commands are missing ({}): install them with scripts/install-deps.sh",
                               Join(missing, ", ")));
  std::string ping;
  if (!ControllerUp(&ping))
    return Fail(1, fmt::format("slurmctld does not answer (SLURM_CONF={}): scontrol ping says: {}",
                               std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF") : "/etc/slurm/slurm.conf",
                               ping.empty() ? "nothing" : ping));

  auto tsv = SweepPointsTsv(points, args);
  if (!tsv.ok()) return Fail(2, tsv.status().message());
  SbatchOptions so;
  so.dir = dir;
  std::error_code ec;
  so.workdir = fs::current_path(ec).string();
  so.binary = bin;
  so.points = points.size();
  so.max_parallel = a.parallel;
  so.partition = a.partition;
  so.sbatch_args = a.sbatch_args;
  auto script = SweepSbatchScript(so);
  if (!script.ok()) return Fail(2, script.status().message());
  fs::create_directories(dir + "/slurm", ec);
  for (auto* f : {&*tsv, &*script}) {
    std::string path = dir + (f == &*tsv ? "/points.tsv" : "/sweep.sbatch");
    std::ofstream o(path, std::ios::binary);
    o << *f;
    if (!o.good()) return Fail(1, fmt::format("cannot write '{}'", path));
  }

  auto sub = RunCommand({"sbatch", "--parsable", dir + "/sweep.sbatch"}, 60);
  std::string job(Trim(sub.out.substr(0, sub.out.find(';'))));
  if (sub.code != 0 || job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
    return Fail(1, fmt::format("sbatch {}/sweep.sbatch failed{}: {}", dir, sub.timed_out ? " (timed out)" : "",
                               std::string(Trim(sub.out))));
  if (!a.quiet)
    std::fprintf(stderr, "suanli sweep: Slurm job array %s, %zu tasks (cancel with: scancel %s)\n", job.c_str(),
                 points.size(), job.c_str());

  // Poll until no task is pending or running.
  std::map<size_t, std::string> last_state;  // task index -> last state seen
  auto start = Clock::now();
  auto down_since = Clock::time_point();
  bool tty = !a.quiet && isatty(STDERR_FILENO);
  int interval_ms = 250;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    interval_ms = std::min(interval_ms * 2, 2000);
    if (a.slurm_timeout_s > 0 && Clock::now() - start > std::chrono::seconds(a.slurm_timeout_s)) {
      RunCommand({"scancel", job}, 30);
      return Fail(1, fmt::format("Slurm job {} did not finish within {} s (--slurm-timeout); cancelled it", job,
                                 a.slurm_timeout_s));
    }
    auto q = RunCommand({"squeue", "-j", job, "-h", "-t", "all", "-o", "%i %T"}, 20);
    if (q.code != 0 || q.timed_out) {
      if (q.out.find("Invalid job id") != std::string::npos) break;  // aged out of the controller: all ended
      std::string why;
      if (!ControllerUp(&why)) {
        if (down_since == Clock::time_point()) down_since = Clock::now();
        if (Clock::now() - down_since > std::chrono::seconds(120))
          return Fail(1, fmt::format("slurmctld stopped answering while job {} ran: {}", job, why));
      }
      continue;
    }
    down_since = Clock::time_point();
    size_t active = 0, ended = 0;
    for (auto line : Split(q.out, '\n')) {
      line = Trim(line);
      if (line.empty()) continue;
      auto sp = line.find(' ');
      std::string id(line.substr(0, sp)), state(sp == std::string_view::npos ? "" : Trim(line.substr(sp + 1)));
      if (ActiveState(state)) {
        ++active;
        continue;
      }
      ++ended;
      auto us = id.find('_');
      if (us == std::string::npos) continue;
      auto idx = ParseInt(std::string_view(id).substr(us + 1));
      if (idx && *idx >= 0) last_state[static_cast<size_t>(*idx)] = state;
    }
    if (tty) {
      std::fprintf(stderr, "\r\033[Ksuanli sweep: job %s: %zu of %zu tasks ended", job.c_str(), last_state.size(),
                   points.size());
      std::fflush(stderr);
    }
    if (active == 0) break;
  }
  if (tty) std::fputs("\r\033[K", stderr);

  outcomes->assign(points.size(), Outcome{});
  for (size_t i = 0; i < points.size(); ++i) {
    auto& o = (*outcomes)[i];
    std::error_code e;
    o.ok = fs::exists(dir + "/runs/" + points[i].id + "/summary.json", e);
    if (o.ok) continue;
    auto it = last_state.find(points[i].index);
    o.why = fmt::format("Slurm task {}_{} {}, no summary.json", job, points[i].index,
                        it == last_state.end() ? "ended" : it->second);
    std::string slurm_out = fmt::format("{}/slurm/{}_{}.out", dir, job, points[i].index);
    std::fputs(("suanli sweep: " + ReportFailure(dir, points[i], bin, args[i], o, slurm_out)).c_str(), stderr);
  }
  return 0;
}

int RunSweep(const SweepArgs& a) {
  auto t0 = Clock::now();
  if (a.out.empty()) return Fail(2, "--out DIR is required (the sweep writes runs/, sweep.csv and sweep.json there)");
  SweepGrid grid;
  auto list = [](const char* flag, const std::string& text, std::vector<std::string>* v) -> Status {
    if (text.empty()) return Status::Ok();
    auto r = ParseSweepList(flag, text);
    if (!r.ok()) return r.status();
    *v = std::move(r).value();
    return Status::Ok();
  };
  for (const auto& st :
       {list("--network", a.networks, &grid.networks), list("--dispatch", a.dispatches, &grid.dispatches),
        list("--policy", a.policies, &grid.policies)})
    if (!st.ok()) return Fail(2, st.message());
  if (!a.scales.empty()) {
    auto r = ParseSweepScales(a.scales);
    if (!r.ok()) return Fail(2, r.status().message());
    grid.scales = std::move(r).value();
  }
  if (!a.seeds.empty()) {
    auto r = ParseSweepSeeds(a.seeds);
    if (!r.ok()) return Fail(2, r.status().message());
    grid.seeds = std::move(r).value();
  }
  grid.workload = a.workload;
  grid.extra = a.extra;
  if (auto st = CheckSweepExtraArgs(grid.extra); !st.ok()) return Fail(2, st.message());
  std::vector<std::string> metrics;
  if (!a.metrics.empty()) {
    auto r = ParseSweepList("--metrics", a.metrics);
    if (!r.ok()) return Fail(2, r.status().message());
    metrics = std::move(r).value();
  }

  std::string bin = SelfExe();
  if (bin.empty()) return Fail(1, "cannot find the suanli binary through /proc/self/exe");
  std::error_code ec;
  fs::path outp = fs::absolute(a.out, ec).lexically_normal();
  std::string dir = outp.string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  fs::create_directories(dir + "/runs", ec);
  if (ec) return Fail(1, fmt::format("cannot create '{}': {}", dir, ec.message()));

  auto points = ExpandSweepGrid(grid);
  std::vector<std::vector<std::string>> args;
  for (const auto& p : points) {
    std::string run = dir + "/runs/" + p.id;
    fs::remove_all(run, ec);  // no stale results from an earlier sweep
    fs::create_directories(run, ec);
    if (ec) return Fail(1, fmt::format("cannot create '{}': {}", run, ec.message()));
    args.push_back(SweepSimArgs(grid, p, run));
  }
  unsigned parallel = a.parallel ? a.parallel : std::max(1u, std::thread::hardware_concurrency());
  if (!a.quiet)
    std::fprintf(stderr, "suanli sweep: %zu points (%s), %s\n", points.size(),
                 fmt::format("{} network x {} dispatch x {} policy x {} scale x {} seed",
                             std::max<size_t>(1, grid.networks.size()), std::max<size_t>(1, grid.dispatches.size()),
                             std::max<size_t>(1, grid.policies.size()), std::max<size_t>(1, grid.scales.size()),
                             std::max<size_t>(1, grid.seeds.size()))
                     .c_str(),
                 a.slurm ? "as a Slurm job array" : fmt::format("locally, {} at once", parallel).c_str());

  std::vector<Outcome> outcomes;
  if (a.slurm) {
    int rc = RunSlurm(a, dir, bin, points, args, &outcomes);
    if (rc != 0) return rc;
  } else {
    outcomes = RunLocal(dir, bin, points, args, parallel, a.quiet);
  }

  std::vector<SweepPoint> good;
  SweepInfo info;
  info.workload = a.workload;
  info.grid = grid;
  info.points = points.size();
  info.mode = a.slurm ? "slurm" : "local";
  for (size_t i = 0; i < points.size(); ++i) {
    if (outcomes[i].ok) good.push_back(points[i]);
    else info.failed.push_back(points[i].id);
  }
  int rc = 0;
  if (!good.empty()) {
    auto table = GatherSweep(dir, good);
    if (!table.ok()) return Fail(1, table.status().message());
    auto groups = GroupSweep(*table);
    for (const auto& [name, text] : {std::pair<std::string, std::string>{"sweep.csv", SweepCsv(*table)},
                                     {"sweep.json", SweepJson(info, *table, groups)},
                                     {"summary.json", SweepSummaryJson(info, *table, groups)}}) {
      std::ofstream o(dir + "/" + name, std::ios::binary);
      o << text;
      if (!o.good()) return Fail(1, fmt::format("cannot write '{}/{}'", dir, name));
    }
    for (const auto& m : metrics)
      if (std::find(table->metrics.begin(), table->metrics.end(), m) == table->metrics.end()) {
        rc = Fail(2, fmt::format("--metrics: no run has '{}' (there are: {})", m, Join(table->metrics, ", ")));
      }
    std::fputs(SweepMeansTable(*table, groups, metrics).c_str(), stdout);
    std::fflush(stdout);
    if (!a.quiet)
      std::fprintf(stderr, "suanli sweep: wrote sweep.csv (%zu rows), sweep.json, summary.json to %s (%.1f s)\n",
                   table->rows.size(), dir.c_str(), std::chrono::duration<double>(Clock::now() - t0).count());
  }
  if (!info.failed.empty())
    return Fail(1,
                fmt::format("{} of {} points failed: {}{}", info.failed.size(), points.size(), Join(info.failed, ", "),
                            good.empty() ? "" : " (sweep.csv and sweep.json hold the others)"));
  return rc;
}

}  // namespace

void RegisterSweep(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "Run a grid of simulations (locally or on Slurm) and gather one table");
  cmd->add_option("--network,-n", args->networks, "Comma list of networks (files or built-in names)");
  cmd->add_option("--dispatch", args->dispatches, "Comma list of dispatch policies");
  cmd->add_option("--policy,-p", args->policies, "Comma list of center policies ORDER[+BACKFILL][+PLACEMENT]");
  cmd->add_option("--scale", args->scales, "Comma list of arrival-rate factors (0.5,1,2)");
  cmd->add_option("--seeds,--seed,-s", args->seeds, "Comma list of seeds and ranges (1,2,3 or 1-5)");
  cmd->add_option("--workload,-w", args->workload, "Workload for every run (default: the simulator's)");
  cmd->add_option("--out,-o", args->out, "Directory for runs/, sweep.csv and sweep.json")->required();
  cmd->add_option("--parallel,-j", args->parallel,
                  "Points run at once (local: default all cores; Slurm: the job array's %max, default all)");
  cmd->add_flag("--slurm", args->slurm, "Run the points as one Slurm job array (sbatch) instead of locally");
  cmd->add_option("--slurm-conf", args->slurm_conf, "slurm.conf of the cluster (default: $SLURM_CONF)");
  cmd->add_option("--partition", args->partition, "Slurm partition (default: the cluster's default)");
  cmd->add_option("--slurm-timeout", args->slurm_timeout_s,
                  "Seconds to wait for the job array before cancelling it (0: no limit; default 86400)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--sbatch-arg", args->sbatch_args, "One more #SBATCH option, e.g. --time=30 (repeatable)");
  cmd->add_option("--metrics", args->metrics, "Comma list of summary.json keys for the printed table");
  cmd->add_flag("--quiet,-q", args->quiet, "Only the table and errors");
  cmd->add_option("sim_args", args->extra, "Extra `suanli sim` arguments for every run, after --");
  cmd->callback([args, exit_code]() { *exit_code = RunSweep(*args); });
}

}  // namespace suanli::app
