// Reading the Slurm commands' answers: sinfo's nodes, squeue's rows,
// scontrol's final record of a job, Slurm's times and states, and the event
// of a job that ended.
#include <ctime>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "base/strings.h"
#include "live/backend_slurm.h"
#include "live/backend_slurm_internal.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace {

// The most CPUs (and GPUs) and MiB of memory a node of sinfo's may report.
constexpr int64_t kMaxSinfoCpus = 1 << 20;
constexpr int64_t kMaxSinfoMemMib = int64_t{1} << 40;

}  // namespace

namespace slurm_detail {

// "key=value" of `scontrol show job -o`: the value runs to the next space.
std::optional<std::string> Field(std::string_view text, std::string_view key) {
  std::string pat = std::string(key) + "=";
  size_t at = 0;
  while ((at = text.find(pat, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n') {
      size_t v = at + pat.size();
      size_t end = text.find_first_of(" \n", v);
      return std::string(text.substr(v, end == std::string_view::npos ? std::string_view::npos : end - v));
    }
    at += pat.size();
  }
  return std::nullopt;
}

}  // namespace slurm_detail

using slurm_detail::Field;

// ---- parsing ------------------------------------------------------------------------------

bool SlurmNodeUp(std::string_view state) {
  std::string s = ToLower(Trim(state));
  if (s.find('*') != std::string::npos) return false;  // not responding
  while (!s.empty() && std::string_view("~#!%$@^-+").find(s.back()) != std::string_view::npos) s.pop_back();
  return s == "idle" || s == "mixed" || s == "allocated" || s == "alloc" || s == "completing" || s == "planned" ||
         s == "reserved" || s == "resv";
}

Result<std::vector<SlurmNode>> ParseSinfoNodes(std::string_view text, const Catalog& catalog) {
  std::vector<SlurmNode> out;
  std::set<std::string> seen;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '|');
    if (f.size() != 5) {
      return ParseError("line {}: expected NODE|CPUS|MEMORY|GRES|STATE, got '{}'", line_no, line);
    }
    SlurmNode n;
    n.node.name = std::string(Trim(f[0]));
    if (n.node.name.empty()) return ParseError("line {}: empty node name", line_no);
    if (!seen.insert(n.node.name).second) continue;  // listed again for another partition
    auto cpus = ParseInt(f[1]);
    auto mem = ParseInt(f[2]);
    // Bounded, so that the figures derived from them cannot overflow.
    if (!cpus || *cpus < 0 || *cpus > kMaxSinfoCpus)
      return ParseError("line {}: node {}: CPUs '{}' is not a number of CPUs (0..{})", line_no, n.node.name, Trim(f[1]),
                        kMaxSinfoCpus);
    if (!mem || *mem < 0 || *mem > kMaxSinfoMemMib)
      return ParseError("line {}: node {}: memory '{}' is not a number of MiB (0..{})", line_no, n.node.name,
                        Trim(f[2]), kMaxSinfoMemMib);
    n.node.cpu_milli = *cpus * 1000;
    n.node.mem_mib = *mem;
    n.state = std::string(Trim(f[4]));
    n.node.up = SlurmNodeUp(n.state);
    // GRES: "gpu:a100:4", "gpu:a100:4(S:0-1)", "gpu:4", "gpu:a100:2,gpu:v100:2", "(null)",
    // "gpu:a100:4,shard:16".
    std::string_view gres = Trim(f[3]);
    for (std::string_view g : Split(gres, ',')) {
      g = Trim(g);
      size_t paren = g.find('(');
      if (paren != std::string_view::npos) g = g.substr(0, paren);
      std::vector<std::string_view> parts = Split(g, ':');
      if (!parts.empty() && Trim(parts[0]) == "shard" && parts.size() >= 2) {  // "shard:16", "shard:a100:16"
        auto shards = ParseInt(parts[parts.size() - 1]);
        if (!shards || *shards < 0 || *shards > kMaxSinfoCpus)
          return ParseError("line {}: node {}: GRES '{}' has no shard count", line_no, n.node.name, g);
        n.shards += *shards;
        continue;
      }
      if (parts.empty() || Trim(parts[0]) != "gpu") continue;
      std::string type;
      std::optional<int64_t> count;
      if (parts.size() == 2) {
        count = ParseInt(parts[1]);
      } else if (parts.size() >= 3) {
        type = std::string(Trim(parts[1]));
        count = ParseInt(parts[parts.size() - 1]);
      }
      if (!count || *count < 0 || *count > kMaxSinfoCpus) {
        return ParseError("line {}: node {}: GRES '{}' has no GPU count", line_no, n.node.name, g);
      }
      if (*count == 0) continue;
      if (type.empty()) {
        n.note = fmt::format(
            "node {}: GRES '{}' names no GPU type; its GPUs are not offered (give them a type "
            "in gres.conf, e.g. gpu:a100:4)",
            n.node.name, g);
        continue;
      }
      auto id = catalog.Find(type);
      if (!id) {
        n.note = fmt::format(
            "node {}: GPU type '{}' is not an accelerator catalog model or alias; its GPUs are "
            "not offered",
            n.node.name, type);
        continue;
      }
      if (n.node.devices > 0) {
        n.note =
            fmt::format("node {}: GPUs of several types; only {} ({}) offered", n.node.name, n.gres_type, n.node.model);
        continue;
      }
      n.gres_type = type;
      n.node.model = catalog.model(*id).name;
      n.node.devices = static_cast<int>(*count);
    }
    out.push_back(std::move(n));
  }
  return out;
}

