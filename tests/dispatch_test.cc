// Dispatch across centers: each policy's intended effect on a small network,
// failures and outages with checkpoints, and the conformance properties
// (nothing over-allocated, no job lost, constraints held, determinism) for
// every dispatch policy.
#include <gtest/gtest.h>

#include <cmath>

#include "core/model/quota.h"
#include "core/policy/dispatch/dispatcher.h"
#include "sim/engine.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using testing::MakeJob;

// A (cuda, fast), B (cuda; fast on cnn, slow on transformers), C (cann).
Catalog Cat() {
  Catalog c;
  int cuda = *c.AddStack("cuda");
  int cann = *c.AddStack("cann");
  AcceleratorModel a;
  a.name = "A";
  a.stacks = 1u << cuda;
  a.speed = {1, 1, 1, 1, 1};
  a.power_w = 400;
  a.idle_power_w = 60;
  a.tflops16 = 300;
  (void)c.AddModel(a);
  AcceleratorModel b;
  b.name = "B";
  b.stacks = 1u << cuda;
  b.speed = {0.9, 0.1, 0.5, 0.5, 0.5};
  b.power_w = 300;
  b.idle_power_w = 45;
  (void)c.AddModel(b);
  AcceleratorModel x;
  x.name = "C";
  x.stacks = 1u << cann;
  x.speed = {0.8, 0.8, 0.8, 0.8, 0.8};
  x.power_w = 300;
  x.idle_power_w = 45;
  (void)c.AddModel(x);
  return c;
}

struct CenterDef {
  std::string name;
  ModelId model;
  int nodes;
  double carbon = 500, price = 0.5;
  double lat = 30, lon = 110;
};

// Centers of `nodes` x 8-device nodes, joined in a chain by 10 Gbps links
// of 5 ms.
Network Net(const std::vector<CenterDef>& defs) {
  Network net;
  net.name = "net";
  for (const auto& d : defs) {
    Center c;
    c.name = d.name;
    c.pue = 1.25;
    c.price_per_kwh.fill(d.price);
    c.carbon_g_per_kwh.fill(d.carbon);
    c.latitude = d.lat;
    c.longitude = d.lon;
    const CenterId id = net.centers.next_id();
    net.centers.push_back(c);
    net.pools.push_back({d.name + "-pool", id});
    for (int i = 0; i < d.nodes; ++i) {
      Node n;
      n.name = d.name + std::to_string(i);
      n.center = id;
      n.pool = PoolId{id.value()};  // one pool per center
      n.model = d.model;
      n.devices = 8;
      n.cpu_milli = 64000;
      n.mem_mib = 512 * 1024;
      n.rack = static_cast<uint32_t>(net.nodes.size());
      n.pod = n.rack;
      net.nodes.push_back(n);
    }
  }
  for (size_t i = 1; i < net.centers.size(); ++i)
    net.links.push_back({CenterId(static_cast<uint32_t>(i - 1)), CenterId(static_cast<uint32_t>(i)), 5, 10});
  net.num_racks = net.num_pods = static_cast<uint32_t>(net.nodes.size());
  return net;
}

Result<SimResult> Sim(const Workload& w, const Network& net, const Catalog& cat, const std::string& dispatch,
                      SimOptions opt = {}, const std::string& policy = "fifo+easy") {
  auto d = ParseDispatchSpec(dispatch);
  if (!d.ok()) return d.status();
  opt.dispatch = *d;
  return Simulate(w, net, cat, *ParsePolicySpec(policy), opt);
}

const JobRecord& Rec(const SimResult& r, JobId id) { return r.jobs[id]; }
const JobRecord& Rec(const SimResult& r, uint32_t id) { return r.jobs[JobId{id}]; }

