// The control plane's SQLite store (live/store.h): every field of jobs and
// tenants round trip, filters and paging against a brute-force model, counts,
// usage sums, settings, group commit under 16 writer threads, one bad write in
// a batch failing alone, reopening, SIGKILL in the middle of a burst of
// durable inserts, and clear errors for bad paths and files.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "live/store.h"
#include "support/cli.h"
#include "support/store.h"

namespace suanli::live {
namespace {

using ::suanli::testing::Fast;
using ::suanli::testing::OpenOrDie;
using ::suanli::testing::RawExec;
using ::suanli::testing::TempDir;

JobRecord FullJob() {
  JobRecord r;
  r.tenant = "alice";
  r.spec.name = "train \"big\" 'one'";
  r.spec.command = {"python3", "-c", "print('hi, \\n there')", ""};
  r.spec.env = {{"A", "1"}, {"PATH_EXTRA", "/opt/x:/y"}, {"EMPTY", ""}, {"UNI", "算力"}};
  r.spec.workdir = "/srv/jobs/7";
  r.spec.gpus = 4000000000u;
  r.spec.cpu_milli = 123456;
  r.spec.mem_mib = 987654321012;
  r.spec.models = {"a100", "ascend-910"};
  r.spec.stacks = {"cuda", "cann"};
  r.spec.workload_class = "training";
  r.spec.time_limit_s = 7200;
  r.spec.duration_s = 33;
  r.spec.priority = -17;
  r.spec.center = "beijing";
  r.state = JobState::kRunning;
  r.submit_ms = 1700000000123;
  r.start_ms = 1700000000456;
  r.end_ms = 1700000000789;
  r.center = "shanghai";
  r.model = "a100";
  r.node = "node-03";
  r.devices = {0, 3, 7};
  r.backend_id = "slurm:4242";
  r.exit_code = 137;
  r.signal = 9;
  r.reason = "out of memory";
  r.est_start_ms = 1700000009999;
  r.gpu_seconds = 1234.5;
  r.energy_kwh = 0.125;
  r.cost = 3.75;
  r.carbon_kg = 0.0625;
  return r;
}

void ExpectSameJob(const JobRecord& a, const JobRecord& b) {
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
}

JobRecord Fetch(Store& s, int64_t id) {
  auto g = s.GetJob(id);
  EXPECT_TRUE(g.ok()) << g.status().message();
  if (!g.ok() || !g->has_value()) {
    ADD_FAILURE() << "job " << id << " missing";
    return {};
  }
  return **g;
}

std::vector<int64_t> Ids(const std::vector<JobRecord>& v) {
  std::vector<int64_t> out;
  for (const auto& r : v) out.push_back(r.id);
  return out;
}

// Every row, newest first, by paging with before_id.
std::vector<JobRecord> ListAll(Store& s, JobFilter f) {
  std::vector<JobRecord> all;
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

std::string Error(const Status& st) { return st.message(); }

TEST(LiveStore, RoundTripsEveryJobField) {
  auto dir = TempDir("store_roundtrip");
  auto s = OpenOrDie(dir + "/db/store.db");
  ASSERT_TRUE(s);
  JobRecord r = FullJob();
  r.id = 999;  // ignored: the store assigns ids
  auto id = s->InsertJob(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 1);
  r.id = *id;
  ExpectSameJob(Fetch(*s, *id), r);

  // A default record (empty lists, zero times) round trips too.
  JobRecord d;
  d.tenant = "bob";
  auto id2 = s->InsertJob(d);
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(*id2, 2);
  d.id = 2;
  ExpectSameJob(Fetch(*s, 2), d);

  // Every field updated.
  JobRecord u = d;
  u.tenant = "carol";
  u.spec.name = "n2";
  u.spec.command = {"sleep", "1"};
  u.spec.env = {{"X", "y"}};
  u.spec.workdir = "w";
  u.spec.gpus = 2;
  u.spec.cpu_milli = 500;
  u.spec.mem_mib = 64;
  u.spec.models = {"v100"};
  u.spec.stacks = {"rocm"};
  u.spec.workload_class = "inference";
  u.spec.time_limit_s = 60;
  u.spec.duration_s = 5;
  u.spec.priority = 9;
  u.spec.center = "c1";
  u.state = JobState::kCancelled;
  u.submit_ms = 1;
  u.start_ms = 2;
  u.end_ms = 3;
  u.center = "c2";
  u.model = "v100";
  u.node = "n";
  u.devices = {1};
  u.backend_id = "77";
  u.exit_code = 0;
  u.signal = 15;
  u.reason = "cancelled by carol";
  u.est_start_ms = 4;
  u.gpu_seconds = 5.5;
  u.energy_kwh = 6.5;
  u.cost = 7.5;
  u.carbon_kg = 8.5;
  ASSERT_TRUE(s->UpdateJob(u).ok());
  ExpectSameJob(Fetch(*s, 2), u);
  ExpectSameJob(Fetch(*s, 1), r);  // untouched

  // A field that cannot be encoded (not UTF-8) fails that write alone, with
  // the field named; nothing is stored.
  JobRecord bad = FullJob();
  bad.spec.command = {"echo", std::string("\xff\xfe")};
  auto badid = s->InsertJob(bad);
  ASSERT_FALSE(badid.ok());
  EXPECT_NE(badid.status().message().find("command"), std::string::npos) << badid.status().message();
  bad = u;
  bad.spec.env["K"] = std::string("\xc3");
  Status badup = s->UpdateJob(bad);
  EXPECT_FALSE(badup.ok());
  EXPECT_NE(badup.message().find("env"), std::string::npos) << badup.message();
  ExpectSameJob(Fetch(*s, 2), u);

  auto missing = s->GetJob(3);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(s->writes(), 3);
}

TEST(LiveStore, UpdateOfAMissingJobFails) {
  auto dir = TempDir("store_update_missing");
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  JobRecord r;
  r.tenant = "a";
  r.id = 5;
  Status st = s->UpdateJob(r);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.message();
  EXPECT_NE(Error(st).find("5"), std::string::npos) << st.message();
  r.id = 0;
  EXPECT_EQ(s->UpdateJob(r).code(), StatusCode::kInvalidArgument);
  auto g = s->GetJob(5);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
}

TEST(LiveStore, UpdateJobsCommitsABatchTogetherAndFailsBadRecordsAlone) {
  auto dir = TempDir("store_update_jobs");
  std::vector<int64_t> ids;
  {
    auto s = OpenOrDie(dir + "/store.db");
    ASSERT_TRUE(s);
    for (int i = 0; i < 300; ++i) {
      JobRecord r;
      r.tenant = "alice";
      r.spec.name = fmt::format("j{}", i);
      auto id = s->InsertJob(r);
      ASSERT_TRUE(id.ok()) << id.status().message();
      ids.push_back(*id);
    }
    std::vector<JobRecord> batch;
    for (int i = 0; i < 300; ++i) {
      JobRecord r = Fetch(*s, ids[i]);
      r.state = JobState::kRunning;
      r.center = "c1";
      r.start_ms = 1000 + i;
      batch.push_back(r);
      if (i == 100) {  // a job that is not in the store
        JobRecord ghost = r;
        ghost.id = 999999;
        batch.push_back(ghost);
      }
      if (i == 200) {  // no id at all
        JobRecord none = r;
        none.id = 0;
        batch.push_back(none);
      }
    }
    const int64_t commits = s->commits();
    std::vector<Status> st = s->UpdateJobs(batch);
    ASSERT_EQ(st.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].id == 999999) EXPECT_EQ(st[i].code(), StatusCode::kNotFound) << i;
      else if (batch[i].id == 0) EXPECT_EQ(st[i].code(), StatusCode::kInvalidArgument) << i;
      else EXPECT_TRUE(st[i].ok()) << i << ": " << st[i].message();
    }
    // Queued at once: far fewer commits than records.
    EXPECT_LT(s->commits() - commits, 30);
    EXPECT_TRUE(s->UpdateJobs({}).empty());
  }
  // On disk, in a reopened store.
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  for (int i = 0; i < 300; ++i) {
    JobRecord r = Fetch(*s, ids[i]);
    EXPECT_EQ(r.state, JobState::kRunning);
    EXPECT_EQ(r.start_ms, 1000 + i);
  }
  auto g = s->GetJob(999999);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
}

TEST(LiveStore, RoundTripsTenants) {
  auto dir = TempDir("store_tenants");
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  Tenant a{"alice", Sha256Hex("tok-a"), true, 8, 100, 1700000000000};
  Tenant b{"bob", Sha256Hex("tok-b"), false, 0, 3, 1700000000001};
  ASSERT_TRUE(s->PutTenant(a).ok());
  ASSERT_TRUE(s->PutTenant(b).ok());

  auto ga = s->GetTenant("alice");
  ASSERT_TRUE(ga.ok() && ga->has_value());
  EXPECT_EQ((*ga)->name, "alice");
  EXPECT_EQ((*ga)->token_sha256, a.token_sha256);
  EXPECT_TRUE((*ga)->admin);
  EXPECT_EQ((*ga)->max_gpus_per_job, 8);
  EXPECT_EQ((*ga)->max_active_jobs, 100);
  EXPECT_EQ((*ga)->created_ms, 1700000000000);

  auto byb = s->TenantByTokenHash(Sha256Hex("tok-b"));
  ASSERT_TRUE(byb.ok() && byb->has_value());
  EXPECT_EQ((*byb)->name, "bob");
  EXPECT_FALSE((*byb)->admin);
  EXPECT_EQ((*byb)->max_active_jobs, 3);
  auto none = s->TenantByTokenHash(Sha256Hex("nope"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto nobody = s->GetTenant("carol");
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());

  // Replace by name: new token, quotas and flag; the old token no longer works.
  Tenant b2{"bob", Sha256Hex("tok-b2"), true, 2, 0, 5};
  ASSERT_TRUE(s->PutTenant(b2).ok());
  auto old = s->TenantByTokenHash(Sha256Hex("tok-b"));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());
  auto nb = s->GetTenant("bob");
  ASSERT_TRUE(nb.ok() && nb->has_value());
  EXPECT_EQ((*nb)->token_sha256, b2.token_sha256);
  EXPECT_TRUE((*nb)->admin);
  EXPECT_EQ((*nb)->max_gpus_per_job, 2);
  EXPECT_EQ((*nb)->max_active_jobs, 0);
  EXPECT_EQ((*nb)->created_ms, 5);

  // A token hash belongs to one tenant only; the failed write changes nothing.
  Tenant c{"carol", a.token_sha256, false, 0, 0, 0};
  Status st = s->PutTenant(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("carol"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("token"), std::string::npos) << st.message();
  EXPECT_FALSE(s->PutTenant(Tenant{"", "x", false, 0, 0, 0}).ok());
  EXPECT_FALSE(s->PutTenant(Tenant{"dave", "", false, 0, 0, 0}).ok());

  auto all = s->ListTenants();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice");
  EXPECT_EQ((*all)[1].name, "bob");
  auto ta = s->TenantByTokenHash(a.token_sha256);
  ASSERT_TRUE(ta.ok() && ta->has_value());
  EXPECT_EQ((*ta)->name, "alice");
}

TEST(LiveStore, Settings) {
  auto dir = TempDir("store_settings");
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  auto none = s->GetSetting("drain.east");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(s->PutSetting("drain.east", "1").ok());
  ASSERT_TRUE(s->PutSetting("drain.west", "").ok());
  ASSERT_TRUE(s->PutSetting("drain.east", "0").ok());
  auto e = s->GetSetting("drain.east");
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ(**e, "0");
  auto w = s->GetSetting("drain.west");
  ASSERT_TRUE(w.ok() && w->has_value());
  EXPECT_EQ(**w, "");
  EXPECT_EQ(s->PutSetting("", "x").code(), StatusCode::kInvalidArgument);
}

// A store of 1,200 jobs over 3 tenants, 5 states and 3 centers, checked
// against the same filters applied to an in-memory copy.
TEST(LiveStore, ListFiltersPagingAndCounts) {
  auto dir = TempDir("store_list");
  auto s = OpenOrDie(dir + "/store.db", Fast());
  ASSERT_TRUE(s);
  const std::vector<std::string> tenants = {"a", "b", "c"};
  const std::vector<std::string> centers = {"", "east", "west"};
  std::vector<JobRecord> model;  // index = id - 1
  for (int i = 0; i < 1200; ++i) {
    JobRecord r;
    r.tenant = tenants[(i * 7) % 3];
    r.state = static_cast<JobState>((i / 2) % 5);
    r.center = centers[(i / 5) % 3];
    r.spec.command = {"job", std::to_string(i)};
    auto id = s->InsertJob(r);
    ASSERT_TRUE(id.ok()) << id.status().message();
    ASSERT_EQ(*id, i + 1);
    r.id = *id;
    model.push_back(r);
  }
  // Move some jobs between states and tenants (the counts must follow).
  for (int i = 0; i < 1200; i += 13) {
    JobRecord r = model[i];
    r.state = JobState::kSucceeded;
    if (i % 2 == 0) r.tenant = "c";
    ASSERT_TRUE(s->UpdateJob(r).ok());
    model[i] = r;
  }

  auto expect = [&](const JobFilter& f) {
    std::vector<int64_t> want;
    for (auto it = model.rbegin(); it != model.rend(); ++it) {
      const JobRecord& r = *it;
      if (!f.tenant.empty() && r.tenant != f.tenant) continue;
      if (!f.center.empty() && r.center != f.center) continue;
      if (!f.states.empty() && std::find(f.states.begin(), f.states.end(), r.state) == f.states.end()) continue;
      if (f.before_id > 0 && r.id >= f.before_id) continue;
      want.push_back(r.id);
      if (static_cast<int>(want.size()) >= std::clamp(f.limit, 1, 1000)) break;
    }
    return want;
  };
  std::vector<std::vector<JobState>> state_sets = {
      {},
      {JobState::kRunning},
      {JobState::kPending, JobState::kRunning},
      {JobState::kSucceeded, JobState::kFailed, JobState::kCancelled},
      {JobState::kFailed, JobState::kFailed},
      {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}};
  int checked = 0;
  for (const std::string& tenant : {std::string(), std::string("a"), std::string("c"), std::string("zed")}) {
    for (const std::string& center : {std::string(), std::string("east")}) {
      for (const auto& states : state_sets) {
        for (int64_t before : {int64_t{0}, int64_t{601}, int64_t{3}}) {
          for (int limit : {7, 100}) {
            JobFilter f;
            f.tenant = tenant;
            f.center = center;
            f.states = states;
            f.before_id = before;
            f.limit = limit;
            auto got = s->ListJobs(f);
            ASSERT_TRUE(got.ok()) << got.status().message();
            EXPECT_EQ(Ids(*got), expect(f))
                << "tenant=" << tenant << " center=" << center << " states=" << states.size() << " before=" << before
                << " limit=" << limit;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 2 * 6 * 3 * 2);

  // Full rows come back, not just ids.
  JobFilter one;
  one.limit = 1;
  auto newest = s->ListJobs(one);
  ASSERT_TRUE(newest.ok() && newest->size() == 1);
  ExpectSameJob((*newest)[0], model.back());

  // Limits are clamped to 1..1000.
  JobFilter f0;
  f0.limit = 0;
  auto g0 = s->ListJobs(f0);
  ASSERT_TRUE(g0.ok());
  EXPECT_EQ(g0->size(), 1u);
  JobFilter fbig;
  fbig.limit = 5000;
  auto gbig = s->ListJobs(fbig);
  ASSERT_TRUE(gbig.ok());
  EXPECT_EQ(gbig->size(), 1000u);
  EXPECT_EQ(gbig->front().id, 1200);

  // Paging through every job of tenant "b" visits each exactly once.
  JobFilter fb;
  fb.tenant = "b";
  auto paged = Ids(ListAll(*s, fb));
  JobFilter fb_all = fb;
  fb_all.limit = 1000;
  std::vector<int64_t> want_b;
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    if (it->tenant == "b") want_b.push_back(it->id);
  }
  EXPECT_EQ(paged, want_b);

  // Counts and active jobs, by tenant and in all.
  auto count = [&](const std::string& tenant) {
    JobCounts c;
    for (const auto& r : model) {
      if (!tenant.empty() && r.tenant != tenant) continue;
      switch (r.state) {
        case JobState::kPending: ++c.pending; break;
        case JobState::kRunning: ++c.running; break;
        case JobState::kSucceeded: ++c.succeeded; break;
        case JobState::kFailed: ++c.failed; break;
        case JobState::kCancelled: ++c.cancelled; break;
      }
    }
    return c;
  };
  for (const std::string& t : {std::string(), std::string("a"), std::string("b"), std::string("c"), std::string("x")}) {
    auto got = s->Counts(t);
    ASSERT_TRUE(got.ok()) << got.status().message();
    JobCounts want = count(t);
    EXPECT_EQ(got->pending, want.pending) << t;
    EXPECT_EQ(got->running, want.running) << t;
    EXPECT_EQ(got->succeeded, want.succeeded) << t;
    EXPECT_EQ(got->failed, want.failed) << t;
    EXPECT_EQ(got->cancelled, want.cancelled) << t;
    if (!t.empty()) {
      auto active = s->ActiveJobs(t);
      ASSERT_TRUE(active.ok());
      EXPECT_EQ(*active, want.pending + want.running) << t;
    }
  }
  EXPECT_GT(count("a").pending, 0);

  // LoadActive: every pending or running job, in id order.
  auto active = s->LoadActive();
  ASSERT_TRUE(active.ok());
  std::vector<int64_t> want_active;
  for (const auto& r : model) {
    if (!IsTerminal(r.state)) want_active.push_back(r.id);
  }
  EXPECT_EQ(Ids(*active), want_active);
}

TEST(LiveStoreConcurrency, SixteenThreadsGroupCommit) {
  auto dir = TempDir("store_threads");
  auto s = OpenOrDie(dir + "/store.db");  // durable (synchronous=FULL)
  ASSERT_TRUE(s);
  constexpr int kThreads = 16, kPer = 2000;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> errors{0}, invisible{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        JobRecord r;
        r.tenant = fmt::format("t{}", t);
        r.spec.name = fmt::format("{}-{}", t, i);
        r.spec.command = {"echo", r.spec.name};
        auto id = s->InsertJob(r);
        if (!id.ok()) {
          ++errors;
          continue;
        }
        ids[t].push_back(*id);
        // A write that returned is visible to every reader at once.
        if (i % 10 == 0) {
          auto g = s->GetJob(*id);
          if (!g.ok() || !g->has_value() || (*g)->spec.name != r.spec.name) ++invisible;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(invisible.load(), 0);

  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPer));
  EXPECT_EQ(*unique.begin(), 1);
  EXPECT_EQ(*unique.rbegin(), kThreads * kPer);

  auto all = ListAll(*s, JobFilter{});
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPer));
  std::map<int64_t, std::string> names;
  for (const auto& r : all) names[r.id] = r.spec.name;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPer; ++i) {
      auto it = names.find(ids[t][i]);
      ASSERT_TRUE(it != names.end());
      ASSERT_EQ(it->second, fmt::format("{}-{}", t, i));
    }
  }
  auto c = s->Counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pending, kThreads * kPer);

