// The client command for tenant quotas: `suanli quotas` shows them and what
// each tenant uses per center; `quotas set FILE` replaces them (admin);
// `quotas clear` removes them (admin). See docs/api.md, "Quotas".
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cmd_client_internal.h"
#include "commands.h"
#include "io/quota_loader.h"
#include "server/json_codec.h"

namespace suanli::app {

namespace client_detail {
namespace {

std::string Accel(double v) { return fmt::format("{:g}", v); }

// The answer of GET, PUT or DELETE /api/v1/quotas, as a table or JSON.
int PrintQuotas(const char* cmd, const ApiResponse& r, bool as_json) {
  json j;
  if (int c = ParseBody(cmd, r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_array() || !j.contains("quotas"))
    return Fail(cmd, kServerError, "unexpected answer: no \"quotas\" and \"usage\"");
  if (j["quotas"].is_null()) {
    std::printf("No quotas: every tenant may use any free accelerator.\n");
    return std::fflush(stdout) == 0 ? kOk : kServerError;
  }
  const json& q = j["quotas"];
  std::printf("cohort %s, reclaim %s\n", EscapeControls(q.value("cohort", std::string("-"))).c_str(),
              q.value("reclaim", true) ? "on (lenders preempt borrowers)" : "off");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"CENTER", "TENANT", "NOMINAL", "BORROWING-LIMIT", "USED", "BORROWED"});
  for (const json& u : j["usage"]) {
    if (!u.is_object()) return Fail(cmd, kServerError, "unexpected answer: a usage entry is not an object");
    const bool limited = u.value("limited", false);
    const json& lim = u.contains("borrowing_limit") ? u["borrowing_limit"] : json();
    rows.push_back({u.value("center", ""), u.value("tenant", ""), limited ? Accel(u.value("nominal", 0.0)) : "-",
                    !limited          ? "-"
                    : lim.is_number() ? Accel(lim.get<double>())
                                      : "unlimited",
                    Accel(u.value("used", 0.0)), Accel(u.value("borrowed", 0.0))});
  }
  PrintTable(rows);
  std::printf("(accelerators at each center; tenants appear once they are listed or have submitted)\n");
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

int RunQuotas(bool as_json, const Conn& conn) {
  const char* cmd = "quotas";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/quotas");
  if (int c = Check(cmd, r)) return c;
  return PrintQuotas(cmd, *r, as_json);
}

int RunQuotasSet(const std::string& file, bool as_json, const Conn& conn) {
  const char* cmd = "quotas set";
  // Checked here first, by the parser the server runs: errors name the line.
  auto spec = LoadQuotas(file);
  if (!spec.ok()) return Fail(cmd, kUsage, spec.status().message());
  live::QuotasView v;
  v.spec = *spec;
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Put("/api/v1/quotas", server::QuotasToJson(v)["quotas"].dump());
  if (int c = Check(cmd, r)) return c;
  return PrintQuotas(cmd, *r, as_json);
}

int RunQuotasClear(bool as_json, const Conn& conn) {
  const char* cmd = "quotas clear";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Delete("/api/v1/quotas");
  if (int c = Check(cmd, r)) return c;
  return PrintQuotas(cmd, *r, as_json);
}

}  // namespace
}  // namespace client_detail

void RegisterQuotas(CLI::App& app, int* exit_code) {
  using namespace client_detail;
  auto as_json = std::make_shared<bool>(false);
  auto conn = std::make_shared<Conn>();
  auto* cmd = app.add_subcommand(
      "quotas",
      "Tenant quotas and what each tenant uses per center (admin: all; a tenant: its own); `quotas set FILE` "
      "and `quotas clear` (admin)");
  cmd->require_subcommand(0, 1);
  cmd->add_flag("--json", *as_json, "{\"quotas\": ..., \"usage\": [...]} as the API answers");
  AddConnOptions(cmd, conn);
  auto merged = [conn](const std::shared_ptr<Conn>& own) { return MergedConn(*own, *conn); };
  auto file = std::make_shared<std::string>();
  auto sconn = std::make_shared<Conn>();
  auto* set = cmd->add_subcommand(
      "set",
      "Replace the quotas with those of FILE (the format of `suanli sim --quotas`), at once and for good (admin)");
  set->add_option("file", *file, "Quota YAML (or JSON)")->required();
  set->add_flag("--json", *as_json, "The API's answer as JSON");
  AddConnOptions(set, sconn);
  set->callback(
      [file, as_json, sconn, merged, exit_code]() { *exit_code = RunQuotasSet(*file, *as_json, merged(sconn)); });
  auto cconn = std::make_shared<Conn>();
  auto* clear = cmd->add_subcommand("clear", "Remove every quota, at once and for good (admin)");
  clear->add_flag("--json", *as_json, "The API's answer as JSON");
  AddConnOptions(clear, cconn);
  clear->callback([as_json, cconn, merged, exit_code]() { *exit_code = RunQuotasClear(*as_json, merged(cconn)); });
  cmd->callback([cmd, as_json, conn, exit_code]() {
    if (!cmd->get_subcommands().empty()) return;
    *exit_code = RunQuotas(*as_json, *conn);
  });
}

}  // namespace suanli::app
