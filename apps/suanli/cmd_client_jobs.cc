// The client commands for jobs: submit, queue, show, cancel, logs
// (cmd_client_internal.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "io/model_loader.h"
#include "io/yaml_fields.h"

#include "base/strings.h"
#include "cmd_client_internal.h"
#include "live/live_job.h"
#include "live/record_schema.h"
#include "server/api_client.h"
#include "server/json_codec.h"
#include "server/record_json.h"

namespace suanli::app::client_detail {

// ---------------------------------------------------------------- submit

namespace {

// A job file (YAML, the keys of the JSON body) as the JSON body: each key of
// the job spec's table (live/record_schema.h), read by its type. Seconds may
// be durations (90m); a deadline may be a duration from now (12h); a list of
// models or stacks may be one name.
Result<json> LoadJobFile(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(YAML::Node root, ReadYaml(path, "job file"));
  yaml::Value top = yaml::Root(&path, root);
  if (!top.IsMap()) return top.Error("expected a map of job keys (command, gpus, ...)");
  const auto fields = live::schema::JobSpecFields();
  std::vector<std::string_view> keys;
  for (const auto& f : fields) keys.push_back(f.json);
  SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(top, keys));
  json j = json::object();
  for (const auto& f : fields) {
    const std::string key(f.json);
    if (!m.Has(key)) continue;
    yaml::Value v = m.Get(key);
    switch (f.type()) {
      case live::schema::Type::kString:
        if (key == "deadline") {
          if (!v.IsScalar()) return v.Error("expected an RFC 3339 time or a duration from now, like 12h");
          auto d = DeadlineText(v.node().Scalar(), NowMs());
          if (!d) {
            return v.Error(
                fmt::format("expected an RFC 3339 time (2026-12-05T06:00:00+08:00) or a duration from now "
                            "(12h), got '{}'",
                            v.node().Scalar()));
          }
          j[key] = *d;
        } else {
          SUANLI_ASSIGN_OR_RETURN(std::string str, v.String());
          j[key] = str;
        }
        break;
      case live::schema::Type::kStringList: {
        if (v.IsScalar() && !f.has(live::schema::kNonEmpty)) {
          SUANLI_ASSIGN_OR_RETURN(std::string one, v.String());
          j[key] = json::array({one});
          break;
        }
        if (!v.IsSequence()) {
          return v.Error(
              "expected a list of strings (for command: the program and its arguments, e.g. [sh, -c, 'echo hi'])");
        }
        SUANLI_ASSIGN_OR_RETURN(size_t n, v.SequenceSize());
        json arr = json::array();
        for (size_t i = 0; i < n; ++i) {
          yaml::Value item = v.Item(i);
          if (!item.IsScalar()) return item.Error("expected a string");
          arr.push_back(item.node().Scalar());
        }
        j[key] = std::move(arr);
        break;
      }
      case live::schema::Type::kStringMap: {
        if (!v.IsMap()) return v.Error("expected a map of NAME: value");
        json map = json::object();
        const YAML::Node& node = v.node();
        for (auto it = node.begin(); it != node.end(); ++it) {
          if (!it->second.IsScalar() || !it->first.IsScalar())
            return v.Error("expected a map of NAME: value (strings)");
          map[it->first.Scalar()] = it->second.Scalar();
        }
        j[key] = std::move(map);
        break;
      }
      case live::schema::Type::kGpus: {
        SUANLI_ASSIGN_OR_RETURN(double n, v.Number());
        auto g = live::Gpus::FromNumber(n);
        if (!g) return v.Error(fmt::format("expected a number of accelerators 0..{}, e.g. 2 or 0.25", live::kMaxGpus));
        j[key] = server::GpusJson(*g);
        break;
      }
      case live::schema::Type::kInt64:
      case live::schema::Type::kInt32:
      case live::schema::Type::kUint32: {
        if (key.ends_with("_s")) {  // seconds, or a duration
          if (!v.IsScalar()) return v.Error("expected seconds or a duration like 90m");
          auto n = ParseDuration(v.node().Scalar());
          if (!n) return v.Error(fmt::format("expected seconds or a duration like 1h30m, got '{}'", v.node().Scalar()));
          j[key] = *n;
          break;
        }
        // The range is the spec check's (JobSpecFromJson, below), with its words.
        const bool int32 = f.type() == live::schema::Type::kInt32;
        SUANLI_ASSIGN_OR_RETURN(int64_t n, v.Integer(int32 ? INT32_MIN : 0, int32 ? INT32_MAX : (int64_t{1} << 40)));
        j[key] = n;
        break;
      }
      default: return v.Error(fmt::format("{}: not a key of a job file", key));
    }
  }
  return j;
}

}  // namespace

