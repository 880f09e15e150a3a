// The live control plane: the engine's policies on a wall clock.
//
// One ControlPlane per server. It owns the store, one backend per center, and
// the same scheduling code the simulator uses: a Dispatcher (which center)
// in front of one Scheduler per center (which node and devices, when). A
// loop thread runs a scheduling pass on every change (submit, cancel, a
// backend event) and at least every `pass_interval_ms`: it polls the
// backends, applies their events, dispatches new jobs, runs each center's
// pass and launches what it decided. Decisions are committed to the store
// before they are acted on.
//
// Start-up recovers before scheduling anything: active jobs are loaded from
// the store, running ones are re-adopted from their backends (those that ended
// meanwhile are recorded), pending ones are queued again.
//
// A center whose backend stops answering for `center_timeout_s` is marked
// unavailable; its pending jobs are re-dispatched to other centers, and its
// running jobs are re-queued once it is known they are gone (slurm: the
// cluster answers again without them, or the center stays down past the
// timeout: then they are requeued and counted as restarted elsewhere).
//
// Thread-safe: the HTTP handlers call it from many threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/quota.h"
#include "live/agent_link.h"
#include "live/backend.h"
#include "live/live_job.h"
#include "live/store.h"

namespace suanli::live {

// One center of the server's network and how it is run.
struct CenterConfig {
  std::string name;
  BackendConfig backend;
  // Where this center keeps datasets (docs/datasets.md): a directory the
  // server can read and write, holding TENANT/NAME for each dataset there.
  // Empty: the center has no data root; a job there still waits for its
  // dataset's modelled transfer time, and nothing is copied.
  std::string data_root;
};

// The command that stages a dataset (docs/datasets.md): an argv in which
// {src} and {dst} are replaced by the dataset's directory at the center that
// holds it and at the one the job runs at, and {src_center} and
// {dst_center} by their names. It creates or updates {dst}.
inline const std::vector<std::string> kDefaultStageCommand = {"rsync", "-a", "--delete", "--", "{src}/", "{dst}/"};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT
  std::string data_dir = "suanli-data";   // database, job directories, logs
  // Optional network file or built-in name (e.g. "china-aicc:1/100"): its
  // centers are `simulated` unless `centers` names them with another backend.
  std::string network;
  // Centers run by a backend (local, slurm, simulated); capacity of local and
  // slurm centers comes from the backend. With neither `network` nor
  // `centers`: one `local` center named "local".
  std::vector<CenterConfig> centers;
  std::string policy = "fifo+easy";         // center scheduler (PolicySpec)
  std::string dispatch = "earliest-start";  // dispatcher (DispatchSpec)
  int pass_interval_ms = 2000;              // a pass at least this often
  // A running job is not preempted (by a preemptive policy or a quota's
  // reclaim) before it has run this long (SchedulerOptions::min_run).
  int64_t min_run_s = 0;
  int center_timeout_s = 30;  // unanswering center -> unavailable
  // Agents' centers (docs/network.md): each agent syncs at least this often.
  int agent_poll_ms = 1000;
  // ... and this soon after a sync that freed capacity (0: no sooner).
  int agent_follow_up_ms = 100;
  // A service's replica that ends is started again after this many seconds,
  // doubled for each quick end in a row, at most kMaxRestartBackoffS
  // (docs/services.md); 0: at once.
  int64_t restart_backoff_s = 10;
  int64_t max_body_bytes = 1 << 20;  // HTTP request bodies
  int http_threads = 64;             // HTTP worker threads (handlers)
  // Limits on HTTP clients (docs/server.md, "Limits"):
  int header_timeout_s = 10;             // a request's headers must arrive within
  int64_t max_header_bytes = 16384;      // 431 beyond
  int max_headers = 100;                 // header fields; 431 beyond
  int max_connections = 10000;           // open connections in all
  int max_connections_per_client = 256;  // from one client address
  std::string tls_cert, tls_key;         // both set: HTTPS
  std::string admin_token;               // first start only: the admin's token (SUANLI_ADMIN_TOKEN), >= 16 bytes
  std::string admin_token_file;          // or a file (owner-only) holding it; read by `suanli serve`
  bool accept_data_loss = false;         // open a store that lost acknowledged work (--accept-data-loss)
  bool durable = true;                   // false: synchronous=NORMAL (benchmarks only)
  // Tenant quotas (`quotas:`, the format of `suanli sim --quotas`), enforced
  // by every center's scheduler; null = none. Quotas set through the API
  // (PUT /api/v1/quotas) are kept in the store and win over these.
  std::shared_ptr<const QuotaSpec> quotas;
  // How datasets are staged between data roots (kDefaultStageCommand).
  std::vector<std::string> stage_command = kDefaultStageCommand;
  // The wall clock (Unix microseconds); null = the system clock. Tests and
  // `suanli replay` drive the control plane with a clock of their own (with
  // simulated centers, whose runs follow the times the loop gives them).
  std::function<int64_t()> clock;
};

