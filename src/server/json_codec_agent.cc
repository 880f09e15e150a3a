// The agents' sync (POST /api/v1/agent/sync, docs/network.md) as JSON: what
// an agent sends and what the hub answers. Both ends parse strictly (types,
// ranges, list sizes): a hostile agent, or a hostile hub, gets an error.
#include "server/json_codec_agent.h"

#include "server/json_limits.h"

namespace suanli::server {

namespace {

using live::AgentCommand;
using live::AgentEvent;
using live::BackendEvent;
using nlohmann::json;

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxReasonBytes = 4096;

// A reader of one object: every key must be known, every value of its type.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) st_ = InvalidArgument("{}: expected an object, got {}", path_, JsonTypeName(j_));
  }
  Obj& Int(const char* key, int64_t* out, int64_t min, int64_t max, bool required = false) {
    const json* v = Get(key, required);
    if (!v) return *this;
    if (!v->is_number_integer()) return Bad(key, "an integer", *v);
    const auto x = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX} ? INT64_MAX : v->get<int64_t>();
    if (x < min || x > max) st_ = InvalidArgument("{}.{}: must be {}..{}", path_, key, min, max);
    else *out = x;
    return *this;
  }
  Obj& Str(const char* key, std::string* out, size_t max_bytes = kMaxNameBytes, bool required = false) {
    const json* v = Get(key, required);
    if (!v) return *this;
    if (!v->is_string()) return Bad(key, "a string", *v);
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max_bytes) st_ = InvalidArgument("{}.{}: longer than {} bytes", path_, key, max_bytes);
    else *out = s;
    return *this;
  }
  Obj& Bool(const char* key, bool* out) {
    const json* v = Get(key, false);
    if (!v) return *this;
    if (!v->is_boolean()) return Bad(key, "true or false", *v);
    *out = v->get<bool>();
    return *this;
  }
  // A list of at most `max` items, each read by fn(item, path).
  template <class F>
  Obj& List(const char* key, size_t max, F fn) {
    const json* v = Get(key, false);
    if (!v) return *this;
    if (!v->is_array()) return Bad(key, "a list", *v);
    if (v->size() > max) return Fail(fmt::format("{}.{}: more than {} items", path_, key, max));
    for (size_t i = 0; i < v->size() && st_.ok(); ++i) st_ = fn((*v)[i], fmt::format("{}.{}[{}]", path_, key, i));
    return *this;
  }
  const json* Raw(const char* key) { return Get(key, false); }
  Obj& Fail(std::string message) {
    if (st_.ok()) st_ = InvalidArgument("{}", message);
    return *this;
  }
  // Every key read? (unknown keys are errors)
  Status Done(std::initializer_list<const char*> keys) {
    if (!st_.ok()) return st_;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool known = false;
      for (const char* k : keys) known = known || it.key() == k;
      if (!known) return InvalidArgument("{}: unknown key '{}'", path_, ShownName(it.key()));
    }
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  const json* Get(const char* key, bool required) {
    if (!st_.ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) st_ = InvalidArgument("{}.{}: required", path_, key);
      return nullptr;
    }
    return &*it;
  }
  Obj& Bad(const char* key, const char* expected, const json& v) {
    st_ = InvalidArgument("{}.{}: expected {}, got {}", path_, key, expected, JsonTypeName(v));
    return *this;
  }
  const json& j_;
  std::string path_;
  Status st_;
};

constexpr std::string_view kKinds[] = {"started", "ended", "lost", "held", "node"};

json EventToJson(const AgentEvent& e) {
  const BackendEvent& ev = e.ev;
  if (e.kind == AgentEvent::Kind::kLog)
    return {{"seq", e.seq},        {"epoch", e.epoch},   {"kind", "log"},
            {"job_id", ev.job_id}, {"stream", e.stream}, {"data", e.data}};
  if (e.kind == AgentEvent::Kind::kCheckpoint)
    return {
        {"seq", e.seq}, {"epoch", e.epoch}, {"kind", "checkpoint"}, {"job_id", ev.job_id}, {"at_ms", ev.at_ms.ms()}};
  json j = {{"seq", e.seq}, {"epoch", e.epoch}, {"kind", kKinds[static_cast<int>(ev.kind)]}};
  if (ev.kind == BackendEvent::Kind::kNode) {
    j["node"] = ev.node;
    j["up"] = ev.up;
  } else {
    j["job_id"] = ev.job_id;
    if (!ev.node.empty()) j["node"] = ev.node;
  }
  if (ev.kind == BackendEvent::Kind::kEnded || ev.kind == BackendEvent::Kind::kLost) {
    j["state"] = std::string(live::StateName(ev.state));
    j["exit_code"] = ev.exit_code;
    j["signal"] = ev.signal;
    j["center_stopped"] = ev.center_stopped;
  }
  if (!ev.reason.empty()) j["reason"] = ev.reason;
  if (ev.at_ms.ms() > 0) j["at_ms"] = ev.at_ms.ms();
  return j;
}

