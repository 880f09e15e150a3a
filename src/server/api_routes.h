// The API's routes (docs/api.md) as the API server (api_server.cc) dispatches
// them, and the helpers that answer with JSON. Internal to src/server.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "live/control.h"
#include "server/http_server.h"
#include "server/json_codec.h"
#include "server/metrics.h"

namespace suanli::server {

// The path segments a route's '*' segments matched ("/api/v1/jobs/*": the id).
using RouteParams = std::vector<std::string>;
using RouteFn = std::function<void(const HttpRequest&, HttpResponse&, const RouteParams&)>;

// A route: method and path pattern, '*' one whole segment (also used to tell
// 405 from 404). `inline_ok`: cheap and never blocking, answered on the I/O
// thread rather than by a worker.
struct Route {
  std::string method;
  std::string pattern;
  bool inline_ok = false;
  RouteFn fn;
};

// The '*' segments of `path` if it matches `pattern`.
bool MatchRoute(std::string_view pattern, std::string_view path, RouteParams* params);

void ReplyJson(HttpResponse& res, int status, const nlohmann::json& body);
void ReplyError(HttpResponse& res, const ApiError& e);
ApiError MakeError(int status, const char* code, std::string message, std::string field = "");
// "/api", "/api/...", "/metrics", "/metrics/...": never the dashboard's page.
bool IsApiPath(const std::string& path);

// Every route of the API. `cp` points at the server's control plane pointer
// (set before serving); `counters` are the HTTP responses counted so far.
std::vector<Route> ApiRoutes(live::ControlPlane* const* cp, const std::string& version, const HttpCounters* counters);

}  // namespace suanli::server
