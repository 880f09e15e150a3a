#include "live/backend_slurm.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "live/gpu_detect.h"
#include "live/job_env.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace fs = std::filesystem;

namespace {

WallMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// "key=value" of `scontrol show job -o`: the value runs to the next space.
std::optional<std::string> Field(std::string_view text, std::string_view key) {
  std::string pat = std::string(key) + "=";
  size_t at = 0;
  while ((at = text.find(pat, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n') {
      size_t v = at + pat.size();
      size_t end = text.find_first_of(" \n", v);
      return std::string(text.substr(v, end == std::string_view::npos ? std::string_view::npos : end - v));
    }
    at += pat.size();
  }
  return std::nullopt;
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
  std::string held_reason;  // the last reason reported while Slurm held it
};

class SlurmBackend final : public Backend {
 public:
  SlurmBackend(BackendConfig config, std::string center, const Catalog& catalog)
      : config_(std::move(config)), center_(std::move(center)), catalog_(catalog) {}

  std::string_view kind() const override { return "slurm"; }
  bool LaunchQueues() const override { return true; }  // sbatch: Slurm's queue first

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
    std::string model = req.model;
    if (!req.devices.empty() || !req.model.empty()) {
      if (!probed_ || nodes_.count(req.node) == 0) SUANLI_RETURN_IF_ERROR(Probe().status());
      auto it = nodes_.find(req.node);
      if (it == nodes_.end())
        return InvalidArgument("job {}: center {} has no node '{}'", req.job_id, center_, req.node);
      const SlurmNode& n = it->second;
      if (n.node.devices == 0 || n.gres_type.empty()) {
        return InvalidArgument("job {}: node '{}' of center {} offers no typed GPUs", req.job_id, req.node, center_);
      }
      auto a = catalog_.Find(req.model.empty() ? n.node.model : req.model);
      auto b = catalog_.Find(n.node.model);
      if (!a || !b || *a != *b) {
        return InvalidArgument("job {}: node '{}' has {}, not {}", req.job_id, req.node, n.node.model, req.model);
      }
      if (static_cast<int>(req.devices.size()) > n.node.devices) {
        return InvalidArgument("job {}: {} devices asked on node '{}', which has {}", req.job_id, req.devices.size(),
                               req.node, n.node.devices);
      }
      gres_type = n.gres_type;
      model = n.node.model;
    }
    std::string dir = JobDir(req);
    auto script = SlurmJobScript(req.job_id, spec, req.devices.empty() ? "" : model, catalog_, dir);
    if (!script.ok()) return script.status();

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("job {}: cannot create its directory {}: {}", req.job_id, dir, ec.message());
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
    for (std::string& a : SbatchArgs(req, dir, workdir, gres_type, config_.partition)) args.push_back(std::move(a));
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
    std::ofstream(it->second.dir + "/cancel") << NowMs() << "\n";
    return Status::Ok();
  }

  Result<std::vector<BackendEvent>> Poll(WallMs now) override {
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
          events.push_back(Started(j, row.start_ms > 0 ? row.start_ms : now, row.nodes));
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
      // first (metering counts from its start); one cancelled while Slurm
      // held it never started (Slurm gives it no time).
      if (!j.started && fin->start_ms > 0 && fin->end_ms > fin->start_ms)
        events.push_back(Started(j, fin->start_ms, ""));
      BackendEvent ev = SlurmEndEvent(job_id, *fin, j.cancelled, j.time_limit_s);
      if (ev.at_ms == 0) ev.at_ms = now;
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
    j.time_limit_s = req.spec.time_limit_s;
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

  BackendEvent Started(SlurmJob& j, WallMs at, const std::string& nodes) {
    j.started = true;
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kStarted;
    ev.job_id = j.job_id;
    ev.state = JobState::kRunning;
    ev.at_ms = at;
    ev.reason = nodes;
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
    std::vector<std::string> sa = {"sacct", "-n", "-P", "-X", "-j", slurm_id, "-o", "JobID,State,ExitCode,End,Start"};
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

// ---- parsing ------------------------------------------------------------------------------

bool SlurmNodeUp(std::string_view state) {
  std::string s = ToLower(Trim(state));
  if (s.find('*') != std::string::npos) return false;  // not responding
  while (!s.empty() && std::string_view("~#!%$@^-+").find(s.back()) != std::string_view::npos) s.pop_back();
  return s == "idle" || s == "mixed" || s == "allocated" || s == "alloc" || s == "completing" || s == "planned" ||
         s == "reserved" || s == "resv";
}

Result<std::vector<SlurmNode>> ParseSinfoNodes(std::string_view text, const Catalog& catalog) {
  std::vector<SlurmNode> out;
  std::set<std::string> seen;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '|');
    if (f.size() != 5) {
      return ParseError("line {}: expected NODE|CPUS|MEMORY|GRES|STATE, got '{}'", line_no, line);
    }
    SlurmNode n;
    n.node.name = std::string(Trim(f[0]));
    if (n.node.name.empty()) return ParseError("line {}: empty node name", line_no);
    if (!seen.insert(n.node.name).second) continue;  // listed again for another partition
    auto cpus = ParseInt(f[1]);
    auto mem = ParseInt(f[2]);
    if (!cpus || *cpus < 0)
      return ParseError("line {}: node {}: CPUs '{}' is not a number", line_no, n.node.name, Trim(f[1]));
    if (!mem || *mem < 0)
      return ParseError("line {}: node {}: memory '{}' is not a number of MiB", line_no, n.node.name, Trim(f[2]));
    n.node.cpu_milli = *cpus * 1000;
    n.node.mem_mib = *mem;
    n.state = std::string(Trim(f[4]));
    n.node.up = SlurmNodeUp(n.state);
    // GRES: "gpu:a100:4", "gpu:a100:4(S:0-1)", "gpu:4", "gpu:a100:2,gpu:v100:2", "(null)".
    std::string_view gres = Trim(f[3]);
    for (std::string_view g : Split(gres, ',')) {
      g = Trim(g);
      size_t paren = g.find('(');
      if (paren != std::string_view::npos) g = g.substr(0, paren);
      std::vector<std::string_view> parts = Split(g, ':');
      if (parts.empty() || Trim(parts[0]) != "gpu") continue;
      std::string type;
      std::optional<int64_t> count;
      if (parts.size() == 2) {
        count = ParseInt(parts[1]);
      } else if (parts.size() >= 3) {
        type = std::string(Trim(parts[1]));
        count = ParseInt(parts[parts.size() - 1]);
      }
      if (!count || *count < 0) {
        return ParseError("line {}: node {}: GRES '{}' has no GPU count", line_no, n.node.name, g);
      }
      if (*count == 0) continue;
      if (type.empty()) {
        n.note = fmt::format(
            "node {}: GRES '{}' names no GPU type; its GPUs are not offered (give them a type "
            "in gres.conf, e.g. gpu:a100:4)",
            n.node.name, g);
        continue;
      }
      auto id = catalog.Find(type);
      if (!id) {
        n.note = fmt::format(
            "node {}: GPU type '{}' is not an accelerator catalog model or alias; its GPUs are "
            "not offered",
            n.node.name, type);
        continue;
      }
      if (n.node.devices > 0) {
        n.note =
            fmt::format("node {}: GPUs of several types; only {} ({}) offered", n.node.name, n.gres_type, n.node.model);
        continue;
      }
      n.gres_type = type;
      n.node.model = catalog.model(*id).name;
      n.node.devices = static_cast<int>(*count);
    }
    out.push_back(std::move(n));
  }
  return out;
}

WallMs ParseSlurmTime(std::string_view s) {
  s = Trim(s);
  if (s.size() < 19 || s[4] != '-' || s[10] != 'T') return 0;
  std::tm tm{};
  std::string str(s.substr(0, 19));
  if (::strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
  tm.tm_isdst = -1;
  time_t t = std::mktime(&tm);
  if (t == static_cast<time_t>(-1)) return 0;
  return static_cast<WallMs>(t) * 1000;
}

Result<std::vector<SqueueRow>> ParseSqueue(std::string_view text) {
  std::vector<SqueueRow> out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '|');
    if (f.size() < 5) return ParseError("line {}: expected ID|STATE|NODES|START|REASON, got '{}'", line_no, line);
    SqueueRow r;
    r.id = std::string(Trim(f[0]));
    r.state = std::string(Trim(f[1]));
    r.nodes = std::string(Trim(f[2]));
    r.start_ms = ParseSlurmTime(f[3]);
    r.reason = std::string(Trim(f[4]));
    if (r.id.empty() || r.state.empty()) return ParseError("line {}: empty job id or state: '{}'", line_no, line);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<SlurmFinal> ParseScontrolJob(std::string_view text) {
  auto state = Field(text, "JobState");
  if (!state || state->empty()) return std::nullopt;
  SlurmFinal f;
  f.state = *state;
  if (auto ec = Field(text, "ExitCode")) {
    size_t colon = ec->find(':');
    f.exit_code = static_cast<int>(ParseInt(std::string_view(*ec).substr(0, colon)).value_or(-1));
    if (colon != std::string::npos) {
      f.signal = static_cast<int>(ParseInt(std::string_view(*ec).substr(colon + 1)).value_or(0));
    }
  }
  if (auto end = Field(text, "EndTime")) f.end_ms = ParseSlurmTime(*end);
  if (auto start = Field(text, "StartTime")) f.start_ms = ParseSlurmTime(*start);
  if (auto reason = Field(text, "Reason")) f.reason = *reason;
  return f;
}

bool SlurmStateFinal(std::string_view s) {
  for (std::string_view f : {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                             "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"}) {
    if (s == f) return true;
  }
  return false;
}

BackendEvent SlurmEndEvent(int64_t job_id, const SlurmFinal& f, bool cancelled, int64_t time_limit_s) {
  BackendEvent ev;
  ev.kind = BackendEvent::Kind::kEnded;
  ev.job_id = job_id;
  ev.exit_code = f.exit_code;
  ev.signal = f.signal;
  ev.at_ms = f.end_ms;
  std::string how = f.signal != 0 ? "killed by " + SignalName(f.signal) : fmt::format("exit {}", f.exit_code);
  if (f.state == "COMPLETED") {
    ev.state = JobState::kSucceeded;
    ev.reason = "exit 0";
  } else if (f.state == "CANCELLED") {
    ev.state = cancelled ? JobState::kCancelled : JobState::kFailed;
    ev.reason = cancelled ? "cancelled" : "cancelled by Slurm";
    ev.center_stopped = !cancelled;
  } else if (f.state == "TIMEOUT") {
    ev.state = JobState::kFailed;
    ev.reason = time_limit_s > 0 ? fmt::format("time limit {} s exceeded (Slurm TIMEOUT)", time_limit_s)
                                 : "time limit exceeded (Slurm TIMEOUT)";
  } else if (f.state == "NODE_FAIL") {
    ev.state = JobState::kFailed;
    ev.reason = "node failure";
    ev.center_stopped = true;
  } else if (f.state == "OUT_OF_MEMORY") {
    ev.state = JobState::kFailed;
    ev.reason = "out of memory";
  } else if (f.state == "BOOT_FAIL") {
    ev.state = JobState::kFailed;
    ev.reason = "node boot failure";
    ev.center_stopped = true;
  } else if (f.state == "PREEMPTED") {
    ev.state = JobState::kFailed;
    ev.reason = "preempted by Slurm";
    ev.center_stopped = true;
  } else if (f.state == "DEADLINE") {
    ev.state = JobState::kFailed;
    ev.reason = "deadline passed (Slurm DEADLINE)";
  } else {
    ev.state = JobState::kFailed;
    ev.reason = f.exit_code >= 0 || f.signal != 0 ? how : "Slurm state " + f.state;
  }
  if (cancelled && ev.state != JobState::kSucceeded) {
    // Suanli asked for it: whatever Slurm made of the signal, it is a cancel.
    ev.state = JobState::kCancelled;
    ev.center_stopped = false;
    ev.reason = f.state == "CANCELLED" ? "cancelled" : fmt::format("cancelled ({}, {})", f.state, how);
  }
  if (ev.state == JobState::kFailed && f.state == "FAILED" && f.reason == "JobLaunchFailure" && f.signal == 0) {
    ev.reason = "Slurm could not launch it";
  }
  return ev;
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

Result<std::string> SlurmJobScript(int64_t job_id, const JobSpec& spec, const std::string& model,
                                   const Catalog& catalog, const std::string& job_dir) {
  if (spec.command.empty() || spec.command[0].empty()) return InvalidArgument("job {}: command is empty", job_id);
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Suanli job {}: the command, its environment and its devices.\n", job_id);
  // sbatch --export=NONE: nothing of the server's environment arrives; the
  // job's starts from the same allow-list as on a local center.
  for (const auto& [k, v] : JobBaseEnvironment(job_dir, CurrentEnvironment())) {
    if (k == "HOME" && job_dir.empty()) continue;  // no directory given: Slurm's
    s += fmt::format("export {}={}\n", k, ShellQuote(v));
  }
  for (const auto& [k, v] : spec.env) {
    if (!ValidEnvName(k)) return InvalidArgument("job {}: env: '{}' is not an environment variable name", job_id, k);
    if (v.find('\0') != std::string::npos) return InvalidArgument("job {}: env: {} holds a NUL byte", job_id, k);
    s += fmt::format("export {}={}\n", k, ShellQuote(v));
  }
  s += fmt::format("export SUANLI_JOB_ID={}\n", job_id);
  if (!job_dir.empty()) s += fmt::format("export SUANLI_JOB_DIR={}\n", ShellQuote(job_dir));
  // Device variables: Slurm sets CUDA_VISIBLE_DEVICES for a GRES job; the
  // other variables of the model's stacks follow it, the rest are hidden.
  auto env = DeviceEnvironment(catalog, model, {});
  if (!env.ok()) return env.status().Wrap(fmt::format("job {}", job_id));
  std::set<std::string> mine;
  if (!model.empty()) {
    auto id = catalog.Find(model);
    for (const DeviceVariable& dv : DeviceVariables()) {
      auto st = catalog.FindStack(dv.stack);
      if (id && st && (catalog.model(*id).stacks & (StackMask{1} << *st)) != 0) mine.insert(std::string(dv.variable));
    }
  }
  if (!mine.empty()) s += "slurm_devices=\"${CUDA_VISIBLE_DEVICES-}\"\n";
  std::set<std::string> done;
  for (const DeviceVariable& dv : DeviceVariables()) {
    std::string var(dv.variable);
    if (!done.insert(var).second) continue;
    if (mine.count(var) == 0) {
      s += fmt::format("export {}=\n", var);
    } else if (var != "CUDA_VISIBLE_DEVICES") {
      s += fmt::format("export {}=\"$slurm_devices\"\n", var);
    }
  }
  s += "exec";
  for (const std::string& a : spec.command) {
    if (a.find('\0') != std::string::npos) return InvalidArgument("job {}: command holds a NUL byte", job_id);
    s += " " + ShellQuote(a);
  }
  s += "\n";
  return s;
}

std::vector<std::string> SbatchArgs(const LaunchRequest& req, const std::string& job_dir, const std::string& workdir,
                                    const std::string& gres_type, const std::string& partition) {
  const JobSpec& spec = req.spec;
  std::vector<std::string> a = {"--parsable",
                                "--export=NONE",
                                fmt::format("--job-name=suanli-{}", req.job_id),
                                "--output=" + job_dir + "/stdout",
                                "--error=" + job_dir + "/stderr",
                                "--chdir=" + workdir,
                                "--nodes=1",
                                "--ntasks=1"};
  if (!req.node.empty()) a.push_back("--nodelist=" + req.node);
  if (!req.devices.empty() && !gres_type.empty()) {
    a.push_back(fmt::format("--gres=gpu:{}:{}", gres_type, req.devices.size()));
  }
  int64_t cpus = std::max<int64_t>(1, (spec.cpu_milli + 999) / 1000);
  a.push_back(fmt::format("--cpus-per-task={}", cpus));
  if (spec.mem_mib > 0) a.push_back(fmt::format("--mem={}M", spec.mem_mib));
  if (spec.time_limit_s > 0) a.push_back(fmt::format("--time={}", (spec.time_limit_s + 59) / 60));
  if (!partition.empty()) a.push_back("--partition=" + partition);
  return a;
}

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