Status EventFromJson(const json& j, const std::string& path, AgentEvent* out) {
  Obj o(j, path);
  std::string kind, state = "succeeded";
  int64_t exit_code = -1, signal = 0, at = 0;
  BackendEvent& ev = out->ev;
  o.Int("seq", &out->seq, 1, INT64_MAX, true)
      .Int("epoch", &out->epoch, 0, INT64_MAX)
      .Str("kind", &kind, 16, true)
      .Int("job_id", &ev.job_id, 0, INT64_MAX)
      .Str("node", &ev.node, 4096)
      .Bool("up", &ev.up)
      .Str("state", &state, 16)
      .Int("exit_code", &exit_code, -1, 255)
      .Int("signal", &signal, 0, 128)
      .Bool("center_stopped", &ev.center_stopped)
      .Str("reason", &ev.reason, kMaxReasonBytes)
      .Int("at_ms", &at, 0, INT64_MAX)
      .Str("stream", &out->stream, 16)
      .Str("data", &out->data, kMaxAgentLogChunk);
  SUANLI_RETURN_IF_ERROR(o.Done({"seq", "epoch", "kind", "job_id", "node", "up", "state", "exit_code", "signal",
                                 "center_stopped", "reason", "at_ms", "stream", "data"}));
  if (kind == "log" || kind == "checkpoint") {
    out->kind = kind == "log" ? AgentEvent::Kind::kLog : AgentEvent::Kind::kCheckpoint;
    if (ev.job_id < 1) return InvalidArgument("{}: a {} event needs job_id", path, kind);
    if (out->kind == AgentEvent::Kind::kLog && out->stream != "stdout" && out->stream != "stderr")
      return InvalidArgument("{}.stream: '{}' is not stdout or stderr", path, ShownName(out->stream));
    if (out->kind == AgentEvent::Kind::kCheckpoint && at < 1)
      return InvalidArgument("{}: a checkpoint event needs at_ms", path);
    ev.at_ms = WallMs{at};
    return Status::Ok();
  }
  if (!out->stream.empty() || !out->data.empty())
    return InvalidArgument("{}: stream and data are for log events", path);
  size_t k = 0;
  while (k < std::size(kKinds) && kKinds[k] != kind) ++k;
  if (k == std::size(kKinds))
    return InvalidArgument("{}.kind: '{}' is not one of started, ended, lost, held, node, log, checkpoint", path,
                           ShownName(kind));
  ev.kind = static_cast<BackendEvent::Kind>(k);
  auto st = live::ParseState(state);
  if (!st) return InvalidArgument("{}.state: '{}' is not a job state", path, ShownName(state));
  ev.state = *st;
  if (ev.kind == BackendEvent::Kind::kNode ? ev.node.empty() : ev.job_id < 1)
    return InvalidArgument("{}: a {} event needs {}", path, kind,
                           ev.kind == BackendEvent::Kind::kNode ? "node" : "job_id");
  ev.exit_code = static_cast<int>(exit_code);
  ev.signal = static_cast<int>(signal);
  ev.at_ms = WallMs{at};
  return Status::Ok();
}

json CapacityToJson(const live::BackendCapacity& cap) {
  json nodes = json::array();
  for (const auto& n : cap.nodes)
    nodes.push_back({{"name", n.name},
                     {"model", n.model},
                     {"devices", n.devices},
                     {"cpu_milli", n.cpu_milli},
                     {"mem_mib", n.mem_mib},
                     {"up", n.up}});
  return {{"nodes", nodes}};
}

Status CapacityFromJson(const json& j, const std::string& path, live::BackendCapacity* out) {
  Obj o(j, path);
  o.List("nodes", kMaxAgentNodes, [&](const json& item, const std::string& p) {
    live::BackendNode n;
    int64_t devices = 0;
    Obj no(item, p);
    no.Str("name", &n.name, kMaxNameBytes, true)
        .Str("model", &n.model)
        .Int("devices", &devices, 0, 64)
        .Int("cpu_milli", &n.cpu_milli, 0, int64_t{1} << 40)
        .Int("mem_mib", &n.mem_mib, 0, int64_t{1} << 40)
        .Bool("up", &n.up);
    SUANLI_RETURN_IF_ERROR(no.Done({"name", "model", "devices", "cpu_milli", "mem_mib", "up"}));
    n.devices = static_cast<int>(devices);
    out->nodes.push_back(std::move(n));
    return Status::Ok();
  });
  return o.Done({"nodes"});
}

