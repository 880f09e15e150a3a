#include "server/agent_runner.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "base/strings.h"
#include "live/job_env.h"
#include "server/agent_store.h"
#include "server/api_client.h"
#include "server/json_codec_agent.h"

namespace suanli::server {

namespace {

namespace fs = std::filesystem;
using live::AgentCommand;
using live::BackendEvent;

constexpr size_t kEventsPerSync = 1000;
// A sync's events stop at this many bytes (the hub takes bodies up to 1 MiB).
constexpr size_t kSyncEventBytes = 512 * 1024;
// How much of one run's stream is read per poll while it runs.
constexpr size_t kOutputPerPoll = 64 * 1024;
constexpr int64_t kCapacityEveryMs = 30'000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t SystemUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The bytes of a file from *offset on, at most `max`; *offset moves past
// them. A file shorter than *offset was truncated (a Slurm center's next
// run): read from its start. Unless `all`, a UTF-8 sequence cut at the end
// waits for its next bytes. A link is not followed.
Result<std::string> ReadNewOutput(const std::string& path, int64_t* offset, size_t max, bool all) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return std::string();
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if (st.st_size < *offset) *offset = 0;
    out.resize(std::min<size_t>(max, static_cast<size_t>(st.st_size - *offset)));
    const ssize_t n = out.empty() ? 0 : ::pread(fd, out.data(), out.size(), *offset);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  if (!all) {
    // Back over continuation bytes to the last lead byte; keep it only if
    // its sequence is whole.
    size_t i = out.size(), back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(out[i - 1]) & 0xC0) == 0x80) --i, ++back;
    if (i > 0 && back < 4) {
      const auto lead = static_cast<unsigned char>(out[i - 1]);
      const size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (len > back + 1) out.resize(i - 1);
    }
  }
  *offset += static_cast<int64_t>(out.size());
  return out;
}

class Agent {
 public:
  Agent(const AgentOptions& o, std::unique_ptr<AgentStore> store, std::unique_ptr<live::Backend> backend)
      : o_(o), store_(std::move(store)), backend_(std::move(backend)), fence_ms_(o.fence_ms) {}

  Status Start();
  void Run(const std::atomic<bool>& stop);

 private:
  struct Held {
    int64_t epoch = 0;
    std::string backend_id;
    live::LaunchRequest req;
    bool fenced = false;
  };
  void PollBackend();
  // What the run wrote since last time (its stdout and stderr, up to
  // kOutputPerPoll each unless `all`, and its checkpoint mark's time), as
  // events.
  void ShipOutputs(int64_t job_id, const Held& h, bool all);
  void Record(int64_t epoch, const BackendEvent& ev, bool ends);
  bool Sync();  // true: the hub answered
  void Apply(const AgentCommand& c);
  void Refuse(const AgentCommand& c, const std::string& why);
  void Fence();
  std::string JobDir(int64_t id) const { return (fs::path(o_.data_dir) / "jobs" / std::to_string(id)).string(); }

  const AgentOptions& o_;
  std::unique_ptr<AgentStore> store_;
  std::unique_ptr<live::Backend> backend_;
  std::vector<std::unique_ptr<ApiClient>> clients_;
  size_t hub_ = 0;
  std::map<int64_t, Held> runs_;
  std::string hub_id_;
  int64_t acked_ = 0;
  int64_t fence_ms_;
  int64_t poll_ms_ = 1000;
  int64_t last_ok_ = 0;  // steady ms: when the last answered sync was sent
  int64_t last_capacity_ = -kCapacityEveryMs;
  // How far each run's output was read ("out/JOB/STREAM"), and its last
  // checkpoint mark sent ("ckpt/JOB"); kept in the store too.
  std::map<std::string, int64_t> offsets_;
  std::string backend_error_;
  bool fenced_ = false;
};

