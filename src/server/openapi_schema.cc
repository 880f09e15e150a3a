// The records' OpenAPI schemas from their tables of fields (openapi_schema.h).
#include "server/openapi_schema.h"

#include <fstream>

#include "live/record_schema.h"
#include "live/store.h"

namespace suanli::server {
namespace {

using nlohmann::ordered_json;
namespace schema = live::schema;

ordered_json StringSchema(size_t max_bytes) {
  ordered_json s = ordered_json::object();
  s["type"] = "string";
  s["maxLength"] = max_bytes;
  return s;
}

// A field's schema; `request`: a request's field, with its defaults, and
// every limit stated (an answer's field states those it has).
template <class R>
ordered_json FieldSchema(const schema::Field<R>& f, bool request) {
  static const R defaults{};
  ordered_json p = ordered_json::object();
  const schema::Limits& l = f.limits;
  std::visit(
      [&](auto m) {
        using T = std::remove_cvref_t<decltype(defaults.*m)>;
        const T& d = defaults.*m;
        if constexpr (std::is_same_v<T, std::string>) {
          p["type"] = "string";
          if (request || l.max) p["maxLength"] = l.max;
          if (request && !d.empty()) p["default"] = d;
          if (!f.choices.empty()) {
            ordered_json e = ordered_json::array();
            for (auto c : f.choices) e.push_back(c);
            p["enum"] = std::move(e);
          }
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          p["type"] = "array";
          p["items"] = StringSchema(l.item_bytes);
          if (f.has(schema::kNonEmpty)) p["minItems"] = 1;
          p["maxItems"] = l.max;
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          p["type"] = "object";
          p["additionalProperties"] = StringSchema(l.item_bytes);
          p["maxProperties"] = l.max;
        } else if constexpr (std::is_same_v<T, bool>) {
          p["type"] = "boolean";
          if (request) p["default"] = d;
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
          p["type"] = "array";
          ordered_json items = ordered_json::object();
          items["type"] = "integer";
          p["items"] = std::move(items);
        } else if constexpr (std::is_same_v<T, double>) {
          p["type"] = "number";
        } else if constexpr (std::is_same_v<T, live::Gpus>) {
          p["type"] = "number";
          p["minimum"] = l.min;
          p["maximum"] = l.max;
          p["multipleOf"] = 0.001;
          if (request && d.shared()) p["default"] = d.value();
          if (request && !d.shared()) p["default"] = d.devices();
        } else if constexpr (std::is_same_v<T, WallMs>) {
          p["type"] = "integer";
          p["format"] = "int64";
        } else {
          p["type"] = "integer";
          if constexpr (std::is_same_v<T, int32_t>) p["format"] = "int32";
          if constexpr (std::is_same_v<T, int64_t>) p["format"] = "int64";
          if (request || l.min || l.max) {
            p["minimum"] = l.min;
            p["maximum"] = l.max;
          }
          if (request) p["default"] = d;
        }
      },
      f.member);
  if (!f.description.empty()) p["description"] = f.description;
  return p;
}

// A request record: only its keys (additionalProperties false), the
// kRequired ones required.
template <class R>
ordered_json RequestSchema(std::span<const schema::Field<R>> fields) {
  ordered_json s = ordered_json::object();
  s["type"] = "object";
  ordered_json required = ordered_json::array();
  for (const auto& f : fields)
    if (f.has(schema::kRequired)) required.push_back(f.json);
  s["required"] = std::move(required);
  s["additionalProperties"] = false;
  ordered_json props = ordered_json::object();
  for (const auto& f : fields) props[std::string(f.json)] = FieldSchema(f, true);
  s["properties"] = std::move(props);
  return s;
}

// An answer's record: its fields, all of them always present.
template <class R>
ordered_json ResponseSchema(std::span<const schema::Field<R>> fields) {
  ordered_json s = ordered_json::object();
  s["type"] = "object";
  ordered_json props = ordered_json::object();
  for (const auto& f : fields) props[std::string(f.json)] = FieldSchema(f, false);
  s["properties"] = std::move(props);
  return s;
}

ordered_json Described(std::string_view type, std::string_view description) {
  ordered_json p = ordered_json::object();
  p["type"] = type;
  p["description"] = description;
  return p;
}

// A job: its own fields and its spec's (live/record_schema*.cc), and those
// JobToJson adds (json_codec_response.cc).
ordered_json JobSchema() {
  ordered_json s = ResponseSchema(schema::JobFields());
  ordered_json& props = s["properties"];
  for (const auto& f : schema::JobSpecFields()) props[std::string(f.json)] = FieldSchema(f, false);
  ordered_json state = Described("string", "pending, running, then one of succeeded, failed, cancelled");
  ordered_json states = ordered_json::array();
  for (auto st : {live::JobState::kPending, live::JobState::kRunning, live::JobState::kSucceeded,
                  live::JobState::kFailed, live::JobState::kCancelled}) {
    states.push_back(live::StateName(st));
  }
  state["enum"] = std::move(states);
  props["state"] = std::move(state);
  props["center"] = Described("string", "where it runs (while undecided: the center asked for, if any)");
  props["requested_center"] = Described("string", "the center asked for at submission (empty: any)");
  ordered_json attempts = Described("array", "its runs that have ended, oldest first (GET /api/v1/jobs/{id})");
  ordered_json ref = ordered_json::object();
  ref["$ref"] = "#/components/schemas/Attempt";
  attempts["items"] = std::move(ref);
  props["attempts"] = std::move(attempts);
  ordered_json events = Described("array", "its history, oldest first (GET /api/v1/jobs/{id})");
  ordered_json eref = ordered_json::object();
  eref["$ref"] = "#/components/schemas/Event";
  events["items"] = std::move(eref);
  props["events"] = std::move(events);
  return s;
}

}  // namespace

ordered_json GeneratedSchemas() {
  ordered_json out = ordered_json::object();
  out["JobSpec"] = RequestSchema(schema::JobSpecFields());
  out["Tenant"] = ResponseSchema(schema::TenantFields());
  out["Usage"] = ResponseSchema(schema::UsageFields());
  out["Attempt"] = ResponseSchema(schema::AttemptFields());
  out["Event"] = ResponseSchema(schema::EventFields());
  out["Job"] = JobSchema();
  return out;
}

ordered_json WithGeneratedSchemas(ordered_json doc) {
  const ordered_json generated = GeneratedSchemas();
  for (auto it = generated.begin(); it != generated.end(); ++it) doc["components"]["schemas"][it.key()] = it.value();
  return doc;
}

Status WriteGeneratedSchemas(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read {}", path);
  auto doc = ordered_json::parse(in, nullptr, false);
  if (!doc.is_object()) return InvalidArgument("{}: not a JSON object", path);
  in.close();
  std::ofstream out(path, std::ios::trunc);
  out << WithGeneratedSchemas(std::move(doc)).dump(2) << "\n";
  out.close();
  if (!out) return Internal("cannot write {}", path);
  return Status::Ok();
}

}  // namespace suanli::server
