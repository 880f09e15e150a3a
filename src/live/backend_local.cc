#include "live/backend_local.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "live/job_env.h"
#include "live/local_supervisor.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace fs = std::filesystem;

namespace {

void Log(const std::string& center, const std::string& msg) { spdlog::warn("center={} backend=local {}", center, msg); }

WallMs NowMs() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A port of the loopback free now (a gang's MASTER_PORT), else `fallback`.
int FreeLoopbackPort(int fallback) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fallback;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = fallback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// A job this backend follows.
struct LocalJob {
  int64_t job_id = 0;
  std::string backend_id;
  pid_t pid = 0;  // supervisor
  uint64_t start_ticks = 0;
  std::string dir;  // the job's directory (logs)
  std::string ctl;  // its control directory (status, pgid, cancel, timelimit)
  std::vector<std::string> cgroups;
  int64_t uid = -1;
  WallMs start_ms{};
  int64_t time_limit_s = 0;
  pid_t pgid = 0;      // the command's process group (0 = not known yet)
  WallMs cancel_ms{};  // Cancel asked at (0 = not)
  WallMs term_at{};    // Stop with notice: SIGTERM due then (0 = at cancel_ms)
  bool term_sent = false;
  WallMs limit_ms{};  // time limit hit at (0 = not)
  bool sigkill_sent = false;
};

class LocalBackend final : public Backend {
 public:
  LocalBackend(BackendConfig config, std::string center, const std::string& data_dir, const Catalog& catalog,
               std::string program, std::optional<std::string> recorded_nvidia_smi, IsolationPlan isolation,
               std::string bwrap, JobCgroups cgroups)
      : config_(std::move(config)),
        center_(std::move(center)),
        data_dir_(CanonicalPath(data_dir)),
        catalog_(catalog),
        program_(std::move(program)),
        recorded_(std::move(recorded_nvidia_smi)),
        host_(config_.node_name.empty() ? ShortHostName() : config_.node_name),
        iso_(std::move(isolation)),
        bwrap_(std::move(bwrap)),
        cgroups_(std::move(cgroups)) {}

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
    SUANLI_ASSIGN_OR_RETURN(const std::vector<LaunchRequest::Host> hosts, req.Hosts());
    if (hosts.size() != std::max<size_t>(1, spec.nodes))
      return InvalidArgument("job {}: a gang of {} nodes was given {} ('{}')", req.job_id, spec.nodes, hosts.size(),
                             req.node);
    std::vector<std::map<std::string, std::string>> node_env;
    for (const LaunchRequest::Host& h : hosts) {
      if (!h.name.empty() &&
          std::none_of(plan_.begin(), plan_.end(), [&](const LocalNodePlan& p) { return p.node.name == h.name; }))
        return InvalidArgument("job {}: node '{}' is not a node of center {}", req.job_id, h.name, center_);
      SUANLI_ASSIGN_OR_RETURN(auto e, DevicesOn(req, h.name, h.devices));
      node_env.push_back(std::move(e));
    }

    std::string dir = JobDir(req), ctl = CtlDir(req.job_id);
    std::error_code ec;
    fs::create_directories(CheckpointDir(dir), ec);
    if (ec) return IoError("job {}: cannot create its directory {}: {}", req.job_id, CheckpointDir(dir), ec.message());
    SUANLI_RETURN_IF_ERROR(MakeCtlDir(req.job_id, ctl));
    std::string workdir = spec.workdir.empty() ? dir : CanonicalPath(spec.workdir);
    if (!fs::is_directory(workdir, ec)) {
      return InvalidArgument("job {}: working directory '{}' does not exist", req.job_id, workdir);
    }
    if (PathInside(data_dir_, workdir) || PathInside(workdir, data_dir_ + "/run") ||
        (PathInside(workdir, data_dir_ + "/jobs") && !PathInside(workdir, dir))) {
      return InvalidArgument("job {}: working directory '{}' holds the server's data or another job's", req.job_id,
                             workdir);
    }

    LocalJob job;
    job.job_id = req.job_id;
    job.dir = dir;
    job.ctl = ctl;
    if (iso_.drop_uid) {
      SUANLI_ASSIGN_OR_RETURN(job.uid, FreeUid(req.job_id));
      GiveDirectory(dir, job.uid, job.uid);
      if (!iso_.sandbox) OpenPathTo(dir);
      SUANLI_RETURN_IF_ERROR(WriteFileAtomic(ctl + "/uid", std::to_string(job.uid) + "\n"));
    }
    std::map<std::string, std::string> env =
        JobEnvironment(req.job_id, req.attempt, dir, spec.env, node_env.front(), CurrentEnvironment());
    if (!req.dataset_dir.empty()) env["SUANLI_DATASET_DIR"] = req.dataset_dir;
    std::string tasks;
    if (hosts.size() > 1) {
      // A gang: its nodes are this machine's, its master the loopback.
      std::vector<std::string> names;
      for (const LaunchRequest::Host& h : hosts) names.push_back(h.name);
      GangEnvironment gang = GangEnv(names, node_env, static_cast<int>(hosts.front().devices.size()), "127.0.0.1",
                                     FreeLoopbackPort(20000 + static_cast<int>(req.job_id % 20000)));
      for (auto& [k, v] : gang.common) env[k] = v;
      tasks = EncodeTasks(gang.tasks);
    }
    SUANLI_RETURN_IF_ERROR(WriteFileAtomic(ctl + "/env", EncodeEnvironment(env) + tasks));
    if (iso_.cgroups) {
      auto cg = cgroups_.Create(req.job_id, iso_.cpu_limit ? spec.cpu_milli : 0, iso_.memory_limit ? spec.mem_mib : 0);
      if (!cg.ok()) return cg.status();
      job.cgroups = std::move(cg).value();
      SUANLI_RETURN_IF_ERROR(WriteFileAtomic(ctl + "/cgroups", Join(job.cgroups, "\n") + "\n"));
    }

    SupervisorLaunch l;
    l.program = program_;
    l.ctl_dir = ctl;
    l.workdir = workdir;
    l.cgroups = job.cgroups;
    if (iso_.sandbox)
      l.sandbox =
          BwrapArgs(bwrap_, {data_dir_, dir, workdir, iso_.drop_uid, config_.hidden_data_roots, req.dataset_dir});
    l.uid = l.gid = job.uid;
    l.command = spec.command;
    auto out = OpenLog(dir + "/stdout", job.uid, job.uid);
    if (!out.ok()) return out.status().Wrap(fmt::format("job {}", req.job_id));
    auto err = OpenLog(dir + "/stderr", job.uid, job.uid);
    if (!err.ok()) {
      ::close(*out);
      return err.status().Wrap(fmt::format("job {}", req.job_id));
    }
    l.stdout_fd = *out;
    l.stderr_fd = *err;
    auto pid = SpawnSupervisor(l);
    ::close(*out);
    ::close(*err);
    if (!pid.ok()) {
      KillCgroup(job.cgroups);
      RemoveCgroup(job.cgroups);
      return pid.status().Wrap(fmt::format("job {}", req.job_id));
    }
    auto st = ReadProcStat(*pid);
    job.pid = *pid;
    job.start_ticks = st ? st->start_ticks : 0;
    job.backend_id = fmt::format("{}:{}", job.pid, job.start_ticks);
    job.start_ms = req.start_ms.ms() > 0 ? req.start_ms : NowMs();
    job.time_limit_s = EnforcedTimeLimitS(spec);
    children_.insert(job.pid);
    jobs_[req.job_id] = job;
    return job.backend_id;
  }

  Status Cancel(int64_t job_id, const std::string& backend_id) override {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end())
      return NotFound("job {} (backend id {}) is not running in center {}", job_id, backend_id, center_);
    LocalJob& j = it->second;
    if (j.cancel_ms.ms() != 0) return Status::Ok();
    if (fs::exists(j.ctl + "/status")) return Status::Ok();  // it ended on its own; Poll reports how
    j.cancel_ms = NowMs();
    SUANLI_RETURN_IF_ERROR(WriteFileAtomic(j.ctl + "/cancel", std::to_string(j.cancel_ms.ms()) + "\n"));
    if (j.limit_ms.ms() == 0) Signal(j, SIGTERM);
    j.term_sent = true;
    return Status::Ok();
  }