// One tenant's quota at one center, in accelerators, and what it uses there.
struct QuotaUse {
  std::string center, tenant;
  bool limited = false;         // a member of the cohort (listed, or the default applies)
  double nominal = 0;           // guaranteed
  double borrowing_limit = -1;  // most it may use beyond nominal; -1 = unlimited
  double used = 0;              // held by its running jobs
  double borrowed = 0;          // used beyond nominal
};

struct QuotasView {
  std::optional<QuotaSpec> spec;  // none: no quotas
  std::vector<QuotaUse> usage;    // by center, then tenant (tenants seen by the server)
};

// The longest a service's replica waits to be started again.
inline constexpr int64_t kMaxRestartBackoffS = 300;
// A replica that ran this long before it ended starts its backoff afresh.
inline constexpr int64_t kRestartResetS = 600;

// The largest quota document PUT /api/v1/quotas takes.
inline constexpr size_t kMaxQuotaDocumentBytes = 1 << 20;

// Admin tokens shorter than this are refused (ValidateServerConfig).
inline constexpr size_t kMinAdminTokenBytes = 16;

// Reads a server config YAML file; errors name the file and the key.
Result<ServerConfig> LoadServerConfig(const std::string& path);
// The same from the file's text; `path` names it in errors, and relative
// paths in it are taken from its directory.
Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& path);
// Checks the values (listen address, policy and dispatch specs, backends);
// errors name the key.
Status ValidateServerConfig(const ServerConfig& config);
// A stage_command: a program, with {src} and {dst} in its arguments.
Status CheckStageCommand(const std::vector<std::string>& argv);

// Who is calling (resolved from the bearer token by the HTTP layer).
struct Caller {
  std::string tenant;
  bool admin = false;
};

struct ModelUse {
  std::string model;
  int total = 0;
  double busy = 0;
};

struct CenterView {
  std::string name, backend, region;
  bool up = true;        // answering
  bool drained = false;  // drained by an operator: takes no new jobs
  std::string reason;    // why not up / drained
  int devices = 0;       // accelerators in all
  double busy_devices = 0;
  std::vector<ModelUse> models;
  int pending = 0, running = 0;
  double pue = 1, price_now = 0, carbon_now = 0;  // power price (per kWh) and gCO2/kWh this hour
  double power_kw = 0;                            // estimated draw of busy accelerators x PUE
  // Nodes its backend reports down (slurm: drained, down, failed, gone):
  // they receive no jobs until they are up again.
  struct NodeDown {
    std::string node, reason;
  };
  std::vector<NodeDown> nodes_down;
  // An agent's center (backend "agent"): its link to the hub.
  std::optional<AgentLinkView> agent;
};

// A center at one moment, as its history keeps it (the dashboard's charts):
// accelerators busy and in all, jobs pending and running there.
struct CenterSample {
  WallMs time_ms{};
  double busy_devices = 0;
  int devices = 0;
  int pending = 0, running = 0;
};
// The server samples each center every kHistoryIntervalS seconds of its
// clock and keeps the last kHistorySamples (24 hours), in memory and in its
// store (one row per center and hour of the day, rewritten as the hour goes
// on), so a restart keeps the day's history.
inline constexpr int64_t kHistoryIntervalS = 60;
inline constexpr size_t kHistorySamples = 1440;
struct CenterHistory {
  std::string center;
  std::vector<CenterSample> samples;  // oldest first
};

struct PassStats {
  int64_t passes = 0;
  double last_pass_ms = 0;
  std::vector<double> pass_ms_buckets_le;  // histogram bounds (ms)
  std::vector<int64_t> pass_ms_counts;     // cumulative counts per bound
  double pass_ms_sum = 0;
  // Passes whose decisions were acted on, and for the last of them the time
  // from its decisions to their launches (the store's commit, then the
  // backends' launches and cancels).
  int64_t acted = 0;
  double last_decision_to_launch_ms = 0;
  int64_t submissions = 0, failures = 0, cancellations = 0, successes = 0;
  // Runs stopped for another job (a preemptive order or a quota's reclaim).
  int64_t preemptions = 0;
};

struct NewTenant {
  Tenant tenant;
  std::string token;  // shown once
};

class ControlPlane {
 public:
  // Opens the store under config.data_dir, builds the network and backends,
  // recovers and reconciles, then starts the loop thread.
  static Result<std::unique_ptr<ControlPlane>> Start(const ServerConfig& config);
  virtual ~ControlPlane() = default;
  virtual void Stop() = 0;  // stops the loop (jobs keep running; a restart re-adopts them)

  // Authentication: the tenant whose token this is, if any.
  virtual std::optional<Caller> Authenticate(const std::string& bearer_token) = 0;

