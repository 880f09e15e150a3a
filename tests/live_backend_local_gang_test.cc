// Multi-node gangs on a local center (`nodes: K` splits this machine into K
// nodes): the node plan, every task's launcher variables and devices, a
// failed task ending the gang, and a stop with notice reaching every task.
// The GPU host is recorded (nvidia-smi's output), so no GPU is needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"
#include "io/model_loader.h"
#include "live/backend.h"
#include "live/backend_local.h"
#include "live/job_env.h"
#include "support/live_backend.h"
#include "support/live_local.h"

namespace suanli::live {
namespace {

using ::suanli::testing::live_backend::ReadAll;
using ::suanli::testing::live_backend::TempDir;
using ::suanli::testing::live_local::LocalConfig;
using ::suanli::testing::live_local::Request;
using ::suanli::testing::live_local::WaitEnd;
using ::suanli::testing::live_local::WaitOutput;

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  for (std::string_view l : Split(text, '\n'))
    if (!l.empty()) lines.emplace_back(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(LiveBackendLocalGang, NodesSplitTheMachineEvenly) {
  std::vector<DetectedGpu> gpus;
  for (int i = 0; i < 8; ++i) gpus.push_back({i, "NVIDIA A100-SXM4-80GB", 81920, "A100-80GB", true, ""});
  auto plan = PlanLocalNodes("gpu01", gpus, 0, 64, 512000, 2);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].node.name, "gpu01-0");
  EXPECT_EQ(plan[1].node.name, "gpu01-1");
  EXPECT_EQ(plan[1].physical, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(plan[0].node.devices, 4);
  EXPECT_EQ(plan[0].node.cpu_milli, 32000);
  EXPECT_EQ(plan[1].node.mem_mib, 256000);
  // Never a node without a device: 3 GPUs make 3 nodes of 4 asked for.
  gpus.resize(3);
  EXPECT_EQ(PlanLocalNodes("gpu01", gpus, 0, 64, 512000, 4).size(), 3u);
  // CPU slots split as evenly as whole milli-CPUs allow; one node keeps the host's name.
  auto cpu = PlanLocalNodes("box", {}, 3, 8, 1000, 2);
  ASSERT_EQ(cpu.size(), 2u);
  EXPECT_EQ(cpu[0].node.cpu_milli + cpu[1].node.cpu_milli, 3000);
  EXPECT_EQ(PlanLocalNodes("box", {}, 3, 8, 1000, 1).at(0).node.name, "box");

  BackendConfig c = LocalConfig();
  c.nodes = 0;
  EXPECT_FALSE(MakeBackend(c, "here", "/nonexistent", {}).ok());
}

class LiveBackendLocalGangJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    BackendConfig c = LocalConfig();
    c.detect_gpus = true;
    c.nodes = 2;
    // A host with four T4s (recorded), offered as two nodes of two.
    auto b = MakeLocalBackend(c, "here", tmp_.path(), BuiltinCatalog(),
                              std::string("0, Tesla T4, 15360\n1, Tesla T4, 15360\n2, Tesla T4, 15360\n"
                                          "3, Tesla T4, 15360\n"));
    ASSERT_TRUE(b.ok()) << b.status().message();
    backend_ = std::move(b).value();
    auto cap = backend_->Probe();
    ASSERT_TRUE(cap.ok());
    ASSERT_EQ(cap->nodes.size(), 2u);
    nodes_ = cap->nodes[0].name + "," + cap->nodes[1].name;
  }

  // A gang of 2 nodes x 2 T4s running `script`.
  LaunchRequest Job(int64_t id, const std::string& script) {
    LaunchRequest r = Request(id, tmp_.path(), {"sh", "-c", script});
    r.node = nodes_;
    r.model = "T4";
    r.devices = {0, 1, 0, 1};
    r.spec.gpus = 4;
    r.spec.nodes = 2;
    return r;
  }

  TempDir tmp_;
  std::unique_ptr<Backend> backend_;
  std::string nodes_;
};

