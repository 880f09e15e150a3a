// Tenant quotas on a running control plane: the config's `quotas:` (inline
// or a file), enforced by every center's scheduler; shown with what each
// tenant uses; replaced and removed through the API while jobs run, kept in
// the store across restarts.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "io/quota_loader.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using ::suanli::testing::live_control::Gpu;
using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::kBob;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::SimulatedConfig;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;
using ::suanli::testing::live_control::WriteText;

// Alice is guaranteed a quarter of each center and may not borrow; carol
// the rest (she lends it while idle); tenants not listed have no quota
// (they are not in the cohort and may use whatever is free).
constexpr char kQuotas[] = R"(cohort: test
reclaim: true
tenants:
  - {name: alice, nominal: 25%, borrowing_limit: 0}
  - {name: carol, nominal: 75%}
)";

ServerConfig QuotaConfig(const std::string& data) {
  ServerConfig c = SimulatedConfig(data, "tiny");  // east 32 and west 16 accelerators
  auto q = ParseQuotasYaml(kQuotas, "quotas");
  EXPECT_TRUE(q.ok()) << q.status().message();
  c.quotas = std::make_shared<const QuotaSpec>(*q);
  return c;
}

int Running(ControlPlane& cp, const std::vector<int64_t>& ids) {
  int n = 0;
  for (int64_t id : ids) n += StateOf(cp, id) == JobState::kRunning;
  return n;
}

const QuotaUse* UseOf(const QuotasView& v, const std::string& center, const std::string& tenant) {
  for (const QuotaUse& u : v.usage)
    if (u.center == center && u.tenant == tenant) return &u;
  return nullptr;
}