TEST(DispatchSpec, ParsesPresetsAndWeights) {
  for (const auto& [name, summary] : DispatchPolicies()) {
    auto s = ParseDispatchSpec(name);
    ASSERT_TRUE(s.ok()) << name;
    EXPECT_EQ(s->name, name);
    EXPECT_FALSE(summary.empty());
  }
  auto s = ParseDispatchSpec("heterogeneity-aware:carbon=0.5:round=600");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->lp);
  EXPECT_DOUBLE_EQ(s->w_carbon, 0.5);
  EXPECT_EQ(s->round, Seconds(600));
  EXPECT_NE(ParseDispatchSpec("nearest").status().message().find("unknown dispatch policy 'nearest'"),
            std::string::npos);
  EXPECT_NE(ParseDispatchSpec("carbon-aware:carbon").status().message().find("KEY=VALUE"), std::string::npos);
  EXPECT_NE(ParseDispatchSpec("carbon-aware:carbon=-1").status().message().find(">= 0"), std::string::npos);
  EXPECT_NE(ParseDispatchSpec("carbon-aware:speed=1").status().message().find("unknown key 'speed'"),
            std::string::npos);
  EXPECT_NE(ParseDispatchSpec("earliest-start:round=60").status().message().find("unknown key 'round'"),
            std::string::npos);
  EXPECT_FALSE(ParseDispatchSpec("isolated:time=1").ok());
  EXPECT_FALSE(ParseDispatchSpec("heterogeneity-aware:round=1e300").ok());
  EXPECT_FALSE(ParseDispatchSpec("heterogeneity-aware:round=0.5").ok());
}

// Two CUDA centers: east busy with a long job, west idle.
TEST(Dispatch, IsolatedKeepsHomeEarliestStartMoves) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}, {"west", 0, 1}});
  Workload w;
  uint16_t east = static_cast<uint16_t>(w.places.Intern("east"));
  Job big = MakeJob(0, 8, 10000);
  big.home = east;
  w.Add(big, "big");
  Job small = MakeJob(Seconds(10), 8, 100);
  small.home = east;
  w.Add(small, "small");
  auto iso = Sim(w, net, cat, "isolated");
  ASSERT_TRUE(iso.ok()) << iso.status().message();
  EXPECT_EQ(Rec(*iso, 1).center, CenterId{0});
  EXPECT_EQ(Rec(*iso, 1).start, Seconds(10000));
  auto es = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(es.ok()) << es.status().message();
  EXPECT_EQ(Rec(*es, 1).center, CenterId{1});
  EXPECT_EQ(Rec(*es, 1).start, Seconds(10));
  EXPECT_EQ(es->policy, "earliest-start/fifo+easy");
}

