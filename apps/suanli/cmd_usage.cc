// suanli usage: the metering of a run (usage.csv of `suanli sim --out DIR`)
// per tenant, center and/or model, as a table, CSV or JSON. See docs/usage.md.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "sim/usage.h"

namespace suanli::app {
namespace {

struct UsageArgs {
  std::string dir;
  std::string by = "tenant";
  std::string run;
  std::string tenant;
  bool json = false;
  bool csv = false;
};

int Fail(const Status& st) {
  std::fprintf(stderr, "suanli usage: %s\n", st.message().c_str());
  return st.code() == StatusCode::kIoError ? 1 : 2;  // 2: bad or missing input
}

int RunUsage(const UsageArgs& a) {
  auto by = ParseUsageBy(a.by);
  if (!by.ok()) return Fail(by.status());
  std::string error;
  std::string path = FindUsageCsv(a.dir, &error);
  if (path.empty()) return Fail(NotFound("{}", error));
  auto data = ReadUsageCsv(path);
  if (!data.ok()) return Fail(data.status());
  UsageQuery q;
  q.by = *by;
  q.run = a.run;
  q.tenant = a.tenant;
  auto tables = AggregateUsage(*data, q);
  if (!tables.ok()) return Fail(tables.status());
  std::string out;
  if (a.json) out = FormatUsageJson(*tables, *by);
  else if (a.csv) out = FormatUsageCsv(*tables);
  else {
    if (tables->empty()) std::fprintf(stderr, "suanli usage: note: %s has no rows\n", path.c_str());
    out = FormatUsageText(*tables);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

void RegisterUsage(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<UsageArgs>();
  auto* cmd = app.add_subcommand(
      "usage", "Metering of a run (from usage.csv): accelerator-hours, PFLOP-days, energy, cost, carbon");
  cmd->add_option("dir", args->dir, "Directory written by `suanli sim --out` (or a usage.csv file)")->required();
  cmd->add_option("--by", args->by,
                  "Group by tenant, center, model or a combination: tenant,center | center,model | "
                  "tenant,center,model (default: tenant)");
  cmd->add_option("--run", args->run, "Only this run (a label of the policy column; default: every run)");
  cmd->add_option("--tenant", args->tenant, "Only this tenant ('(idle)': idle accelerators' energy)");
  auto* json = cmd->add_flag("--json", args->json, "Machine-readable JSON");
  auto* csv = cmd->add_flag("--csv", args->csv, "CSV, one row per group");
  json->excludes(csv);
  cmd->callback([args, exit_code]() { *exit_code = RunUsage(*args); });
}

}  // namespace suanli::app
