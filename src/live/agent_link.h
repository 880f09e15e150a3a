// The hub's end of a center agent's link (docs/network.md).
//
// A center run by its own organization joins the hub through `suanli agent`,
// which runs next to the center's resource manager and connects OUT to the
// hub: every poll_ms it sends one sync (POST /api/v1/agent/sync) carrying
// the events its backend reported since the last one that was acknowledged,
// the runs it holds and, now and then, its capacity; the answer carries the
// launches and cancels the hub decided meanwhile and acknowledges the events.
//
// On the hub, such a center's backend is an AgentBackend (kind "agent"):
// Launch and Cancel leave a command in the link, Poll takes the events the
// agent sent, and a link the agent has not synced for `lost_after_ms` makes
// Poll fail, which is how the control loop sees any center stop answering
// (unavailable, then its running jobs requeued after center_timeout_s).
//
// Fencing: every launch carries the link's epoch, which grows each time the
// agent comes back after a silence long enough for the hub to have requeued
// its runs; an event of a run from another epoch than the one the hub
// launched is dropped. The agent stops its runs by itself once it has not
// reached the hub for fence_ms (less than the hub's requeue delay), so a job
// never runs at two centers at once; runs the hub gave up on meanwhile are
// cancelled there when the agent is back (the control loop's abandoned runs).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "live/backend.h"

namespace suanli::live {

// One run an agent holds: its job and the epoch it was launched in.
struct AgentRun {
  int64_t job_id = 0;
  int64_t epoch = 0;
  bool operator==(const AgentRun&) const = default;
};

// A backend event as the agent sends it: numbered by the agent (from 1, for
// good: its store keeps the count), and tagged with its run's epoch. Or what
// a run wrote that the hub shows (`kind`): new bytes of its stdout or stderr
// (ev.job_id, `stream`, `data`), or the time of its checkpoint mark
// (ev.job_id, ev.at_ms).
// The most of a run's stdout (and of its stderr) the hub keeps.
inline constexpr int64_t kMaxAgentLogBytes = int64_t{64} << 20;

struct AgentEvent {
  enum class Kind : uint8_t { kBackend, kLog, kCheckpoint };
  int64_t seq = 0;
  int64_t epoch = 0;
  Kind kind = Kind::kBackend;
  BackendEvent ev;
  std::string stream;  // kLog: stdout | stderr
  std::string data;    // kLog
};

struct AgentCommand {
  enum class Op : uint8_t { kLaunch, kCancel, kStop };
  int64_t seq = 0;  // numbered by the hub's link, from 1 in each hub process (hub_id)
  Op op = Op::kLaunch;
  int64_t job_id = 0;
  int64_t epoch = 0;     // kLaunch: the run's epoch
  LaunchRequest launch;  // kLaunch (job_dir and dataset_dir are the agent's to set)
  StopNotice notice;     // kStop
};

struct AgentSyncRequest {
  std::string agent_id;  // the agent's store (a restarted agent keeps it)
  std::string hub_id;    // the hub process whose commands `acked` counts ("" = none yet)
  int64_t acked = 0;     // commands of hub_id applied, up to this seq
  std::vector<AgentEvent> events;
  // The runs it holds, and every job with an event not yet acknowledged.
  std::vector<AgentRun> runs;
  std::optional<BackendCapacity> capacity;  // sent on connect and when it changed
  std::string backend_error;                // its backend does not answer (why)
};

struct AgentSyncResponse {
  std::string hub_id;
  int64_t epoch = 0;
  int64_t acked = 0;  // events up to this seq were taken
  std::vector<AgentCommand> commands;
  int64_t poll_ms = 1000;  // next sync at most this much later
  int64_t fence_ms = 0;    // stop every run once the hub has not been reached this long
};

// What GET /api/v1/centers shows of an agent's link.
struct AgentLinkView {
  bool connected = false;
  WallMs last_seen_ms{};
  int64_t epoch = 0;
  std::string agent_id;
};

struct AgentLinkOptions {
  int64_t poll_ms = 1000;
  int64_t lost_after_ms = 5000;  // no sync this long: the center does not answer
  int64_t lease_ms = 30000;      // the hub's requeue delay (center_timeout_s)
  // After a sync that freed capacity (a run ended or was lost), the agent is
  // asked back this soon: the pass it wakes has likely decided the launches
  // that fill it by then.
  int64_t follow_up_ms = 100;
};

class AgentLink {
 public:
  // `now_ms`: a steady clock in ms; `wall_ms`: the wall clock.
  AgentLink(std::string center, AgentLinkOptions options, std::function<int64_t()> now_ms,
            std::function<WallMs()> wall_ms);
  // Before the first sync: the epoch the store kept, and how a new one is
  // kept (called with the link's lock held).
  void Bind(int64_t epoch, std::function<void(int64_t)> save_epoch);