TEST(Dispatch, StacksAreNeverViolated) {
  Catalog cat = Cat();
  Network net = Net({{"cuda-a", 0, 2}, {"cuda-b", 1, 2}, {"ascend", 2, 2}});
  Workload w;
  Rng rng(7);
  const StackMask cuda = 1, cann = 2;
  for (int i = 0; i < 300; ++i) {
    Job j = MakeJob(Seconds(i * 30), 1u << rng.Below(4), 200 + static_cast<double>(rng.Below(4000)));
    j.stacks = rng.Below(3) == 0 ? cann : cuda;
    j.cls = rng.Below(2) ? WorkloadClass::kCnn : WorkloadClass::kTransformer;
    w.Add(j, "");
  }
  for (const auto& [name, summary] : DispatchPolicies()) {
    auto r = Sim(w, net, cat, name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    for (size_t i = 0; i < w.jobs.size(); ++i) {
      const JobRecord& rec = r->jobs.vec()[i];
      if (name == "isolated" && rec.unschedulable) continue;  // its home cannot run it
      ASSERT_FALSE(rec.unschedulable) << name << " job " << i;
      ASSERT_NE(rec.model, kNoModel);
      EXPECT_TRUE(cat.model(rec.model).stacks & w.jobs.vec()[i].stacks)
          << name << ": job " << i << " ran on " << cat.model(rec.model).name;
      EXPECT_EQ(net.centers[rec.center].name, rec.model == 2 ? "ascend" : rec.model == 1 ? "cuda-b" : "cuda-a");
    }
  }
}

// Conformance: every dispatch policy, with failures and an outage, on a
// mixed random workload: the engine's own ledger checks every decision
// (an over-allocation is an error), every job is accounted for, and the
// same seed gives the same result.
TEST(Dispatch, ConformanceEveryPolicy) {
  Catalog cat = Cat();
  Network net = Net({{"a", 0, 3}, {"b", 1, 3, 100, 0.3}, {"c", 2, 2, 900, 0.9}});
  net.outages.push_back({CenterId{1}, Seconds(3000), Seconds(2000)});
  Workload w = testing::RandomWorkload(11, 400, cat);
  uint16_t home = static_cast<uint16_t>(w.places.Intern("b"));
  for (size_t i = 0; i < w.jobs.size(); i += 3) {
    w.jobs.vec()[i].home = home;
    w.jobs.vec()[i].data_at = home;
    w.jobs.vec()[i].data_gb = 20;
    if (i % 2) w.jobs.vec()[i].deadline = w.jobs.vec()[i].submit + Seconds(40000);
  }
  SimOptions opt;
  opt.device_mtbf_h = 50;
  opt.checkpoint = Seconds(600);
  opt.restart_cost = Seconds(30);
  for (const std::string policy : {"fifo", "fifo+easy", "srtf", "las+best-fit"})
    for (const auto& [name, summary] : DispatchPolicies()) {
      auto r1 = Sim(w, net, cat, name, opt, policy);
      ASSERT_TRUE(r1.ok()) << name << "/" << policy << ": " << r1.status().message();
      auto r2 = Sim(w, net, cat, name, opt, policy);
      ASSERT_TRUE(r2.ok());
      size_t done = 0;
      for (size_t i = 0; i < w.jobs.size(); ++i) {
        const JobRecord& a = r1->jobs.vec()[i];
        const JobRecord& b = r2->jobs.vec()[i];
        EXPECT_TRUE(a.unschedulable || a.end >= a.start) << name << " job " << i;
        EXPECT_EQ(a.start, b.start);
        EXPECT_EQ(a.end, b.end);
        EXPECT_EQ(a.center, b.center);
        done += a.end >= 0 || a.unschedulable;
      }
      EXPECT_EQ(done, w.jobs.size());
      EXPECT_GT(r1->summary.failures, 0u) << name;
      EXPECT_EQ(r1->summary.outages, 1u);
      EXPECT_LT(r1->summary.goodput, 1.0);
      EXPECT_GT(r1->summary.energy_kwh, 0);
    }
}

// One clean center: a deferrable job waits for the clean hours, a plain one does not.
TEST(Dispatch, CarbonAwareDefersToTheCleanHour) {
  Catalog cat = Cat();
  Network net = Net({{"solar", 0, 1}, {"coal", 0, 1, 900}});
  for (int h = 0; h < 24; ++h) net.centers[CenterId{0}].carbon_g_per_kwh[h] = h >= 12 && h < 16 ? 50 : 800;
  Workload w;
  Job flexible = MakeJob(Seconds(3600), 8, 1800);
  flexible.deadline = Seconds(3600) + 24 * kHour;
  w.Add(flexible, "flexible");
  Job urgent = MakeJob(Seconds(3600), 8, 1800);
  w.Add(urgent, "urgent");
  auto r = Sim(w, net, cat, "carbon-aware");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Rec(*r, 0).start, 12 * kHour);  // noon, the first clean hour
  EXPECT_EQ(Rec(*r, 0).center, CenterId{0});
  EXPECT_TRUE(Rec(*r, 0).deferred);
  EXPECT_EQ(Rec(*r, 1).start, Seconds(3600));  // not deferrable: runs now, at the less dirty center now
  EXPECT_EQ(Rec(*r, 1).center, CenterId{0});
  EXPECT_EQ(r->summary.deferred, 1u);
  // Carbon-blind: both start at once.
  auto blind = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(blind.ok());
  EXPECT_EQ(Rec(*blind, 0).start, Seconds(3600));
  // The flexible job's own emissions (idle accelerators are metered apart).
  auto job_carbon = [&](const SimResult& res) {
    double kg = 0;
    for (const auto& u : res.usage)
      if (u.tenant != kIdleTenant) kg += u.energy.carbon_kg;
    return kg;
  };
  EXPECT_NEAR(job_carbon(*r), (8 * 400 * 1.25 / 1000 * 0.5) * (50 + 800) / 1000, 1e-9);
  EXPECT_NEAR(job_carbon(*blind), (8 * 400 * 1.25 / 1000 * 0.5) * (800 + 900) / 1000, 1e-9);
}

