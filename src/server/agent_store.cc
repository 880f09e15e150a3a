#include "server/agent_store.h"

#include <sqlite3.h>

#include "live/live_job.h"

namespace suanli::server {

namespace {

// One prepared statement, finalized when it goes.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Int(int i, int64_t v) {
    if (ok()) rc_ = sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Text(int i, const std::string& v) {
    if (ok()) rc_ = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return ok() ? sqlite3_step(s_) : rc_; }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }
  std::string ColText(int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Error(const std::string& path, sqlite3* db, const char* what) {
  return IoError("agent store {}: {}: {}", path, what, db ? sqlite3_errmsg(db) : "cannot open");
}

}  // namespace

Result<std::unique_ptr<AgentStore>> AgentStore::Open(const std::string& path) {
  std::unique_ptr<AgentStore> s(new AgentStore());
  s->path_ = path;
  if (sqlite3_open_v2(path.c_str(), &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    return Error(path, s->db_, "cannot open");
  sqlite3_busy_timeout(s->db_, 5000);
  SUANLI_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode = WAL"));
  SUANLI_RETURN_IF_ERROR(s->Exec("PRAGMA synchronous = FULL"));
  SUANLI_RETURN_IF_ERROR(
      s->Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
              "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL);"
              "CREATE TABLE IF NOT EXISTS runs(job_id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL,"
              " backend_id TEXT NOT NULL, launch TEXT NOT NULL);"));
  SUANLI_ASSIGN_OR_RETURN(auto id, s->Get("agent_id"));
  if (id) {
    s->agent_id_ = *id;
  } else {
    SUANLI_ASSIGN_OR_RETURN(std::string token, live::RandomToken());
    s->agent_id_ = token.substr(0, 16);
    SUANLI_RETURN_IF_ERROR(s->Put("agent_id", s->agent_id_));
  }
  return s;
}

AgentStore::~AgentStore() { sqlite3_close_v2(db_); }

Status AgentStore::Exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "error";
    sqlite3_free(msg);
    return IoError("agent store {}: {}", path_, m);
  }
  return Status::Ok();
}

Result<int64_t> AgentStore::AddEvent(const std::string& json) {
  Stmt s(db_, "INSERT INTO outbox(event) VALUES (?)");
  if (s.Text(1, json).Step() != SQLITE_DONE) return Error(path_, db_, "adding an event");
  return sqlite3_last_insert_rowid(db_);
}

Result<int64_t> AgentStore::AddEventAndPut(const std::string& json, const std::string& key, const std::string& value) {
  SUANLI_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto seq = AddEvent(json);
  Status st = seq.ok() ? Put(key, value) : seq.status();
  if (!st.ok()) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  SUANLI_RETURN_IF_ERROR(Exec("COMMIT"));
  return seq;
}

Result<int64_t> AgentStore::EndRun(int64_t job_id, const std::string& json) {
  SUANLI_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto seq = AddEvent(json);
  Status st = seq.ok() ? DeleteRun(job_id) : seq.status();
  if (!st.ok()) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  SUANLI_RETURN_IF_ERROR(Exec("COMMIT"));
  return seq;
}

Result<std::vector<AgentStore::Event>> AgentStore::Unacked(size_t limit) {
  Stmt s(db_, "SELECT seq, event FROM outbox ORDER BY seq LIMIT ?");
  s.Int(1, static_cast<int64_t>(limit));
  std::vector<Event> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(Event{s.ColInt(0), s.ColText(1)});
  if (rc != SQLITE_DONE) return Error(path_, db_, "reading events");
  return out;
}

Status AgentStore::Ack(int64_t upto) {
  Stmt s(db_, "DELETE FROM outbox WHERE seq <= ?");
  if (s.Int(1, upto).Step() != SQLITE_DONE) return Error(path_, db_, "forgetting acknowledged events");
  return Status::Ok();
}

Status AgentStore::PutRun(const Run& r) {
  Stmt s(db_, "INSERT OR REPLACE INTO runs(job_id, epoch, backend_id, launch) VALUES (?, ?, ?, ?)");
  if (s.Int(1, r.job_id).Int(2, r.epoch).Text(3, r.backend_id).Text(4, r.launch).Step() != SQLITE_DONE)
    return Error(path_, db_, "recording a run");
  return Status::Ok();
}

Status AgentStore::DeleteRun(int64_t job_id) {
  Stmt s(db_, "DELETE FROM runs WHERE job_id = ?");
  if (s.Int(1, job_id).Step() != SQLITE_DONE) return Error(path_, db_, "forgetting a run");
  return Status::Ok();
}

Result<std::vector<AgentStore::Run>> AgentStore::Runs() {
  Stmt s(db_, "SELECT job_id, epoch, backend_id, launch FROM runs ORDER BY job_id");
  std::vector<Run> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(Run{s.ColInt(0), s.ColInt(1), s.ColText(2), s.ColText(3)});
  if (rc != SQLITE_DONE) return Error(path_, db_, "reading runs");
  return out;
}

Result<std::optional<std::string>> AgentStore::Get(const std::string& key) {
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  s.Text(1, key);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.ColText(0));
  if (rc != SQLITE_DONE) return Error(path_, db_, "reading its state");
  return std::optional<std::string>();
}

Status AgentStore::Put(const std::string& key, const std::string& value) {
  Stmt s(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  if (s.Text(1, key).Text(2, value).Step() != SQLITE_DONE) return Error(path_, db_, "keeping its state");
  return Status::Ok();
}

}  // namespace suanli::server