json CommandToJson(const AgentCommand& c) {
  static constexpr const char* kOps[] = {"launch", "cancel", "stop"};
  json j = {{"seq", c.seq}, {"op", kOps[static_cast<int>(c.op)]}, {"job_id", c.job_id}, {"epoch", c.epoch}};
  if (c.op == AgentCommand::Op::kStop) j["notice"] = {{"signal", c.notice.signal}, {"grace_s", c.notice.grace_s}};
  if (c.op == AgentCommand::Op::kLaunch) {
    const live::LaunchRequest& r = c.launch;
    j["launch"] = {{"spec", JobSpecToJson(r.spec)}, {"node", r.node},     {"model", r.model},   {"devices", r.devices},
                   {"start_ms", r.start_ms.ms()},   {"run_us", r.run_us}, {"done_s", r.done_s}, {"attempt", r.attempt}};
  }
  return j;
}

Status CommandFromJson(const json& j, const std::string& path, AgentCommand* out) {
  Obj o(j, path);
  std::string op;
  o.Int("seq", &out->seq, 1, INT64_MAX, true)
      .Str("op", &op, 16, true)
      .Int("job_id", &out->job_id, 1, INT64_MAX, true)
      .Int("epoch", &out->epoch, 0, INT64_MAX);
  if (const json* n = o.Raw("notice")) {
    Obj no(*n, path + ".notice");
    no.Str("signal", &out->notice.signal, 16).Int("grace_s", &out->notice.grace_s, 0, 86'400);
    SUANLI_RETURN_IF_ERROR(no.Done({"signal", "grace_s"}));
    if (live::StopSignalNumber(out->notice.signal) == 0)
      return InvalidArgument("{}.notice.signal: '{}' is not a stop signal", path, ShownName(out->notice.signal));
  }
  if (const json* l = o.Raw("launch")) {
    live::LaunchRequest& r = out->launch;
    Obj lo(*l, path + ".launch");
    int64_t start = 0, attempt = 1;
    lo.Str("node", &r.node, 4096)
        .Str("model", &r.model)
        .List("devices", 4096,
              [&](const json& d, const std::string& p) {
                if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > 63)
                  return InvalidArgument("{}: expected a device index 0..63", p);
                r.devices.push_back(d.get<int>());
                return Status::Ok();
              })
        .Int("start_ms", &start, 0, INT64_MAX)
        .Int("run_us", &r.run_us, 0, INT64_MAX)
        .Int("attempt", &attempt, 1, 1'000'000);
    if (const json* d = lo.Raw("done_s")) {
      if (!d->is_number() || !(d->get<double>() >= 0) || d->get<double>() > 1e12)
        return InvalidArgument("{}.launch.done_s: expected a number >= 0", path);
      r.done_s = d->get<double>();
    }
    const json* spec = lo.Raw("spec");
    SUANLI_RETURN_IF_ERROR(lo.Done({"spec", "node", "model", "devices", "start_ms", "run_us", "done_s", "attempt"}));
    if (!spec) return InvalidArgument("{}.launch.spec: required", path);
    ApiError err;
    if (!JobSpecFromJson(*spec, &r.spec, &err)) return InvalidArgument("{}.launch.spec.{}", path, err.message);
    r.start_ms = WallMs{start};
    r.attempt = static_cast<int>(attempt);
    r.job_id = out->job_id;
  }
  SUANLI_RETURN_IF_ERROR(o.Done({"seq", "op", "job_id", "epoch", "notice", "launch"}));
  if (op == "launch") out->op = AgentCommand::Op::kLaunch;
  else if (op == "cancel") out->op = AgentCommand::Op::kCancel;
  else if (op == "stop") out->op = AgentCommand::Op::kStop;
  else return InvalidArgument("{}.op: '{}' is not launch, cancel or stop", path, ShownName(op));
  if (out->op == AgentCommand::Op::kLaunch && !o.Raw("launch"))
    return InvalidArgument("{}.launch: required for a launch", path);
  return Status::Ok();
}

Result<json> ParseBody(std::string_view body) {
  json j;
  ApiError err;
  JsonLimits limits;
  limits.max_values = 4'000'000;
  limits.max_keys = 64;
  if (!ParseJsonObject(body, &j, &err, limits)) return InvalidArgument("{}", err.message);
  return j;
}

}  // namespace

std::string AgentEventToJson(const live::AgentEvent& e) {
  json j = EventToJson(e);
  j.erase("seq");
  return Dump(j);
}

