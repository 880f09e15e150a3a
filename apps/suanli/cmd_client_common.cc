// The client commands' connection (flags > SUANLI_URL / SUANLI_TOKEN >
// cli.yaml > defaults), their error answers and exit codes, and how they
// format times, durations and tables (cmd_client_internal.h).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "io/yaml_fields.h"

#include "base/strings.h"
#include "cmd_client_internal.h"
#include "server/json_codec.h"

namespace suanli::app::client_detail {

// ---------------------------------------------------------------- connection

Conn MergedConn(const Conn& own, const Conn& parent) {
  Conn c = own;
  if (c.url.empty()) c.url = parent.url;
  if (c.token.empty()) c.token = parent.token;
  if (c.ca_cert.empty()) c.ca_cert = parent.ca_cert;
  c.insecure = c.insecure || parent.insecure;
  return c;
}

void AddConnOptions(CLI::App* cmd, const std::shared_ptr<Conn>& c) {
  cmd->add_option("--url", c->url, "Server URL (env SUANLI_URL; cli.yaml `url`; default http://127.0.0.1:8080)");
  cmd->add_option("--token", c->token, "Bearer token (env SUANLI_TOKEN; cli.yaml `token`)");
  cmd->add_option("--ca-cert", c->ca_cert, "HTTPS: trust this CA certificate (PEM; cli.yaml `ca_cert`)");
  cmd->add_flag("--insecure", c->insecure, "HTTPS: do not verify the server's certificate");
}

// Reads a small YAML file into a document; errors name the file.
Result<YAML::Node> ReadYaml(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return InvalidArgument("{}: cannot read the {}", path, what);
  std::stringstream ss;
  ss << f.rdbuf();
  return yaml::ParseDocument(ss.str(), path);
}

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// flags > SUANLI_URL / SUANLI_TOKEN > the config file > defaults.
Result<server::ClientOptions> ResolveConn(const Conn& c) {
  server::ClientOptions o;
  std::string file_url, file_token, file_ca;
  bool file_insecure = false;
  std::string path = Env("SUANLI_CLI_CONFIG");
  bool explicit_path = !path.empty();
  if (!explicit_path) {
    std::string home = Env("HOME");
    if (!home.empty()) path = home + "/.config/suanli/cli.yaml";
  }
  if (!path.empty() && (explicit_path || std::filesystem::exists(path))) {
    SUANLI_ASSIGN_OR_RETURN(YAML::Node root, ReadYaml(path, "CLI config file"));
    if (!root.IsNull()) {
      yaml::Value top = yaml::Root(&path, root);
      SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(top, {"url", "token", "ca_cert", "insecure"}));
      if (m.Has("url")) {
        SUANLI_ASSIGN_OR_RETURN(file_url, m.Get("url").String());
      }
      if (m.Has("token")) {
        SUANLI_ASSIGN_OR_RETURN(file_token, m.Get("token").String());
      }
      if (m.Has("ca_cert")) {
        SUANLI_ASSIGN_OR_RETURN(file_ca, m.Get("ca_cert").String());
      }
      if (m.Has("insecure")) {
        SUANLI_ASSIGN_OR_RETURN(file_insecure, m.Get("insecure").Bool());
      }
    }
  }
  auto pick = [](const std::string& flag, const std::string& env, const std::string& file, const std::string& def) {
    if (!flag.empty()) return flag;
    if (!env.empty()) return env;
    if (!file.empty()) return file;
    return def;
  };
  o.url = pick(c.url, Env("SUANLI_URL"), file_url, "http://127.0.0.1:8080");
  o.token = pick(c.token, Env("SUANLI_TOKEN"), file_token, "");
  o.ca_cert = pick(c.ca_cert, "", file_ca, "");
  o.insecure = c.insecure || file_insecure;
  return o;
}

}  // namespace

// Prints "suanli CMD: MESSAGE" and returns `code`. The message may quote the
// server or a job: its control characters are shown, never sent to the terminal.
int Fail(const char* cmd, int code, const std::string& msg) {
  std::fprintf(stderr, "suanli %s: %s\n", cmd, EscapeControls(msg).c_str());
  return code;
}

