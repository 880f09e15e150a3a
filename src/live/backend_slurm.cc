#include "live/backend_slurm.h"

namespace suanli::live {

Result<std::unique_ptr<Backend>> MakeSlurmBackend(const BackendConfig& /*config*/, const std::string& center,
                                                  const Catalog& /*catalog*/) {
  return Unavailable("center {}: the slurm backend is not available in this build yet", center);
}

}  // namespace suanli::live