TEST(LiveQuotas, ATenantRunsWithinItsQuotaAndTheAdminRaisesItWhileJobsRun) {
  ScratchDir dir;
  auto cp = StartOrDie(QuotaConfig(dir / "data"));
  ASSERT_TRUE(cp);
  // Listed tenants show with their quota before they submit anything.
  auto v0 = cp->Quotas(kAdmin);
  ASSERT_TRUE(v0.ok()) << v0.status().message();
  ASSERT_TRUE(v0->spec);
  const QuotaUse* east0 = UseOf(*v0, "east", "alice");
  ASSERT_NE(east0, nullptr);
  EXPECT_TRUE(east0->limited);
  EXPECT_EQ(east0->nominal, 8);  // 25% of 32
  EXPECT_EQ(east0->borrowing_limit, 0);
  EXPECT_EQ(east0->used, 0);

  // Six 4-accelerator jobs: alice's quarter of each center (8 + 4) holds at
  // most three of them at once, though the network has room for all.
  std::vector<int64_t> alice;
  for (int i = 0; i < 6; ++i) {
    auto r = cp->Submit(kAlice, Gpu(4, 3600));
    ASSERT_TRUE(r.ok()) << r.status().message();
    alice.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return Running(*cp, alice) >= 2; }));
  for (int i = 0; i < 10; ++i) cp->PassNow();
  EXPECT_LE(Running(*cp, alice), 3);
  auto v1 = cp->Quotas(kAdmin);
  ASSERT_TRUE(v1.ok());
  for (const QuotaUse& u : v1->usage) {
    if (u.tenant != "alice") continue;
    EXPECT_LE(u.used, u.nominal) << u.center;
    EXPECT_EQ(u.borrowed, 0) << u.center;
  }
  // A pending job says why it waits: its tenant's quota.
  int64_t waiting = 0;
  for (int64_t id : alice)
    if (StateOf(*cp, id) == JobState::kPending) waiting = id;
  ASSERT_NE(waiting, 0);
  auto w = cp->Get(kAlice, waiting);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->reason.rfind("over quota: its tenant holds ", 0), 0u) << w->reason;
  EXPECT_NE(w->reason.find("guaranteed"), std::string::npos) << w->reason;

  // Bob has no quota: the free capacity is his.
  auto b = cp->Submit(kBob, Gpu(8, 3600));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, b->id) == JobState::kRunning; }));

  // A tenant sees its own quota and use, not others'.
  auto mine = cp->Quotas(kAlice);
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(mine->spec);
  ASSERT_EQ(mine->spec->tenants.size(), 1u);
  EXPECT_EQ(mine->spec->tenants[0].tenant, "alice");
  ASSERT_FALSE(mine->usage.empty());
  for (const QuotaUse& u : mine->usage) EXPECT_EQ(u.tenant, "alice");
  auto bobs = cp->Quotas(kBob);
  ASSERT_TRUE(bobs.ok());
  EXPECT_TRUE(bobs->spec->tenants.empty());
  ASSERT_FALSE(bobs->usage.empty());  // his use, outside the cohort
  for (const QuotaUse& u : bobs->usage) {
    EXPECT_EQ(u.tenant, "bob");
    EXPECT_FALSE(u.limited);
  }

  // Only the admin changes quotas; a bad document changes nothing.
  EXPECT_EQ(cp->SetQuotas(kAlice, std::string("tenants: [{name: alice, nominal: 100%}]")).status().code(),
            StatusCode::kPermissionDenied);
  auto bad = cp->SetQuotas(kAdmin, std::string("tenants: [{name: alice, nominal: 250%}]"));
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("more than 100%"), std::string::npos) << bad.status().message();
  auto still = cp->Quotas(kAdmin);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(UseOf(*still, "east", "alice")->borrowing_limit, 0);

  // The admin lets alice borrow (JSON, as the API takes it): all six run.
  auto raised = cp->SetQuotas(
      kAdmin,
      std::string(
          R"({"cohort": "test", "tenants": [{"name": "alice", "nominal": "25%", "borrowing_limit": "unlimited"},)"
          R"( {"name": "carol", "nominal": "75%"}]})"));
  ASSERT_TRUE(raised.ok()) << raised.status().message();
  EXPECT_EQ(UseOf(*raised, "east", "alice")->borrowing_limit, -1);
  ASSERT_TRUE(WaitFor(*cp, [&] { return Running(*cp, alice) == 6; }));
  auto v2 = cp->Quotas(kAdmin);
  ASSERT_TRUE(v2.ok());
  double borrowed = 0;
  for (const QuotaUse& u : v2->usage)
    if (u.tenant == "alice") borrowed += u.borrowed;
  EXPECT_EQ(borrowed, 24 - 12);  // 24 in use, 8 + 4 guaranteed
  cp->Stop();
  cp.reset();

  // Quotas set through the API outlive a restart, over the config's.
  auto cp2 = StartOrDie(QuotaConfig(dir / "data"));
  ASSERT_TRUE(cp2);
  auto v3 = cp2->Quotas(kAdmin);
  ASSERT_TRUE(v3.ok());
  ASSERT_TRUE(v3->spec);
  ASSERT_EQ(v3->spec->tenants.size(), 2u);
  EXPECT_LT(v3->spec->tenants[0].borrowing_limit, 0);
  EXPECT_EQ(v3->spec->tenants[0].nominal, 0.25);
  // Removed through the API: none, across a restart too.
  auto cleared = cp2->SetQuotas(kAdmin, std::nullopt);
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->spec);
  EXPECT_TRUE(cleared->usage.empty());
  cp2->Stop();
  cp2.reset();
  auto cp3 = StartOrDie(QuotaConfig(dir / "data"));
  ASSERT_TRUE(cp3);
  auto v4 = cp3->Quotas(kAdmin);
  ASSERT_TRUE(v4.ok());
  EXPECT_FALSE(v4->spec);
  cp3->Stop();
}

