// The server's configuration file (YAML): reading and checking.
//
// Every key of ServerConfig may appear at most once; unknown keys, values of
// the wrong type and values out of range are errors that name the file, the
// line and the key. Relative paths (data, tls_cert, tls_key, slurm_conf, and
// a network given as a file) are taken relative to the config file's folder.
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "core/policy/dispatch/dispatcher.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"
#include "io/quota_loader.h"
#include "io/yaml_fields.h"
#include "live/control.h"

namespace suanli::live {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBackendKinds[] = {"local", "slurm", "simulated", "agent"};

bool KnownBackend(std::string_view kind) {
  for (auto k : kBackendKinds)
    if (k == kind) return true;
  return false;
}

// A relative path, taken relative to the config file's folder.
std::string Resolve(const fs::path& base, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute() || base.empty()) return p;
  return (base / path).lexically_normal().string();
}

bool ValidCenterName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s[0])) return false;
  for (char c : s)
    if (!alnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

Result<std::string> OptionalString(const yaml::Map& m, std::string_view key, std::string fallback) {
  yaml::Value v = m.Get(key);
  if (v.IsNull()) return fallback;
  if (!v.IsScalar()) return v.Error(fmt::format("expected a string, got {}", v.Shown()));
  return std::string(Trim(v.node().Scalar()));
}

Result<int64_t> OptionalInt(const yaml::Map& m, std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  yaml::Value v = m.Get(key);
  if (v.IsNull()) return fallback;
  return v.Integer(min, max);
}

Result<bool> OptionalBool(const yaml::Map& m, std::string_view key, bool fallback) {
  yaml::Value v = m.Get(key);
  if (v.IsNull()) return fallback;
  return v.Bool();
}

Result<CenterConfig> ParseCenter(const yaml::Value& item, const fs::path& base) {
  SUANLI_ASSIGN_OR_RETURN(
      yaml::Map m, yaml::Map::Open(item, {"name", "backend", "slots", "detect_gpus", "grace_s", "sandbox", "cgroups",
                                          "cgroup_parent", "job_uid_base", "job_uids", "slurm_conf", "partition",
                                          "command_timeout_s", "nodelist", "data_root", "nodes", "node_name"}));
  CenterConfig c;
  SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("name"));
  SUANLI_ASSIGN_OR_RETURN(c.name, nv.String());
  if (!ValidCenterName(c.name))
    return nv.Error("expected letters, digits, '_', '-' or '.' (starting with a letter or digit, at most 64)");
  SUANLI_ASSIGN_OR_RETURN(yaml::Value bv, m.Require("backend"));
  SUANLI_ASSIGN_OR_RETURN(c.backend.kind, bv.String());
  if (!KnownBackend(c.backend.kind))
    return bv.Error(fmt::format("unknown backend '{}' (known: local, slurm, simulated, agent)", c.backend.kind));
  const bool local = c.backend.kind == "local", slurm = c.backend.kind == "slurm";
  // Keys that belong to another backend are errors too: a typo'd setup never passes silently.
  auto only = [&](std::string_view key, bool allowed, std::string_view kind) -> Status {
    if (m.Has(key) && !allowed)
      return m.Get(key).Error(fmt::format("only for backend {} (this center's backend is {})", kind, c.backend.kind));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(only("slots", local, "local"));
  SUANLI_RETURN_IF_ERROR(only("detect_gpus", local, "local"));
  SUANLI_RETURN_IF_ERROR(only("grace_s", local, "local"));
  for (const char* k : {"sandbox", "cgroups", "cgroup_parent", "job_uid_base", "job_uids", "nodes", "node_name"}) {
    SUANLI_RETURN_IF_ERROR(only(k, local, "local"));
  }
  SUANLI_RETURN_IF_ERROR(only("slurm_conf", slurm, "slurm"));
  SUANLI_RETURN_IF_ERROR(only("partition", slurm, "slurm"));
  SUANLI_RETURN_IF_ERROR(only("command_timeout_s", slurm, "slurm"));
  SUANLI_RETURN_IF_ERROR(only("nodelist", slurm, "slurm"));
  SUANLI_ASSIGN_OR_RETURN(int64_t slots, OptionalInt(m, "slots", 0, 0, 4096));
  c.backend.slots = static_cast<int>(slots);
  SUANLI_ASSIGN_OR_RETURN(c.backend.detect_gpus, OptionalBool(m, "detect_gpus", true));
  SUANLI_ASSIGN_OR_RETURN(int64_t nodes, OptionalInt(m, "nodes", 1, 1, 64));
  c.backend.nodes = static_cast<int>(nodes);
  SUANLI_ASSIGN_OR_RETURN(c.backend.node_name, OptionalString(m, "node_name", ""));
  if (!c.backend.node_name.empty() && !ValidCenterName(c.backend.node_name))
    return m.Get("node_name")
        .Error("expected letters, digits, '_', '-' or '.' (starting with a letter or digit, at most 64)");
  SUANLI_ASSIGN_OR_RETURN(int64_t grace, OptionalInt(m, "grace_s", 10, 0, 3600));
  c.backend.grace_s = static_cast<int>(grace);
  SUANLI_ASSIGN_OR_RETURN(c.backend.sandbox, OptionalString(m, "sandbox", "auto"));
  if (c.backend.sandbox != "auto" && c.backend.sandbox != "bwrap" && c.backend.sandbox != "off")
    return m.Get("sandbox").Error("expected auto, bwrap or off");
  SUANLI_ASSIGN_OR_RETURN(c.backend.cgroups, OptionalString(m, "cgroups", "auto"));
  if (c.backend.cgroups != "auto" && c.backend.cgroups != "off") return m.Get("cgroups").Error("expected auto or off");
  SUANLI_ASSIGN_OR_RETURN(c.backend.cgroup_parent, OptionalString(m, "cgroup_parent", "suanli"));
  if (c.backend.cgroup_parent.empty() || c.backend.cgroup_parent.find("..") != std::string::npos ||
      c.backend.cgroup_parent.find('\n') != std::string::npos)
    return m.Get("cgroup_parent").Error("expected a cgroup name (no '..')");
  SUANLI_ASSIGN_OR_RETURN(c.backend.job_uid_base, OptionalInt(m, "job_uid_base", 60000, 0, 2'000'000'000));
  SUANLI_ASSIGN_OR_RETURN(c.backend.job_uids, OptionalInt(m, "job_uids", 1000, 1, 1'000'000));
  SUANLI_ASSIGN_OR_RETURN(std::string conf, OptionalString(m, "slurm_conf", ""));
  c.backend.slurm_conf = Resolve(base, conf);
  SUANLI_ASSIGN_OR_RETURN(c.backend.partition, OptionalString(m, "partition", ""));
  SUANLI_ASSIGN_OR_RETURN(int64_t ct, OptionalInt(m, "command_timeout_s", 15, 1, 3600));
  c.backend.command_timeout_s = static_cast<int>(ct);
  SUANLI_ASSIGN_OR_RETURN(c.backend.nodelist, OptionalBool(m, "nodelist", false));
  SUANLI_ASSIGN_OR_RETURN(std::string data_root, OptionalString(m, "data_root", ""));
  c.data_root = Resolve(base, data_root);
  return c;
}

// "HOST:PORT" with PORT 0..65535; HOST a name, an IPv4 address or [IPv6].
Status CheckListen(const std::string& listen) {
  auto bad = [&](std::string_view why) {
    return InvalidField("listen", "'{}' {} (expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)", listen, why);
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return bad("has no port");
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.empty()) return bad("has no host");
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("has an unclosed IPv6 bracket");
  } else {
    for (char c : host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      if (!ok) return bad("has a host that is not a name or an address");
    }
  }
  auto p = ParseInt(port);
  if (port.empty() || !p || *p < 0 || *p > 65535) return bad("has a port that is not 0..65535");
  return Status::Ok();
}

// The limits on HTTP clients (docs/server.md, "Limits").
constexpr int64_t kMaxHeaderTimeoutS = 3600, kMaxHeaderBytes = 1 << 20, kMaxHeaders = 10000, kMaxConnections = 1 << 20;

Status HttpLimitKeys(const yaml::Map& m, ServerConfig* c) {
  SUANLI_ASSIGN_OR_RETURN(int64_t ht, OptionalInt(m, "header_timeout_s", c->header_timeout_s, 1, kMaxHeaderTimeoutS));
  c->header_timeout_s = static_cast<int>(ht);
  SUANLI_ASSIGN_OR_RETURN(c->max_header_bytes,
                          OptionalInt(m, "max_header_bytes", c->max_header_bytes, 1024, kMaxHeaderBytes));
  SUANLI_ASSIGN_OR_RETURN(int64_t mh, OptionalInt(m, "max_headers", c->max_headers, 8, kMaxHeaders));
  c->max_headers = static_cast<int>(mh);
  SUANLI_ASSIGN_OR_RETURN(int64_t mc, OptionalInt(m, "max_connections", c->max_connections, 1, kMaxConnections));
  c->max_connections = static_cast<int>(mc);
  SUANLI_ASSIGN_OR_RETURN(
      int64_t mpc, OptionalInt(m, "max_connections_per_client", c->max_connections_per_client, 1, kMaxConnections));
  c->max_connections_per_client = static_cast<int>(mpc);
  return Status::Ok();
}

Status ValidateHttpLimits(const ServerConfig& c) {
  if (c.header_timeout_s < 1 || c.header_timeout_s > kMaxHeaderTimeoutS)
    return InvalidField("header_timeout_s", "must be 1..{}", kMaxHeaderTimeoutS);
  if (c.max_header_bytes < 1024 || c.max_header_bytes > kMaxHeaderBytes)
    return InvalidField("max_header_bytes", "must be 1024..{}", kMaxHeaderBytes);
  if (c.max_headers < 8 || c.max_headers > kMaxHeaders)
    return InvalidField("max_headers", "must be 8..{}", kMaxHeaders);
  if (c.max_connections < 1 || c.max_connections > kMaxConnections)
    return InvalidField("max_connections", "must be 1..{}", kMaxConnections);
  if (c.max_connections_per_client < 1 || c.max_connections_per_client > c.max_connections)
    return InvalidField("max_connections_per_client", "must be 1..max_connections ({})", c.max_connections);
  return Status::Ok();
}

}  // namespace

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("{}: cannot read the server config file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return IoError("{}: error while reading", path);
  return ParseServerConfig(ss.str(), path);
}

Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(YAML::Node root, yaml::ParseDocument(text, path));
  const std::string file = path;
  if (root.IsNull()) return ServerConfig{};  // an empty file: every default
  yaml::Value top = yaml::Root(&file, root);
  SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(top, {"listen",           "data",
                                                             "network",          "centers",
                                                             "policy",           "dispatch",
                                                             "pass_interval_ms", "min_run_s",
                                                             "center_timeout_s", "max_body_bytes",
                                                             "http_threads",     "header_timeout_s",
                                                             "max_header_bytes", "max_headers",
                                                             "max_connections",  "max_connections_per_client",
                                                             "tls_cert",         "tls_key",
                                                             "admin_token",      "admin_token_file",
                                                             "durable",          "quotas",
                                                             "stage_command",    "restart_backoff_s",
                                                             "agent_poll_ms",    "agent_follow_up_ms"}));
  const fs::path base = fs::path(path).parent_path();
  ServerConfig c;
  auto str = [&](std::string_view key, std::string* out) -> Status {
    yaml::Value v = m.Get(key);
    if (v.IsNull()) return Status::Ok();
    auto s = v.String();
    if (!s.ok()) return s.status();
    *out = *s;
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(str("listen", &c.listen));
  SUANLI_RETURN_IF_ERROR(str("data", &c.data_dir));
  c.data_dir = Resolve(base, c.data_dir);
  SUANLI_RETURN_IF_ERROR(str("network", &c.network));
  if (!c.network.empty() && !IsBuiltinNetwork(c.network)) {
    // A file next to the config, possibly scaled ("file.yaml:1/10").
    size_t colon = c.network.rfind(':');
    std::string file_part = c.network, scale;
    if (!fs::exists(Resolve(base, c.network)) && colon != std::string::npos) {
      file_part = c.network.substr(0, colon);
      scale = c.network.substr(colon);
    }
    if (!IsBuiltinNetwork(file_part) && fs::exists(Resolve(base, file_part)))
      c.network = Resolve(base, file_part) + scale;
  }
  yaml::Value cv = m.Get("centers");
  if (!cv.IsNull()) {
    SUANLI_ASSIGN_OR_RETURN(size_t n, cv.SequenceSize());
    std::set<std::string> names;
    for (size_t i = 0; i < n; ++i) {
      yaml::Value item = cv.Item(i);
      SUANLI_ASSIGN_OR_RETURN(CenterConfig cc, ParseCenter(item, base));
      if (!names.insert(cc.name).second) return item.Error(fmt::format("center '{}' is named twice", cc.name));
      c.centers.push_back(std::move(cc));
    }
  }
  SUANLI_RETURN_IF_ERROR(str("policy", &c.policy));
  if (m.Has("policy")) {
    auto p = ParsePolicySpec(c.policy);
    if (!p.ok()) return m.Get("policy").Error(p.status().message());
  }
  SUANLI_RETURN_IF_ERROR(str("dispatch", &c.dispatch));
  if (m.Has("dispatch")) {
    auto d = ParseDispatchSpec(c.dispatch);
    if (!d.ok()) return m.Get("dispatch").Error(d.status().message());
  }
  if (m.Has("quotas")) {
    // Inline, in the format of a `suanli sim --quotas` file, or the path of one.
    yaml::Value qv = m.Get("quotas");
    Result<QuotaSpec> q = qv.IsScalar() ? LoadQuotas(Resolve(base, qv.node().Scalar())) : ParseQuotas(qv, path);
    if (!q.ok()) return qv.IsScalar() ? qv.Error(q.status().message()) : q.status();
    c.quotas = std::make_shared<const QuotaSpec>(std::move(q).value());
  }
  SUANLI_ASSIGN_OR_RETURN(int64_t pass_ms, OptionalInt(m, "pass_interval_ms", c.pass_interval_ms, 1, 3'600'000));
  c.pass_interval_ms = static_cast<int>(pass_ms);
  SUANLI_ASSIGN_OR_RETURN(c.min_run_s, OptionalInt(m, "min_run_s", c.min_run_s, 0, 31 * 86'400));
  SUANLI_ASSIGN_OR_RETURN(c.restart_backoff_s, OptionalInt(m, "restart_backoff_s", c.restart_backoff_s, 0, 3600));
  SUANLI_ASSIGN_OR_RETURN(int64_t timeout, OptionalInt(m, "center_timeout_s", c.center_timeout_s, 1, 86'400));
  c.center_timeout_s = static_cast<int>(timeout);
  SUANLI_ASSIGN_OR_RETURN(int64_t agent_poll, OptionalInt(m, "agent_poll_ms", c.agent_poll_ms, 100, 60'000));
  c.agent_poll_ms = static_cast<int>(agent_poll);
  SUANLI_ASSIGN_OR_RETURN(int64_t follow_up, OptionalInt(m, "agent_follow_up_ms", c.agent_follow_up_ms, 0, 60'000));
  c.agent_follow_up_ms = static_cast<int>(follow_up);
  SUANLI_ASSIGN_OR_RETURN(c.max_body_bytes, OptionalInt(m, "max_body_bytes", c.max_body_bytes, 1, int64_t{1} << 34));
  SUANLI_ASSIGN_OR_RETURN(int64_t threads, OptionalInt(m, "http_threads", c.http_threads, 1, 1024));
  c.http_threads = static_cast<int>(threads);
  SUANLI_RETURN_IF_ERROR(HttpLimitKeys(m, &c));
  SUANLI_RETURN_IF_ERROR(str("tls_cert", &c.tls_cert));
  SUANLI_RETURN_IF_ERROR(str("tls_key", &c.tls_key));
  c.tls_cert = Resolve(base, c.tls_cert);
  c.tls_key = Resolve(base, c.tls_key);
  if (c.tls_cert.empty() != c.tls_key.empty())
    return m.Get(c.tls_cert.empty() ? "tls_key" : "tls_cert")
        .Error("tls_cert and tls_key go together: give both (HTTPS) or neither (HTTP)");
  SUANLI_RETURN_IF_ERROR(str("admin_token", &c.admin_token));
  SUANLI_RETURN_IF_ERROR(str("admin_token_file", &c.admin_token_file));
  c.admin_token_file = Resolve(base, c.admin_token_file);
  if (m.Has("admin_token") && m.Has("admin_token_file"))
    return m.Get("admin_token_file").Error("give admin_token or admin_token_file, not both");
  SUANLI_ASSIGN_OR_RETURN(c.durable, OptionalBool(m, "durable", c.durable));
  if (m.Has("stage_command")) {
    auto argv = m.Get("stage_command").StringList();
    if (!argv.ok()) return m.Get("stage_command").Error(argv.status().message());
    c.stage_command = std::move(argv).value();
    Status st = CheckStageCommand(c.stage_command);
    if (!st.ok()) return m.Get("stage_command").Error(st.message().substr(std::string("stage_command: ").size()));
  }
  if (m.Has("listen")) {
    Status st = CheckListen(c.listen);
    if (!st.ok()) return m.Get("listen").Error(st.message().substr(std::string("listen: ").size()));
  }
  Status st = ValidateServerConfig(c);
  if (!st.ok()) return st.Wrap(path);
  return c;
}

Status CheckStageCommand(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) return InvalidField("stage_command", "must name a program");
  bool src = false, dst = false;
  for (const std::string& a : argv) {
    src = src || a.find("{src}") != std::string::npos;
    dst = dst || a.find("{dst}") != std::string::npos;
  }
  if (!src || !dst) return InvalidField("stage_command", "must contain {{src}} and {{dst}}");
  return Status::Ok();
}

Status ValidateServerConfig(const ServerConfig& config) {
  SUANLI_RETURN_IF_ERROR(CheckListen(config.listen));
  SUANLI_RETURN_IF_ERROR(CheckStageCommand(config.stage_command));
  if (config.data_dir.empty()) return InvalidField("data", "must not be empty");
  {
    auto p = ParsePolicySpec(config.policy);
    if (!p.ok()) return InvalidField("policy", "{}", p.status().message());
  }
  {
    auto d = ParseDispatchSpec(config.dispatch);
    if (!d.ok()) return InvalidField("dispatch", "{}", d.status().message());
  }
  std::set<std::string> names;
  for (size_t i = 0; i < config.centers.size(); ++i) {
    const CenterConfig& c = config.centers[i];
    if (!ValidCenterName(c.name))
      return InvalidArgument("centers[{}].name: '{}' is not a valid center name (letters, digits, '_', '-', '.')", i,
                             c.name);
    if (!names.insert(c.name).second) return InvalidArgument("centers[{}].name: center '{}' is named twice", i, c.name);
    if (!KnownBackend(c.backend.kind))
      return InvalidArgument("centers[{}] ({}).backend: unknown backend '{}' (known: local, slurm, simulated)", i,
                             c.name, c.backend.kind);
    if (c.backend.slots < 0) return InvalidArgument("centers[{}] ({}).slots: must be >= 0", i, c.name);
    if (!c.data_root.empty() && c.data_root[0] != '/')
      return InvalidArgument("centers[{}] ({}).data_root: must be an absolute path, got '{}'", i, c.name, c.data_root);
    if (c.backend.grace_s < 0) return InvalidArgument("centers[{}] ({}).grace_s: must be >= 0", i, c.name);
    if (c.backend.command_timeout_s < 1)
      return InvalidArgument("centers[{}] ({}).command_timeout_s: must be >= 1", i, c.name);
    if ((c.backend.kind == "simulated" || c.backend.kind == "agent") && config.network.empty())
      return InvalidArgument(
          "centers[{}] ({}).backend: a {} center takes its nodes from the network file; give `network`", i, c.name,
          c.backend.kind);
  }
  if (config.pass_interval_ms < 1) return InvalidField("pass_interval_ms", "must be >= 1");
  if (config.min_run_s < 0) return InvalidField("min_run_s", "must be >= 0");
  if (config.center_timeout_s < 1) return InvalidField("center_timeout_s", "must be >= 1");
  if (config.agent_poll_ms < 100 || config.agent_poll_ms > 60'000)
    return InvalidField("agent_poll_ms", "must be 100..60000");
  if (config.agent_follow_up_ms < 0 || config.agent_follow_up_ms > 60'000)
    return InvalidField("agent_follow_up_ms", "must be 0..60000");
  if (config.max_body_bytes < 1) return InvalidField("max_body_bytes", "must be >= 1");
  if (config.http_threads < 1) return InvalidField("http_threads", "must be >= 1");
  SUANLI_RETURN_IF_ERROR(ValidateHttpLimits(config));
  if (config.tls_cert.empty() != config.tls_key.empty())
    return InvalidArgument("{}: tls_cert and tls_key go together: give both (HTTPS) or neither (HTTP)",
                           config.tls_cert.empty() ? "tls_key" : "tls_cert");
  // A short admin token can be guessed; 16 random bytes (or 32 hex digits,
  // `openssl rand -hex 16`) cannot.
  if (!config.admin_token.empty() && config.admin_token.size() < kMinAdminTokenBytes)
    return InvalidField("admin_token",
                        "the admin token is {} bytes; at least {} are required (e.g. "
                        "`openssl rand -hex 16 > admin.token`)",
                        config.admin_token.size(), kMinAdminTokenBytes);
  return Status::Ok();
}

}  // namespace suanli::live
