// Store on an embedded SQLite database (live/store.h).
//
// One writer connection owned by a writer thread; every write (InsertJob,
// UpdateJob, PutTenant, PutSetting) is queued to it. The writer takes every
// write queued while its previous commit ran (up to max_batch), runs them in
// one transaction with prepared statements, commits (one fsync of the WAL with
// synchronous=FULL) and then wakes each caller with its own result. Each write
// is a single SQL statement, and SQLite backs out a failed statement without
// touching the rest of the transaction, so one bad write fails alone; if an
// error ever rolls the whole transaction back, the writer runs the others
// again in a new one.
//
// Reads go to a small pool of read-only connections: under WAL they run
// beside the writer and see every transaction committed before they start,
// so a read made after a write returned sees it.
//
// The implementation's source files are listed in store_sqlite_internal.h.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "live/store_sqlite_internal.h"

namespace suanli::live::sqlite_detail {
namespace {

constexpr size_t kMaxIdleReaders = 8;
// The WAL is copied into the database file by a checkpointer thread of its
// own (never by the writer, whose commits would wait for it) once it holds
// this many pages, and at least every kCheckpointEveryMs while writes come.
constexpr int kCheckpointPages = 4000;
constexpr int kCheckpointEveryMs = 1000;
// Under a steady stream of commits a passive checkpoint beside the writer
// never reaches the end of the WAL, so the WAL never starts over and would
// grow without bound. Past this many pages the writer itself checkpoints
// after a commit (copying the little the checkpointer has not), so that its
// next transaction starts the WAL over.
constexpr int kWriterCheckpointPages = 16000;
// Job ids are reserved in the marks file this many at a time (one fsync per
// block, not per insert); a crash skips what is left of the block.
constexpr int64_t kIdBlock = 1000;

StatusCode CodeOf(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: return StatusCode::kInvalidArgument;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return StatusCode::kIoError;
    case SQLITE_FULL: return StatusCode::kResourceExhausted;
    default: return StatusCode::kUnavailable;
  }
}

// "store PATH: WHAT: MESSAGE" (+ " (GENERIC)" when SQLite's message is more specific).
Status SqlStatus(const std::string& path, int rc, std::string_view what, const std::string& msg) {
  std::string generic = sqlite3_errstr(rc);
  if (msg == generic || msg.empty()) return Status(CodeOf(rc), fmt::format("store {}: {}: {}", path, what, generic));
  return Status(CodeOf(rc), fmt::format("store {}: {}: {} ({})", path, what, msg, generic));
}

}  // namespace

Status SqlError(const std::string& path, sqlite3* db, int rc, std::string_view what) {
  return SqlStatus(path, rc, what, db != nullptr ? sqlite3_errmsg(db) : "");
}

Status Exec(const std::string& path, sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  return SqlStatus(path, rc, what, msg);
}

SqliteStore::SqliteStore(std::string path, StoreOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (options_.max_batch < 1) options_.max_batch = 1;
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lk(ckpt_mu_);
    ckpt_stopping_ = true;
  }
  ckpt_cv_.notify_all();
  if (ckpt_thread_.joinable()) ckpt_thread_.join();
  readers_.clear();
  checkpointer_.reset();
  writer_.reset();  // the last connection: checkpoints everything and removes the WAL
  if (marks_open_) {
    // A clean close: ids above the last one handed out are free again.
    StoreMarks m = marks_.current();
    m.reserved_id = std::max(m.last_id, next_id_ - 1);
    m.clean = true;
    Status st = marks_.Write(m);
    if (!st.ok()) spdlog::error("{}", st.message());
  }
}

Status SqliteStore::Init(bool wal_present) {
  auto w = OpenConn(/*writer=*/true);
  if (!w.ok()) return w.status();
  writer_ = std::move(*w);
  SUANLI_RETURN_IF_ERROR(CheckMarks(wal_present));
  auto c = OpenConn(/*writer=*/true);
  if (!c.ok()) return c.status();
  checkpointer_ = std::move(*c);
  // Replaces SQLite's automatic checkpoint on the writer's commits.
  sqlite3_wal_hook(writer_->db, &SqliteStore::WalHook, this);
  writer_thread_ = std::thread([this] { WriterLoop(); });
  ckpt_thread_ = std::thread([this] { CheckpointLoop(); });
  return Status::Ok();
}

// --- connections ---

Result<std::unique_ptr<SqliteConn>> SqliteStore::OpenConn(bool writer) {
  auto c = std::make_unique<SqliteConn>();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path_.c_str(), &c->db, flags, nullptr);
  if (rc != SQLITE_OK) return SqlError(path_, c->db, rc, "cannot open the database");
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, kBusyTimeoutMs);
  if (writer) {
    // FULL: the WAL is fsync'd at every commit (durable on power cut);
    // NORMAL: only at checkpoints (survives a crash of the process only).
    SUANLI_RETURN_IF_ERROR(Exec(path_, c->db,
                                options_.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                                "setting synchronous"));
    // A larger page cache keeps the indexes' hot pages; the WAL is cut
    // back to 64 MiB when it starts over.
    SUANLI_RETURN_IF_ERROR(Exec(path_, c->db, "PRAGMA cache_size = -16384; PRAGMA journal_size_limit = 67108864",
                                "configuring the writer"));
  } else {
    SUANLI_RETURN_IF_ERROR(Exec(path_, c->db, "PRAGMA query_only = ON", "configuring a read connection"));
  }
  return c;
}

