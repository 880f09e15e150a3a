#include "server/serve_config.h"

#include <cstdlib>
#include <map>

#include "server/json_codec.h"

namespace suanli::server {

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<live::ServerConfig> ResolveServeConfig(const ServeFlags& flags, const EnvLookup& env) {
  live::ServerConfig c;
  std::map<std::string, std::string> source;  // key -> where its value came from

  std::optional<std::string> file = flags.config;
  std::string file_source = "--config";
  if (!file) {
    file = env("SUANLI_CONFIG");
    file_source = "SUANLI_CONFIG";
  }
  if (file) {
    if (file->empty()) return InvalidArgument("config: {} is empty", file_source);
    auto loaded = live::LoadServerConfig(*file);
    if (!loaded.ok()) return loaded.status();
    c = std::move(loaded).value();
    for (const char* k : {"listen", "data", "network", "policy", "dispatch", "centers", "pass_interval_ms",
                          "center_timeout_s", "max_body_bytes", "http_threads", "tls_cert", "tls_key", "admin_token",
                          "header_timeout_s", "max_header_bytes", "max_headers", "max_connections",
                          "max_connections_per_client"}) {
      source[k] = "config file " + *file;
    }
  }

  struct EnvKey {
    const char* var;
    const char* key;
    std::string* field;
  };
  const EnvKey env_keys[] = {
      {"SUANLI_LISTEN", "listen", &c.listen},       {"SUANLI_DATA", "data", &c.data_dir},
      {"SUANLI_NETWORK", "network", &c.network},    {"SUANLI_POLICY", "policy", &c.policy},
      {"SUANLI_DISPATCH", "dispatch", &c.dispatch}, {"SUANLI_ADMIN_TOKEN", "admin_token", &c.admin_token},
  };
  for (const auto& e : env_keys) {
    if (auto v = env(e.var)) {
      *e.field = *v;
      source[e.key] = e.var;
    }
  }

  auto set_str = [&](const std::optional<std::string>& v, const char* key, const char* flag, std::string* field) {
    if (!v) return;
    *field = *v;
    source[key] = flag;
  };
  set_str(flags.listen, "listen", "--listen", &c.listen);
  set_str(flags.data_dir, "data", "--data", &c.data_dir);
  set_str(flags.network, "network", "--network", &c.network);
  set_str(flags.policy, "policy", "--policy", &c.policy);
  set_str(flags.dispatch, "dispatch", "--dispatch", &c.dispatch);
  set_str(flags.tls_cert, "tls_cert", "--tls-cert", &c.tls_cert);
  set_str(flags.tls_key, "tls_key", "--tls-key", &c.tls_key);
  if (flags.pass_interval_ms) {
    c.pass_interval_ms = *flags.pass_interval_ms;
    source["pass_interval_ms"] = "--pass-interval-ms";
  }
  if (flags.center_timeout_s) {
    c.center_timeout_s = *flags.center_timeout_s;
    source["center_timeout_s"] = "--center-timeout-s";
  }
  if (flags.http_threads) {
    c.http_threads = *flags.http_threads;
    source["http_threads"] = "--http-threads";
  }
  if (flags.max_body_bytes) {
    c.max_body_bytes = *flags.max_body_bytes;
    source["max_body_bytes"] = "--max-body-bytes";
  }

  Status st = live::ValidateServerConfig(c);
  if (!st.ok()) {
    std::string key = FieldOfMessage(st.message());
    auto it = source.find(key);
    if (it != source.end()) return Status(st.code(), st.message() + " (from " + it->second + ")");
    return st;
  }
  return c;
}

}  // namespace suanli::server