  EXPECT_EQ(s->writes(), kThreads * kPer);
  // Group commit: many writes per commit (16 writers keep the queue full).
  EXPECT_LT(s->commits() * 4, s->writes()) << "commits " << s->commits() << " writes " << s->writes();
}

// Bad writes (a tenant whose token hash is taken, an update of a job that
// does not exist) mixed into busy batches fail alone.
TEST(LiveStoreConcurrency, BadWriteFailsAlone) {
  auto dir = TempDir("store_bad_write");
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->PutTenant(Tenant{"owner", Sha256Hex("taken"), false, 0, 0, 0}).ok());
  constexpr int kThreads = 8, kPer = 150;
  std::atomic<int> good_failed{0}, bad_succeeded{0}, settings_failed{0};
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        JobRecord r;
        r.tenant = "owner";
        r.spec.name = fmt::format("{}-{}", t, i);
        auto id = s->InsertJob(r);
        if (id.ok()) {
          ids[t].push_back(*id);
        } else {
          ++good_failed;
        }
        Tenant thief{fmt::format("thief{}", t), Sha256Hex("taken"), false, 0, 0, 0};
        if (s->PutTenant(thief).ok()) ++bad_succeeded;
        JobRecord ghost;
        ghost.id = 1000000 + i;
        ghost.tenant = "ghost";
        if (s->UpdateJob(ghost).ok()) ++bad_succeeded;
        if (!s->PutSetting(fmt::format("k{}", t), std::to_string(i)).ok()) ++settings_failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good_failed.load(), 0);
  EXPECT_EQ(bad_succeeded.load(), 0);
  EXPECT_EQ(settings_failed.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(ids[t].size(), static_cast<size_t>(kPer));
    for (int i = 0; i < kPer; i += 15) {
      EXPECT_EQ(Fetch(*s, ids[t][i]).spec.name, fmt::format("{}-{}", t, i));
    }
    auto k = s->GetSetting(fmt::format("k{}", t));
    ASSERT_TRUE(k.ok() && k->has_value());
    EXPECT_EQ(**k, std::to_string(kPer - 1));
  }
  auto thief = s->GetTenant("thief0");
  ASSERT_TRUE(thief.ok());
  EXPECT_FALSE(thief->has_value());
  auto counts = s->Counts("owner");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, kThreads * kPer);
  // Successful writes only: jobs, settings and the first tenant.
  EXPECT_EQ(s->writes(), 2 * kThreads * kPer + 1);
  // The bad writes shared commits with good ones: 4 writes per round.
  EXPECT_LT(s->commits() * 2, 4 * kThreads * kPer);
}

