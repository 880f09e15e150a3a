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
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "live/store.h"
#include "live/store_marks.h"
#include "live/store_schema.h"

namespace suanli::live {
namespace {

using json = nlohmann::json;

constexpr int kBusyTimeoutMs = 10000;
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

// Column order of every job SELECT; InsertJob/UpdateJob bind ?2.. in the same
// order (?1 is the id).
constexpr const char* kJobColumns =
    "id, tenant, state, name, command, env, workdir, gpus, cpu_milli, mem_mib, models, stacks, "
    "workload_class, time_limit_s, duration_s, priority, spec_center, submit_ms, start_ms, end_ms, "
    "center, model, node, devices, backend_id, exit_code, signal, reason, est_start_ms, gpu_seconds, "
    "energy_kwh, cost, carbon_kg";

constexpr const char* kInsertJobSql =
    "INSERT INTO jobs (id, tenant, state, name, command, env, workdir, gpus, cpu_milli, mem_mib, models, "
    "stacks, workload_class, time_limit_s, duration_s, priority, spec_center, submit_ms, start_ms, "
    "end_ms, center, model, node, devices, backend_id, exit_code, signal, reason, est_start_ms, "
    "gpu_seconds, energy_kwh, cost, carbon_kg) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, "
    "?32, ?33)";
constexpr const char* kUpdateJobSql =
    "UPDATE jobs SET tenant = ?2, state = ?3, name = ?4, command = ?5, env = ?6, workdir = ?7, "
    "gpus = ?8, cpu_milli = ?9, mem_mib = ?10, models = ?11, stacks = ?12, workload_class = ?13, "
    "time_limit_s = ?14, duration_s = ?15, priority = ?16, spec_center = ?17, submit_ms = ?18, "
    "start_ms = ?19, end_ms = ?20, center = ?21, model = ?22, node = ?23, devices = ?24, "
    "backend_id = ?25, exit_code = ?26, signal = ?27, reason = ?28, est_start_ms = ?29, "
    "gpu_seconds = ?30, energy_kwh = ?31, cost = ?32, carbon_kg = ?33 WHERE id = ?1";
constexpr const char* kTenantColumns =
    "name, token_sha256, admin, max_gpus_per_job, max_active_jobs, created_ms, max_priority";

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

std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  if (t == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// A job's list fields as JSON text, encoded by the calling thread before the
// write is queued (so the writer thread only binds, and a field that cannot
// be encoded fails its own write only).
struct EncodedJob {
  std::string command, env, models, stacks, devices;
  std::vector<std::string> attempt_devices;  // by attempt
};

Result<EncodedJob> EncodeJob(const std::string& path, const JobRecord& r) {
  EncodedJob e;
  const char* field = "command";
  try {
    e.command = json(r.spec.command).dump();
    field = "env";
    e.env = json(r.spec.env).dump();
    field = "models";
    e.models = json(r.spec.models).dump();
    field = "stacks";
    e.stacks = json(r.spec.stacks).dump();
    field = "devices";
    e.devices = json(r.devices).dump();
    field = "attempts";
    for (const JobAttempt& a : r.attempts) e.attempt_devices.push_back(json(a.devices).dump());
  } catch (const json::exception& ex) {
    return InvalidArgument("store {}: job {}: {} cannot be stored: {}", path, r.id, field, ex.what());
  }
  return e;
}

void BindJob(sqlite3_stmt* s, const JobRecord& r, const EncodedJob& e) {
  const JobSpec& p = r.spec;
  sqlite3_bind_int64(s, 1, r.id);
  BindText(s, 2, r.tenant);
  BindText(s, 3, std::string(StateName(r.state)));
  BindText(s, 4, p.name);
  BindText(s, 5, e.command);
  BindText(s, 6, e.env);
  BindText(s, 7, p.workdir);
  sqlite3_bind_int64(s, 8, p.gpus);
  sqlite3_bind_int64(s, 9, p.cpu_milli);
  sqlite3_bind_int64(s, 10, p.mem_mib);
  BindText(s, 11, e.models);
  BindText(s, 12, e.stacks);
  BindText(s, 13, p.workload_class);
  sqlite3_bind_int64(s, 14, p.time_limit_s);
  sqlite3_bind_int64(s, 15, p.duration_s);
  sqlite3_bind_int64(s, 16, p.priority);
  BindText(s, 17, p.center);
  sqlite3_bind_int64(s, 18, r.submit_ms);
  sqlite3_bind_int64(s, 19, r.start_ms);
  sqlite3_bind_int64(s, 20, r.end_ms);
  BindText(s, 21, r.center);
  BindText(s, 22, r.model);
  BindText(s, 23, r.node);
  BindText(s, 24, e.devices);
  BindText(s, 25, r.backend_id);
  sqlite3_bind_int64(s, 26, r.exit_code);
  sqlite3_bind_int64(s, 27, r.signal);
  BindText(s, 28, r.reason);
  sqlite3_bind_int64(s, 29, r.est_start_ms);
  sqlite3_bind_double(s, 30, r.gpu_seconds);
  sqlite3_bind_double(s, 31, r.energy_kwh);
  sqlite3_bind_double(s, 32, r.cost);
  sqlite3_bind_double(s, 33, r.carbon_kg);
}

// Columns of a job_attempts SELECT (AttemptRow reads them in this order).
constexpr const char* kAttemptColumns =
    "job_id, n, center, node, model, devices, start_ms, end_ms, outcome, reason, gpu_seconds, energy_kwh, cost, "
    "carbon_kg";
// Attempts are immutable once written: a job's later writes add its new ones.
constexpr const char* kInsertAttemptSql =
    "INSERT INTO job_attempts (job_id, n, center, node, model, devices, start_ms, end_ms, outcome, reason, "
    "gpu_seconds, energy_kwh, cost, carbon_kg) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
    "ON CONFLICT (job_id, n) DO NOTHING";

void BindAttempt(sqlite3_stmt* s, int64_t job_id, const JobAttempt& a, const std::string& devices) {
  sqlite3_bind_int64(s, 1, job_id);
  sqlite3_bind_int64(s, 2, a.n);
  BindText(s, 3, a.center);
  BindText(s, 4, a.node);
  BindText(s, 5, a.model);
  BindText(s, 6, devices);
  sqlite3_bind_int64(s, 7, a.start_ms);
  sqlite3_bind_int64(s, 8, a.end_ms);
  BindText(s, 9, a.outcome);
  BindText(s, 10, a.reason);
  sqlite3_bind_double(s, 11, a.gpu_seconds);
  sqlite3_bind_double(s, 12, a.energy_kwh);
  sqlite3_bind_double(s, 13, a.cost);
  sqlite3_bind_double(s, 14, a.carbon_kg);
}

// A run's usage in one hour, written once with its attempt.
constexpr const char* kInsertSliceSql =
    "INSERT INTO usage_slices (job_id, n, hour, start_ms, end_ms, tenant, center, model, gpu_seconds, "
    "energy_kwh, cost, carbon_kg) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
    "ON CONFLICT (job_id, n, hour) DO NOTHING";

void BindSlice(sqlite3_stmt* s, int64_t job_id, const std::string& tenant, const JobAttempt& a, const UsageSlice& h) {
  sqlite3_bind_int64(s, 1, job_id);
  sqlite3_bind_int64(s, 2, a.n);
  sqlite3_bind_int64(s, 3, h.hour);
  sqlite3_bind_int64(s, 4, h.start_ms);
  sqlite3_bind_int64(s, 5, h.end_ms);
  BindText(s, 6, tenant);
  BindText(s, 7, a.center);
  BindText(s, 8, a.model);
  sqlite3_bind_double(s, 9, h.gpu_seconds);
  sqlite3_bind_double(s, 10, h.energy_kwh);
  sqlite3_bind_double(s, 11, h.cost);
  sqlite3_bind_double(s, 12, h.carbon_kg);
}

// Reads one job row (columns in kJobColumns order); a malformed row gives an
// error naming the file, the job and the column.
class RowReader {
 public:
  RowReader(const std::string& path, sqlite3_stmt* s) : path_(path), s_(s) {}

  Result<JobRecord> Job() {
    JobRecord r;
    JobSpec& p = r.spec;
    r.id = sqlite3_column_int64(s_, 0);
    r.tenant = ColText(s_, 1);
    std::string state = ColText(s_, 2);
    auto st = ParseState(state);
    if (!st) return Bad(r.id, "state", fmt::format("unknown state '{}'", state));
    r.state = *st;
    p.name = ColText(s_, 3);
    SUANLI_RETURN_IF_ERROR(Strings(r.id, 4, "command", &p.command));
    SUANLI_RETURN_IF_ERROR(Env(r.id, 5, &p.env));
    p.workdir = ColText(s_, 6);
    int64_t gpus = sqlite3_column_int64(s_, 7);
    if (gpus < 0 || gpus > std::numeric_limits<uint32_t>::max()) {
      return Bad(r.id, "gpus", fmt::format("{} is out of range", gpus));
    }
    p.gpus = static_cast<uint32_t>(gpus);
    p.cpu_milli = sqlite3_column_int64(s_, 8);
    p.mem_mib = sqlite3_column_int64(s_, 9);
    SUANLI_RETURN_IF_ERROR(Strings(r.id, 10, "models", &p.models));
    SUANLI_RETURN_IF_ERROR(Strings(r.id, 11, "stacks", &p.stacks));
    p.workload_class = ColText(s_, 12);
    p.time_limit_s = sqlite3_column_int64(s_, 13);
    p.duration_s = sqlite3_column_int64(s_, 14);
    SUANLI_ASSIGN_OR_RETURN(p.priority, Int32(r.id, 15, "priority"));
    p.center = ColText(s_, 16);
    r.submit_ms = sqlite3_column_int64(s_, 17);
    r.start_ms = sqlite3_column_int64(s_, 18);
    r.end_ms = sqlite3_column_int64(s_, 19);
    r.center = ColText(s_, 20);
    r.model = ColText(s_, 21);
    r.node = ColText(s_, 22);
    SUANLI_RETURN_IF_ERROR(Devices(r.id, 23, &r.devices));
    r.backend_id = ColText(s_, 24);
    SUANLI_ASSIGN_OR_RETURN(r.exit_code, Int32(r.id, 25, "exit_code"));
    SUANLI_ASSIGN_OR_RETURN(r.signal, Int32(r.id, 26, "signal"));
    r.reason = ColText(s_, 27);
    r.est_start_ms = sqlite3_column_int64(s_, 28);
    r.gpu_seconds = sqlite3_column_double(s_, 29);
    r.energy_kwh = sqlite3_column_double(s_, 30);
    r.cost = sqlite3_column_double(s_, 31);
    r.carbon_kg = sqlite3_column_double(s_, 32);
    return r;
  }

  // One job_attempts row (kAttemptColumns order); its job's id in *job_id.
  Result<JobAttempt> Attempt(int64_t* job_id) {
    JobAttempt a;
    *job_id = sqlite3_column_int64(s_, 0);
    const int64_t n = sqlite3_column_int64(s_, 1);
    if (n < 1 || n > std::numeric_limits<int32_t>::max())
      return Bad(*job_id, "job_attempts.n", fmt::format("{} is out of range", n));
    a.n = static_cast<int>(n);
    a.center = ColText(s_, 2);
    a.node = ColText(s_, 3);
    a.model = ColText(s_, 4);
    SUANLI_RETURN_IF_ERROR(Devices(*job_id, 5, &a.devices));
    a.start_ms = sqlite3_column_int64(s_, 6);
    a.end_ms = sqlite3_column_int64(s_, 7);
    a.outcome = ColText(s_, 8);
    a.reason = ColText(s_, 9);
    a.gpu_seconds = sqlite3_column_double(s_, 10);
    a.energy_kwh = sqlite3_column_double(s_, 11);
    a.cost = sqlite3_column_double(s_, 12);
    a.carbon_kg = sqlite3_column_double(s_, 13);
    return a;
  }

 private:
  Status Bad(int64_t id, std::string_view column, const std::string& what) const {
    return ParseError("store {}: job {}: column {}: {}", path_, id, column, what);
  }

  // The list fields are decoded with nlohmann-json's SAX parser straight
  // into the record (no JSON tree per field and row).
  Status Strings(int64_t id, int col, std::string_view name, std::vector<std::string>* out) const {
    out->clear();
    ListSax sax(ListSax::kStrings);
    sax.strings = out;
    return Decode(id, col, name, sax);
  }

  Status Env(int64_t id, int col, std::map<std::string, std::string>* out) const {
    out->clear();
    ListSax sax(ListSax::kEnv);
    sax.env = out;
    return Decode(id, col, "env", sax);
  }

  Status Devices(int64_t id, int col, std::vector<int>* out) const {
    out->clear();
    ListSax sax(ListSax::kInts);
    sax.ints = out;
    return Decode(id, col, "devices", sax);
  }

  // Accepts exactly one JSON value of the expected shape: an array of
  // strings, an object of strings, or an array of ints.
  class ListSax : public nlohmann::json_sax<json> {
   public:
    enum Kind { kStrings, kEnv, kInts };
    explicit ListSax(Kind k) : kind(k) {}

    bool null() override { return Fail("null where a value was expected"); }
    bool boolean(bool /*v*/) override { return Fail("true/false where a value was expected"); }
    bool number_integer(number_integer_t v) override { return Int(v); }
    bool number_unsigned(number_unsigned_t v) override {
      if (v > static_cast<number_unsigned_t>(std::numeric_limits<int>::max())) return Fail("a number out of range");
      return Int(static_cast<int64_t>(v));
    }
    bool number_float(number_float_t /*v*/, const string_t& /*s*/) override { return Fail("a fraction"); }
    bool string(string_t& v) override {
      if (depth != 1 || kind == kInts) return Fail("a string where it does not belong");
      if (kind == kStrings) {
        strings->push_back(std::move(v));
      } else {
        (*env)[key_] = std::move(v);
      }
      return true;
    }
    bool binary(binary_t& /*v*/) override { return Fail("binary data"); }
    bool start_object(std::size_t /*n*/) override {
      if (depth != 0 || kind != kEnv || done) return Fail(kind == kEnv ? "a nested object" : "an object, not an array");
      ++depth;
      return true;
    }
    bool key(string_t& k) override {
      key_ = std::move(k);
      return true;
    }
    bool end_object() override {
      --depth;
      done = true;
      return true;
    }
    bool start_array(std::size_t /*n*/) override {
      if (depth != 0 || kind == kEnv || done) return Fail(kind == kEnv ? "an array, not an object" : "a nested array");
      ++depth;
      return true;
    }
    bool end_array() override {
      --depth;
      done = true;
      return true;
    }
    bool parse_error(std::size_t pos, const std::string& /*token*/,
                     const nlohmann::detail::exception& /*ex*/) override {
      return Fail(fmt::format("not valid JSON (at byte {})", pos));
    }

    Kind kind;
    std::vector<std::string>* strings = nullptr;
    std::map<std::string, std::string>* env = nullptr;
    std::vector<int>* ints = nullptr;
    std::string error;
    bool done = false;

   private:
    bool Int(int64_t v) {
      if (depth != 1 || kind != kInts) return Fail("a number where it does not belong");
      if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        return Fail("a number out of range");
      }
      ints->push_back(static_cast<int>(v));
      return true;
    }
    bool Fail(std::string what) {
      if (error.empty()) error = std::move(what);
      return false;
    }
    int depth = 0;
    std::string key_;
  };

  Status Decode(int64_t id, int col, std::string_view name, ListSax& sax) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    std::string_view text;
    if (t != nullptr) text = {reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col))};
    bool ok = json::sax_parse(text, &sax);
    if (!ok || !sax.done) {
      return Bad(id, name,
                 fmt::format("{}: '{}'", sax.error.empty() ? "not a JSON list" : sax.error, text.substr(0, 80)));
    }
    return Status::Ok();
  }

  Result<int32_t> Int32(int64_t id, int col, std::string_view name) const {
    int64_t v = sqlite3_column_int64(s_, col);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      return Bad(id, name, fmt::format("{} is out of range", v));
    }
    return static_cast<int32_t>(v);
  }

  const std::string& path_;
  sqlite3_stmt* s_;
};

