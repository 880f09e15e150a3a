#include "server/json_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "server/json_limits.h"

namespace suanli::server {
namespace {

using live::JobSpec;
using nlohmann::json;

bool Fail(ApiError* err, const std::string& field, const std::string& what) {
  *err = FieldError(field, what);
  return false;
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string Shown(std::string_view name) { return ShownName(name); }

// An integer in [lo, hi]; `what` describes the expected kind for type errors.
bool GetInt(const json& v, const std::string& field, int64_t lo, int64_t hi, const char* what, int64_t* out,
            ApiError* err) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) {
      return Fail(err, field, fmt::format("{} {}..{}, got {}", what, lo, hi, u));
    }
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < lo || i > hi) return Fail(err, field, fmt::format("{} {}..{}, got {}", what, lo, hi, i));
    *out = i;
    return true;
  }
  return Fail(err, field, fmt::format("{} {}..{}, got {}", what, lo, hi, JsonTypeName(v)));
}

bool GetString(const json& v, const std::string& field, size_t max_len, std::string* out, ApiError* err) {
  if (!v.is_string()) return Fail(err, field, fmt::format("expected a string, got {}", JsonTypeName(v)));
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_len) return Fail(err, field, fmt::format("longer than {} bytes", max_len));
  if (HasNul(s)) return Fail(err, field, "must not contain NUL characters");
  *out = s;
  return true;
}

bool GetBool(const json& v, const std::string& field, bool* out, ApiError* err) {
  if (!v.is_boolean()) return Fail(err, field, fmt::format("expected true or false, got {}", JsonTypeName(v)));
  *out = v.get<bool>();
  return true;
}