int RunSubmit(const SubmitArgs& a, const Conn& conn) {
  const char* cmd = "submit";
  json body = json::object();
  if (!a.file.empty()) {
    auto f = LoadJobFile(a.file);
    if (!f.ok()) return Fail(cmd, kUsage, f.status().message());
    body = std::move(f).value();
  }
  if (!a.command.empty()) body["command"] = a.command;
  if (!body.contains("command")) {
    return Fail(cmd, kUsage,
                "no command: give it after --, e.g. suanli submit --gpus 1 -- python train.py (or in -f FILE)");
  }
  if (a.gpus) {
    auto g = live::Gpus::FromNumber(*a.gpus);
    if (!g) return Fail(cmd, kUsage, "--gpus: expected a number of accelerators, e.g. 2 or 0.25");
    body["gpus"] = server::GpusJson(*g);
  }
  if (a.nodes) body["nodes"] = *a.nodes;
  if (!a.models.empty()) body["models"] = a.models;
  if (!a.stacks.empty()) body["stacks"] = a.stacks;
  if (a.cpus) {
    if (!(*a.cpus > 0) || *a.cpus > 1e9) return Fail(cmd, kUsage, "--cpus: expected a positive number of cores");
    body["cpu_milli"] = static_cast<int64_t>(std::llround(*a.cpus * 1000));
  }
  if (a.mem) {
    if (*a.mem < 0) return Fail(cmd, kUsage, "--mem: expected MiB >= 0");
    body["mem_mib"] = *a.mem;
  }
  if (!a.time_limit.empty()) {
    auto s = ParseDuration(a.time_limit);
    if (!s)
      return Fail(cmd, kUsage,
                  "--time-limit: expected seconds or a duration like 90m, 1h30m, 2d; got '" + a.time_limit + "'");
    body["time_limit_s"] = *s;
  }
  if (!a.duration.empty()) {
    auto s = ParseDuration(a.duration);
    if (!s) return Fail(cmd, kUsage, "--duration: expected seconds or a duration like 90m; got '" + a.duration + "'");
    body["duration_s"] = *s;
  }
  for (const auto& [flag, text, key] :
       {std::tuple{"--checkpoint-s", &a.checkpoint, "checkpoint_s"}, std::tuple{"--grace-s", &a.grace, "grace_s"}}) {
    if (text->empty()) continue;
    auto s = ParseDuration(*text);
    if (!s) return Fail(cmd, kUsage, fmt::format("{}: expected seconds or a duration like 10m; got '{}'", flag, *text));
    body[key] = *s;
  }
  if (!a.stop_signal.empty()) body["stop_signal"] = a.stop_signal;
  if (!a.deadline.empty()) {
    auto d = DeadlineText(a.deadline, NowMs());
    if (!d) {
      return Fail(cmd, kUsage,
                  "--deadline: expected an RFC 3339 time (2026-12-05T06:00:00+08:00) or a duration from now (12h); "
                  "got '" +
                      a.deadline + "'");
    }
    body["deadline"] = *d;
  }
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.center.empty()) body["center"] = a.center;
  if (!a.dataset.empty()) body["dataset"] = a.dataset;
  if (a.replicas) body["replicas"] = *a.replicas;
  if (!a.region.empty()) body["region"] = a.region;
  if (a.latency_ms) body["latency_ms"] = *a.latency_ms;
  if (!a.workload_class.empty()) body["class"] = a.workload_class;
  if (!a.workdir.empty()) body["workdir"] = a.workdir;
  if (a.priority) body["priority"] = *a.priority;
  if (!a.env.empty()) {
    json env = body.contains("env") && body["env"].is_object() ? body["env"] : json::object();
    for (const auto& kv : a.env) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return Fail(cmd, kUsage, "--env: expected NAME=VALUE, got '" + kv + "'");
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    body["env"] = std::move(env);
  }
  // The server's own check, here first: a bad job never leaves the machine.
  live::JobSpec spec;
  server::ApiError perr;
  if (!server::JobSpecFromJson(body, &spec, &perr)) return Fail(cmd, kUsage, perr.message);
  if (spec.workload_class.empty()) spec.workload_class = "other";
  if (Status st = live::ValidateSpec(spec, BuiltinCatalog(), nullptr); !st.ok()) return Fail(cmd, kUsage, st.message());

  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Post("/api/v1/jobs", server::Dump(body));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (a.json) return PrintJson(j);
  auto job = server::JobFromJson(j);
  if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
  if (a.quiet) std::printf("%lld\n", static_cast<long long>(job->id));
  else if (job->spec.replicas > 0)
    std::printf("Submitted service %lld (%u replicas; suanli service %lld lists them)\n",
                static_cast<long long>(job->id), job->spec.replicas, static_cast<long long>(job->id));
  else std::printf("Submitted job %lld\n", static_cast<long long>(job->id));
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- queue

