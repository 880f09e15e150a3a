// A job spec's check: the one the server runs on every submission and the
// CLI runs before sending one (live_job.h): the fields' limits from the
// spec's table (record_schema.h), then what needs the catalog and centers.
#include <algorithm>

#include "base/strings.h"
#include "core/model/catalog.h"
#include "live/live_job.h"
#include "live/record_schema.h"

namespace suanli::live {

namespace {

constexpr std::string_view kClassHelp = "training, inference, cnn, transformer, rl, science, other";

}  // namespace

Status ValidateSpec(const JobSpec& spec, const Catalog& catalog, const std::vector<std::string>* centers) {
  // Lengths, counts, ranges and characters, field by field (record_schema.h).
  SUANLI_RETURN_IF_ERROR(schema::CheckSpecFields(spec));
  for (const auto& m : spec.models)
    if (!catalog.Find(m))
      return InvalidField("models", "unknown model '{}' (see `suanli network models`)", m.substr(0, 100));
  for (const auto& s : spec.stacks)
    if (!catalog.FindStack(s))
      return InvalidField("stacks", "unknown software stack '{}' (known: {})", s.substr(0, 100),
                          Join(catalog.stacks(), ", "));
  if (!spec.models.empty() && spec.gpus == 0)
    return InvalidField("models", "a CPU-only job (gpus 0) cannot ask for accelerator models");
  const std::string cls = ToLower(spec.workload_class);
  if (cls != "training" && cls != "inference" && !ParseClass(cls))
    return InvalidField("class", "unknown class '{}' (known: {})", spec.workload_class.substr(0, 100), kClassHelp);
  // A service's fields go together.
  if (spec.replicas == 0 && (!spec.region.empty() || spec.latency_ms > 0))
    return InvalidField(!spec.region.empty() ? "region" : "latency_ms",
                        "region and latency_ms are a service's: give replicas (1 or more) too");
  if (spec.latency_ms > 0 && spec.region.empty())
    return InvalidField("latency_ms", "a latency bound is from a region: give region too");
  if (spec.replicas > 0 && !spec.deadline.empty())
    return InvalidField("deadline", "a service (replicas) runs until it is scaled down; it has no deadline");
  if (centers && !spec.center.empty() && std::find(centers->begin(), centers->end(), spec.center) == centers->end())
    return InvalidField("center", "unknown center '{}' (centers: {})", spec.center.substr(0, 100),
                        Join(*centers, ", "));
  return Status::Ok();
}

}  // namespace suanli::live
