// The SQLite store's schema, as the migrations that build it.
#include "live/store_schema.h"

#include <iterator>

namespace suanli::store_schema {
namespace {

// Schema migrations: entry i takes user_version i to i + 1. Never edit a
// released entry; add a new one (e.g. "ALTER TABLE jobs ADD COLUMN ...").
const char* const kMigrations[] = {
    // 0 -> 1: jobs, per-tenant state counts, tenants, settings.
    R"sql(
CREATE TABLE jobs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant         TEXT    NOT NULL,
  state          TEXT    NOT NULL CHECK (state IN ('pending','running','succeeded','failed','cancelled')),
  name           TEXT    NOT NULL DEFAULT '',
  command        TEXT    NOT NULL DEFAULT '[]',
  env            TEXT    NOT NULL DEFAULT '{}',
  workdir        TEXT    NOT NULL DEFAULT '',
  gpus           INTEGER NOT NULL DEFAULT 0,
  cpu_milli      INTEGER NOT NULL DEFAULT 0,
  mem_mib        INTEGER NOT NULL DEFAULT 0,
  models         TEXT    NOT NULL DEFAULT '[]',
  stacks         TEXT    NOT NULL DEFAULT '[]',
  workload_class TEXT    NOT NULL DEFAULT 'other',
  time_limit_s   INTEGER NOT NULL DEFAULT 0,
  duration_s     INTEGER NOT NULL DEFAULT 0,
  priority       INTEGER NOT NULL DEFAULT 0,
  spec_center    TEXT    NOT NULL DEFAULT '',
  submit_ms      INTEGER NOT NULL DEFAULT 0,
  start_ms       INTEGER NOT NULL DEFAULT 0,
  end_ms         INTEGER NOT NULL DEFAULT 0,
  center         TEXT    NOT NULL DEFAULT '',
  model          TEXT    NOT NULL DEFAULT '',
  node           TEXT    NOT NULL DEFAULT '',
  devices        TEXT    NOT NULL DEFAULT '[]',
  backend_id     TEXT    NOT NULL DEFAULT '',
  exit_code      INTEGER NOT NULL DEFAULT -1,
  signal         INTEGER NOT NULL DEFAULT 0,
  reason         TEXT    NOT NULL DEFAULT '',
  est_start_ms   INTEGER NOT NULL DEFAULT 0,
  gpu_seconds    REAL    NOT NULL DEFAULT 0,
  energy_kwh     REAL    NOT NULL DEFAULT 0,
  cost           REAL    NOT NULL DEFAULT 0,
  carbon_kg      REAL    NOT NULL DEFAULT 0
);
-- Listing walks one of these newest first (see ListJobs); usage ranges over end_ms.
CREATE INDEX jobs_state_id ON jobs (state, id);
CREATE INDEX jobs_tenant_state_id ON jobs (tenant, state, id);
CREATE INDEX jobs_center_state_id ON jobs (center, state, id);
CREATE INDEX jobs_tenant_center_state_id ON jobs (tenant, center, state, id);
CREATE INDEX jobs_end_ms ON jobs (end_ms);

CREATE TABLE job_counts (
  tenant TEXT    NOT NULL,
  state  TEXT    NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (tenant, state)
) WITHOUT ROWID;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (tenant, state, n) VALUES (new.tenant, new.state, 1)
    ON CONFLICT (tenant, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF tenant, state ON jobs
  WHEN old.tenant IS NOT new.tenant OR old.state IS NOT new.state BEGIN
  UPDATE job_counts SET n = n - 1 WHERE tenant = old.tenant AND state = old.state;
  INSERT INTO job_counts (tenant, state, n) VALUES (new.tenant, new.state, 1)
    ON CONFLICT (tenant, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE tenant = old.tenant AND state = old.state;
END;

-- Usage of finished jobs summed per hour of end_ms (UTC hours since 1970)
-- and group, kept by triggers in the same transaction as each write: Usage
-- reads whole hours here and only the partial hours at the ends of its
-- range from jobs.
CREATE TABLE usage_hourly (
  hour        INTEGER NOT NULL,
  tenant      TEXT    NOT NULL,
  center      TEXT    NOT NULL,
  model       TEXT    NOT NULL,
  jobs        INTEGER NOT NULL,
  gpu_seconds REAL    NOT NULL,
  energy_kwh  REAL    NOT NULL,
  cost        REAL    NOT NULL,
  carbon_kg   REAL    NOT NULL,
  PRIMARY KEY (hour, tenant, center, model)
) WITHOUT ROWID;
CREATE INDEX usage_hourly_tenant ON usage_hourly (tenant, hour);
CREATE TRIGGER jobs_usage_insert AFTER INSERT ON jobs
  WHEN new.state IN ('succeeded', 'failed', 'cancelled') BEGIN
  INSERT INTO usage_hourly VALUES (
    CASE WHEN new.end_ms >= 0 THEN new.end_ms / 3600000 ELSE (new.end_ms - 3599999) / 3600000 END,
    new.tenant, new.center, new.model, 1, new.gpu_seconds, new.energy_kwh, new.cost, new.carbon_kg)
  ON CONFLICT (hour, tenant, center, model) DO UPDATE SET jobs = jobs + 1,
    gpu_seconds = gpu_seconds + excluded.gpu_seconds, energy_kwh = energy_kwh + excluded.energy_kwh,
    cost = cost + excluded.cost, carbon_kg = carbon_kg + excluded.carbon_kg;
END;
CREATE TRIGGER jobs_usage_update AFTER UPDATE ON jobs
  WHEN (old.state IN ('succeeded', 'failed', 'cancelled') OR new.state IN ('succeeded', 'failed', 'cancelled'))
   AND (old.state IS NOT new.state OR old.end_ms IS NOT new.end_ms OR old.tenant IS NOT new.tenant
        OR old.center IS NOT new.center OR old.model IS NOT new.model OR old.gpu_seconds IS NOT new.gpu_seconds
        OR old.energy_kwh IS NOT new.energy_kwh OR old.cost IS NOT new.cost OR old.carbon_kg IS NOT new.carbon_kg)
  BEGIN
  UPDATE usage_hourly SET jobs = jobs - 1, gpu_seconds = gpu_seconds - old.gpu_seconds,
    energy_kwh = energy_kwh - old.energy_kwh, cost = cost - old.cost, carbon_kg = carbon_kg - old.carbon_kg
  WHERE old.state IN ('succeeded', 'failed', 'cancelled')
    AND hour = CASE WHEN old.end_ms >= 0 THEN old.end_ms / 3600000 ELSE (old.end_ms - 3599999) / 3600000 END
    AND tenant = old.tenant AND center = old.center AND model = old.model;
  INSERT INTO usage_hourly SELECT
    CASE WHEN new.end_ms >= 0 THEN new.end_ms / 3600000 ELSE (new.end_ms - 3599999) / 3600000 END,
    new.tenant, new.center, new.model, 1, new.gpu_seconds, new.energy_kwh, new.cost, new.carbon_kg
  WHERE new.state IN ('succeeded', 'failed', 'cancelled')
  ON CONFLICT (hour, tenant, center, model) DO UPDATE SET jobs = jobs + 1,
    gpu_seconds = gpu_seconds + excluded.gpu_seconds, energy_kwh = energy_kwh + excluded.energy_kwh,
    cost = cost + excluded.cost, carbon_kg = carbon_kg + excluded.carbon_kg;
END;
CREATE TRIGGER jobs_usage_delete AFTER DELETE ON jobs
  WHEN old.state IN ('succeeded', 'failed', 'cancelled') BEGIN
  UPDATE usage_hourly SET jobs = jobs - 1, gpu_seconds = gpu_seconds - old.gpu_seconds,
    energy_kwh = energy_kwh - old.energy_kwh, cost = cost - old.cost, carbon_kg = carbon_kg - old.carbon_kg
  WHERE hour = CASE WHEN old.end_ms >= 0 THEN old.end_ms / 3600000 ELSE (old.end_ms - 3599999) / 3600000 END
    AND tenant = old.tenant AND center = old.center AND model = old.model;
END;

CREATE TABLE tenants (
  name             TEXT    PRIMARY KEY,
  token_sha256     TEXT    NOT NULL UNIQUE,
  admin            INTEGER NOT NULL DEFAULT 0,
  max_gpus_per_job INTEGER NOT NULL DEFAULT 0,
  max_active_jobs  INTEGER NOT NULL DEFAULT 0,
  created_ms       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    // 1 -> 2: every run of a job that has ended (preempted, requeued,
    // abandoned, or its last), written with the job's record.
    R"sql(
CREATE TABLE job_attempts (
  job_id      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  center      TEXT    NOT NULL DEFAULT '',
  node        TEXT    NOT NULL DEFAULT '',
  model       TEXT    NOT NULL DEFAULT '',
  devices     TEXT    NOT NULL DEFAULT '[]',
  start_ms    INTEGER NOT NULL DEFAULT 0,
  end_ms      INTEGER NOT NULL DEFAULT 0,
  outcome     TEXT    NOT NULL DEFAULT '',
  reason      TEXT    NOT NULL DEFAULT '',
  gpu_seconds REAL    NOT NULL DEFAULT 0,
  energy_kwh  REAL    NOT NULL DEFAULT 0,
  cost        REAL    NOT NULL DEFAULT 0,
  carbon_kg   REAL    NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, n)
) WITHOUT ROWID;
CREATE TRIGGER jobs_attempts_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM job_attempts WHERE job_id = old.id;
END;
)sql",
    // 2 -> 3: the commit counter, one more each transaction of the writer;
    // compared at open with the marks file's (live/store_marks.h).
    R"sql(
CREATE TABLE commit_count (n INTEGER NOT NULL);
INSERT INTO commit_count (n) VALUES (0);
)sql",
    // 3 -> 4: the highest priority a tenant's jobs may ask for.
    R"sql(
ALTER TABLE tenants ADD COLUMN max_priority INTEGER NOT NULL DEFAULT 0;
)sql",  // 4 -> 5: usage goes to the hours each run ran in (usage_slices, written
    // with its attempt) instead of whole to the hour its job ended;
    // usage_hourly counts the jobs that ended in each hour apart. What was
    // metered before is kept as it was booked: one slice per attempt (or per
    // finished job without attempts, n = 0) in the hour it ended.
    R"sql(
DROP TRIGGER jobs_usage_insert;
DROP TRIGGER jobs_usage_update;
DROP TRIGGER jobs_usage_delete;
ALTER TABLE usage_hourly ADD COLUMN slices INTEGER NOT NULL DEFAULT 0;
DELETE FROM usage_hourly;

CREATE TABLE usage_slices (
  job_id      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  hour        INTEGER NOT NULL,
  start_ms    INTEGER NOT NULL,
  end_ms      INTEGER NOT NULL,
  tenant      TEXT    NOT NULL,
  center      TEXT    NOT NULL,
  model       TEXT    NOT NULL,
  gpu_seconds REAL    NOT NULL,
  energy_kwh  REAL    NOT NULL,
  cost        REAL    NOT NULL,
  carbon_kg   REAL    NOT NULL,
  PRIMARY KEY (job_id, n, hour)
) WITHOUT ROWID;
CREATE INDEX usage_slices_hour ON usage_slices (hour);
CREATE TRIGGER usage_slices_insert AFTER INSERT ON usage_slices BEGIN
  INSERT INTO usage_hourly (hour, tenant, center, model, jobs, gpu_seconds, energy_kwh, cost, carbon_kg, slices)
  VALUES (new.hour, new.tenant, new.center, new.model, 0, new.gpu_seconds, new.energy_kwh, new.cost, new.carbon_kg, 1)
  ON CONFLICT (hour, tenant, center, model) DO UPDATE SET slices = slices + 1,
    gpu_seconds = gpu_seconds + excluded.gpu_seconds, energy_kwh = energy_kwh + excluded.energy_kwh,
    cost = cost + excluded.cost, carbon_kg = carbon_kg + excluded.carbon_kg;
END;
CREATE TRIGGER usage_slices_delete AFTER DELETE ON usage_slices BEGIN
  UPDATE usage_hourly SET slices = slices - 1, gpu_seconds = gpu_seconds - old.gpu_seconds,
    energy_kwh = energy_kwh - old.energy_kwh, cost = cost - old.cost, carbon_kg = carbon_kg - old.carbon_kg
  WHERE hour = old.hour AND tenant = old.tenant AND center = old.center AND model = old.model;
END;
CREATE TRIGGER jobs_slices_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM usage_slices WHERE job_id = old.id;
END;

CREATE TRIGGER jobs_ended_insert AFTER INSERT ON jobs
  WHEN new.state IN ('succeeded', 'failed', 'cancelled') BEGIN
  INSERT INTO usage_hourly (hour, tenant, center, model, jobs, gpu_seconds, energy_kwh, cost, carbon_kg)
  VALUES (CASE WHEN new.end_ms >= 0 THEN new.end_ms / 3600000 ELSE (new.end_ms - 3599999) / 3600000 END, new.tenant, new.center, new.model, 1, 0, 0, 0, 0)
  ON CONFLICT (hour, tenant, center, model) DO UPDATE SET jobs = jobs + 1;
END;
CREATE TRIGGER jobs_ended_update AFTER UPDATE ON jobs
  WHEN (old.state IN ('succeeded', 'failed', 'cancelled') OR new.state IN ('succeeded', 'failed', 'cancelled'))
   AND (old.state IS NOT new.state OR old.end_ms IS NOT new.end_ms OR old.tenant IS NOT new.tenant
        OR old.center IS NOT new.center OR old.model IS NOT new.model)
  BEGIN
  UPDATE usage_hourly SET jobs = jobs - 1
  WHERE old.state IN ('succeeded', 'failed', 'cancelled') AND hour = CASE WHEN old.end_ms >= 0 THEN old.end_ms / 3600000 ELSE (old.end_ms - 3599999) / 3600000 END
    AND tenant = old.tenant AND center = old.center AND model = old.model;
  INSERT INTO usage_hourly (hour, tenant, center, model, jobs, gpu_seconds, energy_kwh, cost, carbon_kg)
  SELECT CASE WHEN new.end_ms >= 0 THEN new.end_ms / 3600000 ELSE (new.end_ms - 3599999) / 3600000 END, new.tenant, new.center, new.model, 1, 0, 0, 0, 0
  WHERE new.state IN ('succeeded', 'failed', 'cancelled')
  ON CONFLICT (hour, tenant, center, model) DO UPDATE SET jobs = jobs + 1;
END;
CREATE TRIGGER jobs_ended_delete AFTER DELETE ON jobs
  WHEN old.state IN ('succeeded', 'failed', 'cancelled') BEGIN
  UPDATE usage_hourly SET jobs = jobs - 1
  WHERE hour = CASE WHEN old.end_ms >= 0 THEN old.end_ms / 3600000 ELSE (old.end_ms - 3599999) / 3600000 END AND tenant = old.tenant AND center = old.center AND model = old.model;
END;

INSERT INTO usage_hourly (hour, tenant, center, model, jobs, gpu_seconds, energy_kwh, cost, carbon_kg)
SELECT CASE WHEN end_ms >= 0 THEN end_ms / 3600000 ELSE (end_ms - 3599999) / 3600000 END AS h, tenant, center, model, COUNT(*), 0, 0, 0, 0 FROM jobs
WHERE state IN ('succeeded', 'failed', 'cancelled') GROUP BY h, tenant, center, model;
INSERT INTO usage_slices
SELECT a.job_id, a.n, CASE WHEN a.end_ms >= 0 THEN a.end_ms / 3600000 ELSE (a.end_ms - 3599999) / 3600000 END, a.end_ms, a.end_ms + 1, j.tenant, a.center, a.model,
       a.gpu_seconds, a.energy_kwh, a.cost, a.carbon_kg
FROM job_attempts a JOIN jobs j ON j.id = a.job_id;
INSERT INTO usage_slices
SELECT id, 0, CASE WHEN end_ms >= 0 THEN end_ms / 3600000 ELSE (end_ms - 3599999) / 3600000 END, end_ms, end_ms + 1, tenant, center, model, gpu_seconds, energy_kwh, cost, carbon_kg
FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM job_attempts a WHERE a.job_id = jobs.id);
)sql",
    // 5 -> 6: checkpoints: a job's checkpoint interval, notice and signal
    // (spec fields, at the end of its table), and when its running and each
    // ended run last reported a checkpoint; a job's events.
    R"sql(