TEST_F(LiveBackendLocalGangJobs, EveryTaskGetsItsRanksAndItsNodesDevices) {
  LaunchRequest r = Job(1,
                        "echo \"$RANK $LOCAL_RANK $NODE_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $CUDA_VISIBLE_DEVICES "
                        "$MASTER_ADDR $SUANLI_NODELIST $SUANLI_ATTEMPT\"; echo \"$MASTER_PORT\" > port.$RANK");
  r.spec.env = {{"RANK", "99"}, {"WORLD_SIZE", "1"}};  // the launcher's variables win
  auto id = backend_->Launch(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto e = WaitEnd(*backend_, 1, 30);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << ReadAll(tmp_.path() + "/jobs/1/stderr");
  const std::string tail = " 127.0.0.1 " + nodes_ + " 1";
  // Node 1's devices 0 and 1 are the host's third and fourth T4s.
  EXPECT_EQ(SortedLines(ReadAll(tmp_.path() + "/jobs/1/stdout")),
            (std::vector<std::string>{"0 0 0 4 2 0,1" + tail, "1 1 0 4 2 0,1" + tail, "2 0 1 4 2 2,3" + tail,
                                      "3 1 1 4 2 2,3" + tail}));
  // One master port for all, a real one.
  const std::string port = ReadAll(tmp_.path() + "/jobs/1/port.0");
  EXPECT_GT(std::stoi(port), 0);
  for (int rank = 1; rank < 4; ++rank) EXPECT_EQ(ReadAll(tmp_.path() + "/jobs/1/port." + std::to_string(rank)), port);

  // A gang on the wrong number of nodes, or on a node not of this center, is refused.
  LaunchRequest one = Job(2, "true");
  one.node = nodes_.substr(0, nodes_.find(','));
  one.devices = {0, 1};
  EXPECT_FALSE(backend_->Launch(one).ok());
  LaunchRequest unasked = Job(6, "true");  // two nodes for a job of one
  unasked.spec.nodes = 1;
  EXPECT_FALSE(backend_->Launch(unasked).ok());
  LaunchRequest other = Job(3, "true");
  other.node = nodes_ + "x";
  EXPECT_FALSE(backend_->Launch(other).ok());
}

// A job cannot make itself a gang: an environment key written like the
// tasks' mark is an ordinary variable, and the command runs once.
TEST_F(LiveBackendLocalGangJobs, AJobsOwnVariablesCannotAddTasks) {
  LaunchRequest r = Request(7, tmp_.path(), {"sh", "-c", "echo \"run ${RANK:-none}\""});
  r.spec.env = {{std::string(kTaskMark), "x"}, {"A", std::string("1\0", 2) + std::string(kTaskMark)}};
  ASSERT_TRUE(backend_->Launch(r).ok());
  auto e = WaitEnd(*backend_, 7, 30);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason;
  EXPECT_EQ(ReadAll(tmp_.path() + "/jobs/7/stdout"), "run none\n");
}

// One task failing ends the others (as srun --kill-on-bad-exit), and the
// gang fails as that task did.
TEST_F(LiveBackendLocalGangJobs, AFailedTaskEndsTheGang) {
  auto id = backend_->Launch(Job(4, "if [ \"$RANK\" = 2 ]; then sleep 0.3; exit 3; fi; exec sleep 60"));
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto e = WaitEnd(*backend_, 4, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->exit_code, 3) << e->reason;
  EXPECT_NE(ReadAll(tmp_.path() + "/jobs/4/stderr").find("task 2 ended (exit 3)"), std::string::npos)
      << ReadAll(tmp_.path() + "/jobs/4/stderr");
}

// A stop with notice reaches every task; each saves its state in its grace
// time instead of being ended when the first one stops.
TEST_F(LiveBackendLocalGangJobs, AStopWithNoticeReachesEveryTask) {
  auto id = backend_->Launch(Job(5,
                                 "trap 'echo notice > saw.$RANK' USR1; "
                                 "trap 'sleep 0.$RANK; echo saved > saved.$RANK; exit 0' TERM; "
                                 "echo up > up.$RANK; while :; do sleep 0.05; done"));
  ASSERT_TRUE(id.ok()) << id.status().message();
  const std::string dir = tmp_.path() + "/jobs/5/";
  for (int rank = 0; rank < 4; ++rank) ASSERT_TRUE(WaitOutput(dir + "up." + std::to_string(rank)));
  ASSERT_TRUE(backend_->Stop(5, *id, StopNotice{"USR1", 1}).ok());
  auto e = WaitEnd(*backend_, 5, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled) << e->reason;
  for (int rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(ReadAll(dir + "saw." + std::to_string(rank)), "notice\n") << rank;
    EXPECT_EQ(ReadAll(dir + "saved." + std::to_string(rank)), "saved\n") << rank;
  }
}

}  // namespace
}  // namespace suanli::live
