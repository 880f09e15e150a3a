// `suanli serve`'s configuration: command-line flags over environment
// variables over the config file over the defaults (docs/server.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "live/control.h"

namespace suanli::server {

// Values given on the command line (unset: not given).
struct ServeFlags {
  std::optional<std::string> config;  // --config FILE
  std::optional<std::string> listen, data_dir, network, policy, dispatch, tls_cert, tls_key;
  std::optional<int> pass_interval_ms, center_timeout_s, http_threads;
  std::optional<int64_t> max_body_bytes;
  std::optional<std::string> admin_token_file;  // --admin-token-file FILE
  bool accept_data_loss = false;                // --accept-data-loss
};

// Reads an environment variable (nullopt when unset); std::getenv by default.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup ProcessEnv();

// The configuration: defaults, then the config file (--config, else
// SUANLI_CONFIG), then SUANLI_LISTEN, SUANLI_DATA, SUANLI_NETWORK,
// SUANLI_POLICY, SUANLI_DISPATCH, SUANLI_ADMIN_TOKEN (or
// SUANLI_ADMIN_TOKEN_FILE), then the flags; then ValidateServerConfig. The
// admin token comes from the highest of these that gives one (admin_token or
// admin_token_file, SUANLI_ADMIN_TOKEN or SUANLI_ADMIN_TOKEN_FILE,
// --admin-token-file); a token file is read here (ReadAdminTokenFile).
// Errors name the key and where its value came from.
Result<live::ServerConfig> ResolveServeConfig(const ServeFlags& flags, const EnvLookup& env);

// The admin token from a file: one line (a trailing newline is dropped).
// The file must be a regular file that neither group nor others may read or
// write (mode 0600 or 0400): anything else is refused, naming the file and
// its mode.
Result<std::string> ReadAdminTokenFile(const std::string& path);
// The same for any secret (an agent's credential): errors start with
// `field` and call the file `noun`.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& field, const std::string& noun);

// Removes `name` from this process's environment (so that no child process
// inherits it) and overwrites its bytes where they were (so that
// /proc/PID/environ no longer shows them). Call before any thread starts.
void RemoveFromEnvironment(const char* name);

// Makes the data directory owner-only: creates it (mode 0700) when missing;
// otherwise it must belong to this process's user, and it and the entries at
// its top (the database files, the marks file, jobs/) lose every group and
// other permission bit. Then checks that the directory is 0700 or stricter.
// Returns one line per permission changed (for the log).
Result<std::vector<std::string>> SecureDataDir(const std::string& dir);

}  // namespace suanli::server
