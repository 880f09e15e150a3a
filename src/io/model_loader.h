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
Result<Network> ParseNetworkYaml(std::string_view yaml, const std::string& name, const Catalog& catalog);
// `spec` is a built-in name ("uniform-100k", ...) or a path to a YAML file.
Result<Network> LoadNetwork(const std::string& spec, const Catalog& catalog);
std::vector<std::string> BuiltinNetworkNames();

}  // namespace suanli
