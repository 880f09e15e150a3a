// Shares of one GPU on the project's own Slurm (scripts/slurm/start.sh with
// GRES shards): four jobs of gpus 0.5 on a node of 2 GPUs run at once, two
// on each GPU, each asking Slurm for half a GPU's shards, each seeing its
// share's limits, and each metered for half a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/control.h"
#include "support/slurm.h"

namespace suanli::live {
namespace {

using ::suanli::testing::PassUntil;
using ::suanli::testing::ReadText;
using ::suanli::testing::ScratchDir;
using ::suanli::testing::SlurmCenter;
using ::suanli::testing::SlurmCluster;
using ::suanli::testing::SlurmInstalled;

TEST(LiveSlurmShare, FourHalfGpuJobsShareTwoGpusThroughSlurmShards) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c("slf");
  auto up = c.Start(1, 2, 4);  // 1 node, 2 GPUs, 4 shards each
  ASSERT_EQ(up.code, 0) << "start.sh slf:\n" << up.out;
  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  cfg.centers.push_back(SlurmCenter("slf", c));
  cfg.pass_interval_ms = 200;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();
  ASSERT_EQ(cp->Centers().at(0).devices, 2);

  const Caller alice{"alice", false};
  JobSpec spec;
  spec.command = {"sh", "-c",
                  "echo \"$CUDA_VISIBLE_DEVICES $SLURM_SHARDS_ON_NODE $SUANLI_GPU_SHARE "
                  "$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE ${CUDA_MPS_PINNED_DEVICE_MEM_LIMIT%%=*}\" > " +
                      base + "/share-$SUANLI_JOB_ID; sleep 4"};
  spec.gpus = Gpus::FromMilli(500);
  spec.cpu_milli = 500;
  spec.mem_mib = 256;
  spec.time_limit_s = 120;
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = cp->Submit(alice, spec);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ids.push_back(r->id);
  }
  auto all_ended = [&] {
    for (int64_t id : ids) {
      auto g = cp->Get(alice, id);
      if (!g.ok() || !IsTerminal(g->state)) return false;
    }
    return true;
  };
  ASSERT_TRUE(PassUntil(*cp, all_ended, 90));

  int64_t last_start = 0, first_end = INT64_MAX;
  std::map<std::string, int> per_gpu;  // Slurm's CUDA_VISIBLE_DEVICES -> jobs
  for (int64_t id : ids) {
    auto g = cp->Get(alice, id);
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->state, JobState::kSucceeded) << g->reason;
    EXPECT_EQ(g->spec.gpus, Gpus::FromMilli(500));
    ASSERT_EQ(g->devices.size(), 1u);
    last_start = std::max(last_start, g->start_ms.ms());
    first_end = std::min(first_end, g->end_ms.ms());
    ASSERT_EQ(g->attempts.size(), 1u);
    // Metered for half a device.
    EXPECT_DOUBLE_EQ(g->attempts[0].gpu_seconds, 0.5 * static_cast<double>(g->end_ms - g->start_ms) / 1000.0);
    const std::string line = ReadText(fmt::format("{}/share-{}", base, id));
    // Two of four shards, the share, the MPS thread percentage, device 0's memory limit.
    ASSERT_EQ(line.substr(1), " 2 0.5 50 0\n") << "job " << id << ": " << line;
    ++per_gpu[line.substr(0, 1)];
  }
  // Four jobs of half a GPU ran at once on two GPUs: two on each.
  EXPECT_LT(last_start, first_end);
  EXPECT_EQ(per_gpu, (std::map<std::string, int>{{"0", 2}, {"1", 2}}));
  cp->Stop();
}

}  // namespace
}  // namespace suanli::live
