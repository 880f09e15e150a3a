// Fragmentation (fragmentation.h) against hand-computed values, and the task mix.
#include <gtest/gtest.h>

#include "core/policy/place/fragmentation.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

TaskShape Shape(uint32_t gpus, uint16_t milli, int64_t cpu, int64_t mem, double w = 1.0, ModelMask models = 0) {
  TaskShape t;
  t.num_gpus = gpus;
  t.gpu_milli = milli;
  t.cpu_milli = cpu;
  t.mem_mib = mem;
  t.models = models;
  t.weight = w;
  return t;
}

// One node of model 0 with devices {1000, 1000, 500, 200}: 2700 free, 8 cores, 64 GiB free.
struct SmallNode {
  uint16_t dev[4] = {1000, 1000, 500, 200};
  int64_t cpu = 8000, mem = 65536;
  int64_t F(const TaskShape& t, ModelId model = 0) const { return TaskFragmentation(t, model, cpu, mem, dev, 4); }
};

TEST(Fragmentation, SharedTaskCountsDevicesWithLessThanItsShare) {
  SmallNode n;
  EXPECT_EQ(n.F(Shape(1, 300, 1000, 1024)), 200);        // only the 200-free device is too small
  EXPECT_EQ(n.F(Shape(1, 600, 1000, 1024)), 500 + 200);  // 500 and 200 are too small
  EXPECT_EQ(n.F(Shape(1, 100, 1000, 1024)), 0);          // every device can take it
}

TEST(Fragmentation, WholeDeviceTaskCountsPartlyUsedDevices) {
  SmallNode n;
  EXPECT_EQ(n.F(Shape(1, 1000, 1000, 1024)), 700);
  EXPECT_EQ(n.F(Shape(2, 1000, 1000, 1024)), 700);
  // Three whole devices do not fit: everything free is fragmented.
  EXPECT_EQ(n.F(Shape(3, 1000, 1000, 1024)), 2700);
}

TEST(Fragmentation, UnplaceableTaskCountsEverything) {
  SmallNode n;
  EXPECT_EQ(n.F(Shape(1, 300, 1000, 1024, 1.0, ModelMask{1} << 1)), 2700);  // wrong model
  EXPECT_EQ(n.F(Shape(1, 300, 1000, 1024, 1.0, ModelMask{1} << 0)), 200);   // right model
  EXPECT_EQ(n.F(Shape(1, 300, 9000, 1024)), 2700);                          // not enough CPU
  EXPECT_EQ(n.F(Shape(1, 300, 1000, 70000)), 2700);                         // not enough memory
  EXPECT_EQ(n.F(Shape(0, 1000, 1000, 1024)), 2700);                         // CPU-only: no GPU use at all
  EXPECT_EQ(n.F(Shape(1, 300, 1000, 1024), kNoModel), 2700);
}

TEST(Fragmentation, MixIsTheExpectationOverShapes) {
  SmallNode n;
  // 0.5 x 200 + 0.25 x 700 + 0.25 x 2700 = 950.
  TaskMix mix = {Shape(1, 300, 1000, 1024, 0.5), Shape(1, 1000, 1000, 1024, 0.25), Shape(0, 1000, 500, 512, 0.25)};
  FragModel m(mix);
  EXPECT_EQ(m.weight_sum(), FragModel::kWeightScale);
  EXPECT_DOUBLE_EQ(m.ToMilli(m.NodeFragScaled(0, n.cpu, n.mem, n.dev, 4)), 950.0);
  // Less CPU than the GPU tasks need: everything free is fragmented.
  EXPECT_DOUBLE_EQ(m.ToMilli(m.NodeFragScaled(0, 500, n.mem, n.dev, 4)), 2700.0);
  // A node of another model than the (unconstrained) shapes still counts them.
  EXPECT_DOUBLE_EQ(m.ToMilli(m.NodeFragScaled(3, n.cpu, n.mem, n.dev, 4)), 950.0);
}

