// Multi-node gangs live (a job's `nodes`): the tiny network's simulated
// centers on a clock of the test's own. A gang spread over two nodes is
// placed by Suanli's topology-aware placement on two nodes of one rack, with
// the same number of devices on each; its record, its run and its history
// name both nodes; a gang that cannot be placed waits "on 2 nodes"; a job
// larger than one node without `nodes` is refused, saying how to spread it;
// and a restart keeps each running gang on its nodes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

class Net : public testing::live_control::ClockedNetwork {
 public:
  Net() : ClockedNetwork(*ParseRfc3339("2026-12-07T09:00:00Z")) {}
  Result<JobRecord> Submit(uint32_t gpus, uint32_t nodes, int64_t duration_s) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = gpus;
    s.nodes = nodes;
    s.models = {"A100-80GB"};
    s.cpu_milli = 16000;
    s.mem_mib = 65536;
    s.duration_s = duration_s;
    s.time_limit_s = 3600;
    return ClockedNetwork::Submit(s);
  }
};

// East has 4 nodes of 8 A100s, two per rack.
TEST(LiveGang, TwoNodeGangsAreSpreadEvenlyKeptAcrossARestartAndQueuedOnTwoNodes) {
  Net net;
  auto too_big = net.Submit(16, 1, 600);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("spread it over 2 nodes (nodes: 2)"), std::string::npos)
      << too_big.status().message();
  auto uneven = net.Submit(16, 3, 600);
  ASSERT_FALSE(uneven.ok());
  EXPECT_EQ(uneven.status().field(), "nodes");

  auto a = net.Submit(16, 2, 600), b = net.Submit(8, 2, 1200), c = net.Submit(16, 2, 600);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  JobRecord ra = net.Get(a->id), rb = net.Get(b->id), rc = net.Get(c->id);
  ASSERT_EQ(ra.state, JobState::kRunning) << ra.reason;
  ASSERT_EQ(rb.state, JobState::kRunning) << rb.reason;
  EXPECT_EQ(ra.center, "east");
  // a fills one rack's two nodes; b takes half of each node of the other.
  const auto na = Split(ra.node, ','), nb = Split(rb.node, ',');
  ASSERT_EQ(na.size(), 2u) << ra.node;
  ASSERT_EQ(nb.size(), 2u) << rb.node;
  for (std::string_view n : nb) EXPECT_TRUE(n != na[0] && n != na[1]) << ra.node << " / " << rb.node;
  EXPECT_EQ(ra.devices, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(rb.devices, (std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3}));
  bool started = false;
  for (const JobEvent& e : ra.events)
    started = started || (e.kind == "started" && e.message.find("east nodes " + ra.node) != std::string::npos);
  EXPECT_TRUE(started) << ra.events.back().message;
  // c: 8 free devices are left, but not 8 on each of two nodes.
  EXPECT_EQ(rc.state, JobState::kPending);
  EXPECT_NE(rc.reason.find("on 2 nodes"), std::string::npos) << rc.reason;

  // A restart keeps a and b where they run: c still waits, and starts when a
  // ends, on a's nodes.
  net.Restart();
  EXPECT_EQ(net.Get(a->id).node, ra.node);
  EXPECT_EQ(net.Get(b->id).node, rb.node);
  EXPECT_EQ(net.Get(c->id).state, JobState::kPending) << net.Get(c->id).node;
  net.Advance(601);
  ra = net.Get(a->id);
  EXPECT_EQ(ra.state, JobState::kSucceeded) << ra.reason;
  ASSERT_EQ(ra.attempts.size(), 1u);
  EXPECT_EQ(ra.attempts[0].node, ra.node);
  EXPECT_NEAR(ra.attempts[0].gpu_seconds, 16 * 600.0, 16 * 2.0);
  rc = net.Get(c->id);
  ASSERT_EQ(rc.state, JobState::kRunning) << rc.reason;
  EXPECT_EQ(rc.node, ra.node);
  EXPECT_EQ(net.Get(b->id).state, JobState::kRunning);
}

}  // namespace
}  // namespace suanli::live
