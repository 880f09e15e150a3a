// suanli network: list built-in networks and describe one.
#include <cstdio>
#include <algorithm>
#include <map>

#include "commands.h"
#include "io/model_loader.h"

namespace suanli::app {

void RegisterNetwork(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("network", "Built-in networks and network files");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "List the built-in networks");
  list->callback([exit_code]() {
    for (const auto& n : BuiltinNetworkNames()) std::printf("%s\n", n.c_str());
    *exit_code = 0;
  });
  auto spec = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Check a network (built-in name or YAML file) and summarise it");
  show->add_option("network", *spec, "Built-in name or YAML file")->required();
  show->callback([spec, exit_code]() {
    const Catalog& cat = BuiltinCatalog();
    auto net = LoadNetwork(*spec, cat);
    if (!net.ok()) {
      std::fprintf(stderr, "suanli network: %s\n", net.status().message().c_str());
      *exit_code = 2;
      return;
    }
    std::printf("network %s: %zu centers, %zu pools, %zu nodes, %lld accelerators, %u racks, %u pods\n",
                net->name.c_str(), net->centers.size(), net->pools.size(), net->nodes.size(),
                static_cast<long long>(net->TotalDevices()), net->num_racks, net->num_pods);
    for (size_t c = 0; c < net->centers.size(); ++c) {
      const Center& center = net->centers[c];
      std::map<std::string, std::pair<int64_t, int64_t>> by_model;  // nodes, devices
      for (const auto& n : net->nodes) {
        if (n.center != c) continue;
        auto& e = by_model[n.model == kNoModel ? "cpu-only" : cat.model(n.model).name];
        e.first += 1;
        e.second += n.devices;
      }
      std::printf("  %s (%s) PUE %.2f, price %.3f-%.3f /kWh, carbon %.0f-%.0f g/kWh\n", center.name.c_str(),
                  center.region.c_str(), center.pue,
                  *std::min_element(center.price_per_kwh.begin(), center.price_per_kwh.end()),
                  *std::max_element(center.price_per_kwh.begin(), center.price_per_kwh.end()),
                  *std::min_element(center.carbon_g_per_kwh.begin(), center.carbon_g_per_kwh.end()),
                  *std::max_element(center.carbon_g_per_kwh.begin(), center.carbon_g_per_kwh.end()));
      for (const auto& [m, e] : by_model)
        std::printf("    %-14s %7lld nodes %8lld accelerators\n", m.c_str(), static_cast<long long>(e.first),
                    static_cast<long long>(e.second));
    }
    *exit_code = 0;
  });
}

}  // namespace suanli::app
