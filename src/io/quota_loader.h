// Loads tenant quotas for a center (Kueue-style cohort; docs/policies.md,
// "Quotas (cohorts)"):
//
//   cohort: china-aicc            # a name, informative
//   reclaim: true                 # lenders preempt borrowers (default true)
//   default: {nominal: 10%, borrowing_limit: 50%}
//   tenants:
//     - {name: lab-a, nominal: 30%, borrowing_limit: 20%}
//     - {name: lab-b, nominal: 256, borrowing_limit: unlimited}
//
// A figure is a percentage of the center's accelerator capacity ("30%") or a
// number of accelerators ("256", "0.5"); borrowing_limit may be `unlimited`
// (also when absent). Errors name the file, line, tenant entry and field.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "core/model/quota.h"
#include "io/yaml_fields.h"

namespace suanli {

// Parses quota YAML; `name` is used in error messages.
Result<QuotaSpec> ParseQuotasYaml(std::string_view text, const std::string& name);
// The same, from a mapping inside a larger document (the server's `quotas:`
// key); `name` (the file) is used in the error for a spec found invalid as a whole.
Result<QuotaSpec> ParseQuotas(const yaml::Value& root, const std::string& name);
// A quota spec as quota YAML that parses back to the same spec (figures
// given with at most 12 significant digits stay as they were).
std::string FormatQuotasYaml(const QuotaSpec& spec);
// Reads and parses a quota file (plain or gzip).
Result<QuotaSpec> LoadQuotas(const std::string& path);

}  // namespace suanli
