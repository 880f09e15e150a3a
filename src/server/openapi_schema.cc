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
        } else if constexpr (std::is_same_v<T, WallMs>) {
          p["type"] = "integer";
          p["format"] = "int64";
        } else {
          p["type"] = "integer";
          if constexpr (std::is_same_v<T, int32_t>) p["format"] = "int32";
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

}  // namespace

ordered_json GeneratedSchemas() {
  ordered_json out = ordered_json::object();
  out["JobSpec"] = RequestSchema(schema::JobSpecFields());
  out["Tenant"] = ResponseSchema(schema::TenantFields());
  out["Usage"] = ResponseSchema(schema::UsageFields());
  out["Attempt"] = ResponseSchema(schema::AttemptFields());
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
