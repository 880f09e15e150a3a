// The local center's nodes: this host's name and the plan of its nodes from
// the GPUs detected (backend_local.h).
#include <unistd.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "base/strings.h"
#include "live/backend_local.h"

namespace suanli::live {

std::string ShortHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string h(buf);
  size_t dot = h.find('.');
  if (dot != std::string::npos && dot > 0) h.resize(dot);
  return h;
}

std::vector<LocalNodePlan> PlanLocalNodes(const std::string& host, const std::vector<DetectedGpu>& gpus, int slots,
                                          int cores, int64_t mem_mib, int nodes) {
  std::map<std::string, std::vector<int>> by_model;  // model -> nvidia-smi indices
  for (const DetectedGpu& g : gpus) {
    if (!g.model.empty()) by_model[g.model].push_back(g.index);
  }
  const int64_t k = std::max(1, nodes);
  auto name = [&](const std::string& base, int64_t i) { return k == 1 ? base : fmt::format("{}-{}", base, i); };
  std::vector<LocalNodePlan> out;
  if (by_model.empty()) {
    const int64_t milli = static_cast<int64_t>(slots > 0 ? slots : cores) * 1000;
    for (int64_t i = 0; i < k; ++i) {
      LocalNodePlan p;
      p.node.name = name(host, i);
      p.node.cpu_milli = milli * (i + 1) / k - milli * i / k;
      p.node.mem_mib = mem_mib * (i + 1) / k - mem_mib * i / k;
      out.push_back(std::move(p));
    }
    return out;
  }
  int64_t total = 0;
  for (auto& [m, idx] : by_model) total += static_cast<int64_t>(idx.size());
  for (auto& [m, idx] : by_model) {
    std::sort(idx.begin(), idx.end());
    const std::string base = by_model.size() == 1 ? host : host + "-" + ToLower(m);
    const auto n = static_cast<int64_t>(idx.size());
    const int64_t parts = std::min(k, n);  // no node without a device
    for (int64_t i = 0; i < parts; ++i) {
      LocalNodePlan p;
      p.node.name = name(base, i);
      p.node.model = m;
      p.physical.assign(idx.begin() + n * i / parts, idx.begin() + n * (i + 1) / parts);
      p.node.devices = static_cast<int>(p.physical.size());
      p.node.cpu_milli = static_cast<int64_t>(cores) * 1000 * p.node.devices / total;
      p.node.mem_mib = mem_mib * p.node.devices / total;
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace suanli::live
