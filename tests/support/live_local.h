// The local backend's tests: its configuration on this machine, a job's
// launch request, and waiting for a job's end or its first output. In a
// namespace of their own: other tests' helpers use some of the same names.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "live/backend.h"
#include "support/live_backend.h"

namespace suanli::testing::live_local {

using ::suanli::WallMs;
using ::suanli::live::Backend;
using ::suanli::live::BackendConfig;
using ::suanli::live::BackendEvent;
using ::suanli::live::LaunchRequest;
using Clock = std::chrono::steady_clock;

inline WallMs Now() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

inline BackendConfig LocalConfig(int grace_s = 2) {
  BackendConfig c;
  c.kind = "local";
  c.detect_gpus = false;
  c.slots = 2;
  c.grace_s = grace_s;
  return c;
}

inline std::unique_ptr<Backend> MakeLocal(const std::string& data_dir, int grace_s = 2) {
  auto b = ::suanli::live::MakeBackend(LocalConfig(grace_s), "here", data_dir, {});
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

inline LaunchRequest Request(int64_t id, const std::string& data_dir, std::vector<std::string> command) {
  LaunchRequest r;
  r.job_id = id;
  r.spec.command = std::move(command);
  r.spec.time_limit_s = 600;
  r.job_dir = data_dir + "/jobs/" + std::to_string(id);
  r.start_ms = Now();
  return r;
}

// Polls until job `id` ends (or `timeout_s` passes). Events of other jobs
// are kept for later calls (or appended to `others` when given).
inline std::optional<BackendEvent> WaitEnd(Backend& b, int64_t id, double timeout_s,
                                           std::vector<BackendEvent>* others = nullptr) {
  static std::map<Backend*, std::vector<BackendEvent>> kept;
  auto take = [&]() -> std::optional<BackendEvent> {
    auto& k = kept[&b];
    for (size_t i = 0; i < k.size(); ++i) {
      if (k[i].job_id == id) {
        BackendEvent e = k[i];
        k.erase(k.begin() + static_cast<long>(i));
        return e;
      }
    }
    return std::nullopt;
  };
  if (auto e = take()) return e;
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    auto evs = b.Poll(Now());
    EXPECT_TRUE(evs.ok()) << evs.status().message();
    if (!evs.ok()) return std::nullopt;
    for (BackendEvent& e : *evs) {
      if (e.kind == BackendEvent::Kind::kStarted) continue;
      if (others != nullptr && e.job_id != id) {
        others->push_back(e);
      } else {
        kept[&b].push_back(e);
      }
    }
    if (auto e = take()) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

// Waits until a job has written to `path` (its stdout): it runs. Its
// supervisor and reaper start in milliseconds, an instrumented (sanitizer)
// build of them in up to a second or so.
inline bool WaitOutput(const std::string& path, double timeout_s = 30) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (::suanli::testing::live_backend::ReadAll(path).empty()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace suanli::testing::live_local
