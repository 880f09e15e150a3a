// The SQLite store's writes (live/store_sqlite_internal.h): each is queued to
// the writer thread, which runs the writes queued while its previous commit
// ran in one transaction (a group commit) and then wakes each caller with its
// own result; and how a job, its attempts and their hourly usage are bound to
// their tables' rows.
#include <sqlite3.h>

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "live/record_schema.h"
#include "live/store_sqlite_internal.h"

namespace suanli::live::sqlite_detail {

const std::string& JobColumns() {
  static const std::string columns = [] {
    std::string c = kJobOwnColumns;
    for (const auto& f : schema::JobSpecFields()) c += fmt::format(", {}", f.column);
    return c;
  }();
  return columns;
}

const std::string& InsertJobSql() {
  static const std::string sql = [] {
    std::string values;
    const size_t n = static_cast<size_t>(kFirstSpecColumn) + schema::JobSpecFields().size();
    for (size_t i = 1; i <= n; ++i) values += fmt::format("{}?{}", i > 1 ? ", " : "", i);
    return fmt::format("INSERT INTO jobs ({}) VALUES ({})", JobColumns(), values);
  }();
  return sql;
}

const std::string& UpdateJobSql() {
  static const std::string sql = [] {
    std::string sets;
    int i = 0;
    for (std::string_view rest = JobColumns(); !rest.empty(); ++i) {
      const size_t comma = rest.find(", ");
      const std::string_view col = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
      if (i > 0) sets += fmt::format("{}{} = ?{}", i > 1 ? ", " : "", col, i + 1);
    }
    return fmt::format("UPDATE jobs SET {} WHERE id = ?1", sets);
  }();
  return sql;
}

namespace {

Result<EncodedJob> EncodeJob(const std::string& path, const JobRecord& r) {
  EncodedJob e;
  const auto fields = schema::JobSpecFields();
  std::string_view field;
  try {
    e.spec_json.resize(fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      field = fields[i].column;
      std::visit(
          [&](auto m) {
            using T = std::remove_cvref_t<decltype(r.spec.*m)>;
            if constexpr (std::is_same_v<T, std::vector<std::string>> ||
                          std::is_same_v<T, std::map<std::string, std::string>> ||
                          std::is_same_v<T, std::vector<int>>) {
              e.spec_json[i] = json(r.spec.*m).dump();
            }
          },
          fields[i].member);
    }
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
  sqlite3_bind_int64(s, 1, r.id);
  BindText(s, 2, r.tenant);
  BindText(s, 3, std::string(StateName(r.state)));
  sqlite3_bind_int64(s, 4, r.submit_ms.ms());
  sqlite3_bind_int64(s, 5, r.start_ms.ms());
  sqlite3_bind_int64(s, 6, r.end_ms.ms());
  BindText(s, 7, r.center);
  BindText(s, 8, r.model);
  BindText(s, 9, r.node);
  BindText(s, 10, e.devices);
  BindText(s, 11, r.backend_id);
  sqlite3_bind_int64(s, 12, r.exit_code);
  sqlite3_bind_int64(s, 13, r.signal);
  BindText(s, 14, r.reason);
  sqlite3_bind_int64(s, 15, r.est_start_ms.ms());
  sqlite3_bind_double(s, 16, r.gpu_seconds);
  sqlite3_bind_double(s, 17, r.energy_kwh);
  sqlite3_bind_double(s, 18, r.cost);
  sqlite3_bind_double(s, 19, r.carbon_kg);
  sqlite3_bind_int64(s, 20, r.checkpoint_ms.ms());
  sqlite3_bind_int64(s, 21, r.service);
  // The spec's columns, through its table.
  const auto fields = schema::JobSpecFields();
  for (size_t i = 0; i < fields.size(); ++i) {
    const int at = kFirstSpecColumn + 1 + static_cast<int>(i);
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(r.spec.*m)>;
          if constexpr (std::is_same_v<T, std::string>) {
            BindText(s, at, r.spec.*m);
          } else if constexpr (std::is_same_v<T, std::vector<std::string>> ||
                               std::is_same_v<T, std::map<std::string, std::string>> ||
                               std::is_same_v<T, std::vector<int>>) {
            BindText(s, at, e.spec_json[i]);
          } else if constexpr (std::is_same_v<T, double>) {
            sqlite3_bind_double(s, at, r.spec.*m);
          } else if constexpr (std::is_same_v<T, WallMs>) {
            sqlite3_bind_int64(s, at, (r.spec.*m).ms());
          } else if constexpr (std::is_same_v<T, Gpus>) {
            // Whole devices an integer (as the column always held), a share a REAL.
            const Gpus g = r.spec.*m;
            if (g.shared()) sqlite3_bind_double(s, at, g.value());
            else sqlite3_bind_int64(s, at, g.devices());
          } else {
            sqlite3_bind_int64(s, at, static_cast<int64_t>(r.spec.*m));
          }
        },
        fields[i].member);
  }
}

// Attempts are immutable once written: a job's later writes add its new ones.
constexpr const char* kInsertAttemptSql =
    "INSERT INTO job_attempts (job_id, n, center, node, model, devices, start_ms, end_ms, outcome, reason, "
    "gpu_seconds, energy_kwh, cost, carbon_kg, checkpoint_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13, ?14, ?15) "
    "ON CONFLICT (job_id, n) DO NOTHING";

void BindAttempt(sqlite3_stmt* s, int64_t job_id, const JobAttempt& a, const std::string& devices) {
  sqlite3_bind_int64(s, 1, job_id);
  sqlite3_bind_int64(s, 2, a.n);
  BindText(s, 3, a.center);
  BindText(s, 4, a.node);
  BindText(s, 5, a.model);
  BindText(s, 6, devices);
  sqlite3_bind_int64(s, 7, a.start_ms.ms());
  sqlite3_bind_int64(s, 8, a.end_ms.ms());
  BindText(s, 9, a.outcome);
  BindText(s, 10, a.reason);
  sqlite3_bind_double(s, 11, a.gpu_seconds);
  sqlite3_bind_double(s, 12, a.energy_kwh);
  sqlite3_bind_double(s, 13, a.cost);
  sqlite3_bind_double(s, 14, a.carbon_kg);
  sqlite3_bind_int64(s, 15, a.checkpoint_ms.ms());
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
  sqlite3_bind_int64(s, 4, h.start_ms.ms());
  sqlite3_bind_int64(s, 5, h.end_ms.ms());
  BindText(s, 6, tenant);
  BindText(s, 7, a.center);
  BindText(s, 8, a.model);
  sqlite3_bind_double(s, 9, h.gpu_seconds);
  sqlite3_bind_double(s, 10, h.energy_kwh);
  sqlite3_bind_double(s, 11, h.cost);
  sqlite3_bind_double(s, 12, h.carbon_kg);
}

}  // namespace

