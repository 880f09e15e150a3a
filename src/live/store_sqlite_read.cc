// The SQLite store's reads (live/store_sqlite_internal.h), each on a read
// connection borrowed from the pool: jobs and their attempts, job counts,
// usage sums, tenants and settings; and how a job's, an attempt's and a
// tenant's rows are read back (malformed rows give errors that name them).
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "live/record_schema.h"
#include "live/store_sqlite_internal.h"

namespace suanli::live::sqlite_detail {
namespace {

// Reads one job row (columns in kJobColumns order); a malformed row gives an
// error naming the file, the job and the column.
class RowReader {
 public:
  RowReader(const std::string& path, sqlite3_stmt* s) : path_(path), s_(s) {}

  Result<JobRecord> Job() {
    JobRecord r;
    r.id = sqlite3_column_int64(s_, 0);
    r.tenant = ColText(s_, 1);
    std::string state = ColText(s_, 2);
    auto st = ParseState(state);
    if (!st) return Bad(r.id, "state", fmt::format("unknown state '{}'", state));
    r.state = *st;
    r.submit_ms = WallMs(sqlite3_column_int64(s_, 3));
    r.start_ms = WallMs(sqlite3_column_int64(s_, 4));
    r.end_ms = WallMs(sqlite3_column_int64(s_, 5));
    r.center = ColText(s_, 6);
    r.model = ColText(s_, 7);
    r.node = ColText(s_, 8);
    SUANLI_RETURN_IF_ERROR(Devices(r.id, 9, &r.devices));
    r.backend_id = ColText(s_, 10);
    SUANLI_ASSIGN_OR_RETURN(r.exit_code, Int32(r.id, 11, "exit_code"));
    SUANLI_ASSIGN_OR_RETURN(r.signal, Int32(r.id, 12, "signal"));
    r.reason = ColText(s_, 13);
    r.est_start_ms = WallMs(sqlite3_column_int64(s_, 14));
    r.gpu_seconds = sqlite3_column_double(s_, 15);
    r.energy_kwh = sqlite3_column_double(s_, 16);
    r.cost = sqlite3_column_double(s_, 17);
    r.carbon_kg = sqlite3_column_double(s_, 18);
    r.checkpoint_ms = WallMs(sqlite3_column_int64(s_, 19));
    r.service = sqlite3_column_int64(s_, 20);
    SUANLI_RETURN_IF_ERROR(Spec(r.id, &r.spec));
    // A service's first replica is written before its id is known.
    if (r.spec.replicas > 0 && r.service == 0) r.service = r.id;
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
    a.start_ms = WallMs(sqlite3_column_int64(s_, 6));
    a.end_ms = WallMs(sqlite3_column_int64(s_, 7));
    a.outcome = ColText(s_, 8);
    a.reason = ColText(s_, 9);
    a.gpu_seconds = sqlite3_column_double(s_, 10);
    a.energy_kwh = sqlite3_column_double(s_, 11);
    a.cost = sqlite3_column_double(s_, 12);
    a.carbon_kg = sqlite3_column_double(s_, 13);
    a.checkpoint_ms = WallMs(sqlite3_column_int64(s_, 14));
    return a;
  }