TEST(LiveStoreReopen, EverythingSurvivesAndIdsContinue) {
  auto dir = TempDir("store_reopen");
  const std::string path = dir + "/data/store.db";
  std::vector<JobRecord> jobs;
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (int i = 0; i < 10; ++i) {
      JobRecord r = FullJob();
      r.spec.name = fmt::format("job{}", i);
      r.state = i < 4 ? JobState::kPending : JobState::kSucceeded;
      auto id = s->InsertJob(r);
      ASSERT_TRUE(id.ok());
      r.id = *id;
      jobs.push_back(r);
    }
    ASSERT_TRUE(s->PutTenant(Tenant{"alice", Sha256Hex("t"), true, 1, 2, 3}).ok());
    ASSERT_TRUE(s->PutSetting("k", "v").ok());
  }
  // Closing checkpoints the WAL into the main file.
  EXPECT_TRUE(std::filesystem::exists(path));
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (const auto& r : jobs) ExpectSameJob(Fetch(*s, r.id), r);
    auto t = s->TenantByTokenHash(Sha256Hex("t"));
    ASSERT_TRUE(t.ok() && t->has_value());
    EXPECT_EQ((*t)->max_active_jobs, 2);
    auto v = s->GetSetting("k");
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(**v, "v");
    auto active = s->LoadActive();
    ASSERT_TRUE(active.ok());
    EXPECT_EQ(active->size(), 4u);
    auto c = s->Counts("alice");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->succeeded, 6);
    JobRecord r;
    r.tenant = "alice";
    auto id = s->InsertJob(r);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, 11);
  }
}