namespace {

// Pages of GET /api/v1/jobs until `limit` jobs (0: all of them).
int FetchJobs(const char* cmd, ApiClient& cl, const std::string& states, const std::string& center,
              const std::string& tenant, int limit, std::vector<json>* out, bool* more) {
  int64_t before = 0;
  *more = false;
  while (true) {
    int want = limit > 0 ? std::min<int>(1000, limit - static_cast<int>(out->size())) : 1000;
    if (want <= 0) {
      *more = true;
      return kOk;
    }
    server::QueryList q;
    if (!states.empty()) q.emplace_back("state", states);
    if (!center.empty()) q.emplace_back("center", center);
    if (!tenant.empty()) q.emplace_back("tenant", tenant);
    q.emplace_back("limit", std::to_string(want));
    if (before > 0) q.emplace_back("before", std::to_string(before));
    auto r = cl.Get("/api/v1/jobs", q);
    if (int c = Check(cmd, r)) return c;
    json j;
    if (int c = ParseBody(cmd, *r, &j)) return c;
    if (!j.is_object() || !j.contains("jobs") || !j["jobs"].is_array()) {
      return Fail(cmd, kServerError, "unexpected answer: no \"jobs\" array");
    }
    const auto& page = j["jobs"];
    for (const auto& job : page) out->push_back(job);
    if (static_cast<int>(page.size()) < want || page.empty()) return kOk;
    int64_t last = page.back().value("id", int64_t{0});
    if (last <= 1) return kOk;
    before = last;
  }
}

}  // namespace

int RunQueue(const QueueArgs& a, const Conn& conn) {
  const char* cmd = "queue";
  std::string states = a.state;
  if (states.empty() && !a.all) states = "pending,running";
  int limit = a.limit > 0 ? a.limit : (a.all ? 100 : 0);
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  std::vector<json> jobs;
  bool more = false;
  if (int c = FetchJobs(cmd, *s.client, states, a.center, a.tenant, limit, &jobs, &more)) return c;
  if (a.json) return PrintJson(json{{"jobs", jobs}});
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "NAME", "TENANT", "STATE", "CENTER", "MODEL", "GPUS", "SUBMITTED", "START/EST"});
  for (const auto& jj : jobs) {
    auto job = server::JobFromJson(jj);
    if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
    const auto& r = *job;
    std::string start;
    if (r.start_ms.ms() > 0) start = FormatTime(r.start_ms);
    else if (r.state == live::JobState::kPending && r.est_start_ms.ms() > 0) start = "~" + FormatTime(r.est_start_ms);
    else start = "-";
    std::string name = r.spec.name.empty() ? "-" : r.spec.name;
    if (name.size() > 24) name = name.substr(0, 23) + "~";
    rows.push_back({std::to_string(r.id), name, r.tenant, std::string(live::StateName(r.state)),
                    r.center.empty() ? "-" : r.center, r.model.empty() ? "-" : r.model, r.spec.gpus.ToString(),
                    FormatTime(r.submit_ms), start});
  }
  PrintTable(rows);
  if (jobs.empty()) std::printf("(no %s jobs)\n", states.empty() ? "" : states.c_str());
  if (more) std::printf("(the %zu newest shown; --limit N for more)\n", jobs.size());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- show