 private:
  // The spec's columns, through its table (record_schema.h).
  Status Spec(int64_t id, JobSpec* p) const {
    const auto fields = schema::JobSpecFields();
    for (size_t i = 0; i < fields.size(); ++i) {
      const int col = kFirstSpecColumn + static_cast<int>(i);
      const std::string_view name = fields[i].column;
      Status st = std::visit(
          [&](auto m) -> Status {
            auto& v = p->*m;
            using T = std::remove_cvref_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              v = ColText(s_, col);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
              return Strings(id, col, name, &v);
            } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
              return Env(id, col, name, &v);
            } else if constexpr (std::is_same_v<T, std::vector<int>>) {
              return Ints(id, col, name, &v);
            } else if constexpr (std::is_same_v<T, int32_t>) {
              SUANLI_ASSIGN_OR_RETURN(v, Int32(id, col, name));
            } else if constexpr (std::is_same_v<T, uint32_t>) {
              const int64_t n = sqlite3_column_int64(s_, col);
              if (n < 0 || n > std::numeric_limits<uint32_t>::max())
                return Bad(id, name, fmt::format("{} is out of range", n));
              v = static_cast<uint32_t>(n);
            } else if constexpr (std::is_same_v<T, bool>) {
              v = sqlite3_column_int64(s_, col) != 0;
            } else if constexpr (std::is_same_v<T, double>) {
              v = sqlite3_column_double(s_, col);
            } else if constexpr (std::is_same_v<T, WallMs>) {
              v = WallMs(sqlite3_column_int64(s_, col));
            } else if constexpr (std::is_same_v<T, Gpus>) {
              std::optional<Gpus> g;
              if (sqlite3_column_type(s_, col) == SQLITE_INTEGER) {
                const int64_t n = sqlite3_column_int64(s_, col);
                if (n >= 0 && n <= std::numeric_limits<uint32_t>::max() / Gpus::kMilli)
                  g = Gpus(static_cast<uint32_t>(n));
              } else {
                g = Gpus::FromNumber(sqlite3_column_double(s_, col));
              }
              if (!g) return Bad(id, name, "not a number of accelerators");
              v = *g;
            } else {
              v = sqlite3_column_int64(s_, col);
            }
            return Status::Ok();
          },
          fields[i].member);
      SUANLI_RETURN_IF_ERROR(st);
    }
    return Status::Ok();
  }

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

  Status Env(int64_t id, int col, std::string_view name, std::map<std::string, std::string>* out) const {
    out->clear();
    ListSax sax(ListSax::kEnv);
    sax.env = out;
    return Decode(id, col, name, sax);
  }

  Status Devices(int64_t id, int col, std::vector<int>* out) const { return Ints(id, col, "devices", out); }

  Status Ints(int64_t id, int col, std::string_view name, std::vector<int>* out) const {
    out->clear();
    ListSax sax(ListSax::kInts);
    sax.ints = out;
    return Decode(id, col, name, sax);
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
  t.created_ms = WallMs(sqlite3_column_int64(s, 5));
  t.max_priority = sqlite3_column_int64(s, 6);
  t.home = ColText(s, 7);
  return t;
}

}  // namespace

Result<std::optional<JobRecord>> SqliteStore::GetJob(int64_t id) {
  auto lease = Lease();
  if (!lease.ok()) return lease.status();
  Reader r(this, std::move(*lease));
  SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                          Prepare(*r.conn, fmt::format("SELECT {} FROM jobs WHERE id = ?1", JobColumns())));
  StmtReset reset(s);
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<JobRecord>();
  if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, fmt::format("reading job {}", id));
  SUANLI_ASSIGN_OR_RETURN(JobRecord rec, RowReader(path_, s).Job());
  std::vector<JobRecord*> one{&rec};
  SUANLI_RETURN_IF_ERROR(ReadAttempts(
      *r.conn, fmt::format("SELECT {} FROM job_attempts WHERE job_id = ?1 ORDER BY n", kAttemptColumns), id, one));
  SUANLI_RETURN_IF_ERROR(ReadEvents(
      *r.conn, "SELECT job_id, n, time_ms, kind, message FROM job_events WHERE job_id = ?1 ORDER BY n", id, one));
  return std::optional<JobRecord>(std::move(rec));
}