// Both centers idle and equally fast: a job that cannot wait goes to the
// cleaner one now; where carbon is equal, carbon-aware is earliest-start.
TEST(Dispatch, CarbonAwareSendsAJobThatCannotWaitToTheCleanerCenterNow) {
  Catalog cat = Cat();
  Network net = Net({{"coal", 0, 1, 900}, {"hydro", 0, 1, 30}});
  Workload w;
  w.Add(MakeJob(0, 8, 3600), "now");
  auto r = Sim(w, net, cat, "carbon-aware");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Rec(*r, 0).center, CenterId{1});
  EXPECT_EQ(Rec(*r, 0).start, 0);
  EXPECT_FALSE(Rec(*r, 0).deferred);
  auto blind = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(blind.ok());
  EXPECT_EQ(Rec(*blind, 0).center, CenterId{0}) << "ties go to the lower center id";
  // Equal carbon: the same choices as earliest-start.
  Network same = Net({{"a", 0, 1, 500}, {"b", 0, 1, 500}});
  Workload two;
  two.Add(MakeJob(0, 8, 3600), "first");
  two.Add(MakeJob(Seconds(1), 8, 3600), "second");
  auto c = Sim(two, same, cat, "carbon-aware");
  auto e = Sim(two, same, cat, "earliest-start");
  ASSERT_TRUE(c.ok() && e.ok());
  for (JobId id : Ids<JobId>(2)) {
    EXPECT_EQ(Rec(*c, id).center, Rec(*e, id).center) << id;
    EXPECT_EQ(Rec(*c, id).start, Rec(*e, id).start) << id;
  }
}

// A deferrable job whose deadline leaves no room to wait for the clean
// hours runs now; one whose deadline leaves room waits.
TEST(Dispatch, CarbonAwareDefersOnlyWithinTheDeadline) {
  Catalog cat = Cat();
  Network net = Net({{"solar", 0, 2}});
  for (int h = 0; h < 24; ++h) net.centers[CenterId{0}].carbon_g_per_kwh[h] = h >= 12 && h < 16 ? 50 : 800;
  Workload w;
  Job tight = MakeJob(Seconds(3600), 8, 1800);
  tight.deadline = Seconds(3600) + 4 * kHour;  // must end by 05:00: noon is too late
  w.Add(tight, "tight");
  Job loose = MakeJob(Seconds(3600), 8, 1800);
  loose.deadline = Seconds(3600) + 24 * kHour;
  w.Add(loose, "loose");
  auto r = Sim(w, net, cat, "carbon-aware");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_LT(Rec(*r, 0).start, 12 * kHour);
  EXPECT_LE(Rec(*r, 0).end, tight.deadline);
  EXPECT_EQ(Rec(*r, 1).start, 12 * kHour);
  EXPECT_TRUE(Rec(*r, 1).deferred);
  EXPECT_EQ(r->summary.deferred, 1u);
}

TEST(Dispatch, CostAwarePicksTheCheaperCenter) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1, 500, 1.2}, {"west", 0, 1, 500, 0.3}});
  Workload w;
  w.Add(MakeJob(0, 8, 3600), "j");
  auto r = Sim(w, net, cat, "cost-aware");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Rec(*r, 0).center, CenterId{1});
  // 8 x 400 W x PUE 1.25 for one hour = 4 kWh at 0.3; plus idle power of the
  // other 8 accelerators (60 W each) for the hour = 0.6 kWh at 1.2.
  EXPECT_NEAR(r->summary.energy_kwh, 4.0 + 0.6, 1e-6);
  EXPECT_NEAR(r->summary.cost, 4.0 * 0.3 + 0.6 * 1.2, 1e-6);
}