namespace {

// The names of one entry of a host list (no comma outside brackets), each
// prefixed by `head`, appended to `out`.
Status ExpandEntry(std::string_view entry, const std::string& head, size_t limit, std::vector<std::string>* out,
                   int groups = 0) {
  const size_t open = entry.find('[');
  if (open == std::string_view::npos) {
    if (entry.find(']') != std::string_view::npos) return InvalidArgument("']' without '['");
    if (out->size() >= limit) return InvalidArgument("more than {} names", limit);
    out->push_back(head + std::string(entry));
    return Status::Ok();
  }
  const size_t close = entry.find(']', open);
  if (close == std::string_view::npos) return InvalidArgument("'[' without ']'");
  const std::string_view prefix = entry.substr(0, open), group = entry.substr(open + 1, close - open - 1);
  const std::string_view rest = entry.substr(close + 1);
  if (prefix.find(']') != std::string_view::npos || group.find('[') != std::string_view::npos)
    return InvalidArgument("brackets do not match");
  if (group.empty()) return InvalidArgument("'[]' holds no number");
  if (++groups > 8) return InvalidArgument("more than 8 bracket groups in a name");
  for (std::string_view item : Split(group, ',')) {
    const size_t dash = item.find('-');
    const std::string_view lo = item.substr(0, dash);
    const std::string_view hi = dash == std::string_view::npos ? lo : item.substr(dash + 1);
    auto number = [](std::string_view d) -> std::optional<int64_t> {
      if (d.empty() || d.size() > 9) return std::nullopt;
      int64_t v = 0;
      for (char ch : d) {
        if (ch < '0' || ch > '9') return std::nullopt;
        v = v * 10 + (ch - '0');
      }
      return v;
    };
    auto a = number(lo), b = number(hi);
    if (!a || !b || *b < *a) return InvalidArgument("'{}' is not a number or a range of numbers", item);
    if (static_cast<uint64_t>(*b - *a) >= limit) return InvalidArgument("more than {} names", limit);
    for (int64_t v = *a; v <= *b; ++v) {
      SUANLI_RETURN_IF_ERROR(ExpandEntry(rest, fmt::format("{}{}{:0{}}", head, prefix, v, static_cast<int>(lo.size())),
                                         limit, out, groups));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ExpandHostlist(std::string_view list, size_t limit) {
  std::vector<std::string> names;
  size_t from = 0, depth = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size() && list[i] == '[') ++depth;
    else if (i < list.size() && list[i] == ']' && depth > 0) --depth;
    if (i < list.size() && (list[i] != ',' || depth > 0)) continue;
    const std::string_view entry = list.substr(from, i - from);
    from = i + 1;
    if (entry.empty()) {
      if (list.empty()) break;
      return InvalidArgument("host list '{}': an empty name", list.substr(0, 200));
    }
    if (Status st = ExpandEntry(entry, "", limit, &names); !st.ok())
      return InvalidArgument("host list '{}': {}", list.substr(0, 200), st.message());
  }
  return names;
}

WallMs ParseSlurmTime(std::string_view s) {
  s = Trim(s);
  if (s.size() < 19 || s[4] != '-' || s[10] != 'T') return WallMs{};
  std::tm tm{};
  std::string str(s.substr(0, 19));
  if (::strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return WallMs{};
  tm.tm_isdst = -1;
  time_t t = std::mktime(&tm);
  if (t == static_cast<time_t>(-1)) return WallMs{};
  return WallMs(static_cast<int64_t>(t) * 1000);
}

Result<std::vector<SqueueRow>> ParseSqueue(std::string_view text) {
  std::vector<SqueueRow> out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '|');
    if (f.size() < 5) return ParseError("line {}: expected ID|STATE|NODES|START|REASON, got '{}'", line_no, line);
    SqueueRow r;
    r.id = std::string(Trim(f[0]));
    r.state = std::string(Trim(f[1]));
    r.nodes = std::string(Trim(f[2]));
    r.start_ms = ParseSlurmTime(f[3]);
    r.reason = std::string(Trim(f[4]));
    if (r.id.empty() || r.state.empty()) return ParseError("line {}: empty job id or state: '{}'", line_no, line);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<SlurmFinal> ParseScontrolJob(std::string_view text) {
  auto state = Field(text, "JobState");
  if (!state || state->empty()) return std::nullopt;
  SlurmFinal f;
  f.state = *state;
  if (auto ec = Field(text, "ExitCode")) {
    size_t colon = ec->find(':');
    f.exit_code = static_cast<int>(ParseInt(std::string_view(*ec).substr(0, colon)).value_or(-1));
    if (colon != std::string::npos) {
      f.signal = static_cast<int>(ParseInt(std::string_view(*ec).substr(colon + 1)).value_or(0));
    }
  }
  if (auto end = Field(text, "EndTime")) f.end_ms = ParseSlurmTime(*end);
  if (auto start = Field(text, "StartTime")) f.start_ms = ParseSlurmTime(*start);
  if (auto reason = Field(text, "Reason")) f.reason = *reason;
  if (auto nodes = Field(text, "NodeList"); nodes && *nodes != "(null)") f.nodes = *nodes;
  return f;
}

bool SlurmStateFinal(std::string_view s) {
  for (std::string_view f : {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                             "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"}) {
    if (s == f) return true;
  }
  return false;
}

BackendEvent SlurmEndEvent(int64_t job_id, const SlurmFinal& f, bool cancelled, int64_t time_limit_s) {
  BackendEvent ev;
  ev.kind = BackendEvent::Kind::kEnded;
  ev.job_id = job_id;
  ev.exit_code = f.exit_code;
  ev.signal = f.signal;
  ev.at_ms = f.end_ms;
  std::string how = f.signal != 0 ? "killed by " + SignalName(f.signal) : fmt::format("exit {}", f.exit_code);
  if (f.state == "COMPLETED") {
    ev.state = JobState::kSucceeded;
    ev.reason = "exit 0";
  } else if (f.state == "CANCELLED") {
    ev.state = cancelled ? JobState::kCancelled : JobState::kFailed;
    ev.reason = cancelled ? "cancelled" : "cancelled by Slurm";
    ev.center_stopped = !cancelled;
  } else if (f.state == "TIMEOUT") {
    ev.state = JobState::kFailed;
    ev.reason = time_limit_s > 0 ? fmt::format("time limit {} s exceeded (Slurm TIMEOUT)", time_limit_s)
                                 : "time limit exceeded (Slurm TIMEOUT)";
  } else if (f.state == "NODE_FAIL") {
    ev.state = JobState::kFailed;
    ev.reason = "node failure";
    ev.center_stopped = true;
  } else if (f.state == "OUT_OF_MEMORY") {
    ev.state = JobState::kFailed;
    ev.reason = "out of memory";
  } else if (f.state == "BOOT_FAIL") {
    ev.state = JobState::kFailed;
    ev.reason = "node boot failure";
    ev.center_stopped = true;
  } else if (f.state == "PREEMPTED") {
    ev.state = JobState::kFailed;
    ev.reason = "preempted by Slurm";
    ev.center_stopped = true;
  } else if (f.state == "DEADLINE") {
    ev.state = JobState::kFailed;
    ev.reason = "deadline passed (Slurm DEADLINE)";
  } else {
    ev.state = JobState::kFailed;
    ev.reason = f.exit_code >= 0 || f.signal != 0 ? how : "Slurm state " + f.state;
  }
  if (cancelled && ev.state != JobState::kSucceeded) {
    // Suanli asked for it: whatever Slurm made of the signal, it is a cancel.
    ev.state = JobState::kCancelled;
    ev.center_stopped = false;
    ev.reason = f.state == "CANCELLED" ? "cancelled" : fmt::format("cancelled ({}, {})", f.state, how);
  }
  if (ev.state == JobState::kFailed && f.state == "FAILED" && f.reason == "JobLaunchFailure" && f.signal == 0) {
    ev.reason = "Slurm could not launch it";
  }
  return ev;
}

}  // namespace suanli::live
