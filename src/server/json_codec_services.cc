// JSON of inference services (json_codec.h): the body of PUT
// /api/v1/services/{id} and a service as the API answers it.
#include <fmt/format.h>

#include "server/json_codec.h"
#include "server/json_limits.h"

namespace suanli::server {

namespace {

using nlohmann::json;

}  // namespace

bool ParseScaleRequest(std::string_view body, uint32_t* replicas, ApiError* err) {
  json j;
  if (!ParseJsonObject(body, &j, err)) return false;
  bool seen = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "replicas") return Fail(err, ShownName(it.key()), "unknown key (a scale has: replicas)");
    const json& v = it.value();
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > live::kMaxReplicas)
      return Fail(err, "replicas", fmt::format("expected an integer 0..{}", live::kMaxReplicas));
    *replicas = static_cast<uint32_t>(v.get<int64_t>());
    seen = true;
  }
  if (!seen) return Fail(err, "replicas", "required");
  return true;
}

json ServiceToJson(int64_t service, const std::vector<live::JobRecord>& replicas) {
  json arr = json::array();
  for (const live::JobRecord& r : replicas) arr.push_back(JobToJson(r));
  return json{{"service", service}, {"replicas", std::move(arr)}};
}

}  // namespace suanli::server
