#include "live/backend_local.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace fs = std::filesystem;

namespace {

// The supervisor. Arguments: JOB_DIR COMMAND [ARGS...]. Its environment is
// the job's, except that variables named PERL* (which would change how perl
// itself starts) arrive as SUANLI_PERLENV_<NAME> and are restored for the job.
constexpr std::string_view kSupervisor = R"PERL(
use strict; use warnings; use POSIX ();
my $dir = shift @ARGV;
$0 = "suanli-supervisor $dir";
for my $k (keys %ENV) { $ENV{$1} = delete $ENV{$k} if $k =~ /^SUANLI_PERLENV_(.+)\z/s; }
sub put {
  my ($name, $text) = @_;
  my $tmp = "$dir/.$name.$$";
  open(my $fh, '>', $tmp) or return 0;
  print $fh $text;
  close($fh) or return 0;
  return rename($tmp, "$dir/$name");
}
my $pid = fork();
if (!defined $pid) { print STDERR "suanli: cannot fork: $!\n"; put("status", "exit 127\n"); exit 1; }
if ($pid == 0) {
  POSIX::setpgid(0, 0);
  { no warnings 'exec'; exec { $ARGV[0] } @ARGV; }
  print STDERR "suanli: cannot run $ARGV[0]: $!\n";
  POSIX::_exit(127);
}
POSIX::setpgid($pid, $pid);
put("pgid", "$pid\n");
my $w;
do { $w = waitpid($pid, 0); } while ($w == -1 && $!{EINTR});
my $st = $?;
kill('KILL', -$pid);
my $line = $w != $pid ? "lost: $!" : ($st & 127) ? "signal " . ($st & 127) : "exit " . ($st >> 8);
put("status", "$line\n") or exit 1;
exit 0;
)PERL";

void Log(const std::string& center, const std::string& msg) { spdlog::warn("center={} backend=local {}", center, msg); }

WallMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Fields of /proc/PID/stat that matter here.
struct ProcStat {
  char state = '?';
  int64_t pgrp = 0, session = 0;
  uint64_t start_ticks = 0;
};

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

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Writes `text` to `path` atomically (temporary file, then rename).
Status WriteFileAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return IoError("{}: cannot write: {}", tmp, std::strerror(errno));
    out << text;
    out.flush();
    if (!out) return IoError("{}: cannot write: {}", tmp, std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return IoError("{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  }
  return Status::Ok();
}

WallMs FileMtimeMs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<WallMs>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::string FindPerl() {
  for (const char* p : {"/usr/bin/perl", "/bin/perl"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  const char* path = std::getenv("PATH");
  for (std::string_view dir : Split(path ? path : "", ':')) {
    if (dir.empty()) continue;
    std::string p = std::string(dir) + "/perl";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// A job this backend follows.
struct LocalJob {
  int64_t job_id = 0;
  std::string backend_id;
  pid_t pid = 0;                // supervisor
  uint64_t start_ticks = 0;
  std::string dir;
  WallMs start_ms = 0;
  int64_t time_limit_s = 0;
  pid_t pgid = 0;               // the command's process group (0 = not known yet)
  WallMs cancel_ms = 0;         // Cancel asked at (0 = not)
  WallMs limit_ms = 0;          // time limit hit at (0 = not)
  bool sigkill_sent = false;
};

struct ParsedStatus {
  int exit_code = -1;
  int signal = 0;
  bool lost = false;
  std::string text;
};

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

class LocalBackend final : public Backend {
 public:
  LocalBackend(BackendConfig config, std::string center, std::string data_dir, const Catalog& catalog,
               std::string perl, std::optional<std::string> recorded_nvidia_smi)
      : config_(std::move(config)),
        center_(std::move(center)),
        data_dir_(std::move(data_dir)),
        catalog_(catalog),
        perl_(std::move(perl)),
        recorded_(std::move(recorded_nvidia_smi)),
        host_(ShortHostName()) {}

  std::string_view kind() const override { return "local"; }

  Result<BackendCapacity> Probe() override {
    auto now = std::chrono::steady_clock::now();
    if (!probed_ || now - last_detect_ > std::chrono::seconds(60)) Detect();
    last_detect_ = now;
    probed_ = true;
    BackendCapacity cap;
    for (const LocalNodePlan& p : plan_) cap.nodes.push_back(p.node);
    return cap;
  }

  Result<std::string> Launch(const LaunchRequest& req) override {
    const JobSpec& spec = req.spec;
    if (spec.command.empty() || spec.command[0].empty()) {
      return InvalidArgument("job {}: command is empty", req.job_id);
    }
    if (jobs_.count(req.job_id) > 0) return InvalidArgument("job {} is already running here", req.job_id);
    if (!probed_) (void)Probe();
    // Devices: the node's numbering -> nvidia-smi indices.
    std::vector<int> physical;
    if (!req.model.empty() || !req.devices.empty()) {
      const LocalNodePlan* plan = nullptr;
      for (const LocalNodePlan& p : plan_) {
        if (p.node.name == req.node || (req.node.empty() && p.node.devices > 0)) {
          plan = &p;
          break;
        }
      }
      if (plan == nullptr || plan->node.devices == 0) {
        return InvalidArgument("job {}: node '{}' of center {} has no accelerators", req.job_id, req.node, center_);
      }
      if (!req.model.empty() && ToLower(req.model) != ToLower(plan->node.model)) {
        auto a = catalog_.Find(req.model), b = catalog_.Find(plan->node.model);
        if (!a || !b || *a != *b) {
          return InvalidArgument("job {}: node '{}' has {}, not {}", req.job_id, plan->node.name, plan->node.model,
                                 req.model);
        }
      }
      std::set<int> seen;
      for (int d : req.devices) {
        if (d < 0 || d >= plan->node.devices || !seen.insert(d).second) {
          return InvalidArgument("job {}: device {} is not one of node '{}' (0..{}), or is listed twice", req.job_id,
                                 d, plan->node.name, plan->node.devices - 1);
        }
        physical.push_back(plan->physical[static_cast<size_t>(d)]);
      }
    }
    auto device_env = DeviceEnvironment(catalog_, physical.empty() ? std::string() : ModelOfNode(req.node), physical);
    if (!device_env.ok()) return device_env.status().Wrap(fmt::format("job {}", req.job_id));

    std::string dir = JobDir(req);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("job {}: cannot create its directory {}: {}", req.job_id, dir, ec.message());
    // A directory used before (a requeued job) starts without the old run's state.
    for (const char* f : {"status", "pgid", "cancel", "timelimit"}) fs::remove(fs::path(dir) / f, ec);
    std::string workdir = spec.workdir.empty() ? dir : spec.workdir;

    // Environment: the server's, the job's, then what the backend sets.
    std::map<std::string, std::string> set(spec.env.begin(), spec.env.end());
    for (auto& [k, v] : *device_env) set[k] = v;
    set["SUANLI_JOB_ID"] = std::to_string(req.job_id);
    set["SUANLI_JOB_DIR"] = dir;
    std::vector<std::string> env = MergeEnvironment(CurrentEnvironment(), set);
    for (std::string& kv : env) {
      if (kv.compare(0, 4, "PERL") == 0) kv = "SUANLI_PERLENV_" + kv;
    }
    std::vector<char*> envp;
    for (std::string& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = {perl_, "-e", std::string(kSupervisor), "--", dir};
    args.insert(args.end(), spec.command.begin(), spec.command.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string out_path = dir + "/stdout", err_path = dir + "/stderr";

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
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawn_file_actions_addchdir_np(&fa, workdir.c_str());
    pid_t pid = -1;
    int rc = posix_spawn(&pid, perl_.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      std::error_code wec;
      if (!fs::is_directory(workdir, wec)) {
        return InvalidArgument("job {}: working directory '{}' does not exist", req.job_id, workdir);
      }
      return IoError("job {}: cannot start its supervisor ({}): {}", req.job_id, perl_, std::strerror(rc));
    }
    auto st = ReadProcStat(pid);
    LocalJob job;
    job.job_id = req.job_id;
    job.pid = pid;
    job.start_ticks = st ? st->start_ticks : 0;
    job.backend_id = fmt::format("{}:{}", pid, job.start_ticks);
    job.dir = dir;
    job.start_ms = req.start_ms > 0 ? req.start_ms : NowMs();
    job.time_limit_s = spec.time_limit_s;
    children_.insert(pid);
    jobs_[req.job_id] = job;
    return job.backend_id;
  }

  Status Cancel(int64_t job_id, const std::string& backend_id) override {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return NotFound("job {} (backend id {}) is not running in center {}", job_id, backend_id, center_);
    LocalJob& j = it->second;
    if (j.cancel_ms != 0) return Status::Ok();
    if (fs::exists(j.dir + "/status")) return Status::Ok();  // it ended on its own; Poll reports how
    j.cancel_ms = NowMs();
    SUANLI_RETURN_IF_ERROR(WriteFileAtomic(j.dir + "/cancel", std::to_string(j.cancel_ms) + "\n"));
    if (j.limit_ms == 0) Signal(j, SIGTERM);
    return Status::Ok();
  }

  Result<std::vector<BackendEvent>> Poll(WallMs now) override {
    ReapChildren();
    std::vector<BackendEvent> events;
    std::vector<int64_t> done;
    for (auto& [id, j] : jobs_) {
      if (auto ev = Check(j, now)) {
        events.push_back(std::move(*ev));
        done.push_back(id);
      }
    }
    for (int64_t id : done) jobs_.erase(id);
    ReapChildren();
    return events;
  }

  Status Adopt(const LaunchRequest& req, const std::string& backend_id) override {
    size_t colon = backend_id.find(':');
    auto pid = ParseInt(std::string_view(backend_id).substr(0, colon));
    auto ticks = colon == std::string::npos ? std::optional<int64_t>()
                                            : ParseInt(std::string_view(backend_id).substr(colon + 1));
    if (!pid || *pid <= 1 || *pid > INT32_MAX || !ticks || *ticks < 0) {
      return InvalidArgument("job {}: backend id '{}' is not a local job's (PID:START)", req.job_id, backend_id);
    }
    LocalJob j;
    j.job_id = req.job_id;
    j.backend_id = backend_id;
    j.pid = static_cast<pid_t>(*pid);
    j.start_ticks = static_cast<uint64_t>(*ticks);
    j.dir = JobDir(req);
    j.start_ms = req.start_ms > 0 ? req.start_ms : NowMs();  // unknown start: the limit counts from now
    j.time_limit_s = req.spec.time_limit_s;
    // What an earlier server decided survives in the job directory.
    if (auto t = ReadSmallFile(j.dir + "/cancel")) j.cancel_ms = ParseInt(Trim(*t)).value_or(1);
    if (auto t = ReadSmallFile(j.dir + "/timelimit")) j.limit_ms = ParseInt(Trim(*t)).value_or(1);
    // A supervisor the earlier server started in this process is still our child.
    children_.insert(j.pid);
    jobs_[req.job_id] = j;
    return Status::Ok();
  }

 private:
  std::string JobDir(const LaunchRequest& req) const {
    std::string d = req.job_dir.empty() ? fmt::format("{}/jobs/{}", data_dir_, req.job_id) : req.job_dir;
    std::error_code ec;
    fs::path abs = fs::absolute(d, ec);
    return ec ? d : abs.lexically_normal().string();
  }

  std::string ModelOfNode(const std::string& node) const {
    for (const LocalNodePlan& p : plan_) {
      if ((p.node.name == node || node.empty()) && p.node.devices > 0) return p.node.model;
    }
    return "";
  }

  void Detect() {
    std::vector<DetectedGpu> gpus;
    if (config_.detect_gpus) {
      auto d = recorded_ ? ParseNvidiaSmiCsv(*recorded_, catalog_) : DetectNvidiaGpus(catalog_, 20);
      if (d.ok()) {
        gpus = std::move(d).value();
      } else {
        LogOnce(fmt::format("nvidia-smi failed ({}); {}", d.status().message(),
                            plan_.empty() ? "offering CPU slots only" : "keeping the GPUs found before"));
        if (!plan_.empty()) return;
      }
    }
    for (const DetectedGpu& g : gpus) {
      if (!g.note.empty()) LogOnce(g.note);
    }
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    int64_t mem_mib = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
    plan_ = PlanLocalNodes(host_, gpus, config_.slots, cores > 0 ? static_cast<int>(cores) : 1, mem_mib);
  }

  void LogOnce(const std::string& msg) {
    if (logged_.insert(msg).second) Log(center_, msg);
  }

  void ReapChildren() {
    for (auto it = children_.begin(); it != children_.end();) {
      int status = 0;
      pid_t w = ::waitpid(*it, &status, WNOHANG);
      if (w == *it || (w < 0 && errno == ECHILD)) {
        it = children_.erase(it);
      } else {
        ++it;
      }
    }
  }

  bool SupervisorAlive(const LocalJob& j) const {
    auto st = ReadProcStat(j.pid);
    return st && st->start_ticks == j.start_ticks && st->state != 'Z' && st->state != 'X';
  }

  // The command's process group, once the supervisor has recorded it, and
  // only while its leader is still the job's (same group, the supervisor's session).
  pid_t LiveGroup(LocalJob& j) {
    if (j.pgid == 0) {
      if (auto t = ReadSmallFile(j.dir + "/pgid")) {
        auto v = ParseInt(Trim(*t));
        if (v && *v > 1 && *v <= INT32_MAX) j.pgid = static_cast<pid_t>(*v);
      }
    }
    if (j.pgid == 0) return 0;
    auto st = ReadProcStat(j.pgid);
    if (!st || st->pgrp != j.pgid || st->session != j.pid) return 0;
    return j.pgid;
  }

  void Signal(LocalJob& j, int sig) {
    if (pid_t g = LiveGroup(j); g > 0) {
      ::kill(-g, sig);
      if (sig == SIGKILL) j.sigkill_sent = true;
    }
  }

  std::optional<BackendEvent> Ended(const LocalJob& j, const std::string& status_path) {
    auto text = ReadSmallFile(status_path);
    if (!text) return std::nullopt;
    auto s = ParseStatusFile(*text);
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kEnded;
    ev.job_id = j.job_id;
    ev.at_ms = FileMtimeMs(status_path);
    if (!s) {
      ev.state = JobState::kFailed;
      ev.reason = fmt::format("lost: unreadable status '{}'", std::string(Trim(*text)).substr(0, 80));
      return ev;
    }
    ev.exit_code = s->exit_code;
    ev.signal = s->signal;
    std::string how = s->signal != 0 ? "killed by " + SignalName(s->signal) : fmt::format("exit {}", s->exit_code);
    if (s->lost) how = s->text;
    if (j.cancel_ms != 0) {
      ev.state = JobState::kCancelled;
      ev.reason = "cancelled (" + how + ")";
    } else if (j.limit_ms != 0) {
      ev.state = JobState::kFailed;
      ev.reason = fmt::format("time limit {} s exceeded ({})", j.time_limit_s, how);
    } else {
      ev.state = !s->lost && s->signal == 0 && s->exit_code == 0 ? JobState::kSucceeded : JobState::kFailed;
      ev.reason = how;
    }
    return ev;
  }

  std::optional<BackendEvent> Check(LocalJob& j, WallMs now) {
    std::string status_path = j.dir + "/status";
    if (auto ev = Ended(j, status_path)) return ev;
    if (!SupervisorAlive(j)) {
      // It may have written the status just before exiting.
      if (auto ev = Ended(j, status_path)) return ev;
      // Gone without a word: its command must not run on unwatched.
      Signal(j, SIGKILL);
      BackendEvent ev;
      ev.kind = BackendEvent::Kind::kLost;
      ev.job_id = j.job_id;
      ev.state = JobState::kFailed;
      ev.reason = "lost: supervisor gone";
      ev.at_ms = now;
      return ev;
    }
    // Time limit, then the grace period after SIGTERM (cancel or limit).
    if (j.limit_ms == 0 && j.cancel_ms == 0 && j.time_limit_s > 0 && now >= j.start_ms + j.time_limit_s * 1000) {
      j.limit_ms = now;
      (void)WriteFileAtomic(j.dir + "/timelimit", std::to_string(now) + "\n");
      Signal(j, SIGTERM);
    }
    WallMs term_ms = j.cancel_ms != 0 ? j.cancel_ms : j.limit_ms;
    if (term_ms != 0) {
      if (j.pgid == 0) {
        // The supervisor had not said which group when the signal was due.
        if (LiveGroup(j) > 0) ::kill(-j.pgid, SIGTERM);
      }
      if (!j.sigkill_sent && now >= term_ms + static_cast<WallMs>(config_.grace_s) * 1000) Signal(j, SIGKILL);
    }
    return std::nullopt;
  }

  BackendConfig config_;
  std::string center_, data_dir_;
  const Catalog& catalog_;
  std::string perl_;
  std::optional<std::string> recorded_;
  std::string host_;
  bool probed_ = false;
  std::chrono::steady_clock::time_point last_detect_{};
  std::vector<LocalNodePlan> plan_;
  std::set<std::string> logged_;
  std::map<int64_t, LocalJob> jobs_;
  std::set<pid_t> children_;
};

}  // namespace

std::string_view LocalSupervisorScript() { return kSupervisor; }

std::string ShortHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string h(buf);
  size_t dot = h.find('.');
  if (dot != std::string::npos && dot > 0) h.resize(dot);
  return h;
}

std::vector<LocalNodePlan> PlanLocalNodes(const std::string& host, const std::vector<DetectedGpu>& gpus, int slots,
                                          int cores, int64_t mem_mib) {
  std::map<std::string, std::vector<int>> by_model;  // model -> nvidia-smi indices
  for (const DetectedGpu& g : gpus) {
    if (!g.model.empty()) by_model[g.model].push_back(g.index);
  }
  std::vector<LocalNodePlan> out;
  if (by_model.empty()) {
    LocalNodePlan p;
    p.node.name = host;
    p.node.cpu_milli = static_cast<int64_t>(slots > 0 ? slots : cores) * 1000;
    p.node.mem_mib = mem_mib;
    out.push_back(std::move(p));
    return out;
  }
  int total = 0;
  for (auto& [m, idx] : by_model) total += static_cast<int>(idx.size());
  for (auto& [m, idx] : by_model) {
    std::sort(idx.begin(), idx.end());
    LocalNodePlan p;
    p.node.name = by_model.size() == 1 ? host : host + "-" + ToLower(m);
    p.node.model = m;
    p.node.devices = static_cast<int>(idx.size());
    p.node.cpu_milli = static_cast<int64_t>(cores) * 1000 * p.node.devices / total;
    p.node.mem_mib = mem_mib * p.node.devices / total;
    p.physical = idx;
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::unique_ptr<Backend>> MakeLocalBackend(const BackendConfig& config, const std::string& center,
                                                  const std::string& data_dir, const Catalog& catalog,
                                                  std::optional<std::string> recorded_nvidia_smi) {
  if (config.slots < 0) return InvalidArgument("center {}: slots must be 0 (all cores) or more, got {}", center, config.slots);
  if (config.grace_s < 0) return InvalidArgument("center {}: grace_s must be 0 or more, got {}", center, config.grace_s);
  std::string perl = FindPerl();
  if (perl.empty()) {
    return Unavailable("center {}: the local backend needs perl (Debian's essential perl-base) for its job "
                       "supervisors, and none was found",
                       center);
  }
  return std::unique_ptr<Backend>(new LocalBackend(config, center, data_dir, catalog, perl, std::move(recorded_nvidia_smi)));
}

}  // namespace suanli::live