Tenant TenantRow(sqlite3_stmt* s) {
  Tenant t;
  t.name = ColText(s, 0);
  t.token_sha256 = ColText(s, 1);
  t.admin = sqlite3_column_int64(s, 2) != 0;
  t.max_gpus_per_job = sqlite3_column_int64(s, 3);
  t.max_active_jobs = sqlite3_column_int64(s, 4);
  t.created_ms = sqlite3_column_int64(s, 5);
  t.max_priority = sqlite3_column_int64(s, 6);
  return t;
}

// One queued write; lives on its caller's stack until `done`.
struct WriteOp {
  enum Kind { kInsertJob, kUpdateJob, kPutTenant, kPutSetting } kind = kInsertJob;
  const JobRecord* job = nullptr;
  const EncodedJob* encoded = nullptr;
  const Tenant* tenant = nullptr;
  const std::string* key = nullptr;
  const std::string* value = nullptr;
  Status status;
  int64_t id = 0;
  bool done = false;
};

using BindValue = std::variant<int64_t, std::string>;

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options) : path_(std::move(path)), options_(options) {
    if (options_.max_batch < 1) options_.max_batch = 1;
  }

  ~SqliteStore() override {
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

  // `wal_present`: whether the write-ahead log existed before the database
  // was opened (for the message when work was lost).
  Status Init(bool wal_present) {
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

  // --- writes ---

  Result<int64_t> InsertJob(const JobRecord& rec) override {
    WriteOp op;
    op.kind = WriteOp::kInsertJob;
    op.job = &rec;
    SUANLI_ASSIGN_OR_RETURN(EncodedJob encoded, EncodeJob(path_, rec));
    op.encoded = &encoded;
    SUANLI_RETURN_IF_ERROR(Submit(&op));
    return op.id;
  }

  Status UpdateJob(const JobRecord& rec) override {
    if (rec.id <= 0) return InvalidArgument("store {}: UpdateJob: job id {} is not a stored job's id", path_, rec.id);
    WriteOp op;
    op.kind = WriteOp::kUpdateJob;
    op.job = &rec;
    SUANLI_ASSIGN_OR_RETURN(EncodedJob encoded, EncodeJob(path_, rec));
    op.encoded = &encoded;
    return Submit(&op);
  }

  std::vector<Status> UpdateJobs(const std::vector<JobRecord>& recs) override {
    std::vector<Status> out(recs.size());
    std::vector<EncodedJob> encoded(recs.size());
    std::vector<WriteOp> ops(recs.size());
    std::vector<WriteOp*> queued;
    queued.reserve(recs.size());
    for (size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].id <= 0) {
        out[i] = InvalidArgument("store {}: UpdateJob: job id {} is not a stored job's id", path_, recs[i].id);
        continue;
      }
      auto e = EncodeJob(path_, recs[i]);
      if (!e.ok()) {
        out[i] = e.status();
        continue;
      }
      encoded[i] = std::move(*e);
      ops[i].kind = WriteOp::kUpdateJob;
      ops[i].job = &recs[i];
      ops[i].encoded = &encoded[i];
      queued.push_back(&ops[i]);
    }
    if (queued.empty()) return out;
    {
      std::unique_lock<std::mutex> lk(mu_);
      if (stopping_) {
        for (WriteOp* op : queued) out[static_cast<size_t>(op - ops.data())] = Unavailable("store {}: closing", path_);
        return out;
      }
      queue_.insert(queue_.end(), queued.begin(), queued.end());
      queue_cv_.notify_one();
      done_cv_.wait(
          lk, [&] { return std::all_of(queued.begin(), queued.end(), [](const WriteOp* op) { return op->done; }); });
    }
    for (WriteOp* op : queued) out[static_cast<size_t>(op - ops.data())] = op->status;
    return out;
  }

  Status PutTenant(const Tenant& t) override {
    if (t.name.empty()) return InvalidArgument("store {}: PutTenant: tenant name is empty", path_);
    if (t.token_sha256.empty()) {
      return InvalidArgument("store {}: PutTenant: tenant '{}' has no token hash", path_, t.name);
    }
    WriteOp op;
    op.kind = WriteOp::kPutTenant;
    op.tenant = &t;
    return Submit(&op);
  }

  Status PutSetting(const std::string& key, const std::string& value) override {
    if (key.empty()) return InvalidArgument("store {}: PutSetting: key is empty", path_);
    WriteOp op;
    op.kind = WriteOp::kPutSetting;
    op.key = &key;
    op.value = &value;
    return Submit(&op);
  }

  std::string data_loss() const override { return data_loss_; }
  std::string marks_path() const override { return marks_path_; }

  int64_t writes() const override { return writes_.load(); }
  int64_t commits() const override { return commits_.load(); }

  // --- reads ---

  Result<std::optional<JobRecord>> GetJob(int64_t id) override {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            Prepare(*r.conn, fmt::format("SELECT {} FROM jobs WHERE id = ?1", kJobColumns)));
    StmtReset reset(s);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<JobRecord>();
    if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, fmt::format("reading job {}", id));
    SUANLI_ASSIGN_OR_RETURN(JobRecord rec, RowReader(path_, s).Job());
    std::vector<JobRecord*> one{&rec};
    SUANLI_RETURN_IF_ERROR(ReadAttempts(
        *r.conn, fmt::format("SELECT {} FROM job_attempts WHERE job_id = ?1 ORDER BY n", kAttemptColumns), id, one));
    return std::optional<JobRecord>(std::move(rec));
  }

  // Every filter is answered by walking index ranges newest first, never by
  // sorting matches: one range for one state (or none and no tenant or
  // center: the primary key), else the newest `limit` ids of each state's
  // range, merged. Which index is named here, not left to the planner (which
  // has no statistics and can pick a range that holds few matches).
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) override {
    const int64_t limit = std::clamp(filter.limit, 1, 1000);
    std::vector<std::string> states;
    for (JobState st : filter.states) states.emplace_back(StateName(st));
    std::sort(states.begin(), states.end());
    states.erase(std::unique(states.begin(), states.end()), states.end());
    const bool by_tenant = !filter.tenant.empty(), by_center = !filter.center.empty();
    if (states.size() == 5 && !by_tenant && !by_center) states.clear();  // every state: no filter
    if (states.empty() && (by_tenant || by_center)) {
      for (int i = 0; i < 5; ++i) states.emplace_back(StateName(static_cast<JobState>(i)));
    }
    const char* index = by_tenant && by_center ? "jobs_tenant_center_state_id"
                        : by_tenant            ? "jobs_tenant_state_id"
                        : by_center            ? "jobs_center_state_id"
                                               : "jobs_state_id";

    // The range of one state (or of every job when `state` is null).
    std::vector<BindValue> args;
    auto range = [&](const std::string* state, const char* columns) {
      std::string sql = state == nullptr
                            ? fmt::format("SELECT {} FROM jobs WHERE 1", columns)
                            : fmt::format("SELECT {} FROM jobs INDEXED BY {} WHERE state = ?", columns, index);
      if (state != nullptr) args.emplace_back(*state);
      if (by_tenant) {
        sql += " AND tenant = ?";
        args.emplace_back(filter.tenant);
      }
      if (by_center) {
        sql += " AND center = ?";
        args.emplace_back(filter.center);
      }
      if (filter.before_id > 0) {
        sql += " AND id < ?";
        args.emplace_back(filter.before_id);
      }
      sql += " ORDER BY id DESC LIMIT ?";
      args.emplace_back(limit);
      return sql;
    };
    std::string sql;
    if (states.size() <= 1) {
      sql = range(states.empty() ? nullptr : &states[0], kJobColumns);
    } else {
      std::string parts;
      for (const auto& st : states) {
        if (!parts.empty()) parts += " UNION ALL ";
        parts += "SELECT id FROM (" + range(&st, "id") + ")";
      }
      sql = fmt::format("SELECT {} FROM jobs WHERE id IN ({}) ORDER BY id DESC LIMIT ?", kJobColumns, parts);
      args.emplace_back(limit);
    }
    return QueryJobs(sql, args, "listing jobs");
  }

  Result<std::vector<JobRecord>> LoadActive() override {
    SUANLI_ASSIGN_OR_RETURN(
        std::vector<JobRecord> jobs,
        QueryJobs(fmt::format("SELECT {} FROM jobs INDEXED BY jobs_state_id WHERE state IN ('pending', 'running') "
                              "ORDER BY id",
                              kJobColumns),
                  {}, "loading active jobs"));
    // Their attempts so far, in one query (most active jobs have none).
    std::vector<JobRecord*> by_id;
    by_id.reserve(jobs.size());
    for (JobRecord& j : jobs) by_id.push_back(&j);
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_RETURN_IF_ERROR(ReadAttempts(
        *r.conn,
        "SELECT a.job_id, a.n, a.center, a.node, a.model, a.devices, a.start_ms, a.end_ms, a.outcome, a.reason, "
        "a.gpu_seconds, a.energy_kwh, a.cost, a.carbon_kg FROM jobs INDEXED BY jobs_state_id "
        "JOIN job_attempts a ON a.job_id = jobs.id WHERE jobs.state IN ('pending', 'running') ORDER BY a.job_id, a.n",
        0, by_id));
    return jobs;
  }

  // Reads attempts rows (kAttemptColumns, ordered by job id and n) into
  // `jobs` (sorted by id); `id` > 0 is bound as ?1.
  Status ReadAttempts(SqliteConn& conn, const std::string& sql, int64_t id, const std::vector<JobRecord*>& jobs) {
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(conn, sql));
    StmtReset reset(s);
    if (id > 0) sqlite3_bind_int64(s, 1, id);
    RowReader reader(path_, s);
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      int64_t job_id = 0;
      SUANLI_ASSIGN_OR_RETURN(JobAttempt a, reader.Attempt(&job_id));
      while (k < jobs.size() && jobs[k]->id < job_id) ++k;
      if (k < jobs.size() && jobs[k]->id == job_id) jobs[k]->attempts.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return SqlError(path_, conn.db, rc, "reading job attempts");
    return Status::Ok();
  }

  Result<JobCounts> Counts(const std::string& tenant) override {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        Prepare(*r.conn, tenant.empty() ? "SELECT state, SUM(n) FROM job_counts GROUP BY state"
                                        : "SELECT state, SUM(n) FROM job_counts WHERE tenant = ?1 GROUP BY state"));
    StmtReset reset(s);
    if (!tenant.empty()) BindText(s, 1, tenant);
    JobCounts c;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string state = ColText(s, 0);
      int64_t n = sqlite3_column_int64(s, 1);
      auto st = ParseState(state);
      if (!st) return ParseError("store {}: job_counts: unknown state '{}'", path_, state);
      switch (*st) {
        case JobState::kPending: c.pending = n; break;
        case JobState::kRunning: c.running = n; break;
        case JobState::kSucceeded: c.succeeded = n; break;
        case JobState::kFailed: c.failed = n; break;
        case JobState::kCancelled: c.cancelled = n; break;
      }
    }
    if (rc != SQLITE_DONE) return SqlError(path_, r.conn->db, rc, "counting jobs");
    return c;
  }

  Result<int64_t> ActiveJobs(const std::string& tenant) override {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            Prepare(*r.conn,
                                    "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE tenant = ?1 AND "
                                    "state IN ('pending', 'running')"));
    StmtReset reset(s);
    BindText(s, 1, tenant);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, "counting active jobs");
    return static_cast<int64_t>(sqlite3_column_int64(s, 0));
  }

  // Whole hours of [from_ms, to_ms) come from usage_hourly. At the partial
  // hours at its ends, the jobs that ended there are counted from the jobs
  // (end_ms index) and the runs' slices of those hours are taken pro rata
  // (power and prices are constant inside an hour).
  Result<std::vector<UsageSum>> Usage(const std::string& tenant, WallMs from_ms, WallMs to_ms) override {
    if (from_ms >= to_ms) return std::vector<UsageSum>();
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    constexpr int64_t kHour = 3600000;
    auto floor_div = [](int64_t a) { return a >= 0 ? a / kHour : -((-(a + 1)) / kHour) - 1; };
    // Whole hours [lo, hi): lo = ceil(from / hour), hi = floor(to / hour).
    const int64_t first = floor_div(from_ms), last = floor_div(to_ms - 1);  // hours touched
    int64_t lo = first + (from_ms % kHour != 0 ? 1 : 0);
    int64_t hi = floor_div(to_ms);
    const bool whole = lo < hi && lo <= std::numeric_limits<int64_t>::max() / kHour &&
                       lo >= std::numeric_limits<int64_t>::min() / kHour &&
                       hi <= std::numeric_limits<int64_t>::max() / kHour;
    int64_t raw1_end = to_ms, raw2_begin = to_ms;  // no whole hour: all of [from, to) from jobs
    if (whole) {
      raw1_end = lo * kHour;
      raw2_begin = hi * kHour;
    } else {
      lo = hi = first;  // slices: every hour touched, pro rata
    }
    const std::string by_tenant = tenant.empty() ? "" : " AND tenant = ?7";
    const std::string ended =
        "SELECT tenant, center, model, 1, 0, 0, 0, 0, 0 FROM jobs INDEXED BY jobs_end_ms WHERE end_ms >= {} AND "
        "end_ms < {} AND state IN ('succeeded', 'failed', 'cancelled')" +
        by_tenant;
    const std::string sliced =
        "SELECT tenant, center, model, 0, 1, gpu_seconds * f, energy_kwh * f, cost * f, carbon_kg * f FROM ("
        "SELECT *, CAST(MIN(end_ms, ?2) - MAX(start_ms, ?1) AS REAL) / (end_ms - start_ms) AS f "
        "FROM usage_slices WHERE ((hour >= ?8 AND hour < ?3) OR (hour >= ?4 AND hour <= ?9)) AND end_ms > ?1 "
        "AND start_ms < ?2 AND end_ms > start_ms" +
        by_tenant + ")";
    std::string sql = fmt::format(
        "SELECT tenant, center, model, SUM(jobs), TOTAL(g), TOTAL(e), TOTAL(c), TOTAL(k) FROM ("
        "SELECT tenant, center, model, jobs, slices AS n, gpu_seconds AS g, energy_kwh AS e, cost AS c, "
        "carbon_kg AS k FROM usage_hourly{} WHERE hour >= ?3 AND hour < ?4{} UNION ALL {} UNION ALL {} "
        "UNION ALL {}) GROUP BY tenant, center, model HAVING SUM(jobs) > 0 OR SUM(n) > 0 "
        "ORDER BY tenant, center, model",
        tenant.empty() ? "" : " INDEXED BY usage_hourly_tenant", by_tenant,
        fmt::format(fmt::runtime(ended), "?1", "?5"), fmt::format(fmt::runtime(ended), "?6", "?2"), sliced);
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn, sql));
    StmtReset reset(s);
    sqlite3_bind_int64(s, 1, from_ms);
    sqlite3_bind_int64(s, 2, to_ms);
    sqlite3_bind_int64(s, 3, lo);
    sqlite3_bind_int64(s, 4, hi);
    sqlite3_bind_int64(s, 5, raw1_end);
    sqlite3_bind_int64(s, 6, raw2_begin);
    if (!tenant.empty()) BindText(s, 7, tenant);
    sqlite3_bind_int64(s, 8, first);
    sqlite3_bind_int64(s, 9, last);
    std::vector<UsageSum> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      UsageSum u;
      u.tenant = ColText(s, 0);
      u.center = ColText(s, 1);
      u.model = ColText(s, 2);
      u.jobs = sqlite3_column_int64(s, 3);
      u.gpu_seconds = sqlite3_column_double(s, 4);
      u.energy_kwh = sqlite3_column_double(s, 5);
      u.cost = sqlite3_column_double(s, 6);
      u.carbon_kg = sqlite3_column_double(s, 7);
      out.push_back(std::move(u));
    }
    if (rc != SQLITE_DONE) return SqlError(path_, r.conn->db, rc, "summing usage");
    return out;
  }

  Result<std::optional<Tenant>> TenantByTokenHash(const std::string& sha256_hex) override {
    return OneTenant(fmt::format("SELECT {} FROM tenants WHERE token_sha256 = ?1", kTenantColumns), sha256_hex);
  }

  Result<std::optional<Tenant>> GetTenant(const std::string& name) override {
    return OneTenant(fmt::format("SELECT {} FROM tenants WHERE name = ?1", kTenantColumns), name);
  }

  Result<std::vector<Tenant>> ListTenants() override {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            Prepare(*r.conn, fmt::format("SELECT {} FROM tenants ORDER BY name", kTenantColumns)));
    StmtReset reset(s);
    std::vector<Tenant> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(TenantRow(s));
    if (rc != SQLITE_DONE) return SqlError(path_, r.conn->db, rc, "listing tenants");
    return out;
  }

  Result<std::optional<std::string>> GetSetting(const std::string& key) override {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn, "SELECT value FROM settings WHERE key = ?1"));
    StmtReset reset(s);
    BindText(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, fmt::format("reading setting '{}'", key));
    return std::optional<std::string>(ColText(s, 0));
  }

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

  Result<std::unique_ptr<SqliteConn>> OpenConn(bool writer) {
    auto c = std::make_unique<SqliteConn>();
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path_.c_str(), &c->db, flags, nullptr);
    if (rc != SQLITE_OK) return SqlError(path_, c->db, rc, "cannot open the database");
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, kBusyTimeoutMs);
    if (writer) {
      // FULL: the WAL is fsync'd at every commit (durable on power cut);
      // NORMAL: only at checkpoints (survives a crash of the process only).
      SUANLI_RETURN_IF_ERROR(
          Exec(path_, c->db, options_.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
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

  Result<std::unique_ptr<SqliteConn>> Lease() {
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

  void GiveBack(std::unique_ptr<SqliteConn> c) {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(c));
  }

  Result<sqlite3_stmt*> Prepare(SqliteConn& c, const std::string& sql) {
    auto it = c.stmts.find(sql);
    if (it != c.stmts.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    int rc =
        sqlite3_prepare_v3(c.db, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return SqlError(path_, c.db, rc, "preparing a statement");
    c.stmts.emplace(sql, s);
    return s;
  }

  Result<std::vector<JobRecord>> QueryJobs(const std::string& sql, const std::vector<BindValue>& args,
                                           std::string_view what) {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn, sql));
    StmtReset reset(s);
    for (size_t i = 0; i < args.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (const auto* v = std::get_if<int64_t>(&args[i])) {
        sqlite3_bind_int64(s, idx, *v);
      } else {
        BindText(s, idx, std::get<std::string>(args[i]));
      }
    }
    std::vector<JobRecord> out;
    RowReader reader(path_, s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      SUANLI_ASSIGN_OR_RETURN(JobRecord rec, reader.Job());
      out.push_back(std::move(rec));
    }
    if (rc != SQLITE_DONE) return SqlError(path_, r.conn->db, rc, what);
    return out;
  }

  Result<std::optional<Tenant>> OneTenant(const std::string& sql, const std::string& arg) {
    auto lease = Lease();
    if (!lease.ok()) return lease.status();
    Reader r(this, std::move(*lease));
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn, sql));
    StmtReset reset(s);
    BindText(s, 1, arg);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<Tenant>();
    if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, "reading a tenant");
    return std::optional<Tenant>(TenantRow(s));
  }

  // --- marks (live/store_marks.h) ---

  struct DbState {
    int64_t max_id = 0, sequence = 0, commits = 0;
  };

  Result<DbState> ReadDbState() {
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

  Status CheckMarks(bool wal_present) {
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
  Status ReserveIds() {
    StoreMarks m = marks_.current();
    m.reserved_id = next_id_ + kIdBlock - 1;
    m.clean = false;
    Status st = marks_.Write(m);
    if (!st.ok()) return Status(st.code(), fmt::format("store {}: cannot reserve job ids: {}", path_, st.message()));
    return Status::Ok();
  }

  // --- checkpoints ---

  // Called by SQLite on the writer thread after each commit.
  static int WalHook(void* self, sqlite3* db, const char* /*name*/, int pages) {
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

  void CheckpointLoop() {
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

  // --- the writer ---

  Status Submit(WriteOp* op) {
    std::unique_lock<std::mutex> lk(mu_);
    if (stopping_) return Unavailable("store {}: closing", path_);
    queue_.push_back(op);
    queue_cv_.notify_one();
    done_cv_.wait(lk, [op] { return op->done; });
    return op->status;
  }

  void WriterLoop() {
    std::vector<WriteOp*> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        queue_cv_.wait(lk, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, and every queued write is done
        while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      RunBatch(batch);
      {
        std::lock_guard<std::mutex> lk(mu_);
        for (WriteOp* op : batch) op->done = true;
      }
      done_cv_.notify_all();
      batch.clear();
    }
  }

  Status Step(const char* sql, std::string_view what) {
    auto s = Prepare(*writer_, sql);
    if (!s.ok()) return s.status();
    StmtReset reset(*s);
    int rc = sqlite3_step(*s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(path_, writer_->db, rc, what);
    return Status::Ok();
  }

  Status RunOp(WriteOp* op) {
    sqlite3* db = writer_->db;
    switch (op->kind) {
      case WriteOp::kInsertJob:
      case WriteOp::kUpdateJob: {
        bool insert = op->kind == WriteOp::kInsertJob;
        SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*writer_, insert ? kInsertJobSql : kUpdateJobSql));
        StmtReset reset(s);
        BindJob(s, *op->job, *op->encoded);
        int64_t id = 0;
        if (insert) {
          // The id is the store's, above every id handed out before (an id
          // whose insert fails is not handed out again either).
          if (next_id_ > marks_.current().reserved_id) SUANLI_RETURN_IF_ERROR(ReserveIds());
          id = next_id_++;
          sqlite3_bind_int64(s, 1, id);
        }
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
          return SqlError(path_, db, rc,
                          insert ? std::string("inserting a job") : fmt::format("updating job {}", op->job->id));
        }
        if (insert) {
          op->id = id;
          batch_max_id_ = std::max(batch_max_id_, id);
        } else if (sqlite3_changes(db) == 0) {
          return NotFound("store {}: UpdateJob: no job {}", path_, op->job->id);
        }
        const std::vector<JobAttempt>& attempts = op->job->attempts;
        if (attempts.empty()) return Status::Ok();
        const int64_t job_id = insert ? op->id : op->job->id;
        SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * as, Prepare(*writer_, kInsertAttemptSql));
        for (size_t i = 0; i < attempts.size(); ++i) {
          StmtReset areset(as);
          BindAttempt(as, job_id, attempts[i], op->encoded->attempt_devices[i]);
          rc = sqlite3_step(as);
          if (rc != SQLITE_DONE)
            return SqlError(path_, db, rc, fmt::format("writing attempt {} of job {}", attempts[i].n, job_id));
          if (sqlite3_changes(db) == 0 || attempts[i].hours.empty()) continue;  // written before
          SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * hs, Prepare(*writer_, kInsertSliceSql));
          for (const UsageSlice& h : attempts[i].hours) {
            StmtReset hreset(hs);
            BindSlice(hs, job_id, op->job->tenant, attempts[i], h);
            rc = sqlite3_step(hs);
            if (rc != SQLITE_DONE)
              return SqlError(path_, db, rc,
                              fmt::format("writing usage of attempt {} of job {}", attempts[i].n, job_id));
          }
        }
        return Status::Ok();
      }
      case WriteOp::kPutTenant: {
        SUANLI_ASSIGN_OR_RETURN(
            sqlite3_stmt * s,
            Prepare(*writer_,
                    "INSERT INTO tenants (name, token_sha256, admin, max_gpus_per_job, max_active_jobs, created_ms, "
                    "max_priority) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO UPDATE SET "
                    "token_sha256 = excluded.token_sha256, admin = excluded.admin, "
                    "max_gpus_per_job = excluded.max_gpus_per_job, max_active_jobs = excluded.max_active_jobs, "
                    "created_ms = excluded.created_ms, max_priority = excluded.max_priority"));
        StmtReset reset(s);
        const Tenant& t = *op->tenant;
        BindText(s, 1, t.name);
        BindText(s, 2, t.token_sha256);
        sqlite3_bind_int64(s, 3, t.admin ? 1 : 0);
        sqlite3_bind_int64(s, 4, t.max_gpus_per_job);
        sqlite3_bind_int64(s, 5, t.max_active_jobs);
        sqlite3_bind_int64(s, 6, t.created_ms);
        sqlite3_bind_int64(s, 7, t.max_priority);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT_UNIQUE) {
          return InvalidArgument("store {}: tenant '{}': its token hash already belongs to another tenant", path_,
                                 t.name);
        }
        if (rc != SQLITE_DONE) return SqlError(path_, db, rc, fmt::format("storing tenant '{}'", t.name));
        return Status::Ok();
      }
      case WriteOp::kPutSetting: {
        SUANLI_ASSIGN_OR_RETURN(
            sqlite3_stmt * s,
            Prepare(*writer_,
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
                    "value = excluded.value"));
        StmtReset reset(s);
        BindText(s, 1, *op->key);
        BindText(s, 2, *op->value);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) return SqlError(path_, db, rc, fmt::format("storing setting '{}'", *op->key));
        return Status::Ok();
      }
    }
    return Internal("store {}: unknown write", path_);
  }

  // Runs `batch` in one transaction; each op gets its own status.
  void RunBatch(const std::vector<WriteOp*>& batch) {
    std::vector<char> failed(batch.size(), 0);
    for (;;) {
      Status begin = Step("BEGIN IMMEDIATE", "starting a transaction");
      if (!begin.ok()) {
        for (size_t i = 0; i < batch.size(); ++i) {
          if (!failed[i]) batch[i]->status = begin;
        }
        return;
      }
      // The commit counter, in the same transaction as the writes.
      int64_t commit_no = 0;
      {
        auto cs = Prepare(*writer_, "UPDATE commit_count SET n = n + 1 RETURNING n");
        Status counted = cs.status();
        if (counted.ok()) {
          StmtReset reset(*cs);
          int rc = sqlite3_step(*cs);
          if (rc == SQLITE_ROW) {
            commit_no = sqlite3_column_int64(*cs, 0);
          } else {
            counted = rc == SQLITE_DONE ? IoError("store {}: the commit_count row is missing", path_)
                                        : SqlError(path_, writer_->db, rc, "counting the commit");
          }
        }
        if (!counted.ok()) {
          if (sqlite3_get_autocommit(writer_->db) == 0) (void)Step("ROLLBACK", "rolling back");
          for (size_t i = 0; i < batch.size(); ++i) {
            if (!failed[i]) batch[i]->status = counted;
          }
          return;
        }
      }
      batch_max_id_ = 0;
      bool restart = false;
      int64_t ok_ops = 0;
      for (size_t i = 0; i < batch.size() && !restart; ++i) {
        if (failed[i]) continue;
        Status st = RunOp(batch[i]);
        batch[i]->status = st;
        if (st.ok()) {
          ++ok_ops;
          continue;
        }
        failed[i] = 1;
        // A failed statement is backed out on its own; only errors such as
        // I/O or out-of-memory roll back the whole transaction. Then run the
        // others again in a new one.
        if (sqlite3_get_autocommit(writer_->db) != 0) restart = true;
      }
      if (restart) continue;
      Status commit = Step("COMMIT", "committing");
      if (!commit.ok()) {
        if (sqlite3_get_autocommit(writer_->db) == 0) (void)Step("ROLLBACK", "rolling back");
        for (size_t i = 0; i < batch.size(); ++i) {
          if (!failed[i]) {
            batch[i]->status = commit;
            batch[i]->id = 0;
          }
        }
        return;
      }
      commits_.fetch_add(1);
      writes_.fetch_add(ok_ops);
      // The marks follow the commit before any of its writes is
      // acknowledged: every acknowledged write is covered by them once the
      // process is gone (the write is in the page cache). They reach the
      // disk with the next checkpoint round (within a second), or with the
      // next id reservation or the close.
      StoreMarks m = marks_.current();
      m.last_id = std::max(m.last_id, batch_max_id_);
      m.commits = commit_no;
      m.clean = false;
      Status marked = marks_.Write(m, /*sync=*/false);
      if (marked.ok()) marks_unsynced_.store(true);
      if (!marked.ok() && marks_ok_)
        spdlog::error("store {}: {} (lost work can go unnoticed)", path_, marked.message());
      if (marked.ok() && !marks_ok_) spdlog::info("store {}: the marks file is written again", path_);
      marks_ok_ = marked.ok();
      return;
    }
  }

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

