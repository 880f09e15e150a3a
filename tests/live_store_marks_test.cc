// The store's high-water marks (live/store_marks.h): the file's format and
// its two copies; job ids never reused after a restore from an older copy
// or a lost write-ahead log; a store that lost acknowledged work (the WAL
// deleted, truncated or corrupted after SIGKILL) refuses to open with a
// message saying what was lost, and opens with accept_data_loss; the
// store's files are owner-only.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "live/store.h"
#include "live/store_marks.h"
#include "support/cli.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using ::suanli::testing::TempDir;

std::unique_ptr<Store> OpenOrDie(const std::string& path, const StoreOptions& opt = {}) {
  auto s = Store::Open(path, opt);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

JobRecord Job(const std::string& name) {
  JobRecord r;
  r.tenant = "alice";
  r.spec.name = name;
  r.spec.command = {"echo", name};
  return r;
}

int64_t Insert(Store& s, const std::string& name) {
  auto id = s.InsertJob(Job(name));
  EXPECT_TRUE(id.ok()) << id.status().message();
  return id.ok() ? *id : -1;
}

// Rows of `path` as SQLite reads the files as they are now (leaving the
// WAL as it is: no checkpoint on close).
int64_t RawCount(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM jobs", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

int Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// --- the file ---

TEST(LiveStoreMarksFile, SlotsRoundTripAndDamageIsFound) {
  StoreMarks m{7, 2000, 1530, 912, false};
  std::string slot = FormatMarksSlot(m);
  ASSERT_EQ(slot.size(), kMarksSlotBytes);
  auto back = ParseMarksSlot(slot);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
  StoreMarks big{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
                 std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(), true};
  auto b2 = ParseMarksSlot(FormatMarksSlot(big));
  ASSERT_TRUE(b2.ok()) << b2.status().message();
  EXPECT_EQ(*b2, big);

  // A changed digit, a cut line, a wrong size: errors.
  std::string changed = slot;
  changed[changed.find("last_id=") + 8] = '9';
  EXPECT_FALSE(ParseMarksSlot(changed).ok());
  EXPECT_FALSE(ParseMarksSlot(slot.substr(0, 100)).ok());
  EXPECT_FALSE(ParseMarksSlot(std::string(kMarksSlotBytes, ' ')).ok());
  EXPECT_FALSE(ParseMarksSlot(std::string(kMarksSlotBytes, '\0')).ok());

  // The file: the newer valid slot; one damaged slot leaves the other.
  StoreMarks newer = m;
  newer.seq = 8;
  newer.last_id = 1600;
  auto f = ParseMarksFile(slot + FormatMarksSlot(newer), "m");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->last_id, 1600);
  f = ParseMarksFile(FormatMarksSlot(newer) + slot, "m");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->last_id, 1600);
  std::string torn = FormatMarksSlot(newer).substr(0, 40) + std::string(kMarksSlotBytes - 40, '\0');
  f = ParseMarksFile(slot + torn, "m");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->last_id, 1530);
  auto bad = ParseMarksFile(torn + torn, "the/marks");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("the/marks"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParseMarksFile(slot, "m").ok());
}

TEST(LiveStoreMarksFile, DamagedMarksFileIsAnErrorNamingIt) {
  auto dir = TempDir("marks_damaged");
  const std::string path = dir + "/suanli.db";
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    Insert(*s, "a");
    EXPECT_EQ(s->marks_path(), dir + "/suanli.marks");
  }
  ASSERT_TRUE(fs::exists(dir + "/suanli.marks"));
  std::ofstream(dir + "/suanli.marks", std::ios::trunc) << "garbage";
  auto s = Store::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(dir + "/suanli.marks"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("move it away"), std::string::npos) << s.status().message();
  // Moved away: the store starts from the database's own state.
  fs::remove(dir + "/suanli.marks");
  auto again = OpenOrDie(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(Insert(*again, "b"), 2);
}

// --- ids ---

