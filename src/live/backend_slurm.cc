#include "live/backend_slurm.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "live/backend_slurm_internal.h"
#include "live/job_env.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace fs = std::filesystem;

using slurm_detail::Field;

namespace {

WallMs NowMs() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

bool InvalidJobIdError(const SubprocessResult& r) {
  return r.exit_code != 0 && r.err.find("Invalid job id") != std::string::npos;
}

struct SlurmJob {
  int64_t job_id = 0;
  std::string slurm_id;
  std::string dir;
  int64_t time_limit_s = 0;
  bool started = false;
  bool cancelled = false;
  WallMs term_at{};         // Stop with notice: scancel due then (0 = none)
  std::string held_reason;  // the last reason reported while Slurm held it
};

class SlurmBackend final : public Backend {
 public:
  SlurmBackend(BackendConfig config, std::string center, const Catalog& catalog)
      : config_(std::move(config)), center_(std::move(center)), catalog_(catalog) {}

  std::string_view kind() const override { return "slurm"; }
  bool LaunchQueues() const override { return true; }  // sbatch: Slurm's queue first
  bool PlacesJobs() const override { return !config_.nodelist; }

  Result<BackendCapacity> Probe() override {
    std::vector<std::string> args = {"sinfo", "-N", "-h", "-o", "%N|%c|%m|%G|%T"};
    if (!config_.partition.empty()) args.push_back("--partition=" + config_.partition);
    SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
    if (!r.ok()) return Unavailable("center {}: {}", center_, Describe(args, r));
    auto nodes = ParseSinfoNodes(r.out, catalog_);
    if (!nodes.ok()) return nodes.status().Wrap(fmt::format("center {}: sinfo", center_));
    BackendCapacity cap;
    nodes_.clear();
    for (SlurmNode& n : *nodes) {
      if (!n.note.empty() && logged_.insert(n.note).second) {
        spdlog::warn("center={} backend=slurm {}", center_, n.note);
      }
      cap.nodes.push_back(n.node);
      nodes_[n.node.name] = n;
    }
    probed_ = true;
    return cap;
  }

