#include "server/api_server.h"

#include <charconv>
#include <cstdio>
#include <functional>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "server/api_routes.h"
#include "server/http_server.h"
#include "server/json_codec.h"
#include "server/openapi.h"
#include "server/static_files.h"

namespace suanli::server {
namespace {

using nlohmann::json;
using Request = HttpRequest;
using Response = HttpResponse;
using Params = RouteParams;

// JSON string escaping for the access log (paths are client-controlled).
void AppendEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

}  // namespace

struct ApiServer::Impl {
  StaticFiles statics;
  std::shared_ptr<spdlog::logger> access;
  std::vector<Route> routes;
  std::unique_ptr<HttpServer> http;

  // The route for a request (HEAD as GET), or null.
  const Route* Find(const Request& req, Params* params) const {
    std::string_view method = req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
    for (const auto& r : routes) {
      if (r.method == method && MatchRoute(r.pattern, req.path, params)) return &r;
    }
    return nullptr;
  }
  void Handle(const Request& req, Response& res) const;
};

void ApiServer::Impl::Handle(const Request& req, Response& res) const {
  Params params;
  if (const Route* r = Find(req, &params)) return r->fn(req, res, params);
  if (req.method == "GET" || req.method == "HEAD") {
    // The dashboard: its files, index.html for client-side routes.
    if (IsApiPath(req.path)) {
      return ReplyError(res, MakeError(404, "not_found", fmt::format("no route GET {}", req.path.substr(0, 200))));
    }
    const StaticFile* f = statics.Find(req.path);
    if (!f) {
      return ReplyError(
          res, MakeError(400, "invalid_argument", "path: '..' segments, backslashes and NUL are not allowed", "path"));
    }
    res.status = 200;
    res.SetHeader("Cache-Control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    res.SetHeader("X-Content-Type-Options", "nosniff");
    res.content_type = f->content_type;
    res.body.assign(f->data.data(), f->data.size());
    return;
  }
  // A known path with another method: 405 with Allow; else 404.
  std::string allow;
  for (const auto& r : routes) {
    if (MatchRoute(r.pattern, req.path, &params)) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  std::string method = req.method.substr(0, 16);
  if (!allow.empty()) {
    res.SetHeader("Allow", allow);
    return ReplyError(
        res, MakeError(405, "method_not_allowed",
                       fmt::format("{} is not allowed on {} (allowed: {})", method, req.path.substr(0, 200), allow)));
  }
  ReplyError(res, MakeError(404, "not_found", fmt::format("no route {} {}", method, req.path.substr(0, 200))));
}

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidField("listen", "'{}' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = listen.substr(colon + 1);
  int v = -1;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || v < 0 || v > 65535) {
    return InvalidField("listen", "'{}' has a port that is not 0..65535", listen);
  }
  *host = h;
  *port = v;
  return Status::Ok();
}

ApiServer::~ApiServer() {
  if (impl_) impl_->http.reset();
  if (impl_ && impl_->access) impl_->access->flush();
}

std::string ApiServer::url() const {
  std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return fmt::format("{}://{}:{}", tls_ ? "https" : "http", h, port_);
}

Result<std::unique_ptr<ApiServer>> ApiServer::Create(live::ControlPlane* cp, const live::ServerConfig& config,
                                                     ApiServerOptions options) {
  std::unique_ptr<ApiServer> s(new ApiServer());
  s->cp_ = cp;
  s->config_ = config;
  s->options_ = options;
  s->impl_ = std::make_unique<Impl>();
  Impl& impl = *s->impl_;
  SUANLI_RETURN_IF_ERROR(ParseListen(config.listen, &s->host_, &s->port_));

  // The access log: one JSON object per line, written by a background thread.
  if (options.access_log != "off") {
    static std::once_flag pool_once;
    std::call_once(pool_once, [] { spdlog::init_thread_pool(8192, 1); });
    spdlog::sink_ptr sink;
    try {
      if (options.access_log.empty() || options.access_log == "-" || options.access_log == "stderr") {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      } else {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.access_log, false);
      }
    } catch (const std::exception& e) {
      return InvalidField("access_log", "cannot open '{}': {}", options.access_log, e.what());
    }
    sink->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"http",%v})");
    impl.access = std::make_shared<spdlog::async_logger>("access", sink, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::block);
    impl.access->set_level(spdlog::level::info);
    impl.access->flush_on(spdlog::level::warn);
  }
  impl.routes = ApiRoutes(&s->cp_, options.version, &s->counters_);

  HttpServerSetup setup;
  setup.host = s->host_;
  setup.port = s->port_;
  setup.tls_cert = config.tls_cert;
  setup.tls_key = config.tls_key;
  HttpLimits& l = setup.limits;
  l.header_timeout_s = config.header_timeout_s;
  l.idle_timeout_s = std::max(1, options.keep_alive_timeout_s);
  l.body_timeout_s = std::max(1, options.read_timeout_s);
  l.write_timeout_s = std::max(1, options.write_timeout_s);
  l.max_header_bytes = config.max_header_bytes;
  l.max_headers = config.max_headers;
  l.max_body_bytes = std::max<int64_t>(1, config.max_body_bytes);
  l.max_connections = config.max_connections;
  l.max_connections_per_client = config.max_connections_per_client;
  l.worker_threads = std::max(1, config.http_threads);

  const Impl* ip = &impl;
  setup.handler = [ip](const Request& req, Response& res) { ip->Handle(req, res); };
  setup.inline_handler = [ip](const Request& req) {
    Params params;
    const Route* r = ip->Find(req, &params);
    return r ? r->inline_ok : (req.method == "GET" || req.method == "HEAD");
  };
  setup.error_body = [](int status, const char* code, const std::string& message, const std::string& field,
                        Response& res) { ReplyError(res, MakeError(status, code, message, field)); };
  ApiServer* self = s.get();
  setup.logger = [self](const HttpLogEntry& e) {
    self->counters_.Count(e.status);
    auto& access = self->impl_->access;
    if (!access) return;
    // An agent's routine sync (one per center every agent_poll_ms) is not
    // logged; a refused one is.
    const bool routine = e.status == 200 && e.tenant.rfind("agent:", 0) == 0;
    if (routine && !access->should_log(spdlog::level::debug)) return;
    std::string line;
    line.reserve(192);
    line += "\"method\":\"";
    AppendEscaped(line, e.method);
    line += "\",\"path\":\"";
    AppendEscaped(line, e.path);
    fmt::format_to(std::back_inserter(line), "\",\"status\":{},\"ms\":{:.3f},\"bytes_in\":{},\"bytes_out\":{}",
                   e.status, e.ms, e.bytes_in, e.bytes_out);
    if (!e.tenant.empty()) {
      line += ",\"tenant\":\"";
      AppendEscaped(line, e.tenant);
      line += '"';
    }
    line += ",\"remote\":\"";
    AppendEscaped(line, e.remote);
    line += '"';
    access->log(e.status >= 500 ? spdlog::level::warn : routine ? spdlog::level::debug : spdlog::level::info, line);
  };
  auto http = HttpServer::Create(std::move(setup));
  if (!http.ok()) return http.status();
  impl.http = std::move(http).value();
  s->tls_ = !config.tls_cert.empty();
  return s;
}

Status ApiServer::Bind() {
  SUANLI_RETURN_IF_ERROR(impl_->http->Bind());
  port_ = impl_->http->port();
  return Status::Ok();
}

Status ApiServer::Run() {
  Status st = impl_->http->Run();
  if (impl_->access) impl_->access->flush();
  return st;
}

void ApiServer::Stop() { impl_->http->Stop(); }

int ApiServer::connections() const { return impl_->http->connections(); }
int ApiServer::max_connections() const { return impl_->http->max_connections(); }

}  // namespace suanli::server