Status Agent::Start() {
  for (const std::string& url : o_.hubs) {
    ClientOptions co;
    co.url = url;
    co.token = o_.credential;
    co.ca_cert = o_.ca_cert;
    co.connect_timeout_s = std::min(o_.client_timeout_s, 3);
    co.timeout_s = o_.client_timeout_s;
    SUANLI_ASSIGN_OR_RETURN(auto c, ApiClient::Create(co));
    clients_.push_back(std::move(c));
  }
  SUANLI_ASSIGN_OR_RETURN(auto hub, store_->Get("hub_id"));
  SUANLI_ASSIGN_OR_RETURN(auto acked, store_->Get("acked"));
  SUANLI_ASSIGN_OR_RETURN(auto fence, store_->Get("fence_ms"));
  hub_id_ = hub.value_or("");
  acked_ = acked ? ParseInt(*acked).value_or(0) : 0;
  if (fence) fence_ms_ = ParseInt(*fence).value_or(fence_ms_);
  // The runs an earlier agent process launched: followed again.
  SUANLI_ASSIGN_OR_RETURN(auto runs, store_->Runs());
  for (const AgentStore::Run& r : runs) {
    auto cmd = ParseAgentCommand(r.launch);
    BackendEvent lost;
    lost.kind = BackendEvent::Kind::kLost;
    lost.job_id = r.job_id;
    lost.state = live::JobState::kFailed;
    if (!cmd.ok() || r.backend_id.empty()) {
      // Recorded, but whether it was launched is not known: reported lost
      // (the hub runs it again; see docs/network.md).
      lost.reason = cmd.ok() ? "the agent stopped while launching it" : "the agent's record of it is unreadable";
      Record(r.epoch, lost, true);
      continue;
    }
    Held h{r.epoch, r.backend_id, cmd->launch, false};
    h.req.job_dir = JobDir(r.job_id);
    Status st = backend_->Adopt(h.req, h.backend_id);
    if (!st.ok()) {
      lost.reason = fmt::format("the agent cannot follow it again: {}", st.message());
      Record(r.epoch, lost, true);
      continue;
    }
    runs_[r.job_id] = std::move(h);
  }
  spdlog::info("agent {} of center {}: {} run(s) adopted, hub(s) {}", store_->agent_id(), o_.center, runs_.size(),
               Join(o_.hubs, ", "));
  last_ok_ = SteadyMs();  // the fence counts from the start too
  return Status::Ok();
}

void Agent::Record(int64_t epoch, const BackendEvent& ev, bool ends) {
  live::AgentEvent e;
  e.epoch = epoch;
  e.ev = ev;
  const std::string json = AgentEventToJson(e);
  auto r = ends ? store_->EndRun(ev.job_id, json) : store_->AddEvent(json);
  if (!r.ok()) spdlog::error("agent: {}", r.status().message());
  if (ends) {
    runs_.erase(ev.job_id);
    for (const std::string& key : {fmt::format("out/{}/stdout", ev.job_id), fmt::format("out/{}/stderr", ev.job_id),
                                   fmt::format("ckpt/{}", ev.job_id)})
      offsets_.erase(key);
  }
}

void Agent::PollBackend() {
  auto events = backend_->PollUs(SystemUs());
  if (!events.ok()) {
    if (backend_error_ != events.status().message())
      spdlog::warn("agent: its {} backend does not answer: {}", backend_->kind(), events.status().message());
    backend_error_ = events.status().message();
    return;
  }
  backend_error_.clear();
  for (BackendEvent& ev : *events) {
    if (ev.kind == BackendEvent::Kind::kNode) {
      Record(0, ev, false);
      continue;
    }
    auto it = runs_.find(ev.job_id);
    if (it == runs_.end()) continue;  // not a run it holds (any more)
    const bool ends = ev.kind == BackendEvent::Kind::kEnded || ev.kind == BackendEvent::Kind::kLost;
    if (ends && it->second.fenced) {
      ev.center_stopped = true;
      ev.state = live::JobState::kFailed;
      ev.reason = fmt::format("stopped by its agent: no word from the hub for {} s", fence_ms_ / 1000);
    }
    if (ends) ShipOutputs(ev.job_id, it->second, true);  // before its end
    Record(it->second.epoch, ev, ends);
  }
  for (const auto& [id, h] : runs_) ShipOutputs(id, h, false);
}

