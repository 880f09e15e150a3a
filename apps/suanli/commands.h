// Each subcommand of `suanli` lives in its own cmd_*.cc and registers itself
// on the CLI11 app. A command's callback returns the process exit code through
// `*exit_code` (0 ok, 1 runtime error, 2 bad usage or input).
#pragma once

#include <CLI/CLI.hpp>

namespace suanli::app {

void RegisterSim(CLI::App& app, int* exit_code);
void RegisterReplay(CLI::App& app, int* exit_code);
void RegisterPack(CLI::App& app, int* exit_code);
void RegisterGen(CLI::App& app, int* exit_code);
void RegisterTrace(CLI::App& app, int* exit_code);
void RegisterPolicies(CLI::App& app, int* exit_code);
void RegisterNetwork(CLI::App& app, int* exit_code);
void RegisterReport(CLI::App& app, int* exit_code);
void RegisterSweep(CLI::App& app, int* exit_code);
void RegisterUsage(CLI::App& app, int* exit_code);
// The control plane: `serve` (cmd_serve.cc) and the client commands of a
// running server (cmd_client*.cc: submit, queue, show, cancel, logs, centers,
// tenants). Client commands exit 0 ok, 1 server error, 2 usage error,
// 3 cannot connect.
void RegisterServe(CLI::App& app, int* exit_code);
// `suanli agent` (cmd_agent.cc): a center's end of the link to a hub.
void RegisterAgent(CLI::App& app, int* exit_code);
void RegisterClient(CLI::App& app, int* exit_code);
void RegisterQuotas(CLI::App& app, int* exit_code);    // cmd_client_quotas.cc
void RegisterDatasets(CLI::App& app, int* exit_code);  // cmd_client_datasets.cc
void RegisterServices(CLI::App& app, int* exit_code);  // cmd_client_services.cc
// `suanli api-schema [--write FILE]` (hidden): the OpenAPI document's record
// schemas from the records' tables (scripts/gen-openapi.sh).
void RegisterApiSchema(CLI::App& app, int* exit_code);
// `suanli usage` without a directory: the server's metering. main.cc registers
// it instead of RegisterUsage when the command line names no directory.
void RegisterLiveUsage(CLI::App& app, int* exit_code);
// True if argv is `suanli usage ...` with no positional argument (no DIR).
bool IsLiveUsage(int argc, char** argv);

}  // namespace suanli::app
