// A job spec's check: the one the server runs on every submission and the
// CLI runs before sending one (live_job.h).
#include <algorithm>

#include "base/strings.h"
#include "core/model/catalog.h"
#include "live/live_job.h"

namespace suanli::live {

namespace {

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// C0 controls and DEL (a name or a path is one line of text).
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool ValidEnvKey(std::string_view k) {
  if (k.empty() || k.size() > kMaxEnvKeyBytes) return false;
  if (k[0] >= '0' && k[0] <= '9') return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

constexpr std::string_view kClassHelp = "training, inference, cnn, transformer, rl, science, other";

}  // namespace

Status ValidateSpec(const JobSpec& spec, const Catalog& catalog, const std::vector<std::string>* centers) {
  if (spec.name.size() > kMaxNameBytes) return InvalidField("name", "at most {} bytes", kMaxNameBytes);
  if (HasNul(spec.name)) return InvalidField("name", "must not contain a NUL byte");
  if (HasControl(spec.name))
    return InvalidField("name", "must not contain control characters (newline, tab, escape...), got '{}'",
                        EscapeControls(spec.name.substr(0, 200)));
  if (spec.command.empty()) return InvalidField("command", "must not be empty");
  if (spec.command.size() > kMaxArgs)
    return InvalidField("command", "at most {} arguments, got {}", kMaxArgs, spec.command.size());
  if (spec.command[0].empty()) return InvalidField("command", "the program (first argument) must not be empty");
  size_t total = 0;
  for (size_t i = 0; i < spec.command.size(); ++i) {
    const std::string& a = spec.command[i];
    if (a.size() > kMaxArgBytes) return InvalidField("command", "argument {} is longer than {} bytes", i, kMaxArgBytes);
    if (HasNul(a)) return InvalidField("command", "argument {} contains a NUL byte", i);
    total += a.size();
  }
  if (total > kMaxCommandBytes) return InvalidField("command", "longer than {} bytes in all", kMaxCommandBytes);
  if (spec.env.size() > kMaxEnvVars)
    return InvalidField("env", "at most {} variables, got {}", kMaxEnvVars, spec.env.size());
  size_t env_bytes = 0;
  for (const auto& [k, v] : spec.env) {
    if (!ValidEnvKey(k))
      return InvalidField("env",
                          "'{}' is not a variable name (letters, digits and '_', not starting with a digit, "
                          "at most {} bytes)",
                          k.substr(0, 64), kMaxEnvKeyBytes);
    if (HasNul(v)) return InvalidField("env", "the value of {} contains a NUL byte", k);
    env_bytes += k.size() + v.size();
  }
  if (env_bytes > kMaxEnvBytes) return InvalidField("env", "larger than {} bytes in all", kMaxEnvBytes);
  if (spec.workdir.size() > kMaxPathBytes) return InvalidField("workdir", "at most {} bytes", kMaxPathBytes);
  if (HasNul(spec.workdir)) return InvalidField("workdir", "must not contain a NUL byte");
  if (HasControl(spec.workdir))
    return InvalidField("workdir", "must not contain control characters (newline, tab, escape...), got '{}'",
                        EscapeControls(spec.workdir.substr(0, 200)));
  if (!spec.workdir.empty() && spec.workdir[0] != '/')
    return InvalidField("workdir", "must be an absolute path, got '{}'", EscapeControls(spec.workdir.substr(0, 200)));
  if (spec.gpus > kMaxGpus) return InvalidField("gpus", "must be an integer 0..{}, got {}", kMaxGpus, spec.gpus);
  if (spec.cpu_milli < 0 || spec.cpu_milli > kMaxCpuMilli)
    return InvalidField("cpu_milli", "must be 0..{}, got {}", kMaxCpuMilli, spec.cpu_milli);
  if (spec.mem_mib < 0 || spec.mem_mib > kMaxMemMib)
    return InvalidField("mem_mib", "must be 0..{}, got {}", kMaxMemMib, spec.mem_mib);
  if (spec.models.size() > kMaxListItems) return InvalidField("models", "at most {} names", kMaxListItems);
  for (const auto& m : spec.models)
    if (!catalog.Find(m))
      return InvalidField("models", "unknown model '{}' (see `suanli network models`)", m.substr(0, 100));
  if (spec.stacks.size() > kMaxListItems) return InvalidField("stacks", "at most {} names", kMaxListItems);
  for (const auto& s : spec.stacks)
    if (!catalog.FindStack(s))
      return InvalidField("stacks", "unknown software stack '{}' (known: {})", s.substr(0, 100),
                          Join(catalog.stacks(), ", "));
  if (!spec.models.empty() && spec.gpus == 0)
    return InvalidField("models", "a CPU-only job (gpus 0) cannot ask for accelerator models");
  const std::string cls = ToLower(spec.workload_class);
  if (cls != "training" && cls != "inference" && !ParseClass(cls))
    return InvalidField("class", "unknown class '{}' (known: {})", spec.workload_class.substr(0, 100), kClassHelp);
  if (spec.time_limit_s < 1 || spec.time_limit_s > kMaxTimeLimitS)
    return InvalidField("time_limit_s", "must be 1..{} seconds (31 days), got {}", kMaxTimeLimitS, spec.time_limit_s);
  if (spec.duration_s < 0 || spec.duration_s > kMaxTimeLimitS)
    return InvalidField("duration_s", "must be 0..{} seconds, got {}", kMaxTimeLimitS, spec.duration_s);
  if (centers && !spec.center.empty() && std::find(centers->begin(), centers->end(), spec.center) == centers->end())
    return InvalidField("center", "unknown center '{}' (centers: {})", spec.center.substr(0, 100),
                        Join(*centers, ", "));
  return Status::Ok();
}

}  // namespace suanli::live
