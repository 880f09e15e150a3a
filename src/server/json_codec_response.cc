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
  const JobSpec& s = r.spec;
  json attempts = json::array();
  for (const auto& a : r.attempts) attempts.push_back(AttemptToJson(a));
  return json{{"id", r.id},
              {"name", s.name},
              {"tenant", r.tenant},
              {"state", std::string(live::StateName(r.state))},
              {"command", s.command},
              {"env", s.env},
              {"workdir", s.workdir},
              {"gpus", s.gpus},
              {"cpu_milli", s.cpu_milli},
              {"mem_mib", s.mem_mib},
              {"models", s.models},
              {"stacks", s.stacks},
              {"class", s.workload_class},
              {"time_limit_s", s.time_limit_s},
              {"duration_s", s.duration_s},
              {"priority", s.priority},
              // Where it runs: the record's center once decided, else the one asked for.
              {"center", r.center.empty() ? s.center : r.center},
              {"requested_center", s.center},
              {"model", r.model},
              {"node", r.node},
              {"devices", r.devices},
              {"backend_id", r.backend_id},
              {"submit_ms", r.submit_ms.ms()},
              {"start_ms", r.start_ms.ms()},
              {"end_ms", r.end_ms.ms()},
              {"est_start_ms", r.est_start_ms.ms()},
              {"exit_code", r.exit_code},
              {"signal", r.signal},
              {"reason", r.reason},
              {"gpu_seconds", NumberOrZero(r.gpu_seconds)},
              {"energy_kwh", NumberOrZero(r.energy_kwh)},
              {"cost", NumberOrZero(r.cost)},
              {"carbon_kg", NumberOrZero(r.carbon_kg)},
              {"attempts", std::move(attempts)}};
}

json TenantToJson(const live::Tenant& t) { return EncodeRecord(live::schema::TenantFields(), t); }

json CenterToJson(const live::CenterView& c) {
  json models = json::array();
  for (const auto& m : c.models) {
    models.push_back({{"model", m.model}, {"total", m.total}, {"busy", NumberOrZero(m.busy)}});
  }
  json down = json::array();
  for (const auto& n : c.nodes_down) down.push_back({{"node", n.node}, {"reason", n.reason}});
  return json{{"name", c.name},
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
}

json UsageToJson(const live::UsageSum& u) { return EncodeRecord(live::schema::UsageFields(), u); }

}  // namespace suanli::server
