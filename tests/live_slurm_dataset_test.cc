// Datasets on a real Slurm cluster (scripts/slurm/start.sh): a job pinned to
// the Slurm center reads its dataset, copied there by the stage command from
// the local center that holds it, at SUANLI_DATASET_DIR in Slurm's batch
// script.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "live/control.h"
#include "support/cli.h"
#include "support/slurm.h"

namespace suanli::live {
namespace {

using ::suanli::testing::PassUntil;
using ::suanli::testing::ReadText;
using ::suanli::testing::ScratchDir;
using ::suanli::testing::SlurmCenter;
using ::suanli::testing::SlurmCluster;
using ::suanli::testing::SlurmInstalled;

TEST(LiveSlurmDataset, AJobAtASlurmCenterReadsItsDatasetCopiedThere) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c("sld");
  auto up = c.Start(1, 2);
  ASSERT_EQ(up.code, 0) << "start.sh sld:\n" << up.out;
  // No network file: the two centers have no link in the model; a job
  // pinned to the Slurm center is staged all the same.
  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  CenterConfig lab;
  lab.name = "lab";
  lab.backend.kind = "local";
  lab.backend.slots = 1;
  lab.backend.detect_gpus = false;
  lab.data_root = base + "/lab-data";
  cfg.centers.push_back(lab);
  CenterConfig hpc = SlurmCenter("sld", c);
  hpc.data_root = base + "/hpc-data";
  cfg.centers.push_back(hpc);
  cfg.pass_interval_ms = 200;
  std::filesystem::create_directories(lab.data_root + "/alice/weights");
  std::ofstream(lab.data_root + "/alice/weights/w.txt") << "weights-v1\n";
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();

  const Caller alice{"alice", false};
  Dataset d;
  d.name = "weights";
  d.center = "lab";
  ASSERT_TRUE(cp->RegisterDataset(alice, d).ok());
  JobSpec spec;
  spec.command = {
      "sh", "-c",
      "cat \"$SUANLI_DATASET_DIR/w.txt\" > " + base + "/read; echo \"$SUANLI_DATASET_DIR\" >> " + base + "/read"};
  spec.gpus = 1;
  spec.mem_mib = 256;
  spec.time_limit_s = 120;
  spec.center = "sld";
  spec.dataset = "weights";
  auto r = cp->Submit(alice, spec);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return IsTerminal(cp->Get(alice, r->id)->state); }, 90));
  auto g = cp->Get(alice, r->id);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->state, JobState::kSucceeded) << g->reason;
  EXPECT_EQ(ReadText(base + "/read"), "weights-v1\n" + hpc.data_root + "/alice/weights\n");
  bool staged = false;
  for (const JobEvent& e : g->events)
    staged = staged || (e.kind == "staged" && e.message.find("from lab to sld") != std::string::npos);
  EXPECT_TRUE(staged);
  EXPECT_EQ(ReadText(hpc.data_root + "/alice/weights/w.txt"), "weights-v1\n");
  cp->Stop();
}

}  // namespace
}  // namespace suanli::live
