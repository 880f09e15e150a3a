// Reading the server's answers (the CLI): jobs, tenants, centers and usage
// from JSON, leniently (unknown keys are ignored; a wrong type is an error
// naming the field).
#include <limits>
#include <map>
#include <optional>
#include <type_traits>
#include <variant>

#include "live/record_schema.h"
#include "server/json_codec.h"
#include "server/json_limits.h"

namespace suanli::server {
namespace {

using live::JobSpec;
using nlohmann::json;

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
// A wall time: the JSON carries it as an integer of Unix milliseconds.
Status ReadWallMs(const json& j, const char* key, WallMs* out) {
  int64_t ms = out->ms();
  SUANLI_RETURN_IF_ERROR(ReadInt(j, key, &ms));
  *out = WallMs(ms);
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
Status ReadGpus(const json& j, const char* key, live::Gpus* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  std::optional<live::Gpus> g;
  if (it->is_number()) g = live::Gpus::FromNumber(it->get<double>());
  if (!g) return WrongType(key, "a number of accelerators", *it);
  *out = *g;
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

Status ReadStrMap(const json& j, const char* key, std::map<std::string, std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return WrongType(key, "an object of strings", *it);
  out->clear();
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) return WrongType(std::string(key) + "." + e.key(), "a string", e.value());
    (*out)[e.key()] = e.value().get<std::string>();
  }
  return Status::Ok();
}

// A job's spec, field by field through its table (live/record_schema.h). In
// a job's JSON the spec's `center` is `requested_center` (`center` is where
// the job is).
Status ReadSpec(const json& j, JobSpec* s) {
  for (const auto& f : live::schema::JobSpecFields()) {
    const std::string key = f.json == "center" ? "requested_center" : std::string(f.json);
    const char* k = key.c_str();
    SUANLI_RETURN_IF_ERROR(std::visit(
        [&](auto m) -> Status {
          using T = std::remove_cvref_t<decltype(s->*m)>;
          if constexpr (std::is_same_v<T, std::string>) return ReadStr(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, std::vector<std::string>>) return ReadStrList(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) return ReadStrMap(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, live::Gpus>) return ReadGpus(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, bool>) return ReadBool(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, double>) return ReadDouble(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, WallMs>) return ReadWallMs(j, k, &(s->*m));
          else if constexpr (std::is_same_v<T, std::vector<int>>)
            return Internal("{}: a list of integers in a spec", k);
          else return ReadInt(j, k, &(s->*m));
        },
        f.member));
  }
  return Status::Ok();
}

}  // namespace

Result<live::JobRecord> JobFromJson(const json& j) {
  if (!j.is_object()) return ParseError("job: expected an object, got {}", JsonTypeName(j));
  live::JobRecord r;
  JobSpec& s = r.spec;
  std::string state = "pending";
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "id", &r.id));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "tenant", &r.tenant));
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "state", &state));
  auto st = live::ParseState(state);
  if (!st) return ParseError("state: unknown state '{}'", state).WithField("state");
  r.state = *st;
  SUANLI_RETURN_IF_ERROR(ReadSpec(j, &s));
  SUANLI_RETURN_IF_ERROR(ReadInt(j, "service", &r.service));
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
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "submit_ms", &r.submit_ms));
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "start_ms", &r.start_ms));
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "end_ms", &r.end_ms));
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "est_start_ms", &r.est_start_ms));
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "checkpoint_ms", &r.checkpoint_ms));
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
  SUANLI_RETURN_IF_ERROR(ReadStr(j, "home", &t.home));
  SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "created_ms", &t.created_ms));
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
  if (j.contains("connected")) {
    live::AgentLinkView a;
    SUANLI_RETURN_IF_ERROR(ReadBool(j, "connected", &a.connected));
    SUANLI_RETURN_IF_ERROR(ReadWallMs(j, "last_seen_ms", &a.last_seen_ms));
    SUANLI_RETURN_IF_ERROR(ReadInt(j, "epoch", &a.epoch));
    c.agent = a;
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