bool GetStringList(const json& v, const std::string& field, size_t max_items, size_t max_len,
                   std::vector<std::string>* out, ApiError* err) {
  if (!v.is_array()) {
    return Fail(err, field, fmt::format("expected an array of strings, got {}", JsonTypeName(v)));
  }
  if (v.size() > max_items) return Fail(err, field, fmt::format("at most {} items, got {}", max_items, v.size()));
  out->clear();
  out->reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (!GetString(v[i], fmt::format("{}[{}]", field, i), max_len, &s, err)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

// One JSON object, with the limits on depth, keys and values enforced while
// it is parsed (json_limits.h).
bool ParseObject(std::string_view body, json* out, ApiError* err) { return ParseJsonObject(body, out, err); }

// Query parameters: each at most once, only known names.
bool CheckParams(const QueryParams& q, std::initializer_list<std::string_view> known, ApiError* err) {
  for (auto it = q.begin(); it != q.end(); ++it) {
    bool ok = false;
    for (auto k : known) ok = ok || it->first == k;
    if (!ok) {
      std::string names;
      for (auto k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      return Fail(err, Shown(it->first),
                  names.empty() ? std::string("unknown query parameter (this route takes none)")
                                : fmt::format("unknown query parameter (expected one of: {})", names));
    }
    if (q.count(it->first) > 1) return Fail(err, Shown(it->first), "query parameter given more than once");
  }
  return true;
}

bool QueryInt(const QueryParams& q, const std::string& name, int64_t lo, int64_t hi, int64_t* out, ApiError* err) {
  auto it = q.find(name);
  if (it == q.end()) return true;
  const std::string& s = it->second;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return Fail(err, name, fmt::format("expected an integer {}..{}, got '{}'", lo, hi, s.substr(0, 64)));
  }
  if (v < lo || v > hi) return Fail(err, name, fmt::format("must be {}..{}, got {}", lo, hi, v));
  *out = v;
  return true;
}

json NumberOrZero(double v) { return std::isfinite(v) ? json(v) : json(0); }

// Lenient readers for answers (the CLI).
Status WrongType(const std::string& field, const char* expected, const json& v) {
  return ParseError("{}: expected {}, got {}", field, expected, JsonTypeName(v)).WithField(field);
}
Status ReadStr(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return WrongType(key, "a string", *it);
  *out = it->get<std::string>();
  return Status::Ok();
}
template <typename T>
Status ReadInt(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return WrongType(key, "an integer", *it);
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return ParseError("{}: out of range", key).WithField(key);
    *out = static_cast<T>(u);
    return Status::Ok();
  }
  int64_t v = it->get<int64_t>();
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
    return ParseError("{}: out of range", key).WithField(key);
  }
  *out = static_cast<T>(v);
  return Status::Ok();
}
Status ReadDouble(const json& j, const char* key, double* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return WrongType(key, "a number", *it);
  *out = it->get<double>();
  return Status::Ok();
}
Status ReadBool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return WrongType(key, "true or false", *it);
  *out = it->get<bool>();
  return Status::Ok();
}
Status ReadStrList(const json& j, const char* key, std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return WrongType(key, "an array of strings", *it);
  out->clear();
  for (const auto& v : *it) {
    if (!v.is_string()) return WrongType(key, "an array of strings", *it);
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

ApiError FieldError(const std::string& field, const std::string& what) {
  ApiError e;
  e.http_status = 400;
  e.code = "invalid_argument";
  e.field = field;
  e.message = field.empty() ? what : field + ": " + what;
  return e;
}

ApiError ErrorFromStatus(const Status& st) {
  ApiError e;
  e.message = st.message().empty() ? std::string("error") : st.message();
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kParseError:
      e.http_status = 400;
      e.code = "invalid_argument";
      break;
    case StatusCode::kNotFound:
      e.http_status = 404;
      e.code = "not_found";
      break;
    case StatusCode::kPermissionDenied:
      e.http_status = 403;
      e.code = "permission_denied";
      break;
    case StatusCode::kFailedPrecondition:
      e.http_status = 409;
      e.code = "failed_precondition";
      break;
    case StatusCode::kResourceExhausted:
      e.http_status = 429;
      e.code = "resource_exhausted";
      break;
    case StatusCode::kUnavailable:
      e.http_status = 503;
      e.code = "unavailable";
      break;
    default:
      e.http_status = 500;
      e.code = "internal";
      break;
  }
  if (e.http_status == 400 || e.http_status == 429) e.field = st.field();
  return e;
}

std::string ErrorJson(const ApiError& e) {
  json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return Dump(json{{"error", std::move(err)}});
}

std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

bool JobSpecFromJson(const json& j, JobSpec* spec, ApiError* err) {
  if (!j.is_object()) return Fail(err, "body", fmt::format("expected a JSON object, got {}", JsonTypeName(j)));
  JobSpec s;
  bool have_command = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    int64_t n = 0;
    if (k == "name") {
      if (!GetString(v, k, live::kMaxNameBytes, &s.name, err)) return false;
    } else if (k == "command") {
      if (!GetStringList(v, k, live::kMaxArgs, live::kMaxArgBytes, &s.command, err)) return false;
      if (s.command.empty()) return Fail(err, k, "must name a program (a non-empty array of strings)");
      if (s.command[0].empty()) return Fail(err, "command[0]", "the program must not be empty");
      have_command = true;
    } else if (k == "env") {
      if (!v.is_object()) return Fail(err, k, fmt::format("expected an object of strings, got {}", JsonTypeName(v)));
      if (v.size() > live::kMaxEnvVars)
        return Fail(err, k, fmt::format("at most {} variables, got {}", live::kMaxEnvVars, v.size()));
      for (auto e = v.begin(); e != v.end(); ++e) {
        const std::string& name = e.key();
        if (name.empty() || name.size() > live::kMaxEnvKeyBytes || name.find('=') != std::string::npos ||
            HasNul(name)) {
          return Fail(err, "env",
                      fmt::format("invalid variable name '{}' (non-empty, no '=', at most {} bytes)",
                                  name.substr(0, 64), live::kMaxEnvKeyBytes));
        }
        std::string val;
        if (!GetString(e.value(), "env." + name, 64 * 1024, &val, err)) return false;
        s.env[name] = std::move(val);
      }
    } else if (k == "workdir") {
      if (!GetString(v, k, live::kMaxPathBytes, &s.workdir, err)) return false;
    } else if (k == "gpus") {
      if (!GetInt(v, k, 0, live::kMaxGpus, "expected a non-negative integer", &n, err)) return false;
      s.gpus = static_cast<uint32_t>(n);
    } else if (k == "cpu_milli") {
      if (!GetInt(v, k, 0, live::kMaxCpuMilli, "expected a non-negative integer", &s.cpu_milli, err)) return false;
    } else if (k == "mem_mib") {
      if (!GetInt(v, k, 0, live::kMaxMemMib, "expected a non-negative integer", &s.mem_mib, err)) return false;
    } else if (k == "models") {
      if (!GetStringList(v, k, live::kMaxListItems, 256, &s.models, err)) return false;
    } else if (k == "stacks") {
      if (!GetStringList(v, k, live::kMaxListItems, 256, &s.stacks, err)) return false;
    } else if (k == "class") {
      if (!GetString(v, k, 64, &s.workload_class, err)) return false;
    } else if (k == "time_limit_s") {
      if (!GetInt(v, k, 1, live::kMaxTimeLimitS, "expected an integer", &s.time_limit_s, err)) {
        return false;
      }
    } else if (k == "duration_s") {
      if (!GetInt(v, k, 0, live::kMaxTimeLimitS, "expected an integer", &s.duration_s, err)) {
        return false;
      }
    } else if (k == "priority") {
      if (!GetInt(v, k, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), "expected an integer",
                  &n, err)) {
        return false;
      }
      s.priority = static_cast<int32_t>(n);
    } else if (k == "center") {
      if (!GetString(v, k, 256, &s.center, err)) return false;
    } else {
      return Fail(err, Shown(k),
                  "unknown key (a job spec has: command, name, env, workdir, gpus, cpu_milli, mem_mib, models, "
                  "stacks, class, time_limit_s, duration_s, priority, center)");
    }
  }
  if (!have_command) return Fail(err, "command", "required (an array of strings: the program and its arguments)");
  *spec = std::move(s);
  return true;
}