// A restore from an older copy: the store refuses to open it (jobs are
// missing) unless told to accept the loss, and then hands out ids above
// every id handed out before: a new job never takes an old job's id (nor
// its job directory and logs).
TEST(LiveStoreMarks, RestoreFromAnOlderCopyNeverReusesIds) {
  auto dir = TempDir("marks_restore");
  const std::string path = dir + "/suanli.db";
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (int i = 1; i <= 5; ++i) EXPECT_EQ(Insert(*s, fmt::format("a{}", i)), i);
  }
  fs::copy_file(path, dir + "/backup.db");  // closed cleanly: the file is the whole store
  int64_t last = 0;
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (int i = 6; i <= 9; ++i) last = Insert(*s, fmt::format("b{}", i));
    EXPECT_EQ(last, 9);  // a clean stop leaves no gap
    JobRecord r = Job("b6");
    r.id = 6;
    r.state = JobState::kSucceeded;
    ASSERT_TRUE(s->UpdateJob(r).ok());
  }
  // The restore.
  fs::copy_file(dir + "/backup.db", path, fs::copy_options::overwrite_existing);
  auto refused = Store::Open(path);
  ASSERT_FALSE(refused.ok()) << "a store older than its marks opened";
  const std::string& msg = refused.status().message();
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(msg.find("jobs 6-9 were acknowledged but are missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("older copy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--accept-data-loss"), std::string::npos) << msg;
  // Refusing changed nothing: it refuses again.
  EXPECT_FALSE(Store::Open(path).ok());

  StoreOptions accept;
  accept.accept_data_loss = true;
  {
    auto s = OpenOrDie(path, accept);
    ASSERT_TRUE(s);
    EXPECT_NE(s->data_loss().find("jobs 6-9"), std::string::npos) << s->data_loss();
    int64_t id = Insert(*s, "c");
    EXPECT_GT(id, last) << "id " << id << " was handed out before";
    auto old = s->GetJob(5);
    ASSERT_TRUE(old.ok() && old->has_value());
    EXPECT_EQ((*old)->spec.name, "a5");
  }
  // Accepted once: later starts are normal and ids keep going up.
  auto s = OpenOrDie(path);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->data_loss().empty());
  EXPECT_GT(Insert(*s, "d"), last + 1);
}

// Ids are reserved in blocks: a crash skips the rest of the block, never
// goes below it; a deleted database (and WAL) with the marks left is
// refused, and accepted it still hands out new ids.
TEST(LiveStoreMarks, DeletedDatabaseIsRefusedAndIdsStayAbove) {
  auto dir = TempDir("marks_deleted_db");
  const std::string path = dir + "/suanli.db";
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (int i = 0; i < 3; ++i) Insert(*s, "x");
  }
  for (const char* f : {"", "-wal", "-shm"}) fs::remove(path + f);
  auto refused = Store::Open(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("jobs 1-3"), std::string::npos) << refused.status().message();
  StoreOptions accept;
  accept.accept_data_loss = true;
  auto s = OpenOrDie(path, accept);
  ASSERT_TRUE(s);
  EXPECT_EQ(Insert(*s, "y"), 4);
}

// --- lost work after SIGKILL ---

enum class Damage { kDeleteWal, kTruncateWal, kCorruptWal };

// A child process inserts jobs (and updates some) and reports each id after
// InsertJob returned, then is killed with SIGKILL; `damage` is done to its
// WAL. Returns the acknowledged ids.
std::vector<int64_t> KillAfterAcknowledgedWrites(const std::string& path, int n) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  EXPECT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    StoreOptions o;
    o.synchronous_full = false;  // fast; SIGKILL does not lose the page cache
    auto opened = Store::Open(path, o);
    if (!opened.ok()) _exit(3);
    // A reader holding its snapshot from before the writes: no checkpoint
    // can copy them into the database file, so they are only in the WAL
    // when the process dies (as after any crash soon after a burst).
    sqlite3* reader = nullptr;
    if (sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) _exit(8);
    if (sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM jobs;", nullptr, nullptr, nullptr) != SQLITE_OK) _exit(9);
    for (int i = 0; i < n; ++i) {
      auto id = (*opened)->InsertJob(Job(fmt::format("k{}", i)));
      if (!id.ok()) _exit(4);
      if (i % 2 == 0) {
        JobRecord r = Job(fmt::format("k{}", i));
        r.id = *id;
        r.state = JobState::kRunning;
        if (!(*opened)->UpdateJob(r).ok()) _exit(5);
      }
      if (write(fds[1], &*id, sizeof(int64_t)) != static_cast<ssize_t>(sizeof(int64_t))) _exit(6);
    }
    raise(SIGKILL);
    _exit(7);
  }
  close(fds[1]);
  std::vector<int64_t> acked;
  for (;;) {
    int64_t id = 0;
    ssize_t r = read(fds[0], &id, sizeof id);
    if (r == 0) break;
    if (r < 0 && errno == EINTR) continue;
    EXPECT_EQ(r, static_cast<ssize_t>(sizeof id));
    if (r != static_cast<ssize_t>(sizeof id)) break;
    acked.push_back(id);
  }
  close(fds[0]);
  int st = 0;
  EXPECT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "child exited with " << WEXITSTATUS(st);
  return acked;
}

