#include "server/serve_config.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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
    if (file->empty()) return InvalidField("config", "{} is empty", file_source);
    auto loaded = live::LoadServerConfig(*file);
    if (!loaded.ok()) return loaded.status();
    c = std::move(loaded).value();
    for (const char* k :
         {"listen", "data", "network", "policy", "dispatch", "centers", "pass_interval_ms", "center_timeout_s",
          "max_body_bytes", "http_threads", "tls_cert", "tls_key", "admin_token", "header_timeout_s",
          "max_header_bytes", "max_headers", "max_connections", "max_connections_per_client"}) {
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

  // The admin token: a token or a token file, from the highest level that
  // gives one (config file < environment < flags).
  std::string token_file = c.admin_token_file;
  {
    auto tok = env("SUANLI_ADMIN_TOKEN");
    auto tf = env("SUANLI_ADMIN_TOKEN_FILE");
    if (tok && tf) return InvalidField("admin_token", "give SUANLI_ADMIN_TOKEN or SUANLI_ADMIN_TOKEN_FILE, not both");
    if (tf) {
      token_file = *tf;
      c.admin_token.clear();
      source["admin_token"] = "SUANLI_ADMIN_TOKEN_FILE";
    } else if (tok) {
      token_file.clear();
      c.admin_token_file.clear();
    } else if (!token_file.empty()) {
      source["admin_token"] = "admin_token_file in config file " + *file;
    }
  }
  if (flags.admin_token_file) {
    token_file = *flags.admin_token_file;
    c.admin_token.clear();
    source["admin_token"] = "--admin-token-file";
  }
  if (!token_file.empty()) {
    auto t = ReadAdminTokenFile(token_file);
    if (!t.ok()) return Status(t.status().code(), t.status().message() + " (from " + source["admin_token"] + ")");
    c.admin_token = std::move(*t);
    c.admin_token_file = token_file;
  }
  c.accept_data_loss = flags.accept_data_loss;

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
    auto it = source.find(st.field());
    if (it != source.end()) return Status(st.code(), st.message() + " (from " + it->second + ")");
    return st;
  }
  return c;
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& field, const std::string& noun) {
  if (path.empty()) return InvalidField(field, "the {}'s name is empty", noun);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return IoError("{}: cannot open the {} {}: {}", field, noun, path, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) return IoError("{}: {}: {}", field, path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return InvalidField(field, "the {} {} is not a regular file", noun, path);
  if ((st.st_mode & 077) != 0) {
    return PermissionDenied(
        "{}: the {} {} may be read or written by group or others (mode {:04o}); make it "
        "owner-only: chmod 600 {}",
        field, noun, path, st.st_mode & 07777, path);
  }
  constexpr size_t kMax = 4096;
  std::string text;
  char buf[1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("{}: reading the {} {}: {}", field, noun, path, std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMax) return InvalidField(field, "the {} {} is over {} bytes", noun, path, kMax);
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return InvalidField(field, "the {} {} is empty", noun, path);
  for (unsigned char ch : text) {
    if (ch <= ' ' || ch == 0x7f) {
      return InvalidArgument("{}: the {} {} must hold one line of printable characters without spaces", field, noun,
                             path);
    }
  }
  return text;
}

Result<std::string> ReadAdminTokenFile(const std::string& path) {
  return ReadSecretFile(path, "admin_token", "admin token file");
}

void RemoveFromEnvironment(const char* name) {
  const size_t n = std::strlen(name);
  std::vector<char*> found;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') found.push_back(*e);
  }
  unsetenv(name);
  // The strings themselves stay where they were (the initial environment is
  // on the stack; glibc never frees what setenv allocated): blank them.
  for (char* s : found) std::memset(s + n + 1, 0, std::strlen(s + n + 1));
}

Result<std::vector<std::string>> SecureDataDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> changed;
  if (dir.empty()) return InvalidField("data", "must not be empty");
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec) return IoError("data: cannot create the data directory '{}': {}", dir, ec.message());
    }
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return IoError("data: cannot create the data directory '{}': {}", dir, std::strerror(errno));
  }
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return IoError("data: '{}': {}", dir, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return IoError("data: '{}' is not a directory", dir);
  if (st.st_uid != geteuid()) {
    return PermissionDenied("data: the data directory '{}' belongs to uid {}, not to this server's user (uid {})", dir,
                            st.st_uid, geteuid());
  }
  auto restrict = [&](const std::string& path, const struct stat& s) -> Status {
    if ((s.st_mode & 077) == 0) return Status::Ok();
    mode_t mode = s.st_mode & 07700;
    if (chmod(path.c_str(), mode) != 0)
      return IoError("data: cannot make '{}' owner-only: {}", path, std::strerror(errno));
    changed.push_back(fmt::format("{}: mode {:04o} -> {:04o}", path, s.st_mode & 07777, mode));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(restrict(dir, st));
  // The entries at the top (not below: jobs/ may hold millions; the
  // directory's own mode already keeps everyone else out of all of it).
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = (fs::path(dir) / name).string();
      struct stat es {};
      if (lstat(path.c_str(), &es) != 0 || es.st_uid != geteuid()) continue;
      if (!S_ISREG(es.st_mode) && !S_ISDIR(es.st_mode)) continue;
      Status r = restrict(path, es);
      if (!r.ok()) {
        closedir(d);
        return r;
      }
    }
    closedir(d);
  }
  if (stat(dir.c_str(), &st) != 0 || (st.st_mode & 077) != 0)
    return PermissionDenied("data: the data directory '{}' is not owner-only (mode {:04o})", dir, st.st_mode & 07777);
  return changed;
}

}  // namespace suanli::server
