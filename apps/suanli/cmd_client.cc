// The client commands of a running `suanli serve`: submit, queue, show,
// cancel, logs, centers, usage (without a directory), tenants. They speak the
// HTTP API (docs/api.md) with a bearer token. See docs/cli.md.
//
// Exit codes: 0 ok, 1 the server answered with an error (or an unreadable
// answer), 2 bad usage or input, 3 the server cannot be reached.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "io/model_loader.h"
#include "io/yaml_fields.h"

#include "base/strings.h"
#include "commands.h"
#include "live/live_job.h"
#include "server/api_client.h"
#include "server/json_codec.h"

namespace suanli::app {
namespace {

using nlohmann::json;
using server::ApiClient;
using server::ApiResponse;

constexpr int kOk = 0, kServerError = 1, kUsage = 2, kCannotConnect = 3;

// ---------------------------------------------------------------- connection

struct Conn {
  std::string url, token, ca_cert;
  bool insecure = false;
};

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

// Prints "suanli CMD: MESSAGE" and returns `code`. The message may quote the
// server or a job: its control characters are shown, never sent to the terminal.
int Fail(const char* cmd, int code, const std::string& msg) {
  std::fprintf(stderr, "suanli %s: %s\n", cmd, EscapeControls(msg).c_str());
  return code;
}

// A connected client, or an exit code.
struct Session {
  std::unique_ptr<ApiClient> client;
  int code = kOk;
};

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

std::string FormatTime(int64_t ms, bool with_date = true) {
  if (ms <= 0) return "-";
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, with_date ? "%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
  return buf;
}

std::string FormatTimeLong(int64_t ms) {
  if (ms <= 0) return "-";
  time_t t = static_cast<time_t>(ms / 1000);
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

// ---------------------------------------------------------------- submit

struct SubmitArgs {
  std::optional<uint32_t> gpus;
  std::vector<std::string> models, stacks, env;
  std::optional<double> cpus;
  std::optional<int64_t> mem;
  std::string time_limit, name, center, workload_class, duration, workdir, file;
  std::optional<int32_t> priority;
  bool quiet = false, json = false;
  std::vector<std::string> command;
};

// A job file (YAML, the keys of the JSON body) as the JSON body; types by key.
Result<json> LoadJobFile(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(YAML::Node root, ReadYaml(path, "job file"));
  yaml::Value top = yaml::Root(&path, root);
  if (!top.IsMap()) return top.Error("expected a map of job keys (command, gpus, ...)");
  SUANLI_ASSIGN_OR_RETURN(
      yaml::Map m, yaml::Map::Open(top, {"command", "name", "env", "workdir", "gpus", "cpu_milli", "mem_mib", "models",
                                         "stacks", "class", "time_limit_s", "duration_s", "priority", "center"}));
  json j = json::object();
  for (const char* key : {"command", "models", "stacks"}) {
    if (!m.Has(key)) continue;
    yaml::Value v = m.Get(key);
    if (v.IsScalar() && std::string_view(key) != "command") {
      SUANLI_ASSIGN_OR_RETURN(std::string one, v.String());
      j[key] = json::array({one});
      continue;
    }
    if (!v.IsSequence()) {
      return v.Error(
          "expected a list of strings (for command: the program and its arguments, e.g. [sh, -c, 'echo hi'])");
    }
    SUANLI_ASSIGN_OR_RETURN(size_t n, v.SequenceSize());
    json arr = json::array();
    for (size_t i = 0; i < n; ++i) {
      yaml::Value item = v.Item(i);
      if (!item.IsScalar()) return item.Error("expected a string");
      arr.push_back(item.node().Scalar());
    }
    j[key] = std::move(arr);
  }
  if (m.Has("env")) {
    yaml::Value v = m.Get("env");
    if (!v.IsMap()) return v.Error("expected a map of NAME: value");
    json env = json::object();
    const YAML::Node& node = v.node();
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->second.IsScalar() || !it->first.IsScalar()) return v.Error("expected a map of NAME: value (strings)");
      env[it->first.Scalar()] = it->second.Scalar();
    }
    j["env"] = std::move(env);
  }
  for (const char* key : {"name", "workdir", "class", "center"}) {
    if (!m.Has(key)) continue;
    SUANLI_ASSIGN_OR_RETURN(std::string str, m.Get(key).String());
    j[key] = str;
  }
  for (const char* key : {"gpus", "cpu_milli", "mem_mib", "priority"}) {
    if (!m.Has(key)) continue;
    int64_t lo = std::string_view(key) == "priority" ? INT32_MIN : 0;
    int64_t hi = std::string_view(key) == "priority" ? INT32_MAX : (int64_t{1} << 40);
    SUANLI_ASSIGN_OR_RETURN(int64_t n, m.Get(key).Integer(lo, hi));
    j[key] = n;
  }
  for (const char* key : {"time_limit_s", "duration_s"}) {
    if (!m.Has(key)) continue;
    yaml::Value v = m.Get(key);
    if (!v.IsScalar()) return v.Error("expected seconds or a duration like 90m");
    auto n = ParseDuration(v.node().Scalar());
    if (!n) return v.Error(fmt::format("expected seconds or a duration like 1h30m, got '{}'", v.node().Scalar()));
    j[key] = *n;
  }
  return j;
}

int RunSubmit(const SubmitArgs& a, const Conn& conn) {
  const char* cmd = "submit";
  json body = json::object();
  if (!a.file.empty()) {
    auto f = LoadJobFile(a.file);
    if (!f.ok()) return Fail(cmd, kUsage, f.status().message());
    body = std::move(f).value();
  }
  if (!a.command.empty()) body["command"] = a.command;
  if (!body.contains("command")) {
    return Fail(cmd, kUsage,
                "no command: give it after --, e.g. suanli submit --gpus 1 -- python train.py (or in -f FILE)");
  }
  if (a.gpus) body["gpus"] = *a.gpus;
  if (!a.models.empty()) body["models"] = a.models;
  if (!a.stacks.empty()) body["stacks"] = a.stacks;
  if (a.cpus) {
    if (!(*a.cpus > 0) || *a.cpus > 1e9) return Fail(cmd, kUsage, "--cpus: expected a positive number of cores");
    body["cpu_milli"] = static_cast<int64_t>(std::llround(*a.cpus * 1000));
  }
  if (a.mem) {
    if (*a.mem < 0) return Fail(cmd, kUsage, "--mem: expected MiB >= 0");
    body["mem_mib"] = *a.mem;
  }
  if (!a.time_limit.empty()) {
    auto s = ParseDuration(a.time_limit);
    if (!s)
      return Fail(cmd, kUsage,
                  "--time-limit: expected seconds or a duration like 90m, 1h30m, 2d; got '" + a.time_limit + "'");
    body["time_limit_s"] = *s;
  }
  if (!a.duration.empty()) {
    auto s = ParseDuration(a.duration);
    if (!s) return Fail(cmd, kUsage, "--duration: expected seconds or a duration like 90m; got '" + a.duration + "'");
    body["duration_s"] = *s;
  }
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.center.empty()) body["center"] = a.center;
  if (!a.workload_class.empty()) body["class"] = a.workload_class;
  if (!a.workdir.empty()) body["workdir"] = a.workdir;
  if (a.priority) body["priority"] = *a.priority;
  if (!a.env.empty()) {
    json env = body.contains("env") && body["env"].is_object() ? body["env"] : json::object();
    for (const auto& kv : a.env) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return Fail(cmd, kUsage, "--env: expected NAME=VALUE, got '" + kv + "'");
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    body["env"] = std::move(env);
  }
  // The server's own check, here first: a bad job never leaves the machine.
  live::JobSpec spec;
  server::ApiError perr;
  if (!server::JobSpecFromJson(body, &spec, &perr)) return Fail(cmd, kUsage, perr.message);
  if (spec.workload_class.empty()) spec.workload_class = "other";
  if (Status st = live::ValidateSpec(spec, BuiltinCatalog(), nullptr); !st.ok()) return Fail(cmd, kUsage, st.message());

  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Post("/api/v1/jobs", server::Dump(body));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (a.json) return PrintJson(j);
  auto job = server::JobFromJson(j);
  if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
  if (a.quiet) std::printf("%lld\n", static_cast<long long>(job->id));
  else std::printf("Submitted job %lld\n", static_cast<long long>(job->id));
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- queue

struct QueueArgs {
  std::string state, center, tenant;
  bool all = false, json = false;
  int limit = 0;
};

// Pages of GET /api/v1/jobs until `limit` jobs (0: all of them).
int FetchJobs(const char* cmd, ApiClient& cl, const std::string& states, const std::string& center,
              const std::string& tenant, int limit, std::vector<json>* out, bool* more) {
  int64_t before = 0;
  *more = false;
  while (true) {
    int want = limit > 0 ? std::min<int>(1000, limit - static_cast<int>(out->size())) : 1000;
    if (want <= 0) {
      *more = true;
      return kOk;
    }
    server::QueryList q;
    if (!states.empty()) q.emplace_back("state", states);
    if (!center.empty()) q.emplace_back("center", center);
    if (!tenant.empty()) q.emplace_back("tenant", tenant);
    q.emplace_back("limit", std::to_string(want));
    if (before > 0) q.emplace_back("before", std::to_string(before));
    auto r = cl.Get("/api/v1/jobs", q);
    if (int c = Check(cmd, r)) return c;
    json j;
    if (int c = ParseBody(cmd, *r, &j)) return c;
    if (!j.is_object() || !j.contains("jobs") || !j["jobs"].is_array()) {
      return Fail(cmd, kServerError, "unexpected answer: no \"jobs\" array");
    }
    const auto& page = j["jobs"];
    for (const auto& job : page) out->push_back(job);
    if (static_cast<int>(page.size()) < want || page.empty()) return kOk;
    int64_t last = page.back().value("id", int64_t{0});
    if (last <= 1) return kOk;
    before = last;
  }
}

int RunQueue(const QueueArgs& a, const Conn& conn) {
  const char* cmd = "queue";
  std::string states = a.state;
  if (states.empty() && !a.all) states = "pending,running";
  int limit = a.limit > 0 ? a.limit : (a.all ? 100 : 0);
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  std::vector<json> jobs;
  bool more = false;
  if (int c = FetchJobs(cmd, *s.client, states, a.center, a.tenant, limit, &jobs, &more)) return c;
  if (a.json) return PrintJson(json{{"jobs", jobs}});
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "NAME", "TENANT", "STATE", "CENTER", "MODEL", "GPUS", "SUBMITTED", "START/EST"});
  for (const auto& jj : jobs) {
    auto job = server::JobFromJson(jj);
    if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
    const auto& r = *job;
    std::string start;
    if (r.start_ms > 0) start = FormatTime(r.start_ms);
    else if (r.state == live::JobState::kPending && r.est_start_ms > 0) start = "~" + FormatTime(r.est_start_ms);
    else start = "-";
    std::string name = r.spec.name.empty() ? "-" : r.spec.name;
    if (name.size() > 24) name = name.substr(0, 23) + "~";
    rows.push_back({std::to_string(r.id), name, r.tenant, std::string(live::StateName(r.state)),
                    r.center.empty() ? "-" : r.center, r.model.empty() ? "-" : r.model, std::to_string(r.spec.gpus),
                    FormatTime(r.submit_ms), start});
  }
  PrintTable(rows);
  if (jobs.empty()) std::printf("(no %s jobs)\n", states.empty() ? "" : states.c_str());
  if (more) std::printf("(the %zu newest shown; --limit N for more)\n", jobs.size());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- show

