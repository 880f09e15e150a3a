#include "server/openapi.h"

#include <mutex>

#include "base/status.h"
#include "io/embedded.h"

namespace suanli::server {

const nlohmann::json& OpenApiDocument(const std::string& version) {
  static std::once_flag once;
  static nlohmann::json doc;
  std::call_once(once, [&] {
    // data/api/openapi.json, compiled in: every route of api_server.cc, its
    // parameters, bodies, answers and errors (docs/api.md). The dashboard's
    // TypeScript types are generated from the same file (web/src/api.gen.ts).
    auto text = FindEmbeddedFile("api/openapi.json");
    SUANLI_CHECK_MSG(text.has_value(), "the OpenAPI document is not compiled in");
    doc = nlohmann::json::parse(*text);
    doc["info"]["version"] = version;
  });
  return doc;
}

}  // namespace suanli::server
