// The tenant quota file (io/quota_loader.h): the documented example, the
// bundled china-aicc quotas, and errors naming the file, the tenant and the
// field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/model/quota.h"
#include "io/quota_loader.h"

namespace suanli {
namespace {

// --- The quota file -------------------------------------------------------

TEST(QuotaYaml, ParsesTheDocumentedExample) {
  auto q = ParseQuotasYaml(R"(
cohort: china-aicc          # a name, informative
reclaim: true
default: {nominal: 10%, borrowing_limit: 50%}
tenants:
  - {name: lab-a, nominal: 30%, borrowing_limit: 20%}
  - {name: lab-b, nominal: 256, borrowing_limit: unlimited}
  - {name: lab-c, nominal: 0.5}
)",
                           "q.yaml");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->cohort, "china-aicc");
  EXPECT_TRUE(q->reclaim);
  ASSERT_TRUE(q->default_quota.has_value());
  EXPECT_TRUE(q->default_quota->fraction);
  EXPECT_DOUBLE_EQ(q->default_quota->nominal, 0.1);
  EXPECT_DOUBLE_EQ(q->default_quota->borrowing_limit, 0.5);
  ASSERT_EQ(q->tenants.size(), 3u);
  EXPECT_EQ(q->tenants[0].tenant, "lab-a");
  EXPECT_TRUE(q->tenants[0].fraction);
  EXPECT_DOUBLE_EQ(q->tenants[0].nominal, 0.3);
  EXPECT_DOUBLE_EQ(q->tenants[0].borrowing_limit, 0.2);
  EXPECT_FALSE(q->tenants[1].fraction);
  EXPECT_DOUBLE_EQ(q->tenants[1].nominal, 256);
  EXPECT_LT(q->tenants[1].borrowing_limit, 0);
  EXPECT_LT(q->tenants[2].borrowing_limit, 0);  // absent = unlimited

  // Resolved against a center of 1,000 accelerators and a workload's tenants.
  BasicStringTable<TenantId> names;
  names.Intern("lab-b");
  names.Intern("lab-a");
  names.Intern("other");
  auto u = QuotaUsage::Resolve(*q, names, 4, 1000 * 1000);
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->tenant(TenantId{0}).nominal, 256000);
  EXPECT_EQ(u->tenant(TenantId{0}).borrowing_limit, -1);
  EXPECT_EQ(u->tenant(TenantId{1}).nominal, 300000);
  EXPECT_EQ(u->tenant(TenantId{1}).borrowing_limit, 200000);
  EXPECT_EQ(u->tenant(TenantId{2}).nominal, 100000);  // the default
  EXPECT_EQ(u->tenant(TenantId{3}).nominal, 100000);  // no name: the default too
  EXPECT_EQ(u->cohort_nominal(), 756000);             // lab-c is not in the workload
  q->reclaim = false;
  q->default_quota.reset();
  u = QuotaUsage::Resolve(*q, names, 3, 1000 * 1000);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tenant(TenantId{2}).limited);
  EXPECT_FALSE(u->reclaim());
}

TEST(QuotaYaml, BundledChinaAiccQuotas) {
  auto q = LoadQuotas(std::string(SUANLI_SOURCE_DIR) + "/data/quotas/china-aicc.yaml");
  ASSERT_TRUE(q.ok()) << q.status().message();
  std::vector<std::string> names;
  double sum = 0;
  for (const auto& t : q->tenants) {
    names.push_back(t.tenant);
    EXPECT_TRUE(t.fraction) << t.tenant;
    sum += t.nominal;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"lab-nlp", "lab-vision", "lab-science", "startup-a", "startup-b", "gov-ai",
                                             "univ-hpc", "inference"}));
  EXPECT_LE(sum, 1.0 + 1e-9);
  EXPECT_TRUE(q->default_quota.has_value());
}

TEST(QuotaYaml, ErrorsNameTheFileTheTenantAndTheField) {
  struct Case {
    const char* yaml;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"tenants:\n  - {name: lab-a, nominal: -4}\n", {"bad.yaml:2", "tenants[0] (lab-a): nominal", "negative"}},
      {"tenants:\n  - {name: lab-a, nominal: 10%}\n  - {name: lab-b, nominal: 150%}\n",
       {"bad.yaml:3", "tenants[1] (lab-b): nominal", "more than 100%"}},
      {"tenants:\n  - {name: lab-a, nominal: 1, borrowing_limt: 2}\n",
       {"tenants[0] (lab-a): borrowing_limt", "unknown key", "did you mean 'borrowing_limit'"}},
      {"tenants:\n  - {name: lab-a, nominal: 1}\n  - {name: lab-a, nominal: 2}\n",
       {"bad.yaml:3", "tenants[1] (lab-a): name", "listed twice (first as tenants[0])"}},
      {"tenants:\n  - {name: lab-a, nominal: 10%, borrowing_limit: 8}\n",
       {"tenants[0] (lab-a): borrowing_limit", "both as percentages or both as accelerators"}},
      {"tenants:\n  - {name: lab-a, nominal: lots}\n", {"tenants[0] (lab-a): nominal", "got 'lots'"}},
      {"tenants:\n  - {name: lab-a, nominal: unlimited}\n", {"tenants[0] (lab-a): nominal"}},
      {"tenants:\n  - {name: lab-a}\n", {"tenants[0] (lab-a): nominal", "missing required field"}},
      {"tenants:\n  - {nominal: 3}\n", {"tenants[0]: name", "missing required field"}},
      {"default: {nominal: 10%, borrowing_limit: -5%}\n", {"default.borrowing_limit", "negative"}},
      {"default: {nominal: 10%}\nreclaim: sometimes\n", {"reclaim", "expected true or false"}},
      {"cohort: x\ntenant:\n  - {name: a, nominal: 1}\n",
       {"bad.yaml:", "tenant: unknown key", "did you mean 'tenants'"}},
      {"cohort: x\n", {"bad.yaml", "sets no quota"}},
      {"tenants: {name: a}\n", {"tenants", "expected a list"}},
      {"tenants: [\n", {"bad.yaml:", "YAML syntax error"}},
  };
  for (const auto& c : cases) {
    auto q = ParseQuotasYaml(c.yaml, "bad.yaml");
    ASSERT_FALSE(q.ok()) << c.yaml;
    for (const auto& e : c.expect)
      EXPECT_NE(q.status().message().find(e), std::string::npos)
          << "missing '" << e << "' in: " << q.status().message();
  }
  auto missing = LoadQuotas("no/such/quotas.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no/such/quotas.yaml"), std::string::npos);
}

}  // namespace
}  // namespace suanli
