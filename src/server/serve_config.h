// `suanli serve`'s configuration: command-line flags over environment
// variables over the config file over the defaults (docs/server.md).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "live/control.h"

namespace suanli::server {

// Values given on the command line (unset: not given).
struct ServeFlags {
  std::optional<std::string> config;  // --config FILE
  std::optional<std::string> listen, data_dir, network, policy, dispatch, tls_cert, tls_key;
  std::optional<int> pass_interval_ms, center_timeout_s, http_threads;
  std::optional<int64_t> max_body_bytes;
};

// Reads an environment variable (nullopt when unset); std::getenv by default.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup ProcessEnv();

// The configuration: defaults, then the config file (--config, else
// SUANLI_CONFIG), then SUANLI_LISTEN, SUANLI_DATA, SUANLI_NETWORK,
// SUANLI_POLICY, SUANLI_DISPATCH, SUANLI_ADMIN_TOKEN, then the flags; then
// ValidateServerConfig. Errors name the key and where its value came from.
Result<live::ServerConfig> ResolveServeConfig(const ServeFlags& flags, const EnvLookup& env);

}  // namespace suanli::server
