// Tenant quotas' tests: a workload of tenants "a", "b", "c", their jobs, a
// quota spec, a scheduler with quotas, and the jobs a pass decided. In a
// namespace of their own: other tests' helpers use some of the same names.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/model/quota.h"
#include "core/scheduler/scheduler.h"
#include "support/fixtures.h"

namespace suanli::testing::quota {

// A workload whose tenants are named "a", "b", "c" (ids 0, 1, 2).
inline Workload Tenants() {
  Workload w;
  w.tenants.Intern("a");
  w.tenants.Intern("b");
  w.tenants.Intern("c");
  return w;
}

inline JobId AddJob(Workload* w, uint32_t tenant, Time submit, uint32_t gpus, double work, uint16_t milli = 1000) {
  Job j = MakeJob(submit, gpus, work, milli);
  j.tenant = TenantId{tenant};
  return w->Add(j, "");
}

inline std::shared_ptr<QuotaSpec> Spec(std::vector<TenantQuota> tenants, bool reclaim = true) {
  auto s = std::make_shared<QuotaSpec>();
  s->tenants = std::move(tenants);
  s->reclaim = reclaim;
  return s;
}

inline std::unique_ptr<Scheduler> Make(const std::string& policy, const Catalog& cat, const Network& net,
                                       const Workload& w, std::shared_ptr<const QuotaSpec> quotas) {
  SchedulerOptions opt;
  opt.quotas = std::move(quotas);
  auto s = Scheduler::Create(*ParsePolicySpec(policy), cat, net, w, opt);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

inline std::set<JobId> Jobs(const PassResult& p, Decision::Kind kind) {
  std::set<JobId> out;
  for (const auto& d : p.decisions)
    if (d.kind == kind) out.insert(d.job);
  return out;
}

}  // namespace suanli::testing::quota
