// The control plane's SQLite store (live/store.h): every field of jobs and
// tenants round trip, updates (one bad record in a batch failing alone),
// settings, and filters, paging and counts against a brute-force model.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/store.h"
#include "support/cli.h"
#include "support/store.h"

namespace suanli::live {
namespace {

using ::suanli::testing::ExpectSameJob;
using ::suanli::testing::Fast;
using ::suanli::testing::Fetch;
using ::suanli::testing::FullJob;
using ::suanli::testing::Ids;
using ::suanli::testing::ListAll;
using ::suanli::testing::OpenOrDie;
using ::suanli::testing::TempDir;

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
  u.spec.checkpoint_s = 300;
  u.spec.grace_s = 0;
  u.spec.stop_signal = "TERM";
  u.spec.deadline = "2027-01-01T00:00:00Z";
  u.state = JobState::kCancelled;
  u.submit_ms = WallMs(1);
  u.start_ms = WallMs(2);
  u.end_ms = WallMs(3);
  u.center = "c2";
  u.model = "v100";
  u.node = "n";
  u.devices = {1};
  u.backend_id = "77";
  u.exit_code = 0;
  u.signal = 15;
  u.reason = "cancelled by carol";
  u.est_start_ms = WallMs(4);
  u.gpu_seconds = 5.5;
  u.energy_kwh = 6.5;
  u.cost = 7.5;
  u.carbon_kg = 8.5;
  u.checkpoint_ms = WallMs(5);
  ASSERT_TRUE(s->UpdateJob(u).ok());
  ExpectSameJob(Fetch(*s, 2), u);
  ExpectSameJob(Fetch(*s, 1), r);  // untouched

  // Events are added, never rewritten: a later write keeps the first ones.
  r.events.push_back({WallMs(1700000000789), "ended", "failed: out of memory"});
  ASSERT_TRUE(s->UpdateJob(r).ok());
  ExpectSameJob(Fetch(*s, 1), r);
  ASSERT_EQ(s->LoadActive().value().size(), 1u);  // r is running; u cancelled
  ExpectSameJob(s->LoadActive().value()[0], r);

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
  EXPECT_EQ(s->writes(), 4);
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
  EXPECT_NE(Error(st).find('5'), std::string::npos) << st.message();
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
      r.start_ms = WallMs(1000 + i);
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
    EXPECT_EQ(r.start_ms, WallMs(1000 + i));
  }
  auto g = s->GetJob(999999);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
}

TEST(LiveStore, RoundTripsTenants) {
  auto dir = TempDir("store_tenants");
  auto s = OpenOrDie(dir + "/store.db");
  ASSERT_TRUE(s);
  Tenant a{"alice", Sha256Hex("tok-a"), true, 8, 100, WallMs{1700000000000}, 7, "east"};
  Tenant b{"bob", Sha256Hex("tok-b"), false, 0, 3, WallMs{1700000000001}};
  ASSERT_TRUE(s->PutTenant(a).ok());
  ASSERT_TRUE(s->PutTenant(b).ok());

  auto ga = s->GetTenant("alice");
  ASSERT_TRUE(ga.ok() && ga->has_value());
  EXPECT_EQ((*ga)->name, "alice");
  EXPECT_EQ((*ga)->token_sha256, a.token_sha256);
  EXPECT_TRUE((*ga)->admin);
  EXPECT_EQ((*ga)->max_gpus_per_job, 8);
  EXPECT_EQ((*ga)->max_active_jobs, 100);
  EXPECT_EQ((*ga)->created_ms.ms(), 1700000000000);
  EXPECT_EQ((*ga)->max_priority, 7);
  EXPECT_EQ((*ga)->home, "east");

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
  Tenant b2{"bob", Sha256Hex("tok-b2"), true, 2, 0, WallMs{5}, 0, "west"};
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
  EXPECT_EQ((*nb)->created_ms.ms(), 5);
  EXPECT_EQ((*nb)->home, "west");

  // A token hash belongs to one tenant only; the failed write changes nothing.
  Tenant c{"carol", a.token_sha256, false, 0, 0, WallMs{0}};
  Status st = s->PutTenant(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("carol"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("token"), std::string::npos) << st.message();
  EXPECT_FALSE(s->PutTenant(Tenant{"", "x", false, 0, 0, WallMs{0}}).ok());
  EXPECT_FALSE(s->PutTenant(Tenant{"dave", "", false, 0, 0, WallMs{0}}).ok());

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

}  // namespace
}  // namespace suanli::live
