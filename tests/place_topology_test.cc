// topology: gangs that span nodes stay in the tightest rack, else pod.
#include <set>

#include <gtest/gtest.h>

#include "core/policy/place/topology.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

PlacementRequest Gang(uint32_t gpus) {
  PlacementRequest r;
  r.num_gpus = gpus;
  r.cpu_milli = 1000 * gpus;
  r.mem_mib = 1024;
  r.models = {0};
  return r;
}

// 16 nodes of 4 devices: racks of 4 nodes (0..3), pods of 2 racks (0..1).
// Nodes 1, 2 and 3 have one free device left, so rack 0 has 7 free devices.
struct Cluster {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 16, 4}});
  ClusterState s{net, cat.size()};
  Rng rng{3};
  Cluster() {
    for (uint32_t n = 1; n <= 3; ++n) {
      Allocation a;
      a.model = 0;
      a.shares.push_back({NodeId{n}, 0b0111, 1000, 3000, 0});
      s.Allocate(a);
    }
  }
  std::set<uint32_t> Racks(const Allocation& a) const {
    std::set<uint32_t> r;
    for (const auto& sh : a.shares) r.insert(net.nodes[sh.node].rack);
    return r;
  }
  std::set<uint32_t> Pods(const Allocation& a) const {
    std::set<uint32_t> r;
    for (const auto& sh : a.shares) r.insert(net.nodes[sh.node].pod);
    return r;
  }
};

TEST(Topology, KeepsAGangInTheTightestRack) {
  Cluster c;
  TopologyPlacer p;
  auto a = p.Place(c.s, Gang(6), c.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->NumDevices(), 6);
  EXPECT_EQ(c.Racks(*a), std::set<uint32_t>{0});
  // Most free devices first inside the rack: node 0 (4), then nodes 1 and 2 (1 each).
  ASSERT_EQ(a->shares.size(), 3u);
  EXPECT_EQ(a->shares[0].node, NodeId{0});
  EXPECT_EQ(a->shares[0].NumDevices(), 4);
  EXPECT_EQ(a->shares[1].node, NodeId{1});
  EXPECT_EQ(a->shares[2].node, NodeId{2});
  EXPECT_TRUE(c.s.CanAllocate(*a));

  // The base greedy takes the nodes with the most free devices, across racks.
  auto b = MakePlacer("best-fit")->Place(c.s, Gang(6), c.rng);
  ASSERT_TRUE(b);
  EXPECT_GT(c.Racks(*b).size(), 1u);
}

TEST(Topology, FallsBackToOnePodThenTheWholePool) {
  Cluster c;
  TopologyPlacer p;
  // 20 devices: no rack has them (7, 16, 16, 16); pod 0 has 23, pod 1 has 32: the tighter pod 0.
  auto a = p.Place(c.s, Gang(20), c.rng);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->NumDevices(), 20);
  EXPECT_EQ(c.Pods(*a), std::set<uint32_t>{0});
  // 40 devices: no pod has them; the pool (all nodes) does.
  auto b = p.Place(c.s, Gang(40), c.rng);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->NumDevices(), 40);
  EXPECT_EQ(c.Pods(*b).size(), 2u);
  EXPECT_TRUE(c.s.CanAllocate(*b));
  EXPECT_FALSE(p.Place(c.s, Gang(60), c.rng));  // 55 free in all
}

TEST(Topology, SingleNodeJobsAreBestFit) {
  Cluster c;
  TopologyPlacer p;
  auto best_fit = MakePlacer("best-fit");
  for (uint32_t g : {1u, 2u, 4u}) {
    auto a = p.Place(c.s, Gang(g), c.rng);
    auto b = best_fit->Place(c.s, Gang(g), c.rng);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->shares.size(), 1u);
    EXPECT_EQ(a->shares[0].node, b->shares[0].node);
    EXPECT_EQ(a->shares[0].devices, b->shares[0].devices);
  }
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

PlacementRequest Spread(uint32_t gpus, uint16_t nodes) {
  PlacementRequest r = Gang(gpus);
  r.nodes = nodes;
  return r;
}

// PlaceSpread (a job's `nodes`): exactly that many nodes, the same number of
// devices and share of CPU on each, in the smallest domain that holds them,
// the fullest nodes first.
TEST(Spread, EvenSharesInTheTightestDomainFullestFirst) {
  Cluster c;
  // 8 over 2: only node 0 of rack 0 has 4 free; rack 1 has four such nodes.
  auto a = PlaceSpread(c.s, Spread(8, 2));
  ASSERT_TRUE(a);
  ASSERT_EQ(a->shares.size(), 2u);
  EXPECT_EQ(a->shares[0].node, NodeId{4});
  EXPECT_EQ(a->shares[1].node, NodeId{5});
  for (const NodeShare& sh : a->shares) {
    EXPECT_EQ(sh.NumDevices(), 4);
    EXPECT_EQ(sh.cpu_milli, 4000);
  }
  // 2 over 2: every rack has four nodes with a free device; rack 0 (the
  // lowest) it is, on its fullest nodes (one free device each).
  a = PlaceSpread(c.s, Spread(2, 2));
  ASSERT_TRUE(a);
  ASSERT_EQ(a->shares.size(), 2u);
  EXPECT_EQ(a->shares[0].node, NodeId{1});
  EXPECT_EQ(a->shares[1].node, NodeId{2});
  // 20 over 5: no rack has five nodes with 4 free; pod 0 (racks 0 and 1) has.
  a = PlaceSpread(c.s, Spread(20, 5));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shares.size(), 5u);
  EXPECT_EQ(c.Pods(*a), std::set<uint32_t>{0});
  EXPECT_EQ(c.Racks(*a), (std::set<uint32_t>{0, 1}));
  // Never two shares on one node, never a node short of its share.
  std::set<NodeId> seen;
  for (const NodeShare& sh : a->shares) {
    EXPECT_TRUE(seen.insert(sh.node).second);
    EXPECT_EQ(sh.NumDevices(), 4);
  }
}

TEST(Spread, NoPlacementWhenTheNodesOrTheSplitAreMissing) {
  Cluster c;
  EXPECT_FALSE(PlaceSpread(c.s, Spread(16, 3)));   // 16 / 3 is not whole
  EXPECT_FALSE(PlaceSpread(c.s, Spread(56, 14)));  // 13 nodes have 4 free
  EXPECT_TRUE(PlaceSpread(c.s, Spread(52, 13)));
  EXPECT_FALSE(PlaceSpread(c.s, Spread(10, 2)));  // 5 per node: nodes have 4
}

}  // namespace
}  // namespace suanli
