// The client commands of a running `suanli serve`: submit, queue, show,
// cancel, logs, centers, usage (without a directory), tenants. They speak the
// HTTP API (docs/api.md) with a bearer token. See docs/cli.md.
//
// Exit codes: 0 ok, 1 the server answered with an error (or an unreadable
// answer), 2 bad usage or input, 3 the server cannot be reached.
//
// Their source files are listed in cmd_client_internal.h.
#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmd_client_internal.h"
#include "commands.h"

namespace suanli::app {

using client_detail::AddConnOptions;
using client_detail::Conn;
using client_detail::QueueArgs;
using client_detail::RunCancel;
using client_detail::RunCenterAction;
using client_detail::RunCenters;
using client_detail::RunCheckpoint;
using client_detail::RunLiveUsage;
using client_detail::RunLogs;
using client_detail::RunQueue;
using client_detail::RunShow;
using client_detail::RunSubmit;
using client_detail::RunTenantCreate;
using client_detail::RunTenants;
using client_detail::SubmitArgs;
using client_detail::TenantCreateArgs;

// ---------------------------------------------------------------- registration

void RegisterClient(CLI::App& app, int* exit_code) {
  {
    auto a = std::make_shared<SubmitArgs>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("submit", "Submit a job to the server: suanli submit [options] -- CMD ARGS...");
    cmd->add_option_function<double>(
        "--gpus", [a](const double& v) { a->gpus = v; },
        "Accelerators (default 0); below 1 a share of one device, e.g. 0.25");
    cmd->add_option_function<uint32_t>(
        "--nodes", [a](const uint32_t& v) { a->nodes = v; },
        "Spread the accelerators over this many nodes, gpus / nodes on each (default 1)");
    cmd->add_option("--model", a->models, "Accepted accelerator model (repeat or comma-separate; default any)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--stack", a->stacks, "Accepted software stack, e.g. cuda, cann (repeat; default any)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option_function<double>(
        "--cpus", [a](const double& v) { a->cpus = v; }, "CPU cores (default 1)");
    cmd->add_option_function<int64_t>(
        "--mem", [a](const int64_t& v) { a->mem = v; }, "Memory in MiB (default 1024)");
    cmd->add_option("--time-limit", a->time_limit, "Time limit: seconds or 90m, 1h30m, 2d (default 1h)");
    cmd->add_option("--name", a->name, "A label");
    cmd->add_option_function<int32_t>(
        "--priority", [a](const int32_t& v) { a->priority = v; }, "Priority (larger first; default 0)");
    cmd->add_option("--center", a->center, "Run only in this center");
    cmd->add_option("--env", a->env, "Environment variable NAME=VALUE (repeat)")->allow_extra_args(false);
    cmd->add_option("--duration", a->duration, "Simulated centers: how long the job runs (seconds or 90m)");
    cmd->add_option("--class", a->workload_class, "Workload class: training, inference, other (default other)");
    cmd->add_option("--workdir", a->workdir, "Working directory (default: the job's own directory)");
    cmd->add_option("--checkpoint-s", a->checkpoint,
                    "The job checkpoints about this often (seconds or 10m); it is then told before a preemption");
    cmd->add_option("--grace-s", a->grace,
                    "A checkpointing job: time between its stop signal and the stop (default 60)");
    cmd->add_option("--stop-signal", a->stop_signal,
                    "A checkpointing job: the signal that tells it to save and stop (USR1, USR2, TERM, INT, HUP, URG)");
    cmd->add_option("--deadline", a->deadline,
                    "A deferrable job: it must end by this time (RFC 3339, or a duration from now such as 12h); "
                    "cost- and carbon-aware dispatch may hold it for cheaper or cleaner hours until then");
    cmd->add_option("--dataset", a->dataset,
                    "One of your registered datasets (suanli datasets): the job reads it at $SUANLI_DATASET_DIR");
    cmd->add_option_function<uint32_t>(
        "--replicas", [a](const uint32_t& v) { a->replicas = v; },
        "An inference service of this many replicas, kept running with no time limit (suanli scale changes it)");
    cmd->add_option("--region", a->region, "A service: the region of the server's network its users are in");
    cmd->add_option_function<int64_t>(
        "--latency-ms", [a](const int64_t& v) { a->latency_ms = v; },
        "A service: replicas only at centers within this many round-trip ms of --region");
    cmd->add_option("-f,--file", a->file, "Job file (YAML with the keys of the JSON body); options override it");
    auto* q = cmd->add_flag("-q,--quiet", a->quiet, "Print only the job id");
    auto* j = cmd->add_flag("--json", a->json, "Print the stored job as JSON");
    q->excludes(j);
    cmd->add_option("command", a->command, "The program and its arguments (after --)");
    AddConnOptions(cmd, conn);
    cmd->callback([a, conn, exit_code]() { *exit_code = RunSubmit(*a, *conn); });
  }
  {
    auto a = std::make_shared<QueueArgs>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("queue", "List jobs (default: pending and running), newest first");
    cmd->add_option("--state", a->state,
                    "Only these states, comma-separated (pending, running, succeeded, failed, cancelled)");
    cmd->add_option("--center", a->center, "Only jobs of this center");
    cmd->add_option("--tenant", a->tenant, "Only this tenant's jobs (admin)");
    auto* all = cmd->add_flag("--all", a->all, "Jobs in every state (the 100 newest unless --limit)");
    all->excludes(cmd->get_option("--state"));
    cmd->add_option("--limit", a->limit, "At most this many jobs")->check(CLI::Range(1, 10'000'000));
    cmd->add_flag("--json", a->json, "{\"jobs\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    cmd->callback([a, conn, exit_code]() { *exit_code = RunQueue(*a, *conn); });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("show", "Show one job");
    cmd->add_option("id", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "The job as JSON");
    AddConnOptions(cmd, conn);
    cmd->callback([id, as_json, conn, exit_code]() { *exit_code = RunShow(*id, *as_json, *conn); });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand(
        "checkpoint", "Report that a running job has saved its state now (the work up to now is kept if it stops)");
    cmd->add_option("id", *id, "Job id")->required()->check(CLI::PositiveNumber);
    AddConnOptions(cmd, conn);
    cmd->callback([id, conn, exit_code]() { *exit_code = RunCheckpoint(*id, *conn); });
  }
  {
    auto ids = std::make_shared<std::vector<int64_t>>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("cancel", "Cancel jobs (pending: at once; running: stopped, then cancelled)");
    cmd->add_option("ids", *ids, "Job ids")->required()->check(CLI::PositiveNumber);
    AddConnOptions(cmd, conn);
    cmd->callback([ids, conn, exit_code]() { *exit_code = RunCancel(*ids, *conn); });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto err = std::make_shared<bool>(false);
    auto follow = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("logs", "Print a job's output (stdout, or --stderr)");
    cmd->add_option("id", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--stderr", *err, "The job's standard error instead of its output");
    cmd->add_flag("-f,--follow", *follow, "Keep printing as the job writes, until it ends");
    AddConnOptions(cmd, conn);
    cmd->callback([id, err, follow, conn, exit_code]() { *exit_code = RunLogs(*id, *err, *follow, *conn); });
  }
  {
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("centers", "Centers and their load; `centers drain|resume NAME` (admin)");
    cmd->require_subcommand(0, 1);
    cmd->add_flag("--json", *as_json, "{\"centers\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    for (bool drain : {true, false}) {
      auto name = std::make_shared<std::string>();
      auto* sub = cmd->add_subcommand(drain ? "drain" : "resume", drain ? "Drain a center: it takes no new jobs (admin)"
                                                                        : "Resume a drained center (admin)");
      sub->add_option("name", *name, "Center name")->required();
      auto sconn = std::make_shared<Conn>();
      AddConnOptions(sub, sconn);
      sub->callback([name, drain, conn, sconn, exit_code]() {
        Conn c = *sconn;
        if (c.url.empty()) c.url = conn->url;
        if (c.token.empty()) c.token = conn->token;
        if (c.ca_cert.empty()) c.ca_cert = conn->ca_cert;
        c.insecure = c.insecure || conn->insecure;
        *exit_code = RunCenterAction(*name, drain, c);
      });
    }
    {
      auto name = std::make_shared<std::string>();
      auto region = std::make_shared<std::string>();
      auto* sub = cmd->add_subcommand("add",
                                      "Register an agent's center (admin): a center of backend `agent` in the server's "
                                      "configuration; prints its agent's credential once");
      sub->add_option("name", *name, "Center name")->required();
      sub->add_option("--region", *region, "Its region (must be the one the server's network gives it)");
      auto sconn = std::make_shared<Conn>();
      AddConnOptions(sub, sconn);
      sub->callback([name, region, as_json, conn, sconn, exit_code]() {
        Conn c = *sconn;
        if (c.url.empty()) c.url = conn->url;
        if (c.token.empty()) c.token = conn->token;
        if (c.ca_cert.empty()) c.ca_cert = conn->ca_cert;
        c.insecure = c.insecure || conn->insecure;
        *exit_code = RunCenterAdd(*name, *region, *as_json, c);
      });
    }
    cmd->callback([cmd, as_json, conn, exit_code]() {
      if (!cmd->get_subcommands().empty()) return;  // drain / resume / add ran
      *exit_code = RunCenters(*as_json, *conn);
    });
  }
  {
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("tenants", "Tenants (admin: all; a tenant: itself); `tenants create NAME` (admin)");
    cmd->require_subcommand(0, 1);
    cmd->add_flag("--json", *as_json, "{\"tenants\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    auto a = std::make_shared<TenantCreateArgs>();
    auto cconn = std::make_shared<Conn>();
    auto* create = cmd->add_subcommand("create", "Create a tenant and print its token (admin)");
    create->add_option("name", a->name, "Tenant name: [a-z][a-z0-9_-]{0,39}")->required();
    create->add_flag("--admin", a->admin, "An admin tenant");
    create->add_option("--max-gpus-per-job", a->max_gpus_per_job, "Accelerators one job may ask for (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--max-active-jobs", a->max_active_jobs, "Pending plus running jobs at once (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--max-priority", a->max_priority, "The highest priority its jobs may ask for (default 0)")
        ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
    create->add_option("--home", a->home,
                       "Its home center, where the isolated dispatch policy keeps its jobs (default: the server "
                       "assigns the center home to the fewest tenants)");
    create->add_flag("--json", a->json, "{\"tenant\": {...}, \"token\": \"...\"} as the API answers");
    AddConnOptions(create, cconn);
    create->callback([a, conn, cconn, exit_code]() {
      Conn c = *cconn;
      if (c.url.empty()) c.url = conn->url;
      if (c.token.empty()) c.token = conn->token;
      if (c.ca_cert.empty()) c.ca_cert = conn->ca_cert;
      c.insecure = c.insecure || conn->insecure;
      *exit_code = RunTenantCreate(*a, c);
    });
    cmd->callback([cmd, as_json, conn, exit_code]() {
      if (!cmd->get_subcommands().empty()) return;
      *exit_code = RunTenants(*as_json, *conn);
    });
  }
}

void RegisterLiveUsage(CLI::App& app, int* exit_code) {
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto conn = std::make_shared<Conn>();
  auto* cmd = app.add_subcommand(
      "usage",
      "Metering of the server's finished jobs by tenant, center and model (with a DIR instead: a simulator run's "
      "usage.csv, see `suanli usage DIR --help`)");
  cmd->add_option("--from", *from, "Jobs that ended at or after: Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]]");
  cmd->add_option("--to", *to, "Jobs that ended before: Unix ms or a UTC date");
  cmd->add_flag("--json", *as_json, "{\"usage\": [...]} as the API answers");
  AddConnOptions(cmd, conn);
  cmd->callback([from, to, as_json, conn, exit_code]() { *exit_code = RunLiveUsage(*from, *to, *as_json, *conn); });
}

}  // namespace suanli::app

namespace suanli::app {

bool IsLiveUsage(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != "usage") return false;
  // Options of either form that take a value (their value is not a DIR).
  static constexpr std::string_view kWithValue[] = {"--by", "--run", "--tenant", "--from",
                                                    "--to", "--url", "--token",  "--ca-cert"};
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") return i + 1 >= argc;
    if (a.size() > 2 && a.substr(0, 2) == "--") {
      if (a.find('=') == std::string_view::npos &&
          std::find(std::begin(kWithValue), std::end(kWithValue), a) != std::end(kWithValue)) {
        ++i;
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') continue;
    return false;  // a positional argument: the simulator run's directory
  }
  return true;
}

}  // namespace suanli::app