// A lender takes its guarantee back: the borrower's newest job is preempted
// (it waits again, with its work) and the lender's job starts.
TEST(LiveQuotas, ALenderReclaimsBorrowedAcceleratorsByPreemption) {
  ScratchDir dir;
  ServerConfig c = SimulatedConfig(dir / "data", "tiny");
  c.network = "tiny";
  auto q = ParseQuotasYaml(R"(reclaim: true
tenants:
  - {name: alice, nominal: 50%, borrowing_limit: 0}
  - {name: bob, nominal: 50%, borrowing_limit: unlimited}
)",
                           "quotas");
  ASSERT_TRUE(q.ok()) << q.status().message();
  c.quotas = std::make_shared<const QuotaSpec>(*q);
  c.center_timeout_s = 3600;
  auto cp = StartOrDie(c);
  ASSERT_TRUE(cp);
  // Bob fills the network: 48 accelerators, half of them borrowed from alice.
  std::vector<int64_t> bob;
  for (int i = 0; i < 6; ++i) {
    auto r = cp->Submit(kBob, Gpu(8, 3600));
    ASSERT_TRUE(r.ok()) << r.status().message();
    bob.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return Running(*cp, bob) == 6; }));
  auto a = cp->Submit(kAlice, Gpu(8, 3600));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, a->id) == JobState::kRunning; }));
  // The preempted run's record follows once its center confirms the stop.
  EXPECT_TRUE(WaitFor(*cp, [&] { return Running(*cp, bob) == 5; }));
  bool preempted = false;
  for (int64_t id : bob) {
    auto r = cp->Get(kAdmin, id);
    ASSERT_TRUE(r.ok());
    for (const JobAttempt& at : r->attempts) preempted = preempted || at.outcome == "preempted";
  }
  EXPECT_TRUE(preempted);
  // One run stopped for another job (suanli_job_preemptions_total).
  EXPECT_EQ(cp->Stats().preemptions, 1);
  cp->Stop();
}

TEST(LiveQuotas, TheConfigTakesQuotasInlineOrFromAFileAndNamesTheKeyOnError) {
  ScratchDir dir;
  WriteText(dir / "quotas.yaml", kQuotas);
  WriteText(dir / "file.yaml", "network: tiny\nquotas: quotas.yaml\n");
  auto f = LoadServerConfig(dir / "file.yaml");
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_TRUE(f->quotas);
  ASSERT_EQ(f->quotas->tenants.size(), 2u);
  EXPECT_EQ(f->quotas->tenants[0].tenant, "alice");
  EXPECT_EQ(f->quotas->cohort, "test");

  WriteText(dir / "inline.yaml",
            "network: tiny\nquotas:\n  default: {nominal: 0%, borrowing_limit: 10%}\n  tenants:\n"
            "    - {name: bob, nominal: 16, borrowing_limit: 8}\n");
  auto i = LoadServerConfig(dir / "inline.yaml");
  ASSERT_TRUE(i.ok()) << i.status().message();
  ASSERT_TRUE(i->quotas);
  ASSERT_TRUE(i->quotas->default_quota);
  EXPECT_EQ(i->quotas->tenants[0].nominal, 16);
  EXPECT_FALSE(i->quotas->tenants[0].fraction);

  WriteText(dir / "bad.yaml", "network: tiny\nquotas:\n  tenants:\n    - {name: bob, nominal: 20%, borrowing: 1}\n");
  auto b = LoadServerConfig(dir / "bad.yaml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("borrowing"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("bad.yaml:4"), std::string::npos) << b.status().message();

  WriteText(dir / "missing.yaml", "network: tiny\nquotas: nowhere.yaml\n");
  auto m = LoadServerConfig(dir / "missing.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("quotas"), std::string::npos) << m.status().message();
}

// What the store keeps parses back to the same quotas.
TEST(LiveQuotas, FormattedQuotasParseBackToTheSameSpec) {
  auto q = ParseQuotasYaml(R"(cohort: "a \"b\" c"
reclaim: false
default: {nominal: 7%, borrowing_limit: unlimited}
tenants:
  - {name: x, nominal: 12.5, borrowing_limit: 0.25}
  - {name: "y:z", nominal: 33.3%, borrowing_limit: 10%}
)",
                           "q");
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto back = ParseQuotasYaml(FormatQuotasYaml(*q), "formatted");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << FormatQuotasYaml(*q);
  EXPECT_EQ(back->cohort, q->cohort);
  EXPECT_EQ(back->reclaim, q->reclaim);
  ASSERT_TRUE(back->default_quota);
  EXPECT_EQ(back->default_quota->nominal, q->default_quota->nominal);
  EXPECT_EQ(back->default_quota->borrowing_limit, q->default_quota->borrowing_limit);
  ASSERT_EQ(back->tenants.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->tenants[i].tenant, q->tenants[i].tenant);
    EXPECT_EQ(back->tenants[i].nominal, q->tenants[i].nominal);
    EXPECT_EQ(back->tenants[i].borrowing_limit, q->tenants[i].borrowing_limit);
    EXPECT_EQ(back->tenants[i].fraction, q->tenants[i].fraction);
  }
}

}  // namespace
}  // namespace suanli::live
