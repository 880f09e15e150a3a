#include "server/api_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "server/json_codec_agent.h"
#include "server/json_limits.h"
#include "server/openapi.h"

namespace suanli::server {
namespace {

using nlohmann::json;
using Request = HttpRequest;
using Response = HttpResponse;
using Params = RouteParams;

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

bool JobId(const Params& p, Response& res, int64_t* id) {
  ApiError err;
  if (!ParseJobId(p.empty() ? std::string_view() : std::string_view(p[0]), id, &err)) {
    ReplyError(res, err);
    return false;
  }
  return true;
}

bool NoQuery(const Request& req, Response& res) {
  ApiError err;
  QueryParams q;
  if (!Query(req, res, &q)) return false;
  if (!ParseNoQuery(q, &err)) {
    ReplyError(res, err);
    return false;
  }
  return true;
}

using AuthedFn = std::function<void(const Request&, Response&, const Params&, const live::Caller&)>;

// Authenticated handlers: the caller from the bearer token, else 401.
// The request's bearer token ("" = none).
std::string BearerToken(const Request& req) {
  std::string_view h = req.Header("Authorization");
  std::string token;
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) {
    token = std::string(h.substr(7));
    while (!token.empty() && token.back() == ' ') token.pop_back();
  }
  return token;
}

RouteFn Authed(live::ControlPlane* const* cp, AuthedFn fn) {
  return [cp, fn = std::move(fn)](const Request& req, Response& res, const Params& p) {
    const std::string token = BearerToken(req);
    if (token.empty()) {
      res.SetHeader("WWW-Authenticate", "Bearer");
      return ReplyError(
          res, MakeError(401, "unauthenticated", "no bearer token: send the header 'Authorization: Bearer TOKEN'",
                         "Authorization"));
    }
    auto caller = (*cp)->Authenticate(token);
    if (!caller) {
      res.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return ReplyError(res, MakeError(401, "unauthenticated", "unknown token", "Authorization"));
    }
    res.tenant = caller->tenant;
    fn(req, res, p, *caller);
  };
}

}  // namespace

bool MatchRoute(std::string_view pattern, std::string_view path, RouteParams* params) {
  params->clear();
  size_t p = 0, q = 0;
  while (true) {
    size_t pe = pattern.find('/', p), qe = path.find('/', q);
    std::string_view ps = pattern.substr(p, pe == std::string_view::npos ? std::string_view::npos : pe - p);
    std::string_view qs = path.substr(q, qe == std::string_view::npos ? std::string_view::npos : qe - q);
    if (ps == "*") {
      params->emplace_back(qs);
    } else if (ps != qs) {
      return false;
    }
    if ((pe == std::string_view::npos) != (qe == std::string_view::npos)) return false;
    if (pe == std::string_view::npos) return true;
    p = pe + 1;
    q = qe + 1;
  }
}

void ReplyJson(Response& res, int status, const json& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = Dump(body);
}

void ReplyError(Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.content_type = "application/json";
  res.body = ErrorJson(e);
}

ApiError MakeError(int status, const char* code, std::string message, std::string field) {
  ApiError e;
  e.http_status = status;
  e.code = code;
  e.message = std::move(message);
  e.field = std::move(field);
  return e;
}

bool IsApiPath(const std::string& path) {
  return path == "/api" || path.rfind("/api/", 0) == 0 || path == "/metrics" || path.rfind("/metrics/", 0) == 0;
}

