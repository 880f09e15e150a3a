#include "server/api_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "server/json_codec.h"
#include "server/openapi.h"
#include "server/static_files.h"

namespace suanli::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using httplib::Request;
using httplib::Response;

// cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections
// would wait for SYN retries. These subclasses reach the listening socket to
// raise it after bind.
template <class Base>
class Tuned : public Base {
 public:
  using Base::Base;
  void RaiseBacklog(int n) {
    auto sock = this->svr_sock_.load();
    if (sock != INVALID_SOCKET) ::listen(sock, n);
  }
};

// The start of the request being handled on this thread (set before routing),
// and who made it, for the access log.
thread_local Clock::time_point t_start;
thread_local std::string t_tenant;

// Every route: method and path pattern (also used to tell 405 from 404).
struct RouteDef {
  const char* method;
  const char* pattern;
};
constexpr RouteDef kRoutes[] = {
    {"GET", "/api/v1/health"},
    {"GET", "/api/v1/openapi.json"},
    {"GET", "/api/v1/whoami"},
    {"POST", "/api/v1/jobs"},
    {"GET", "/api/v1/jobs"},
    {"GET", "/api/v1/jobs/([^/]*)"},
    {"DELETE", "/api/v1/jobs/([^/]*)"},
    {"POST", "/api/v1/jobs/([^/]*)/cancel"},
    {"GET", "/api/v1/jobs/([^/]*)/logs"},
    {"GET", "/api/v1/centers"},
    {"POST", "/api/v1/centers/([^/]*)/drain"},
    {"POST", "/api/v1/centers/([^/]*)/resume"},
    {"GET", "/api/v1/tenants"},
    {"POST", "/api/v1/tenants"},
    {"GET", "/api/v1/usage"},
    {"GET", "/metrics"},
};

void ReplyJson(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void ReplyError(Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(ErrorJson(e), "application/json");
}

ApiError MakeError(int status, const char* code, std::string message, std::string field = "") {
  ApiError e;
  e.http_status = status;
  e.code = code;
  e.message = std::move(message);
  e.field = std::move(field);
  return e;
}

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

// The query parameters of the request target (never a form body).
bool Query(const Request& req, Response& res, QueryParams* q) {
  size_t mark = req.target.find('?');
  ApiError err;
  if (!ParseQueryString(mark == std::string::npos ? std::string_view() : std::string_view(req.target).substr(mark + 1),
                        q, &err)) {
    ReplyError(res, err);
    return false;
  }
  return true;
}

bool IsApiPath(const std::string& path) {
  return path == "/api" || path.rfind("/api/", 0) == 0 || path == "/metrics" || path.rfind("/metrics/", 0) == 0;
}

}  // namespace

struct ApiServer::Impl {
  StaticFiles statics;
  std::shared_ptr<spdlog::logger> access;
  std::vector<std::pair<std::string, std::regex>> route_regexes;  // method, pattern
  std::function<void(int)> raise_backlog;
};

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("listen: '{}' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = listen.substr(colon + 1);
  int v = -1;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || v < 0 || v > 65535) {
    return InvalidArgument("listen: '{}' has a port that is not 0..65535", listen);
  }
  *host = h;
  *port = v;
  return Status::Ok();
}