void Agent::ShipOutputs(int64_t job_id, const Held& h, bool all) {
  if (h.backend_id.empty() || backend_->kind() == "simulated") return;  // a simulated run writes nothing
  const std::string dir = JobDir(job_id);
  for (const char* stream : {"stdout", "stderr"}) {
    const std::string key = fmt::format("out/{}/{}", job_id, stream);
    auto [slot, fresh] = offsets_.try_emplace(key, 0);
    int64_t& offset = slot->second;
    if (fresh) {
      auto kept = store_->Get(key);
      offset = kept.ok() && *kept ? ParseInt(**kept).value_or(0) : 0;
    }
    // Past what the hub keeps of a stream, nothing more is read.
    for (size_t sent = 0; (all || sent < kOutputPerPoll) && offset < live::kMaxAgentLogBytes;) {
      int64_t next = offset;
      auto chunk = ReadNewOutput(dir + "/" + stream, &next, kMaxAgentLogChunk / 4, all);
      if (!chunk.ok() || chunk->empty()) break;
      live::AgentEvent e;
      e.epoch = h.epoch;
      e.kind = live::AgentEvent::Kind::kLog;
      e.ev.job_id = job_id;
      e.stream = stream;
      e.data = std::move(*chunk);
      sent += e.data.size();
      auto r = store_->AddEventAndPut(AgentEventToJson(e), key, std::to_string(next));
      if (!r.ok()) {
        spdlog::error("agent: {}", r.status().message());
        break;
      }
      offset = next;
    }
  }
  const std::optional<int64_t> mark = live::CheckpointMarkMs(dir);
  if (!mark) return;
  const int64_t at = *mark;
  const std::string key = fmt::format("ckpt/{}", job_id);
  auto [slot, fresh] = offsets_.try_emplace(key, -1);
  int64_t& last = slot->second;
  if (fresh) {
    auto kept = store_->Get(key);
    last = kept.ok() && *kept ? ParseInt(**kept).value_or(-1) : -1;
  }
  if (at <= last) return;
  live::AgentEvent e;
  e.epoch = h.epoch;
  e.kind = live::AgentEvent::Kind::kCheckpoint;
  e.ev.job_id = job_id;
  e.ev.at_ms = WallMs{at};
  if (auto r = store_->AddEventAndPut(AgentEventToJson(e), key, std::to_string(at)); r.ok()) last = at;
}

