// Parsing a request body into JSON with limits enforced while parsing
// (nlohmann::json's SAX interface): nesting depth, keys per object, values in
// all, and keys given twice in one object, each found as soon as it is read,
// so that a hostile body costs time and memory in proportion to the part
// read before the limit, never more (docs/api.md, "Limits").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/json_codec.h"

namespace suanli::server {

struct JsonLimits {
  int max_depth = 32;            // nested arrays and objects
  int64_t max_keys = 2048;       // keys in one object
  int64_t max_values = 100'000;  // values (strings, numbers, arrays, objects...) in all
};

// One JSON object (strict: one value, nothing after it, valid UTF-8). On error
// returns false with *err a 400 naming the field: "body" for syntax errors
// and limits, the key's path ("env.A") for a key given twice.
bool ParseJsonObject(std::string_view body, nlohmann::json* out, ApiError* err, const JsonLimits& limits = {});

// A client-supplied name as it can be shown in a field: printable ASCII kept,
// other bytes as \xNN, at most 64 bytes of the original; an empty name as
// its two quotes.
std::string ShownName(std::string_view name);

// A body parser's early return: *err = FieldError(field, what); false.
bool Fail(ApiError* err, const std::string& field, const std::string& what);

// "an object", "a string", "an integer"... for messages that say what came.
const char* JsonTypeName(const nlohmann::json& v);

}  // namespace suanli::server
