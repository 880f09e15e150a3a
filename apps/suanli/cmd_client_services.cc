// The client commands for inference services (docs/services.md): `suanli
// services` lists the caller's services, `suanli service ID` one service's
// replicas that have not ended; `suanli scale ID N` scales it to N replicas
// (new ones submitted, the newest cancelled).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cmd_client_internal.h"
#include "commands.h"
#include "live/live_job.h"

namespace suanli::app {

namespace client_detail {
namespace {

int PrintService(const char* cmd, const ApiResponse& r, bool as_json) {
  json j;
  if (int c = ParseBody(cmd, r, &j)) return c;
  if (as_json) return PrintJson(j);
  const json list = j.value("replicas", json::array());
  if (!list.is_array()) return Fail(cmd, kServerError, "unexpected answer: no \"replicas\" list");
  std::printf("service %lld: %zu replica(s)\n", static_cast<long long>(j.value("service", int64_t{0})), list.size());
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"JOB", "STATE", "CENTER", "NODE", "REASON"});
  for (const json& x : list) {
    if (!x.is_object()) return Fail(cmd, kServerError, "unexpected answer: a replica is not an object");
    rows.push_back({std::to_string(x.value("id", int64_t{0})), EscapeControls(x.value("state", std::string())),
                    EscapeControls(x.value("center", std::string())), EscapeControls(x.value("node", std::string())),
                    EscapeControls(x.value("reason", std::string()))});
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

int PrintServices(const char* cmd, const ApiResponse& r, bool as_json) {
  json j;
  if (int c = ParseBody(cmd, r, &j)) return c;
  if (as_json) return PrintJson(j);
  const json list = j.value("services", json::array());
  if (!list.is_array()) return Fail(cmd, kServerError, "unexpected answer: no \"services\" list");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"SERVICE", "TENANT", "NAME", "REPLICAS", "RUNNING", "CENTERS"});
  for (const json& s : list) {
    const json replicas = s.is_object() ? s.value("replicas", json::array()) : json();
    if (!replicas.is_array() || replicas.empty() || !replicas[0].is_object())
      return Fail(cmd, kServerError, "unexpected answer: a service without replicas");
    int running = 0;
    std::vector<std::string> centers;
    for (const json& x : replicas) {
      if (!x.is_object()) continue;
      running += x.value("state", std::string()) == "running";
      std::string c = EscapeControls(x.value("center", std::string()));
      if (!c.empty() && std::find(centers.begin(), centers.end(), c) == centers.end()) centers.push_back(c);
    }
    const json& first = replicas[0];
    rows.push_back({std::to_string(s.value("service", int64_t{0})),
                    EscapeControls(first.value("tenant", std::string())),
                    EscapeControls(first.value("name", std::string())), std::to_string(replicas.size()),
                    std::to_string(running), centers.empty() ? "-" : Join(centers, ",")});
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace
}  // namespace client_detail

void RegisterServices(CLI::App& app, int* exit_code) {
  using namespace client_detail;
  {
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("services", "Your services with replicas that have not ended (admin: everyone's)");
    cmd->add_flag("--json", *as_json, "{\"services\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    cmd->callback([as_json, conn, exit_code]() {
      const char* c = "services";
      Session s = Connect(c, *conn);
      if (!s.client) {
        *exit_code = s.code;
        return;
      }
      auto r = s.client->Get("/api/v1/services");
      if (int code = Check(c, r)) {
        *exit_code = code;
        return;
      }
      *exit_code = PrintServices(c, *r, *as_json);
    });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("service", "Show a service's replicas that have not ended (ID: its first replica)");
    cmd->add_option("id", *id, "The service's id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "{\"service\": ID, \"replicas\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    cmd->callback([id, as_json, conn, exit_code]() {
      const char* c = "service";
      Session s = Connect(c, *conn);
      if (!s.client) {
        *exit_code = s.code;
        return;
      }
      auto r = s.client->Get(fmt::format("/api/v1/services/{}", *id));
      if (int code = Check(c, r)) {
        *exit_code = code;
        return;
      }
      *exit_code = PrintService(c, *r, *as_json);
    });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto n = std::make_shared<uint32_t>(0);
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand(
        "scale", "Scale a service to N replicas: new ones are submitted, or the newest are cancelled (0: all)");
    cmd->add_option("id", *id, "The service's id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("replicas", *n, "Replicas wanted")->required()->check(CLI::Range(0u, live::kMaxReplicas));
    cmd->add_flag("--json", *as_json, "{\"service\": ID, \"replicas\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    cmd->callback([id, n, as_json, conn, exit_code]() {
      const char* c = "scale";
      Session s = Connect(c, *conn);
      if (!s.client) {
        *exit_code = s.code;
        return;
      }
      auto r = s.client->Put(fmt::format("/api/v1/services/{}", *id), json{{"replicas", *n}}.dump());
      if (int code = Check(c, r)) {
        *exit_code = code;
        return;
      }
      *exit_code = PrintService(c, *r, *as_json);
    });
  }
}

}  // namespace suanli::app
