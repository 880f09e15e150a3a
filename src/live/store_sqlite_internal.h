// The SQLite store's implementation (not an API; live/store.h is): its class
// and the helpers its source files share, one responsibility each:
//
//   store_sqlite.cc        the store's start (Init) and close, its connections
//                          and their prepared statements, errors, the marks
//                          file and the WAL checkpoints
//   store_sqlite_write.cc  the writes: the queue, the writer thread and its
//                          group commits, and how a job's row is bound
//   store_sqlite_read.cc   the reads: jobs, attempts, counts, usage, tenants
//                          and settings, and how their rows are read
//   store_sqlite_open.cc   Store::Open: the file's mode and the schema (created
//                          or migrated, live/store_schema.h)
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "live/store.h"
#include "live/store_marks.h"

namespace suanli::live::sqlite_detail {

using json = nlohmann::json;

inline constexpr int kBusyTimeoutMs = 10000;

// Column order of every job SELECT; InsertJob/UpdateJob bind ?2.. in the same
// order (?1 is the id). The record's own columns come first (kJobOwnColumns),
// then the spec's, from name on, which are its table's (record_schema.h) in
// the table's order: read from column kFirstSpecColumn and bound from
// ?kFirstSpecColumn + 1 through the table. A new spec field is a new
// column at the end of both.
inline constexpr const char* kJobOwnColumns =
    "id, tenant, state, submit_ms, start_ms, end_ms, center, model, node, devices, backend_id, exit_code, "
    "signal, reason, est_start_ms, gpu_seconds, energy_kwh, cost, carbon_kg, checkpoint_ms, service";
inline constexpr int kFirstSpecColumn = 21;
// kJobColumns: kJobOwnColumns, then the spec's columns; the insert and the
// update of a job row in that order (built once from the table).
const std::string& JobColumns();
const std::string& InsertJobSql();
const std::string& UpdateJobSql();
inline constexpr const char* kTenantColumns =
    "name, token_sha256, admin, max_gpus_per_job, max_active_jobs, created_ms, max_priority, home";
// Columns of a job_attempts SELECT (AttemptRow reads them in this order).
inline constexpr const char* kAttemptColumns =
    "job_id, n, center, node, model, devices, start_ms, end_ms, outcome, reason, gpu_seconds, energy_kwh, cost, "
    "carbon_kg, checkpoint_ms";

// A connection and its prepared statements (kept for the connection's life).
struct SqliteConn {
  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> stmts;

  SqliteConn() = default;
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;
  ~SqliteConn() {
    for (auto& [sql, s] : stmts) sqlite3_finalize(s);
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

// Resets a statement (ending its read transaction) when a query is done.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* s) : s_(s) {}
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;
  ~StmtReset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_;
};

// Errors (store_sqlite.cc).
Status SqlError(const std::string& path, sqlite3* db, int rc, std::string_view what);
Status Exec(const std::string& path, sqlite3* db, const char* sql, std::string_view what);

inline std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  if (t == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

inline void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// A job's list fields as JSON text, encoded by the calling thread before the
// write is queued (so the writer thread only binds, and a field that cannot
// be encoded fails its own write only).
struct EncodedJob {
  // By field of the spec's table (record_schema.h): its lists and maps as
  // JSON text (empty for the other fields).
  std::vector<std::string> spec_json;
  std::string devices;
  std::vector<std::string> attempt_devices;  // by attempt
};

// One queued write; lives on its caller's stack until `done`.
struct WriteOp {
  enum Kind { kInsertJob, kUpdateJob, kPutTenant, kPutSetting, kPutDataset, kDeleteDataset } kind = kInsertJob;
  const JobRecord* job = nullptr;
  const EncodedJob* encoded = nullptr;
  const Tenant* tenant = nullptr;
  const std::string* key = nullptr;
  const std::string* value = nullptr;
  const Dataset* dataset = nullptr;
  Status status;
  int64_t id = 0;
  bool done = false;
};

using BindValue = std::variant<int64_t, std::string>;

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options);
  ~SqliteStore() override;

  // `wal_present`: whether the write-ahead log existed before the database
  // was opened (for the message when work was lost).
  Status Init(bool wal_present);

  // --- writes (store_sqlite_write.cc) ---

  Result<int64_t> InsertJob(const JobRecord& rec) override;
  Status UpdateJob(const JobRecord& rec) override;
  std::vector<Status> UpdateJobs(const std::vector<JobRecord>& recs) override;
  Status PutTenant(const Tenant& t) override;
  Status PutSetting(const std::string& key, const std::string& value) override;
  Status PutDataset(const Dataset& d) override;
  Result<bool> DeleteDataset(const std::string& tenant, const std::string& name) override;
  // The writer's part of kPutDataset and kDeleteDataset (store_sqlite_datasets.cc).
  Status WriteDataset(WriteOp* op);

