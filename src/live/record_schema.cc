// The job spec's table of fields and the generic checks of a record's fields
// (record_schema.h).
#include "live/record_schema.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.h"
#include "base/time.h"

namespace suanli::live::schema {

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

// Catalog names (models, stacks, classes) and center names.
constexpr size_t kMaxCatalogNameBytes = 256;
constexpr size_t kMaxClassBytes = 64;
constexpr size_t kMaxEnvValueBytes = 64 * 1024;

using F = Field<JobSpec>;
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// In the order of the jobs table's columns (store_schema.cc).
const F kJobSpec[] = {
    {.json = "name",
     .member = &JobSpec::name,
     .limits = {.max = kMaxNameBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "a label for the job",
     .column = "name",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    {.json = "command",
     .member = &JobSpec::command,
     .limits = {.max = kMaxArgs, .item_bytes = kMaxArgBytes, .total_bytes = kMaxCommandBytes},
     .flags = kRequired | kNonEmpty,
     .description = "the program and its arguments (argv)",
     .column = "command",
     .sql = "TEXT    NOT NULL DEFAULT '[]'"},
    {.json = "env",
     .member = &JobSpec::env,
     .limits = {.max = kMaxEnvVars, .item_bytes = kMaxEnvValueBytes, .total_bytes = kMaxEnvBytes},
     .flags = kOmitDefault,
     .description = "extra environment variables",
     .column = "env",
     .sql = "TEXT    NOT NULL DEFAULT '{}'",
     .key_ok = ValidEnvKey,
     .key_rule = "letters, digits and '_', not starting with a digit"},
    {.json = "workdir",
     .member = &JobSpec::workdir,
     .limits = {.max = kMaxPathBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "absolute working directory (default: the job's own directory)",
     .column = "workdir",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    {.json = "gpus",
     .member = &JobSpec::gpus,
     .limits = {.min = 0, .max = kMaxGpus},
     .description = "accelerators: whole devices (0: a CPU-only job), or a share of one device below 1 (0.25)",
     .column = "gpus",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "cpu_milli",
     .member = &JobSpec::cpu_milli,
     .limits = {.min = 0, .max = kMaxCpuMilli},
     .description = "CPU of the whole job, in thousandths of a core",
     .column = "cpu_milli",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "mem_mib",
     .member = &JobSpec::mem_mib,
     .limits = {.min = 0, .max = kMaxMemMib},
     .description = "memory of the whole job, in MiB",
     .column = "mem_mib",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "models",
     .member = &JobSpec::models,
     .limits = {.max = kMaxListItems, .item_bytes = kMaxCatalogNameBytes},
     .flags = kOmitDefault,
     .description = "accepted accelerator models (catalog names; empty: any)",
     .column = "models",
     .sql = "TEXT    NOT NULL DEFAULT '[]'"},
    {.json = "stacks",
     .member = &JobSpec::stacks,
     .limits = {.max = kMaxListItems, .item_bytes = kMaxCatalogNameBytes},
     .flags = kOmitDefault,
     .description = "accepted software stacks (catalog names; empty: any)",
     .column = "stacks",
     .sql = "TEXT    NOT NULL DEFAULT '[]'"},
    {.json = "class",
     .member = &JobSpec::workload_class,
     .limits = {.max = kMaxClassBytes},
     .description = "workload class: training, inference, cnn, transformer, rl, science, other",
     .column = "workload_class",
     .sql = "TEXT    NOT NULL DEFAULT 'other'"},
    {.json = "time_limit_s",
     .member = &JobSpec::time_limit_s,
     .limits = {.min = 1, .max = kMaxTimeLimitS, .unit = " seconds (31 days)"},
     .description = "stopped after this many seconds; also the run-time estimate",
     .column = "time_limit_s",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "duration_s",
     .member = &JobSpec::duration_s,
     .limits = {.min = 0, .max = kMaxTimeLimitS, .unit = " seconds"},
     .flags = kOmitDefault,
     .description = "simulated centers: how long the job runs (0: its time limit)",
     .column = "duration_s",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "priority",
     .member = &JobSpec::priority,
     .limits = {.min = kInt32Min, .max = kInt32Max},
     .flags = kOmitDefault,
     .description = "larger is more important (at most the tenant's max_priority)",
     .column = "priority",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "center",
     .member = &JobSpec::center,
     .limits = {.max = kMaxCatalogNameBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "run only in this center",
     .column = "spec_center",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    // Added by the store's migration 5 -> 6 (store_schema.cc), in this order.
    {.json = "checkpoint_s",
     .member = &JobSpec::checkpoint_s,
     .limits = {.min = 0, .max = kMaxTimeLimitS, .unit = " seconds"},
     .flags = kOmitDefault,
     .description = "the job checkpoints about this often (0: it does not); it is then told before a preemption",
     .column = "checkpoint_s",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "grace_s",
     .member = &JobSpec::grace_s,
     .limits = {.min = 0, .max = kMaxGraceS, .unit = " seconds"},
     .flags = kOmitDefault,
     .description = "a checkpointing job: seconds between its stop_signal and the stop",
     .column = "grace_s",
     .sql = "INTEGER NOT NULL DEFAULT 60"},
    {.json = "stop_signal",
     .member = &JobSpec::stop_signal,
     .limits = {.max = 8},
     .flags = kOneLine | kOmitDefault,
     .description = "a checkpointing job: the signal that tells it to save its state and stop",
     .column = "stop_signal",
     .sql = "TEXT    NOT NULL DEFAULT 'USR1'",
     .choices = kStopSignals},
    // Added by the store's migration 6 -> 7.
    {.json = "deadline",
     .member = &JobSpec::deadline,
     .limits = {.max = kMaxDeadlineBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "a deferrable job: it must end by this RFC 3339 time; cost- and carbon-aware dispatch may hold it "
                    "for cheaper or cleaner hours until then",
     .column = "deadline",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    // Added by the store's migration 8 -> 9.
    {.json = "nodes",
     .member = &JobSpec::nodes,
     .limits = {.min = 1, .max = kMaxNodes},
     .flags = kOmitDefault,
     .description = "the nodes its accelerators are spread over, gpus / nodes on each (a multi-node gang; every task "
                    "gets the launcher's variables: MASTER_ADDR, RANK, WORLD_SIZE ...)",
     .column = "nodes",
     .sql = "INTEGER NOT NULL DEFAULT 1"},
    // Added by the store's migration 9 -> 10.
    {.json = "dataset",
     .member = &JobSpec::dataset,
     .limits = {.max = kMaxDatasetNameBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "the name of one of its tenant's registered datasets (GET /api/v1/datasets): it reads it at "
                    "SUANLI_DATASET_DIR, staged first to a center other than the one holding it",
     .column = "dataset",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    // Added by the store's migration 10 -> 11, in this order.
    {.json = "replicas",
     .member = &JobSpec::replicas,
     .limits = {.min = 0, .max = kMaxReplicas},
     .flags = kOmitDefault,
     .description = "an inference service of this many replicas, each a job kept running with no time limit and "
                    "restarted when it ends (0: a batch job)",
     .column = "replicas",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
    {.json = "region",
     .member = &JobSpec::region,
     .limits = {.max = kMaxRegionBytes},
     .flags = kOneLine | kOmitDefault,
     .description = "a service: the region of the server's network its users are in",
     .column = "region",
     .sql = "TEXT    NOT NULL DEFAULT ''"},
    {.json = "latency_ms",
     .member = &JobSpec::latency_ms,
     .limits = {.min = 0, .max = kMaxLatencyMs, .unit = " ms"},
     .flags = kOmitDefault,
     .description = "a service: the most round-trip milliseconds from its region to a replica's center (0: no bound)",
     .column = "latency_ms",
     .sql = "INTEGER NOT NULL DEFAULT 0"},
};

}  // namespace

std::span<const Field<JobSpec>> JobSpecFields() { return kJobSpec; }

Status CheckInt(std::string_view json, const Limits& l, int64_t v) {
  if (l.min == 0 && l.max == 0) return Status::Ok();  // an answer's field: no range
  if (v < l.min || v > l.max) {
    return InvalidField(std::string(json), "{} {}..{}{}, got {}", l.range.empty() ? "must be" : l.range, l.min, l.max,
                        l.unit, v);
  }
  return Status::Ok();
}

Status CheckGpus(std::string_view json, const Limits& l, Gpus g) {
  if (g.shared() && g.milli() > Gpus::kMilli) {
    return InvalidField(std::string(json),
                        "a share is of one device (0.001 .. 0.999); more than one device is a whole number, got {}",
                        g.ToString());
  }
  if (g.devices() < static_cast<uint64_t>(l.min) || g.devices() > static_cast<uint64_t>(l.max))
    return InvalidField(std::string(json), "must be {}..{}, got {}", l.min, l.max, g.ToString());
  return Status::Ok();
}

Status CheckString(std::string_view json, const Limits& l, uint32_t flags, const std::string& s) {
  std::string field(json);
  if (s.size() > static_cast<size_t>(l.max)) return InvalidField(field, "at most {} bytes, got {}", l.max, s.size());
  if (HasNul(s)) return InvalidField(field, "must not contain a NUL byte");
  if ((flags & kOneLine) && HasControl(s)) {
    return InvalidField(field, "must not contain control characters (newline, tab, escape...), got '{}'",
                        EscapeControls(s.substr(0, 200)));
  }
  return Status::Ok();
}

Status CheckStringList(std::string_view json, const Limits& l, uint32_t flags, const std::vector<std::string>& v) {
  std::string field(json);
  if ((flags & kNonEmpty) && v.empty()) return InvalidField(field, "must not be empty");
  if (v.size() > static_cast<size_t>(l.max)) return InvalidField(field, "at most {} items, got {}", l.max, v.size());
  if ((flags & kNonEmpty) && v[0].empty()) return InvalidField(field, "the first item must not be empty");
  size_t total = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].size() > l.item_bytes) return InvalidField(field, "item {} is longer than {} bytes", i, l.item_bytes);
    if (HasNul(v[i])) return InvalidField(field, "item {} contains a NUL byte", i);
    total += v[i].size();
  }
  if (l.total_bytes && total > l.total_bytes) return InvalidField(field, "longer than {} bytes in all", l.total_bytes);
  return Status::Ok();
}

Status CheckStringMap(std::string_view json, const Limits& l, bool (*key_ok)(std::string_view),
                      std::string_view key_rule, const std::map<std::string, std::string>& m) {
  std::string field(json);
  if (m.size() > static_cast<size_t>(l.max)) return InvalidField(field, "at most {} entries, got {}", l.max, m.size());
  size_t total = 0;
  for (const auto& [k, v] : m) {
    if (key_ok && !key_ok(k)) {
      return InvalidField(field, "'{}' is not a variable name ({}, at most {} bytes)", EscapeControls(k.substr(0, 64)),
                          key_rule, kMaxEnvKeyBytes);
    }
    if (v.size() > l.item_bytes) return InvalidField(field, "the value of {} is longer than {} bytes", k, l.item_bytes);
    if (HasNul(v)) return InvalidField(field, "the value of {} contains a NUL byte", k);
    total += k.size() + v.size();
  }
  if (l.total_bytes && total > l.total_bytes) return InvalidField(field, "larger than {} bytes in all", l.total_bytes);
  return Status::Ok();
}

Status CheckChoice(std::string_view json, std::span<const std::string_view> choices, const std::string& s) {
  if (choices.empty() || std::find(choices.begin(), choices.end(), s) != choices.end()) return Status::Ok();
  return InvalidField(std::string(json), "must be one of {}, got '{}'", fmt::join(choices, ", "),
                      EscapeControls(s.substr(0, 64)));
}

Status CheckSpecFields(const JobSpec& spec) {
  SUANLI_RETURN_IF_ERROR(CheckFields(JobSpecFields(), spec));
  if (!spec.workdir.empty() && spec.workdir[0] != '/')
    return InvalidField("workdir", "must be an absolute path, got '{}'", EscapeControls(spec.workdir.substr(0, 200)));
  if (spec.nodes > 1 && (spec.gpus.shared() || spec.gpus < spec.nodes || spec.gpus.devices() % spec.nodes != 0))
    return InvalidField("nodes", "{} nodes need gpus to be a multiple of {} (the same number on each node), got {}",
                        spec.nodes, spec.nodes, spec.gpus.ToString());
  if (!spec.deadline.empty() && !ParseRfc3339(spec.deadline))
    return InvalidField("deadline", "must be an RFC 3339 time such as 2026-12-05T06:00:00+08:00, got '{}'",
                        EscapeControls(spec.deadline.substr(0, 64)));
  if (!spec.dataset.empty() && !ValidDatasetName(spec.dataset))
    return InvalidField("dataset", "must be a dataset name ({}), got '{}'", kDatasetNameRule,
                        EscapeControls(spec.dataset.substr(0, 64)));
  return Status::Ok();
}

std::string ColumnLine(std::string_view column, std::string_view sql) {
  return fmt::format("  {:<14} {},\n", column, sql);
}

}  // namespace suanli::live::schema
