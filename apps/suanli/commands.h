// Each subcommand of `suanli` lives in its own cmd_*.cc and registers itself
// on the CLI11 app. A command's callback returns the process exit code through
// `*exit_code` (0 ok, 1 runtime error, 2 bad usage or input).
#pragma once

#include <CLI/CLI.hpp>

namespace suanli::app {

void RegisterSim(CLI::App& app, int* exit_code);
void RegisterPack(CLI::App& app, int* exit_code);
void RegisterGen(CLI::App& app, int* exit_code);
void RegisterTrace(CLI::App& app, int* exit_code);
void RegisterPolicies(CLI::App& app, int* exit_code);
void RegisterNetwork(CLI::App& app, int* exit_code);
void RegisterReport(CLI::App& app, int* exit_code);
void RegisterSweep(CLI::App& app, int* exit_code);
void RegisterUsage(CLI::App& app, int* exit_code);

}  // namespace suanli::app
