#include "live/backend.h"

#include "io/model_loader.h"
#include "live/backend_local.h"
#include "live/backend_simulated.h"
#include "live/backend_slurm.h"

#include <csignal>

#include "base/strings.h"

namespace suanli::live {

int StopSignalNumber(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kNumbers[] = {
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"URG", SIGURG}};
  static_assert(std::size(kNumbers) == std::size(kStopSignals));
  for (const auto& [n, sig] : kNumbers)
    if (n == name) return sig;
  return 0;
}

Result<std::vector<LaunchRequest::Host>> LaunchRequest::Hosts() const {
  std::vector<Host> out;
  for (std::string_view n : Split(node, ',')) out.push_back({std::string(n), {}});
  if (out.size() > 1) {
    if (devices.size() % out.size() != 0)
      return InvalidArgument("job {}: {} devices do not split evenly over its {} nodes ({})", job_id, devices.size(),
                             out.size(), node);
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].name.empty()) return InvalidArgument("job {}: an empty name in its nodes '{}'", job_id, node);
      for (size_t j = 0; j < i; ++j)
        if (out[j].name == out[i].name) return InvalidArgument("job {}: node '{}' listed twice", job_id, out[i].name);
    }
  }
  const size_t per = devices.size() / out.size();
  for (size_t i = 0; i < out.size(); ++i)
    out[i].devices.assign(devices.begin() + static_cast<ptrdiff_t>(i * per),
                          devices.begin() + static_cast<ptrdiff_t>((i + 1) * per));
  return out;
}

Result<std::unique_ptr<Backend>> MakeBackend(const BackendConfig& config, const std::string& center,
                                             const std::string& data_dir, const BackendCapacity& capacity) {
  if (config.kind == "local") return MakeLocalBackend(config, center, data_dir, BuiltinCatalog());
  if (config.kind == "simulated") return MakeSimulatedBackend(center, capacity);
  if (config.kind == "slurm") return MakeSlurmBackend(config, center, BuiltinCatalog());
  return InvalidArgument("center {}: backend '{}' is not one of local, slurm, simulated", center, config.kind);
}

}  // namespace suanli::live