void DamageWal(const std::string& path, Damage damage) {
  const std::string wal = path + "-wal";
  ASSERT_TRUE(fs::exists(wal));
  const auto size = fs::file_size(wal);
  ASSERT_GT(size, 32u * 1024u);
  switch (damage) {
    case Damage::kDeleteWal:
      fs::remove(wal);
      fs::remove(path + "-shm");
      break;
    case Damage::kTruncateWal: fs::resize_file(wal, size / 2); break;
    case Damage::kCorruptWal: {
      std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
      std::string junk(4096, '\xA5');
      f.seekp(static_cast<std::streamoff>(size / 3));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
      break;
    }
  }
}

class LiveStoreLostWal : public ::testing::TestWithParam<Damage> {};

TEST_P(LiveStoreLostWal, RefusesToOpenSaysWhatWasLostAndOpensWhenAccepted) {
  auto dir = TempDir(fmt::format("marks_lost_wal_{}", static_cast<int>(GetParam())));
  const std::string path = dir + "/suanli.db";
  // A first generation, checkpointed into the database by a clean close.
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    for (int i = 0; i < 10; ++i) Insert(*s, "first");
  }
  std::vector<int64_t> acked = KillAfterAcknowledgedWrites(path, 200);
  ASSERT_EQ(acked.size(), 200u);
  const int64_t max_acked = acked.back();
  DamageWal(path, GetParam());
  // The files really lack acknowledged jobs now (else the test proves nothing).
  ASSERT_LT(RawCount(path), 210);
  if (GetParam() == Damage::kDeleteWal) {
    fs::remove(path + "-wal");  // the (empty) one that reading made
    fs::remove(path + "-shm");
  }

  auto refused = Store::Open(path);
  ASSERT_FALSE(refused.ok()) << "a store that lost acknowledged jobs opened";
  const std::string msg = refused.status().message();
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(msg.find(fmt::format("-{} were acknowledged but are missing", max_acked)), std::string::npos) << msg;
  EXPECT_NE(msg.find("suanli.db-wal"), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam() == Damage::kDeleteWal ? "was deleted" : "truncated or damaged"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("--accept-data-loss"), std::string::npos) << msg;

  StoreOptions accept;
  accept.accept_data_loss = true;
  auto s = OpenOrDie(path, accept);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->data_loss().empty());
  auto first = s->GetJob(10);
  ASSERT_TRUE(first.ok() && first->has_value()) << "the checkpointed generation is gone";
  int64_t id = Insert(*s, "after");
  EXPECT_GT(id, max_acked) << "an acknowledged id was handed out again";
}

INSTANTIATE_TEST_SUITE_P(Damage, LiveStoreLostWal,
                         ::testing::Values(Damage::kDeleteWal, Damage::kTruncateWal, Damage::kCorruptWal));

// SIGKILL with the WAL left alone: nothing lost, the store opens normally,
// ids continue above the reserved block.
TEST(LiveStoreMarks, SigkillWithTheWalIntactOpensNormally) {
  auto dir = TempDir("marks_intact");
  const std::string path = dir + "/suanli.db";
  std::vector<int64_t> acked = KillAfterAcknowledgedWrites(path, 50);
  ASSERT_EQ(acked.size(), 50u);
  auto s = OpenOrDie(path);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->data_loss().empty());
  for (int64_t id : acked) {
    auto g = s->GetJob(id);
    ASSERT_TRUE(g.ok() && g->has_value()) << "job " << id;
  }
  EXPECT_GT(Insert(*s, "next"), acked.back());
}

// --- permissions ---

TEST(LiveStoreMarks, StoreFilesAreOwnerOnly) {
  auto dir = TempDir("marks_modes");
  const std::string path = dir + "/suanli.db";
  {
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    Insert(*s, "a");
    EXPECT_EQ(Mode(path), 0600);
    EXPECT_EQ(Mode(path + "-wal"), 0600);
    EXPECT_EQ(Mode(path + "-shm"), 0600);
    EXPECT_EQ(Mode(dir + "/suanli.marks"), 0600);
  }
  // An existing database readable by others is made owner-only.
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto s = OpenOrDie(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(Mode(path), 0600);
  Insert(*s, "b");
  EXPECT_EQ(Mode(path + "-wal"), 0600);
}

}  // namespace
}  // namespace suanli::live
