// Typed conformance suites: one per interface (Placer, OrderPolicy,
// Dispatcher), instantiated for every implementation, so a new one is
// checked by adding its type to the list. The Backend suite is in
// live_backend_conformance_test.cc; the simulator-level invariants of every
// ORDER+BACKFILL+PLACEMENT combination in conformance_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/network/network_scheduler.h"
#include "core/policy/order/orders.h"
#include "core/policy/place/basic.h"
#include "core/policy/place/fgd.h"
#include "core/policy/place/fgd_baselines.h"
#include "core/policy/place/topology.h"
#include "sim/engine.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;
using testing::TestCatalog;
using testing::TestNetwork;

// ------------------------------------------------------------------ Placer

template <typename T>
class PlacerConformance : public ::testing::Test {
 protected:
  Catalog cat = TestCatalog();
  // Model A: 3 nodes x 8; model B: 2 nodes x 4; CPU-only: 1 node.
  Network net = TestNetwork({{0, 3, 8}, {1, 2, 4}, {kNoModel, 1, 0}});
  ClusterState state{net, cat.size()};
  T placer;

  // Fills the cluster with random shares (whole devices and parts).
  void Fill(uint64_t seed) {
    Rng r(seed);
    for (int i = 0; i < 40; ++i) {
      PlacementRequest req = Request(r);
      FirstFitPlacer ff;
      if (auto a = ff.Place(state, req, r)) state.Allocate(*a);
    }
  }
  static PlacementRequest Request(Rng& r) {
    PlacementRequest req;
    const uint64_t kind = r.Below(4);
    req.num_gpus = kind == 0 ? 1 : kind == 1 ? 0 : static_cast<uint32_t>(1 + r.Below(8));
    req.gpu_milli = kind == 0 ? static_cast<uint16_t>(100 * (1 + r.Below(9))) : kWholeDevice;
    req.cpu_milli = 1000 * static_cast<int64_t>(1 + r.Below(4));
    req.mem_mib = 1024 * static_cast<int64_t>(1 + r.Below(8));
    if (req.num_gpus > 0) req.models = r.Below(2) ? std::vector<ModelId>{0} : std::vector<ModelId>{0, 1};
    return req;
  }
};

using PlacerTypes = ::testing::Types<FirstFitPlacer, BestFitPlacer, RandomPlacer, DotProductPlacer, GpuPackingPlacer,
                                     GpuClusteringPlacer, FgdPlacer, FgdArtifactPlacer, TopologyPlacer>;
TYPED_TEST_SUITE(PlacerConformance, PlacerTypes);

TYPED_TEST(PlacerConformance, IsInTheRegistryUnderItsName) {
  auto made = MakePlacer(this->placer.name());
  ASSERT_NE(made, nullptr) << this->placer.name();
  EXPECT_EQ(made->name(), this->placer.name());
}

TYPED_TEST(PlacerConformance, PlacesExactlyTheRequestOnFreeCapacityOfAnAcceptedModel) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    this->Fill(seed);
    Rng r(seed * 7);
    for (int i = 0; i < 30; ++i) {
      PlacementRequest req = this->Request(r);
      const uint64_t generation = this->state.generation();
      auto a = this->placer.Place(this->state, req, r);
      EXPECT_EQ(this->state.generation(), generation) << "a placer does not change the state";
      if (!a) continue;
      EXPECT_TRUE(this->state.CanAllocate(*a));
      EXPECT_EQ(a->GpuMilli(), int64_t{req.num_gpus} * req.gpu_milli);
      int64_t cpu = 0, mem = 0;
      for (const auto& sh : a->shares) {
        cpu += sh.cpu_milli;
        mem += sh.mem_mib;
        if (sh.devices) {
          EXPECT_EQ(this->net.nodes[sh.node].model, a->model);
        }
      }
      EXPECT_EQ(cpu, req.cpu_milli);
      EXPECT_EQ(mem, req.mem_mib);
      if (req.num_gpus > 0) {
        EXPECT_NE(std::find(req.models.begin(), req.models.end(), a->model), req.models.end());
      }
      if (req.IsShared()) {
        ASSERT_EQ(a->shares.size(), 1u);
        EXPECT_EQ(a->shares[0].NumDevices(), 1);
      }
      this->state.Allocate(*a);
    }
    this->state = ClusterState(this->net, this->cat.size());
  }
}

