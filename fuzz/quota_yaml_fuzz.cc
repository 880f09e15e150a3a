// libFuzzer target for the quota YAML loader (io/quota_loader.h): any input
// must give a spec that validates and resolves against a center, or an error
// with a message.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "io/quota_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto spec = suanli::ParseQuotasYaml(yaml, "fuzz.yaml");
  if (!spec.ok()) {
    if (spec.status().message().empty()) {
      std::fprintf(stderr, "error without a message\n");
      std::abort();
    }
    return 0;
  }
  suanli::Status st = spec->Validate();
  if (!st.ok()) {
    std::fprintf(stderr, "parsed quotas do not validate: %s\n", st.message().c_str());
    std::abort();
  }
  // What the server keeps (FormatQuotasYaml) parses back to the same quotas.
  auto back = suanli::ParseQuotasYaml(suanli::FormatQuotasYaml(*spec), "formatted");
  if (!back.ok()) {
    std::fprintf(stderr, "formatted quotas do not parse: %s\n", back.status().message().c_str());
    std::abort();
  }
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(a)); };
  auto same = [&](const suanli::TenantQuota& a, const suanli::TenantQuota& b) {
    return a.tenant == b.tenant && a.fraction == b.fraction && near(a.nominal, b.nominal) &&
           near(a.borrowing_limit, b.borrowing_limit);
  };
  bool equal = back->cohort == spec->cohort && back->reclaim == spec->reclaim &&
               back->tenants.size() == spec->tenants.size() &&
               back->default_quota.has_value() == spec->default_quota.has_value() &&
               (!spec->default_quota || same(*back->default_quota, *spec->default_quota));
  for (size_t i = 0; equal && i < spec->tenants.size(); ++i) equal = same(back->tenants[i], spec->tenants[i]);
  if (!equal) {
    std::fprintf(stderr, "formatted quotas parse back to other quotas:\n%s\n", suanli::FormatQuotasYaml(*spec).c_str());
    std::abort();
  }
  // Resolve against a center of 1,000 accelerators with the listed tenants and
  // one unlisted one; quotas must come out non-negative and usage must balance.
  suanli::BasicStringTable<suanli::TenantId> names;
  for (const auto& t : spec->tenants) names.Intern(t.tenant);
  names.Intern("\x01unlisted");
  auto q = suanli::QuotaUsage::Resolve(*spec, names, names.size(), 1000 * 1000);
  if (!q.ok()) {
    std::fprintf(stderr, "valid quotas do not resolve: %s\n", q.status().message().c_str());
    std::abort();
  }
  for (suanli::TenantId t : suanli::Ids<suanli::TenantId>(q->size())) {
    const auto& u = q->tenant(t);
    if (u.nominal < 0 || u.borrowing_limit < -1) std::abort();
    if (q->Admits(t, 1000)) q->Add(t, 1000);
  }
  for (suanli::TenantId t : suanli::Ids<suanli::TenantId>(q->size()))
    if (q->tenant(t).used > 0) q->Sub(t, q->tenant(t).used);
  if (q->cohort_used() != 0 || q->cohort_borrowed() != 0) {
    std::fprintf(stderr, "quota usage does not balance\n");
    std::abort();
  }
  return 0;
}
