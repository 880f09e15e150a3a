// A service's replica on the project's own Slurm (scripts/slurm/start.sh):
// sent with no --time of its own, it is started again as a new Slurm job
// after it exits, each run an attempt, and it stops when scaled to none.
#include <gtest/gtest.h>

#include <string>

#include "live/control.h"
#include "support/slurm.h"

namespace suanli::live {
namespace {

using ::suanli::testing::PassUntil;
using ::suanli::testing::ScratchDir;
using ::suanli::testing::SlurmCenter;
using ::suanli::testing::SlurmCluster;
using ::suanli::testing::SlurmInstalled;

TEST(LiveSlurmService, AReplicaThatExitsIsStartedAgainAsANewSlurmJob) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  SlurmCluster c("svc");
  auto up = c.Start(1, 1);
  ASSERT_EQ(up.code, 0) << "start.sh svc:\n" << up.out;
  ServerConfig cfg;
  cfg.data_dir = scratch.path() + "/data";
  cfg.centers.push_back(SlurmCenter("svc", c));
  cfg.pass_interval_ms = 200;
  cfg.restart_backoff_s = 1;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();

  const Caller alice{"alice", false};
  JobSpec spec;
  spec.command = {"sh", "-c", "sleep 1; exit 4"};
  spec.cpu_milli = 500;
  spec.mem_mib = 256;
  spec.replicas = 1;
  auto svc = cp->Submit(alice, spec);
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  const int64_t id = svc->id;
  // Two runs ended, and a third under way or waiting to start.
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return cp->Get(alice, id)->attempts.size() >= 2; }, 90));
  JobRecord r = *cp->Get(alice, id);
  EXPECT_FALSE(IsTerminal(r.state)) << r.reason;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.attempts[i].outcome, "failed") << i;
    EXPECT_EQ(r.attempts[i].center, "svc");
  }
  EXPECT_GE(r.attempts[1].start_ms - r.attempts[0].end_ms, 1000);  // the backoff
  // Each restart is in its history.
  int restarts = 0;
  for (const JobEvent& e : r.events) restarts += e.kind == "restarting";
  EXPECT_GE(restarts, 2);

  auto none = cp->Scale(alice, id, 0);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return IsTerminal(cp->Get(alice, id)->state); }, 60));
  EXPECT_EQ(cp->Get(alice, id)->state, JobState::kCancelled);
  cp->Stop();
}

}  // namespace
}  // namespace suanli::live