int RunShow(int64_t id, bool as_json, const Conn& conn) {
  const char* cmd = "show";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Get(fmt::format("/api/v1/jobs/{}", id));
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  if (as_json) return PrintJson(j);
  auto job = server::JobFromJson(j);
  if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
  const auto& x = *job;
  std::vector<std::vector<std::string>> rows;
  auto add = [&](const char* k, const std::string& v) { rows.push_back({k, v}); };
  add("id:", std::to_string(x.id));
  if (!x.spec.name.empty()) add("name:", x.spec.name);
  add("tenant:", x.tenant);
  add("state:", std::string(live::StateName(x.state)) + (x.reason.empty() ? "" : " (" + x.reason + ")"));
  add("command:", ShellJoin(x.spec.command));
  for (const auto& [k, v] : x.spec.env) add("env:", k + "=" + v);
  if (!x.spec.workdir.empty()) add("workdir:", x.spec.workdir);
  std::string req =
      fmt::format("{} gpus, {} cpus, {} MiB", x.spec.gpus.ToString(), x.spec.cpu_milli / 1000.0, x.spec.mem_mib);
  if (x.spec.nodes > 1)
    req += fmt::format(" over {} nodes ({} gpus each)", x.spec.nodes, x.spec.gpus.devices() / x.spec.nodes);
  if (!x.spec.models.empty()) req += ", models " + Join(x.spec.models, ",");
  if (!x.spec.stacks.empty()) req += ", stacks " + Join(x.spec.stacks, ",");
  add("resources:", req);
  add("class:", x.spec.workload_class);
  if (x.service > 0) {
    std::string svc = fmt::format("a replica of service {} (suanli service {})", x.service, x.service);
    if (!x.spec.region.empty())
      svc += x.spec.latency_ms > 0 ? fmt::format(", within {} ms of region {}", x.spec.latency_ms, x.spec.region)
                                   : ", users in region " + x.spec.region;
    add("service:", svc);
    add("time limit:", "none (restarted when it ends)");
  } else {
    add("time limit:", FormatSeconds(x.spec.time_limit_s));
  }
  if (x.spec.duration_s > 0) add("duration:", FormatSeconds(x.spec.duration_s));
  if (x.spec.priority != 0) add("priority:", std::to_string(x.spec.priority));
  if (!x.spec.center.empty()) add("asked center:", x.spec.center);
  add("center:", x.center.empty() ? "-" : x.center);
  if (!x.model.empty()) add("model:", x.model);
  if (!x.node.empty()) {
    std::vector<std::string> d;
    for (int i : x.devices) d.push_back(std::to_string(i));
    add("node:", x.node + (d.empty() ? "" : " devices " + Join(d, ",")));
  }
  if (!x.backend_id.empty()) add("backend id:", x.backend_id);
  add("submitted:", FormatTimeLong(x.submit_ms));
  if (!x.spec.deadline.empty()) add("deadline:", x.spec.deadline);
  if (!x.spec.dataset.empty()) add("dataset:", x.spec.dataset);
  if (x.state == live::JobState::kPending && x.est_start_ms.ms() > 0)
    add("est. start:", FormatTimeLong(x.est_start_ms));
  if (x.start_ms.ms() > 0) add("started:", FormatTimeLong(x.start_ms));
  if (x.end_ms.ms() > 0) add("ended:", FormatTimeLong(x.end_ms));
  if (x.exit_code >= 0) add("exit code:", std::to_string(x.exit_code));
  if (x.signal > 0) add("signal:", std::to_string(x.signal));
  if (x.spec.checkpoint_s > 0) {
    add("checkpoints:",
        fmt::format("every {}; told by SIG{} {} before a preemption", FormatSeconds(x.spec.checkpoint_s),
                    x.spec.stop_signal, FormatSeconds(x.spec.grace_s)));
  }
  if (x.checkpoint_ms.ms() > 0) add("checkpointed:", FormatTimeLong(x.checkpoint_ms));
  if (live::IsTerminal(x.state) || x.gpu_seconds > 0) {
    add("usage:", fmt::format("{:.2f} accelerator-hours, {:.3f} kWh, cost {:.2f}, {:.3f} kg CO2", x.gpu_seconds / 3600,
                              x.energy_kwh, x.cost, x.carbon_kg));
  }
  // Its runs that ended: "#1 preempted on a a-n0 devices 0-31, 00:00:00 to 00:01:53, 1.00 accelerator-hours".
  if (auto at = j.find("attempts"); at != j.end() && at->is_array()) {
    for (const auto& a : *at) {
      if (!a.is_object()) continue;
      auto str = [&](const char* k) { return a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : ""; };
      auto num = [&](const char* k) { return a.contains(k) && a[k].is_number() ? a[k].get<double>() : 0.0; };
      auto ms = [&](const char* k) { return a.contains(k) && a[k].is_number_integer() ? a[k].get<int64_t>() : 0; };
      std::string where = str("center");
      if (!str("node").empty()) where += " " + str("node");
      add(fmt::format("attempt {}:", ms("n")).c_str(),
          fmt::format("{} on {}, {} to {}, {:.2f} accelerator-hours{}", str("outcome"), where,
                      FormatTimeLong(WallMs(ms("start_ms"))), FormatTimeLong(WallMs(ms("end_ms"))),
                      num("gpu_seconds") / 3600, str("reason").empty() ? "" : " (" + str("reason") + ")") +
              (ms("checkpoint_ms") > 0 ? ", last checkpoint " + FormatTimeLong(WallMs(ms("checkpoint_ms"))) : ""));
    }
  }
  // Its history: "history:  2026-12-06 04:50:01 started: attempt 1 on local node n0".
  if (auto ev = j.find("events"); ev != j.end() && ev->is_array()) {
    bool first = true;
    for (const auto& e : *ev) {
      if (!e.is_object()) continue;
      const int64_t t = e.contains("time_ms") && e["time_ms"].is_number_integer() ? e["time_ms"].get<int64_t>() : 0;
      add(first ? "history:" : "", fmt::format("{} {}: {}", FormatTimeLong(WallMs(t)), e.value("kind", std::string()),
                                               e.value("message", std::string())));
      first = false;
    }
  }
  PrintTable(rows);
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- cancel

int RunCancel(const std::vector<int64_t>& ids, const Conn& conn) {
  const char* cmd = "cancel";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  int worst = kOk;
  for (int64_t id : ids) {
    auto r = s.client->Post(fmt::format("/api/v1/jobs/{}/cancel", id), "");
    if (!r.ok()) return Check(cmd, r);
    if (r->status < 200 || r->status >= 300) {
      Fail(cmd, kServerError, fmt::format("job {}: {}", id, server::ErrorMessage(*r)));
      worst = kServerError;
      continue;
    }
    json j;
    if (int c = ParseBody(cmd, *r, &j)) return c;
    std::string state = j.value("state", std::string());
    if (state == "cancelled") std::printf("Cancelled job %lld\n", static_cast<long long>(id));
    else std::printf("Cancelling job %lld (%s: it is being stopped)\n", static_cast<long long>(id), state.c_str());
  }
  std::fflush(stdout);
  return worst;
}

// ---------------------------------------------------------------- checkpoint

int RunCheckpoint(int64_t id, const Conn& conn) {
  const char* cmd = "checkpoint";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  auto r = s.client->Post(fmt::format("/api/v1/jobs/{}/checkpoint", id), "");
  if (int c = Check(cmd, r)) return c;
  json j;
  if (int c = ParseBody(cmd, *r, &j)) return c;
  auto job = server::JobFromJson(j);
  if (!job.ok()) return Fail(cmd, kServerError, "unexpected answer: " + job.status().message());
  std::printf("Job %lld checkpointed at %s\n", static_cast<long long>(id), FormatTimeLong(job->checkpoint_ms).c_str());
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

// ---------------------------------------------------------------- logs

int RunLogs(int64_t id, bool err_stream, bool follow, const Conn& conn) {
  const char* cmd = "logs";
  Session s = Connect(cmd, conn);
  if (!s.client) return s.code;
  int64_t offset = 0;
  const std::string path = fmt::format("/api/v1/jobs/{}/logs", id);
  while (true) {
    server::QueryList q = {{"stream", err_stream ? "stderr" : "stdout"},
                           {"offset", std::to_string(offset)},
                           {"limit", std::to_string(1 << 20)}};
    auto r = s.client->Get(path, q);
    if (int c = Check(cmd, r)) return c;
    if (!r->body.empty()) {
      std::fwrite(r->body.data(), 1, r->body.size(), stdout);
      std::fflush(stdout);
      offset += static_cast<int64_t>(r->body.size());
    }
    auto size = ParseInt(r->Header("X-Log-Size"));
    if (size && offset < *size && !r->body.empty()) continue;  // more to read now
    if (!follow) break;
    auto state = live::ParseState(r->Header("X-Job-State"));
    // The state was read before the log: a finished job's log was complete.
    if (state && live::IsTerminal(*state)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace suanli::app::client_detail
