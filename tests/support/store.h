// Opening live stores and changing their databases behind their back, and
// jobs to store, read back, compare and list, for the store's tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "live/store.h"

namespace suanli::testing {

inline std::unique_ptr<live::Store> OpenOrDie(const std::string& path, const live::StoreOptions& opt = {}) {
  auto s = live::Store::Open(path, opt);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

// No fsync per commit: for tests that do not kill the process.
inline live::StoreOptions Fast() {
  live::StoreOptions o;
  o.synchronous_full = false;
  return o;
}

// Runs SQL on the database file directly.
inline void RawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

inline live::JobRecord FullJob() {
  live::JobRecord r;
  r.tenant = "alice";
  r.spec.name = "train \"big\" 'one'";
  r.spec.command = {"python3", "-c", "print('hi, \\n there')", ""};
  r.spec.env = {{"A", "1"}, {"PATH_EXTRA", "/opt/x:/y"}, {"EMPTY", ""}, {"UNI", "算力"}};
  r.spec.workdir = "/srv/jobs/7";
  r.spec.gpus = 4000000u;  // the most whole devices a Gpus holds, about
  r.spec.cpu_milli = 123456;
  r.spec.mem_mib = 987654321012;
  r.spec.models = {"a100", "ascend-910"};
  r.spec.stacks = {"cuda", "cann"};
  r.spec.workload_class = "training";
  r.spec.time_limit_s = 7200;
  r.spec.duration_s = 33;
  r.spec.priority = -17;
  r.spec.center = "beijing";
  r.spec.checkpoint_s = 1800;
  r.spec.grace_s = 120;
  r.spec.stop_signal = "USR2";
  r.spec.deadline = "2026-12-05T06:00:00+08:00";
  r.state = live::JobState::kRunning;
  r.submit_ms = WallMs(1700000000123);
  r.start_ms = WallMs(1700000000456);
  r.end_ms = WallMs(1700000000789);
  r.center = "shanghai";
  r.model = "a100";
  r.node = "node-03";
  r.devices = {0, 3, 7};
  r.backend_id = "slurm:4242";
  r.exit_code = 137;
  r.signal = 9;
  r.reason = "out of memory";
  r.est_start_ms = WallMs(1700000009999);
  r.gpu_seconds = 1234.5;
  r.energy_kwh = 0.125;
  r.cost = 3.75;
  r.carbon_kg = 0.0625;
  r.checkpoint_ms = WallMs(1700000000600);
  r.events = {{WallMs(1700000000123), "submitted", "submitted by alice"},
              {WallMs(1700000000456), "started", "attempt 1 on shanghai node node-03 devices 0,3,7 — 算力"}};
  return r;
}

inline void ExpectSameJob(const live::JobRecord& a, const live::JobRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant, b.tenant);
  EXPECT_EQ(a.spec.name, b.spec.name);
  EXPECT_EQ(a.spec.command, b.spec.command);
  EXPECT_EQ(a.spec.env, b.spec.env);
  EXPECT_EQ(a.spec.workdir, b.spec.workdir);
  EXPECT_EQ(a.spec.gpus, b.spec.gpus);
  EXPECT_EQ(a.spec.cpu_milli, b.spec.cpu_milli);
  EXPECT_EQ(a.spec.mem_mib, b.spec.mem_mib);
  EXPECT_EQ(a.spec.models, b.spec.models);
  EXPECT_EQ(a.spec.stacks, b.spec.stacks);
  EXPECT_EQ(a.spec.workload_class, b.spec.workload_class);
  EXPECT_EQ(a.spec.time_limit_s, b.spec.time_limit_s);
  EXPECT_EQ(a.spec.duration_s, b.spec.duration_s);
  EXPECT_EQ(a.spec.priority, b.spec.priority);
  EXPECT_EQ(a.spec.center, b.spec.center);
  EXPECT_EQ(a.spec.checkpoint_s, b.spec.checkpoint_s);
  EXPECT_EQ(a.spec.grace_s, b.spec.grace_s);
  EXPECT_EQ(a.spec.stop_signal, b.spec.stop_signal);
  EXPECT_EQ(a.spec.deadline, b.spec.deadline);
  EXPECT_TRUE(a.spec == b.spec) << "a spec field differs";
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.submit_ms, b.submit_ms);
  EXPECT_EQ(a.start_ms, b.start_ms);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_EQ(a.center, b.center);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.backend_id, b.backend_id);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.est_start_ms, b.est_start_ms);
  EXPECT_EQ(a.gpu_seconds, b.gpu_seconds);
  EXPECT_EQ(a.energy_kwh, b.energy_kwh);
  EXPECT_EQ(a.cost, b.cost);
  EXPECT_EQ(a.carbon_kg, b.carbon_kg);
  EXPECT_EQ(a.checkpoint_ms, b.checkpoint_ms);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].time_ms, b.events[i].time_ms) << i;
    EXPECT_EQ(a.events[i].kind, b.events[i].kind) << i;
    EXPECT_EQ(a.events[i].message, b.events[i].message) << i;
  }
}

inline live::JobRecord Fetch(live::Store& s, int64_t id) {
  auto g = s.GetJob(id);
  EXPECT_TRUE(g.ok()) << g.status().message();
  if (!g.ok() || !g->has_value()) {
    ADD_FAILURE() << "job " << id << " missing";
    return {};
  }
  return **g;
}

inline std::vector<int64_t> Ids(const std::vector<live::JobRecord>& v) {
  std::vector<int64_t> out;
  for (const auto& r : v) out.push_back(r.id);
  return out;
}

// Every row, newest first, by paging with before_id.
inline std::vector<live::JobRecord> ListAll(live::Store& s, live::JobFilter f) {
  std::vector<live::JobRecord> all;
  f.limit = 1000;
  f.before_id = 0;
  for (;;) {
    auto page = s.ListJobs(f);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (!page.ok() || page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
    f.before_id = page->back().id;
  }
  return all;
}

}  // namespace suanli::testing
