// The client commands for centers, metering and tenants: centers (and
// drain, resume), usage without a directory, tenants (and create)
// (cmd_client_internal.h).
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cmd_client_internal.h"
#include "live/live_job.h"
#include "server/api_client.h"
#include "server/json_codec.h"

namespace suanli::app::client_detail {

// ---------------------------------------------------------------- centers

int RunCenters(bool as_json, const Conn& conn) {
  const char* cmd = "centers";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/centers");
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("centers") || !j["centers"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"centers\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"NAME", "BACKEND", "REGION", "STATUS", "DEVICES", "BUSY", "PENDING", "RUNNING", "PRICE", "CARBON", "MODELS"});
  for (const auto& cj : j["centers"]) {
    auto c = server::CenterFromJson(cj);
    if (!c.ok()) return Fail(cmd, kServerError, "unexpected answer: " + c.status().message());
    std::string status = !c->up ? "down" : c->drained ? "drained" : "up";
    std::vector<std::string> models;
    for (const auto& m : c->models) models.push_back(fmt::format("{} {:g}/{}", m.model, m.busy, m.total));
    rows.push_back({c->name, c->backend, c->region.empty() ? "-" : c->region, status, std::to_string(c->devices),
                    fmt::format("{:g}", c->busy_devices), std::to_string(c->pending), std::to_string(c->running),
                    fmt::format("{:.2f}", c->price_now), fmt::format("{:.0f}", c->carbon_now),
                    models.empty() ? "-" : Join(models, ", ")});
  }
  PrintTable(rows);
  for (const auto& cj : j["centers"]) {
    auto c = server::CenterFromJson(cj);
    if (!c.ok()) continue;  // checked above
    if (!c->reason.empty()) std::printf("%s: %s\n", EscapeControls(c->name).c_str(), EscapeControls(c->reason).c_str());
    if (c->agent)
      std::printf("%s: agent %s, last seen %s, epoch %lld\n", EscapeControls(c->name).c_str(),
                  c->agent->connected ? "connected" : "not connected",
                  c->agent->last_seen_ms.ms() > 0 ? FormatRfc3339(c->agent->last_seen_ms).c_str() : "never",
                  static_cast<long long>(c->agent->epoch));
    for (const auto& n : c->nodes_down)
      std::printf("%s: node %s down (%s): receives no jobs\n", EscapeControls(c->name).c_str(),
                  EscapeControls(n.node).c_str(), EscapeControls(n.reason).c_str());
  }
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

int RunCenterAction(const std::string& name, bool drain, const Conn& conn) {
  const char* cmd = drain ? "centers drain" : "centers resume";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r =
      s.client->Post(fmt::format("/api/v1/centers/{}/{}", server::UrlEncode(name), drain ? "drain" : "resume"), "");
  if (int c = Check(cmd, r)) return c;
  std::printf(drain ? "Drained center %s: it takes no new jobs (running ones go on)\n"
                    : "Resumed center %s: it takes jobs again\n",
              EscapeControls(name).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

int RunCenterAdd(const std::string& name, const std::string& region, bool as_json, const Conn& conn) {
  const char* cmd = "centers add";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  json body = {{"name", name}};
  if (!region.empty()) body["region"] = region;
  auto r = s.client->Post("/api/v1/centers", body.dump());
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("credential") || !j["credential"].is_string())
    return Fail(cmd, kServerError, "unexpected answer: no \"credential\"");
  std::printf(
      "Center %s: its agent's credential (shown once; any earlier one no longer works):\n%s\n"
      "Keep it in a file only the agent can read, and run there:\n"
      "  suanli agent --hub URL --center %s --credential-file FILE --data DIR --backend local|slurm|simulated\n",
      EscapeControls(name).c_str(), j["credential"].get<std::string>().c_str(), EscapeControls(name).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- usage

int RunLiveUsage(const std::string& from, const std::string& to, bool as_json, const Conn& conn) {
  const char* cmd = "usage";
  server::QueryList q;
  if (!from.empty()) {
    auto t = ParseTimeArg(from);
    if (!t)
      return Fail(cmd, kUsage, "--from: expected Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]], got '" + from + "'");
    q.emplace_back("from", std::to_string(*t));
  }
  if (!to.empty()) {
    auto t = ParseTimeArg(to);
    if (!t) return Fail(cmd, kUsage, "--to: expected Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]], got '" + to + "'");
    q.emplace_back("to", std::to_string(*t));
  }
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/usage", q);
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"usage\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TENANT", "CENTER", "MODEL", "JOBS", "ACC-HOURS", "ENERGY-KWH", "COST", "CARBON-KG"});
  live::UsageSum total;
  for (const auto& uj : j["usage"]) {
    auto u = server::UsageFromJson(uj);
    if (!u.ok()) return Fail(cmd, kServerError, "unexpected answer: " + u.status().message());
    rows.push_back({u->tenant, u->center, u->model.empty() ? "-" : u->model, std::to_string(u->jobs),
                    fmt::format("{:.2f}", u->gpu_seconds / 3600), fmt::format("{:.3f}", u->energy_kwh),
                    fmt::format("{:.2f}", u->cost), fmt::format("{:.3f}", u->carbon_kg)});
    total.jobs += u->jobs;
    total.gpu_seconds += u->gpu_seconds;
    total.energy_kwh += u->energy_kwh;
    total.cost += u->cost;
    total.carbon_kg += u->carbon_kg;
  }
  rows.push_back({"total", "", "", std::to_string(total.jobs), fmt::format("{:.2f}", total.gpu_seconds / 3600),
                  fmt::format("{:.3f}", total.energy_kwh), fmt::format("{:.2f}", total.cost),
                  fmt::format("{:.3f}", total.carbon_kg)});
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- tenants

int RunTenants(bool as_json, const Conn& conn) {
  const char* cmd = "tenants";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/tenants");
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("tenants") || !j["tenants"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"tenants\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "ROLE", "HOME", "MAX-GPUS/JOB", "MAX-ACTIVE", "MAX-PRIORITY", "CREATED"});
  for (const auto& tj : j["tenants"]) {
    auto t = server::TenantFromJson(tj);
    if (!t.ok()) return Fail(cmd, kServerError, "unexpected answer: " + t.status().message());
    rows.push_back({t->name, t->admin ? "admin" : "tenant", t->home.empty() ? "-" : t->home,
                    t->max_gpus_per_job > 0 ? std::to_string(t->max_gpus_per_job) : "-",
                    t->max_active_jobs > 0 ? std::to_string(t->max_active_jobs) : "-",
                    t->admin ? "-" : std::to_string(t->max_priority), FormatTimeLong(t->created_ms)});
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}
int RunTenantCreate(const TenantCreateArgs& a, const Conn& conn) {
  const char* cmd = "tenants create";
  json body = {{"name", a.name},
               {"admin", a.admin},
               {"max_gpus_per_job", a.max_gpus_per_job},
               {"max_active_jobs", a.max_active_jobs},
               {"max_priority", a.max_priority}};
  if (!a.home.empty()) body["home"] = a.home;
  server::TenantRequest tr;
  server::ApiError perr;
  if (!server::ParseTenantRequest(server::Dump(body), &tr, &perr)) return Fail(cmd, kUsage, perr.message);
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Post("/api/v1/tenants", server::Dump(body));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (a.json) return PrintJson(j);
  std::string token = j.value("token", std::string());
  std::string home;
  if (j.contains("tenant") && j["tenant"].is_object()) home = j["tenant"].value("home", std::string());
  std::printf("Created tenant %s%s%s\nIts token (shown only now; give it with --token or SUANLI_TOKEN):\n%s\n",
              EscapeControls(a.name).c_str(), a.admin ? " (admin)" : "",
              home.empty() ? "" : (", home center " + EscapeControls(home)).c_str(), EscapeControls(token).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace suanli::app::client_detail
