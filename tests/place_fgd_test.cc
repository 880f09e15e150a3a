// fgd: picks the node and device that increase expected fragmentation least.
#include <gtest/gtest.h>

#include "core/policy/place/fgd.h"
#include "core/policy/place/fragmentation.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

TaskShape Shape(uint32_t gpus, uint16_t milli, int64_t cpu, double w) {
  TaskShape t;
  t.num_gpus = gpus;
  t.gpu_milli = milli;
  t.cpu_milli = cpu;
  t.mem_mib = 1024;
  t.weight = w;
  return t;
}

PlacementRequest Req(uint32_t gpus, uint16_t milli, int64_t cpu, std::vector<ModelId> models = {0}) {
  PlacementRequest r;
  r.num_gpus = gpus;
  r.gpu_milli = milli;
  r.cpu_milli = cpu;
  r.mem_mib = 1024;
  if (gpus > 0) r.models = std::move(models);
  r.models_in_order = false;
  r.allow_multi_node = false;
  return r;
}

void Take(ClusterState& s, uint32_t node, uint32_t devices, uint16_t milli, int64_t cpu = 0) {
  const NodeId n{node};
  Allocation a;
  a.model = s.network().nodes[n].model;
  a.shares.push_back({n, devices, milli, cpu, 0});
  s.Allocate(a);
}

struct Fixture {
  Catalog cat = testing::TestCatalog();
  Rng rng{1};
};

TEST(Fgd, AvoidsTheFragmentationBestFitCauses) {
  Fixture f;
  // Node 0: one device, free. Node 1: two devices, device 0 has 700 free.
  Network net = testing::TestNetwork({{0, 1, 1}, {0, 1, 2}});
  ClusterState s(net, f.cat.size());
  Take(s, 1, 0b01, 300);
  auto req = Req(1, 500, 1000);

  // best-fit leaves the least free capacity: node 0 (0.5 free) over node 1 (0.6 free)...
  auto bf = MakePlacer("best-fit");
  auto a = bf->Place(s, req, f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{0});

  // ...which strands 500 on node 0 for whole-device tasks; fgd tops up node 1's partly used device.
  FgdPlacer fgd;
  fgd.SetTaskMix({Shape(1, 1000, 1000, 1.0)});
  auto b = fgd.Place(s, req, f.rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{1});
  EXPECT_EQ(b->shares[0].devices, 0b01u);
  EXPECT_EQ(b->shares[0].milli, 500);
}

TEST(Fgd, TriesEveryDeviceForASharedTask) {
  Fixture f;
  Network net = testing::TestNetwork({{0, 1, 3}});
  ClusterState s(net, f.cat.size());
  Take(s, 0, 0b010, 400);  // free {1000, 600, 1000}
  Take(s, 0, 0b100, 650);  // free {1000, 600, 350}
  // Mix: shares of 350. Placing 300 on device 2 (the fullest fit) leaves 50, on device 1 leaves
  // 300: both below 350. Device 0 keeps 700 usable: no fragmentation.
  FgdPlacer fgd;
  fgd.SetTaskMix({Shape(1, 350, 1000, 1.0)});
  auto a = fgd.Place(s, Req(1, 300, 1000), f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].devices, 0b001u);
  // The default device choice (best fit inside the node) would take device 2.
  NodeShare def;
  ASSERT_TRUE(DefaultShare(s, NodeId{0}, Req(1, 300, 1000), &def));
  EXPECT_EQ(def.devices, 0b100u);
}

TEST(Fgd, TiesGoToTheLowestNodeThenDevice) {
  Fixture f;
  Network net = testing::TestNetwork({{0, 3, 4}});
  ClusterState s(net, f.cat.size());
  FgdPlacer fgd;
  fgd.SetTaskMix({Shape(1, 1000, 1000, 0.5), Shape(1, 500, 1000, 0.5)});
  auto a = fgd.Place(s, Req(1, 500, 1000), f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{0});
  EXPECT_EQ(a->shares[0].devices, 0b0001u);
  s.Allocate(*a);
  // The second half-device task completes device 0 of node 0 (no fragmentation left).
  auto b = fgd.Place(s, Req(1, 500, 1000), f.rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{0});
  EXPECT_EQ(b->shares[0].devices, 0b0001u);
}