// The dataset (1,000 GB) lives at east, which is busy for 100 s more; the
// transfer to west takes 800 s over 10 Gbps.
TEST(Dispatch, DataAwareWaitsForItsDataEarliestStartPaysTheTransfer) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}, {"west", 0, 1}});
  Workload w;
  uint16_t east = static_cast<uint16_t>(w.places.Intern("east"));
  Job first = MakeJob(0, 8, 110);
  first.home = east;
  w.Add(first, "first");
  Job data = MakeJob(Seconds(10), 8, 1000);
  data.data_at = east;
  data.data_gb = 1000;
  w.Add(data, "data");
  auto da = Sim(w, net, cat, "data-aware");
  ASSERT_TRUE(da.ok()) << da.status().message();
  EXPECT_EQ(Rec(*da, 1).center, CenterId{0});
  EXPECT_EQ(Rec(*da, 1).start, Seconds(110));
  EXPECT_EQ(Rec(*da, 1).transfer_s, 0.0f);
  auto es = Sim(w, net, cat, "earliest-start:time=1");
  ASSERT_TRUE(es.ok());
  EXPECT_EQ(Rec(*es, 1).center, CenterId{1});
  EXPECT_EQ(Rec(*es, 1).start, Seconds(10) + SecondsF(800.005));
  EXPECT_NEAR(Rec(*es, 1).transfer_s, 800.005, 1e-3);
}

// An outage at 2.5 h interrupts a 10-hour job checkpointed every hour: it
// loses the half hour since its last checkpoint, pays a 60 s restart and
// resumes elsewhere (earliest-start) or waits for its center (isolated).
TEST(Dispatch, OutageResumesFromTheLastCheckpoint) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}, {"west", 0, 1}});
  net.outages.push_back({CenterId{0}, 150 * kMinute, kHour});
  Workload w;
  uint16_t east = static_cast<uint16_t>(w.places.Intern("east"));
  Job j = MakeJob(0, 8, 10 * 3600);
  j.home = east;
  j.checkpoint = kHour;
  w.Add(j, "train");
  SimOptions opt;
  opt.restart_cost = Seconds(60);
  auto es = Sim(w, net, cat, "earliest-start", opt);
  ASSERT_TRUE(es.ok()) << es.status().message();
  EXPECT_EQ(Rec(*es, 0).center, CenterId{1});
  EXPECT_EQ(Rec(*es, 0).end, 150 * kMinute + Seconds(60) + 8 * kHour);
  EXPECT_EQ(Rec(*es, 0).restarts, 1);
  // Lost: 8 accelerators x (the half hour since the checkpoint + the 60 s restart).
  EXPECT_NEAR(es->summary.lost_work_s, 8 * (1800.0 + 60), 1e-6);
  double allocated = 8 * (2.5 * 3600 + 60 + 8 * 3600);
  EXPECT_NEAR(es->summary.goodput, (allocated - 8 * 1860.0) / allocated, 1e-9);
  auto iso = Sim(w, net, cat, "isolated", opt);
  ASSERT_TRUE(iso.ok());
  EXPECT_EQ(Rec(*iso, 0).center, CenterId{0});
  EXPECT_EQ(Rec(*iso, 0).end, 210 * kMinute + Seconds(60) + 8 * kHour);
}

TEST(Dispatch, DeviceFailuresLoseWorkSinceCheckpoint) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 4}});
  Workload w;
  Job j = MakeJob(0, 32, 7 * 24 * 3600.0);
  j.checkpoint = 2 * kHour;
  w.Add(j, "big");
  SimOptions opt;
  opt.device_mtbf_h = 24 * 365;  // 32 devices: a failure every ~11 days on average... over a week, some
  opt.seed = 3;
  opt.restart_cost = Seconds(300);
  auto r = Sim(w, net, cat, "earliest-start", opt);
  ASSERT_TRUE(r.ok());
  opt.device_mtbf_h = 50;
  auto f = Sim(w, net, cat, "earliest-start", opt);
  ASSERT_TRUE(f.ok());
  EXPECT_GT(f->summary.failures, 50u);  // 32 devices / 50 h: a failure every ~1.6 h
  EXPECT_GT(Rec(*f, 0).end, Rec(*r, 0).end);
  EXPECT_LT(f->summary.goodput, r->summary.goodput);
  // Each failure loses less than a checkpoint interval plus the restart.
  EXPECT_LT(f->summary.lost_work_s, static_cast<double>(f->summary.failures) * 32 * (2 * 3600 + 300));
}