// Every filter is answered by walking index ranges newest first, never by
// sorting matches: one range for one state (or none and no tenant or
// center: the primary key), else the newest `limit` ids of each state's
// range, merged. Which index is named here, not left to the planner (which
// has no statistics and can pick a range that holds few matches).
Result<std::vector<JobRecord>> SqliteStore::ListJobs(const JobFilter& filter) {
  const int64_t limit = std::clamp(filter.limit, 1, 1000);
  std::vector<std::string> states;
  for (JobState st : filter.states) states.emplace_back(StateName(st));
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  const bool by_tenant = !filter.tenant.empty(), by_center = !filter.center.empty();
  std::vector<BindValue> args;
  // The conditions every listing shares, then its order and limit.
  auto rest = [&](std::string* sql) {
    if (by_tenant) {
      *sql += " AND tenant = ?";
      args.emplace_back(filter.tenant);
    }
    if (by_center) {
      *sql += " AND center = ?";
      args.emplace_back(filter.center);
    }
    if (filter.before_id > 0) {
      *sql += " AND id < ?";
      args.emplace_back(filter.before_id);
    }
    *sql += " ORDER BY id DESC LIMIT ?";
    args.emplace_back(limit);
  };
  if (filter.service > 0) {
    // A service's replicas: few, through their own index.
    args = {filter.service, filter.service};
    std::string sql = fmt::format(
        "SELECT {} FROM jobs WHERE (service = ? OR (id = ? AND replicas > 0 AND service IN (0, id)))", JobColumns());
    if (!states.empty()) {
      sql += " AND state IN (";
      for (size_t i = 0; i < states.size(); ++i) {
        sql += i ? ", ?" : "?";
        args.emplace_back(states[i]);
      }
      sql += ")";
    }
    rest(&sql);
    return QueryJobs(sql, args, "listing a service's replicas");
  }
  if (states.size() == 5 && !by_tenant && !by_center) states.clear();  // every state: no filter
  if (states.empty() && (by_tenant || by_center)) {
    for (int i = 0; i < 5; ++i) states.emplace_back(StateName(static_cast<JobState>(i)));
  }
  const char* index = by_tenant && by_center ? "jobs_tenant_center_state_id"
                      : by_tenant            ? "jobs_tenant_state_id"
                      : by_center            ? "jobs_center_state_id"
                                             : "jobs_state_id";

  // The range of one state (or of every job when `state` is null).
  auto range = [&](const std::string* state, const char* columns) {
    std::string sql = state == nullptr
                          ? fmt::format("SELECT {} FROM jobs WHERE 1", columns)
                          : fmt::format("SELECT {} FROM jobs INDEXED BY {} WHERE state = ?", columns, index);
    if (state != nullptr) args.emplace_back(*state);
    rest(&sql);
    return sql;
  };
  std::string sql;
  if (states.size() <= 1) {
    sql = range(states.empty() ? nullptr : &states[0], JobColumns().c_str());
  } else {
    std::string parts;
    for (const auto& st : states) {
      if (!parts.empty()) parts += " UNION ALL ";
      parts += "SELECT id FROM (" + range(&st, "id") + ")";
    }
    sql = fmt::format("SELECT {} FROM jobs WHERE id IN ({}) ORDER BY id DESC LIMIT ?", JobColumns(), parts);
    args.emplace_back(limit);
  }
  return QueryJobs(sql, args, "listing jobs");
}

Result<std::vector<JobRecord>> SqliteStore::LoadActive() {
  SUANLI_ASSIGN_OR_RETURN(
      std::vector<JobRecord> jobs,
      QueryJobs(fmt::format("SELECT {} FROM jobs INDEXED BY jobs_state_id WHERE state IN ('pending', 'running') "
                            "ORDER BY id",
                            JobColumns()),
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
      "a.gpu_seconds, a.energy_kwh, a.cost, a.carbon_kg, a.checkpoint_ms FROM jobs INDEXED BY jobs_state_id "
      "JOIN job_attempts a ON a.job_id = jobs.id WHERE jobs.state IN ('pending', 'running') ORDER BY a.job_id, a.n",
      0, by_id));
  SUANLI_RETURN_IF_ERROR(ReadEvents(*r.conn,
                                    "SELECT e.job_id, e.n, e.time_ms, e.kind, e.message FROM jobs INDEXED BY "
                                    "jobs_state_id JOIN job_events e ON e.job_id = jobs.id WHERE jobs.state IN "
                                    "('pending', 'running') ORDER BY e.job_id, e.n",
                                    0, by_id));
  return jobs;
}

