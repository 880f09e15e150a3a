// The API's responses: the control plane's records (job spec, job and its
// attempts, tenant, center, usage) as JSON.
#include <cmath>

#include "server/json_codec.h"
#include "server/record_json.h"

namespace suanli::server {
namespace {

using live::JobSpec;
using nlohmann::json;

json NumberOrZero(double v) { return std::isfinite(v) ? json(v) : json(0); }

}  // namespace

json JobSpecToJson(const JobSpec& s) { return EncodeRecord(live::schema::JobSpecFields(), s); }

static json AttemptToJson(const live::JobAttempt& a) { return EncodeRecord(live::schema::AttemptFields(), a); }

json JobToJson(const live::JobRecord& r) {
  // Its spec's fields, every one; its own (live/record_schema_records.cc);
  // then those its table does not hold (openapi_schema.cc describes them).
  json j = EncodeRecord(live::schema::JobSpecFields(), r.spec, /*omit_defaults=*/false);
  j.update(EncodeRecord(live::schema::JobFields(), r));
  j["state"] = std::string(live::StateName(r.state));
  // Where it runs: the record's center once decided, else the one asked for.
  j["center"] = r.center.empty() ? r.spec.center : r.center;
  j["requested_center"] = r.spec.center;
  json attempts = json::array();
  for (const auto& a : r.attempts) attempts.push_back(AttemptToJson(a));
  j["attempts"] = std::move(attempts);
  json events = json::array();
  for (const auto& e : r.events) events.push_back(EncodeRecord(live::schema::EventFields(), e));
  j["events"] = std::move(events);
  return j;
}

json TenantToJson(const live::Tenant& t) { return EncodeRecord(live::schema::TenantFields(), t); }

json CenterToJson(const live::CenterView& c) {
  json models = json::array();
  for (const auto& m : c.models) {
    models.push_back({{"model", m.model}, {"total", m.total}, {"busy", NumberOrZero(m.busy)}});
  }
  json down = json::array();
  for (const auto& n : c.nodes_down) down.push_back({{"node", n.node}, {"reason", n.reason}});
  json out{{"name", c.name},
           {"backend", c.backend},
           {"region", c.region},
           {"up", c.up},
           {"drained", c.drained},
           {"reason", c.reason},
           {"devices", c.devices},
           {"busy_devices", NumberOrZero(c.busy_devices)},
           {"models", std::move(models)},
           {"pending", c.pending},
           {"running", c.running},
           {"pue", NumberOrZero(c.pue)},
           {"price_now", NumberOrZero(c.price_now)},
           {"carbon_now", NumberOrZero(c.carbon_now)},
           {"power_kw", NumberOrZero(c.power_kw)},
           {"nodes_down", std::move(down)}};
  if (c.agent) {
    out["connected"] = c.agent->connected;
    out["last_seen_ms"] = c.agent->last_seen_ms.ms();
    out["epoch"] = c.agent->epoch;
  }
  return out;
}

json UsageToJson(const live::UsageSum& u) { return EncodeRecord(live::schema::UsageFields(), u); }

}  // namespace suanli::server