TEST(Dispatch, ServicesStayWithinTheirLatencyBound) {
  Catalog cat = Cat();
  // Beijing-like and Chengdu-like centers; users in the north.
  Network net = Net({{"far", 0, 1, 500, 0.5, 30.7, 104.1}, {"near", 0, 1, 500, 0.5, 39.9, 116.4}});
  net.regions.push_back({"north", 39.9, 116.4});
  Workload w;
  uint16_t north = static_cast<uint16_t>(w.places.Intern("north"));
  // Fill "near" so that an unbounded job would go to "far".
  Job fill = MakeJob(0, 8, 10000);
  fill.service = true;
  fill.region = north;
  fill.latency_ms = 20;
  w.Add(fill, "fill");
  Job svc = MakeJob(Seconds(1), 1, 3600);
  svc.service = true;
  svc.region = north;
  svc.latency_ms = 20;
  w.Add(svc, "svc");
  Job batch = MakeJob(Seconds(1), 1, 3600);
  w.Add(batch, "batch");
  auto r = Sim(w, net, cat, "isolated");
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto es = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(es.ok());
  EXPECT_EQ(Rec(*es, 1).center, CenterId{1});  // within 20 ms: only "near"
  EXPECT_EQ(Rec(*es, 1).start, Seconds(10000));
  EXPECT_EQ(Rec(*es, 2).center, CenterId{0});  // unbounded: the idle center
  EXPECT_GT(RegionLatencyMs(net.regions[0], net.centers[CenterId{0}]), 20);
}

// Type X (cnn) runs almost as fast on B as on A; type Y (transformer) runs
// ten times slower on B. A steady stream of both: the LP gives A to Y and B
// to X, so that every job runs near its best speed; earliest-start takes
// whatever is free and sends many Y jobs to B.
TEST(Dispatch, HeterogeneityAwareGivesTheFastCardsToWhoGainsMost) {
  Catalog cat = Cat();
  Network net = Net({{"a-center", 0, 1}, {"b-center", 1, 1}});
  Workload w;
  for (int i = 0; i < 200; ++i) {
    Job j = MakeJob(Seconds(400 * i), 1, 3600);
    j.cls = i % 2 ? WorkloadClass::kTransformer : WorkloadClass::kCnn;
    w.Add(j, i % 2 ? "y" : "x");
  }
  auto r = Sim(w, net, cat, "heterogeneity-aware");
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto es = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(es.ok());
  auto y_on_a = [&](const SimResult& res) {
    int n = 0;
    for (int i = 1; i < 200; i += 2) n += res.jobs.vec()[i].model == 0;
    return n;
  };
  EXPECT_GE(y_on_a(*r), 95);
  EXPECT_LE(y_on_a(*es), 90);
  EXPECT_LT(r->summary.avg_jct_s, 0.75 * es->summary.avg_jct_s);
  std::printf("y jobs on A: %d (heterogeneity-aware), %d (earliest-start); avg JCT %.0f s vs %.0f s\n", y_on_a(*r),
              y_on_a(*es), r->summary.avg_jct_s, es->summary.avg_jct_s);
}

// Six identical 8-accelerator jobs at once on three 8-accelerator centers:
// the LP of the first arrival gives the type one pool; the rest must not
// queue behind it while the other pools stand idle.
TEST(Dispatch, HeterogeneityAwareSpreadsABurstOfOneType) {
  Catalog cat = Cat();
  Network net = Net({{"c0", 0, 1}, {"c1", 0, 1}, {"c2", 0, 1}});
  Workload w;
  for (int i = 0; i < 6; ++i) w.Add(MakeJob(Seconds(i), 8, 3600), "j" + std::to_string(i));
  auto r = Sim(w, net, cat, "heterogeneity-aware");
  ASSERT_TRUE(r.ok()) << r.status().message();
  int per_center[3] = {0, 0, 0};
  for (int i = 0; i < 6; ++i) ++per_center[Rec(*r, i).center.value()];
  EXPECT_EQ(per_center[0], 2);
  EXPECT_EQ(per_center[1], 2);
  EXPECT_EQ(per_center[2], 2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Rec(*r, i).start, Seconds(i)) << i;  // each at once on its own pool
  EXPECT_LE(r->summary.makespan_s, 2 * 3600 + 10);
}

