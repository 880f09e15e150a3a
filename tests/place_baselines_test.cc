// The FGD paper's baselines (dot-product, gpu-packing, gpu-clustering) score as
// the artifact does, on small examples.
#include <gtest/gtest.h>

#include "core/policy/place/fgd_baselines.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

PlacementRequest Req(uint32_t gpus, uint16_t milli, int64_t cpu) {
  PlacementRequest r;
  r.num_gpus = gpus;
  r.gpu_milli = milli;
  r.cpu_milli = cpu;
  r.mem_mib = 1024;
  if (gpus > 0) r.models = {0};
  r.models_in_order = false;
  r.allow_multi_node = false;
  return r;
}

void Take(ClusterState& s, uint32_t node, uint32_t devices, uint16_t milli, int64_t cpu = 0) {
  const NodeId n{node};
  Allocation a;
  a.model = 0;
  a.shares.push_back({n, devices, milli, cpu, 0});
  s.Allocate(a);
}

TEST(DotProduct, ScoresOneMinusHalfTheNormalisedDotProduct) {
  SpecNorm norm;  // 128 CPUs, 8 GPUs
  // node (64 CPUs, 4 GPUs free) . task (8 CPUs, 1 GPU) = 0.5 * 0.0625 + 0.5 * 0.125 = 0.09375.
  EXPECT_DOUBLE_EQ(DotProductPlacer::Score(64000, 4000, 8000, 1000, norm), 1.0 - 0.09375 / 2);
  EXPECT_DOUBLE_EQ(DotProductPlacer::Score(128000, 8000, 0, 0, norm), 1.0);
  EXPECT_EQ(DotProductPlacer::IntScore(64000, 4000, 8000, 1000, norm), 95);  // int(95.3125)
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 8}});
  norm.Update(net);  // nodes of 32 CPUs and 8 devices: the artifact's constants stay
  EXPECT_EQ(norm.cpu_milli, 128000);
  EXPECT_EQ(norm.gpu_milli, 8000);
  net.nodes[NodeId{0}].devices = 16;
  net.nodes[NodeId{0}].cpu_milli = 256000;
  SpecNorm big;
  big.Update(net);
  EXPECT_EQ(big.cpu_milli, 256000);
  EXPECT_EQ(big.gpu_milli, 16000);
}

TEST(DotProduct, PrefersTheNodeWhoseFreeResourcesAlignLeast) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 4}});
  ClusterState s(net, cat.size());
  Take(s, 1, 0b0111, 1000, 16000);  // node 1: 1 GPU, 16 CPUs free
  Take(s, 2, 0b0001, 1000);         // node 2: 3 GPUs, 32 CPUs free
  DotProductPlacer p;
  Rng rng(1);
  auto a = p.Place(s, Req(1, 1000, 4000), rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{1});
  // Scores are the artifact's integers: for a small CPU-only task every node scores 99
  // (99.6, 99.8, 99.6), and the lowest id wins.
  auto b = p.Place(s, Req(0, 1000, 4000), rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{0});
  // A large one tells them apart: the node with the least free CPU.
  auto c = p.Place(s, Req(0, 1000, 16000), rng);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shares[0].node, NodeId{1});
}

TEST(GpuPacking, TiersFollowTheArtifact) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 8}, {0, 1, 2}, {0, 1, 4}, {0, 1, 4}});
  ClusterState s(net, cat.size());
  Take(s, 2, 0b0001, 500);   // node 2: device 0 has 500 free
  Take(s, 3, 0b0001, 1000);  // node 3: one device in use, three wholly free
  auto score = [&](uint32_t node, const PlacementRequest& r) {
    const NodeId n{node};
    NodeShare sh;
    EXPECT_TRUE(DefaultShare(s, n, r, &sh));
    return GpuPackingPlacer::Score(s, n, r, sh);
  };
  auto shared = Req(1, 300, 1000), whole = Req(1, 1000, 1000), two = Req(2, 1000, 1000);
  EXPECT_EQ(score(0, shared), 25);  // idle node, 8 free: max(33 - 8, 8)
  EXPECT_EQ(score(1, shared), 31);  // idle node, 2 free: max(33 - 2, 2)
  EXPECT_EQ(score(2, shared), 95);  // shared device with 500 free: 100 - 50 / 10
  EXPECT_EQ(score(3, shared), 49);  // takes one wholly free device on a used node: 50 - 1
  EXPECT_EQ(score(3, two), 48);     // two wholly free devices: 50 - 2
  EXPECT_EQ(score(2, whole), 49);
  EXPECT_EQ(score(0, Req(0, 1000, 1000)), 0);  // CPU-only: no preference

  GpuPackingPlacer p;
  Rng rng(1);
  auto a = p.Place(s, shared, rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{2});
  EXPECT_EQ(a->shares[0].devices, 0b0001u);
  auto b = p.Place(s, whole, rng);  // used nodes before idle ones: node 2 and 3 tie at 49
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{2});
}

TEST(GpuClustering, KeepsTasksOfOneKindTogether) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 8}});
  ClusterState s(net, cat.size());
  Take(s, 0, 0b00000001, 500);  // node 0 holds a shared task
  Take(s, 1, 0b00000001, 500);  // node 1 holds a shared task and a 2-GPU task
  Take(s, 1, 0b00000110, 1000);
  Take(s, 2, 0b00000011, 1000);  // node 2 holds a 2-GPU task
  SpecNorm norm;
  auto shared = Req(1, 200, 1000);
  EXPECT_EQ(s.share_kinds(NodeId{0}), 0b1);
  EXPECT_EQ(s.share_kinds(NodeId{1}), 0b101);
  // base = floor(25 * (8000 - free) / 8000).
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{0}, shared, norm), 75 + 25 * 500 / 8000);
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{1}, shared, norm), 50 + 25 * 2500 / 8000);
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{2}, shared, norm), 0 + 25 * 2000 / 8000);
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{3}, shared, norm), 25);
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{2}, Req(2, 1000, 1000), norm), 75 + 25 * 2000 / 8000);
  EXPECT_EQ(GpuClusteringPlacer::Score(s, NodeId{0}, Req(0, 1000, 1000), norm), 0);

  GpuClusteringPlacer p;
  Rng rng(1);
  auto a = p.Place(s, shared, rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares[0].node, NodeId{0});
  auto b = p.Place(s, Req(2, 1000, 1000), rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shares[0].node, NodeId{2});
  auto c = p.Place(s, Req(4, 1000, 1000), rng);  // no node holds 4-GPU tasks: the idle node 3
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shares[0].node, NodeId{3});
  // Released shares drop their kind.
  Allocation back;
  back.model = 0;
  back.shares.push_back({NodeId{1}, 0b110, 1000, 0, 0});
  s.Release(back);
  EXPECT_EQ(s.share_kinds(NodeId{1}), 0b1);
}

}  // namespace
}  // namespace suanli
