// The slurm backend: a real Slurm cluster is a center (docs/backends.md).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "core/model/catalog.h"
#include "live/backend.h"

namespace suanli::live {

Result<std::unique_ptr<Backend>> MakeSlurmBackend(const BackendConfig& config, const std::string& center,
                                                  const Catalog& catalog);

}  // namespace suanli::live
