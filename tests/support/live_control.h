// A running live control plane (ControlPlane) for tests: a scratch
// directory, server configs with a local center or a simulated network, job
// specs, callers, and waiting for a job's state while passes run. In a
// namespace of their own: other tests' helpers use some of the same names.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "live/control.h"

namespace suanli::testing::live_control {

// A fresh directory of this test, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "suanli-control-test.XXXXXX").string();
    if (char* d = ::mkdtemp(tmpl.data())) path_ = d;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

inline const live::Caller kAdmin{"admin", true};
inline const live::Caller kAlice{"alice", false};
inline const live::Caller kBob{"bob", false};

inline live::ServerConfig LocalConfig(const std::string& data, int slots) {
  live::ServerConfig c;
  c.data_dir = data;
  live::CenterConfig local;
  local.name = "local";
  local.backend.kind = "local";
  local.backend.slots = slots;
  local.backend.detect_gpus = false;
  local.backend.grace_s = 1;
  c.centers.push_back(local);
  c.pass_interval_ms = 100;
  return c;
}

inline live::ServerConfig SimulatedConfig(const std::string& data, const std::string& network) {
  live::ServerConfig c;
  c.data_dir = data;
  c.network = network;
  c.pass_interval_ms = 100;
  return c;
}

inline std::unique_ptr<live::ControlPlane> StartOrDie(const live::ServerConfig& config) {
  auto cp = live::ControlPlane::Start(config);
  EXPECT_TRUE(cp.ok()) << cp.status().message();
  return cp.ok() ? std::move(cp).value() : nullptr;
}

inline live::JobSpec Command(std::vector<std::string> argv) {
  live::JobSpec s;
  s.command = std::move(argv);
  s.time_limit_s = 120;
  return s;
}

inline live::JobSpec Sh(const std::string& script) { return Command({"sh", "-c", script}); }

// A job that writes where the test reads: local jobs are sandboxed, and write
// only their own directory and their declared working directory, `out`
// (created open to the job's uid).
inline live::JobSpec ShIn(const std::string& out, const std::string& script) {
  std::filesystem::create_directories(out);
  std::filesystem::permissions(out, std::filesystem::perms::all);
  live::JobSpec s = Sh(script);
  s.workdir = out;
  return s;
}

inline live::JobSpec Gpu(uint32_t gpus, int64_t duration_s) {
  live::JobSpec s = Command({"train"});
  s.gpus = gpus;
  s.cpu_milli = 1000;
  s.mem_mib = 1024;
  s.duration_s = duration_s;
  s.time_limit_s = 600;
  return s;
}

// Waits until `done` holds, running passes meanwhile; false on time-out.
inline bool WaitFor(live::ControlPlane& cp, const std::function<bool()>& done, double seconds = 20) {
  using Clock = std::chrono::steady_clock;
  auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (Clock::now() < end) {
    cp.PassNow();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline live::JobState StateOf(live::ControlPlane& cp, int64_t id) {
  auto r = cp.Get(kAdmin, id);
  return r.ok() ? r->state : live::JobState::kPending;
}

inline bool AllEnded(live::ControlPlane& cp, const std::vector<int64_t>& ids) {
  for (int64_t id : ids)
    if (!live::IsTerminal(StateOf(cp, id))) return false;
  return true;
}

// A control plane over the tiny network's simulated centers on a clock of
// the test's own (passes only when the test asks), in a directory of its
// own; Restart starts it again on the same store.
class ClockedNetwork {
 public:
  explicit ClockedNetwork(WallMs start, std::string dispatch = "", bool durable = true)
      : now_(start), dispatch_(std::move(dispatch)), durable_(durable) {
    Start();
  }
  ~ClockedNetwork() {
    if (cp_) cp_->Stop();
  }
  live::ControlPlane& cp() { return *cp_; }
  WallMs now() const { return now_.load(); }
  // Moves the clock to `t` (or on by `s` seconds) and runs a few passes.
  void MoveTo(WallMs t) {
    now_ = t;
    Passes();
  }
  void Advance(int64_t s) { MoveTo(now_.load() + s * 1000); }
  void Passes() {
    for (int i = 0; i < 3; ++i) cp_->PassNow();
  }
  Result<live::JobRecord> Submit(const live::JobSpec& spec) {
    auto r = cp_->Submit(kAdmin, spec);
    Passes();
    return r;
  }
  live::JobRecord Get(int64_t id) { return *cp_->Get(kAdmin, id); }
  void Restart() {
    cp_->Stop();
    cp_.reset();
    Start();
  }

 private:
  void Start() {
    live::ServerConfig c = SimulatedConfig(dir_ / "data", "tiny");
    if (!dispatch_.empty()) c.dispatch = dispatch_;
    c.pass_interval_ms = 3'600'000;  // passes when the test asks
    c.durable = durable_;
    c.clock = [this] { return CoreTime(now_.load()); };
    cp_ = StartOrDie(c);
    if (cp_) Passes();
  }

  ScratchDir dir_;
  std::atomic<WallMs> now_;
  std::string dispatch_;
  bool durable_ = true;
  std::unique_ptr<live::ControlPlane> cp_;
};

}  // namespace suanli::testing::live_control
