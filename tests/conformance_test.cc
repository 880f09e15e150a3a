// The conformance suite every policy must pass: no over-allocation (the
// simulator's ledger checks each decision), gangs all-or-nothing, model and
// stack constraints honoured, every job accounted for, same seed -> same result.
#include <gtest/gtest.h>

#include <memory>

#include "core/policy/order/order.h"
#include "core/policy/place/placer.h"
#include "sim/engine.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

std::vector<std::string> AllPolicies() {
  std::vector<std::string> out;
  for (const auto& o : OrderPolicies()) {
    auto order = MakeOrderPolicy(o.name);
    for (const auto& p : Placers()) {
      out.push_back(o.name + "+" + p.name);
      if (!order->preemptive()) {
        out.push_back(o.name + "+easy+" + p.name);
        out.push_back(o.name + "+greedy+" + p.name);
      }
    }
  }
  return out;
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, InvariantsHoldAndEveryJobIsAccounted) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 8}, {1, 6, 4}, {2, 2, 8}, {kNoModel, 2, 0}});
  Workload w = testing::RandomWorkload(11, 400, cat);
  auto spec = ParsePolicySpec(GetParam());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  SimOptions opt;
  opt.seed = 5;
  auto r = Simulate(w, net, cat, *spec, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->summary.finished + r->summary.unschedulable, w.jobs.size());
  EXPECT_GT(r->summary.unschedulable, 0u);  // the 1000-GPU jobs
  for (const auto& [id, why] : r->unschedulable) EXPECT_FALSE(why.empty());
  for (const auto& j : r->jobs) {
    if (j.unschedulable) continue;
    const Job& job = w.jobs[j.id];
    EXPECT_GE(j.start, j.submit);
    EXPECT_GT(j.end, j.start);
    if (job.num_gpus > 0) {
      ModelMask eligible = EligibleModels(job, cat, w);
      EXPECT_TRUE(eligible >> j.model & 1) << "job " << j.id << " ran on a model it does not accept";
    }
  }
  EXPECT_GT(r->summary.utilization, 0.0);
  EXPECT_LE(r->summary.utilization, 1.0 + 1e-9);
}

TEST_P(Conformance, InvariantsHoldUnderQuotas) {
  // The same checks with tenant quotas: borrowing, reclaim and quota-blocked
  // jobs must leave every job accounted for, with reasons for the ones that
  // could never run (the quota-bound ones name their tenant).
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 8}, {1, 6, 4}, {2, 2, 8}, {kNoModel, 2, 0}});  // 72 devices
  Workload w = testing::RandomWorkload(13, 400, cat);
  auto quotas = std::make_shared<QuotaSpec>();
  quotas->tenants = {{"t0", 0.3, 0.2, true}, {"t1", 16, -1, false}};
  quotas->default_quota = TenantQuota{"", 0.05, 0.1, true};  // t2: at most 10.8 accelerators
  auto spec = ParsePolicySpec(GetParam());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  SimOptions opt;
  opt.seed = 5;
  opt.scheduler.quotas = quotas;
  auto r = Simulate(w, net, cat, *spec, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->summary.finished + r->summary.unschedulable, w.jobs.size());
  size_t by_quota = 0;
  for (const auto& [id, why] : r->unschedulable) {
    EXPECT_FALSE(why.empty());
    if (why.find("tenant 't2'") != std::string::npos) {
      ++by_quota;
      EXPECT_GT(w.jobs[id].GpuMilli(), 10800);
      EXPECT_EQ(w.jobs[id].tenant, TenantId{2});
    }
  }
  EXPECT_GT(by_quota, 0u);
  for (const auto& j : r->jobs) {
    if (j.unschedulable) continue;
    EXPECT_GE(j.start, j.submit);
    EXPECT_GT(j.end, j.start);
  }
  EXPECT_LE(r->summary.utilization, 1.0 + 1e-9);
}

TEST_P(Conformance, SameSeedSameResult) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 8}, {1, 3, 4}, {2, 1, 8}});
  Workload w = testing::RandomWorkload(3, 200, cat);
  auto spec = ParsePolicySpec(GetParam());
  ASSERT_TRUE(spec.ok());
  SimOptions opt;
  opt.seed = 9;
  auto a = Simulate(w, net, cat, *spec, opt);
  auto b = Simulate(w, net, cat, *spec, opt);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->jobs.size(), b->jobs.size());
  for (JobId i : a->jobs.ids()) {
    EXPECT_EQ(a->jobs[i].start, b->jobs[i].start);
    EXPECT_EQ(a->jobs[i].end, b->jobs[i].end);
    EXPECT_EQ(a->jobs[i].model, b->jobs[i].model);
  }
}

TEST_P(Conformance, GangIsAllOrNothingUnderPressure) {
  // A cluster too small for everything at once: big gangs must wait, never start partially.
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});
  Workload w;
  for (int i = 0; i < 30; ++i) w.jobs.push_back(testing::MakeJob(Seconds(i), i % 3 == 0 ? 8 : 3, 1000));
  w.SortBySubmit();
  auto spec = ParsePolicySpec(GetParam());
  ASSERT_TRUE(spec.ok());
  auto r = Simulate(w, net, cat, *spec, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->summary.finished, 30u);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, Conformance, ::testing::ValuesIn(AllPolicies()), [](const auto& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
});

}  // namespace
}  // namespace suanli