  const std::string& center() const { return center_; }

  // The hub's backend (the control loop's thread).
  std::string Launch(const LaunchRequest& req);  // the backend id: "agent:EPOCH"
  // Cancels (or stops with notice) the job's run of `epoch` (0: whichever).
  void Cancel(int64_t job_id, int64_t epoch, std::optional<StopNotice> notice);
  void Adopt(int64_t job_id, int64_t epoch);
  // The events received, and runs the agent no longer holds (kLost); an
  // error when the agent has not synced for lost_after_ms.
  Result<std::vector<BackendEvent>> Take();

  // The HTTP handler (any thread). `outputs`: the logs and checkpoints of
  // runs the hub launched there, in that epoch (the caller checks that the
  // job still runs at this center).
  AgentSyncResponse Sync(const AgentSyncRequest& req, std::vector<AgentEvent>* outputs = nullptr);
  AgentLinkView View() const;

 private:
  void NodesReported(const BackendCapacity& cap);  // mu_ held

  struct Expected {
    int64_t epoch = 0;
    int64_t launch_seq = 0;  // its launch command (0: adopted)
  };
  const std::string center_;
  const AgentLinkOptions options_;
  const std::function<int64_t()> now_ms_;
  const std::function<WallMs()> wall_ms_;
  const std::string hub_id_;
  mutable std::mutex mu_;
  std::function<void(int64_t)> save_epoch_;
  int64_t epoch_ = 1;
  int64_t next_seq_ = 1;
  std::vector<AgentCommand> outbox_;  // not yet acknowledged
  std::vector<BackendEvent> inbox_;
  std::map<int64_t, Expected> expected_;  // the runs the hub believes are there
  int64_t acked_events_ = 0;
  std::string agent_id_;
  int64_t last_seen_ = -1;  // steady ms; -1: not since this process started
  WallMs last_seen_wall_{};
  std::string backend_error_;
  int64_t started_;
  std::map<std::string, bool> nodes_up_;                // as the agent last reported them
  std::set<std::pair<int64_t, int64_t>> told_to_stop_;  // (job, epoch) runs it was told to stop
};

// The hub's backend of an agent's center.
class AgentBackend : public Backend {
 public:
  explicit AgentBackend(std::shared_ptr<AgentLink> link) : link_(std::move(link)) {}
  std::string_view kind() const override { return "agent"; }
  Result<BackendCapacity> Probe() override;
  Result<std::string> Launch(const LaunchRequest& req) override { return link_->Launch(req); }
  // A launch is a command the agent has yet to take: the job runs from the
  // start its agent reports.
  bool LaunchQueues() const override { return true; }
  Status Cancel(int64_t job_id, const std::string& backend_id) override;
  Status Stop(int64_t job_id, const std::string& backend_id, const StopNotice& notice) override;
  Result<std::vector<BackendEvent>> Poll(WallMs now) override;
  Status Adopt(const LaunchRequest& req, const std::string& backend_id) override;
  const std::shared_ptr<AgentLink>& link() const { return link_; }

 private:
  std::shared_ptr<AgentLink> link_;
};

// "agent:7" -> 7.
std::optional<int64_t> AgentEpochOf(const std::string& backend_id);

}  // namespace suanli::live