ALTER TABLE jobs ADD COLUMN checkpoint_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN checkpoint_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN grace_s INTEGER NOT NULL DEFAULT 60;
ALTER TABLE jobs ADD COLUMN stop_signal TEXT    NOT NULL DEFAULT 'USR1';
ALTER TABLE job_attempts ADD COLUMN checkpoint_ms INTEGER NOT NULL DEFAULT 0;

-- A job's history (JobEvent), written once each, with the job.
CREATE TABLE job_events (
  job_id  INTEGER NOT NULL,
  n       INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  kind    TEXT    NOT NULL,
  message TEXT    NOT NULL,
  PRIMARY KEY (job_id, n)
) WITHOUT ROWID;
CREATE TRIGGER jobs_events_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM job_events WHERE job_id = old.id;
END;
)sql",
    // 6 -> 7: a deferrable job's deadline (a spec field).
    R"sql(
ALTER TABLE jobs ADD COLUMN deadline TEXT    NOT NULL DEFAULT '';
)sql",
    // 7 -> 8: a tenant's home center.
    R"sql(
ALTER TABLE tenants ADD COLUMN home TEXT NOT NULL DEFAULT '';
)sql",
    // 8 -> 9: the nodes a job's gang is spread over (a spec field).
    R"sql(
ALTER TABLE jobs ADD COLUMN nodes INTEGER NOT NULL DEFAULT 1;
)sql",
    // 9 -> 10: datasets: a job's dataset (a spec field), and the registry of
    // datasets (Dataset), each with the centers it was staged to as JSON
    // ([{"center": ..., "staged_ms": ...}]).
    R"sql(
ALTER TABLE jobs ADD COLUMN dataset TEXT    NOT NULL DEFAULT '';
CREATE TABLE datasets (
  tenant     TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  center     TEXT    NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  copies     TEXT    NOT NULL DEFAULT '[]',
  PRIMARY KEY (tenant, name)
) WITHOUT ROWID;
)sql",
    // 10 -> 11: inference services: a job's replicas, region and latency
    // bound (spec fields), and the service a replica belongs to.
    R"sql(
ALTER TABLE jobs ADD COLUMN replicas INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN region TEXT    NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN latency_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN service INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_service_id ON jobs (service, id);
)sql",
};
}  // namespace

std::span<const char* const> Migrations() { return {kMigrations, std::size(kMigrations)}; }

}  // namespace suanli::store_schema