TEST(Fgd, ArtifactVariantQuantisesTheScore) {
  Fixture f;
  Network net = testing::TestNetwork({{0, 2, 2}});
  ClusterState s(net, f.cat.size());
  Take(s, 1, 0b01, 10);  // node 1: free {990, 1000}
  // Mix: shares of 600. A 500 share raises fragmentation by 500 on node 0 (device left
  // with 500) and by 490 on node 1 (device 0 left with 490).
  TaskMix mix = {Shape(1, 600, 1000, 1.0)};
  FgdPlacer exact;
  exact.SetTaskMix(mix);
  auto a = exact.Place(s, Req(1, 500, 1000), f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{1});
  EXPECT_EQ(a->shares[0].devices, 0b01u);
  // int(100 * sigmoid(-0.49)) == int(100 * sigmoid(-0.5)) == 37: a tie, the lowest id wins.
  auto quantised = MakePlacer("fgd-artifact");
  ASSERT_TRUE(quantised);
  EXPECT_EQ(quantised->name(), "fgd-artifact");
  quantised->SetTaskMix(mix);
  auto b = quantised->Place(s, Req(1, 500, 1000), f.rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{0});
  EXPECT_EQ(b->shares[0].devices, 0b01u);
}

TEST(Fgd, CpuOnlyTasksAvoidStrandingGpus) {
  Fixture f;
  // Node 0: GPU node (4 devices, 32 cores); node 1: CPU-only.
  Network net = testing::TestNetwork({{0, 1, 4}, {kNoModel, 1, 0}});
  ClusterState s(net, f.cat.size());
  FgdPlacer fgd;
  // GPU tasks need 16 cores: a 20-core CPU task on node 0 would strand its 4 GPUs.
  fgd.SetTaskMix({Shape(1, 1000, 16000, 0.8), Shape(0, 1000, 20000, 0.2)});
  auto a = fgd.Place(s, Req(0, 1000, 20000), f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{1});
  EXPECT_EQ(a->shares[0].devices, 0u);
}

TEST(Fgd, RespectsModelsAndCachesAcrossStateChanges) {
  Fixture f;
  Network net = testing::TestNetwork({{0, 2, 2}, {1, 2, 2}});
  ClusterState s(net, f.cat.size());
  FgdPlacer fgd;
  fgd.SetTaskMix({Shape(1, 1000, 1000, 1.0)});
  // Only model 1 accepted: nodes 2 and 3.
  for (int i = 0; i < 4; ++i) {
    auto a = fgd.Place(s, Req(1, 1000, 1000, {1}), f.rng);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->model, 1);
    EXPECT_GE(a->shares[0].node, NodeId{2});
    ASSERT_TRUE(s.CanAllocate(*a));
    s.Allocate(*a);
  }
  EXPECT_FALSE(fgd.Place(s, Req(1, 1000, 1000, {1}), f.rng));
  // Releasing a task makes its node usable again (the cached score is revalidated).
  Allocation back;
  back.model = 1;
  back.shares.push_back({NodeId{3}, 0b10, 1000, 1000, 1024});
  s.Release(back);
  auto a = fgd.Place(s, Req(1, 1000, 1000, {1}), f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{3});
  EXPECT_EQ(a->shares[0].devices, 0b10u);
}

TEST(Fgd, WithoutAMixLearnsFromRequests) {
  Fixture f;
  Network net = testing::TestNetwork({{0, 1, 1}, {0, 1, 2}});
  ClusterState s(net, f.cat.size());
  Take(s, 1, 0b01, 300);
  FgdPlacer fgd;
  // Having seen whole-device requests, a share goes where it strands the least.
  for (JobId j : Ids<JobId>(7)) {
    auto r = Req(1, 1000, 1000);
    r.job = j;
    ASSERT_TRUE(fgd.Place(s, r, f.rng));  // not applied: only observed
  }
  auto r = Req(1, 500, 1000);
  r.job = JobId{7};
  auto a = fgd.Place(s, r, f.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{1});
}

}  // namespace
}  // namespace suanli
