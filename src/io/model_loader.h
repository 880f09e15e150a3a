// Loads the accelerator catalog and network descriptions (YAML; see
// docs/formats-network.md, docs/catalog.md). Built-in files are compiled into the binary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/network.h"

namespace suanli {

// Parses catalog YAML; `name` is used in error messages ("file: models[3].speed.cnn: ...").
Result<Catalog> ParseCatalogYaml(std::string_view yaml, const std::string& name);
Result<Catalog> LoadCatalogFile(const std::string& path);
// The catalog compiled into the binary (data/accelerators.yaml).
const Catalog& BuiltinCatalog();

// Parses network YAML against a catalog (accelerator names must exist in it).
// With `divide_nodes_by` N > 1 every node group's count is divided by N
// (rounded to nearest, at least one node per group); all else is kept.
Result<Network> ParseNetworkYaml(std::string_view yaml, const std::string& name, const Catalog& catalog,
                                 int64_t divide_nodes_by = 1);

// A network spec split into the network it names and an optional scale:
// "china-aicc:1/100" -> {base "china-aicc", divisor 100, scaled true}.
struct ScaledNetworkSpec {
  std::string base;
  int64_t divisor = 1;
  bool scaled = false;
};
inline constexpr int64_t kMaxNetworkDivisor = 1'000'000;
// A spec that is itself a built-in name or an existing file is never split.
// A ":SCALE" suffix on a built-in or an existing file must be "1/N" with N a
// whole number from 1 to kMaxNetworkDivisor, else the error says how to write
// it. Anything else comes back unsplit (the loader then reports it missing).
Result<ScaledNetworkSpec> SplitNetworkSpec(const std::string& spec);
bool IsBuiltinNetwork(const std::string& name);

// `spec` is a built-in name ("uniform-100k", ...) or a path to a YAML file,
// optionally scaled down: "NAME:1/N" divides each node group's count by N and
// names the network "NAME:1/N".
Result<Network> LoadNetwork(const std::string& spec, const Catalog& catalog);
std::vector<std::string> BuiltinNetworkNames();

}  // namespace suanli
