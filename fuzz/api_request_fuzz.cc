// libFuzzer target for the HTTP API's request parsing (server/json_codec.h):
// job spec bodies (POST /api/v1/jobs),
// tenant, dataset and scale bodies (POST /api/v1/tenants, /api/v1/datasets,
// PUT /api/v1/services/{id}),
// query strings of the job list, log and usage routes, and job ids in paths.
// The first byte chooses what the rest is. Any input must parse or give an
// error that names its field, with a message starting "FIELD: " and a JSON
// error document; a parsed job spec must survive a round trip through JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "live/record_schema.h"
#include "server/json_codec.h"

namespace {

using suanli::server::ApiError;

[[noreturn]] void Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}

void CheckError(const ApiError& e) {
  if (e.http_status != 400) Fail("parse error is not a 400");
  if (e.code != "invalid_argument") Fail("parse error code", e.code);
  if (e.field.empty()) Fail("error without a field", e.message);
  if (e.message.rfind(e.field + ": ", 0) != 0) Fail("message does not start with its field", e.message);
  auto doc = nlohmann::json::parse(suanli::server::ErrorJson(e), nullptr, false);
  if (!doc.is_object() || !doc.contains("error") || doc["error"].value("field", "") != e.field) {
    Fail("error document", suanli::server::ErrorJson(e));
  }
}

void CheckSpec(const suanli::live::JobSpec& s) {
  if (s.command.empty() || s.command[0].empty()) Fail("spec without a program");
  // Within the limits the server checks (live_job.h): the codec never lets through more.
  if (!suanli::live::schema::CheckSpecFields(s).ok()) Fail("spec outside its table's limits");
  if (s.gpus > suanli::live::kMaxGpus) Fail("gpus out of range");
  if (s.command.size() > suanli::live::kMaxArgs || s.env.size() > suanli::live::kMaxEnvVars) Fail("too many items");
  if (s.cpu_milli < 0 || s.mem_mib < 0 || s.duration_s < 0) Fail("negative resource");
  if (s.time_limit_s < 1 || s.time_limit_s > suanli::live::kMaxTimeLimitS) Fail("time limit out of range");
  // The response form parses back to the same spec.
  std::string text = suanli::server::Dump(suanli::server::JobSpecToJson(s));
  suanli::live::JobSpec again;
  ApiError err;
  if (!suanli::server::ParseJobSpec(text, &again, &err)) Fail("round trip failed", err.message + " in " + text);
  if (again != s) Fail("round trip changed the spec", text);
  // A job record with it serialises (invalid UTF-8 replaced, never thrown).
  suanli::live::JobRecord rec;
  rec.id = 1;
  rec.spec = s;
  auto back = suanli::server::JobFromJson(nlohmann::json::parse(suanli::server::Dump(suanli::server::JobToJson(rec))));
  if (!back.ok()) Fail("job record does not read back", back.status().message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 6;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ApiError err;
  switch (mode) {
    case 0: {
      suanli::live::JobSpec spec;
      if (suanli::server::ParseJobSpec(text, &spec, &err)) CheckSpec(spec);
      else CheckError(err);
      break;
    }
    case 1: {
      suanli::server::TenantRequest t;
      if (suanli::server::ParseTenantRequest(text, &t, &err)) {
        if (t.name.empty() || t.name.size() > 40 || t.max_gpus_per_job < 0 || t.max_active_jobs < 0) {
          Fail("bad tenant accepted", t.name);
        }
      } else {
        CheckError(err);
      }
      // The other body of the same shape: a dataset to register.
      suanli::server::DatasetRequest d;
      if (suanli::server::ParseDatasetRequest(text, &d, &err)) {
        if (d.name.empty() || d.center.empty() || d.name.size() > 256 || !(d.size_gb == -1 || d.size_gb >= 0))
          Fail("bad dataset accepted", d.name);
      } else {
        CheckError(err);
      }
      // And a service's scale (PUT /api/v1/services/{id}).
      uint32_t replicas = 0;
      if (suanli::server::ParseScaleRequest(text, &replicas, &err)) {
        if (replicas > suanli::live::kMaxReplicas) Fail("replicas out of range");
      } else {
        CheckError(err);
      }
      break;
    }
    case 2: {
      suanli::server::QueryParams q;
      if (!suanli::server::ParseQueryString(text, &q, &err)) {
        CheckError(err);
        break;
      }
      suanli::live::JobFilter f;
      if (suanli::server::ParseJobListQuery(q, &f, &err)) {
        if (f.limit < 1 || f.limit > 1000 || f.before_id < 0 || f.service < 0) Fail("list filter out of range");
      } else {
        CheckError(err);
      }
      break;
    }
    case 3: {
      suanli::server::QueryParams q;
      if (!suanli::server::ParseQueryString(text, &q, &err)) {
        CheckError(err);
        break;
      }
      suanli::server::LogQuery l;
      if (suanli::server::ParseLogQuery(q, &l, &err)) {
        if (l.stream != "stdout" && l.stream != "stderr") Fail("log stream", l.stream);
        if (l.offset < 0 || l.limit < 1 || l.limit > suanli::server::kMaxLogChunk) Fail("log range");
      } else {
        CheckError(err);
      }
      suanli::server::UsageQuery u;
      if (suanli::server::ParseUsageQuery(q, &u, &err)) {
        if (u.from_ms < 0 || u.to_ms < u.from_ms) Fail("usage range");
      } else {
        CheckError(err);
      }
      break;
    }
    case 4: {
      int64_t id = 0;
      if (suanli::server::ParseJobId(text, &id, &err)) {
        if (id <= 0) Fail("non-positive id accepted");
      } else {
        CheckError(err);
      }
      break;
    }
    default: {
      // Answers as the CLI reads them: never a crash, whatever the server sent.
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) break;
      (void)suanli::server::JobFromJson(j);
      (void)suanli::server::CenterFromJson(j);
      (void)suanli::server::TenantFromJson(j);
      (void)suanli::server::UsageFromJson(j);
      break;
    }
  }
  return 0;
}