int RunShow(int64_t id, bool as_json, const Conn& conn) {
  const char* cmd = "show";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get(fmt::format("/api/v1/jobs/{}", id));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  auto job = server::JobFromJson(j);
  if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
  const auto& x = *job;
  std::vector<std::vector<std::string>> rows;
  auto add = [&](const char* k, const std::string& v) { rows.push_back({k, v}); };
  add("id:", std::to_string(x.id));
  if (!x.spec.name.empty()) add("name:", x.spec.name);
  add("tenant:", x.tenant);
  add("state:", std::string(live::StateName(x.state)) + (x.reason.empty() ? "" : " (" + x.reason + ")"));
  add("command:", ShellJoin(x.spec.command));
  for (const auto& [k, v] : x.spec.env) add("env:", k + "=" + v);
  if (!x.spec.workdir.empty()) add("workdir:", x.spec.workdir);
  std::string req = fmt::format("{} gpus, {} cpus, {} MiB", x.spec.gpus, x.spec.cpu_milli / 1000.0, x.spec.mem_mib);
  if (!x.spec.models.empty()) req += ", models " + Join(x.spec.models, ",");
  if (!x.spec.stacks.empty()) req += ", stacks " + Join(x.spec.stacks, ",");
  add("resources:", req);
  add("class:", x.spec.workload_class);
  add("time limit:", FormatSeconds(x.spec.time_limit_s));
  if (x.spec.duration_s > 0) add("duration:", FormatSeconds(x.spec.duration_s));
  if (x.spec.priority != 0) add("priority:", std::to_string(x.spec.priority));
  if (!x.spec.center.empty()) add("asked center:", x.spec.center);
  add("center:", x.center.empty() ? "-" : x.center);
  if (!x.model.empty()) add("model:", x.model);
  if (!x.node.empty()) {
    std::vector<std::string> d;
    for (int i : x.devices) d.push_back(std::to_string(i));
    add("node:", x.node + (d.empty() ? "" : " devices " + Join(d, ",")));
  }
  if (!x.backend_id.empty()) add("backend id:", x.backend_id);
  add("submitted:", FormatTimeLong(x.submit_ms));
  if (x.state == live::JobState::kPending && x.est_start_ms > 0) add("est. start:", FormatTimeLong(x.est_start_ms));
  if (x.start_ms > 0) add("started:", FormatTimeLong(x.start_ms));
  if (x.end_ms > 0) add("ended:", FormatTimeLong(x.end_ms));
  if (x.exit_code >= 0) add("exit code:", std::to_string(x.exit_code));
  if (x.signal > 0) add("signal:", std::to_string(x.signal));
  if (live::IsTerminal(x.state) || x.gpu_seconds > 0) {
    add("usage:", fmt::format("{:.2f} accelerator-hours, {:.3f} kWh, cost {:.2f}, {:.3f} kg CO2", x.gpu_seconds / 3600,
                              x.energy_kwh, x.cost, x.carbon_kg));
  }
  // Its runs that ended: "#1 preempted on a a-n0 devices 0-31, 00:00:00 to 00:01:53, 1.00 accelerator-hours".
  if (auto at = j.find("attempts"); at != j.end() && at->is_array()) {
    for (const auto& a : *at) {
      if (!a.is_object()) continue;
      auto str = [&](const char* k) { return a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : ""; };
      auto num = [&](const char* k) { return a.contains(k) && a[k].is_number() ? a[k].get<double>() : 0.0; };
      auto ms = [&](const char* k) { return a.contains(k) && a[k].is_number_integer() ? a[k].get<int64_t>() : 0; };
      std::string where = str("center");
      if (!str("node").empty()) where += " " + str("node");
      add(fmt::format("attempt {}:", ms("n")).c_str(),
          fmt::format("{} on {}, {} to {}, {:.2f} accelerator-hours{}", str("outcome"), where,
                      FormatTimeLong(ms("start_ms")), FormatTimeLong(ms("end_ms")), num("gpu_seconds") / 3600,
                      str("reason").empty() ? "" : " (" + str("reason") + ")"));
    }
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- cancel

int RunCancel(const std::vector<int64_t>& ids, const Conn& conn) {
  const char* cmd = "cancel";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  int worst = kOk;
  for (int64_t id : ids) {
    auto r = s.client->Post(fmt::format("/api/v1/jobs/{}/cancel", id), "");
    if (!r.ok()) return Check(cmd, r);
    if (r->status < 200 || r->status >= 300) {
      Fail(cmd, kServerError, fmt::format("job {}: {}", id, server::ErrorMessage(*r)));
      worst = kServerError;
      continue;
    }
    json j;
    if (int c = ParseBody(cmd, *r, &j)) return c;
    std::string state = j.value("state", std::string());
    if (state == "cancelled") std::printf("Cancelled job %lld\n", static_cast<long long>(id));
    else std::printf("Cancelling job %lld (%s: it is being stopped)\n", static_cast<long long>(id), state.c_str());
  }
  std::fflush(stdout);
  return worst;
}

// ---------------------------------------------------------------- logs

int RunLogs(int64_t id, bool err_stream, bool follow, const Conn& conn) {
  const char* cmd = "logs";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  int64_t offset = 0;
  const std::string path = fmt::format("/api/v1/jobs/{}/logs", id);
  while (true) {
    server::QueryList q = {{"stream", err_stream ? "stderr" : "stdout"},
                           {"offset", std::to_string(offset)},
                           {"limit", std::to_string(1 << 20)}};
    auto r = s.client->Get(path, q);
    if (int c = Check(cmd, r)) return c;
    if (!r->body.empty()) {
      std::fwrite(r->body.data(), 1, r->body.size(), stdout);
      std::fflush(stdout);
      offset += static_cast<int64_t>(r->body.size());
    }
    auto size = ParseInt(r->Header("X-Log-Size"));
    if (size && offset < *size && !r->body.empty()) continue;  // more to read now
    if (!follow) break;
    auto state = live::ParseState(r->Header("X-Job-State"));
    // The state was read before the log: a finished job's log was complete.
    if (state && live::IsTerminal(*state)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- centers

int RunCenters(bool as_json, const Conn& conn) {
  const char* cmd = "centers";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/centers");
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("centers") || !j["centers"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"centers\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"NAME", "BACKEND", "REGION", "STATUS", "DEVICES", "BUSY", "PENDING", "RUNNING", "PRICE", "CARBON", "MODELS"});
  for (const auto& cj : j["centers"]) {
    auto c = server::CenterFromJson(cj);
    if (!c.ok()) return Fail(cmd, kServerError, "unexpected answer: " + c.status().message());
    std::string status = !c->up ? "down" : c->drained ? "drained" : "up";
    std::vector<std::string> models;
    for (const auto& m : c->models) models.push_back(fmt::format("{} {:g}/{}", m.model, m.busy, m.total));
    rows.push_back({c->name, c->backend, c->region.empty() ? "-" : c->region, status, std::to_string(c->devices),
                    fmt::format("{:g}", c->busy_devices), std::to_string(c->pending), std::to_string(c->running),
                    fmt::format("{:.2f}", c->price_now), fmt::format("{:.0f}", c->carbon_now),
                    models.empty() ? "-" : Join(models, ", ")});
  }
  PrintTable(rows);
  for (const auto& cj : j["centers"]) {
    auto c = server::CenterFromJson(cj);
    if (!c.ok()) continue;  // checked above
    if (!c->reason.empty()) std::printf("%s: %s\n", EscapeControls(c->name).c_str(), EscapeControls(c->reason).c_str());
    for (const auto& n : c->nodes_down)
      std::printf("%s: node %s down (%s): receives no jobs\n", EscapeControls(c->name).c_str(),
                  EscapeControls(n.node).c_str(), EscapeControls(n.reason).c_str());
  }
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

int RunCenterAction(const std::string& name, bool drain, const Conn& conn) {
  const char* cmd = drain ? "centers drain" : "centers resume";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r =
      s.client->Post(fmt::format("/api/v1/centers/{}/{}", server::UrlEncode(name), drain ? "drain" : "resume"), "");
  if (int c = Check(cmd, r)) return c;
  std::printf(drain ? "Drained center %s: it takes no new jobs (running ones go on)\n"
                    : "Resumed center %s: it takes jobs again\n",
              EscapeControls(name).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- usage

int RunLiveUsage(const std::string& from, const std::string& to, bool as_json, const Conn& conn) {
  const char* cmd = "usage";
  server::QueryList q;
  if (!from.empty()) {
    auto t = ParseTimeArg(from);
    if (!t)
      return Fail(cmd, kUsage, "--from: expected Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]], got '" + from + "'");
    q.emplace_back("from", std::to_string(*t));
  }
  if (!to.empty()) {
    auto t = ParseTimeArg(to);
    if (!t) return Fail(cmd, kUsage, "--to: expected Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]], got '" + to + "'");
    q.emplace_back("to", std::to_string(*t));
  }
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/usage", q);
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"usage\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TENANT", "CENTER", "MODEL", "JOBS", "ACC-HOURS", "ENERGY-KWH", "COST", "CARBON-KG"});
  live::UsageSum total;
  for (const auto& uj : j["usage"]) {
    auto u = server::UsageFromJson(uj);
    if (!u.ok()) return Fail(cmd, kServerError, "unexpected answer: " + u.status().message());
    rows.push_back({u->tenant, u->center, u->model.empty() ? "-" : u->model, std::to_string(u->jobs),
                    fmt::format("{:.2f}", u->gpu_seconds / 3600), fmt::format("{:.3f}", u->energy_kwh),
                    fmt::format("{:.2f}", u->cost), fmt::format("{:.3f}", u->carbon_kg)});
    total.jobs += u->jobs;
    total.gpu_seconds += u->gpu_seconds;
    total.energy_kwh += u->energy_kwh;
    total.cost += u->cost;
    total.carbon_kg += u->carbon_kg;
  }
  rows.push_back({"total", "", "", std::to_string(total.jobs), fmt::format("{:.2f}", total.gpu_seconds / 3600),
                  fmt::format("{:.3f}", total.energy_kwh), fmt::format("{:.2f}", total.cost),
                  fmt::format("{:.3f}", total.carbon_kg)});
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- tenants

int RunTenants(bool as_json, const Conn& conn) {
  const char* cmd = "tenants";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get("/api/v1/tenants");
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  if (!j.is_object() || !j.contains("tenants") || !j["tenants"].is_array()) {
    return Fail(cmd, kServerError, "unexpected answer: no \"tenants\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "ROLE", "MAX-GPUS/JOB", "MAX-ACTIVE", "MAX-PRIORITY", "CREATED"});
  for (const auto& tj : j["tenants"]) {
    auto t = server::TenantFromJson(tj);
    if (!t.ok()) return Fail(cmd, kServerError, "unexpected answer: " + t.status().message());
    rows.push_back({t->name, t->admin ? "admin" : "tenant",
                    t->max_gpus_per_job > 0 ? std::to_string(t->max_gpus_per_job) : "-",
                    t->max_active_jobs > 0 ? std::to_string(t->max_active_jobs) : "-",
                    t->admin ? "-" : std::to_string(t->max_priority), FormatTimeLong(t->created_ms)});
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

struct TenantCreateArgs {
  std::string name;
  bool admin = false, json = false;
  int64_t max_gpus_per_job = 0, max_active_jobs = 0, max_priority = 0;
};

int RunTenantCreate(const TenantCreateArgs& a, const Conn& conn) {
  const char* cmd = "tenants create";
  json body = {{"name", a.name},
               {"admin", a.admin},
               {"max_gpus_per_job", a.max_gpus_per_job},
               {"max_active_jobs", a.max_active_jobs},
               {"max_priority", a.max_priority}};
  server::TenantRequest tr;
  server::ApiError perr;
  if (!server::ParseTenantRequest(server::Dump(body), &tr, &perr)) return Fail(cmd, kUsage, perr.message);
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Post("/api/v1/tenants", server::Dump(body));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (a.json) return PrintJson(j);
  std::string token = j.value("token", std::string());
  std::printf("Created tenant %s%s\nIts token (shown only now; give it with --token or SUANLI_TOKEN):\n%s\n",
              EscapeControls(a.name).c_str(), a.admin ? " (admin)" : "", EscapeControls(token).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace

// ---------------------------------------------------------------- registration

void RegisterClient(CLI::App& app, int* exit_code) {
  {
    auto a = std::make_shared<SubmitArgs>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("submit", "Submit a job to the server: suanli submit [options] -- CMD ARGS...");
    cmd->add_option_function<uint32_t>(
        "--gpus", [a](const uint32_t& v) { a->gpus = v; }, "Accelerators (default 0)");
    cmd->add_option("--model", a->models, "Accepted accelerator model (repeat or comma-separate; default any)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--stack", a->stacks, "Accepted software stack, e.g. cuda, cann (repeat; default any)")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option_function<double>(
        "--cpus", [a](const double& v) { a->cpus = v; }, "CPU cores (default 1)");
    cmd->add_option_function<int64_t>(
        "--mem", [a](const int64_t& v) { a->mem = v; }, "Memory in MiB (default 1024)");
    cmd->add_option("--time-limit", a->time_limit, "Time limit: seconds or 90m, 1h30m, 2d (default 1h)");
    cmd->add_option("--name", a->name, "A label");
    cmd->add_option_function<int32_t>(
        "--priority", [a](const int32_t& v) { a->priority = v; }, "Priority (larger first; default 0)");
    cmd->add_option("--center", a->center, "Run only in this center");
    cmd->add_option("--env", a->env, "Environment variable NAME=VALUE (repeat)")->allow_extra_args(false);
    cmd->add_option("--duration", a->duration, "Simulated centers: how long the job runs (seconds or 90m)");
    cmd->add_option("--class", a->workload_class, "Workload class: training, inference, other (default other)");
    cmd->add_option("--workdir", a->workdir, "Working directory (default: the job's own directory)");
    cmd->add_option("-f,--file", a->file, "Job file (YAML with the keys of the JSON body); options override it");
    auto* q = cmd->add_flag("-q,--quiet", a->quiet, "Print only the job id");
    auto* j = cmd->add_flag("--json", a->json, "Print the stored job as JSON");
    q->excludes(j);
    cmd->add_option("command", a->command, "The program and its arguments (after --)");
    AddConnOptions(cmd, conn);
    cmd->callback([a, conn, exit_code]() { *exit_code = RunSubmit(*a, *conn); });
  }
  {
    auto a = std::make_shared<QueueArgs>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("queue", "List jobs (default: pending and running), newest first");
    cmd->add_option("--state", a->state,
                    "Only these states, comma-separated (pending, running, succeeded, failed, cancelled)");
    cmd->add_option("--center", a->center, "Only jobs of this center");
    cmd->add_option("--tenant", a->tenant, "Only this tenant's jobs (admin)");
    auto* all = cmd->add_flag("--all", a->all, "Jobs in every state (the 100 newest unless --limit)");
    all->excludes(cmd->get_option("--state"));
    cmd->add_option("--limit", a->limit, "At most this many jobs")->check(CLI::Range(1, 10'000'000));
    cmd->add_flag("--json", a->json, "{\"jobs\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    cmd->callback([a, conn, exit_code]() { *exit_code = RunQueue(*a, *conn); });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("show", "Show one job");
    cmd->add_option("id", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "The job as JSON");
    AddConnOptions(cmd, conn);
    cmd->callback([id, as_json, conn, exit_code]() { *exit_code = RunShow(*id, *as_json, *conn); });
  }
  {
    auto ids = std::make_shared<std::vector<int64_t>>();
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("cancel", "Cancel jobs (pending: at once; running: stopped, then cancelled)");
    cmd->add_option("ids", *ids, "Job ids")->required()->check(CLI::PositiveNumber);
    AddConnOptions(cmd, conn);
    cmd->callback([ids, conn, exit_code]() { *exit_code = RunCancel(*ids, *conn); });
  }
  {
    auto id = std::make_shared<int64_t>(0);
    auto err = std::make_shared<bool>(false);
    auto follow = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("logs", "Print a job's output (stdout, or --stderr)");
    cmd->add_option("id", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--stderr", *err, "The job's standard error instead of its output");
    cmd->add_flag("-f,--follow", *follow, "Keep printing as the job writes, until it ends");
    AddConnOptions(cmd, conn);
    cmd->callback([id, err, follow, conn, exit_code]() { *exit_code = RunLogs(*id, *err, *follow, *conn); });
  }
  {
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("centers", "Centers and their load; `centers drain|resume NAME` (admin)");
    cmd->require_subcommand(0, 1);
    cmd->add_flag("--json", *as_json, "{\"centers\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    for (bool drain : {true, false}) {
      auto name = std::make_shared<std::string>();
      auto* sub = cmd->add_subcommand(drain ? "drain" : "resume", drain ? "Drain a center: it takes no new jobs (admin)"
                                                                        : "Resume a drained center (admin)");
      sub->add_option("name", *name, "Center name")->required();
      auto sconn = std::make_shared<Conn>();
      AddConnOptions(sub, sconn);
      sub->callback([name, drain, conn, sconn, exit_code]() {
        Conn c = *sconn;
        if (c.url.empty()) c.url = conn->url;
        if (c.token.empty()) c.token = conn->token;
        if (c.ca_cert.empty()) c.ca_cert = conn->ca_cert;
        c.insecure = c.insecure || conn->insecure;
        *exit_code = RunCenterAction(*name, drain, c);
      });
    }
    cmd->callback([cmd, as_json, conn, exit_code]() {
      if (!cmd->get_subcommands().empty()) return;  // drain / resume ran
      *exit_code = RunCenters(*as_json, *conn);
    });
  }
  {
    auto as_json = std::make_shared<bool>(false);
    auto conn = std::make_shared<Conn>();
    auto* cmd = app.add_subcommand("tenants", "Tenants (admin: all; a tenant: itself); `tenants create NAME` (admin)");
    cmd->require_subcommand(0, 1);
    cmd->add_flag("--json", *as_json, "{\"tenants\": [...]} as the API answers");
    AddConnOptions(cmd, conn);
    auto a = std::make_shared<TenantCreateArgs>();
    auto cconn = std::make_shared<Conn>();
    auto* create = cmd->add_subcommand("create", "Create a tenant and print its token (admin)");
    create->add_option("name", a->name, "Tenant name: [a-z][a-z0-9_-]{0,39}")->required();
    create->add_flag("--admin", a->admin, "An admin tenant");
    create->add_option("--max-gpus-per-job", a->max_gpus_per_job, "Accelerators one job may ask for (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--max-active-jobs", a->max_active_jobs, "Pending plus running jobs at once (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--max-priority", a->max_priority, "The highest priority its jobs may ask for (default 0)")
        ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
    create->add_flag("--json", a->json, "{\"tenant\": {...}, \"token\": \"...\"} as the API answers");
    AddConnOptions(create, cconn);
    create->callback([a, conn, cconn, exit_code]() {
      Conn c = *cconn;
      if (c.url.empty()) c.url = conn->url;
      if (c.token.empty()) c.token = conn->token;
      if (c.ca_cert.empty()) c.ca_cert = conn->ca_cert;
      c.insecure = c.insecure || conn->insecure;
      *exit_code = RunTenantCreate(*a, c);
    });
    cmd->callback([cmd, as_json, conn, exit_code]() {
      if (!cmd->get_subcommands().empty()) return;
      *exit_code = RunTenants(*as_json, *conn);
    });
  }
}

void RegisterLiveUsage(CLI::App& app, int* exit_code) {
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto conn = std::make_shared<Conn>();
  auto* cmd = app.add_subcommand(
      "usage",
      "Metering of the server's finished jobs by tenant, center and model (with a DIR instead: a simulator run's "
      "usage.csv, see `suanli usage DIR --help`)");
  cmd->add_option("--from", *from, "Jobs that ended at or after: Unix ms or a UTC date YYYY-MM-DD[THH:MM[:SS]]");
  cmd->add_option("--to", *to, "Jobs that ended before: Unix ms or a UTC date");
  cmd->add_flag("--json", *as_json, "{\"usage\": [...]} as the API answers");
  AddConnOptions(cmd, conn);
  cmd->callback([from, to, as_json, conn, exit_code]() { *exit_code = RunLiveUsage(*from, *to, *as_json, *conn); });
}

}  // namespace suanli::app

namespace suanli::app {

bool IsLiveUsage(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != "usage") return false;
  // Options of either form that take a value (their value is not a DIR).
  static constexpr std::string_view kWithValue[] = {"--by", "--run", "--tenant", "--from",
                                                    "--to", "--url", "--token",  "--ca-cert"};
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") return i + 1 >= argc;
    if (a.size() > 2 && a.substr(0, 2) == "--") {
      if (a.find('=') == std::string_view::npos &&
          std::find(std::begin(kWithValue), std::end(kWithValue), a) != std::end(kWithValue)) {
        ++i;
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') continue;
    return false;  // a positional argument: the simulator run's directory
  }
  return true;
}

}  // namespace suanli::app
