// suanli policies: every policy name, by kind.
#include <cstdio>

#include "commands.h"
#include "core/policy/dispatch/dispatcher.h"
#include "core/policy/order/order.h"
#include "core/policy/place/placer.h"

namespace suanli::app {

void RegisterPolicies(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("policies", "List every scheduling policy by name");
  cmd->callback([exit_code]() {
    std::printf("Policies are written ORDER[+BACKFILL][+PLACEMENT], e.g. fifo, sjf+easy, las+fgd.\n\n");
    std::printf("Queue orders:\n");
    for (const auto& o : OrderPolicies()) std::printf("  %-16s %s\n", o.name.c_str(), o.summary.c_str());
    std::printf("\nBackfill (non-preemptive orders; without it a blocked head job stops the queue):\n");
    std::printf("  %-16s %s\n", "easy", "EASY backfill: reserve for the head job, start others that do not delay it");
    std::printf("  %-16s %s\n", "greedy", "skip jobs that do not fit (no reservation)");
    std::printf("\nPlacement:\n");
    for (const auto& p : Placers()) std::printf("  %-16s %s\n", p.name.c_str(), p.summary.c_str());
    std::printf(
        "\nDispatch across centers (--dispatch NAME[:KEY=VALUE]...; keys time, data, cost, carbon, defer,\n"
        "and for heterogeneity-aware round (s) and fair (0/1); see docs/dispatch.md):\n");
    for (const auto& [name, summary] : DispatchPolicies()) std::printf("  %-20s %s\n", name.c_str(), summary.c_str());
    *exit_code = 0;
  });
}

}  // namespace suanli::app