TEST(Fragmentation, ModelAgreesWithTheDefinitionOnRandomStates) {
  Rng r(7);
  TaskMix mix;
  for (int i = 0; i < 40; ++i) {
    uint32_t gpus = static_cast<uint32_t>(r.Below(4));
    uint16_t milli = gpus == 1 && r.Below(2) ? static_cast<uint16_t>(50 * (1 + r.Below(19))) : 1000;
    ModelMask models = r.Below(3) == 0 ? ModelMask{1} << r.Below(3) : 0;
    mix.push_back(Shape(gpus, milli, 1000 * static_cast<int64_t>(r.Below(16)), 1024 * static_cast<int64_t>(r.Below(64)),
                        1.0 / 32 * (1 + static_cast<double>(r.Below(4))), models));
  }
  double wsum = 0;
  for (const auto& t : mix) wsum += t.weight;
  FragModel m(mix);
  for (int trial = 0; trial < 500; ++trial) {
    uint16_t dev[8];
    int nd = 1 + static_cast<int>(r.Below(8));
    for (int d = 0; d < nd; ++d) dev[d] = static_cast<uint16_t>(r.Below(3) == 0 ? 1000 : 50 * r.Below(21));
    ModelId model = static_cast<ModelId>(r.Below(3));
    int64_t cpu = 1000 * static_cast<int64_t>(r.Below(20)), mem = 1024 * static_cast<int64_t>(r.Below(80));
    double expect = 0;
    for (const auto& t : mix)
      expect += t.weight / wsum * static_cast<double>(TaskFragmentation(t, model, cpu, mem, dev, nd));
    EXPECT_NEAR(m.ToMilli(m.NodeFragScaled(model, cpu, mem, dev, nd)), expect, 0.05) << "trial " << trial;
  }
}

TEST(Fragmentation, ClusterSumsItsNodes) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}, {kNoModel, 1, 0}});
  ClusterState s(net, cat.size());
  FragModel m({Shape(1, 1000, 1000, 1024, 0.5), Shape(0, 1000, 1000, 1024, 0.5)});
  // Empty: whole-device tasks fit everywhere; CPU-only tasks strand all 8 devices.
  EXPECT_DOUBLE_EQ(m.ClusterFragmentation(s), 0.5 * 8000);
  Allocation a;
  a.model = 0;
  a.shares.push_back({NodeId{0}, 0b1, 400, 1000, 1024});
  s.Allocate(a);
  // Node 0: 3600 free, 600 of it on a partly used device.
  EXPECT_DOUBLE_EQ(m.NodeFragmentation(s, NodeId{0}), 0.5 * 600 + 0.5 * 3600);
  EXPECT_DOUBLE_EQ(m.NodeFragmentation(s, NodeId{2}), 0.0);  // CPU-only node
  EXPECT_DOUBLE_EQ(m.ClusterFragmentation(s), 0.5 * 600 + 0.5 * 3600 + 0.5 * 4000);
}

TEST(TaskMix, GroupsIdenticalShapesByFrequency) {
  Workload w;
  auto add = [&](uint32_t gpus, uint16_t milli, int64_t cpu, int n, ModelMask models = 0) {
    for (int i = 0; i < n; ++i) {
      Job j;
      j.id = static_cast<JobId>(w.jobs.size());
      j.num_gpus = gpus;
      j.gpu_milli = milli;
      j.cpu_milli = cpu;
      j.mem_mib = 2048;
      j.models = models;
      w.jobs.push_back(j);
    }
  };
  add(1, 500, 4000, 3);
  add(1, 1000, 8000, 5);
  add(0, 1000, 2000, 2);
  add(1, 500, 4000, 1, 1);  // same shape, but a model constraint: its own entry
  add(64, 1000, 8000, 4);   // never fits a node: left out
  TaskMix mix = ComputeTaskMix(w);
  ASSERT_EQ(mix.size(), 4u);
  EXPECT_EQ(mix[0].num_gpus, 1u);
  EXPECT_EQ(mix[0].gpu_milli, 1000);
  EXPECT_DOUBLE_EQ(mix[0].weight, 5.0 / 11);
  EXPECT_EQ(mix[1].gpu_milli, 500);
  EXPECT_DOUBLE_EQ(mix[1].weight, 3.0 / 11);
  EXPECT_EQ(mix[2].num_gpus, 0u);
  EXPECT_DOUBLE_EQ(mix[2].weight, 2.0 / 11);
  EXPECT_EQ(mix[3].models, 1u);
  // Truncation keeps the most frequent shapes and renormalises.
  TaskMix top = ComputeTaskMix(w, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_DOUBLE_EQ(top[0].weight, 5.0 / 8);
  EXPECT_DOUBLE_EQ(top[1].weight, 3.0 / 8);
}

}  // namespace
}  // namespace suanli