  Status Stop(int64_t job_id, const std::string& backend_id, const StopNotice& notice) override {
    const int sig = StopSignalNumber(notice.signal);
    auto it = jobs_.find(job_id);
    if (sig == 0 || notice.grace_s <= 0 || it == jobs_.end() || it->second.cancel_ms.ms() != 0 ||
        it->second.limit_ms.ms() != 0)
      return Cancel(job_id, backend_id);
    LocalJob& j = it->second;
    if (fs::exists(j.ctl + "/status")) return Status::Ok();  // it ended on its own; Poll reports how
    j.cancel_ms = NowMs();
    j.term_at = j.cancel_ms + notice.grace_s * 1000;
    // A server that restarts meanwhile keeps to the same times.
    SUANLI_RETURN_IF_ERROR(WriteFileAtomic(j.ctl + "/term_at", std::to_string(j.term_at.ms()) + "\n"));
    SUANLI_RETURN_IF_ERROR(WriteFileAtomic(j.ctl + "/cancel", std::to_string(j.cancel_ms.ms()) + "\n"));
    // Once: to its process group, or, before the group is known, to its
    // cgroups (Signal sends to both, which a job would see twice).
    if (pid_t g = LiveGroup(j); g > 0) ::kill(-g, sig);
    else if (!j.cgroups.empty()) SignalCgroup(j.cgroups, sig);
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
    for (int64_t id : done) {
      // Nothing of the job outlives its end.
      LocalJob& j = jobs_[id];
      if (!j.cgroups.empty()) {
        KillCgroup(j.cgroups, 500);
        if (!RemoveCgroup(j.cgroups)) stale_cgroups_.push_back(j.cgroups);
      }
      jobs_.erase(id);
    }
    for (auto it = stale_cgroups_.begin(); it != stale_cgroups_.end();) {
      KillCgroup(*it, 100);
      it = RemoveCgroup(*it) ? stale_cgroups_.erase(it) : it + 1;
    }
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
    j.ctl = CtlDir(req.job_id);
    // A job started by a version that kept its control files in the job's directory.
    if (!fs::exists(j.ctl) && fs::exists(j.dir + "/pgid")) j.ctl = j.dir;
    j.start_ms = req.start_ms.ms() > 0 ? req.start_ms : NowMs();  // unknown start: the limit counts from now
    j.time_limit_s = EnforcedTimeLimitS(req.spec);
    // What an earlier server decided survives in the control directory.
    if (auto t = ReadSmallFile(j.ctl + "/cancel")) j.cancel_ms = WallMs(ParseInt(Trim(*t)).value_or(1));
    if (auto t = ReadSmallFile(j.ctl + "/term_at")) j.term_at = WallMs(ParseInt(Trim(*t)).value_or(0));
    if (auto t = ReadSmallFile(j.ctl + "/timelimit")) j.limit_ms = WallMs(ParseInt(Trim(*t)).value_or(1));
    if (auto t = ReadSmallFile(j.ctl + "/uid")) j.uid = ParseInt(Trim(*t)).value_or(-1);
    if (auto t = ReadSmallFile(j.ctl + "/cgroups")) {
      for (std::string_view d : Split(*t, '\n')) {
        if (!Trim(d).empty()) j.cgroups.emplace_back(Trim(d));
      }
    }
    // A supervisor the earlier server started in this process is still our child.
    children_.insert(j.pid);
    jobs_[req.job_id] = j;
    return Status::Ok();
  }