// Creates or migrates the schema on a fresh writer connection.
Status PrepareDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
  if (rc != SQLITE_OK) return SqlError(path, db, rc, "cannot open the database");
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  // The first read of the file: "file is not a database" shows here.
  sqlite3_stmt* s = nullptr;
  rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, nullptr);
  std::string mode;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) mode = ColText(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) return SqlError(path, db, rc, "cannot use the file as a database");
  if (mode != "wal") {
    return IoError("store {}: cannot switch to write-ahead logging (journal mode is '{}')", path, mode);
  }

  SUANLI_RETURN_IF_ERROR(Exec(path, db, "BEGIN IMMEDIATE", "locking the database to check its schema"));
  auto rollback = [&](Status st) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  int version = -1;
  rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) return rollback(SqlError(path, db, rc, "reading the schema version"));
  if (version > store_schema::Version()) {
    return rollback(IoError("store {}: schema version {} is newer than this program supports ({}); use a newer suanli",
                            path, version, store_schema::Version()));
  }
  if (version == 0) {
    // A fresh store must be empty: refuse another program's database.
    rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &s, nullptr);
    int64_t objects = 0;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) objects = sqlite3_column_int64(s, 0);
      sqlite3_finalize(s);
      if (rc == SQLITE_ROW) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) return rollback(SqlError(path, db, rc, "reading the schema"));
    if (objects > 0) {
      return rollback(
          IoError("store {}: the database has {} tables or indexes but no suanli schema version; "
                  "it belongs to another program",
                  path, objects));
    }
  }
  for (int v = version; v < store_schema::Version(); ++v) {
    Status st = Exec(path, db, store_schema::Migrations()[static_cast<size_t>(v)],
                     fmt::format("migrating the schema from version {} to {}", v, v + 1));
    if (!st.ok()) return rollback(st);
    st = Exec(path, db, fmt::format("PRAGMA user_version = {}", v + 1).c_str(), "setting the schema version");
    if (!st.ok()) return rollback(st);
  }
  return Exec(path, db, "COMMIT", "committing the schema");
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  if (path.empty()) return InvalidArgument("store: the database path is empty");
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return IoError("store {}: cannot create the directory {}: {}", path, parent.string(), ec.message());
    }
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return IoError("store {}: is a directory, not a database file", path);

  // Owner-only: the database and its -wal and -shm files (SQLite creates
  // those with the database file's mode).
  {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("store {}: cannot open the database file: {}", path, std::strerror(errno));
    struct stat db_st {};
    int rc = fstat(fd, &db_st);
    if (rc == 0 && (db_st.st_mode & 077) != 0) rc = fchmod(fd, 0600);
    int saved = errno;
    close(fd);
    if (rc != 0) return IoError("store {}: cannot make the file owner-only: {}", path, std::strerror(saved));
    for (const char* suffix : {"-wal", "-shm"}) {
      std::string f = path + suffix;
      struct stat st {};
      if (lstat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 && chmod(f.c_str(), 0600) != 0) {
        return IoError("store {}: cannot make {} owner-only: {}", path, f, std::strerror(errno));
      }
    }
  }
  const bool wal_present = std::filesystem::exists(path + "-wal", ec);
  SUANLI_RETURN_IF_ERROR(PrepareDatabase(path));
  auto store = std::make_unique<SqliteStore>(path, options);
  SUANLI_RETURN_IF_ERROR(store->Init(wal_present));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace suanli::live