bool Agent::Sync() {
  live::AgentSyncRequest req;
  req.agent_id = store_->agent_id();
  req.hub_id = hub_id_;
  req.acked = acked_;
  req.backend_error = backend_error_;
  auto events = store_->Unacked(kEventsPerSync);
  if (!events.ok()) {
    spdlog::error("agent: {}", events.status().message());
    return false;
  }
  std::set<std::pair<int64_t, int64_t>> held;
  for (const auto& [id, h] : runs_) held.insert({id, h.epoch});
  size_t bytes = 0;
  for (const AgentStore::Event& e : *events) {
    bytes += e.json.size();
    if (bytes > kSyncEventBytes && !req.events.empty()) break;  // the rest in the next sync
    auto ev = ParseAgentEvent(e.json, e.seq);
    if (!ev.ok()) {
      spdlog::error("agent: event {} unreadable, dropped: {}", e.seq, ev.status().message());
      continue;
    }
    if (ev->ev.kind != BackendEvent::Kind::kNode) held.insert({ev->ev.job_id, ev->epoch});
    req.events.push_back(std::move(*ev));
  }
  for (const auto& [id, epoch] : held) req.runs.push_back({id, epoch});
  const int64_t now = SteadyMs();
  if (now - last_capacity_ >= kCapacityEveryMs) {
    auto cap = backend_->Probe();
    if (cap.ok()) req.capacity = std::move(*cap);
    else if (req.backend_error.empty()) req.backend_error = cap.status().message();
  }
  ApiClient& client = *clients_[hub_ % clients_.size()];
  // A hub that does not answer (packets dropped: the connection hangs rather
  // than fails) must not hold the agent past its fence: the wait is cut to
  // what is left of it, so the runs stop before the hub's lease runs out.
  const int64_t to_fence = fence_ms_ - (now - last_ok_);
  client.SetTimeoutMs(fenced_ ? o_.client_timeout_s * 1000
                              : std::clamp<int64_t>(to_fence, 200, o_.client_timeout_s * 1000));
  auto r = client.Post(fmt::format("/api/v1/centers/{}/sync", UrlEncode(o_.center)), AgentSyncRequestToJson(req));
  if (!r.ok() || r->status != 200) {
    const std::string why = r.ok() ? ErrorMessage(*r) : r.status().message();
    spdlog::warn("agent: hub {} did not take the sync: {}", client.url(), why);
    if (!r.ok() || r->status >= 500) ++hub_;  // another hub, if there is one
    return false;
  }
  auto answer = ParseAgentSyncResponse(r->body);
  if (!answer.ok()) {
    spdlog::error("agent: hub {} answered what it cannot read: {}", client.url(), answer.status().message());
    return false;
  }
  last_ok_ = now;
  if (req.capacity) last_capacity_ = now;
  if (fenced_) spdlog::info("agent: the hub answers again");
  fenced_ = false;
  if (Status st = store_->Ack(answer->acked); !st.ok()) spdlog::error("agent: {}", st.message());
  if (answer->fence_ms > 0 && answer->fence_ms != fence_ms_) {
    fence_ms_ = answer->fence_ms;
    (void)store_->Put("fence_ms", std::to_string(fence_ms_));
  }
  poll_ms_ = answer->poll_ms;
  if (answer->hub_id != hub_id_) {
    spdlog::info("agent: hub process {} (epoch {})", answer->hub_id, answer->epoch);
    hub_id_ = answer->hub_id;
    acked_ = 0;
    (void)store_->Put("hub_id", hub_id_);
  }
  for (const AgentCommand& c : answer->commands) {
    if (c.seq <= acked_) continue;
    Apply(c);
    acked_ = c.seq;
  }
  (void)store_->Put("acked", std::to_string(acked_));
  return true;
}

void Agent::Refuse(const AgentCommand& c, const std::string& why) {
  spdlog::warn("agent: job {} refused: {}", c.job_id, why);
  BackendEvent ev;
  ev.kind = BackendEvent::Kind::kEnded;
  ev.job_id = c.job_id;
  ev.state = live::JobState::kFailed;
  ev.center_stopped = true;  // not the job's failure: the hub places it elsewhere
  ev.reason = fmt::format("refused by the agent of {}: {}", o_.center, why);
  Record(c.epoch, ev, true);
}

