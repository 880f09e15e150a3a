// The control plane's durable store: an embedded SQLite database in WAL mode.
//
// Durability contract: InsertJob and UpdateJob return only after the change
// is committed to disk (synchronous=FULL in WAL mode: the WAL is fsync'd at
// every commit), so a job acknowledged to a client survives kill -9 of the
// server and a power cut. To keep durability from costing throughput, writes
// from many threads are group-committed: one writer thread takes every write
// queued while the previous commit was running and commits them in one
// transaction (one fsync), then wakes their callers.
//
// Reads use their own connections (WAL lets them run beside the writer).
// Only active jobs are meant to be held in memory by callers; listing goes to
// the database with a limit, so a store of millions of jobs stays cheap.
//
// Ids and lost work: job ids are assigned by the store and never reused, even
// after a lost write-ahead log or a restore from an older backup: the
// highest id handed out and the last commit are recorded in a marks file
// outside the database (live/store_marks.h). Opening a database that holds
// less than the marks say was committed fails with kFailedPrecondition and a
// message saying what was lost, unless StoreOptions::accept_data_loss.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "live/live_job.h"

namespace suanli::live {

struct StoreOptions {
  int max_batch = 1024;          // writes per group commit at most
  bool synchronous_full = true;  // false: synchronous=NORMAL (not durable on power cut; for benchmarks only)
  // The high-water marks file (live/store_marks.h); empty: the database's
  // path with its extension replaced by ".marks" (suanli.db -> suanli.marks).
  std::string marks_path;
  // Open a database that holds less than the marks say was committed (a lost
  // or truncated write-ahead log, a restore from an older backup): log what
  // was lost and go on. Without it, Open refuses such a database.
  bool accept_data_loss = false;
};

struct JobFilter {
  std::string tenant;            // empty = all tenants
  std::vector<JobState> states;  // empty = any state
  std::string center;            // empty = any center
  int64_t service = 0;           // > 0: only this service's replicas (JobRecord::service)
  int64_t before_id = 0;         // > 0: only ids < before_id (paging, newest first)
  int limit = 100;               // at most this many, newest (highest id) first
};

struct JobCounts {
  int64_t pending = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
};

// One row of usage: accelerator-seconds, energy, cost and carbon of finished
// jobs, summed by tenant, center and model.
struct UsageSum {
  std::string tenant, center, model;
  int64_t jobs = 0;
  double gpu_seconds = 0, energy_kwh = 0, cost = 0, carbon_kg = 0;
};

class Store {
 public:
  // Opens (creating if missing) the database file; creates or migrates the
  // schema. Errors name the file and what failed.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options = {});
  virtual ~Store() = default;

  // Durable insert: assigns rec.id (returned) and commits before returning.
  virtual Result<int64_t> InsertJob(const JobRecord& rec) = 0;
  // Durable update of every field of an existing job (by rec.id).
  virtual Status UpdateJob(const JobRecord& rec) = 0;
  // UpdateJob for each record, queued at once (committed together, in as few
  // transactions as the group-commit batch allows), in order; one status per
  // record. Returns once every one is committed or has failed.
  virtual std::vector<Status> UpdateJobs(const std::vector<JobRecord>& recs) = 0;
  virtual Result<std::optional<JobRecord>> GetJob(int64_t id) = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) = 0;
  // Every pending or running job (for recovery at start-up), in id order.
  virtual Result<std::vector<JobRecord>> LoadActive() = 0;
  virtual Result<JobCounts> Counts(const std::string& tenant = "") = 0;
  virtual Result<int64_t> ActiveJobs(const std::string& tenant) = 0;  // pending + running
  // Finished jobs' usage with end_ms in [from_ms, to_ms), grouped by tenant,
  // center and model; tenant empty = all tenants.
  virtual Result<std::vector<UsageSum>> Usage(const std::string& tenant, WallMs from_ms, WallMs to_ms) = 0;

  // Tenants (durable like jobs).
  virtual Status PutTenant(const Tenant& t) = 0;  // insert or replace by name
  virtual Result<std::optional<Tenant>> TenantByTokenHash(const std::string& sha256_hex) = 0;
  virtual Result<std::optional<Tenant>> GetTenant(const std::string& name) = 0;
  virtual Result<std::vector<Tenant>> ListTenants() = 0;

  // Registered datasets (durable like jobs), by tenant and name.
  virtual Status PutDataset(const Dataset& d) = 0;  // insert or replace
  virtual Result<std::optional<Dataset>> GetDataset(const std::string& tenant, const std::string& name) = 0;
  // By tenant, then name; tenant empty = every tenant's.
  virtual Result<std::vector<Dataset>> ListDatasets(const std::string& tenant) = 0;
  // Whether there was one to delete.
  virtual Result<bool> DeleteDataset(const std::string& tenant, const std::string& name) = 0;

  // Small durable key/value settings (e.g. center drain flags).
  virtual Status PutSetting(const std::string& key, const std::string& value) = 0;
  virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;

  // What was accepted as lost when the store opened (StoreOptions::
  // accept_data_loss), as a sentence; empty when nothing was.
  virtual std::string data_loss() const = 0;
  // The marks file's path.
  virtual std::string marks_path() const = 0;

  // Writes committed and commits made since start (group-commit ratio).
  virtual int64_t writes() const = 0;
  virtual int64_t commits() const = 0;
};

}  // namespace suanli::live
