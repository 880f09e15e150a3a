// Internals of the client commands of a running `suanli serve` (not an API),
// shared by their source files:
//
//   cmd_client.cc         the commands' options and registration, and
//                         IsLiveUsage
//   cmd_client_common.cc  the connection (flags, environment, cli.yaml), error
//                         answers and exit codes, and the output formatting
//   cmd_client_jobs.cc    submit, queue, show, cancel, logs
//   cmd_client_admin.cc   centers (and drain, resume), usage, tenants (and
//                         create)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"
#include "server/api_client.h"

namespace suanli::app::client_detail {

using nlohmann::json;
using server::ApiClient;
using server::ApiResponse;

// The exit codes (cmd_client.cc).
inline constexpr int kOk = 0, kServerError = 1, kUsage = 2, kCannotConnect = 3;

// --- the connection and answers (cmd_client_common.cc) ---

struct Conn {
  std::string url, token, ca_cert;
  bool insecure = false;
};

void AddConnOptions(CLI::App* cmd, const std::shared_ptr<Conn>& c);
// A subcommand's own connection options (`suanli quotas set --url ...`),
// else its parent command's.
Conn MergedConn(const Conn& own, const Conn& parent);
Result<YAML::Node> ReadYaml(const std::string& path, const char* what);
int Fail(const char* cmd, int code, const std::string& msg);

// A connected client, or an exit code.
struct Session {
  std::unique_ptr<ApiClient> client;
  int code = kOk;
};

Session Connect(const char* cmd, const Conn& c);
int Check(const char* cmd, const Result<ApiResponse>& r);
int ParseBody(const char* cmd, const ApiResponse& r, json* out);
int PrintJson(const json& j);

// --- formatting (cmd_client_common.cc) ---

std::string FormatTime(WallMs t, bool with_date = true);
std::string FormatTimeLong(WallMs t);
std::string FormatSeconds(int64_t s);
std::string ShellJoin(const std::vector<std::string>& argv);
void PrintTable(std::vector<std::vector<std::string>> rows);
std::optional<int64_t> ParseDuration(const std::string& text);
// A deadline as the CLI takes it: an RFC 3339 time as it is, or a duration
// from `now` (12h, 2d) as the RFC 3339 time in UTC; nothing for other text.
std::optional<std::string> DeadlineText(const std::string& text, WallMs now);
// The wall clock, as Unix milliseconds.
WallMs NowMs();
std::optional<int64_t> ParseTimeArg(const std::string& text);

// --- the commands (cmd_client_jobs.cc, cmd_client_admin.cc) ---

struct SubmitArgs {
  std::optional<double> gpus;  // below 1: a share of one device
  std::optional<uint32_t> nodes;
  std::vector<std::string> models, stacks, env;
  std::optional<double> cpus;
  std::optional<int64_t> mem;
  std::string time_limit, name, center, workload_class, duration, workdir, file;
  std::string checkpoint, grace, stop_signal;
  std::string deadline;               // RFC 3339, or a duration from now (12h)
  std::string dataset;                // a registered dataset's name
  std::optional<uint32_t> replicas;   // a service of this many replicas
  std::string region;                 // a service's users' region
  std::optional<int64_t> latency_ms;  // the most ms from region to a replica's center
  std::optional<int32_t> priority;
  bool quiet = false, json = false;
  std::vector<std::string> command;
};

struct QueueArgs {
  std::string state, center, tenant;
  bool all = false, json = false;
  int limit = 0;
};

struct TenantCreateArgs {
  std::string name;
  bool admin = false, json = false;
  int64_t max_gpus_per_job = 0, max_active_jobs = 0, max_priority = 0;
  std::string home;  // "" = the server assigns one
};

int RunSubmit(const SubmitArgs& a, const Conn& conn);
int RunQueue(const QueueArgs& a, const Conn& conn);
int RunShow(int64_t id, bool as_json, const Conn& conn);
int RunCheckpoint(int64_t id, const Conn& conn);
int RunCancel(const std::vector<int64_t>& ids, const Conn& conn);
int RunLogs(int64_t id, bool err_stream, bool follow, const Conn& conn);
int RunCenters(bool as_json, const Conn& conn);
int RunCenterAction(const std::string& name, bool drain, const Conn& conn);
int RunCenterAdd(const std::string& name, const std::string& region, bool as_json, const Conn& conn);
int RunLiveUsage(const std::string& from, const std::string& to, bool as_json, const Conn& conn);
int RunTenants(bool as_json, const Conn& conn);
int RunTenantCreate(const TenantCreateArgs& a, const Conn& conn);

}  // namespace suanli::app::client_detail