Result<std::unique_ptr<SqliteConn>> SqliteStore::Lease() {
  {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      return c;
    }
  }
  return OpenConn(/*writer=*/false);
}

void SqliteStore::GiveBack(std::unique_ptr<SqliteConn> c) {
  std::lock_guard<std::mutex> lk(pool_mu_);
  if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(c));
}

Result<sqlite3_stmt*> SqliteStore::Prepare(SqliteConn& c, const std::string& sql) {
  auto it = c.stmts.find(sql);
  if (it != c.stmts.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  int rc =
      sqlite3_prepare_v3(c.db, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return SqlError(path_, c.db, rc, "preparing a statement");
  c.stmts.emplace(sql, s);
  return s;
}

// --- marks (live/store_marks.h) ---

Result<SqliteStore::DbState> SqliteStore::ReadDbState() {
  SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                          Prepare(*writer_,
                                  "SELECT (SELECT COALESCE(MAX(id), 0) FROM jobs), "
                                  "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'jobs'), "
                                  "(SELECT COALESCE(MAX(n), 0) FROM commit_count)"));
  StmtReset reset(s);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return SqlError(path_, writer_->db, rc, "reading the highest job id and commit count");
  return DbState{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)};
}

Status SqliteStore::CheckMarks(bool wal_present) {
  marks_path_ = options_.marks_path;
  if (marks_path_.empty()) marks_path_ = std::filesystem::path(path_).replace_extension(".marks").string();
  SUANLI_ASSIGN_OR_RETURN(DbState db, ReadDbState());
  auto prev = MarksFile::Read(marks_path_);
  if (!prev.ok()) {
    return Status(prev.status().code(),
                  fmt::format("store {}: {}; if the marks file itself is damaged, move it away: the store then "
                              "starts from the database's own state (job ids continue after {})",
                              path_, prev.status().message(), std::max(db.max_id, db.sequence)));
  }
  const int64_t top = std::max(db.max_id, db.sequence);
  StoreMarks next;
  next.reserved_id = top;
  if (!*prev) {
    if (top > 0 || db.commits > 0)
      spdlog::info("store {}: no marks file; created {} from the database (job ids continue after {})", path_,
                   marks_path_, top);
  } else {
    std::string lost = LostWork(**prev, db.max_id, db.commits, std::filesystem::path(path_).filename().string(),
                                std::filesystem::path(marks_path_).filename().string(), wal_present);
    if (!lost.empty()) {
      if (!options_.accept_data_loss) {
        return Status(StatusCode::kFailedPrecondition,
                      fmt::format("store {}: {}. Refusing to start: restore the lost files if you can; to go on "
                                  "without that work, start "
                                  "once with --accept-data-loss (new job ids stay above {})",
                                  path_, lost, std::max(top, (*prev)->reserved_id)));
      }
      data_loss_ = lost;
      spdlog::error("store {}: accepted data loss: {}; new job ids stay above {}", path_, lost,
                    std::max(top, (*prev)->reserved_id));
    }
    next.reserved_id = std::max(top, (*prev)->reserved_id);
  }
  next.last_id = db.max_id;
  next.commits = db.commits;
  next.clean = false;
  SUANLI_RETURN_IF_ERROR(marks_.Open(marks_path_, next).Wrap("store " + path_));
  SUANLI_RETURN_IF_ERROR(marks_.Write(next).Wrap("store " + path_));
  marks_open_ = true;
  next_id_ = next.reserved_id + 1;
  return Status::Ok();
}

// Records ids up to next_id_ + kIdBlock - 1 as handed out, before any of
// them is.
Status SqliteStore::ReserveIds() {
  StoreMarks m = marks_.current();
  m.reserved_id = next_id_ + kIdBlock - 1;
  m.clean = false;
  Status st = marks_.Write(m);
  if (!st.ok()) return Status(st.code(), fmt::format("store {}: cannot reserve job ids: {}", path_, st.message()));
  return Status::Ok();
}

// --- checkpoints ---

// Called by SQLite on the writer thread after each commit.
int SqliteStore::WalHook(void* self, sqlite3* db, const char* /*name*/, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  if (pages >= kWriterCheckpointPages) {
    int log = 0, copied = 0;
    (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    return SQLITE_OK;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(store->ckpt_mu_);
    store->wal_dirty_ = true;
    if (pages >= kCheckpointPages && !store->ckpt_requested_) wake = store->ckpt_requested_ = true;
  }
  if (wake) store->ckpt_cv_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop() {
  std::unique_lock<std::mutex> lk(ckpt_mu_);
  for (;;) {
    ckpt_cv_.wait_for(lk, std::chrono::milliseconds(kCheckpointEveryMs),
                      [this] { return ckpt_requested_ || ckpt_stopping_; });
    if (ckpt_stopping_) return;
    if (!ckpt_requested_ && !wal_dirty_) continue;
    ckpt_requested_ = false;
    wal_dirty_ = false;
    lk.unlock();
    // PASSIVE: copies what no reader still needs, without blocking the
    // writer or readers. The writer starts the WAL over once all of it
    // has been copied. Errors (busy) are left to the next round.
    int log = 0, copied = 0;
    (void)sqlite3_wal_checkpoint_v2(checkpointer_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    checkpoints_.fetch_add(1);
    // The marks written since the last round reach the disk.
    if (marks_unsynced_.exchange(false)) {
      Status st = marks_.Sync();
      if (!st.ok()) spdlog::error("store {}: {}", path_, st.message());
    }
    lk.lock();
  }
}

}  // namespace suanli::live::sqlite_detail