// A child process inserts from several threads and reports each id on a
// pipe after InsertJob returned; it is killed with SIGKILL in the middle of
// the burst. Every acknowledged insert must be in the store, exactly once and
// intact; the next round's ids continue after every id used before.
TEST(LiveStoreCrash, AcknowledgedInsertsSurviveSigkill) {
  auto dir = TempDir("store_crash");
  const std::string path = dir + "/store.db";
  struct Ack {
    int64_t id;
    int32_t thread;
    int32_t seq;
  };
  static_assert(sizeof(Ack) <= PIPE_BUF);
  auto name_of = [](int round, int32_t t, int32_t i) { return fmt::format("r{}-t{}-{}", round, t, i); };
  int64_t max_id_before = 0;
  size_t total_acked = 0;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: never returns into the test framework.
      close(fds[0]);
      auto opened = Store::Open(path);
      if (!opened.ok()) _exit(3);
      Store* store = opened->get();
      std::vector<std::thread> writers;
      for (int32_t t = 0; t < 6; ++t) {
        writers.emplace_back([store, t, round, &name_of, fd = fds[1]] {
          for (int32_t i = 0;; ++i) {
            JobRecord r;
            r.tenant = "crash";
            r.spec.name = name_of(round, t, i);
            r.spec.command = {"run", r.spec.name};
            r.spec.env = {{"SEQ", std::to_string(i)}};
            auto id = store->InsertJob(r);
            if (!id.ok()) _exit(4);
            Ack a{*id, t, i};
            if (write(fd, &a, sizeof a) != static_cast<ssize_t>(sizeof a)) _exit(5);
          }
        });
      }
      for (auto& w : writers) w.join();
      _exit(6);
    }
    close(fds[1]);
    std::vector<Ack> acks;
    const size_t kill_after = 300 + 150 * round;
    bool killed = false;
    for (;;) {
      Ack a;
      ssize_t n = read(fds[0], &a, sizeof a);
      if (n == 0) break;  // every writer end closed: the child is gone
      if (n < 0 && errno == EINTR) continue;
      ASSERT_EQ(n, static_cast<ssize_t>(sizeof a));
      acks.push_back(a);
      if (!killed && acks.size() >= kill_after) {
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        killed = true;
      }
    }
    close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
    EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
    ASSERT_GE(acks.size(), kill_after);
    total_acked += acks.size();

    {
      auto s = OpenOrDie(path);
      ASSERT_TRUE(s);
      std::set<int64_t> ack_ids;
      for (const Ack& a : acks) {
        EXPECT_TRUE(ack_ids.insert(a.id).second) << "id " << a.id << " acknowledged twice";
        EXPECT_GT(a.id, max_id_before) << "an id was reused";
        JobRecord r = Fetch(*s, a.id);
        ASSERT_EQ(r.spec.name, name_of(round, a.thread, a.seq));
        ASSERT_EQ(r.tenant, "crash");
        ASSERT_EQ(r.spec.command, (std::vector<std::string>{"run", r.spec.name}));
        ASSERT_EQ(r.spec.env.at("SEQ"), std::to_string(a.seq));
      }
      // Each insert is there once: no name appears twice, and each thread's
      // rows are a prefix of its sequence (nothing acknowledged is missing,
      // only a few in-flight ones beyond the last ack may have landed).
      JobFilter f;
      f.tenant = "crash";
      auto rows = ListAll(*s, f);
      std::set<std::string> names;
      for (const auto& r : rows) EXPECT_TRUE(names.insert(r.spec.name).second) << r.spec.name;
      EXPECT_GE(rows.size(), total_acked);
      EXPECT_LE(rows.size(), total_acked + 6 * 3);
      auto counts = s->Counts("crash");
      ASSERT_TRUE(counts.ok());
      EXPECT_EQ(counts->pending, static_cast<int64_t>(rows.size()));
      max_id_before = rows.empty() ? 0 : rows.front().id;
      total_acked = rows.size();
    }
    // The file is sound.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
}