TYPED_TEST(PlacerConformance, WithoutRoomFailsAtOnceWithoutDrawingRandomNumbers) {
  PlacementRequest req;
  req.num_gpus = 8;
  req.cpu_milli = 1000;
  req.mem_mib = 1024;
  req.models = {1};  // model B has 4-device nodes and 8 devices in all
  Rng r(3);
  FirstFitPlacer ff;
  PlacementRequest four = req;
  four.num_gpus = 4;
  auto taken = ff.Place(this->state, four, r);
  ASSERT_TRUE(taken);
  this->state.Allocate(*taken);
  ASSERT_FALSE(RoomFor(this->state, req));
  Rng a(99), b(99);
  EXPECT_FALSE(this->placer.Place(this->state, req, a));
  EXPECT_EQ(a.Next(), b.Next()) << "no random number drawn";
}

TYPED_TEST(PlacerConformance, SameSeedSamePlacement) {
  this->Fill(5);
  for (int i = 0; i < 50; ++i) {
    Rng q(static_cast<uint64_t>(i));
    PlacementRequest req = this->Request(q);
    Rng a(11 + static_cast<uint64_t>(i)), b(11 + static_cast<uint64_t>(i));
    TypeParam other;
    auto x = this->placer.Place(this->state, req, a);
    auto y = other.Place(this->state, req, b);
    ASSERT_EQ(x.has_value(), y.has_value());
    if (!x) continue;
    ASSERT_EQ(x->shares.size(), y->shares.size());
    EXPECT_EQ(x->model, y->model);
    for (size_t k = 0; k < x->shares.size(); ++k) {
      EXPECT_EQ(x->shares[k].node, y->shares[k].node);
      EXPECT_EQ(x->shares[k].devices, y->shares[k].devices);
    }
  }
}

// ------------------------------------------------------------- OrderPolicy

template <typename T>
class OrderConformance : public ::testing::Test {
 protected:
  Catalog cat = TestCatalog();
  Network net = TestNetwork({{0, 2, 8}});
  T order;
};

using OrderTypes = ::testing::Types<FifoOrder, SjfOrder, SrtfOrder, LasOrder, QssfOrder, DrfOrder>;
TYPED_TEST_SUITE(OrderConformance, OrderTypes);

TYPED_TEST(OrderConformance, IsInTheRegistryUnderItsName) {
  auto made = MakeOrderPolicy(this->order.name());
  ASSERT_NE(made, nullptr) << this->order.name();
  EXPECT_EQ(made->name(), this->order.name());
  EXPECT_EQ(made->preemptive(), this->order.preemptive());
}

TYPED_TEST(OrderConformance, SortsAPermutationWithHigherPrioritiesFirstAndTheSameWayTwice) {
  Workload w;
  w.tenants.Intern("a");
  w.tenants.Intern("b");
  Rng r(4);
  IdVector<JobId, JobRuntime> rt;
  for (int i = 0; i < 60; ++i) {
    Job j = MakeJob(Seconds(static_cast<int64_t>(r.Below(1000))), static_cast<uint32_t>(1 + r.Below(8)),
                    static_cast<double>(10 + r.Below(5000)));
    j.priority = static_cast<int32_t>(r.Below(3));
    j.tenant = TenantId(static_cast<uint32_t>(r.Below(2)));
    j.estimate = j.work * 1.5;
    w.Add(j, "j" + std::to_string(i));
    JobRuntime x;
    x.state = JobState::kPending;
    x.remaining = j.work;
    x.est_remaining = j.estimate;
    x.queued_since = j.submit;
    rt.push_back(x);
  }
  OrderContext ctx;
  ctx.now = Seconds(2000);
  ctx.workload = &w;
  ctx.catalog = &this->cat;
  ctx.network = &this->net;
  ctx.runtime = &rt;
  std::vector<JobId> ids;
  for (JobId i : w.jobs.ids()) {
    this->order.OnSubmit(i, ctx);
    ids.push_back(i);
  }
  std::vector<JobId> a = ids, b = ids;
  this->order.Sort(&a, ctx);
  this->order.Sort(&b, ctx);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(std::is_permutation(a.begin(), a.end(), ids.begin()));
  for (size_t k = 1; k < a.size(); ++k) EXPECT_GE(w.jobs[a[k - 1]].priority, w.jobs[a[k]].priority) << "position " << k;
}

