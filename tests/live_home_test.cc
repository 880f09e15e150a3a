// A home center per tenant, live: given when the admin creates the tenant or
// assigned then (the center home to the fewest tenants), kept in the store
// across restarts, and where the `isolated` dispatch policy keeps the
// tenant's jobs. The tiny network's simulated centers, east and west.
#include <gtest/gtest.h>

#include <string>

#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using testing::live_control::kAdmin;
using testing::live_control::ScratchDir;
using testing::live_control::SimulatedConfig;
using testing::live_control::StartOrDie;
using testing::live_control::WaitFor;

Tenant Named(const std::string& name, const std::string& home = "") {
  Tenant t;
  t.name = name;
  t.home = home;
  return t;
}

std::string HomeOf(ControlPlane& cp, const std::string& name) {
  auto all = cp.Tenants(kAdmin);
  if (!all.ok()) return "?";
  for (const Tenant& t : *all)
    if (t.name == name) return t.home;
  return "?";
}

JobSpec Any(uint32_t gpus) {
  JobSpec s;
  s.command = {"train"};
  s.gpus = gpus;
  s.time_limit_s = 600;
  return s;
}

TEST(LiveHome, AssignedOrGivenKeptAcrossRestartsAndWhereIsolatedRunsTheJobs) {
  ScratchDir dir;
  ServerConfig c = SimulatedConfig(dir / "data", "tiny");
  c.dispatch = "isolated";
  c.admin_token = "an-admin-token-of-16-bytes";
  {
    auto cp = StartOrDie(c);
    ASSERT_TRUE(cp);
    // The admin, made at the first start, is at home in east (the first
    // center); each new tenant goes to the center home to the fewest.
    EXPECT_EQ(HomeOf(*cp, "admin"), "east");
    ASSERT_TRUE(cp->CreateTenant(kAdmin, Named("alice")).ok());
    EXPECT_EQ(HomeOf(*cp, "alice"), "west");
    ASSERT_TRUE(cp->CreateTenant(kAdmin, Named("bob", "west")).ok());
    EXPECT_EQ(HomeOf(*cp, "bob"), "west");
    ASSERT_TRUE(cp->CreateTenant(kAdmin, Named("carol")).ok());
    EXPECT_EQ(HomeOf(*cp, "carol"), "east");
    auto bad = cp->CreateTenant(kAdmin, Named("dave", "north"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().field(), "home");
    EXPECT_NE(bad.status().message().find("east, west"), std::string::npos) << bad.status().message();
    // A tenant sees its own home.
    auto mine = cp->Tenants(Caller{"alice", false});
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->size(), 1u);
    EXPECT_EQ((*mine)[0].home, "west");
    cp->Stop();
  }
  // Restarted: the same homes, and isolated dispatch keeps each tenant's
  // jobs at its home, though east has room for all of them.
  auto cp = StartOrDie(c);
  ASSERT_TRUE(cp);
  EXPECT_EQ(HomeOf(*cp, "admin"), "east");
  EXPECT_EQ(HomeOf(*cp, "alice"), "west");
  EXPECT_EQ(HomeOf(*cp, "bob"), "west");
  EXPECT_EQ(HomeOf(*cp, "carol"), "east");
  std::vector<std::pair<int64_t, std::string>> jobs;
  for (const char* who : {"alice", "bob", "carol", "carol"}) {
    auto r = cp->Submit(Caller{who, false}, Any(8));
    ASSERT_TRUE(r.ok()) << r.status().message();
    jobs.emplace_back(r->id, HomeOf(*cp, who));
  }
  ASSERT_TRUE(WaitFor(*cp, [&] {
    for (const auto& [id, home] : jobs) {
      auto r = cp->Get(kAdmin, id);
      if (!r.ok() || r->state != JobState::kRunning) return false;
    }
    return true;
  }));
  for (const auto& [id, home] : jobs) EXPECT_EQ(cp->Get(kAdmin, id)->center, home) << "job " << id;
  // A job its home cannot run (west has no A100s) is refused at once.
  JobSpec a100 = Any(8);
  a100.models = {"A100-80GB"};
  auto r = cp->Submit(Caller{"alice", false}, a100);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(cp->Get(kAdmin, r->id)->state); }));
  EXPECT_EQ(cp->Get(kAdmin, r->id)->state, JobState::kFailed);
  EXPECT_NE(cp->Get(kAdmin, r->id)->reason.find("home center west"), std::string::npos)
      << cp->Get(kAdmin, r->id)->reason;
}

}  // namespace
}  // namespace suanli::live
