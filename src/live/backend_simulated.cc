#include "live/backend_simulated.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "base/strings.h"

namespace suanli::live {
namespace {

// How long a service's replica with no duration_s runs here: until it is
// stopped (a century).
constexpr int64_t kForeverUs = int64_t{100} * 365 * 86400 * 1'000'000;

struct SimJob {
  int64_t end_us = 0;
  bool limited = false;        // ends at its time limit (failed)
  bool device_failed = false;  // ends by an injected device failure
  int64_t time_limit_s = 0;
  bool cancelled = false;
};

struct HeapEntry {
  int64_t end_us;
  int64_t job_id;
  bool operator>(const HeapEntry& o) const { return end_us != o.end_us ? end_us > o.end_us : job_id > o.job_id; }
};

class SimulatedBackend final : public Backend {
 public:
  SimulatedBackend(std::string center, BackendCapacity capacity)
      : center_(std::move(center)), capacity_(std::move(capacity)) {
    for (size_t i = 0; i < capacity_.nodes.size(); ++i) nodes_[capacity_.nodes[i].name] = i;
  }

  std::string_view kind() const override { return "simulated"; }

  Result<BackendCapacity> Probe() override { return capacity_; }

  Result<std::string> Launch(const LaunchRequest& req) override {
    SUANLI_RETURN_IF_ERROR(Answering());
    auto running = jobs_.find(req.job_id);
    if (running != jobs_.end() && !running->second.cancelled)
      return InvalidArgument("job {} is already running in center {}", req.job_id, center_);
    if (!req.node.empty() || !req.devices.empty()) {
      SUANLI_ASSIGN_OR_RETURN(auto hosts, req.Hosts());
      for (const LaunchRequest::Host& h : hosts) {
        auto it = nodes_.find(h.name);
        if (it == nodes_.end())
          return InvalidArgument("job {}: center {} has no node '{}'", req.job_id, center_, h.name);
        const BackendNode& n = capacity_.nodes[it->second];
        std::unordered_set<int> seen;
        for (int d : h.devices) {
          if (d < 0 || d >= n.devices || !seen.insert(d).second) {
            return InvalidArgument("job {}: device {} is not one of node '{}' ({} devices), or is listed twice",
                                   req.job_id, d, n.name, n.devices);
          }
        }
      }
    }
    if (running != jobs_.end()) {
      // Cancelled, its end not reported yet: the new run replaces it (a
      // replay's job preempted and started again in one pass).
      jobs_.erase(running);
      std::erase(cancelled_, req.job_id);
    }
    Add(req);
    return fmt::format("sim-{}", req.job_id);
  }

  Status Cancel(int64_t job_id, const std::string& backend_id) override {
    SUANLI_RETURN_IF_ERROR(Answering());
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      return NotFound("job {} (backend id {}) is not running in center {}", job_id, backend_id, center_);
    }
    if (!it->second.cancelled) {
      it->second.cancelled = true;
      cancelled_.push_back(job_id);
    }
    return Status::Ok();
  }

  Result<std::vector<BackendEvent>> Poll(WallMs now) override { return PollUs(CoreTime(now)); }

  int64_t NextEventUs() override {
    if (away_) return INT64_MAX;                                  // nothing until it is back
    if (!cancelled_.empty() || !lost_.empty()) return INT64_MIN;  // reported at the next poll, whenever that is
    DropStale();
    return heap_.empty() ? INT64_MAX : heap_.top().end_us;
  }

  Result<std::vector<BackendEvent>> PollUs(int64_t now_us) override {
    SUANLI_RETURN_IF_ERROR(Answering());
    const WallMs now = WallOf(now_us);
    std::vector<BackendEvent> events;
    // Back from an outage: the runs it lost then.
    for (int64_t id : lost_) {
      BackendEvent ev;
      ev.job_id = id;
      ev.kind = BackendEvent::Kind::kLost;
      ev.state = JobState::kFailed;
      ev.reason = "lost in an outage of the center";
      ev.at_ms = WallOf(away_since_us_);
      events.push_back(std::move(ev));
    }
    lost_.clear();
    for (int64_t id : cancelled_) {
      auto it = jobs_.find(id);
      if (it == jobs_.end()) continue;
      BackendEvent ev;
      ev.job_id = id;
      ev.state = JobState::kCancelled;
      ev.reason = "cancelled";
      ev.at_ms = std::min(now, WallOf(it->second.end_us));
      events.push_back(std::move(ev));
      jobs_.erase(it);
    }
    cancelled_.clear();
    while (!heap_.empty() && heap_.top().end_us <= now_us) {
      HeapEntry e = heap_.top();
      heap_.pop();
      auto it = jobs_.find(e.job_id);
      if (it == jobs_.end() || it->second.end_us != e.end_us) continue;  // cancelled, or re-adopted
      BackendEvent ev;
      ev.job_id = e.job_id;
      ev.at_ms = WallOf(e.end_us);
      if (it->second.device_failed) {
        ev.state = JobState::kFailed;
        ev.center_stopped = true;
        ev.reason = "device failure";
      } else if (it->second.limited) {
        ev.state = JobState::kFailed;
        ev.signal = 15;
        ev.reason = fmt::format("time limit {} s exceeded", it->second.time_limit_s);
      } else {
        ev.state = JobState::kSucceeded;
        ev.exit_code = 0;
        ev.reason = "exit 0";
      }
      events.push_back(std::move(ev));
      jobs_.erase(it);
    }
    return events;
  }

