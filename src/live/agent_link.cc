#include "live/agent_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "live/control_internal.h"

namespace suanli::live {

namespace {

// The most commands one answer carries (the rest follow in the next).
constexpr size_t kMaxCommandsPerSync = 256;

std::string HubId() {
  auto t = RandomToken();
  return t.ok() ? t->substr(0, 16) : std::string("hub");
}

}  // namespace

std::optional<int64_t> AgentEpochOf(const std::string& backend_id) {
  constexpr std::string_view kPrefix = "agent:";
  if (backend_id.rfind(kPrefix, 0) != 0) return std::nullopt;
  auto e = ParseInt(std::string_view(backend_id).substr(kPrefix.size()));
  if (!e || *e < 0) return std::nullopt;
  return e;
}

AgentLink::AgentLink(std::string center, AgentLinkOptions options, std::function<int64_t()> now_ms,
                     std::function<WallMs()> wall_ms)
    : center_(std::move(center)),
      options_(options),
      now_ms_(std::move(now_ms)),
      wall_ms_(std::move(wall_ms)),
      hub_id_(HubId()),
      started_(now_ms_()) {}

void AgentLink::Bind(int64_t epoch, std::function<void(int64_t)> save_epoch) {
  std::lock_guard<std::mutex> lk(mu_);
  epoch_ = std::max<int64_t>(epoch, 1);
  save_epoch_ = std::move(save_epoch);
}

std::string AgentLink::Launch(const LaunchRequest& req) {
  std::lock_guard<std::mutex> lk(mu_);
  AgentCommand cmd;
  cmd.seq = next_seq_++;
  cmd.op = AgentCommand::Op::kLaunch;
  cmd.job_id = req.job_id;
  cmd.epoch = epoch_;
  cmd.launch = req;
  cmd.launch.job_dir.clear();
  cmd.launch.dataset_dir.clear();
  expected_[req.job_id] = Expected{epoch_, cmd.seq};
  outbox_.push_back(std::move(cmd));
  return fmt::format("agent:{}", epoch_);
}

void AgentLink::Cancel(int64_t job_id, int64_t epoch, std::optional<StopNotice> notice) {
  std::lock_guard<std::mutex> lk(mu_);
  AgentCommand cmd;
  cmd.seq = next_seq_++;
  cmd.op = notice ? AgentCommand::Op::kStop : AgentCommand::Op::kCancel;
  cmd.job_id = job_id;
  cmd.epoch = epoch;
  if (notice) cmd.notice = *notice;
  outbox_.push_back(std::move(cmd));
}

void AgentLink::Adopt(int64_t job_id, int64_t epoch) {
  std::lock_guard<std::mutex> lk(mu_);
  expected_[job_id] = Expected{epoch, 0};
}

Result<std::vector<BackendEvent>> AgentLink::Take() {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = now_ms_();
  if (last_seen_ < 0) {
    if (now - started_ >= options_.lost_after_ms)
      return Unavailable("the agent of center '{}' has not connected since the server started", center_);
  } else if (now - last_seen_ > options_.lost_after_ms) {
    return Unavailable("no word from the agent of center '{}' for {} s", center_, (now - last_seen_) / 1000);
  }
  if (!backend_error_.empty())
    return Unavailable("the agent of center '{}' says its backend does not answer: {}", center_, backend_error_);
  std::vector<BackendEvent> out;
  out.swap(inbox_);
  return out;
}

void AgentLink::NodesReported(const BackendCapacity& cap) {
  std::set<std::string> seen;
  for (const BackendNode& n : cap.nodes) {
    seen.insert(n.name);
    auto it = nodes_up_.find(n.name);
    if (it != nodes_up_.end() && it->second == n.up) continue;
    if (it == nodes_up_.end() && n.up) {
      nodes_up_[n.name] = true;
      continue;
    }
    nodes_up_[n.name] = n.up;
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kNode;
    ev.node = n.name;
    ev.up = n.up;
    ev.reason = n.up ? "up (its agent says)" : "down (its agent says)";
    inbox_.push_back(std::move(ev));
  }
  for (auto& [name, up] : nodes_up_) {
    if (seen.count(name) || !up) continue;
    up = false;
    BackendEvent ev;
    ev.kind = BackendEvent::Kind::kNode;
    ev.node = name;
    ev.up = false;
    ev.reason = "no longer reported by its agent";
    inbox_.push_back(std::move(ev));
  }
}

AgentSyncResponse AgentLink::Sync(const AgentSyncRequest& req, std::vector<AgentEvent>* outputs) {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = now_ms_();
  if (last_seen_ >= 0 && now - last_seen_ >= options_.lease_ms) {
    // Away long enough for the hub to have requeued its runs elsewhere: what
    // is launched from now on is of a new epoch.
    ++epoch_;
    if (save_epoch_) save_epoch_(epoch_);
    spdlog::warn("center={} its agent is back after {} s; epoch {}", center_, (now - last_seen_) / 1000, epoch_);
  } else if (last_seen_ < 0) {
    spdlog::info("center={} its agent {} connected (epoch {})", center_, req.agent_id, epoch_);
  }
  last_seen_ = now;
  last_seen_wall_ = wall_ms_();
  agent_id_ = req.agent_id;
  backend_error_ = req.backend_error;
  if (req.capacity) NodesReported(*req.capacity);
  if (req.hub_id == hub_id_) std::erase_if(outbox_, [&](const AgentCommand& c) { return c.seq <= req.acked; });
  std::set<int64_t> ended;
  bool freed = false;
  for (const AgentEvent& e : req.events) {
    if (e.seq <= acked_events_) continue;  // sent again: taken already
    acked_events_ = e.seq;
    const BackendEvent& ev = e.ev;
    if (e.kind != AgentEvent::Kind::kBackend) {
      // Output of a run the hub launched there, in that epoch; else dropped.
      auto it = expected_.find(ev.job_id);
      if (outputs && it != expected_.end() && it->second.epoch == e.epoch) outputs->push_back(e);
      continue;
    }
    if (ev.kind != BackendEvent::Kind::kNode) {
      if (ev.kind == BackendEvent::Kind::kEnded || ev.kind == BackendEvent::Kind::kLost) {
        ended.insert(ev.job_id);
        freed = true;
      }
      auto it = expected_.find(ev.job_id);
      if (it != expected_.end() && it->second.epoch != e.epoch) {
        spdlog::info("center={} job={} event of its run of epoch {} dropped: the hub launched it in epoch {}", center_,
                     ev.job_id, e.epoch, it->second.epoch);
        continue;
      }
      if (it != expected_.end() && (ev.kind == BackendEvent::Kind::kEnded || ev.kind == BackendEvent::Kind::kLost))
        expected_.erase(it);
    }
    inbox_.push_back(ev);
  }
  // Runs the hub believes are there that the agent says it does not hold,
  // once it has seen their launch: lost.
  std::map<int64_t, int64_t> held;
  for (const AgentRun& r : req.runs) held[r.job_id] = r.epoch;
  for (auto it = expected_.begin(); it != expected_.end();) {
    const auto h = held.find(it->first);
    const bool seen = it->second.launch_seq == 0 || (req.hub_id == hub_id_ && req.acked >= it->second.launch_seq);
    if (seen && (h == held.end() || h->second != it->second.epoch)) {
      BackendEvent ev;
      ev.kind = BackendEvent::Kind::kLost;
      ev.job_id = it->first;
      ev.state = JobState::kFailed;
      ev.reason = fmt::format("the agent of center '{}' does not hold its run", center_);
      inbox_.push_back(std::move(ev));
      it = expected_.erase(it);
    } else {
      ++it;
    }
  }
  // Runs it holds that the hub does not know of (launched before the hub
  // restarted and never recorded, or given up on): stopped, once.
  for (const auto& [job, epoch] : held) {
    if (expected_.count(job) || ended.count(job) || !told_to_stop_.insert({job, epoch}).second) continue;
    spdlog::warn("center={} job={} its agent holds a run (epoch {}) the hub does not expect there: stopped", center_,
                 job, epoch);
    AgentCommand cmd;
    cmd.seq = next_seq_++;
    cmd.op = AgentCommand::Op::kCancel;
    cmd.job_id = job;
    cmd.epoch = epoch;
    outbox_.push_back(std::move(cmd));
  }
  // Forgotten once the agent no longer holds them.
  std::erase_if(told_to_stop_, [&](const std::pair<int64_t, int64_t>& r) {
    const auto h = held.find(r.first);
    return h == held.end() || h->second != r.second;
  });
  AgentSyncResponse res;
  res.hub_id = hub_id_;
  res.epoch = epoch_;
  res.acked = acked_events_;
  const size_t n = std::min(outbox_.size(), kMaxCommandsPerSync);
  res.commands.assign(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(n));
  res.poll_ms = freed ? std::min(options_.poll_ms, options_.follow_up_ms) : options_.poll_ms;
  res.fence_ms = options_.lease_ms / 2;
  return res;
}

AgentLinkView AgentLink::View() const {
  std::lock_guard<std::mutex> lk(mu_);
  AgentLinkView v;
  v.connected = last_seen_ >= 0 && now_ms_() - last_seen_ <= options_.lost_after_ms;
  v.last_seen_ms = last_seen_wall_;
  v.epoch = epoch_;
  v.agent_id = agent_id_;
  return v;
}

Result<BackendCapacity> AgentBackend::Probe() {
  return Status(StatusCode::kFailedPrecondition, "an agent's center takes its nodes from the server's network file");
}

Status AgentBackend::Cancel(int64_t job_id, const std::string& backend_id) {
  link_->Cancel(job_id, AgentEpochOf(backend_id).value_or(0), std::nullopt);
  return Status::Ok();
}

Status AgentBackend::Stop(int64_t job_id, const std::string& backend_id, const StopNotice& notice) {
  link_->Cancel(job_id, AgentEpochOf(backend_id).value_or(0), notice);
  return Status::Ok();
}

Result<std::vector<BackendEvent>> AgentBackend::Poll(WallMs now) {
  (void)now;
  return link_->Take();
}

Status AgentBackend::Adopt(const LaunchRequest& req, const std::string& backend_id) {
  auto e = AgentEpochOf(backend_id);
  if (!e) return InvalidArgument("'{}' is not the backend id of an agent's run", backend_id);
  link_->Adopt(req.job_id, *e);
  return Status::Ok();
}

}  // namespace suanli::live