Session Connect(const char* cmd, const Conn& c) {
  Session s;
  auto o = ResolveConn(c);
  if (!o.ok()) {
    s.code = Fail(cmd, kUsage, o.status().message());
    return s;
  }
  auto cl = ApiClient::Create(*o);
  if (!cl.ok()) {
    s.code = Fail(cmd, kUsage, cl.status().message());
    return s;
  }
  s.client = std::move(cl).value();
  return s;
}

// The exit code of a transport error or an error answer (0 if `r` is a 2xx).
int Check(const char* cmd, const Result<ApiResponse>& r) {
  if (!r.ok()) return Fail(cmd, kCannotConnect, r.status().message());
  if (r->status >= 200 && r->status < 300) return kOk;
  std::string hint;
  if (r->status == 401) hint = " (give a token with --token or SUANLI_TOKEN)";
  return Fail(cmd, kServerError, server::ErrorMessage(*r) + hint);
}

// The answer's JSON body, or an exit code.
int ParseBody(const char* cmd, const ApiResponse& r, json* out) {
  try {
    *out = json::parse(r.body);
    return kOk;
  } catch (const std::exception& e) {
    return Fail(cmd, kServerError, fmt::format("the server's answer is not JSON: {}", e.what()));
  }
}

int PrintJson(const json& j) {
  std::string s = server::Dump(j, 2);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- formatting

std::string FormatTime(WallMs at, bool with_date) {
  if (at.ms() <= 0) return "-";
  time_t t = static_cast<time_t>(at.ms() / 1000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, with_date ? "%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
  return buf;
}

std::string FormatTimeLong(WallMs at) {
  if (at.ms() <= 0) return "-";
  time_t t = static_cast<time_t>(at.ms() / 1000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm);
  return buf;
}

std::string FormatSeconds(int64_t s) {
  if (s <= 0) return "0s";
  std::string out;
  if (s >= 86400) out += fmt::format("{}d", s / 86400), s %= 86400;
  if (s >= 3600) out += fmt::format("{}h", s / 3600), s %= 3600;
  if (s >= 60) out += fmt::format("{}m", s / 60), s %= 60;
  if (s > 0) out += fmt::format("{}s", s);
  return out;
}

// Shell-like rendering of argv.
std::string ShellJoin(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view("-_./=:,@%+").find(c) != std::string_view::npos;
    });
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

// Columns padded to their widest cell; the last column is not padded. Cells
// hold what tenants wrote (job names, commands, reasons): their control
// characters are shown as \xNN, so no job can move the cursor, retitle the
// terminal or forge a row.
void PrintTable(std::vector<std::vector<std::string>> rows) {
  if (rows.empty()) return;
  for (auto& r : rows) {
    for (auto& cell : r) cell = EscapeControls(cell);
  }
  std::vector<size_t> w;
  for (const auto& r : rows) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// "3600", "90m", "1h", "1h30m", "2d", "45s" -> seconds.
std::optional<int64_t> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto n = ParseInt(text)) return *n >= 0 ? std::optional<int64_t>(*n) : std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j >= text.size()) return std::nullopt;
    auto n = ParseInt(text.substr(i, j - i));
    if (!n || *n > 1'000'000'000) return std::nullopt;
    int64_t mult = 0;
    switch (text[j]) {
      case 'd': mult = 86400; break;
      case 'h': mult = 3600; break;
      case 'm': mult = 60; break;
      case 's': mult = 1; break;
      default: return std::nullopt;
    }
    total += *n * mult;
    i = j + 1;
  }
  return total;
}

std::optional<std::string> DeadlineText(const std::string& text, WallMs now) {
  if (ParseRfc3339(text)) return text;
  auto d = ParseDuration(text);
  if (!d) return std::nullopt;
  std::string t = FormatRfc3339(now + *d * 1000);
  if (t.empty()) return std::nullopt;
  return t;
}

WallMs NowMs() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Unix ms, or a UTC date "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM[:SS]".
std::optional<int64_t> ParseTimeArg(const std::string& text) {
  if (auto n = ParseInt(text)) return *n >= 0 ? std::optional<int64_t>(*n) : std::nullopt;
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (!end) return std::nullopt;
  if (*end == 'T' || *end == ' ') {
    const char* e2 = strptime(end + 1, "%H:%M:%S", &tm);
    if (!e2) e2 = strptime(end + 1, "%H:%M", &tm);
    if (!e2) return std::nullopt;
    end = e2;
  }
  if (*end == 'Z') ++end;
  if (*end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace suanli::app::client_detail