  Result<std::string> Launch(const LaunchRequest& req) override {
    const JobSpec& spec = req.spec;
    if (spec.command.empty() || spec.command[0].empty()) {
      return InvalidArgument("job {}: command is empty", req.job_id);
    }
    std::string gres_type;
    int64_t shards_per_gpu = 0;
    std::string model = req.model;
    SUANLI_ASSIGN_OR_RETURN(const std::vector<LaunchRequest::Host> hosts, req.Hosts());
    if (hosts.size() > 1 && hosts.size() != spec.nodes)
      return InvalidArgument("job {}: {} nodes given ({}) for a job over {}", req.job_id, hosts.size(), req.node,
                             spec.nodes);
    for (const LaunchRequest::Host& h : hosts) {
      if (req.devices.empty() && req.model.empty()) break;
      if (!probed_ || nodes_.count(h.name) == 0) SUANLI_RETURN_IF_ERROR(Probe().status());
      auto it = nodes_.find(h.name);
      if (it == nodes_.end()) return InvalidArgument("job {}: center {} has no node '{}'", req.job_id, center_, h.name);
      const SlurmNode& n = it->second;
      if (n.node.devices == 0 || n.gres_type.empty()) {
        return InvalidArgument("job {}: node '{}' of center {} offers no typed GPUs", req.job_id, h.name, center_);
      }
      auto a = catalog_.Find(req.model.empty() ? n.node.model : req.model);
      auto b = catalog_.Find(n.node.model);
      if (!a || !b || *a != *b) {
        return InvalidArgument("job {}: node '{}' has {}, not {}", req.job_id, h.name, n.node.model, req.model);
      }
      if (static_cast<int>(h.devices.size()) > n.node.devices) {
        return InvalidArgument("job {}: {} devices asked on node '{}', which has {}", req.job_id, h.devices.size(),
                               h.name, n.node.devices);
      }
      if (!gres_type.empty() && gres_type != n.gres_type) {
        return InvalidArgument("job {}: its nodes have GPUs of different GRES types ({} and {})", req.job_id, gres_type,
                               n.gres_type);
      }
      if (spec.gpus.shared()) {
        shards_per_gpu = n.shards / n.node.devices;
        if (shards_per_gpu == 0)
          return InvalidArgument(
              "job {}: it asks for a share of a GPU ({}), but node '{}' of center {} has no GRES shards (give it "
              "Name=shard in gres.conf and shard:N in slurm.conf's Gres)",
              req.job_id, spec.gpus.ToString(), h.name, center_);
      }
      gres_type = n.gres_type;
      model = n.node.model;
    }
    std::string dir = JobDir(req);
    auto script =
        SlurmJobScript(req.job_id, req.attempt, spec, req.devices.empty() ? "" : model, catalog_, dir, req.dataset_dir);
    if (!script.ok()) return script.status();

    std::error_code ec;
    fs::create_directories(CheckpointDir(dir), ec);
    if (ec) return IoError("job {}: cannot create its directory {}: {}", req.job_id, CheckpointDir(dir), ec.message());
    fs::remove(dir + "/cancel", ec);
    std::string script_path = dir + "/job.sh";
    {
      std::ofstream out(script_path, std::ios::trunc);
      out << *script;
      out.flush();
      if (!out) return IoError("job {}: cannot write {}: {}", req.job_id, script_path, std::strerror(errno));
    }
    fs::permissions(script_path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read, ec);
    std::string workdir = spec.workdir.empty() ? dir : spec.workdir;
    std::vector<std::string> args = {"sbatch"};
    for (std::string& a : SbatchArgs(req, dir, workdir, gres_type, config_.partition, config_.nodelist, shards_per_gpu))
      args.push_back(std::move(a));
    args.push_back(script_path);
    SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
    if (!r.ok()) {
      if (r.timed_out || Unreachable(r)) return Unavailable("center {}: {}", center_, Describe(args, r));
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("job {}: center {} refused it: {}", req.job_id, center_, Describe(args, r)));
    }
    // --parsable: "ID" or "ID;CLUSTER".
    std::string_view out = Trim(r.out);
    std::string id(out.substr(0, out.find(';')));
    auto n = ParseInt(id);
    if (!n || *n <= 0) {
      return Internal("job {}: sbatch answered '{}', not a job id", req.job_id, std::string(out).substr(0, 200));
    }
    Follow(req, id, false);
    return id;
  }

