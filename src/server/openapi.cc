#include "server/openapi.h"

#include <mutex>

namespace suanli::server {
namespace {

// The document as JSON text; every route of api_server.cc, its parameters,
// bodies, answers and errors (docs/api.md).
constexpr const char* kOpenApi = R"json(
{
  "openapi": "3.0.3",
  "info": {
    "title": "Suanli control plane API",
    "description": "Submit, list, cancel and follow jobs on a network of compute centers; centers, tenants, usage. Every /api/v1 route except health and openapi.json needs `Authorization: Bearer TOKEN`. Errors are {\"error\": {\"code\", \"message\", \"field\"}}.",
    "version": "VERSION"
  },
  "servers": [{"url": "/"}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
          "properties": {
            "code": {"type": "string", "enum": ["invalid_argument", "unauthenticated", "permission_denied", "not_found", "method_not_allowed", "failed_precondition", "too_large", "resource_exhausted", "unavailable", "internal"]},
            "message": {"type": "string"},
            "field": {"type": "string", "description": "the body key, query parameter or path parameter at fault"}}}}
      },
      "JobSpec": {
        "type": "object", "required": ["command"], "additionalProperties": false,
        "properties": {
          "command": {"type": "array", "items": {"type": "string"}, "minItems": 1},
          "name": {"type": "string", "maxLength": 256},
          "env": {"type": "object", "additionalProperties": {"type": "string"}},
          "workdir": {"type": "string"},
          "gpus": {"type": "integer", "minimum": 0, "maximum": 4096, "default": 0},
          "cpu_milli": {"type": "integer", "minimum": 0, "default": 1000},
          "mem_mib": {"type": "integer", "minimum": 0, "default": 1024},
          "models": {"type": "array", "items": {"type": "string"}},
          "stacks": {"type": "array", "items": {"type": "string"}},
          "class": {"type": "string", "default": "other", "description": "workload class: training, inference, other"},
          "time_limit_s": {"type": "integer", "minimum": 0, "default": 3600},
          "duration_s": {"type": "integer", "minimum": 0, "default": 0, "description": "simulated centers: how long the job runs (0: its time limit)"},
          "priority": {"type": "integer", "format": "int32", "default": 0},
          "center": {"type": "string", "description": "run only in this center"}
        }
      },
      "Job": {
        "type": "object",
        "properties": {
          "id": {"type": "integer", "format": "int64"},
          "name": {"type": "string"}, "tenant": {"type": "string"},
          "state": {"type": "string", "enum": ["pending", "running", "succeeded", "failed", "cancelled"]},
          "command": {"type": "array", "items": {"type": "string"}},
          "env": {"type": "object", "additionalProperties": {"type": "string"}},
          "workdir": {"type": "string"},
          "gpus": {"type": "integer"}, "cpu_milli": {"type": "integer"}, "mem_mib": {"type": "integer"},
          "models": {"type": "array", "items": {"type": "string"}},
          "stacks": {"type": "array", "items": {"type": "string"}},
          "class": {"type": "string"}, "time_limit_s": {"type": "integer"}, "duration_s": {"type": "integer"},
          "priority": {"type": "integer"},
          "center": {"type": "string", "description": "where it runs (while undecided: the center asked for, if any)"},
          "requested_center": {"type": "string", "description": "the center asked for at submission (empty: any)"},
          "model": {"type": "string"}, "node": {"type": "string"},
          "devices": {"type": "array", "items": {"type": "integer"}},
          "backend_id": {"type": "string"},
          "submit_ms": {"type": "integer", "format": "int64"}, "start_ms": {"type": "integer", "format": "int64"},
          "end_ms": {"type": "integer", "format": "int64"}, "est_start_ms": {"type": "integer", "format": "int64"},
          "exit_code": {"type": "integer"}, "signal": {"type": "integer"}, "reason": {"type": "string"},
          "gpu_seconds": {"type": "number"}, "energy_kwh": {"type": "number"}, "cost": {"type": "number"},
          "carbon_kg": {"type": "number"},
          "attempts": {"type": "array", "description": "its runs that have ended, oldest first (GET /api/v1/jobs/{id})",
                       "items": {"$ref": "#/components/schemas/Attempt"}}
        }
      },
      "Attempt": {
        "type": "object",
        "properties": {
          "n": {"type": "integer"}, "center": {"type": "string"}, "node": {"type": "string"},
          "model": {"type": "string"}, "devices": {"type": "array", "items": {"type": "integer"}},
          "start_ms": {"type": "integer", "format": "int64"}, "end_ms": {"type": "integer", "format": "int64"},
          "outcome": {"type": "string",
                      "enum": ["succeeded", "failed", "cancelled", "preempted", "requeued", "abandoned"]},
          "reason": {"type": "string"},
          "gpu_seconds": {"type": "number"}, "energy_kwh": {"type": "number"}, "cost": {"type": "number"},
          "carbon_kg": {"type": "number"}
        }
      },
      "JobList": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
      "Center": {
        "type": "object",
        "properties": {
          "name": {"type": "string"}, "backend": {"type": "string"}, "region": {"type": "string"},
          "up": {"type": "boolean"}, "drained": {"type": "boolean"}, "reason": {"type": "string"},
          "devices": {"type": "integer"}, "busy_devices": {"type": "number"},
          "models": {"type": "array", "items": {"type": "object", "properties": {"model": {"type": "string"}, "total": {"type": "integer"}, "busy": {"type": "number"}}}},
          "pending": {"type": "integer"}, "running": {"type": "integer"},
          "pue": {"type": "number"}, "price_now": {"type": "number"}, "carbon_now": {"type": "number"}, "power_kw": {"type": "number"},
          "nodes_down": {"type": "array", "description": "Nodes its backend reports down (drained, down, failed); they receive no jobs.", "items": {"type": "object", "properties": {"node": {"type": "string"}, "reason": {"type": "string"}}}}
        }
      },
      "CenterList": {"type": "object", "properties": {"centers": {"type": "array", "items": {"$ref": "#/components/schemas/Center"}}}},
      "Tenant": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "admin": {"type": "boolean"}, "max_gpus_per_job": {"type": "integer"},
                       "max_active_jobs": {"type": "integer"}, "max_priority": {"type": "integer"},
                       "created_ms": {"type": "integer", "format": "int64"}}
      },
      "TenantRequest": {
        "type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,39}$"}, "admin": {"type": "boolean", "default": false},
                       "max_gpus_per_job": {"type": "integer", "minimum": 0, "default": 0},
                       "max_active_jobs": {"type": "integer", "minimum": 0, "default": 0},
                       "max_priority": {"type": "integer", "minimum": 0, "maximum": 1000000, "default": 0}}
      },
      "NewTenant": {"type": "object", "properties": {"tenant": {"$ref": "#/components/schemas/Tenant"}, "token": {"type": "string", "description": "shown once"}}},
      "TenantList": {"type": "object", "properties": {"tenants": {"type": "array", "items": {"$ref": "#/components/schemas/Tenant"}}}},
      "UsageList": {"type": "object", "properties": {"usage": {"type": "array", "items": {"type": "object", "properties": {
        "tenant": {"type": "string"}, "center": {"type": "string"}, "model": {"type": "string"}, "jobs": {"type": "integer"},
        "gpu_seconds": {"type": "number"}, "energy_kwh": {"type": "number"}, "cost": {"type": "number"}, "carbon_kg": {"type": "number"}}}}}},
      "WhoAmI": {"type": "object", "properties": {"tenant": {"type": "string"}, "admin": {"type": "boolean"}}},
      "Health": {"type": "object", "properties": {"ok": {"type": "boolean"}, "version": {"type": "string"}}}
    },
    "parameters": {
      "JobId": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}},
      "CenterName": {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}
    },
    "responses": {
      "BadRequest": {"description": "invalid_argument: malformed JSON, wrong type, unknown key or parameter, value out of range (field names it)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthenticated": {"description": "unauthenticated: no or unknown bearer token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "permission_denied: admin-only route", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "not_found: no such job (or not the caller's), center or route", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Conflict": {"description": "failed_precondition: e.g. cancel of a finished job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "too_large: body over max_body_bytes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooMany": {"description": "resource_exhausted: the tenant's admission quota is exceeded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unavailable": {"description": "unavailable: store error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/api/v1/health": {"get": {"summary": "Liveness", "operationId": "getHealth", "security": [],
      "responses": {"200": {"description": "the server answers", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "getOpenApi", "security": [],
      "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/api/v1/whoami": {"get": {"summary": "The caller's tenant", "operationId": "whoAmI",
      "responses": {"200": {"description": "tenant and role", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WhoAmI"}}}},
                    "401": {"$ref": "#/components/responses/Unauthenticated"}}}},
    "/api/v1/jobs": {
      "post": {"summary": "Submit a job (durable: on disk when 201 is sent)", "operationId": "submitJob",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSpec"}}}},
        "responses": {"201": {"description": "the stored job (pending)", "headers": {"Location": {"schema": {"type": "string"}}},
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "413": {"$ref": "#/components/responses/TooLarge"}, "429": {"$ref": "#/components/responses/TooMany"},
                      "503": {"$ref": "#/components/responses/Unavailable"}}},
      "get": {"summary": "List jobs, newest first", "operationId": "listJobs",
        "parameters": [
          {"name": "state", "in": "query", "schema": {"type": "string"}, "description": "comma-separated states, e.g. pending,running"},
          {"name": "center", "in": "query", "schema": {"type": "string"}},
          {"name": "tenant", "in": "query", "schema": {"type": "string"}, "description": "admin only (a tenant always sees its own)"},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
          {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "paging: only ids below this"}],
        "responses": {"200": {"description": "jobs", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobList"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"}}}},
    "/api/v1/jobs/{id}": {
      "parameters": [{"$ref": "#/components/parameters/JobId"}],
      "get": {"summary": "One job", "operationId": "getJob",
        "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "404": {"$ref": "#/components/responses/NotFound"}}},
      "delete": {"summary": "Cancel a job (same as POST .../cancel)", "operationId": "deleteJob",
        "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/v1/jobs/{id}/cancel": {
      "parameters": [{"$ref": "#/components/parameters/JobId"}],
      "post": {"summary": "Cancel a job", "operationId": "cancelJob",
        "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/v1/jobs/{id}/logs": {
      "parameters": [{"$ref": "#/components/parameters/JobId"}],
      "get": {"summary": "A job's output", "operationId": "getJobLogs",
        "parameters": [
          {"name": "stream", "in": "query", "schema": {"type": "string", "enum": ["stdout", "stderr"], "default": "stdout"}},
          {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 16777216, "default": 1048576}}],
        "responses": {"200": {"description": "bytes offset..offset+limit of the log (empty before the job writes any)",
                              "headers": {"X-Log-Size": {"schema": {"type": "integer"}, "description": "the log's size now"},
                                          "X-Job-State": {"schema": {"type": "string"}, "description": "the job's state"}},
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/centers": {"get": {"summary": "Centers and their load", "operationId": "listCenters",
      "responses": {"200": {"description": "centers", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CenterList"}}}},
                    "401": {"$ref": "#/components/responses/Unauthenticated"}}}},
    "/api/v1/centers/{name}/drain": {
      "parameters": [{"$ref": "#/components/parameters/CenterName"}],
      "post": {"summary": "Drain a center (admin): it takes no new jobs", "operationId": "drainCenter",
        "responses": {"200": {"description": "the center", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Center"}}}},
                      "401": {"$ref": "#/components/responses/Unauthenticated"}, "403": {"$ref": "#/components/responses/Forbidden"},
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/centers/{name}/resume": {
      "parameters": [{"$ref": "#/components/parameters/CenterName"}],
      "post": {"summary": "Resume a drained center (admin)", "operationId": "resumeCenter",
        "responses": {"200": {"description": "the center", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Center"}}}},
                      "401": {"$ref": "#/components/responses/Unauthenticated"}, "403": {"$ref": "#/components/responses/Forbidden"},
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/tenants": {
      "get": {"summary": "Tenants (admin: all; a tenant: itself)", "operationId": "listTenants",
        "responses": {"200": {"description": "tenants", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantList"}}}},
                      "401": {"$ref": "#/components/responses/Unauthenticated"}}},
      "post": {"summary": "Create a tenant (admin); its token is shown once", "operationId": "createTenant",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantRequest"}}}},
        "responses": {"201": {"description": "the tenant and its token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewTenant"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"},
                      "403": {"$ref": "#/components/responses/Forbidden"}, "409": {"$ref": "#/components/responses/Conflict"}}}},
    "/api/v1/usage": {"get": {"summary": "Metering of finished jobs by tenant, center and model", "operationId": "getUsage",
      "parameters": [
        {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}, "description": "Unix ms (jobs that ended at or after)"},
        {"name": "to", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Unix ms (jobs that ended before; default: no bound)"}],
      "responses": {"200": {"description": "usage rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageList"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthenticated"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics (text exposition format 0.0.4)", "operationId": "getMetrics", "security": [],
      "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
  }
}
)json";

}  // namespace

const nlohmann::json& OpenApiDocument(const std::string& version) {
  static std::once_flag once;
  static nlohmann::json doc;
  std::call_once(once, [&] {
    doc = nlohmann::json::parse(kOpenApi);
    doc["info"]["version"] = version;
  });
  return doc;
}

}  // namespace suanli::server
