// JSON of datasets (json_codec.h): the body of POST /api/v1/datasets and a
// dataset as the API answers it.
#include <cmath>

#include <fmt/format.h>

#include "server/json_codec.h"
#include "server/json_limits.h"

namespace suanli::server {

namespace {

using nlohmann::json;

constexpr double kMaxDatasetGb = 1e9;  // a petabyte in thousands: beyond any one dataset

}  // namespace

bool ParseDatasetRequest(std::string_view body, DatasetRequest* req, ApiError* err) {
  json j;
  if (!ParseJsonObject(body, &j, err)) return false;
  DatasetRequest r;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name" || k == "center") {
      if (!v.is_string()) return Fail(err, k, fmt::format("expected a string, got {}", JsonTypeName(v)));
      const auto& s = v.get_ref<const std::string&>();
      if (s.size() > 256) return Fail(err, k, "longer than 256 bytes");
      (k == "name" ? r.name : r.center) = s;
    } else if (k == "size_gb") {
      if (!v.is_number()) return Fail(err, k, fmt::format("expected a number, got {}", JsonTypeName(v)));
      const double gb = v.get<double>();
      if (!std::isfinite(gb) || gb < 0 || gb > kMaxDatasetGb)
        return Fail(err, k, fmt::format("expected a number 0..{:g}", kMaxDatasetGb));
      r.size_gb = gb;
    } else {
      return Fail(err, ShownName(k), "unknown key (a dataset has: name, center, size_gb)");
    }
  }
  if (r.name.empty()) return Fail(err, "name", "required");
  if (r.center.empty()) return Fail(err, "center", "required");
  *req = std::move(r);
  return true;
}

json DatasetToJson(const live::Dataset& d) {
  json copies = json::array();
  for (const live::Dataset::Copy& c : d.copies)
    copies.push_back(json{{"center", c.center}, {"staged_ms", c.staged_ms.ms()}});
  return json{{"tenant", d.tenant},
              {"name", d.name},
              {"center", d.center},
              {"size_bytes", d.size_bytes},
              {"size_gb", static_cast<double>(d.size_bytes) / 1e9},
              {"created_ms", d.created_ms.ms()},
              {"copies", std::move(copies)}};
}

}  // namespace suanli::server