  // Validates the spec (InvalidArgument naming the field), checks the
  // tenant's admission quotas (ResourceExhausted), stores the job durably
  // and wakes the loop. Returns the stored record (state pending).
  virtual Result<JobRecord> Submit(const Caller& caller, JobSpec spec) = 0;
  // NotFound if the job does not exist or is not the caller's (admin sees all).
  virtual Result<JobRecord> Get(const Caller& caller, int64_t id) = 0;
  // A tenant's filter.tenant is forced to its own name.
  virtual Result<std::vector<JobRecord>> List(const Caller& caller, JobFilter filter) = 0;
  virtual Result<JobRecord> Cancel(const Caller& caller, int64_t id) = 0;
  // The job reports a checkpoint of its running run now (as writing its
  // checkpoint mark does): the work up to now is kept if it is preempted or
  // its run is lost. FailedPrecondition if it is not running.
  virtual Result<JobRecord> ReportCheckpoint(const Caller& caller, int64_t id) = 0;
  // Path of the job's "stdout" or "stderr" log file (may not exist yet).
  virtual Result<std::string> LogPath(const Caller& caller, int64_t id, const std::string& stream) = 0;

  virtual std::vector<CenterView> Centers() = 0;
  // Each center's samples (CenterSample), oldest first.
  virtual std::vector<CenterHistory> History() = 0;
  virtual Status Drain(const Caller& caller, const std::string& center) = 0;   // admin only
  virtual Status Resume(const Caller& caller, const std::string& center) = 0;  // admin only

  virtual Result<NewTenant> CreateTenant(const Caller& caller, Tenant t) = 0;  // admin only
  virtual Result<std::vector<Tenant>> Tenants(const Caller& caller) = 0;       // admin: all; else own
  virtual Result<std::vector<UsageSum>> Usage(const Caller& caller, WallMs from_ms, WallMs to_ms) = 0;

  // Tenant quotas: the spec in force and what each tenant uses per center.
  // The admin sees all; a tenant its own entry (or the default) and usage.
  virtual Result<QuotasView> Quotas(const Caller& caller) = 0;
  // Admin only: replaces the quotas with `document` (quota YAML or JSON, the
  // format of `suanli sim --quotas`), or removes them (nullopt), at once and
  // for good (kept in the store, winning over the config's `quotas:`).
  // Running jobs go on; what may start is decided anew at the next pass.
  virtual Result<QuotasView> SetQuotas(const Caller& caller, const std::optional<std::string>& document) = 0;

  // Datasets (docs/datasets.md), each its tenant's. Register: the caller's
  // dataset d.name at d.center (d.tenant, d.created_ms and d.copies are the
  // server's to set), replacing one of the same name. At a center with a
  // data root its size is that of its directory there, which must exist;
  // elsewhere d.size_bytes (>= 0) is taken as given.
  virtual Result<Dataset> RegisterDataset(const Caller& caller, Dataset d) = 0;
  virtual Result<std::vector<Dataset>> Datasets(const Caller& caller) = 0;                // admin: all; else own
  virtual Result<Dataset> GetDataset(const Caller& caller, const std::string& name) = 0;  // the caller's own
  // Forgets the caller's dataset (its files stay where they are); jobs that
  // name it and have not been staged fail.
  virtual Status DeleteDataset(const Caller& caller, const std::string& name) = 0;
  // Services (docs/services.md): the replicas of service `id` that have not
  // ended, and scaling it to `replicas` (new replicas, or the newest
  // cancelled); the owner or the admin.
  virtual Result<std::vector<JobRecord>> Replicas(const Caller& caller, int64_t id) = 0;
  // Every service with replicas that have not ended (admin: every tenant's;
  // else the caller's), by id, each with those replicas.
  virtual std::vector<std::pair<int64_t, std::vector<JobRecord>>> Services(const Caller& caller) = 0;
  virtual Result<std::vector<JobRecord>> Scale(const Caller& caller, int64_t id, uint32_t replicas) = 0;

  // Agents' centers (docs/network.md). Admin only: a new credential for
  // the agent of `center` (a center of backend `agent`), replacing any
  // earlier one; shown once, kept only as its hash.
  virtual Result<std::string> IssueAgentCredential(const Caller& caller, const std::string& center) = 0;
  // PermissionDenied unless `credential` is the current one of `center`'s agent.
  virtual Status AuthenticateAgent(const std::string& center, const std::string& credential) = 0;
  // One sync of the agent of `center` (PermissionDenied as above).
  virtual Result<AgentSyncResponse> AgentSync(const std::string& center, const std::string& credential,
                                              const AgentSyncRequest& req) = 0;

  virtual PassStats Stats() = 0;
  // Runs one scheduling pass now, synchronously (tests, benchmarks).
  virtual void PassNow() = 0;
};

}  // namespace suanli::live