TEST(Dispatch, UnknownPlacesAreErrors) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}});
  Workload w;
  Job j = MakeJob(0, 1, 10);
  j.home = static_cast<uint16_t>(w.places.Intern("mars"));
  w.Add(j, "j");
  auto r = Sim(w, net, cat, "isolated");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("home 'mars' is not a center"), std::string::npos) << r.status().message();
}

TEST(Dispatch, MeteringAddsUp) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1, 400, 0.8}, {"west", 2, 1, 100, 0.4}});
  Workload w;
  TenantId t1 = w.tenants.Intern("lab");
  Job a = MakeJob(0, 4, 7200);
  a.tenant = t1;
  w.Add(a, "a");
  Job b = MakeJob(0, 8, 2880);  // one hour at C's speed 0.8
  b.stacks = 2;                 // cann: west
  b.tenant = t1;
  w.Add(b, "b");
  auto r = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(r.ok());
  double acc_h = 0, kwh = 0, idle_h = 0;
  for (const auto& u : r->usage) {
    if (u.tenant == kIdleTenant) idle_h += u.accelerator_s / 3600;
    else acc_h += u.accelerator_s / 3600;
    kwh += u.energy.kwh;
  }
  EXPECT_NEAR(acc_h, 4 * 2 + 8 * 1, 1e-9);
  // Two hours of 16 accelerators: 16 busy accelerator-hours, 16 idle.
  EXPECT_NEAR(idle_h, 32 - 16, 1e-9);
  EXPECT_NEAR(kwh, r->summary.energy_kwh, 1e-9);
  double busy = (4 * 2 * 400 + 8 * 1 * 300) * 1.25 / 1000;
  double idle = (4 * 2 * 60 + 8 * 1 * 45) * 1.25 / 1000;
  EXPECT_NEAR(r->summary.energy_kwh, busy + idle, 1e-9);
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Quotas hold in every center of a network: a tenant with half of each
// center and no borrowing never has more than half of it, even when the
// rest is idle.
TEST(Dispatch, QuotasHoldInEveryCenter) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}, {"west", 0, 1}});
  Workload w;
  TenantId lab = w.tenants.Intern("lab");
  for (int i = 0; i < 16; ++i) {
    Job j = testing::MakeJob(0, 1, 3600);
    j.tenant = lab;
    w.Add(j, "");
  }
  auto q = std::make_shared<QuotaSpec>();
  q->tenants.push_back({"lab", 0.5, 0, true});
  SimOptions opt;
  opt.scheduler.quotas = q;
  auto r = Sim(w, net, cat, "earliest-start", opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int at_once = 0;
  for (const auto& rec : r->jobs) at_once += rec.start == 0;
  EXPECT_EQ(at_once, 8);  // 4 per center
  EXPECT_EQ(r->summary.makespan_s, 2 * 3600);
  auto free = Sim(w, net, cat, "earliest-start");
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free->summary.makespan_s, 3600);
}

// A preemptive center policy never stops an inference service.
TEST(Dispatch, ServicesAreNeverPreempted) {
  Catalog cat = Cat();
  Network net = Net({{"east", 0, 1}});
  Workload w;
  Job svc = testing::MakeJob(0, 8, 100000);
  svc.service = true;
  w.Add(svc, "svc");
  Job batch = testing::MakeJob(0, 8, 100000);
  w.Add(batch, "batch");
  Job shorty = testing::MakeJob(Seconds(10), 8, 60);
  w.Add(shorty, "short");
  auto r = Sim(w, net, cat, "earliest-start", {}, "srtf");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->jobs[JobId{0}].preemptions, 0);
  EXPECT_EQ(r->jobs[JobId{0}].end, Seconds(100000));
}

}  // namespace
}  // namespace suanli