TYPED_TEST(OrderConformance, EveryJobOfARandomWorkloadEndsUnderIt) {
  Catalog cat = TestCatalog();
  Network net = TestNetwork({{0, 4, 8}, {1, 4, 4}});
  Workload w = testing::RandomWorkload(3, 300, cat, false);
  for (std::string backfill : {"", "+easy"}) {
    if (this->order.preemptive() && !backfill.empty()) continue;
    auto spec = ParsePolicySpec(std::string(this->order.name()) + backfill);
    ASSERT_TRUE(spec.ok());
    auto res = Simulate(w, net, cat, *spec, SimOptions{});
    ASSERT_TRUE(res.ok()) << res.status().message();
    EXPECT_EQ(res->summary.finished + res->summary.unschedulable, w.jobs.size());
  }
}

// -------------------------------------------------------------- Dispatcher

struct Isolated {
  static constexpr const char* kSpec = "isolated";
};
struct EarliestStart {
  static constexpr const char* kSpec = "earliest-start";
};
struct DataAware {
  static constexpr const char* kSpec = "data-aware";
};
struct CostAware {
  static constexpr const char* kSpec = "cost-aware";
};
struct CarbonAware {
  static constexpr const char* kSpec = "carbon-aware";
};
struct HeterogeneityAware {
  static constexpr const char* kSpec = "heterogeneity-aware";
};

// Centers east (model A), west (model A), south (model C: CANN).
Network ThreeCenters() {
  Network net;
  net.name = "three";
  const std::vector<std::pair<std::string, ModelId>> defs = {{"east", 0}, {"west", 0}, {"south", 2}};
  for (const auto& [name, model] : defs) {
    Center c;
    c.name = name;
    c.pue = 1.2;
    c.price_per_kwh.fill(name == "west" ? 0.3 : 0.6);
    c.carbon_g_per_kwh.fill(name == "west" ? 200 : 600);
    const CenterId id = net.centers.next_id();
    net.centers.push_back(c);
    net.pools.push_back({name + "-pool", id});
    for (int i = 0; i < 2; ++i) {
      Node n;
      n.name = name + std::to_string(i);
      n.center = id;
      n.pool = PoolId{id.value()};  // one pool per center
      n.model = model;
      n.devices = 8;
      n.cpu_milli = 64000;
      n.mem_mib = 512 * 1024;
      n.rack = n.pod = static_cast<uint32_t>(net.nodes.size());
      net.nodes.push_back(n);
    }
  }
  net.links.push_back({CenterId{0}, CenterId{1}, 5, 10});
  net.links.push_back({CenterId{1}, CenterId{2}, 5, 10});
  net.num_racks = net.num_pods = static_cast<uint32_t>(net.nodes.size());
  return net;
}

template <typename T>
class DispatcherConformance : public ::testing::Test {
 protected:
  Catalog cat = TestCatalog();
  Network net = ThreeCenters();
  Workload w;
  std::unique_ptr<NetworkScheduler> ns;