 private:
  std::string JobDir(const LaunchRequest& req) const {
    return CanonicalPath(req.job_dir.empty() ? fmt::format("{}/jobs/{}", data_dir_, req.job_id) : req.job_dir);
  }

  std::string CtlDir(int64_t job_id) const { return fmt::format("{}/run/{}", data_dir_, job_id); }

  // DATA/run (0700) and DATA/run/JOB, emptied of an earlier run's files (a requeued job).
  Status MakeCtlDir(int64_t job_id, const std::string& ctl) {
    std::error_code ec;
    for (const std::string& d : {data_dir_ + "/run", ctl}) {
      fs::create_directory(d, ec);
      if (ec || ::chmod(d.c_str(), 0700) != 0) {
        return IoError("job {}: cannot create its control directory {}: {}", job_id, d,
                       ec ? ec.message() : std::strerror(errno));
      }
    }
    for (const char* f : {"status", "pgid", "cancel", "term_at", "timelimit", "cgroups", "uid", "env"}) {
      fs::remove(fs::path(ctl) / f, ec);
    }
    return Status::Ok();
  }

  // A uid for the job: job_uid_base + a slot no running job of this backend holds.
  Result<int64_t> FreeUid(int64_t job_id) const {
    std::set<int64_t> used;
    for (const auto& [id, j] : jobs_) used.insert(j.uid);
    int64_t n = std::max<int64_t>(1, config_.job_uids);
    for (int64_t k = 0; k < n; ++k) {
      int64_t uid = config_.job_uid_base + (job_id + k) % n;
      if (used.count(uid) == 0) return uid;
    }
    return ResourceExhausted("job {}: all {} job uids from {} are in use", job_id, n, config_.job_uid_base);
  }

