// The control plane's SQLite store under load and across ends: group commit
// under 16 writer threads, bad writes in busy batches failing alone,
// everything surviving a reopen, and acknowledged inserts surviving SIGKILL
// in the middle of a burst of durable inserts.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "live/store.h"
#include "support/cli.h"
#include "support/store.h"

namespace suanli::live {
namespace {

using ::suanli::testing::ExpectSameJob;
using ::suanli::testing::Fetch;
using ::suanli::testing::FullJob;
using ::suanli::testing::ListAll;
using ::suanli::testing::OpenOrDie;
using ::suanli::testing::TempDir;

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
  ASSERT_TRUE(s->PutTenant(Tenant{"owner", Sha256Hex("taken"), false, 0, 0, WallMs{0}}).ok());
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
        Tenant thief{fmt::format("thief{}", t), Sha256Hex("taken"), false, 0, 0, WallMs{0}};
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
    ASSERT_TRUE(s->PutTenant(Tenant{"alice", Sha256Hex("t"), true, 1, 2, WallMs{3}}).ok());
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

}  // namespace
}  // namespace suanli::live