  void SetUp() override {
    w.tenants.Intern("t");
    uint16_t east = static_cast<uint16_t>(w.places.Intern("east"));
    // Jobs that every center could run if it accepted their stack, a CUDA-only
    // one, one no center could ever run; all of tenant t, home east.
    const StackMask cuda = StackMask{1} << *cat.FindStack("cuda");
    for (int i = 0; i < 6; ++i) {
      Job j = MakeJob(Seconds(i), static_cast<uint32_t>(1 + i % 4), 600);
      j.home = east;
      if (i % 2 == 0) j.stacks = cuda;
      w.Add(j, "j" + std::to_string(i));
    }
    Job huge = MakeJob(Seconds(10), 64, 600);
    huge.home = east;
    w.Add(huge, "huge");
    NetworkOptions opt;
    opt.dispatch = *ParseDispatchSpec(T::kSpec);
    opt.task_mix_from_workload = false;
    auto s = NetworkScheduler::Create(w, net, cat, *ParsePolicySpec("fifo"), opt);
    ASSERT_TRUE(s.ok()) << s.status().message();
    ns = std::move(*s);
  }
  std::vector<NetDecision> Take() {
    std::vector<NetDecision> out;
    out.swap(ns->decisions());
    return out;
  }
  // Whether center c could ever run job `id` (its own check).
  bool CanRun(CenterId c, JobId id) { return ns->scheduler(c)->WhyNever(ns->workload().jobs[id]).empty(); }
};

using DispatcherTypes =
    ::testing::Types<Isolated, EarliestStart, DataAware, CostAware, CarbonAware, HeterogeneityAware>;
TYPED_TEST_SUITE(DispatcherConformance, DispatcherTypes);

TYPED_TEST(DispatcherConformance, SendsOnlyToACenterThatTakesJobsAndCanRunTheJob) {
  this->ns->SetCenter(CenterId{1}, false, false, 0);  // west takes nothing
  for (JobId id : Ids<JobId>(6)) {
    this->ns->Arrive(id, Seconds(id.value()));
    for (const NetDecision& d : this->Take()) {
      ASSERT_EQ(d.job, id);
      if (d.kind != NetDecision::Kind::kSend) continue;
      EXPECT_NE(d.center, CenterId{1}) << "sent to a center that takes no jobs";
      EXPECT_TRUE(this->CanRun(d.center, id)) << "sent where it could never run";
      EXPECT_GE(d.at, Seconds(id.value()));
    }
  }
}

TYPED_TEST(DispatcherConformance, RejectsAJobNoCenterCouldEverRunWithAReason) {
  this->ns->Arrive(JobId{6}, Seconds(10));
  auto ds = this->Take();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, NetDecision::Kind::kUnschedulable);
  EXPECT_FALSE(ds[0].reason.empty());
}

TYPED_TEST(DispatcherConformance, HoldsAJobWhileEveryCenterThatCouldRunItIsDown) {
  for (CenterId c : Ids<CenterId>(3)) this->ns->SetCenter(c, false, false, 0);
  this->ns->Arrive(JobId{0}, 0);
  auto ds = this->Take();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, NetDecision::Kind::kHold);
  EXPECT_FALSE(ds[0].reason.empty());
  // Back up: held jobs are dispatched again.
  this->ns->SetCenter(CenterId{0}, true, true, Seconds(5));
  ds = this->Take();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, NetDecision::Kind::kSend);
  EXPECT_EQ(ds[0].center, CenterId{0});
}

TYPED_TEST(DispatcherConformance, NeverSendsAJobToTheCenterItAvoids) {
  for (JobId id : Ids<JobId>(6)) {
    this->ns->Avoid(id, CenterId{0}, Seconds(1000));
    this->ns->Arrive(id, Seconds(id.value()));
    for (const NetDecision& d : this->Take())
      if (d.kind == NetDecision::Kind::kSend) {
        EXPECT_NE(d.center, CenterId{0}) << "job " << id;
      }
  }
}

TYPED_TEST(DispatcherConformance, SameInputSameDecisions) {
  auto run = [&] {
    NetworkOptions opt;
    opt.dispatch = *ParseDispatchSpec(TypeParam::kSpec);
    opt.task_mix_from_workload = false;
    auto s = NetworkScheduler::Create(this->w, this->net, this->cat, *ParsePolicySpec("fifo"), opt);
    EXPECT_TRUE(s.ok());
    std::vector<std::pair<int, CenterId>> out;
    for (JobId id : this->w.jobs.ids()) {
      (*s)->Arrive(id, Seconds(id.value()));
      for (const auto& d : (*s)->decisions()) out.emplace_back(static_cast<int>(d.kind), d.center);
      (*s)->decisions().clear();
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace suanli
