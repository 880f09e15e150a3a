#include "live/backend.h"

#include "io/model_loader.h"
#include "live/backend_local.h"
#include "live/backend_simulated.h"
#include "live/backend_slurm.h"

#include <csignal>

namespace suanli::live {

int StopSignalNumber(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kNumbers[] = {
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"URG", SIGURG}};
  static_assert(std::size(kNumbers) == std::size(kStopSignals));
  for (const auto& [n, sig] : kNumbers)
    if (n == name) return sig;
  return 0;
}

Result<std::unique_ptr<Backend>> MakeBackend(const BackendConfig& config, const std::string& center,
                                             const std::string& data_dir, const BackendCapacity& capacity) {
  if (config.kind == "local") return MakeLocalBackend(config, center, data_dir, BuiltinCatalog());
  if (config.kind == "simulated") return MakeSimulatedBackend(center, capacity);
  if (config.kind == "slurm") return MakeSlurmBackend(config, center, BuiltinCatalog());
  return InvalidArgument("center {}: backend '{}' is not one of local, slurm, simulated", center, config.kind);
}

}  // namespace suanli::live