Result<live::AgentEvent> ParseAgentEvent(std::string_view text, int64_t seq) {
  SUANLI_ASSIGN_OR_RETURN(json j, ParseBody(text));
  j["seq"] = seq;
  AgentEvent e;
  SUANLI_RETURN_IF_ERROR(EventFromJson(j, "event", &e));
  return e;
}

std::string AgentCommandToJson(const live::AgentCommand& c) { return Dump(CommandToJson(c)); }

Result<live::AgentCommand> ParseAgentCommand(std::string_view text) {
  SUANLI_ASSIGN_OR_RETURN(json j, ParseBody(text));
  AgentCommand c;
  SUANLI_RETURN_IF_ERROR(CommandFromJson(j, "command", &c));
  return c;
}

std::string AgentSyncRequestToJson(const live::AgentSyncRequest& r) {
  json events = json::array(), runs = json::array();
  for (const auto& e : r.events) events.push_back(EventToJson(e));
  for (const auto& x : r.runs) runs.push_back({{"job_id", x.job_id}, {"epoch", x.epoch}});
  json j = {{"agent_id", r.agent_id}, {"hub_id", r.hub_id}, {"acked", r.acked}, {"events", events}, {"runs", runs}};
  if (r.capacity) j["capacity"] = CapacityToJson(*r.capacity);
  if (!r.backend_error.empty()) j["backend_error"] = r.backend_error;
  return Dump(j);
}

Result<live::AgentSyncRequest> ParseAgentSyncRequest(std::string_view body) {
  SUANLI_ASSIGN_OR_RETURN(json j, ParseBody(body));
  live::AgentSyncRequest r;
  Obj o(j, "sync");
  o.Str("agent_id", &r.agent_id, 64, true)
      .Str("hub_id", &r.hub_id, 64)
      .Int("acked", &r.acked, 0, INT64_MAX)
      .Str("backend_error", &r.backend_error, kMaxReasonBytes)
      .List("events", kMaxAgentEventsPerSync,
            [&](const json& item, const std::string& p) {
              AgentEvent e;
              SUANLI_RETURN_IF_ERROR(EventFromJson(item, p, &e));
              if (!r.events.empty() && e.seq <= r.events.back().seq)
                return InvalidArgument("{}.seq: events must be in increasing order", p);
              r.events.push_back(std::move(e));
              return Status::Ok();
            })
      .List("runs", kMaxAgentRuns, [&](const json& item, const std::string& p) {
        live::AgentRun x;
        Obj ro(item, p);
        ro.Int("job_id", &x.job_id, 1, INT64_MAX, true).Int("epoch", &x.epoch, 0, INT64_MAX);
        SUANLI_RETURN_IF_ERROR(ro.Done({"job_id", "epoch"}));
        r.runs.push_back(x);
        return Status::Ok();
      });
  if (const json* c = o.Raw("capacity")) {
    live::BackendCapacity cap;
    SUANLI_RETURN_IF_ERROR(CapacityFromJson(*c, "sync.capacity", &cap));
    r.capacity = std::move(cap);
  }
  SUANLI_RETURN_IF_ERROR(o.Done({"agent_id", "hub_id", "acked", "events", "runs", "capacity", "backend_error"}));
  if (r.agent_id.empty()) return InvalidArgument("sync.agent_id: must not be empty");
  return r;
}

std::string AgentSyncResponseToJson(const live::AgentSyncResponse& r) {
  json commands = json::array();
  for (const auto& c : r.commands) commands.push_back(CommandToJson(c));
  return Dump({{"hub_id", r.hub_id},
               {"epoch", r.epoch},
               {"acked", r.acked},
               {"commands", commands},
               {"poll_ms", r.poll_ms},
               {"fence_ms", r.fence_ms}});
}

Result<live::AgentSyncResponse> ParseAgentSyncResponse(std::string_view body) {
  SUANLI_ASSIGN_OR_RETURN(json j, ParseBody(body));
  live::AgentSyncResponse r;
  Obj o(j, "answer");
  o.Str("hub_id", &r.hub_id, 64, true)
      .Int("epoch", &r.epoch, 0, INT64_MAX)
      .Int("acked", &r.acked, 0, INT64_MAX)
      .Int("poll_ms", &r.poll_ms, 100, 60'000)
      .Int("fence_ms", &r.fence_ms, 0, 86'400'000)
      .List("commands", 100'000, [&](const json& item, const std::string& p) {
        AgentCommand c;
        SUANLI_RETURN_IF_ERROR(CommandFromJson(item, p, &c));
        r.commands.push_back(std::move(c));
        return Status::Ok();
      });
  SUANLI_RETURN_IF_ERROR(o.Done({"hub_id", "epoch", "acked", "commands", "poll_ms", "fence_ms"}));
  return r;
}

}  // namespace suanli::server