  Status Cancel(int64_t job_id, const std::string& backend_id) override {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      return NotFound("job {} (Slurm job {}) is not followed by center {}", job_id, backend_id, center_);
    }
    std::vector<std::string> args = {"scancel", it->second.slurm_id};
    SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
    if (!r.ok() && !InvalidJobIdError(r)) {
      if (r.timed_out || Unreachable(r)) return Unavailable("center {}: {}", center_, Describe(args, r));
      return Internal("center {}: {}", center_, Describe(args, r));
    }
    it->second.cancelled = true;
    std::ofstream(it->second.dir + "/cancel") << NowMs().ms() << "\n";
    return Status::Ok();
  }

  Status Stop(int64_t job_id, const std::string& backend_id, const StopNotice& notice) override {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || !it->second.started || it->second.cancelled || notice.grace_s <= 0 ||
        StopSignalNumber(notice.signal) == 0)
      return Cancel(job_id, backend_id);
    // The batch script execs the job's command: it gets the signal.
    std::vector<std::string> args = {"scancel", "--batch", "--signal=" + notice.signal, it->second.slurm_id};
    SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
    if (!r.ok()) return Cancel(job_id, backend_id);
    it->second.term_at = NowMs() + notice.grace_s * 1000;
    return Status::Ok();
  }

  Result<std::vector<BackendEvent>> Poll(WallMs now) override {
    // Notices that are over: the jobs are stopped now.
    for (auto& [job_id, j] : jobs_) {
      if (j.term_at.ms() == 0 || j.cancelled || now < j.term_at) continue;
      Status st = Cancel(job_id, j.slurm_id);
      if (!st.ok()) return st;
    }
    std::vector<BackendEvent> events;
    // The nodes (sinfo) at most every kProbeEvery while Slurm answers, and at
    // each Poll while it does not: a node drained or down after the start
    // must stop receiving jobs, and a cluster that stopped while idle must
    // not look healthy until it is given a job.
    const auto t = std::chrono::steady_clock::now();
    if (!probe_answered_ || t - last_probe_ >= kProbeEvery) {
      last_probe_ = t;
      auto cap = Probe();
      probe_answered_ = cap.ok();
      if (!cap.ok()) return cap.status();
      NodeEvents(&events);
    }
    if (jobs_.empty()) return events;
    // One squeue for every followed id (in chunks for very many).
    std::map<std::string, SqueueRow> rows;
    std::vector<std::string> ids;
    for (auto& [id, j] : jobs_) ids.push_back(j.slurm_id);
    const size_t kChunk = 2000;
    for (size_t i = 0; i < ids.size(); i += kChunk) {
      std::string list;
      for (size_t k = i; k < std::min(ids.size(), i + kChunk); ++k) list += (k > i ? "," : "") + ids[k];
      std::vector<std::string> args = {"squeue", "-h", "-t", "all", "-j", list, "-o", "%i|%T|%N|%S|%r"};
      SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
      if (!r.ok() && !InvalidJobIdError(r)) return Unavailable("center {}: {}", center_, Describe(args, r));
      auto parsed = ParseSqueue(r.out);
      if (!parsed.ok()) return parsed.status().Wrap(fmt::format("center {}: squeue", center_));
      for (SqueueRow& row : *parsed) rows[row.id] = std::move(row);
    }
    // Many ended at once: one `scontrol show job -o` for all of them.
    size_t ending = 0;
    for (auto& [job_id, j] : jobs_) {
      auto it = rows.find(j.slurm_id);
      if (it == rows.end() || SlurmStateFinal(it->second.state)) ++ending;
    }
    std::optional<std::map<std::string, SlurmFinal>> bulk;
    if (ending > 4) {
      std::vector<std::string> args = {"scontrol", "show", "job", "-o"};
      SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
      if (!r.ok()) return Unavailable("center {}: {}", center_, Describe(args, r));
      bulk.emplace();
      for (std::string_view line : Split(r.out, '\n')) {
        auto id = Field(line, "JobId");
        auto f = ParseScontrolJob(line);
        if (id && f) (*bulk)[*id] = *f;
      }
    }
    std::vector<int64_t> done;
    for (auto& [job_id, j] : jobs_) {
      auto it = rows.find(j.slurm_id);
      if (it != rows.end() && !SlurmStateFinal(it->second.state)) {
        const SqueueRow& row = it->second;
        bool running =
            row.state == "RUNNING" || row.state == "COMPLETING" || row.state == "SUSPENDED" || row.state == "STOPPED";
        if (running && !j.started) {
          events.push_back(Started(j, row.start_ms.ms() > 0 ? row.start_ms : now, row.nodes));
        } else if (!running && !j.started && row.reason != j.held_reason) {
          // PENDING (or CONFIGURING: its nodes boot): held in Slurm's queue.
          j.held_reason = row.reason;
          BackendEvent ev;
          ev.kind = BackendEvent::Kind::kHeld;
          ev.job_id = job_id;
          ev.state = JobState::kPending;
          ev.reason = row.reason.empty() || row.reason == "None" ? row.state : row.reason;
          ev.at_ms = now;
          events.push_back(std::move(ev));
        }
        continue;
      }
      // Ended (or gone from squeue): the final record.
      SUANLI_ASSIGN_OR_RETURN(std::optional<SlurmFinal> fin, Final(j.slurm_id, bulk ? &*bulk : nullptr));
      if (!fin && it != rows.end()) {
        SlurmFinal f;
        f.state = it->second.state;
        f.reason = it->second.reason;
        fin = f;
      }
      if (!fin) {
        BackendEvent ev;
        ev.kind = BackendEvent::Kind::kLost;
        ev.job_id = job_id;
        ev.state = JobState::kFailed;
        ev.reason = fmt::format("lost: Slurm no longer knows job {}", j.slurm_id);
        ev.at_ms = now;
        events.push_back(std::move(ev));
        done.push_back(job_id);
        continue;
      }
      if (!SlurmStateFinal(fin->state)) continue;  // scontrol saw it still going: next Poll
      // A run that started and ended between two polls is reported started
      // first (metering counts from its start), also one that ran for less
      // than Slurm's second; one cancelled while Slurm held it never started
      // (Slurm gives it no time: its start is its end).
      if (!j.started && fin->start_ms.ms() > 0 &&
          (fin->end_ms > fin->start_ms || (fin->end_ms == fin->start_ms && fin->state != "CANCELLED")))
        events.push_back(Started(j, fin->start_ms, fin->nodes));
      BackendEvent ev = SlurmEndEvent(job_id, *fin, j.cancelled, j.time_limit_s);
      if (ev.at_ms.ms() == 0) ev.at_ms = now;
      events.push_back(std::move(ev));
      done.push_back(job_id);
    }
    for (int64_t id : done) jobs_.erase(id);
    return events;
  }

  Status Adopt(const LaunchRequest& req, const std::string& backend_id) override {
    auto n = ParseInt(backend_id);
    if (!n || *n <= 0) {
      return InvalidArgument("job {}: backend id '{}' is not a Slurm job id", req.job_id, backend_id);
    }
    Follow(req, std::to_string(*n), fs::exists(JobDir(req) + "/cancel"));
    return Status::Ok();
  }

 private:
  std::string JobDir(const LaunchRequest& req) const {
    std::string d = req.job_dir.empty() ? fmt::format("suanli-jobs/{}", req.job_id) : req.job_dir;
    std::error_code ec;
    fs::path abs = fs::absolute(d, ec);
    return ec ? d : abs.lexically_normal().string();
  }

  void Follow(const LaunchRequest& req, const std::string& slurm_id, bool cancelled) {
    SlurmJob j;
    j.job_id = req.job_id;
    j.slurm_id = slurm_id;
    j.dir = JobDir(req);
    j.time_limit_s = EnforcedTimeLimitS(req.spec);
    j.cancelled = cancelled;
    jobs_[req.job_id] = j;
  }

  Result<SubprocessResult> Run(const std::vector<std::string>& args) {
    SubprocessOptions o;
    o.argv = args;
    if (!config_.slurm_conf.empty()) o.env["SLURM_CONF"] = config_.slurm_conf;
    o.timeout_ms = std::max(1, config_.command_timeout_s) * 1000;
    auto r = RunSubprocess(o);
    if (!r.ok()) {
      return Unavailable("center {}: cannot run {}: {}", center_, args[0], r.status().message());
    }
    return r;
  }

  std::string Describe(const std::vector<std::string>& args, const SubprocessResult& r) const {
    SubprocessOptions o;
    o.argv = args;
    o.timeout_ms = std::max(1, config_.command_timeout_s) * 1000;
    std::string d = DescribeFailure(o, r);
    if (r.timed_out) d += " (Slurm not answering)";
    return d;
  }

  static bool Unreachable(const SubprocessResult& r) {
    return r.err.find("Unable to contact slurm controller") != std::string::npos ||
           r.err.find("Socket timed out") != std::string::npos ||
           r.err.find("Connection refused") != std::string::npos ||
           r.err.find("Zero Bytes were transmitted") != std::string::npos;
  }

  // `nodes`: squeue's host list of where Slurm put it ("n[1-2]"), given to
  // the control plane as names ("n1,n2").
  BackendEvent Started(SlurmJob& j, WallMs at, const std::string& nodes) {
    j.started = true;
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kStarted;
    ev.job_id = j.job_id;
    ev.state = JobState::kRunning;
    ev.at_ms = at;
    if (auto names = ExpandHostlist(nodes, 1024); names.ok()) {
      ev.node = Join(*names, ",");
    } else {
      spdlog::warn("center={} backend=slurm job={}: {}", center_, j.job_id, names.status().message());
    }
    return ev;
  }

  // kNode for each node whose state differs from what was last reported
  // (every node is up until reported otherwise; a node sinfo no longer lists
  // is down).
  void NodeEvents(std::vector<BackendEvent>* events) {
    auto report = [&](const std::string& name, bool up, const std::string& why) {
      if (up) down_.erase(name);
      else down_.insert(name);
      BackendEvent ev;
      ev.kind = BackendEvent::Kind::kNode;
      ev.node = name;
      ev.up = up;
      ev.reason = why;
      events->push_back(std::move(ev));
      spdlog::info("center={} backend=slurm node={} {} ({})", center_, name, up ? "up" : "down", why);
    };
    for (const auto& [name, n] : nodes_) {
      known_.insert(name);
      if (n.node.up == (down_.count(name) == 0)) continue;
      report(name, n.node.up, n.state);
    }
    for (const std::string& name : known_)
      if (nodes_.count(name) == 0 && down_.count(name) == 0) report(name, false, "no longer listed by sinfo");
  }

  // The final state of a job: scontrol, else sacct (when accounting is on).
  // nullopt: Slurm does not know the job; an error: Slurm does not answer.
  // `bulk`: every job scontrol knows, when already asked for all.
  Result<std::optional<SlurmFinal>> Final(const std::string& slurm_id, const std::map<std::string, SlurmFinal>* bulk) {
    if (bulk != nullptr) {
      if (auto it = bulk->find(slurm_id); it != bulk->end()) return std::optional<SlurmFinal>(it->second);
    } else {
      std::vector<std::string> args = {"scontrol", "show", "job", "-o", slurm_id};
      SUANLI_ASSIGN_OR_RETURN(SubprocessResult r, Run(args));
      if (r.ok()) {
        if (auto f = ParseScontrolJob(r.out)) return std::optional<SlurmFinal>(*f);
      } else if (!InvalidJobIdError(r)) {
        return Unavailable("center {}: {}", center_, Describe(args, r));
      }
    }
    if (!sacct_usable_) return std::optional<SlurmFinal>();
    std::vector<std::string> sa = {"sacct", "-n",     "-P", "-X",
                                   "-j",    slurm_id, "-o", "JobID,State,ExitCode,End,Start,NodeList"};
    SUANLI_ASSIGN_OR_RETURN(SubprocessResult s, Run(sa));
    if (!s.ok()) {
      if (s.timed_out) return Unavailable("center {}: {}", center_, Describe(sa, s));
      sacct_usable_ = false;  // accounting disabled: not asked again
      return std::optional<SlurmFinal>();
    }
    for (std::string_view line : Split(s.out, '\n')) {
      std::vector<std::string_view> f = Split(Trim(line), '|');
      if (f.size() < 4 || Trim(f[0]) != slurm_id) continue;
      SlurmFinal fin;
      std::string_view state = Trim(f[1]);
      fin.state = std::string(state.substr(0, state.find(' ')));  // "CANCELLED by 0"
      std::string_view ec = Trim(f[2]);
      size_t colon = ec.find(':');
      fin.exit_code = static_cast<int>(ParseInt(ec.substr(0, colon)).value_or(-1));
      if (colon != std::string_view::npos) fin.signal = static_cast<int>(ParseInt(ec.substr(colon + 1)).value_or(0));
      fin.end_ms = ParseSlurmTime(Trim(f[3]));
      if (f.size() > 4) fin.start_ms = ParseSlurmTime(Trim(f[4]));
      if (f.size() > 5 && Trim(f[5]) != "None assigned") fin.nodes = std::string(Trim(f[5]));
      return std::optional<SlurmFinal>(fin);
    }
    return std::optional<SlurmFinal>();
  }

  BackendConfig config_;
  std::string center_;
  const Catalog& catalog_;
  bool probed_ = false;
  static constexpr std::chrono::seconds kProbeEvery{10};
  bool probe_answered_ = false;  // the last probe of Poll answered (false: none yet)
  std::set<std::string> known_;  // every node sinfo has listed
  std::set<std::string> down_;   // nodes last reported down
  std::chrono::steady_clock::time_point last_probe_{};
  bool sacct_usable_ = true;
  std::map<std::string, SlurmNode> nodes_;
  std::set<std::string> logged_;
  std::map<int64_t, SlurmJob> jobs_;
};

}  // namespace

Result<std::unique_ptr<Backend>> MakeSlurmBackend(const BackendConfig& config, const std::string& center,
                                                  const Catalog& catalog) {
  if (config.command_timeout_s < 1) {
    return InvalidArgument("center {}: command_timeout_s must be at least 1, got {}", center, config.command_timeout_s);
  }
  if (!config.slurm_conf.empty() && !fs::exists(config.slurm_conf)) {
    return InvalidArgument("center {}: slurm_conf '{}' does not exist", center, config.slurm_conf);
  }
  return std::unique_ptr<Backend>(new SlurmBackend(config, center, catalog));
}

}  // namespace suanli::live