void Agent::Apply(const AgentCommand& c) {
  auto it = runs_.find(c.job_id);
  if (c.op != AgentCommand::Op::kLaunch) {
    if (it == runs_.end() || (c.epoch != 0 && it->second.epoch != c.epoch)) return;  // not that run
    Status st = c.op == AgentCommand::Op::kStop ? backend_->Stop(c.job_id, it->second.backend_id, c.notice)
                                                : backend_->Cancel(c.job_id, it->second.backend_id);
    if (!st.ok()) spdlog::warn("agent: job {}: cancel: {}", c.job_id, st.message());
    return;
  }
  if (it != runs_.end()) {
    if (it->second.epoch == c.epoch) return;  // launched already
    return Refuse(c, fmt::format("it still holds a run of it from epoch {}", it->second.epoch));
  }
  if (fenced_) return Refuse(c, "it has just stopped its runs, having lost the hub");
  if (o_.max_time_limit_s > 0 && live::EnforcedTimeLimitS(c.launch.spec) > o_.max_time_limit_s)
    return Refuse(c, fmt::format("the center's policy: a time limit of at most {} s (the job asks for {} s)",
                                 o_.max_time_limit_s, c.launch.spec.time_limit_s));
  // It starts now, at the center (a simulated run "runs" its duration from
  // here; an adopted one goes on from the time kept with its launch).
  AgentCommand launch = c;
  launch.launch.start_us = SystemUs();
  launch.launch.start_ms = WallMs{launch.launch.start_us / 1000};
  live::LaunchRequest req = launch.launch;
  req.job_dir = JobDir(c.job_id);
  AgentStore::Run rec{c.job_id, c.epoch, "", AgentCommandToJson(launch)};
  if (Status st = store_->PutRun(rec); !st.ok()) return Refuse(c, st.message());
  runs_[c.job_id] = Held{c.epoch, "", req, false};
  std::error_code ec;
  fs::create_directories(req.job_dir, ec);
  auto id = backend_->Launch(req);
  if (!id.ok()) return Refuse(c, fmt::format("its {} backend: {}", backend_->kind(), id.status().message()));
  rec.backend_id = *id;
  runs_[c.job_id].backend_id = *id;
  if (Status st = store_->PutRun(rec); !st.ok()) spdlog::error("agent: {}", st.message());
  if (!backend_->LaunchQueues()) {
    // It runs from now: the hub meters it from here.
    BackendEvent started;
    started.kind = BackendEvent::Kind::kStarted;
    started.job_id = c.job_id;
    started.at_ms = WallMs{SystemUs() / 1000};
    Record(c.epoch, started, false);
  }
  spdlog::info("agent: job {} launched (epoch {}, attempt {}) on {}", c.job_id, c.epoch, req.attempt, req.node);
}

void Agent::Fence() {
  if (fenced_ || SteadyMs() - last_ok_ < fence_ms_) return;
  fenced_ = true;
  if (runs_.empty()) return;
  spdlog::warn("agent: no word from the hub for {} s: stopping its {} run(s), which the hub may run elsewhere",
               fence_ms_ / 1000, runs_.size());
  for (auto& [id, h] : runs_) {
    h.fenced = true;
    if (h.backend_id.empty()) continue;
    if (Status st = backend_->Cancel(id, h.backend_id); !st.ok())
      spdlog::error("agent: job {}: cannot stop it: {}", id, st.message());
  }
}

void Agent::Run(const std::atomic<bool>& stop) {
  int64_t last_sync = 0;
  bool busy = true;
  while (!stop.load()) {
    PollBackend();
    Fence();
    const int64_t now = SteadyMs();
    auto pending = store_->Unacked(1);
    const bool has_events = pending.ok() && !pending->empty();
    if (busy || has_events || now - last_sync >= poll_ms_) {
      last_sync = now;
      const int64_t acked_before = acked_;
      const bool ok = Sync();
      busy = ok && acked_ != acked_before;  // commands came: answer them soon
      if (!ok) busy = false;
      if (busy) continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o_.tick_ms));
  }
}

}  // namespace

Status RunAgent(const AgentOptions& options, const std::atomic<bool>& stop) {
  if (options.hubs.empty()) return InvalidArgument("--hub: give at least one hub URL");
  std::error_code ec;
  fs::create_directories(fs::path(options.data_dir) / "jobs", ec);
  if (ec) return IoError("--data: cannot create '{}': {}", options.data_dir, ec.message());
  SUANLI_ASSIGN_OR_RETURN(auto store, AgentStore::Open((fs::path(options.data_dir) / "agent.db").string()));
  SUANLI_ASSIGN_OR_RETURN(auto backend,
                          live::MakeBackend(options.backend, options.center, options.data_dir, options.capacity));
  Agent agent(options, std::move(store), std::move(backend));
  SUANLI_RETURN_IF_ERROR(agent.Start());
  agent.Run(stop);
  return Status::Ok();
}

}  // namespace suanli::server