  // Without a sandbox, a job of another uid reaches its directory only if the
  // directories above it (inside the data directory) can be traversed.
  void OpenPathTo(const std::string& dir) const {
    if (!PathInside(dir, data_dir_)) return;
    for (fs::path up = fs::path(dir).parent_path(); up.string().size() >= data_dir_.size(); up = up.parent_path()) {
      struct stat st {};
      if (::stat(up.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0)
        ::chmod(up.c_str(), (st.st_mode & 07777) | S_IXOTH);
      if (up.string().size() == data_dir_.size()) break;
    }
  }

  // The device variables of a job's `devices` on `node` (the node's numbering
  // mapped to nvidia-smi indices).
  Result<std::map<std::string, std::string>> DevicesOn(const LaunchRequest& req, const std::string& node,
                                                       const std::vector<int>& devices) const {
    std::vector<int> physical;
    if (!req.model.empty() || !devices.empty()) {
      const LocalNodePlan* plan = nullptr;
      for (const LocalNodePlan& p : plan_) {
        if (p.node.name == node || (node.empty() && p.node.devices > 0)) {
          plan = &p;
          break;
        }
      }
      if (plan == nullptr || plan->node.devices == 0) {
        return InvalidArgument("job {}: node '{}' of center {} has no accelerators", req.job_id, node, center_);
      }
      if (!req.model.empty() && ToLower(req.model) != ToLower(plan->node.model)) {
        auto a = catalog_.Find(req.model), b = catalog_.Find(plan->node.model);
        if (!a || !b || *a != *b) {
          return InvalidArgument("job {}: node '{}' has {}, not {}", req.job_id, plan->node.name, plan->node.model,
                                 req.model);
        }
      }
      std::set<int> seen;
      for (int d : devices) {
        if (d < 0 || d >= plan->node.devices || !seen.insert(d).second) {
          return InvalidArgument("job {}: device {} is not one of node '{}' (0..{}), or is listed twice", req.job_id, d,
                                 plan->node.name, plan->node.devices - 1);
        }
        physical.push_back(plan->physical[static_cast<size_t>(d)]);
      }
    }
    const std::string model = physical.empty() ? std::string() : ModelOfNode(node);
    auto env = DeviceEnvironment(catalog_, model, physical);
    if (!env.ok()) return env.status().Wrap(fmt::format("job {}", req.job_id));
    if (!physical.empty()) env->merge(ShareEnvironment(catalog_, model, req.spec.gpus));
    return std::move(env).value();
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
    plan_ = PlanLocalNodes(host_, gpus, config_.slots, cores > 0 ? static_cast<int>(cores) : 1, mem_mib, config_.nodes);
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
      if (auto t = ReadSmallFile(j.ctl + "/pgid")) {
        auto v = ParseInt(Trim(*t));
        if (v && *v > 1 && *v <= INT32_MAX) j.pgid = static_cast<pid_t>(*v);
      }
    }
    if (j.pgid == 0) return 0;
    auto st = ReadProcStat(j.pgid);
    if (!st || st->pgrp != j.pgid || st->session != j.pid) return 0;
    return j.pgid;
  }