  std::string data_loss() const override { return data_loss_; }
  std::string marks_path() const override { return marks_path_; }

  int64_t writes() const override { return writes_.load(); }
  int64_t commits() const override { return commits_.load(); }

  // --- reads (store_sqlite_read.cc) ---

  Result<std::optional<JobRecord>> GetJob(int64_t id) override;
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) override;
  Result<std::vector<JobRecord>> LoadActive() override;
  Status ReadAttempts(SqliteConn& conn, const std::string& sql, int64_t id, const std::vector<JobRecord*>& jobs);
  Status WriteEvents(int64_t job_id, const std::vector<JobEvent>& events);
  Status ReadEvents(SqliteConn& conn, const std::string& sql, int64_t id, const std::vector<JobRecord*>& jobs);
  Result<JobCounts> Counts(const std::string& tenant) override;
  Result<int64_t> ActiveJobs(const std::string& tenant) override;
  Result<std::vector<UsageSum>> Usage(const std::string& tenant, WallMs from_ms, WallMs to_ms) override;
  Result<std::optional<Tenant>> TenantByTokenHash(const std::string& sha256_hex) override;
  Result<std::optional<Tenant>> GetTenant(const std::string& name) override;
  Result<std::vector<Tenant>> ListTenants() override;
  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Result<std::optional<Dataset>> GetDataset(const std::string& tenant, const std::string& name) override;
  Result<std::vector<Dataset>> ListDatasets(const std::string& tenant) override;

 private:
  // A read connection borrowed from the pool and given back on destruction.
  struct Reader {
    Reader(SqliteStore* store, std::unique_ptr<SqliteConn> c) : owner(store), conn(std::move(c)) {}
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() { owner->GiveBack(std::move(conn)); }
    SqliteStore* owner;
    std::unique_ptr<SqliteConn> conn;
  };

  // --- connections (store_sqlite.cc) ---

  Result<std::unique_ptr<SqliteConn>> OpenConn(bool writer);
  Result<std::unique_ptr<SqliteConn>> Lease();
  void GiveBack(std::unique_ptr<SqliteConn> c);
  Result<sqlite3_stmt*> Prepare(SqliteConn& c, const std::string& sql);

  // --- queries (store_sqlite_read.cc) ---

  Result<std::vector<JobRecord>> QueryJobs(const std::string& sql, const std::vector<BindValue>& args,
                                           std::string_view what);
  Result<std::optional<Tenant>> OneTenant(const std::string& sql, const std::string& arg);

  // --- marks (live/store_marks.h; store_sqlite.cc) ---

  struct DbState {
    int64_t max_id = 0, sequence = 0, commits = 0;
  };

  Result<DbState> ReadDbState();
  Status CheckMarks(bool wal_present);
  Status ReserveIds();

  // --- checkpoints (store_sqlite.cc) ---

  static int WalHook(void* self, sqlite3* db, const char* name, int pages);
  void CheckpointLoop();

  // --- the writer (store_sqlite_write.cc) ---

  Status Submit(WriteOp* op);
  void WriterLoop();
  Status Step(const char* sql, std::string_view what);
  Status RunOp(WriteOp* op);
  void RunBatch(const std::vector<WriteOp*>& batch);

  const std::string path_;
  StoreOptions options_;
  std::string marks_path_, data_loss_;
  MarksFile marks_;  // written by the writer thread only (after Init)
  bool marks_open_ = false, marks_ok_ = true;
  std::atomic<bool> marks_unsynced_{false};  // written since the last fdatasync
  int64_t next_id_ = 1;                      // the next job id to hand out (writer thread)
  int64_t batch_max_id_ = 0;                 // highest id inserted by the running transaction

  std::unique_ptr<SqliteConn> writer_;  // used by the writer thread only (after Init)
  std::thread writer_thread_;
  std::mutex mu_;  // guards queue_, stopping_ and every WriteOp::done
  std::condition_variable queue_cv_, done_cv_;
  std::deque<WriteOp*> queue_;
  bool stopping_ = false;
  std::atomic<int64_t> writes_{0}, commits_{0};

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteConn>> readers_;

  std::unique_ptr<SqliteConn> checkpointer_;  // used by the checkpointer thread only
  std::thread ckpt_thread_;
  std::mutex ckpt_mu_;  // guards the flags below
  std::condition_variable ckpt_cv_;
  bool ckpt_requested_ = false, wal_dirty_ = false, ckpt_stopping_ = false;
  std::atomic<int64_t> checkpoints_{0};
};

}  // namespace suanli::live::sqlite_detail
