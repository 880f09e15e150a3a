// The OpenAPI document's schemas of the API's records, generated from their
// tables of fields (live/record_schema.h). data/api/openapi.json holds them
// as written by `suanli api-schema --write` (scripts/gen-openapi.sh); a test
// fails when the committed file and the tables differ.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace suanli::server {

// components.schemas entries made from tables: {"JobSpec": {...}, ...}, in
// the tables' order of fields.
nlohmann::ordered_json GeneratedSchemas();

// `doc` (the whole OpenAPI document) with its generated schemas replaced by
// GeneratedSchemas(); the rest of it as it was.
nlohmann::ordered_json WithGeneratedSchemas(nlohmann::ordered_json doc);

// Rewrites the OpenAPI document at `path` in place (WithGeneratedSchemas),
// in the file's format: two-space indents, a newline at the end.
Status WriteGeneratedSchemas(const std::string& path);

}  // namespace suanli::server