bool ParseJobSpec(std::string_view body, JobSpec* spec, ApiError* err) {
  json j;
  if (!ParseObject(body, &j, err)) return false;
  return JobSpecFromJson(j, spec, err);
}

bool ParseTenantRequest(std::string_view body, TenantRequest* req, ApiError* err) {
  json j;
  if (!ParseObject(body, &j, err)) return false;
  TenantRequest r;
  bool have_name = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name") {
      if (!GetString(v, k, 64, &r.name, err)) return false;
      bool ok = !r.name.empty() && r.name.size() <= 40 && r.name[0] >= 'a' && r.name[0] <= 'z';
      for (char c : r.name) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
      }
      if (!ok) {
        return Fail(err, k, "must be 1 to 40 lowercase letters, digits, '_' or '-', starting with a letter");
      }
      have_name = true;
    } else if (k == "admin") {
      if (!GetBool(v, k, &r.admin, err)) return false;
    } else if (k == "max_gpus_per_job") {
      if (!GetInt(v, k, 0, 1 << 20, "expected a non-negative integer", &r.max_gpus_per_job, err)) return false;
    } else if (k == "max_active_jobs") {
      if (!GetInt(v, k, 0, int64_t{1} << 40, "expected a non-negative integer", &r.max_active_jobs, err)) {
        return false;
      }
    } else if (k == "max_priority") {
      if (!GetInt(v, k, 0, live::kMaxTenantPriority, "expected an integer 0..1000000", &r.max_priority, err)) {
        return false;
      }
    } else {
      return Fail(err, Shown(k),
                  "unknown key (a tenant has: name, admin, max_gpus_per_job, max_active_jobs, max_priority)");
    }
  }
  if (!have_name) return Fail(err, "name", "required");
  *req = std::move(r);
  return true;
}

bool ParseQueryString(std::string_view query, QueryParams* out, ApiError* err) {
  QueryParams q;
  auto decode = [&](std::string_view in, std::string* dec) {
    dec->clear();
    dec->reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      char c = in[i];
      if (c == '+') {
        *dec += ' ';
      } else if (c == '%') {
        auto hex = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        int hi = i + 2 < in.size() ? hex(in[i + 1]) : -1;
        int lo = i + 2 < in.size() ? hex(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) return false;
        char d = static_cast<char>(hi * 16 + lo);
        if (d == '\0') return false;
        *dec += d;
        i += 2;
      } else {
        *dec += c;
      }
    }
    return true;
  };
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key, value;
      if (!decode(part.substr(0, eq), &key) || (eq != std::string_view::npos && !decode(part.substr(eq + 1), &value))) {
        return Fail(err, "query", fmt::format("bad percent-escape or NUL in '{}'", std::string(part.substr(0, 64))));
      }
      if (key.empty()) return Fail(err, "query", "a parameter without a name");
      q.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  *out = std::move(q);
  return true;
}

bool ParseJobId(std::string_view text, int64_t* id, ApiError* err) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0 || text[0] == '+') {
    std::string shown(text.substr(0, 64));
    return Fail(err, "id", fmt::format("expected a positive integer job id, got '{}'", shown));
  }
  *id = v;
  return true;
}

