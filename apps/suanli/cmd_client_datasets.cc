// The client command for datasets (docs/datasets.md): `suanli datasets`
// lists the caller's (the admin's: every tenant's); `datasets add NAME
// --center C [--size-gb N]` registers one; `datasets rm NAME` forgets one.
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

std::string Size(const json& d) {
  const double gb = d.value("size_gb", 0.0);
  return gb >= 1 ? fmt::format("{:.2f} GB", gb) : fmt::format("{:.1f} MB", gb * 1000);
}

std::string Copies(const json& d) {
  std::vector<std::string> at;
  if (d.contains("copies") && d["copies"].is_array())
    for (const json& c : d["copies"])
      if (c.is_object()) at.push_back(EscapeControls(c.value("center", std::string())));
  return at.empty() ? "-" : Join(at, ",");
}

int PrintDatasets(const char* cmd, const ApiResponse& r, bool as_json, bool one) {
  json j;
  if (int c = ParseBody(cmd, r, &j)) return c;
  if (as_json) return PrintJson(j);
  json list = one ? json::array({j}) : j.value("datasets", json::array());
  if (!list.is_array()) return Fail(cmd, kServerError, "unexpected answer: no \"datasets\" list");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TENANT", "NAME", "CENTER", "SIZE", "COPIES"});
  for (const json& d : list) {
    if (!d.is_object()) return Fail(cmd, kServerError, "unexpected answer: a dataset is not an object");
    rows.push_back({EscapeControls(d.value("tenant", std::string())), EscapeControls(d.value("name", std::string())),
                    EscapeControls(d.value("center", std::string())), Size(d), Copies(d)});
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace
}  // namespace client_detail

void RegisterDatasets(CLI::App& app, int* exit_code) {
  using namespace client_detail;
  auto as_json = std::make_shared<bool>(false);
  auto conn = std::make_shared<Conn>();
  auto* cmd = app.add_subcommand("datasets",
                                 "Your registered datasets (admin: every tenant's); `datasets add NAME --center C` "
                                 "and `datasets rm NAME`");
  cmd->require_subcommand(0, 1);
  cmd->add_flag("--json", *as_json, "{\"datasets\": [...]} as the API answers");
  AddConnOptions(cmd, conn);
  auto merged = [conn](const std::shared_ptr<Conn>& own) { return MergedConn(*own, *conn); };

  struct AddArgs {
    std::string name, center;
    double size_gb = -1;
  };
  auto a = std::make_shared<AddArgs>();
  auto aconn = std::make_shared<Conn>();
  auto* add = cmd->add_subcommand(
      "add",
      "Register NAME, a directory TENANT/NAME under the data root of center C (its size is measured there); at a "
      "center without a data root give --size-gb");
  add->add_option("name", a->name, "The dataset's name")->required();
  add->add_option("--center", a->center, "The center that holds it")->required();
  add->add_option("--size-gb", a->size_gb, "Its size in GB (centers without a data root)")->check(CLI::Range(0.0, 1e9));
  add->add_flag("--json", *as_json, "The API's answer as JSON");
  AddConnOptions(add, aconn);
  add->callback([a, as_json, aconn, merged, exit_code]() {
    const char* c = "datasets add";
    if (!live::ValidDatasetName(a->name)) {
      *exit_code = Fail(c, kUsage,
                        fmt::format("name: must match {}, got '{}'", live::kDatasetNameRule, EscapeControls(a->name)));
      return;
    }
    json body = {{"name", a->name}, {"center", a->center}};
    if (a->size_gb >= 0) body["size_gb"] = a->size_gb;
    Session s = Connect(c, merged(aconn));
    if (!s.client) {
      *exit_code = s.code;
      return;
    }
    auto r = s.client->Post("/api/v1/datasets", body.dump());
    if (int code = Check(c, r)) {
      *exit_code = code;
      return;
    }
    *exit_code = PrintDatasets(c, *r, *as_json, true);
  });

  auto name = std::make_shared<std::string>();
  auto rconn = std::make_shared<Conn>();
  auto* rm = cmd->add_subcommand("rm", "Forget NAME (its files stay); refused while jobs that use it are active");
  rm->add_option("name", *name, "The dataset's name")->required();
  AddConnOptions(rm, rconn);
  rm->callback([name, rconn, merged, exit_code]() {
    const char* c = "datasets rm";
    if (!live::ValidDatasetName(*name)) {
      *exit_code = Fail(c, kUsage, fmt::format("name: must match {}", live::kDatasetNameRule));
      return;
    }
    Session s = Connect(c, merged(rconn));
    if (!s.client) {
      *exit_code = s.code;
      return;
    }
    auto r = s.client->Delete("/api/v1/datasets/" + *name);
    if (int code = Check(c, r)) {
      *exit_code = code;
      return;
    }
    std::printf("dataset %s deleted\n", name->c_str());
    *exit_code = std::fflush(stdout) == 0 ? kOk : kServerError;
  });

  cmd->callback([cmd, as_json, conn, exit_code]() {
    if (!cmd->get_subcommands().empty()) return;
    const char* c = "datasets";
    Session s = Connect(c, *conn);
    if (!s.client) {
      *exit_code = s.code;
      return;
    }
    auto r = s.client->Get("/api/v1/datasets");
    if (int code = Check(c, r)) {
      *exit_code = code;
      return;
    }
    *exit_code = PrintDatasets(c, *r, *as_json, false);
  });
}

}  // namespace suanli::app
