// JSON of tenant quotas (json_codec.h): the quota document in force and
// what each tenant uses per center.
#include <fmt/format.h>

#include "server/json_codec.h"

namespace suanli::server {

namespace {

using nlohmann::json;

// A figure as the quota document takes it (io/quota_loader.h).
json Figure(double v, bool fraction, bool may_be_unlimited) {
  if (may_be_unlimited && v < 0) return "unlimited";
  if (fraction) return fmt::format("{:.12g}%", v * 100);
  return v;
}

json QuotaFields(const TenantQuota& q) {
  return json{{"nominal", Figure(q.nominal, q.fraction, false)},
              {"borrowing_limit", Figure(q.borrowing_limit, q.fraction, true)}};
}

}  // namespace

json QuotasToJson(const live::QuotasView& v) {
  json out = json::object();
  if (v.spec) {
    json spec = json::object();
    if (!v.spec->cohort.empty()) spec["cohort"] = v.spec->cohort;
    spec["reclaim"] = v.spec->reclaim;
    if (v.spec->default_quota) spec["default"] = QuotaFields(*v.spec->default_quota);
    json tenants = json::array();
    for (const TenantQuota& q : v.spec->tenants) {
      json t = QuotaFields(q);
      t["name"] = q.tenant;
      tenants.push_back(std::move(t));
    }
    spec["tenants"] = std::move(tenants);
    out["quotas"] = std::move(spec);
  } else {
    out["quotas"] = nullptr;
  }
  json usage = json::array();
  for (const live::QuotaUse& u : v.usage)
    usage.push_back(json{{"center", u.center},
                         {"tenant", u.tenant},
                         {"limited", u.limited},
                         {"nominal", u.nominal},
                         {"borrowing_limit", u.borrowing_limit < 0 ? json(nullptr) : json(u.borrowing_limit)},
                         {"used", u.used},
                         {"borrowed", u.borrowed}});
  out["usage"] = std::move(usage);
  return out;
}

}  // namespace suanli::server
