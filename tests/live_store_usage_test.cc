// The live store's usage: each run of a job is booked in the hours it ran
// in (the slices its metering gives), pro rata when a range cuts an hour;
// jobs are counted in the hour they ended.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/store.h"
#include "live/store_schema.h"
#include "support/cli.h"
#include "support/store.h"

namespace suanli::live {
namespace {

using ::suanli::testing::Fast;
using ::suanli::testing::OpenOrDie;
using ::suanli::testing::RawExec;
using ::suanli::testing::TempDir;

constexpr int64_t kHour = 3600000;
constexpr int64_t kMin = 60000;
const int64_t kH0 = (1700000000000 / kHour + 1) * kHour;  // an hour's start

UsageSlice Slice(int64_t from, int64_t to, double g, double e, double c, double k) {
  UsageSlice s;
  s.hour = from / kHour;
  s.start_ms = WallMs(from);
  s.end_ms = WallMs(to);
  s.gpu_seconds = g;
  s.energy_kwh = e;
  s.cost = c;
  s.carbon_kg = k;
  return s;
}

JobAttempt Attempt(int n, const std::string& center, std::vector<UsageSlice> hours, const std::string& outcome) {
  JobAttempt a;
  a.n = n;
  a.center = center;
  a.model = "a100";
  a.start_ms = hours.front().start_ms;
  a.end_ms = hours.back().end_ms;
  a.outcome = outcome;
  for (const UsageSlice& h : hours) {
    a.gpu_seconds += h.gpu_seconds;
    a.energy_kwh += h.energy_kwh;
    a.cost += h.cost;
    a.carbon_kg += h.carbon_kg;
  }
  a.hours = std::move(hours);
  return a;
}

std::map<std::string, UsageSum> ByGroup(Store& s, const std::string& tenant, int64_t from, int64_t to) {
  auto u = s.Usage(tenant, WallMs(from), WallMs(to));
  EXPECT_TRUE(u.ok()) << u.status().message();
  std::map<std::string, UsageSum> out;
  if (!u.ok()) return out;
  for (const UsageSum& g : *u) out[g.tenant + "/" + g.center + "/" + g.model] = g;
  return out;
}

// A job preempted at one center after 45 minutes that cross an hour, then
// run for an hour at another: each center's usage is in the hours it ran,
// the job is counted once, where and when it ended.
TEST(LiveStoreUsage, EachRunIsBookedInTheHoursItRan) {
  auto dir = TempDir("store_usage_runs");
  auto s = OpenOrDie(dir + "/store.db", Fast());
  ASSERT_TRUE(s);
  JobRecord r;
  r.tenant = "alice";
  r.state = JobState::kRunning;
  auto id = s->InsertJob(r);
  ASSERT_TRUE(id.ok());
  r.id = *id;
  // Run 1 on east, [h0+30m, h0+1h15m): preempted, queued again.
  r.attempts.push_back(Attempt(1, "east",
                               {Slice(kH0 + 30 * kMin, kH0 + kHour, 14400, 1, 1, 1),
                                Slice(kH0 + kHour, kH0 + kHour + 15 * kMin, 7200, 0.5, 2, 0.25)},
                               "preempted"));
  r.attempts.back().checkpoint_ms = WallMs(kH0 + kHour + 10 * kMin);
  r.state = JobState::kPending;
  ASSERT_TRUE(s->UpdateJob(r).ok());
  auto back = s->GetJob(r.id);
  ASSERT_TRUE(back.ok() && back->has_value());
  ASSERT_EQ((*back)->attempts.size(), 1u);
  EXPECT_EQ((*back)->attempts[0].checkpoint_ms, WallMs(kH0 + kHour + 10 * kMin)) << "an attempt keeps its checkpoint";

  auto u = ByGroup(*s, "", kH0, kH0 + kHour);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u["alice/east/a100"].jobs, 0);  // it has not ended
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].gpu_seconds, 14400);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].cost, 1);
  u = ByGroup(*s, "", kH0 + kHour, kH0 + 2 * kHour);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].gpu_seconds, 7200);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].cost, 2);
  // A range that cuts both hours takes each slice pro rata:
  // 15 of its 30 minutes, 5 of its 15.
  u = ByGroup(*s, "", kH0 + 45 * kMin, kH0 + kHour + 5 * kMin);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].gpu_seconds, 14400.0 / 2 + 7200.0 / 3);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].energy_kwh, 0.5 + 0.5 / 3);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].carbon_kg, 0.5 + 0.25 / 3);

  // Run 2 on west, [h0+2h, h0+3h): it succeeds there.
  r.attempts.push_back(Attempt(2, "west", {Slice(kH0 + 2 * kHour, kH0 + 3 * kHour, 28800, 2, 3, 4)}, "succeeded"));
  r.state = JobState::kSucceeded;
  r.center = "west";
  r.model = "a100";
  r.end_ms = WallMs(kH0 + 3 * kHour);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(s->UpdateJob(r).ok());  // written again: booked once

  u = ByGroup(*s, "", 0, kH0 + 10 * kHour);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u["alice/east/a100"].jobs, 0);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].gpu_seconds, 21600);
  EXPECT_DOUBLE_EQ(u["alice/east/a100"].cost, 3);
  EXPECT_EQ(u["alice/west/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["alice/west/a100"].gpu_seconds, 28800);
  EXPECT_DOUBLE_EQ(u["alice/west/a100"].carbon_kg, 4);
  // It ended at h0+3h: counted in that hour, with no usage there.
  u = ByGroup(*s, "", kH0 + 3 * kHour, kH0 + 4 * kHour);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u["alice/west/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["alice/west/a100"].gpu_seconds, 0);
  // Not before it ran, nor for another tenant.
  EXPECT_TRUE(ByGroup(*s, "", kH0 - 5 * kHour, kH0 + 30 * kMin).empty());
  EXPECT_TRUE(ByGroup(*s, "bob", 0, kH0 + 10 * kHour).empty());
  EXPECT_EQ(ByGroup(*s, "alice", 0, kH0 + 10 * kHour).size(), 2u);

  // A record's own totals are not usage: only its runs' slices are.
  JobRecord t;
  t.tenant = "carol";
  t.state = JobState::kSucceeded;
  t.center = "east";
  t.end_ms = WallMs(kH0 + 30 * kMin);
  t.gpu_seconds = 99;
  ASSERT_TRUE(s->InsertJob(t).ok());
  u = ByGroup(*s, "carol", kH0, kH0 + kHour);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u["carol/east/"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["carol/east/"].gpu_seconds, 0);
}

// Random jobs with random runs, finishing, moving between groups and
// finishing again with more runs: every range (whole hours, cut hours, one
// hour's inside, empty, negative) equals sums over an in-memory copy: jobs
// by their end, slices pro rata.
TEST(LiveStoreUsage, AnyRangeEqualsSumsOverTheRuns) {
  auto dir = TempDir("store_usage_ranges");
  auto s = OpenOrDie(dir + "/store.db", Fast());
  ASSERT_TRUE(s);
  const int64_t base = kH0 + 1234567;  // not on an hour
  uint64_t seed = 12345;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>((seed >> 33) % n);
  };
  struct Booked {
    std::string tenant, center, model;
    UsageSlice s;
  };
  std::vector<Booked> booked;
  std::vector<JobRecord> model;
  // A new run of 1 ms to 3 hours, cut at hours; booked as the store will.
  auto run = [&](JobRecord& r) {
    const int64_t from = base + rnd(10 * kHour);
    const int64_t to = from + 1 + rnd(3 * kHour);
    std::vector<UsageSlice> hours;
    for (int64_t t = from; t < to;) {
      const int64_t end = std::min(to, (t / kHour + 1) * kHour);
      hours.push_back(Slice(t, end, static_cast<double>(rnd(1000)) / 4, static_cast<double>(rnd(100)) / 8,
                            static_cast<double>(rnd(50)), static_cast<double>(rnd(64)) / 16));
      t = end;
    }
    JobAttempt a = Attempt(static_cast<int>(r.attempts.size()) + 1, rnd(2) == 0 ? "east" : "west", hours, "x");
    a.model = rnd(2) == 0 ? "a100" : "";
    for (const UsageSlice& h : a.hours) booked.push_back({r.tenant, a.center, a.model, h});
    r.attempts.push_back(std::move(a));
  };
  auto finish = [&](JobRecord& r) {
    run(r);
    r.state = static_cast<JobState>(2 + rnd(3));
    r.end_ms = r.attempts.back().end_ms;
  };
  for (int i = 0; i < 300; ++i) {
    JobRecord r;
    r.tenant = fmt::format("t{}", rnd(3));
    r.center = rnd(2) == 0 ? "east" : "west";
    r.model = rnd(2) == 0 ? "a100" : "";
    r.state = static_cast<JobState>(rnd(2));  // pending or running
    auto id = s->InsertJob(r);
    ASSERT_TRUE(id.ok());
    r.id = *id;
    if (rnd(3) != 0) {
      if (rnd(2) == 0) run(r);  // preempted once
      finish(r);
      ASSERT_TRUE(s->UpdateJob(r).ok());
    }
    model.push_back(r);
  }
  for (int i = 0; i < 300; ++i) {
    JobRecord& r = model[static_cast<size_t>(rnd(model.size()))];
    switch (rnd(4)) {
      case 0: finish(r); break;  // another run; ends again, maybe elsewhere in time
      case 1: r.center = r.center == "east" ? "west" : "east"; break;
      case 2: r.model = r.model.empty() ? "a100" : ""; break;
      default:
        r.state = JobState::kRunning;
        r.end_ms = WallMs(0);
        break;  // back to running
    }
    ASSERT_TRUE(s->UpdateJob(r).ok());
  }
  auto check = [&](const std::string& tenant, int64_t from, int64_t to) {
    std::map<std::string, UsageSum> want;
    auto group = [&](const std::string& t, const std::string& c, const std::string& m) -> UsageSum& {
      UsageSum& u = want[t + "/" + c + "/" + m];
      u.tenant = t;
      u.center = c;
      u.model = m;
      return u;
    };
    for (const auto& r : model) {
      if (!IsTerminal(r.state) || r.end_ms.ms() < from || r.end_ms.ms() >= to) continue;
      if (!tenant.empty() && r.tenant != tenant) continue;
      ++group(r.tenant, r.center, r.model).jobs;
    }
    for (const Booked& b : booked) {
      if (!tenant.empty() && b.tenant != tenant) continue;
      const int64_t lo = std::max(from, b.s.start_ms.ms()), hi = std::min(to, b.s.end_ms.ms());
      if (hi <= lo) continue;
      const double f = static_cast<double>(hi - lo) / static_cast<double>(b.s.end_ms - b.s.start_ms);
      UsageSum& u = group(b.tenant, b.center, b.model);
      u.gpu_seconds += b.s.gpu_seconds * f;
      u.energy_kwh += b.s.energy_kwh * f;
      u.cost += b.s.cost * f;
      u.carbon_kg += b.s.carbon_kg * f;
    }
    auto got = ByGroup(*s, tenant, from, to);
    ASSERT_EQ(got.size(), want.size()) << tenant << " [" << from << ", " << to << ")";
    for (const auto& [key, w] : want) {
      const UsageSum& g = got[key];
      EXPECT_EQ(g.jobs, w.jobs) << key << " [" << from << ", " << to << ")";
      EXPECT_NEAR(g.gpu_seconds, w.gpu_seconds, 1e-6) << key << " [" << from << ", " << to << ")";
      EXPECT_NEAR(g.energy_kwh, w.energy_kwh, 1e-6) << key;
      EXPECT_NEAR(g.cost, w.cost, 1e-6) << key;
      EXPECT_NEAR(g.carbon_kg, w.carbon_kg, 1e-6) << key;
    }
  };
  const int64_t h0 = (base / kHour + 1) * kHour;  // the first whole hour
  std::vector<std::pair<int64_t, int64_t>> ranges = {
      {0, base + 14 * kHour},        // everything
      {h0, h0 + 3 * kHour},          // whole hours only
      {h0 - 1, h0 + 3 * kHour + 1},  // one millisecond of the hours around
      {h0 + 1000, h0 + 2000},        // inside one hour
      {h0 + kHour / 2, h0 + kHour + kHour / 3},
      {h0 - 5 * kHour, h0 + 20 * kHour},
      {h0, h0},                          // empty
      {h0 + kHour, h0},                  // reversed
      {-5 * kHour - 7, h0 + 2 * kHour},  // negative start
  };
  for (int i = 0; i < 30; ++i) {
    int64_t a = base + rnd(13 * kHour), b = base + rnd(13 * kHour);
    ranges.emplace_back(std::min(a, b), std::max(a, b));
  }
  for (const auto& [from, to] : ranges) {
    check("", from, to);
    check("t1", from, to);
  }
}

// A store written by a server before usage was split by hours (schema 4):
// what it booked stays where it was booked (each ended run, or a job without
// runs, in the hour it ended), and new runs are split.
TEST(LiveStoreUsage, MigrationKeepsWhatWasBookedBefore) {
  auto dir = TempDir("store_usage_migration");
  const std::string path = dir + "/suanli.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    for (int v = 0; v < 4; ++v) {
      char* err = nullptr;
      ASSERT_EQ(sqlite3_exec(db, store_schema::Migrations()[static_cast<size_t>(v)], nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "");
    }
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 4", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const std::string sql = fmt::format(
      // a: finished before attempts were kept; b: two runs, ended; c: one
      // run ended, queued again.
      "INSERT INTO tenants (name, token_sha256, admin, max_gpus_per_job, max_active_jobs, created_ms, max_priority) "
      "VALUES ('a', 'ab12', 0, 0, 0, 1, 3);"
      "INSERT INTO jobs (id, tenant, state, end_ms, center, model, gpu_seconds, cost) VALUES "
      "(1, 'a', 'succeeded', {0} + 1800000, 'east', 'a100', 10, 1), "
      "(2, 'b', 'failed', {0} + 7500000, 'east', 'a100', 7, 2), "
      "(3, 'c', 'pending', 0, '', '', 5, 3);"
      "INSERT INTO job_attempts (job_id, n, center, model, start_ms, end_ms, outcome, gpu_seconds, cost) VALUES "
      "(2, 1, 'east', 'a100', {0}, {0} + 600000, 'requeued', 3, 1), "
      "(2, 2, 'east', 'a100', {0} + 3600000, {0} + 7500000, 'failed', 4, 1), "
      "(3, 1, 'west', 'a100', {0}, {0} + 3600000, 'preempted', 5, 3);",
      kH0);
  RawExec(path, sql.c_str());
  auto s = OpenOrDie(path, Fast());
  ASSERT_TRUE(s);
  auto u = ByGroup(*s, "", 0, kH0 + 10 * kHour);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u["a/east/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["a/east/a100"].gpu_seconds, 10);
  EXPECT_EQ(u["b/east/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["b/east/a100"].gpu_seconds, 7);
  EXPECT_EQ(u["c/west/a100"].jobs, 0);
  EXPECT_DOUBLE_EQ(u["c/west/a100"].cost, 3);
  // Each where it ended: hour 0 has a's job and b's first run; hour 1 c's run.
  u = ByGroup(*s, "", kH0, kH0 + kHour);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_DOUBLE_EQ(u["a/east/a100"].gpu_seconds, 10);
  EXPECT_EQ(u["b/east/a100"].jobs, 0);
  EXPECT_DOUBLE_EQ(u["b/east/a100"].gpu_seconds, 3);
  u = ByGroup(*s, "", kH0 + kHour, kH0 + 2 * kHour);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_DOUBLE_EQ(u["c/west/a100"].gpu_seconds, 5);
  u = ByGroup(*s, "", kH0 + 2 * kHour, kH0 + 3 * kHour);
  EXPECT_EQ(u["b/east/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["b/east/a100"].gpu_seconds, 4);

  // c runs again, across two hours, and ends: its new run is split.
  auto c = s->GetJob(3);
  ASSERT_TRUE(c.ok() && c->has_value());
  JobRecord r = **c;
  ASSERT_EQ(r.attempts.size(), 1u);
  // Later versions' columns read as their defaults.
  EXPECT_EQ(r.spec.checkpoint_s, 0);
  EXPECT_EQ(r.spec.grace_s, 60);
  EXPECT_EQ(r.spec.stop_signal, "USR1");
  EXPECT_EQ(r.spec.deadline, "");
  auto ta = s->GetTenant("a");
  ASSERT_TRUE(ta.ok() && ta->has_value());
  EXPECT_EQ((*ta)->max_priority, 3);
  EXPECT_EQ((*ta)->home, "");  // the control plane assigns one when it starts
  EXPECT_EQ(r.attempts[0].checkpoint_ms, WallMs{});
  r.attempts.push_back(Attempt(2, "west",
                               {Slice(kH0 + 4 * kHour + 30 * kMin, kH0 + 5 * kHour, 100, 1, 1, 1),
                                Slice(kH0 + 5 * kHour, kH0 + 5 * kHour + 30 * kMin, 100, 1, 1, 1)},
                               "succeeded"));
  r.state = JobState::kSucceeded;
  r.center = "west";
  r.model = "a100";
  r.end_ms = WallMs(kH0 + 5 * kHour + 30 * kMin);
  ASSERT_TRUE(s->UpdateJob(r).ok());
  u = ByGroup(*s, "c", kH0 + 4 * kHour, kH0 + 5 * kHour);
  EXPECT_EQ(u["c/west/a100"].jobs, 0);
  EXPECT_DOUBLE_EQ(u["c/west/a100"].gpu_seconds, 100);
  u = ByGroup(*s, "c", 0, kH0 + 10 * kHour);
  EXPECT_EQ(u["c/west/a100"].jobs, 1);
  EXPECT_DOUBLE_EQ(u["c/west/a100"].gpu_seconds, 205);
}

}  // namespace
}  // namespace suanli::live
