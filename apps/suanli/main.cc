// suanli: one binary, many subcommands (see `suanli --help`).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "live/local_supervisor.h"

int main(int argc, char** argv) {
  // The local backend starts this binary again as a job's supervisor.
  suanli::live::RunLocalSupervisorIfAsked(argc, argv);
  CLI::App app{"Suanli: one scheduler for a network of AI compute centers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "suanli 0.1.0");
  int exit_code = 0;
  suanli::app::RegisterSim(app, &exit_code);
  suanli::app::RegisterReplay(app, &exit_code);
  suanli::app::RegisterPack(app, &exit_code);
  suanli::app::RegisterGen(app, &exit_code);
  suanli::app::RegisterTrace(app, &exit_code);
  suanli::app::RegisterPolicies(app, &exit_code);
  suanli::app::RegisterNetwork(app, &exit_code);
  suanli::app::RegisterReport(app, &exit_code);
  suanli::app::RegisterSweep(app, &exit_code);
  // `usage DIR` reads a simulator run; `usage` without a directory asks the server.
  if (suanli::app::IsLiveUsage(argc, argv)) {
    suanli::app::RegisterLiveUsage(app, &exit_code);
  } else {
    suanli::app::RegisterUsage(app, &exit_code);
    app.get_subcommand("usage")->description(
        "Metering: of a simulator run (usage.csv in DIR) or, without DIR, of the server's finished jobs "
        "(suanli usage [--from T] [--to T] [--json])");
  }
  suanli::app::RegisterServe(app, &exit_code);
  suanli::app::RegisterAgent(app, &exit_code);
  suanli::app::RegisterClient(app, &exit_code);
  suanli::app::RegisterQuotas(app, &exit_code);
  suanli::app::RegisterDatasets(app, &exit_code);
  suanli::app::RegisterServices(app, &exit_code);
  suanli::app::RegisterApiSchema(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
