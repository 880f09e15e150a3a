// The API's OpenAPI 3 description, served at GET /api/v1/openapi.json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace suanli::server {

// The document (version is the server's).
const nlohmann::json& OpenApiDocument(const std::string& version);

}  // namespace suanli::server
