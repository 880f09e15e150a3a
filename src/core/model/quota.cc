#include "core/model/quota.h"

#include <cmath>
#include <unordered_set>

namespace suanli {

namespace {

// Far beyond any real center, small enough that milli-accelerators fit in int64.
constexpr double kMaxAccelerators = 1e12;

Status CheckQuota(const TenantQuota& q, const std::string& where) {
  auto check = [&](double v, const char* field, bool may_be_unlimited) -> Status {
    if (std::isnan(v) || std::isinf(v)) return InvalidArgument("{}: {} is not a finite number", where, field);
    if (v < 0) {
      if (may_be_unlimited) return Status::Ok();
      return InvalidArgument("{}: {} is negative ({})", where, field, v);
    }
    if (q.fraction && v > 1.0)
      return InvalidArgument("{}: {} is {}% of the capacity (at most 100%)", where, field, v * 100);
    if (!q.fraction && v > kMaxAccelerators)
      return InvalidArgument("{}: {} is {} accelerators (at most {})", where, field, v, kMaxAccelerators);
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(check(q.nominal, "nominal", false));
  return check(q.borrowing_limit, "borrowing_limit", true);
}

int64_t ToMilli(double v, bool fraction, int64_t capacity_milli) {
  if (fraction) return std::llround(v * static_cast<double>(capacity_milli));
  return std::llround(v * 1000.0);
}

}  // namespace

Status QuotaSpec::Validate() const {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < tenants.size(); ++i) {
    const TenantQuota& q = tenants[i];
    if (q.tenant.empty()) return InvalidArgument("quota tenants[{}]: the tenant name is empty", i);
    std::string where = fmt::format("quota tenants[{}] ({})", i, q.tenant);
    if (!seen.insert(q.tenant).second) return InvalidArgument("{}: tenant listed twice", where);
    SUANLI_RETURN_IF_ERROR(CheckQuota(q, where));
  }
  if (default_quota) SUANLI_RETURN_IF_ERROR(CheckQuota(*default_quota, "quota default"));
  return Status::Ok();
}

std::string FormatAccelerators(int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return fmt::format("{:g}", static_cast<double>(milli) / 1000.0);
}

Result<QuotaUsage> QuotaUsage::Resolve(const QuotaSpec& spec, const BasicStringTable<TenantId>& names,
                                       size_t num_tenants, int64_t capacity_milli) {
  SUANLI_RETURN_IF_ERROR(spec.Validate());
  if (capacity_milli < 0) return InvalidArgument("quota: negative capacity {}", capacity_milli);
  QuotaUsage q;
  q.listed_ = spec.tenants;
  q.default_ = spec.default_quota;
  q.cohort_ = spec.cohort;
  q.reclaim_ = spec.reclaim;
  q.capacity_ = capacity_milli;
  if (num_tenants > 0) q.Ensure(TenantId(static_cast<uint32_t>(num_tenants - 1)), names);
  return q;
}

TenantUsage QuotaUsage::Make(std::string_view name) const {
  TenantUsage u;
  u.name = std::string(name);
  const TenantQuota* q = nullptr;
  if (!name.empty())
    for (const auto& l : listed_)
      if (l.tenant == name) {
        q = &l;
        break;
      }
  if (!q && default_) q = &*default_;
  if (!q) return u;
  u.limited = true;
  u.nominal = ToMilli(q->nominal, q->fraction, capacity_);
  u.borrowing_limit = q->borrowing_limit < 0 ? -1 : ToMilli(q->borrowing_limit, q->fraction, capacity_);
  return u;
}

void QuotaUsage::Ensure(TenantId t, const BasicStringTable<TenantId>& names) {
  while (!tenants_.contains(t)) {
    const TenantId i = tenants_.next_id();
    tenants_.push_back(Make(i.value() < names.size() ? std::string_view(names.Name(i)) : std::string_view()));
    if (tenants_.back().limited) cohort_nominal_ += tenants_.back().nominal;
  }
}

bool QuotaUsage::Admits(TenantId t, int64_t milli) const {
  if (milli <= 0) return true;
  const TenantUsage& u = tenants_[t];
  if (!u.limited) return true;
  int64_t after = u.used + milli;
  if (after <= u.nominal) return true;
  if (u.borrowing_limit >= 0 && after - u.nominal > u.borrowing_limit) return false;
  // Beyond nominal it borrows what the others leave unused: the cohort as a
  // whole must stay within the sum of its nominal quotas.
  return cohort_used_ + milli <= cohort_nominal_;
}

std::string QuotaUsage::WhyNever(TenantId t, int64_t milli) const {
  if (milli <= 0 || !tenants_.contains(t)) return "";
  const TenantUsage& u = tenants_[t];
  if (!u.limited || milli <= u.nominal) return "";
  if (u.borrowing_limit >= 0 && milli - u.nominal > u.borrowing_limit)
    return fmt::format(
        "needs {} accelerators but tenant '{}' may hold at most {} (nominal quota {} + borrowing limit {})",
        FormatAccelerators(milli), u.name, FormatAccelerators(u.nominal + u.borrowing_limit),
        FormatAccelerators(u.nominal), FormatAccelerators(u.borrowing_limit));
  if (milli > cohort_nominal_)
    return fmt::format(
        "needs {} accelerators but tenant '{}' has a nominal quota of {} and the cohort's nominal quotas "
        "total {}, so it could never borrow enough",
        FormatAccelerators(milli), u.name, FormatAccelerators(u.nominal), FormatAccelerators(cohort_nominal_));
  return "";
}

void QuotaUsage::Change(TenantId t, int64_t delta) {
  TenantUsage& u = tenants_[t];
  int64_t before = u.borrowed();
  u.used += delta;
  SUANLI_CHECK_MSG(u.used >= 0, "quota usage below zero");
  if (!u.limited) return;
  cohort_used_ += delta;
  cohort_borrowed_ += u.borrowed() - before;
}

}  // namespace suanli
