// Tenant quotas live (control.h): the quotas in force, from the store (set
// through the API) or the config, applied to every center's scheduler, shown
// with what each tenant uses, and replaced while jobs run.
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "io/quota_loader.h"
#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace {
constexpr std::string_view kQuotasSetting = "quotas";  // quota YAML; empty: removed through the API
}  // namespace

Status ControlPlaneImpl::ApplyQuotas(std::shared_ptr<const QuotaSpec> q) {
  // Listed tenants that have not submitted yet are shown with their quota too.
  if (q)
    for (const TenantQuota& t : q->tenants) net_->InternTenant(t.tenant);
  SUANLI_RETURN_IF_ERROR(net_->SetQuotas(q));
  quotas_ = std::move(q);
  return Status::Ok();
}

Status ControlPlaneImpl::InitQuotas() {
  std::shared_ptr<const QuotaSpec> q = config_.quotas;
  SUANLI_ASSIGN_OR_RETURN(auto stored, store_->GetSetting(std::string(kQuotasSetting)));
  if (stored) {
    if (stored->empty()) {
      q = nullptr;
    } else {
      auto parsed = ParseQuotasYaml(*stored, "the quotas set through the API (store setting 'quotas')");
      if (!parsed.ok()) return parsed.status();
      q = std::make_shared<const QuotaSpec>(std::move(parsed).value());
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  Status st = ApplyQuotas(q);
  if (!st.ok()) return st.Wrap("quotas");
  if (quotas_)
    spdlog::info("quotas: {} tenant(s) listed{}, reclaim {}{}", quotas_->tenants.size(),
                 quotas_->default_quota ? " and a default" : "", quotas_->reclaim ? "on" : "off",
                 stored ? " (set through the API)" : "");
  return Status::Ok();
}

Result<QuotasView> ControlPlaneImpl::Quotas(const Caller& caller) {
  QuotasView v;
  std::lock_guard<std::mutex> lk(mu_);
  if (quotas_) {
    v.spec = *quotas_;
    if (!caller.admin) std::erase_if(v.spec->tenants, [&](const TenantQuota& t) { return t.tenant != caller.tenant; });
  }
  for (CenterId c : centers_.ids()) {
    const Scheduler* s = net_->scheduler(c);
    const QuotaUsage* q = s ? s->quota_usage() : nullptr;
    if (!q) continue;
    for (const TenantUsage& u : q->tenants()) {
      if (u.name.empty() || (!caller.admin && u.name != caller.tenant)) continue;
      if (!u.limited && u.used == 0) continue;
      v.usage.push_back({centers_[c].built->name, u.name, u.limited, static_cast<double>(u.nominal) / 1000.0,
                         u.borrowing_limit < 0 ? -1.0 : static_cast<double>(u.borrowing_limit) / 1000.0,
                         static_cast<double>(u.used) / 1000.0, static_cast<double>(u.borrowed()) / 1000.0});
    }
  }
  std::stable_sort(v.usage.begin(), v.usage.end(), [](const QuotaUse& a, const QuotaUse& b) {
    return a.center != b.center ? a.center < b.center : a.tenant < b.tenant;
  });
  return v;
}

Result<QuotasView> ControlPlaneImpl::SetQuotas(const Caller& caller, const std::optional<std::string>& document) {
  if (!caller.admin) return PermissionDenied("changing quotas is for the admin");
  std::shared_ptr<const QuotaSpec> q;
  if (document) {
    if (document->size() > kMaxQuotaDocumentBytes)
      return InvalidArgument("the quota document is larger than {} bytes", kMaxQuotaDocumentBytes);
    SUANLI_ASSIGN_OR_RETURN(QuotaSpec spec, ParseQuotasYaml(*document, "quotas"));
    q = std::make_shared<const QuotaSpec>(std::move(spec));
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    std::shared_ptr<const QuotaSpec> before = quotas_;
    SUANLI_RETURN_IF_ERROR(ApplyQuotas(q));
    Status st = store_->PutSetting(std::string(kQuotasSetting), q ? FormatQuotasYaml(*q) : "");
    if (!st.ok()) {
      // Not kept: what runs stays what a restart would find.
      Status back = ApplyQuotas(before);
      if (!back.ok()) spdlog::error("quotas: restoring the previous quotas failed: {}", back.message());
      return st;
    }
    spdlog::info("quotas {} by {}", q ? "replaced" : "removed", caller.tenant);
  }
  Wake();
  return Quotas(caller);
}

}  // namespace suanli::live::control_detail