// Reads job_events rows (job_id, n, time_ms, kind, message; ordered by job
// id and n) into `jobs` (sorted by id); `id` > 0 is bound as ?1.
Status SqliteStore::ReadEvents(SqliteConn& conn, const std::string& sql, int64_t id,
                               const std::vector<JobRecord*>& jobs) {
  SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(conn, sql));
  StmtReset reset(s);
  if (id > 0) sqlite3_bind_int64(s, 1, id);
  size_t k = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t job_id = sqlite3_column_int64(s, 0);
    JobEvent e;
    e.time_ms = WallMs(sqlite3_column_int64(s, 2));
    e.kind = ColText(s, 3);
    e.message = ColText(s, 4);
    while (k < jobs.size() && jobs[k]->id < job_id) ++k;
    if (k < jobs.size() && jobs[k]->id == job_id) jobs[k]->events.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return SqlError(path_, conn.db, rc, "reading job events");
  return Status::Ok();
}

// Reads attempts rows (kAttemptColumns, ordered by job id and n) into
// `jobs` (sorted by id); `id` > 0 is bound as ?1.
Status SqliteStore::ReadAttempts(SqliteConn& conn, const std::string& sql, int64_t id,
                                 const std::vector<JobRecord*>& jobs) {
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

Result<JobCounts> SqliteStore::Counts(const std::string& tenant) {
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

Result<int64_t> SqliteStore::ActiveJobs(const std::string& tenant) {
  auto lease = Lease();
  if (!lease.ok()) return lease.status();
  Reader r(this, std::move(*lease));
  SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn,
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
Result<std::vector<UsageSum>> SqliteStore::Usage(const std::string& tenant, WallMs from_ms, WallMs to_ms) {
  if (from_ms >= to_ms) return std::vector<UsageSum>();
  auto lease = Lease();
  if (!lease.ok()) return lease.status();
  Reader r(this, std::move(*lease));
  constexpr int64_t kHour = 3600000;
  const int64_t from = from_ms.ms(), to = to_ms.ms();  // the columns' Unix milliseconds
  auto floor_div = [](int64_t a) { return a >= 0 ? a / kHour : -((-(a + 1)) / kHour) - 1; };
  // Whole hours [lo, hi): lo = ceil(from / hour), hi = floor(to / hour).
  const int64_t first = floor_div(from), last = floor_div(to - 1);  // hours touched
  int64_t lo = first + (from % kHour != 0 ? 1 : 0);
  int64_t hi = floor_div(to);
  const bool whole = lo < hi && lo <= std::numeric_limits<int64_t>::max() / kHour &&
                     lo >= std::numeric_limits<int64_t>::min() / kHour &&
                     hi <= std::numeric_limits<int64_t>::max() / kHour;
  int64_t raw1_end = to, raw2_begin = to;  // no whole hour: all of [from, to) from jobs
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
      tenant.empty() ? "" : " INDEXED BY usage_hourly_tenant", by_tenant, fmt::format(fmt::runtime(ended), "?1", "?5"),
      fmt::format(fmt::runtime(ended), "?6", "?2"), sliced);
  SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(*r.conn, sql));
  StmtReset reset(s);
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, to);
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

Result<std::optional<Tenant>> SqliteStore::TenantByTokenHash(const std::string& sha256_hex) {
  return OneTenant(fmt::format("SELECT {} FROM tenants WHERE token_sha256 = ?1", kTenantColumns), sha256_hex);
}

Result<std::optional<Tenant>> SqliteStore::GetTenant(const std::string& name) {
  return OneTenant(fmt::format("SELECT {} FROM tenants WHERE name = ?1", kTenantColumns), name);
}

Result<std::vector<Tenant>> SqliteStore::ListTenants() {
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

Result<std::optional<std::string>> SqliteStore::GetSetting(const std::string& key) {
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

Result<std::vector<JobRecord>> SqliteStore::QueryJobs(const std::string& sql, const std::vector<BindValue>& args,
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

Result<std::optional<Tenant>> SqliteStore::OneTenant(const std::string& sql, const std::string& arg) {
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

}  // namespace suanli::live::sqlite_detail