// --- writes ---

Result<int64_t> SqliteStore::InsertJob(const JobRecord& rec) {
  WriteOp op;
  op.kind = WriteOp::kInsertJob;
  op.job = &rec;
  SUANLI_ASSIGN_OR_RETURN(EncodedJob encoded, EncodeJob(path_, rec));
  op.encoded = &encoded;
  SUANLI_RETURN_IF_ERROR(Submit(&op));
  return op.id;
}

Status SqliteStore::UpdateJob(const JobRecord& rec) {
  if (rec.id <= 0) return InvalidArgument("store {}: UpdateJob: job id {} is not a stored job's id", path_, rec.id);
  WriteOp op;
  op.kind = WriteOp::kUpdateJob;
  op.job = &rec;
  SUANLI_ASSIGN_OR_RETURN(EncodedJob encoded, EncodeJob(path_, rec));
  op.encoded = &encoded;
  return Submit(&op);
}

std::vector<Status> SqliteStore::UpdateJobs(const std::vector<JobRecord>& recs) {
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

Status SqliteStore::PutTenant(const Tenant& t) {
  if (t.name.empty()) return InvalidArgument("store {}: PutTenant: tenant name is empty", path_);
  if (t.token_sha256.empty()) {
    return InvalidArgument("store {}: PutTenant: tenant '{}' has no token hash", path_, t.name);
  }
  WriteOp op;
  op.kind = WriteOp::kPutTenant;
  op.tenant = &t;
  return Submit(&op);
}

Status SqliteStore::PutSetting(const std::string& key, const std::string& value) {
  if (key.empty()) return InvalidArgument("store {}: PutSetting: key is empty", path_);
  WriteOp op;
  op.kind = WriteOp::kPutSetting;
  op.key = &key;
  op.value = &value;
  return Submit(&op);
}

// --- the writer ---

Status SqliteStore::Submit(WriteOp* op) {
  std::unique_lock<std::mutex> lk(mu_);
  if (stopping_) return Unavailable("store {}: closing", path_);
  queue_.push_back(op);
  queue_cv_.notify_one();
  done_cv_.wait(lk, [op] { return op->done; });
  return op->status;
}

void SqliteStore::WriterLoop() {
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

Status SqliteStore::Step(const char* sql, std::string_view what) {
  auto s = Prepare(*writer_, sql);
  if (!s.ok()) return s.status();
  StmtReset reset(*s);
  int rc = sqlite3_step(*s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(path_, writer_->db, rc, what);
  return Status::Ok();
}

// Events are written once each and only ever added: from the newest back to
// the first one already there.
Status SqliteStore::WriteEvents(int64_t job_id, const std::vector<JobEvent>& events) {
  if (events.empty()) return Status::Ok();
  SUANLI_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      Prepare(*writer_,
              "INSERT INTO job_events (job_id, n, time_ms, kind, message) VALUES (?1, ?2, ?3, ?4, ?5) "
              "ON CONFLICT (job_id, n) DO NOTHING"));
  for (size_t i = events.size(); i-- > 0;) {
    StmtReset reset(s);
    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(i) + 1);
    sqlite3_bind_int64(s, 3, events[i].time_ms.ms());
    BindText(s, 4, events[i].kind);
    BindText(s, 5, events[i].message);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
      return SqlError(path_, writer_->db, rc, fmt::format("writing event {} of job {}", i + 1, job_id));
    if (sqlite3_changes(writer_->db) == 0) break;  // this one and those before it are there
  }
  return Status::Ok();
}

Status SqliteStore::RunOp(WriteOp* op) {
  sqlite3* db = writer_->db;
  switch (op->kind) {
    case WriteOp::kInsertJob:
    case WriteOp::kUpdateJob: {
      bool insert = op->kind == WriteOp::kInsertJob;
      SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*writer_, insert ? InsertJobSql() : UpdateJobSql()));
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
      const int64_t job_id = insert ? op->id : op->job->id;
      SUANLI_RETURN_IF_ERROR(WriteEvents(job_id, op->job->events));
      const std::vector<JobAttempt>& attempts = op->job->attempts;
      if (attempts.empty()) return Status::Ok();
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
            return SqlError(path_, db, rc, fmt::format("writing usage of attempt {} of job {}", attempts[i].n, job_id));
        }
      }
      return Status::Ok();
    }
    case WriteOp::kPutTenant: {
      SUANLI_ASSIGN_OR_RETURN(
          sqlite3_stmt * s,
          Prepare(*writer_,
                  "INSERT INTO tenants (name, token_sha256, admin, max_gpus_per_job, max_active_jobs, created_ms, "
                  "max_priority, home) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (name) DO UPDATE SET "
                  "token_sha256 = excluded.token_sha256, admin = excluded.admin, "
                  "max_gpus_per_job = excluded.max_gpus_per_job, max_active_jobs = excluded.max_active_jobs, "
                  "created_ms = excluded.created_ms, max_priority = excluded.max_priority, home = excluded.home"));
      StmtReset reset(s);
      const Tenant& t = *op->tenant;
      BindText(s, 1, t.name);
      BindText(s, 2, t.token_sha256);
      sqlite3_bind_int64(s, 3, t.admin ? 1 : 0);
      sqlite3_bind_int64(s, 4, t.max_gpus_per_job);
      sqlite3_bind_int64(s, 5, t.max_active_jobs);
      sqlite3_bind_int64(s, 6, t.created_ms.ms());
      sqlite3_bind_int64(s, 7, t.max_priority);
      BindText(s, 8, t.home);
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
          sqlite3_stmt * s, Prepare(*writer_,
                                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
                                    "value = excluded.value"));
      StmtReset reset(s);
      BindText(s, 1, *op->key);
      BindText(s, 2, *op->value);
      int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return SqlError(path_, db, rc, fmt::format("storing setting '{}'", *op->key));
      return Status::Ok();
    }
    case WriteOp::kPutDataset:
    case WriteOp::kDeleteDataset: return WriteDataset(op);
  }
  return Internal("store {}: unknown write", path_);
}

// Runs `batch` in one transaction; each op gets its own status.
void SqliteStore::RunBatch(const std::vector<WriteOp*>& batch) {
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
    if (!marked.ok() && marks_ok_) spdlog::error("store {}: {} (lost work can go unnoticed)", path_, marked.message());
    if (marked.ok() && !marks_ok_) spdlog::info("store {}: the marks file is written again", path_);
    marks_ok_ = marked.ok();
    return;
  }
}

}  // namespace suanli::live::sqlite_detail
