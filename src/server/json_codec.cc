// The API's errors and the strict parsing of requests: job spec and tenant
// bodies, query strings, job ids and each route's query parameters. The
// records as JSON are in json_codec_response.cc, the CLI's reading of the
// server's answers in json_codec_client.cc.
#include "server/json_codec.h"

#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "server/json_limits.h"
#include "server/record_json.h"

namespace suanli::server {
namespace {

using live::JobSpec;
using nlohmann::json;

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

}  // namespace

bool Fail(ApiError* err, const std::string& field, const std::string& what) {
  *err = FieldError(field, what);
  return false;
}

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
  // The spec's table (live/record_schema.h): its keys and types, then the
  // same check of its fields' limits as ValidateSpec's.
  JobSpec s;
  Status st;
  if (!DecodeRecord(live::schema::JobSpecFields(), "a job spec", j, &s, &st)) {
    *err = ErrorFromStatus(st);
    return false;
  }
  if (st = live::schema::CheckSpecFields(s); !st.ok()) {
    *err = ErrorFromStatus(st);
    return false;
  }
  *spec = std::move(s);
  return true;
}

bool JsonToInt(const json& v, std::string_view field, const live::schema::Limits& l, int64_t* out, Status* err) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *err = InvalidField(std::string(field), "{} {}..{}{}, got {}", l.range.empty() ? "must be" : l.range, l.min, l.max,
                        l.unit, v.get<uint64_t>());
    return false;
  }
  if (!v.is_number_integer()) {
    *err = InvalidField(std::string(field), "expected an integer {}..{}, got {}", l.min, l.max, JsonTypeName(v));
    return false;
  }
  int64_t n = v.get<int64_t>();
  if (Status st = live::schema::CheckInt(field, l, n); !st.ok()) {
    *err = st;
    return false;
  }
  *out = n;
  return true;
}

bool JsonToGpus(const json& v, std::string_view field, const live::schema::Limits& l, live::Gpus* out, Status* err) {
  std::optional<live::Gpus> g;
  if (v.is_number()) g = live::Gpus::FromNumber(v.get<double>());
  if (!g) {
    *err = InvalidField(std::string(field), "expected a number {}..{} with at most three decimals, got {}", l.min,
                        l.max, v.is_number() ? v.dump() : std::string(JsonTypeName(v)));
    return false;
  }
  if (Status st = live::schema::CheckGpus(field, l, *g); !st.ok()) {
    *err = st;
    return false;
  }
  *out = *g;
  return true;
}

json GpusJson(live::Gpus g) {
  if (g.shared()) return g.value();
  return g.devices();
}

bool JsonToString(const json& v, std::string_view field, std::string* out, Status* err) {
  if (!v.is_string()) {
    *err = InvalidField(std::string(field), "expected a string, got {}", JsonTypeName(v));
    return false;
  }
  *out = v.get_ref<const std::string&>();
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
      if (!GetInt(v, k, 0, live::kMaxTenantGpusPerJob, "expected a non-negative integer", &r.max_gpus_per_job, err))
        return false;
    } else if (k == "max_active_jobs") {
      if (!GetInt(v, k, 0, live::kMaxTenantActiveJobs, "expected a non-negative integer", &r.max_active_jobs, err)) {
        return false;
      }
    } else if (k == "max_priority") {
      if (!GetInt(v, k, 0, live::kMaxTenantPriority, "expected an integer 0..1000000", &r.max_priority, err)) {
        return false;
      }
    } else if (k == "home") {
      if (!GetString(v, k, 256, &r.home, err)) return false;
    } else {
      return Fail(err, Shown(k),
                  "unknown key (a tenant has: name, admin, max_gpus_per_job, max_active_jobs, max_priority, home)");
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
  if (!CheckParams(q, {"state", "center", "tenant", "service", "limit", "before"}, err)) return false;
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
  if (!QueryInt(q, "service", 1, std::numeric_limits<int64_t>::max(), &f.service, err)) return false;
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

}  // namespace suanli::server