// --- errors ---

std::string OpenError(const std::string& path) {
  auto s = Store::Open(path);
  EXPECT_FALSE(s.ok()) << path << " opened";
  return s.ok() ? "" : s.status().message();
}

TEST(LiveStoreErrors, BadPaths) {
  auto dir = TempDir("store_bad_paths");
  { std::ofstream(dir + "/plain") << "x"; }
  std::string e = OpenError(dir + "/plain/sub/store.db");
  EXPECT_NE(e.find(dir + "/plain/sub/store.db"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot create the directory"), std::string::npos) << e;

  std::filesystem::create_directories(dir + "/isdir.db");
  e = OpenError(dir + "/isdir.db");
  EXPECT_NE(e.find(dir + "/isdir.db"), std::string::npos) << e;
  EXPECT_NE(e.find("directory"), std::string::npos) << e;

  EXPECT_FALSE(Store::Open("").ok());

  if (geteuid() != 0) {  // root ignores permissions
    std::filesystem::create_directories(dir + "/ro");
    std::filesystem::permissions(dir + "/ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    e = OpenError(dir + "/ro/store.db");
    EXPECT_NE(e.find(dir + "/ro/store.db"), std::string::npos) << e;
    std::filesystem::permissions(dir + "/ro", std::filesystem::perms::owner_all);
  }
}

TEST(LiveStoreErrors, NotADatabase) {
  auto dir = TempDir("store_not_db");
  const std::string path = dir + "/store.db";
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "this is a text file, not a database\n";
  }
  std::string e = OpenError(path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("not a database"), std::string::npos) << e;
  // The file is left as it was.
  EXPECT_EQ(std::filesystem::file_size(path), 200u * 36u);
}

TEST(LiveStoreErrors, AnotherProgramsDatabaseAndNewerSchema) {
  auto dir = TempDir("store_schema");
  const std::string other = dir + "/other.db";
  RawExec(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)");
  std::string e = OpenError(other);
  EXPECT_NE(e.find(other), std::string::npos) << e;
  EXPECT_NE(e.find("another program"), std::string::npos) << e;

  const std::string newer = dir + "/newer.db";
  {
    auto s = OpenOrDie(newer);
    ASSERT_TRUE(s);
  }
  RawExec(newer, "PRAGMA user_version = 99");
  e = OpenError(newer);
  EXPECT_NE(e.find(newer), std::string::npos) << e;
  EXPECT_NE(e.find("schema version 99"), std::string::npos) << e;
}

// Rows changed behind the store's back (bad JSON, wrong shapes, numbers out
// of range) give an error naming the file, the job and the column; the other
// rows stay readable.
TEST(LiveStoreErrors, MalformedRows) {
  auto dir = TempDir("store_bad_rows");
  const std::string path = dir + "/store.db";
  {
    auto s = OpenOrDie(path, Fast());
    ASSERT_TRUE(s);
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(s->InsertJob(FullJob()).ok());
  }
  RawExec(path,
          "UPDATE jobs SET command = '{\"a\": \"b\"}' WHERE id = 1;"
          "UPDATE jobs SET env = '[\"x\"]' WHERE id = 2;"
          "UPDATE jobs SET devices = '[1.5]' WHERE id = 3;"
          "UPDATE jobs SET models = 'not json' WHERE id = 4;"
          "UPDATE jobs SET stacks = '[\"a\", [\"b\"]]' WHERE id = 5;"
          "UPDATE jobs SET env = '{\"K\": 7}' WHERE id = 6;"
          "UPDATE jobs SET devices = '[1, 99999999999]' WHERE id = 7;"
          "UPDATE jobs SET gpus = -1 WHERE id = 8;"
          "UPDATE jobs SET priority = 4000000000 WHERE id = 9;"
          "UPDATE jobs SET command = '[\"a\"] [\"b\"]' WHERE id = 10;");
  auto s = OpenOrDie(path);
  ASSERT_TRUE(s);
  const std::vector<std::pair<int64_t, std::string>> bad = {
      {1, "command"}, {2, "env"},     {3, "devices"}, {4, "models"},   {5, "stacks"},
      {6, "env"},     {7, "devices"}, {8, "gpus"},    {9, "priority"}, {10, "command"}};
  for (const auto& [id, column] : bad) {
    auto g = s->GetJob(id);
    ASSERT_FALSE(g.ok()) << "job " << id << " read despite a bad " << column;
    const std::string& m = g.status().message();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(fmt::format("job {}:", id)), std::string::npos) << m;
    EXPECT_NE(m.find("column " + column), std::string::npos) << m;
  }
  JobRecord good = FullJob();
  good.id = 11;
  ExpectSameJob(Fetch(*s, 11), good);
  JobFilter f;
  f.limit = 2;
  auto newest = s->ListJobs(f);
  ASSERT_TRUE(newest.ok()) << newest.status().message();
  EXPECT_EQ(Ids(*newest), (std::vector<int64_t>{12, 11}));
  f.limit = 100;
  auto all = s->ListJobs(f);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("job 10:"), std::string::npos) << all.status().message();
}