  Status Adopt(const LaunchRequest& req, const std::string& backend_id) override {
    SUANLI_RETURN_IF_ERROR(Answering());
    std::string want = fmt::format("sim-{}", req.job_id);
    if (backend_id != want) {
      return InvalidArgument("job {}: backend id '{}' is not a simulated job's (expected '{}')", req.job_id, backend_id,
                             want);
    }
    jobs_.erase(req.job_id);
    Add(req);
    return Status::Ok();
  }

  void SetAway(bool away, int64_t at_us) {
    if (away == away_) return;
    away_ = away;
    if (!away) return;
    // Its runs are lost (reported when it is back), in the order of their ids.
    away_since_us_ = at_us;
    for (const auto& [id, j] : jobs_) lost_.push_back(id);
    std::sort(lost_.begin(), lost_.end());
    jobs_.clear();
    cancelled_.clear();
    heap_ = {};
  }

 private:
  Status Answering() const {
    if (away_) return Unavailable("center {} is away (a simulated outage)", center_);
    return Status::Ok();
  }

  // Heap entries of runs cancelled or adopted again.
  void DropStale() {
    while (!heap_.empty()) {
      auto it = jobs_.find(heap_.top().job_id);
      if (it != jobs_.end() && it->second.end_us == heap_.top().end_us) return;
      heap_.pop();
    }
  }

  void Add(const LaunchRequest& req) {
    SimJob j;
    const int64_t limit = EnforcedTimeLimitS(req.spec);
    int64_t run_us = req.run_us;
    if (run_us <= 0 && req.spec.replicas > 0 && req.spec.duration_s == 0) {
      run_us = kForeverUs;  // a replica runs until it is stopped
    } else if (run_us <= 0) {
      const int64_t duration = req.spec.duration_s > 0 ? req.spec.duration_s : limit;
      // A run after a preemption goes on from the work its earlier runs kept.
      const double done = std::isfinite(req.done_s) ? std::clamp(req.done_s, 0.0, 1e12) : 0.0;
      run_us = std::max<int64_t>(0, std::llround((static_cast<double>(duration) - done) * 1000.0)) * 1000;
    }
    if (limit > 0 && run_us > limit * 1'000'000) {
      run_us = limit * 1'000'000;
      j.limited = true;
    }
    if (req.fail_after_us > 0 && req.fail_after_us < run_us) {
      run_us = req.fail_after_us;
      j.device_failed = true;
      j.limited = false;
    }
    j.time_limit_s = limit;
    j.end_us = (req.start_us > 0 ? req.start_us : CoreTime(req.start_ms)) + run_us;
    jobs_[req.job_id] = j;
    heap_.push({j.end_us, req.job_id});
  }

  std::string center_;
  BackendCapacity capacity_;
  std::unordered_map<std::string, size_t> nodes_;
  std::unordered_map<int64_t, SimJob> jobs_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<HeapEntry>> heap_;
  std::vector<int64_t> cancelled_;
  bool away_ = false;
  int64_t away_since_us_ = 0;
  std::vector<int64_t> lost_;  // runs lost in an outage, reported when it is back
};

}  // namespace

Result<std::unique_ptr<Backend>> MakeSimulatedBackend(const std::string& center, const BackendCapacity& capacity) {
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < capacity.nodes.size(); ++i) {
    const BackendNode& n = capacity.nodes[i];
    if (n.name.empty()) return InvalidArgument("center {}: node {} has no name", center, i);
    if (!names.insert(n.name).second) return InvalidArgument("center {}: node '{}' listed twice", center, n.name);
    if (n.devices < 0 || n.cpu_milli < 0 || n.mem_mib < 0) {
      return InvalidArgument("center {}: node '{}' has a negative count", center, n.name);
    }
  }
  return std::unique_ptr<Backend>(new SimulatedBackend(center, capacity));
}

Status SetSimulatedCenterAway(Backend& backend, bool away, int64_t at_us) {
  auto* sim = dynamic_cast<SimulatedBackend*>(&backend);
  if (sim == nullptr) return InvalidArgument("only a simulated center can be sent away, not a {} one", backend.kind());
  sim->SetAway(away, at_us);
  return Status::Ok();
}

BackendCapacity CapacityOf(const Network& net, CenterId c, const Catalog& catalog) {
  BackendCapacity cap;
  for (const Node& n : net.nodes) {
    if (n.center != c) continue;
    BackendNode b;
    b.name = n.name;
    b.model = n.model == kNoModel ? "" : catalog.model(n.model).name;
    b.devices = n.devices;
    b.cpu_milli = n.cpu_milli;
    b.mem_mib = n.mem_mib;
    cap.nodes.push_back(std::move(b));
  }
  return cap;
}

}  // namespace suanli::live
