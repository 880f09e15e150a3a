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

namespace suanli {

// Parses quota YAML; `name` is used in error messages.
Result<QuotaSpec> ParseQuotasYaml(std::string_view text, const std::string& name);
// Reads and parses a quota file (plain or gzip).
Result<QuotaSpec> LoadQuotas(const std::string& path);

}  // namespace suanli