std::vector<Route> ApiRoutes(live::ControlPlane* const* cpp, const std::string& version, const HttpCounters* counters) {
  std::vector<Route> routes;
  auto add = [&routes](const char* method, const char* pattern, RouteFn fn, bool inline_ok = false) {
    routes.push_back(Route{method, pattern, inline_ok, std::move(fn)});
  };
  auto authed = [cpp](AuthedFn fn) { return Authed(cpp, std::move(fn)); };
  auto cp = [cpp] { return *cpp; };

  // ---- public
  add(
      "GET", "/api/v1/health",
      [version](const Request&, Response& res, const Params&) {
        ReplyJson(res, 200, json{{"ok", true}, {"version", version}});
      },
      true);
  add(
      "GET", "/api/v1/openapi.json",
      [version](const Request&, Response& res, const Params&) {
        res.status = 200;
        res.content_type = "application/json";
        res.body = Dump(OpenApiDocument(version));
      },
      true);

  // ---- jobs
  add("POST", "/api/v1/jobs", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        live::JobSpec spec;
        ApiError err;
        if (!ParseJobSpec(req.body, &spec, &err)) return ReplyError(res, err);
        auto rec = cp()->Submit(c, std::move(spec));
        if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
        res.SetHeader("Location", fmt::format("/api/v1/jobs/{}", rec->id));
        ReplyJson(res, 201, JobToJson(*rec));
      }));
  add("GET", "/api/v1/jobs", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        live::JobFilter filter;
        ApiError err;
        QueryParams params;
        if (!Query(req, res, &params)) return;
        if (!ParseJobListQuery(params, &filter, &err)) return ReplyError(res, err);
        auto jobs = cp()->List(c, filter);
        if (!jobs.ok()) return ReplyError(res, ErrorFromStatus(jobs.status()));
        json arr = json::array();
        for (const auto& j : *jobs) arr.push_back(JobToJson(j));
        ReplyJson(res, 200, json{{"jobs", std::move(arr)}});
      }));
  add("GET", "/api/v1/jobs/*", authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        int64_t id = 0;
        if (!JobId(p, res, &id) || !NoQuery(req, res)) return;
        auto rec = cp()->Get(c, id);
        if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
        ReplyJson(res, 200, JobToJson(*rec));
      }));
  auto cancel = authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
    int64_t id = 0;
    if (!JobId(p, res, &id) || !NoQuery(req, res)) return;
    auto rec = cp()->Cancel(c, id);
    if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
    ReplyJson(res, 200, JobToJson(*rec));
  });
  add("DELETE", "/api/v1/jobs/*", cancel);
  add("POST", "/api/v1/jobs/*/cancel", cancel);
  add("POST", "/api/v1/jobs/*/checkpoint",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        int64_t id = 0;
        if (!JobId(p, res, &id) || !NoQuery(req, res)) return;
        auto rec = cp()->ReportCheckpoint(c, id);
        if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
        ReplyJson(res, 200, JobToJson(*rec));
      }));
  add("GET", "/api/v1/jobs/*/logs",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        int64_t id = 0;
        if (!JobId(p, res, &id)) return;
        LogQuery q;
        ApiError err;
        QueryParams params;
        if (!Query(req, res, &params)) return;
        if (!ParseLogQuery(params, &q, &err)) return ReplyError(res, err);
        // The state is read before the log: a finished job's log is complete.
        auto rec = cp()->Get(c, id);
        if (!rec.ok()) return ReplyError(res, ErrorFromStatus(rec.status()));
        auto path = cp()->LogPath(c, id, q.stream);
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
        res.SetHeader("X-Log-Size", std::to_string(size));
        res.SetHeader("X-Job-State", std::string(live::StateName(rec->state)));
        res.content_type = "text/plain; charset=utf-8";
        res.body = std::move(data);
      }));

  // ---- centers
  add("GET", "/api/v1/centers", authed([cp](const Request& req, Response& res, const Params&, const live::Caller&) {
        if (!NoQuery(req, res)) return;
        json arr = json::array();
        for (const auto& v : cp()->Centers()) arr.push_back(CenterToJson(v));
        ReplyJson(res, 200, json{{"centers", std::move(arr)}});
      }));
  add("GET", "/api/v1/centers/history",
      authed([cp](const Request& req, Response& res, const Params&, const live::Caller&) {
        if (!NoQuery(req, res)) return;
        json arr = json::array();
        for (const auto& h : cp()->History()) {
          json samples = json::array();
          for (const live::CenterSample& s : h.samples) {
            samples.push_back({{"time_ms", s.time_ms.ms()},
                               {"busy_devices", s.busy_devices},
                               {"devices", s.devices},
                               {"pending", s.pending},
                               {"running", s.running}});
          }
          arr.push_back({{"center", h.center}, {"samples", std::move(samples)}});
        }
        ReplyJson(res, 200, json{{"history", std::move(arr)}});
      }));
  for (const bool drain : {true, false}) {
    add("POST", drain ? "/api/v1/centers/*/drain" : "/api/v1/centers/*/resume",
        authed([cp, drain](const Request& req, Response& res, const Params& p, const live::Caller& c) {
          if (!NoQuery(req, res)) return;
          const std::string& name = p[0];
          Status st = drain ? cp()->Drain(c, name) : cp()->Resume(c, name);
          if (!st.ok()) return ReplyError(res, ErrorFromStatus(st));
          for (const auto& v : cp()->Centers()) {
            if (v.name == name) return ReplyJson(res, 200, CenterToJson(v));
          }
          ReplyError(res, MakeError(404, "not_found", fmt::format("center '{}' not found", name), "name"));
        }));
  }

  // ---- agents' centers (docs/network.md)
  add("POST", "/api/v1/centers", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        json j;
        ApiError err;
        if (!ParseJsonObject(req.body, &j, &err)) return ReplyError(res, err);
        std::string name, region;
        for (auto it = j.begin(); it != j.end(); ++it) {
          if (it.key() != "name" && it.key() != "region")
            return ReplyError(res, FieldError(it.key(), "unknown key (known: name, region)"));
          if (!it.value().is_string()) return ReplyError(res, FieldError(it.key(), "expected a string"));
          (it.key() == "name" ? name : region) = it.value().get<std::string>();
        }
        if (name.empty()) return ReplyError(res, FieldError("name", "required"));
        auto cred = cp()->IssueAgentCredential(c, name);
        if (!cred.ok()) return ReplyError(res, ErrorFromStatus(cred.status()));
        for (const auto& v : cp()->Centers()) {
          if (v.name != name) continue;
          if (!region.empty() && region != v.region)
            return ReplyError(res, MakeError(409, "failed_precondition",
                                             fmt::format("center '{}' is in region '{}' in the server's network, not "
                                                         "'{}'; the credential was issued",
                                                         name, v.region, ShownName(region)),
                                             "region"));
          return ReplyJson(res, 201, json{{"center", CenterToJson(v)}, {"credential", *cred}});
        }
      }));
  add("POST", "/api/v1/centers/*/sync", [cp](const Request& req, Response& res, const Params& p) {
    const std::string token = BearerToken(req);
    if (token.empty()) {
      res.SetHeader("WWW-Authenticate", "Bearer");
      return ReplyError(
          res, MakeError(401, "unauthenticated", "no bearer token: send the center's credential", "Authorization"));
    }
    if (!NoQuery(req, res)) return;
    // The credential first: an unauthenticated client learns nothing of the body's checks.
    if (Status auth = cp()->AuthenticateAgent(p[0], token); !auth.ok()) {
      res.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return ReplyError(res, MakeError(401, "unauthenticated", auth.message(), "Authorization"));
    }
    res.tenant = "agent:" + p[0];
    auto sync = ParseAgentSyncRequest(req.body);
    if (!sync.ok()) return ReplyError(res, ErrorFromStatus(sync.status()));
    auto answer = cp()->AgentSync(p[0], token, *sync);
    if (!answer.ok()) return ReplyError(res, ErrorFromStatus(answer.status()));
    res.status = 200;
    res.content_type = "application/json";
    res.body = AgentSyncResponseToJson(*answer);
  });

  // ---- tenants, usage, whoami
  add("GET", "/api/v1/tenants", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        auto ts = cp()->Tenants(c);
        if (!ts.ok()) return ReplyError(res, ErrorFromStatus(ts.status()));
        json arr = json::array();
        for (const auto& t : *ts) arr.push_back(TenantToJson(t));
        ReplyJson(res, 200, json{{"tenants", std::move(arr)}});
      }));
  add("POST", "/api/v1/tenants", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
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
        t.max_priority = tr.max_priority;
        t.home = tr.home;
        auto nt = cp()->CreateTenant(c, t);
        if (!nt.ok()) return ReplyError(res, ErrorFromStatus(nt.status()));
        ReplyJson(res, 201, json{{"tenant", TenantToJson(nt->tenant)}, {"token", nt->token}});
      }));
  add("GET", "/api/v1/usage", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        UsageQuery q;
        ApiError err;
        QueryParams params;
        if (!Query(req, res, &params)) return;
        if (!ParseUsageQuery(params, &q, &err)) return ReplyError(res, err);
        auto rows = cp()->Usage(c, WallMs(q.from_ms), WallMs(q.to_ms));
        if (!rows.ok()) return ReplyError(res, ErrorFromStatus(rows.status()));
        json arr = json::array();
        for (const auto& u : *rows) arr.push_back(UsageToJson(u));
        ReplyJson(res, 200, json{{"usage", std::move(arr)}});
      }));
  // ---- quotas
  add("GET", "/api/v1/quotas", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        auto v = cp()->Quotas(c);
        if (!v.ok()) return ReplyError(res, ErrorFromStatus(v.status()));
        ReplyJson(res, 200, QuotasToJson(*v));
      }));
  add("PUT", "/api/v1/quotas", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        if (!c.admin) return ReplyError(res, MakeError(403, "permission_denied", "changing quotas is for the admin"));
        auto v = cp()->SetQuotas(c, req.body);
        if (!v.ok()) return ReplyError(res, ErrorFromStatus(v.status()));
        ReplyJson(res, 200, QuotasToJson(*v));
      }));
  add("DELETE", "/api/v1/quotas", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        if (!c.admin) return ReplyError(res, MakeError(403, "permission_denied", "changing quotas is for the admin"));
        auto v = cp()->SetQuotas(c, std::nullopt);
        if (!v.ok()) return ReplyError(res, ErrorFromStatus(v.status()));
        ReplyJson(res, 200, QuotasToJson(*v));
      }));
  // ---- datasets
  add("GET", "/api/v1/datasets", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        auto ds = cp()->Datasets(c);
        if (!ds.ok()) return ReplyError(res, ErrorFromStatus(ds.status()));
        json arr = json::array();
        for (const live::Dataset& d : *ds) arr.push_back(DatasetToJson(d));
        ReplyJson(res, 200, json{{"datasets", std::move(arr)}});
      }));
  add("POST", "/api/v1/datasets", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        DatasetRequest dr;
        ApiError err;
        if (!ParseDatasetRequest(req.body, &dr, &err)) return ReplyError(res, err);
        live::Dataset d;
        d.name = dr.name;
        d.center = dr.center;
        d.size_bytes = dr.size_gb < 0 ? -1 : static_cast<int64_t>(std::llround(dr.size_gb * 1e9));
        auto nd = cp()->RegisterDataset(c, d);
        if (!nd.ok()) return ReplyError(res, ErrorFromStatus(nd.status()));
        ReplyJson(res, 201, DatasetToJson(*nd));
      }));
  add("GET", "/api/v1/datasets/*",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        auto d = cp()->GetDataset(c, p[0]);
        if (!d.ok()) return ReplyError(res, ErrorFromStatus(d.status()));
        ReplyJson(res, 200, DatasetToJson(*d));
      }));
  add("DELETE", "/api/v1/datasets/*",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        Status st = cp()->DeleteDataset(c, p[0]);
        if (!st.ok()) return ReplyError(res, ErrorFromStatus(st));
        ReplyJson(res, 200, json{{"deleted", p[0]}});
      }));
  // ---- services
  add("GET", "/api/v1/services", authed([cp](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        json arr = json::array();
        for (const auto& [id, replicas] : cp()->Services(c)) arr.push_back(ServiceToJson(id, replicas));
        ReplyJson(res, 200, json{{"services", std::move(arr)}});
      }));
  add("GET", "/api/v1/services/*",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        int64_t id = 0;
        if (!JobId(p, res, &id) || !NoQuery(req, res)) return;
        auto r = cp()->Replicas(c, id);
        if (!r.ok()) return ReplyError(res, ErrorFromStatus(r.status()));
        ReplyJson(res, 200, ServiceToJson(id, *r));
      }));
  add("PUT", "/api/v1/services/*",
      authed([cp](const Request& req, Response& res, const Params& p, const live::Caller& c) {
        int64_t id = 0;
        if (!JobId(p, res, &id) || !NoQuery(req, res)) return;
        uint32_t replicas = 0;
        ApiError err;
        if (!ParseScaleRequest(req.body, &replicas, &err)) return ReplyError(res, err);
        auto r = cp()->Scale(c, id, replicas);
        if (!r.ok()) return ReplyError(res, ErrorFromStatus(r.status()));
        ReplyJson(res, 200, ServiceToJson(id, *r));
      }));
  add("GET", "/api/v1/whoami", authed([](const Request& req, Response& res, const Params&, const live::Caller& c) {
        if (!NoQuery(req, res)) return;
        ReplyJson(res, 200, json{{"tenant", c.tenant}, {"admin", c.admin}});
      }));
  add("GET", "/metrics", [cp, counters](const Request&, Response& res, const Params&) {
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = RenderMetrics(cp()->Centers(), cp()->Stats(), *counters);
  });
  return routes;
}

}  // namespace suanli::server
