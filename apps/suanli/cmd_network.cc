// suanli network: list built-in networks and accelerator models, describe a network.
#include <algorithm>
#include <cstdio>
#include <map>

#include "base/strings.h"
#include "commands.h"
#include "io/model_loader.h"
#include "io/sources.h"

namespace suanli::app {

void RegisterNetwork(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("network", "Built-in networks and network files");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "List the built-in networks (any network may be scaled down as NAME:1/N)");
  list->callback([exit_code]() {
    for (const auto& n : BuiltinNetworkNames()) std::printf("%s\n", n.c_str());
    *exit_code = 0;
  });

  auto* models = cmd->add_subcommand("models", "List the accelerator models a network may name");
  models->callback([exit_code]() {
    const Catalog& cat = BuiltinCatalog();
    std::printf("%-14s %-16s %9s %7s  %-10s %s\n", "model", "vendor", "TFLOPS16", "mem GB", "stacks", "aliases");
    for (const auto& m : cat.models()) {
      std::vector<std::string> stacks;
      for (size_t s = 0; s < cat.stacks().size(); ++s)
        if (m.stacks >> s & 1) stacks.push_back(cat.stacks()[s]);
      std::string tflops = m.tflops16 > 0 ? fmt::format("{:g}", m.tflops16) : "unknown";
      std::string mem = m.memory_gb > 0 ? fmt::format("{:g}", m.memory_gb) : "unknown";
      std::printf("%-14s %-16s %9s %7s  %-10s %s%s\n", m.name.c_str(), m.vendor.c_str(), tflops.c_str(), mem.c_str(),
                  Join(stacks, ",").c_str(), Join(m.aliases, ", ").c_str(),
                  m.inference_only ? "  (inference only)" : "");
    }
    *exit_code = 0;
  });

  auto spec = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Check a network (built-in name or YAML file) and summarise it");
  show->add_option("network", *spec, "Built-in name or YAML file, optionally scaled down: NAME:1/N")->required();
  show->callback([spec, exit_code]() {
    const Catalog& cat = BuiltinCatalog();
    auto net = LoadNetworkSpec(*spec, "", cat);
    if (!net.ok()) {
      std::fprintf(stderr, "suanli network: %s\n", net.status().message().c_str());
      *exit_code = 2;
      return;
    }
    std::printf("network %s: %zu centers, %zu pools, %zu nodes, %lld accelerators, %u racks, %u pods\n",
                net->name.c_str(), net->centers.size(), net->pools.size(), net->nodes.size(),
                static_cast<long long>(net->TotalDevices()), net->num_racks, net->num_pods);
    for (CenterId c : net->centers.ids()) {
      const Center& center = net->centers[c];
      std::map<std::string, std::pair<int64_t, int64_t>> by_model;  // nodes, devices
      for (const auto& n : net->nodes) {
        if (n.center != c) continue;
        auto& e = by_model[n.model == kNoModel ? "cpu-only" : cat.model(n.model).name];
        e.first += 1;
        e.second += n.devices;
      }
      std::printf("  %s (%s)%s PUE %.2f, price %.3f-%.3f /kWh, carbon %.0f-%.0f g/kWh\n", center.name.c_str(),
                  center.region.c_str(), center.edge ? " edge," : "", center.pue,
                  *std::min_element(center.price_per_kwh.begin(), center.price_per_kwh.end()),
                  *std::max_element(center.price_per_kwh.begin(), center.price_per_kwh.end()),
                  *std::min_element(center.carbon_g_per_kwh.begin(), center.carbon_g_per_kwh.end()),
                  *std::max_element(center.carbon_g_per_kwh.begin(), center.carbon_g_per_kwh.end()));
      for (const auto& [m, e] : by_model)
        std::printf("    %-14s %7lld nodes %8lld accelerators\n", m.c_str(), static_cast<long long>(e.first),
                    static_cast<long long>(e.second));
    }
    if (!net->links.empty()) {
      std::printf("  %zu links:", net->links.size());
      for (const auto& l : net->links)
        std::printf(" %s-%s", net->centers[l.a].name.c_str(), net->centers[l.b].name.c_str());
      std::printf("\n");
    }
    if (!net->regions.empty()) {
      std::printf("  %zu user regions:", net->regions.size());
      for (const auto& r : net->regions) std::printf(" %s (%.1f, %.1f)", r.name.c_str(), r.latitude, r.longitude);
      std::printf("\n");
    }
    for (const auto& o : net->outages)
      std::printf("  outage: %s from %s for %s\n", net->centers[o.center].name.c_str(), FormatDuration(o.start).c_str(),
                  FormatDuration(o.duration).c_str());
    *exit_code = 0;
  });
}

}  // namespace suanli::app