TEST(LiveStoreErrors, CorruptFile) {
  auto dir = TempDir("store_corrupt");
  const std::string path = dir + "/store.db";
  {
    auto s = OpenOrDie(path, Fast());
    ASSERT_TRUE(s);
    for (int i = 0; i < 300; ++i) {
      JobRecord r = FullJob();
      ASSERT_TRUE(s->InsertJob(r).ok());
    }
  }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 40000u);
  // Garbage over every page but the first (the header and the schema).
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(size - 4096, '\xA5');
    f.seekp(4096);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto opened = Store::Open(path);
  if (opened.ok()) {
    // Opening reads only the first page; queries meet the damage and say so.
    auto l = (*opened)->ListJobs(JobFilter{});
    ASSERT_FALSE(l.ok());
    EXPECT_NE(l.status().message().find(path), std::string::npos) << l.status().message();
    EXPECT_NE(l.status().message().find("malformed"), std::string::npos) << l.status().message();
    auto g = (*opened)->GetJob(5);
    EXPECT_FALSE(g.ok());
  } else {
    EXPECT_NE(opened.status().message().find(path), std::string::npos) << opened.status().message();
  }
  // Garbage over the header: not a database.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(100, '\x5A');
    f.seekp(0);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  std::string e = OpenError(path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
}

}  // namespace
}  // namespace suanli::live