  // The job's process group, and every process of its cgroups (those that
  // left the group included); SIGKILL empties the cgroups.
  void Signal(LocalJob& j, int sig) {
    if (pid_t g = LiveGroup(j); g > 0) {
      ::kill(-g, sig);
      if (sig == SIGKILL) j.sigkill_sent = true;
    }
    if (j.cgroups.empty()) return;
    if (sig == SIGKILL) {
      KillCgroup(j.cgroups, 500);
      j.sigkill_sent = true;
    } else {
      SignalCgroup(j.cgroups, sig);
    }
  }

  std::optional<BackendEvent> Ended(const LocalJob& j, const std::string& status_path) {
    auto text = ReadSmallFile(status_path);
    if (!text) return std::nullopt;
    auto s = ParseStatusFile(*text);
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kEnded;
    ev.job_id = j.job_id;
    ev.at_ms = WallMs(FileMtimeMs(status_path));
    if (!s) {
      ev.state = JobState::kFailed;
      ev.reason = fmt::format("lost: unreadable status '{}'", std::string(Trim(*text)).substr(0, 80));
      return ev;
    }
    ev.exit_code = s->exit_code;
    ev.signal = s->signal;
    std::string how = s->signal != 0 ? "killed by " + SignalName(s->signal) : fmt::format("exit {}", s->exit_code);
    if (s->lost) how = s->text;
    if (j.cancel_ms.ms() != 0) {
      ev.state = JobState::kCancelled;
      ev.reason = "cancelled (" + how + ")";
    } else if (j.limit_ms.ms() != 0) {
      ev.state = JobState::kFailed;
      ev.reason = fmt::format("time limit {} s exceeded ({})", j.time_limit_s, how);
    } else {
      ev.state = !s->lost && s->signal == 0 && s->exit_code == 0 ? JobState::kSucceeded : JobState::kFailed;
      ev.reason = how;
    }
    return ev;
  }

  std::optional<BackendEvent> Check(LocalJob& j, WallMs now) {
    std::string status_path = j.ctl + "/status";
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
    if (j.limit_ms.ms() == 0 && j.cancel_ms.ms() == 0 && j.time_limit_s > 0 &&
        now >= j.start_ms + j.time_limit_s * 1000) {
      j.limit_ms = now;
      (void)WriteFileAtomic(j.ctl + "/timelimit", std::to_string(now.ms()) + "\n");
      Signal(j, SIGTERM);
    }
    // A stop with notice: SIGTERM once the notice is over.
    if (j.cancel_ms.ms() != 0 && !j.term_sent && now >= j.term_at) {
      Signal(j, SIGTERM);
      j.term_sent = true;
    }
    WallMs term_ms = j.cancel_ms.ms() != 0 ? std::max(j.cancel_ms, j.term_at) : j.limit_ms;
    if (term_ms.ms() != 0 && now >= term_ms) {
      if (j.pgid == 0) {
        // The supervisor had not said which group when the signal was due.
        if (LiveGroup(j) > 0) ::kill(-j.pgid, SIGTERM);
      }
      if (!j.sigkill_sent && now >= term_ms + int64_t{config_.grace_s} * 1000) Signal(j, SIGKILL);
    }
    return std::nullopt;
  }