bool ParseJobListQuery(const QueryParams& q, live::JobFilter* filter, ApiError* err) {
  if (!CheckParams(q, {"state", "center", "tenant", "limit", "before"}, err)) return false;
  live::JobFilter f;
  if (auto it = q.find("state"); it != q.end()) {
    size_t start = 0;
    const std::string& s = it->second;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      std::string one = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto st = live::ParseState(one);
      if (!st) {
        return Fail(
            err, "state",
            fmt::format("unknown state '{}' (pending, running, succeeded, failed, cancelled)", one.substr(0, 64)));
      }
      f.states.push_back(*st);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (auto it = q.find("center"); it != q.end()) {
    if (it->second.size() > 256 || HasNul(it->second)) return Fail(err, "center", "invalid center name");
    f.center = it->second;
  }
  if (auto it = q.find("tenant"); it != q.end()) {
    if (it->second.size() > 64 || HasNul(it->second)) return Fail(err, "tenant", "invalid tenant name");
    f.tenant = it->second;
  }
  int64_t limit = 100;
  if (!QueryInt(q, "limit", 1, 1000, &limit, err)) return false;
  f.limit = static_cast<int>(limit);
  if (!QueryInt(q, "before", 1, std::numeric_limits<int64_t>::max(), &f.before_id, err)) return false;
  *filter = std::move(f);
  return true;
}

bool ParseLogQuery(const QueryParams& q, LogQuery* out, ApiError* err) {
  if (!CheckParams(q, {"stream", "offset", "limit"}, err)) return false;
  LogQuery l;
  if (auto it = q.find("stream"); it != q.end()) {
    if (it->second != "stdout" && it->second != "stderr") {
      return Fail(err, "stream", fmt::format("expected stdout or stderr, got '{}'", it->second.substr(0, 64)));
    }
    l.stream = it->second;
  }
  if (!QueryInt(q, "offset", 0, std::numeric_limits<int64_t>::max(), &l.offset, err)) return false;
  if (!QueryInt(q, "limit", 1, kMaxLogChunk, &l.limit, err)) return false;
  *out = l;
  return true;
}

bool ParseUsageQuery(const QueryParams& q, UsageQuery* out, ApiError* err) {
  if (!CheckParams(q, {"from", "to"}, err)) return false;
  UsageQuery u;
  if (!QueryInt(q, "from", 0, std::numeric_limits<int64_t>::max(), &u.from_ms, err)) return false;
  if (!QueryInt(q, "to", 0, std::numeric_limits<int64_t>::max(), &u.to_ms, err)) return false;
  if (u.to_ms < u.from_ms) return Fail(err, "to", fmt::format("must not be before from ({} < {})", u.to_ms, u.from_ms));
  *out = u;
  return true;
}

bool ParseNoQuery(const QueryParams& q, ApiError* err) { return CheckParams(q, {}, err); }

json JobSpecToJson(const JobSpec& s) {
  json j = json::object();
  if (!s.name.empty()) j["name"] = s.name;
  j["command"] = s.command;
  if (!s.env.empty()) j["env"] = s.env;
  if (!s.workdir.empty()) j["workdir"] = s.workdir;
  j["gpus"] = s.gpus;
  j["cpu_milli"] = s.cpu_milli;
  j["mem_mib"] = s.mem_mib;
  if (!s.models.empty()) j["models"] = s.models;
  if (!s.stacks.empty()) j["stacks"] = s.stacks;
  j["class"] = s.workload_class;
  j["time_limit_s"] = s.time_limit_s;
  if (s.duration_s != 0) j["duration_s"] = s.duration_s;
  if (s.priority != 0) j["priority"] = s.priority;
  if (!s.center.empty()) j["center"] = s.center;
  return j;
}

static json AttemptToJson(const live::JobAttempt& a) {
  return json{{"n", a.n},
              {"center", a.center},
              {"node", a.node},
              {"model", a.model},
              {"devices", a.devices},
              {"start_ms", a.start_ms},
              {"end_ms", a.end_ms},
              {"outcome", a.outcome},
              {"reason", a.reason},
              {"gpu_seconds", NumberOrZero(a.gpu_seconds)},
              {"energy_kwh", NumberOrZero(a.energy_kwh)},
              {"cost", NumberOrZero(a.cost)},
              {"carbon_kg", NumberOrZero(a.carbon_kg)}};
}

json JobToJson(const live::JobRecord& r) {
  const JobSpec& s = r.spec;
  json attempts = json::array();
  for (const auto& a : r.attempts) attempts.push_back(AttemptToJson(a));
  return json{{"id", r.id},
              {"name", s.name},
              {"tenant", r.tenant},
              {"state", std::string(live::StateName(r.state))},
              {"command", s.command},
              {"env", s.env},
              {"workdir", s.workdir},
              {"gpus", s.gpus},
              {"cpu_milli", s.cpu_milli},
              {"mem_mib", s.mem_mib},
              {"models", s.models},
              {"stacks", s.stacks},
              {"class", s.workload_class},
              {"time_limit_s", s.time_limit_s},
              {"duration_s", s.duration_s},
              {"priority", s.priority},
              // Where it runs: the record's center once decided, else the one asked for.
              {"center", r.center.empty() ? s.center : r.center},
              {"requested_center", s.center},
              {"model", r.model},
              {"node", r.node},
              {"devices", r.devices},
              {"backend_id", r.backend_id},
              {"submit_ms", r.submit_ms},
              {"start_ms", r.start_ms},
              {"end_ms", r.end_ms},
              {"est_start_ms", r.est_start_ms},
              {"exit_code", r.exit_code},
              {"signal", r.signal},
              {"reason", r.reason},
              {"gpu_seconds", NumberOrZero(r.gpu_seconds)},
              {"energy_kwh", NumberOrZero(r.energy_kwh)},
              {"cost", NumberOrZero(r.cost)},
              {"carbon_kg", NumberOrZero(r.carbon_kg)},
              {"attempts", std::move(attempts)}};
}

json TenantToJson(const live::Tenant& t) {
  return json{{"name", t.name},
              {"admin", t.admin},
              {"max_gpus_per_job", t.max_gpus_per_job},
              {"max_active_jobs", t.max_active_jobs},
              {"max_priority", t.max_priority},
              {"created_ms", t.created_ms}};
}

json CenterToJson(const live::CenterView& c) {
  json models = json::array();
  for (const auto& m : c.models) {
    models.push_back({{"model", m.model}, {"total", m.total}, {"busy", NumberOrZero(m.busy)}});
  }
  json down = json::array();
  for (const auto& n : c.nodes_down) down.push_back({{"node", n.node}, {"reason", n.reason}});
  return json{{"name", c.name},
              {"backend", c.backend},
              {"region", c.region},
              {"up", c.up},
              {"drained", c.drained},
              {"reason", c.reason},
              {"devices", c.devices},
              {"busy_devices", NumberOrZero(c.busy_devices)},
              {"models", std::move(models)},
              {"pending", c.pending},
              {"running", c.running},
              {"pue", NumberOrZero(c.pue)},
              {"price_now", NumberOrZero(c.price_now)},
              {"carbon_now", NumberOrZero(c.carbon_now)},
              {"power_kw", NumberOrZero(c.power_kw)},
              {"nodes_down", std::move(down)}};
}

json UsageToJson(const live::UsageSum& u) {
  return json{{"tenant", u.tenant},
              {"center", u.center},
              {"model", u.model},
              {"jobs", u.jobs},
              {"gpu_seconds", NumberOrZero(u.gpu_seconds)},
              {"energy_kwh", NumberOrZero(u.energy_kwh)},
              {"cost", NumberOrZero(u.cost)},
              {"carbon_kg", NumberOrZero(u.carbon_kg)}};
}

Result<live::JobRecord> JobFromJson(const json& j) {
  if (!j.is_object()) return ParseError("job: expected an object, got {}", JsonTypeName(j));
  live::JobRecord r;
  JobSpec& s = r.spec;
  std::string state = "pending";
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "id", &r.id));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "name", &s.name));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "tenant", &r.tenant));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "state", &state));
  auto st = live::ParseState(state);
  if (!st) return ParseError("state: unknown state '{}'", state).WithField("state");
  r.state = *st;
  SUANLI_RETURN_IF_ERROR(ReadStrList(j, "command", &s.command));
  if (auto it = j.find("env"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return WrongType("env", "an object of strings", *it);
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (!e.value().is_string()) return WrongType("env." + e.key(), "a string", e.value());
      s.env[e.key()] = e.value().get<std::string>();
    }
  }
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "workdir", &s.workdir));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "gpus", &s.gpus));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "cpu_milli", &s.cpu_milli));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "mem_mib", &s.mem_mib));
  SUANLI_RETURN_IF_ERROR(ReadStrList(j, "models", &s.models));
  SUANLI_RETURN_IF_ERROR(ReadStrList(j, "stacks", &s.stacks));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "class", &s.workload_class));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "time_limit_s", &s.time_limit_s));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "duration_s", &s.duration_s));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "priority", &s.priority));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "requested_center", &s.center));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "center", &r.center));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "model", &r.model));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "node", &r.node));
  if (auto it = j.find("devices"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return WrongType("devices", "an array of integers", *it);
    for (const auto& d : *it) {
      if (!d.is_number_integer()) return WrongType("devices", "an array of integers", *it);
      r.devices.push_back(d.get<int>());
    }
  }
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "backend_id", &r.backend_id));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "submit_ms", &r.submit_ms));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "start_ms", &r.start_ms));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "end_ms", &r.end_ms));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "est_start_ms", &r.est_start_ms));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "exit_code", &r.exit_code));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "signal", &r.signal));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "reason", &r.reason));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "gpu_seconds", &r.gpu_seconds));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "energy_kwh", &r.energy_kwh));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "cost", &r.cost));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "carbon_kg", &r.carbon_kg));
  return r;
}