ApiServer::~ApiServer() {
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

  if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty()) {
      return InvalidArgument("{}: tls_cert and tls_key go together", config.tls_cert.empty() ? "tls_cert" : "tls_key");
    }
    auto ssl = std::make_unique<Tuned<httplib::SSLServer>>(config.tls_cert.c_str(), config.tls_key.c_str());
    if (!ssl->is_valid()) {
      return InvalidArgument(
          "tls_cert: cannot load the certificate '{}' with the key '{}' (both PEM files, the key unencrypted and "
          "matching the certificate)",
          config.tls_cert, config.tls_key);
    }
    auto* raw = ssl.get();
    impl.raise_backlog = [raw](int n) { raw->RaiseBacklog(n); };
    s->http_ = std::move(ssl);
    s->tls_ = true;
  } else {
    auto plain = std::make_unique<Tuned<httplib::Server>>();
    auto* raw = plain.get();
    impl.raise_backlog = [raw](int n) { raw->RaiseBacklog(n); };
    s->http_ = std::move(plain);
  }

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
      return InvalidArgument("access_log: cannot open '{}': {}", options.access_log, e.what());
    }
    sink->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"http",%v})");
    impl.access = std::make_shared<spdlog::async_logger>("access", sink, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::block);
    impl.access->set_level(spdlog::level::info);
    impl.access->flush_on(spdlog::level::warn);
  }
  for (const auto& r : kRoutes) impl.route_regexes.emplace_back(r.method, std::regex(r.pattern));

  httplib::Server& http = *s->http_;
  const size_t threads = static_cast<size_t>(std::max(1, config.http_threads));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(1'000'000);
  http.set_keep_alive_timeout(options.keep_alive_timeout_s);
  http.set_read_timeout(options.read_timeout_s, 0);
  http.set_write_timeout(options.write_timeout_s, 0);
  http.set_payload_max_length(static_cast<size_t>(std::max<int64_t>(1, config.max_body_bytes)));
  http.set_tcp_nodelay(true);

  ApiServer* self = s.get();
  http.set_pre_routing_handler([](const Request&, Response&) {
    t_start = Clock::now();
    t_tenant.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Errors without a body (no route, 413 from the library, malformed HTTP):
  // the API's JSON error.
  http.set_error_handler(httplib::Server::HandlerWithResponse([self](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiError e;
    int status = res.status;
    if (status == 400 || status == 404) {
      bool here = false, any = false;
      for (const auto& [method, re] : self->impl_->route_regexes) {
        if (!std::regex_match(req.path, re)) continue;
        any = true;
        here = here || method == req.method;
      }
      if (any && !here) status = 404;  // a known path, another method: 405 below
    }
    switch (status) {
      case 404: {
        std::vector<std::string> allowed;
        for (const auto& [method, re] : self->impl_->route_regexes) {
          if (std::regex_match(req.path, re)) allowed.push_back(method);
        }
        if (!allowed.empty()) {
          std::string allow;
          for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
          res.set_header("Allow", allow);
          e = MakeError(405, "method_not_allowed", fmt::format("{} is not allowed on {} (allowed: {})", req.method,
                                                               req.path.substr(0, 200), allow));
        } else {
          e = MakeError(404, "not_found", fmt::format("no route {} {}", req.method, req.path.substr(0, 200)));
        }
        break;
      }
      case 413:
        e = MakeError(413, "too_large",
                      fmt::format("request body over max_body_bytes ({} bytes)", self->config_.max_body_bytes),
                      "body");
        break;
      case 414: e = MakeError(414, "too_large", "request URI too long", "path"); break;
      case 400: e = MakeError(400, "invalid_argument", "malformed HTTP request"); break;
      case 416: e = MakeError(416, "invalid_argument", "range not satisfiable", "Range"); break;
      default:
        e = MakeError(res.status, res.status >= 500 ? "internal" : "invalid_argument",
                      fmt::format("HTTP {}", res.status));
    }
    ReplyError(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    ReplyError(res, MakeError(500, "internal", fmt::format("internal error: {}", what)));
  });

  http.set_logger([self](const Request& req, const Response& res) {
    self->counters_.Count(res.status);
    auto& access = self->impl_->access;
    if (!access) return;
    // 0 for requests that never reached routing (malformed request lines).
    double ms = t_start.time_since_epoch().count() == 0
                    ? 0.0
                    : std::chrono::duration<double, std::milli>(Clock::now() - t_start).count();
    t_start = Clock::time_point();
    std::string line;
    line.reserve(192);
    line += "\"method\":\"";
    AppendEscaped(line, req.method.substr(0, 16));
    line += "\",\"path\":\"";
    AppendEscaped(line, std::string_view(req.path).substr(0, 512));
    fmt::format_to(std::back_inserter(line), "\",\"status\":{},\"ms\":{:.3f},\"bytes_in\":{},\"bytes_out\":{}",
                   res.status, ms, req.body.size(), res.body.size());
    if (!t_tenant.empty()) {
      line += ",\"tenant\":\"";
      AppendEscaped(line, t_tenant);
      line += '"';
    }
    line += ",\"remote\":\"";
    AppendEscaped(line, req.remote_addr);
    line += '"';
    access->log(res.status >= 500 ? spdlog::level::warn : spdlog::level::info, line);
  });

  // Authenticated handlers: the caller from the bearer token, else 401.
  using AuthedHandler = std::function<void(const Request&, Response&, const live::Caller&)>;
  auto authed = [self](AuthedHandler fn) {
    return [self, fn = std::move(fn)](const Request& req, Response& res) {
      const std::string& h = req.get_header_value("Authorization");
      std::string token;
      if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) {
        token = h.substr(7);
        while (!token.empty() && token.back() == ' ') token.pop_back();
      }
      if (token.empty()) {
        res.set_header("WWW-Authenticate", "Bearer");
        ReplyError(res, MakeError(401, "unauthenticated",
                                  "no bearer token: send the header 'Authorization: Bearer TOKEN'", "Authorization"));
        return;
      }
      auto caller = self->cp_->Authenticate(token);
      if (!caller) {
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        ReplyError(res, MakeError(401, "unauthenticated", "unknown token", "Authorization"));
        return;
      }
      t_tenant = caller->tenant;
      fn(req, res, *caller);
    };
  };
  auto job_id = [](const Request& req, Response& res, int64_t* id) {
    ApiError err;
    if (!ParseJobId(req.matches[1].str(), id, &err)) {
      ReplyError(res, err);
      return false;
    }
    return true;
  };
  auto no_query = [](const Request& req, Response& res) {
    ApiError err;
    QueryParams q;
    if (!Query(req, res, &q)) return false;
    if (!ParseNoQuery(q, &err)) {
      ReplyError(res, err);
      return false;
    }
    return true;
  };

  // ---- public
  http.Get("/api/v1/health", [self](const Request&, Response& res) {
    ReplyJson(res, 200, json{{"ok", true}, {"version", self->options_.version}});
  });
  http.Get("/api/v1/openapi.json", [self](const Request&, Response& res) {
    res.status = 200;
    res.set_content(Dump(OpenApiDocument(self->options_.version)), "application/json");
  });
  http.Get("/metrics", [self](const Request&, Response& res) {
    std::string text = RenderMetrics(self->cp_->Centers(), self->cp_->Stats(), self->counters_);
    res.status = 200;
    res.set_content(std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });

  // ---- jobs
  http.Post("/api/v1/jobs", authed([self, no_query](const Request& req, Response& res, const live::Caller& c) {
              if (!no_query(req, res)) return;
              live::JobSpec spec;
              ApiError err;
              if (!ParseJobSpec(req.body, &spec, &err)) return ReplyError(res, err);
              auto rec = self->cp_->Submit(c, std::move(spec));
              if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
              res.set_header("Location", fmt::format("/api/v1/jobs/{}", rec->id));
              ReplyJson(res, 201, JobToJson(*rec));
            }));
  http.Get("/api/v1/jobs", authed([self](const Request& req, Response& res, const live::Caller& c) {
             live::JobFilter filter;
             ApiError err;
             QueryParams params;
             if (!Query(req, res, &params)) return;
             if (!ParseJobListQuery(params, &filter, &err)) return ReplyError(res, err);
             auto jobs = self->cp_->List(c, filter);
             if (!jobs.ok()) return ReplyError(res, ErrorFromStatus(jobs.status()));
             json arr = json::array();
             for (const auto& j : *jobs) arr.push_back(JobToJson(j));
             ReplyJson(res, 200, json{{"jobs", std::move(arr)}});
           }));
  http.Get("/api/v1/jobs/([^/]*)", authed([self, job_id, no_query](const Request& req, Response& res,
                                                                    const live::Caller& c) {
             int64_t id = 0;
             if (!job_id(req, res, &id) || !no_query(req, res)) return;
             auto rec = self->cp_->Get(c, id);
             if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
             ReplyJson(res, 200, JobToJson(*rec));
           }));
  auto cancel = authed([self, job_id, no_query](const Request& req, Response& res, const live::Caller& c) {
    int64_t id = 0;
    if (!job_id(req, res, &id) || !no_query(req, res)) return;
    auto rec = self->cp_->Cancel(c, id);
    if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
    ReplyJson(res, 200, JobToJson(*rec));
  });
  http.Post("/api/v1/jobs/([^/]*)/cancel", cancel);
  http.Delete("/api/v1/jobs/([^/]*)", cancel);
  http.Get("/api/v1/jobs/([^/]*)/logs", authed([self, job_id](const Request& req, Response& res,
                                                              const live::Caller& c) {
             int64_t id = 0;
             if (!job_id(req, res, &id)) return;
             LogQuery q;
             ApiError err;
             QueryParams params;
             if (!Query(req, res, &params)) return;
             if (!ParseLogQuery(params, &q, &err)) return ReplyError(res, err);
             // The state is read before the log: a finished job's log is complete.
             auto rec = self->cp_->Get(c, id);
             if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
             auto path = self->cp_->LogPath(c, id, q.stream);
             if (!path.ok()) return ReplyError(res, ErrorFromStatus(path.status()));
             std::string data;
             int64_t size = 0;
             // A job owns its directory: its log may have been replaced by a
             // link (to the server's database) or a FIFO. Plain files only.
             std::FILE* f = nullptr;
             if (int fd = ::open(path->c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); fd >= 0) {
               struct stat st {};
               f = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::fdopen(fd, "rb") : nullptr;
               if (f == nullptr) ::close(fd);
             }
             if (f) {
               if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
               if (size < 0) size = 0;
               if (q.offset < size) {
                 int64_t n = std::min<int64_t>(q.limit, size - q.offset);
                 data.resize(static_cast<size_t>(n));
                 if (std::fseek(f, static_cast<long>(q.offset), SEEK_SET) == 0) {
                   data.resize(std::fread(data.data(), 1, data.size(), f));
                 } else {
                   data.clear();
                 }
               }
               std::fclose(f);
             }
             res.status = 200;
             res.set_header("X-Log-Size", std::to_string(size));
             res.set_header("X-Job-State", std::string(live::StateName(rec->state)));
             res.set_content(std::move(data), "text/plain; charset=utf-8");
           }));

  // ---- centers
  http.Get("/api/v1/centers", authed([self, no_query](const Request& req, Response& res, const live::Caller&) {
             if (!no_query(req, res)) return;
             json arr = json::array();
             for (const auto& v : self->cp_->Centers()) arr.push_back(CenterToJson(v));
             ReplyJson(res, 200, json{{"centers", std::move(arr)}});
           }));
  http.Post("/api/v1/centers/([^/]*)/(drain|resume)",
            authed([self, no_query](const Request& req, Response& res, const live::Caller& c) {
              if (!no_query(req, res)) return;
              const std::string name = req.matches[1].str();
              const bool drain = req.matches[2].str() == "drain";
              Status st = drain ? self->cp_->Drain(c, name) : self->cp_->Resume(c, name);
              if (!st.ok()) return ReplyError(res, ErrorFromStatus(st));
              for (const auto& v : self->cp_->Centers()) {
                if (v.name == name) return ReplyJson(res, 200, CenterToJson(v));
              }
              ReplyError(res, MakeError(404, "not_found", fmt::format("center '{}' not found", name), "name"));
            }));

  // ---- tenants, usage, whoami
  http.Get("/api/v1/tenants", authed([self, no_query](const Request& req, Response& res, const live::Caller& c) {
             if (!no_query(req, res)) return;
             auto ts = self->cp_->Tenants(c);
             if (!ts.ok()) return ReplyError(res, ErrorFromStatus(ts.status()));
             json arr = json::array();
             for (const auto& t : *ts) arr.push_back(TenantToJson(t));
             ReplyJson(res, 200, json{{"tenants", std::move(arr)}});
           }));
  http.Post("/api/v1/tenants", authed([self, no_query](const Request& req, Response& res, const live::Caller& c) {
              if (!no_query(req, res)) return;
              if (!c.admin) {
                return ReplyError(res, MakeError(403, "permission_denied", "creating tenants is for the admin"));
              }
              TenantRequest tr;
              ApiError err;
              if (!ParseTenantRequest(req.body, &tr, &err)) return ReplyError(res, err);
              live::Tenant t;
              t.name = tr.name;
              t.admin = tr.admin;
              t.max_gpus_per_job = tr.max_gpus_per_job;
              t.max_active_jobs = tr.max_active_jobs;
              auto nt = self->cp_->CreateTenant(c, t);
              if (!nt.ok()) return ReplyError(res, ErrorFromStatus(nt.status()));
              ReplyJson(res, 201, json{{"tenant", TenantToJson(nt->tenant)}, {"token", nt->token}});
            }));
  http.Get("/api/v1/usage", authed([self](const Request& req, Response& res, const live::Caller& c) {
             UsageQuery q;
             ApiError err;
             QueryParams params;
             if (!Query(req, res, &params)) return;
             if (!ParseUsageQuery(params, &q, &err)) return ReplyError(res, err);
             auto rows = self->cp_->Usage(c, q.from_ms, q.to_ms);
             if (!rows.ok()) return ReplyError(res, ErrorFromStatus(rows.status()));
             json arr = json::array();
             for (const auto& u : *rows) arr.push_back(UsageToJson(u));
             ReplyJson(res, 200, json{{"usage", std::move(arr)}});
           }));
  http.Get("/api/v1/whoami", authed([no_query](const Request& req, Response& res, const live::Caller& c) {
             if (!no_query(req, res)) return;
             ReplyJson(res, 200, json{{"tenant", c.tenant}, {"admin", c.admin}});
           }));

  // ---- the dashboard: its files, index.html for client-side routes.
  http.Get("/(.*)", [self](const Request& req, Response& res) {
    if (IsApiPath(req.path)) {
      return ReplyError(res, MakeError(404, "not_found", fmt::format("no route GET {}", req.path.substr(0, 200))));
    }
    const StaticFile* f = self->impl_->statics.Find(req.path);
    if (!f) {
      return ReplyError(res, MakeError(400, "invalid_argument", "path: '..' segments, backslashes and NUL are not allowed",
                                       "path"));
    }
    res.status = 200;
    res.set_header("Cache-Control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(f->data.data(), f->data.size(), f->content_type.c_str());
  });
  return s;
}

Status ApiServer::Bind() {
  int port = port_;
  if (port == 0) {
    port = http_->bind_to_any_port(host_);
    if (port < 0) return Unavailable("listen: cannot bind {}:any port", host_);
  } else if (!http_->bind_to_port(host_, port)) {
    return Unavailable("listen: cannot bind {} (in use, or not an address of this machine?)", config_.listen);
  }
  port_ = port;
  impl_->raise_backlog(1024);
  return Status::Ok();
}

Status ApiServer::Run() {
  if (stopping_.load()) return Status::Ok();
  bool ok = http_->listen_after_bind();
  if (impl_->access) impl_->access->flush();
  if (!ok && !stopping_.load()) return Internal("the HTTP server stopped serving by itself");
  return Status::Ok();
}

void ApiServer::Stop() {
  stopping_.store(true);
  std::lock_guard<std::mutex> lk(stop_mu_);
  // The library's stop() acts only on a running server, and only once.
  if (!stop_issued_ && http_->is_running()) {
    http_->stop();
    stop_issued_ = true;
  }
}

}  // namespace suanli::server
