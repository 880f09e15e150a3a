// Tenant quotas in a cohort, after Kueue's ClusterQueues: each tenant has a
// guaranteed (nominal) quota of accelerators and a borrowing limit. A tenant
// may use more than its nominal quota only by borrowing what the other
// tenants of the cohort leave unused, up to its borrowing limit; a tenant
// below its nominal quota may take borrowed capacity back (reclaim). See
// docs/policies.md, "Quotas (cohorts)".
//
// Quotas count accelerators (a shared-GPU job counts its share; CPU-only jobs
// count nothing), either absolute or as a fraction of the center's capacity.
// Internally everything is in milli-accelerators.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "core/model/ids.h"

namespace suanli {

struct TenantQuota {
  std::string tenant;
  double nominal = 0;           // guaranteed: accelerators, or a fraction (0..1) of the capacity
  double borrowing_limit = -1;  // most it may use beyond nominal; < 0 = unlimited
  bool fraction = false;        // nominal and borrowing_limit are fractions of the capacity
};

struct QuotaSpec {
  std::string cohort;  // a name, informative
  std::vector<TenantQuota> tenants;
  std::optional<TenantQuota> default_quota;  // for tenants not listed (its `tenant` is unused)
  bool reclaim = true;                       // lenders preempt borrowers to get their nominal back

  // Nothing to enforce: no tenant listed and no default.
  bool empty() const { return tenants.empty() && !default_quota; }
  // Non-negative finite figures, fractions at most 1, names non-empty and unique.
  Status Validate() const;
};

// One tenant's quota resolved against a center, and what it uses now.
struct TenantUsage {
  std::string name;
  bool limited = false;          // has a quota (a member of the cohort); else unlimited
  int64_t nominal = 0;           // milli-accelerators
  int64_t borrowing_limit = -1;  // milli-accelerators beyond nominal; -1 = unlimited
  int64_t used = 0;              // milli-accelerators held by its running jobs
  int64_t borrowed() const { return limited && used > nominal ? used - nominal : 0; }
};

// Per-tenant usage against the quotas of one center, updated in O(1) per start
// and stop. Tenants are indexed like Workload::tenants (Job::tenant).
class QuotaUsage {
 public:
  // Resolves `spec` against the workload's tenant names and the center's
  // capacity (milli-accelerators). `num_tenants` may exceed names.size():
  // tenants without a name get the default quota, if any.
  static Result<QuotaUsage> Resolve(const QuotaSpec& spec, const BasicStringTable<TenantId>& names, size_t num_tenants,
                                    int64_t capacity_milli);

  const IdVector<TenantId, TenantUsage>& tenants() const { return tenants_; }
  const TenantUsage& tenant(TenantId t) const { return tenants_[t]; }
  size_t size() const { return tenants_.size(); }
  bool reclaim() const { return reclaim_; }
  const std::string& cohort() const { return cohort_; }
  int64_t capacity() const { return capacity_; }
  // Sums over the cohort's members (tenants with a quota).
  int64_t cohort_nominal() const { return cohort_nominal_; }
  int64_t cohort_used() const { return cohort_used_; }
  int64_t cohort_borrowed() const { return cohort_borrowed_; }

  // Adds tenant `t` (and any before it) when the workload gained tenants since.
  void Ensure(TenantId t, const BasicStringTable<TenantId>& names);
  // May tenant t start a job of `milli` now? Within nominal always; beyond it
  // only within the borrowing limit and the cohort's unused nominal capacity.
  bool Admits(TenantId t, int64_t milli) const;
  // Empty if a job of `milli` could start on an idle cohort; else why never.
  std::string WhyNever(TenantId t, int64_t milli) const;
  // Would the job stay within its tenant's nominal quota (the condition to reclaim)?
  bool WithinNominal(TenantId t, int64_t milli) const {
    const TenantUsage& u = tenants_[t];
    return u.limited && u.used + milli <= u.nominal;
  }
  void Add(TenantId t, int64_t milli) { Change(t, milli); }
  void Sub(TenantId t, int64_t milli) { Change(t, -milli); }

 private:
  void Change(TenantId t, int64_t delta);
  TenantUsage Make(std::string_view name) const;
  IdVector<TenantId, TenantUsage> tenants_;
  std::vector<TenantQuota> listed_;
  std::optional<TenantQuota> default_;
  std::string cohort_;
  bool reclaim_ = true;
  int64_t capacity_ = 0;
  int64_t cohort_nominal_ = 0, cohort_used_ = 0, cohort_borrowed_ = 0;
};

// "12", "0.5": milli-accelerators as accelerators, for messages.
std::string FormatAccelerators(int64_t milli);

}  // namespace suanli