Result<live::Tenant> TenantFromJson(const json& j) {
  if (!j.is_object()) return ParseError("tenant: expected an object, got {}", JsonTypeName(j));
  live::Tenant t;
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "name", &t.name));
  SUANLI_RETURN_IF_ERROR(ReadBool(j, "admin", &t.admin));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "max_gpus_per_job", &t.max_gpus_per_job));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "max_active_jobs", &t.max_active_jobs));
  if (j.contains("max_priority")) SUANLI_RETURN_IF_ERROR(ReadInt(j, "max_priority", &t.max_priority));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "created_ms", &t.created_ms));
  return t;
}

Result<live::CenterView> CenterFromJson(const json& j) {
  if (!j.is_object()) return ParseError("center: expected an object, got {}", JsonTypeName(j));
  live::CenterView c;
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "name", &c.name));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "backend", &c.backend));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "region", &c.region));
  SUANLI_RETURN_IF_ERROR(ReadBool(j, "up", &c.up));
  SUANLI_RETURN_IF_ERROR(ReadBool(j, "drained", &c.drained));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "reason", &c.reason));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "devices", &c.devices));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "busy_devices", &c.busy_devices));
  if (auto it = j.find("models"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return WrongType("models", "an array", *it);
    for (const auto& m : *it) {
      if (!m.is_object()) return WrongType("models", "an array of objects", *it);
      live::ModelUse u;
      SUANLI_RETURN_IF_ERROR(ReadStr(m, "model", &u.model));
      SUANLI_RETURN_IF_ERROR(ReadInt(m, "total", &u.total));
      SUANLI_RETURN_IF_ERROR(ReadDouble(m, "busy", &u.busy));
      c.models.push_back(std::move(u));
    }
  }
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "pending", &c.pending));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "running", &c.running));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "pue", &c.pue));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "price_now", &c.price_now));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "carbon_now", &c.carbon_now));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "power_kw", &c.power_kw));
  if (auto it = j.find("nodes_down"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return WrongType("nodes_down", "an array", *it);
    for (const auto& n : *it) {
      if (!n.is_object()) return WrongType("nodes_down", "an array of objects", *it);
      live::CenterView::NodeDown d;
      SUANLI_RETURN_IF_ERROR(ReadStr(n, "node", &d.node));
      SUANLI_RETURN_IF_ERROR(ReadStr(n, "reason", &d.reason));
      c.nodes_down.push_back(std::move(d));
    }
  }
  return c;
}

Result<live::UsageSum> UsageFromJson(const json& j) {
  if (!j.is_object()) return ParseError("usage: expected an object, got {}", JsonTypeName(j));
  live::UsageSum u;
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "tenant", &u.tenant));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "center", &u.center));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "model", &u.model));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "jobs", &u.jobs));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "gpu_seconds", &u.gpu_seconds));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "energy_kwh", &u.energy_kwh));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "cost", &u.cost));
  SUANLI_RETURN_IF_ERROR(ReadDouble(j, "carbon_kg", &u.carbon_kg));
  return u;
}

}  // namespace suanli::server