  BackendConfig config_;
  std::string center_, data_dir_;
  const Catalog& catalog_;
  std::string program_;  // the binary supervisors run from
  std::optional<std::string> recorded_;
  std::string host_;
  bool probed_ = false;
  std::chrono::steady_clock::time_point last_detect_{};
  std::vector<LocalNodePlan> plan_;
  std::set<std::string> logged_;
  std::map<int64_t, LocalJob> jobs_;
  std::set<pid_t> children_;
  IsolationPlan iso_;
  std::string bwrap_;
  JobCgroups cgroups_;
  std::vector<std::vector<std::string>> stale_cgroups_;  // of ended jobs, still busy
};

}  // namespace

Result<std::unique_ptr<Backend>> MakeLocalBackend(const BackendConfig& config, const std::string& center,
                                                  const std::string& data_dir, const Catalog& catalog,
                                                  std::optional<std::string> recorded_nvidia_smi,
                                                  std::optional<IsolationCaps> caps) {
  if (config.slots < 0)
    return InvalidArgument("center {}: slots must be 0 (all cores) or more, got {}", center, config.slots);
  if (config.grace_s < 0)
    return InvalidArgument("center {}: grace_s must be 0 or more, got {}", center, config.grace_s);
  if (config.nodes < 1 || config.nodes > 64)
    return InvalidArgument("center {}: nodes must be 1..64, got {}", center, config.nodes);
  if (config.sandbox != "auto" && config.sandbox != "bwrap" && config.sandbox != "off") {
    return InvalidArgument("center {}: sandbox must be auto, bwrap or off, got '{}'", center, config.sandbox);
  }
  if (config.cgroups != "auto" && config.cgroups != "off") {
    return InvalidArgument("center {}: cgroups must be auto or off, got '{}'", center, config.cgroups);
  }
  if (config.job_uid_base < 0 || config.job_uids < 1 || config.job_uid_base + config.job_uids > 4'000'000'000LL) {
    return InvalidArgument("center {}: job uids {}+{} are out of range", center, config.job_uid_base, config.job_uids);
  }
  if (config.cgroup_parent.empty() || config.cgroup_parent.find("..") != std::string::npos ||
      config.cgroup_parent.find('\n') != std::string::npos) {
    return InvalidArgument("center {}: cgroup_parent '{}' is not a cgroup name", center, config.cgroup_parent);
  }
  auto program = SupervisorProgram();
  if (!program.ok()) return program.status().Wrap(fmt::format("center {}: job supervisors", center));
  // The jobs' cgroups are named after this server's data directory: another
  // server of the machine has its own job 1.
  std::error_code ec;
  const std::string data_abs = fs::absolute(data_dir, ec).lexically_normal().string();
  JobCgroups cgroups(DetectCgroupLayout(), config.cgroup_parent, Sha256Hex(ec ? data_dir : data_abs).substr(0, 12));
  IsolationCaps found = caps ? *caps : DetectIsolationCaps(cgroups);
  auto plan = PlanIsolation(found, config);
  if (!plan.ok()) return plan.status().Wrap(fmt::format("center {}", center));
  std::string line = DescribeIsolation(*plan);
  if (plan->missing.empty()) {
    spdlog::info("center={} backend=local {}", center, line);
  } else {
    spdlog::warn("center={} backend=local {}", center, line);
  }
  return std::unique_ptr<Backend>(new LocalBackend(config, center, data_dir, catalog, *program,
                                                   std::move(recorded_nvidia_smi), std::move(plan).value(), found.bwrap,
                                                   std::move(cgroups)));
}

}  // namespace suanli::live
