// JSON <-> the control plane's records (JobSpec, JobRecord, Tenant,
// CenterView, UsageSum) and the API's query strings, as docs/api.md describes
// them. Shared by the HTTP server (strict parsing of requests) and the CLI
// (reading the server's answers).
//
// Request parsing is strict: the body must be one JSON object, unknown keys
// and wrong types are errors, and every error names the offending field (or
// query parameter) in `ApiError::field` and at the start of its message, e.g.
// field "gpus", message "gpus: expected a non-negative integer".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "live/control.h"
#include "live/live_job.h"
#include "live/store.h"

namespace suanli::server {

// An error as the API answers it: {"error": {"code", "message", "field"}}.
struct ApiError {
  int http_status = 400;
  std::string code = "invalid_argument";  // docs/api.md's codes
  std::string message;
  std::string field;  // empty: not about one field
};

// The HTTP status and error code of a Status (InvalidArgument/ParseError 400,
// NotFound 404, PermissionDenied 403, FailedPrecondition 409,
// ResourceExhausted 429, Unavailable 503, anything else 500). The field
// is the Status's own (Status::field()) for 400 and 429.
ApiError ErrorFromStatus(const Status& st);
// {"error": {...}} as text.
std::string ErrorJson(const ApiError& e);
// A field error (400 invalid_argument) with the message "FIELD: what".
ApiError FieldError(const std::string& field, const std::string& what);

// Query parameters as cpp-httplib parses them (httplib::Params).
using QueryParams = std::multimap<std::string, std::string>;

// The query string of a request target ("a=1&b=x%20y"; without the '?'):
// percent-decoded, '+' as space. A bad escape or a NUL is an error (field
// "query"). Form bodies are never read as parameters.
bool ParseQueryString(std::string_view query, QueryParams* out, ApiError* err);

// Request bodies (strict). On error returns false and fills *err.
bool ParseJobSpec(std::string_view body, live::JobSpec* spec, ApiError* err);
bool JobSpecFromJson(const nlohmann::json& j, live::JobSpec* spec, ApiError* err);
struct TenantRequest {
  std::string name;
  bool admin = false;
  int64_t max_gpus_per_job = 0;
  int64_t max_active_jobs = 0;
  int64_t max_priority = 0;
  std::string home;  // a center ("" = the server assigns one)
};
bool ParseTenantRequest(std::string_view body, TenantRequest* req, ApiError* err);

// Path and query parameters (strict: unknown or repeated parameters are errors).
bool ParseJobId(std::string_view text, int64_t* id, ApiError* err);  // field "id"
bool ParseJobListQuery(const QueryParams& q, live::JobFilter* filter, ApiError* err);
struct LogQuery {
  std::string stream = "stdout";
  int64_t offset = 0;
  int64_t limit = 1 << 20;
};
constexpr int64_t kMaxLogChunk = 16 << 20;
bool ParseLogQuery(const QueryParams& q, LogQuery* out, ApiError* err);
struct UsageQuery {
  int64_t from_ms = 0;  // Unix ms, as the API carries them
  int64_t to_ms = INT64_MAX;
};
bool ParseUsageQuery(const QueryParams& q, UsageQuery* out, ApiError* err);
// Routes without parameters: any parameter is an error.
bool ParseNoQuery(const QueryParams& q, ApiError* err);

// Responses.
nlohmann::json JobSpecToJson(const live::JobSpec& spec);  // the request body form
nlohmann::json JobToJson(const live::JobRecord& job);
nlohmann::json TenantToJson(const live::Tenant& t);
nlohmann::json CenterToJson(const live::CenterView& c);
nlohmann::json UsageToJson(const live::UsageSum& u);
// {"quotas": SPEC or null, "usage": [...]} (docs/api.md, "Quotas"). SPEC is
// a quota document (PUT /api/v1/quotas takes it back as is): figures are
// numbers of accelerators, "N%" of a center's capacity, or "unlimited".
nlohmann::json QuotasToJson(const live::QuotasView& v);

// POST /api/v1/datasets: {"name", "center", "size_gb"}; size_gb is
// optional (-1: not given; the server measures a dataset at a center with a
// data root).
struct DatasetRequest {
  std::string name, center;
  double size_gb = -1;
};
bool ParseDatasetRequest(std::string_view body, DatasetRequest* req, ApiError* err);
// {"tenant", "name", "center", "size_bytes", "size_gb", "created_ms",
//  "copies": [{"center", "staged_ms"}]} (docs/api.md, "Datasets").
nlohmann::json DatasetToJson(const live::Dataset& d);

// PUT /api/v1/services/{id}: {"replicas": N}, N in 0..kMaxReplicas.
bool ParseScaleRequest(std::string_view body, uint32_t* replicas, ApiError* err);
// A service and its replicas that have not ended:
// {"service": ID, "replicas": [job, ...]}.
nlohmann::json ServiceToJson(int64_t service, const std::vector<live::JobRecord>& replicas);
// Serialises; invalid UTF-8 in strings is replaced, never thrown.
std::string Dump(const nlohmann::json& j, int indent = -1);

// Reading the server's answers (the CLI): unknown keys are ignored (newer
// servers may add some), wrong types are errors naming the field.
Result<live::JobRecord> JobFromJson(const nlohmann::json& j);
Result<live::Tenant> TenantFromJson(const nlohmann::json& j);
Result<live::CenterView> CenterFromJson(const nlohmann::json& j);
Result<live::UsageSum> UsageFromJson(const nlohmann::json& j);

}  // namespace suanli::server
