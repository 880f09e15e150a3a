// allocation_lp: the heterogeneity-aware allocation LP (throughput and max-min fair modes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include "base/rng.h"
#include "core/policy/dispatch/allocation_lp.h"

namespace suanli {
namespace {

LpJobType Type(double demand, std::vector<double> speed, double weight = 1) {
  LpJobType t;
  t.demand = demand;
  t.speed = std::move(speed);
  t.weight = weight;
  return t;
}

LpResource Res(double capacity, double penalty = 0) {
  LpResource r;
  r.capacity = capacity;
  r.penalty = penalty;
  return r;
}

double Coef(const std::vector<LpJobType>& ty, const std::vector<LpResource>& rs, size_t t, size_t r) {
  return ty[t].weight * (ty[t].speed[r] - rs[r].penalty);
}

double Objective(const std::vector<LpJobType>& ty, const std::vector<LpResource>& rs,
                 const std::vector<std::vector<double>>& x) {
  double s = 0;
  for (size_t t = 0; t < ty.size(); ++t)
    for (size_t r = 0; r < rs.size(); ++r) s += Coef(ty, rs, t, r) * x[t][r];
  return s;
}

// Normalised throughput of type t: sum_r speed x / (demand * best speed on an existing resource).
double Normalised(const std::vector<LpJobType>& ty, const std::vector<LpResource>& rs,
                  const std::vector<std::vector<double>>& x, size_t t) {
  double best = 0, got = 0;
  for (size_t r = 0; r < rs.size(); ++r) {
    if (rs[r].capacity > 0) best = std::max(best, ty[t].speed[r]);
    got += ty[t].speed[r] * x[t][r];
  }
  return got / (ty[t].demand * best);
}

// Every constraint of the LP holds (with a small tolerance).
void ExpectFeasible(const std::vector<LpJobType>& ty, const std::vector<LpResource>& rs, const LpAllocation& a) {
  ASSERT_EQ(a.x.size(), ty.size());
  std::vector<double> used(rs.size(), 0.0);
  for (size_t t = 0; t < ty.size(); ++t) {
    ASSERT_EQ(a.x[t].size(), rs.size());
    double got = 0;
    for (size_t r = 0; r < rs.size(); ++r) {
      EXPECT_GE(a.x[t][r], 0) << t << "," << r;
      if (ty[t].speed[r] == 0) {
        EXPECT_EQ(a.x[t][r], 0) << "zero speed used at " << t << "," << r;
      }
      got += a.x[t][r];
      used[r] += a.x[t][r];
    }
    EXPECT_LE(got, ty[t].demand + 1e-6 * (1 + ty[t].demand)) << "demand of type " << t;
  }
  for (size_t r = 0; r < rs.size(); ++r)
    EXPECT_LE(used[r], rs[r].capacity + 1e-6 * (1 + rs[r].capacity)) << "capacity of resource " << r;
  EXPECT_NEAR(a.objective, Objective(ty, rs, a.x), 1e-6 * (1 + std::abs(a.objective)));
}

struct Instance {
  std::vector<LpJobType> types;
  std::vector<LpResource> resources;
};

// Random heterogeneous instance: some types cannot run on some resources.
Instance RandomInstance(Rng& rng, int T, int R, double zero_fraction = 0.3) {
  Instance in;
  for (int r = 0; r < R; ++r) in.resources.push_back(Res(1 + rng.Below(64), 0.2 * rng.Uniform()));
  for (int t = 0; t < T; ++t) {
    LpJobType ty;
    ty.demand = 1 + rng.Below(32);
    ty.weight = 0.5 + rng.Uniform();
    for (int r = 0; r < R; ++r) ty.speed.push_back(rng.Uniform() < zero_fraction ? 0 : 0.1 + 3 * rng.Uniform());
    in.types.push_back(std::move(ty));
  }
  return in;
}

// A feasible allocation built greedily (largest coefficient first): a lower bound on the optimum.
double GreedyValue(const Instance& in) {
  struct Pair {
    double c;
    size_t t, r;
  };
  std::vector<Pair> pairs;
  for (size_t t = 0; t < in.types.size(); ++t)
    for (size_t r = 0; r < in.resources.size(); ++r) {
      double c = Coef(in.types, in.resources, t, r);
      if (in.types[t].speed[r] > 0 && c > 0) pairs.push_back({c, t, r});
    }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.c > b.c; });
  std::vector<double> dem, cap;
  for (const auto& t : in.types) dem.push_back(t.demand);
  for (const auto& r : in.resources) cap.push_back(r.capacity);
  double v = 0;
  for (const Pair& p : pairs) {
    double q = std::min(dem[p.t], cap[p.r]);
    dem[p.t] -= q;
    cap[p.r] -= q;
    v += p.c * q;
  }
  return v;
}

// Upper bounds: every type at its best coefficient, or every resource at its best coefficient.
double UpperBound(const Instance& in) {
  double by_type = 0, by_res = 0;
  for (size_t t = 0; t < in.types.size(); ++t) {
    double best = 0;
    for (size_t r = 0; r < in.resources.size(); ++r)
      if (in.resources[r].capacity > 0) best = std::max(best, Coef(in.types, in.resources, t, r));
    by_type += best * in.types[t].demand;
  }
  for (size_t r = 0; r < in.resources.size(); ++r) {
    double best = 0;
    for (size_t t = 0; t < in.types.size(); ++t) best = std::max(best, Coef(in.types, in.resources, t, r));
    by_res += best * in.resources[r].capacity;
  }
  return std::min(by_type, by_res);
}

TEST(LpAlloc, HandComputedTwoTypesTwoResources) {
  // Resource 0: H800, resource 1: 910B, 8 accelerators each. Type A runs 3x faster on the
  // H800 than on the 910B; type B runs equally fast on both. Each wants 8.
  std::vector<LpResource> rs = {Res(8), Res(8)};
  std::vector<LpJobType> ty = {Type(8, {3, 1}), Type(8, {1, 1})};
  auto a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ExpectFeasible(ty, rs, *a);
  // A on the H800s (24), B on the 910Bs (8): 32; the swap would give 16.
  EXPECT_NEAR(a->x[0][0], 8, 1e-9);
  EXPECT_NEAR(a->x[0][1], 0, 1e-9);
  EXPECT_NEAR(a->x[1][0], 0, 1e-9);
  EXPECT_NEAR(a->x[1][1], 8, 1e-9);
  EXPECT_NEAR(a->objective, 32, 1e-9);

  // Scarce H800s (4) and more demand: A takes all 4 H800s and fills up on the 910Bs only
  // if B cannot use them better (equal value: 1 each); total stays 4*3 + 8*1.
  rs = {Res(4), Res(8)};
  a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ExpectFeasible(ty, rs, *a);
  EXPECT_NEAR(a->x[0][0], 4, 1e-9);
  EXPECT_NEAR(a->x[1][0], 0, 1e-9);
  EXPECT_NEAR(a->objective, 20, 1e-9);
}

TEST(LpAlloc, WeightsDecideWhoGetsTheFastCards) {
  // Both types are 2x faster on resource 0, which has room for one of them.
  std::vector<LpResource> rs = {Res(4), Res(4)};
  std::vector<LpJobType> ty = {Type(4, {2, 1}, 1), Type(4, {2, 1}, 3)};
  auto a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok());
  EXPECT_NEAR(a->x[1][0], 4, 1e-9);  // the heavier type gets the fast cards
  EXPECT_NEAR(a->x[0][1], 4, 1e-9);
  EXPECT_NEAR(a->objective, 3 * 8 + 4, 1e-9);
}

// Tiny integer instances: the constraint matrix is totally unimodular, so the LP optimum is
// reached at an integer allocation; enumerating them gives the exact optimum.
TEST(LpAlloc, MatchesBruteForceOnTinyIntegerInstances) {
  Rng rng(11);
  const double speeds[] = {0, 0, 0.5, 1, 1.5, 2, 3};
  const double penalties[] = {0, 0.25, 0.5};
  for (int iter = 0; iter < 40; ++iter) {
    const int T = 2, R = 3, M = 3;
    Instance in;
    for (int r = 0; r < R; ++r) in.resources.push_back(Res(rng.Below(M + 1), penalties[rng.Below(3)]));
    for (int t = 0; t < T; ++t) {
      LpJobType ty;
      ty.demand = rng.Below(M + 1);
      ty.weight = 1 + rng.Below(2);
      for (int r = 0; r < R; ++r) ty.speed.push_back(speeds[rng.Below(7)]);
      in.types.push_back(ty);
    }
    double best = 0;
    std::vector<std::vector<double>> x(T, std::vector<double>(R, 0));
    std::function<void(int)> rec = [&](int k) {
      if (k == T * R) {
        for (int t = 0; t < T; ++t) {
          double s = 0;
          for (int r = 0; r < R; ++r) s += x[t][r];
          if (s > in.types[t].demand) return;
        }
        for (int r = 0; r < R; ++r) {
          double s = 0;
          for (int t = 0; t < T; ++t) s += x[t][r];
          if (s > in.resources[r].capacity) return;
        }
        best = std::max(best, Objective(in.types, in.resources, x));
        return;
      }
      const int t = k / R, r = k % R;
      const int hi = in.types[t].speed[r] > 0 ? M : 0;
      for (int v = 0; v <= hi; ++v) {
        x[t][r] = v;
        rec(k + 1);
      }
      x[t][r] = 0;
    };
    rec(0);
    auto a = SolveAllocation(in.types, in.resources);
    ASSERT_TRUE(a.ok()) << a.status().message();
    ExpectFeasible(in.types, in.resources, *a);
    EXPECT_NEAR(a->objective, best, 1e-7) << "instance " << iter;
  }
}

TEST(LpAlloc, RandomInstancesRespectConstraintsAndBounds) {
  Rng rng(3);
  for (int iter = 0; iter < 20; ++iter) {
    Instance in = RandomInstance(rng, 5 + static_cast<int>(rng.Below(30)), 2 + static_cast<int>(rng.Below(12)));
    auto a = SolveAllocation(in.types, in.resources);
    ASSERT_TRUE(a.ok()) << a.status().message();
    ExpectFeasible(in.types, in.resources, *a);
    const double greedy = GreedyValue(in), upper = UpperBound(in);
    EXPECT_GE(a->objective, greedy - 1e-6 * (1 + greedy)) << "instance " << iter;
    EXPECT_LE(a->objective, upper + 1e-6 * (1 + upper)) << "instance " << iter;
    EXPECT_GT(a->iterations, 0);
  }
}

TEST(LpAlloc, ZeroSpeedEntriesStayZero) {
  // Type 0 runs only on CUDA cards (resource 0), type 1 only on Ascend (resource 1), type 2
  // anywhere. Even with plenty of room on the "wrong" resource, nothing goes where speed is 0.
  std::vector<LpResource> rs = {Res(2), Res(100)};
  std::vector<LpJobType> ty = {Type(50, {5, 0}), Type(50, {0, 1}), Type(50, {1, 1})};
  auto a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok());
  ExpectFeasible(ty, rs, *a);
  EXPECT_EQ(a->x[0][1], 0);
  EXPECT_EQ(a->x[1][0], 0);
  EXPECT_NEAR(a->x[0][0], 2, 1e-9);
  EXPECT_NEAR(a->x[1][1] + a->x[2][1], 100, 1e-9);

  Rng rng(5);
  Instance in = RandomInstance(rng, 40, 15, 0.6);
  a = SolveAllocation(in.types, in.resources, {});
  ASSERT_TRUE(a.ok());
  ExpectFeasible(in.types, in.resources, *a);  // checks x == 0 where speed == 0
  LpOptions fair;
  fair.fair = true;
  a = SolveAllocation(in.types, in.resources, fair);
  ASSERT_TRUE(a.ok());
  ExpectFeasible(in.types, in.resources, *a);
}

TEST(LpAlloc, PenaltiesShiftWorkToTheCheaperResource) {
  // Same speed everywhere; resource 1 is cleaner (lower penalty) and can take half the demand.
  std::vector<LpResource> rs = {Res(10, 0.4), Res(5, 0.1)};
  std::vector<LpJobType> ty = {Type(10, {1, 1})};
  auto a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok());
  EXPECT_NEAR(a->x[0][1], 5, 1e-9);
  EXPECT_NEAR(a->x[0][0], 5, 1e-9);
  EXPECT_NEAR(a->objective, 5 * 0.9 + 5 * 0.6, 1e-9);

  // A penalty at or above the speed makes a resource worthless: it is not used at all.
  rs = {Res(10, 1.0), Res(5, 0.1)};
  a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->x[0][0], 0);
  EXPECT_NEAR(a->x[0][1], 5, 1e-9);

  // A faster but dirtier resource still wins when the speed gap exceeds the penalty gap.
  rs = {Res(10, 0.5), Res(10, 0.1)};
  ty = {Type(10, {2, 1})};
  a = SolveAllocation(ty, rs);
  ASSERT_TRUE(a.ok());
  EXPECT_NEAR(a->x[0][0], 10, 1e-9);
}

TEST(LpAlloc, FairModeSharesWhatThroughputStarves) {
  // One resource of 4; A earns 2 per accelerator, B 1. Throughput gives A everything.
  std::vector<LpResource> rs = {Res(4)};
  std::vector<LpJobType> ty = {Type(4, {2}), Type(4, {1})};
  auto thr = SolveAllocation(ty, rs);
  ASSERT_TRUE(thr.ok());
  EXPECT_NEAR(thr->x[0][0], 4, 1e-9);
  EXPECT_EQ(thr->x[1][0], 0);

  LpOptions fair;
  fair.fair = true;
  auto a = SolveAllocation(ty, rs, fair);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ExpectFeasible(ty, rs, *a);
  EXPECT_NEAR(a->fair_level, 0.5, 1e-7);
  EXPECT_NEAR(a->x[0][0], 2, 1e-5);
  EXPECT_NEAR(a->x[1][0], 2, 1e-5);

  // Heterogeneous: H800 (4) and 910B (4). A: 3 on H800, 1 on 910B. B: only on H800 (stack), 1.5.
  // Throughput: A takes every H800, B starves. Max-min: give B h H800s, A the rest plus h 910Bs:
  // (3(4-h) + h) / 12 = h / 4  =>  h = 2.4, level 0.6; then throughput 3*1.6 + 2.4 + 1.5*2.4 = 10.8.
  rs = {Res(4), Res(4)};
  ty = {Type(4, {3, 1}), Type(4, {1.5, 0})};
  thr = SolveAllocation(ty, rs);
  ASSERT_TRUE(thr.ok());
  EXPECT_EQ(thr->x[1][0], 0);
  EXPECT_NEAR(thr->objective, 12, 1e-9);
  a = SolveAllocation(ty, rs, fair);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ExpectFeasible(ty, rs, *a);
  EXPECT_NEAR(a->fair_level, 0.6, 1e-7);
  EXPECT_NEAR(a->x[1][0], 2.4, 1e-5);
  EXPECT_NEAR(a->x[0][0], 1.6, 1e-5);
  EXPECT_NEAR(a->x[0][1], 2.4, 1e-5);
  EXPECT_NEAR(a->objective, 10.8, 1e-5);
  EXPECT_GE(Normalised(ty, rs, a->x, 0), 0.6 - 1e-5);
  EXPECT_GE(Normalised(ty, rs, a->x, 1), 0.6 - 1e-5);
}

TEST(LpAlloc, FairModeWeightsScaleTheGuarantee) {
  // Weighted max-min: type 1 (weight 3) is owed 3x the normalised throughput of type 0.
  std::vector<LpResource> rs = {Res(8)};
  std::vector<LpJobType> ty = {Type(8, {1}, 1), Type(8, {1}, 3)};
  LpOptions fair;
  fair.fair = true;
  auto a = SolveAllocation(ty, rs, fair);
  ASSERT_TRUE(a.ok());
  // x0/8 = z, x1/8 = 3z, x0 + x1 = 8  =>  z = 0.25: x0 = 2, x1 = 6.
  EXPECT_NEAR(a->fair_level, 0.25, 1e-7);
  EXPECT_NEAR(a->x[0][0], 2, 1e-5);
  EXPECT_NEAR(a->x[1][0], 6, 1e-5);
}

TEST(LpAlloc, FairModeOnRandomInstances) {
  Rng rng(17);
  LpOptions fair;
  fair.fair = true;
  for (int iter = 0; iter < 10; ++iter) {
    Instance in = RandomInstance(rng, 5 + static_cast<int>(rng.Below(20)), 2 + static_cast<int>(rng.Below(8)));
    auto thr = SolveAllocation(in.types, in.resources);
    auto a = SolveAllocation(in.types, in.resources, fair);
    ASSERT_TRUE(thr.ok() && a.ok()) << a.status().message();
    ExpectFeasible(in.types, in.resources, *a);
    // Fairness costs throughput, never adds any.
    EXPECT_LE(a->objective, thr->objective + 1e-6 * (1 + thr->objective));
    // Every type that can run keeps the level; the least one sits at it.
    double least = std::numeric_limits<double>::infinity(), least_thr = least;
    for (size_t t = 0; t < in.types.size(); ++t) {
      bool can = false;
      for (size_t r = 0; r < in.resources.size(); ++r) can |= in.types[t].speed[r] > 0;
      if (!can) continue;
      const double n = Normalised(in.types, in.resources, a->x, t) / in.types[t].weight;
      EXPECT_GE(n, a->fair_level * (1 - 1e-5) - 1e-7) << "type " << t;
      least = std::min(least, n);
      least_thr = std::min(least_thr, Normalised(in.types, in.resources, thr->x, t) / in.types[t].weight);
    }
    EXPECT_NEAR(least, a->fair_level, 1e-5 * (1 + a->fair_level));
    // Max-min beats (or ties) the throughput allocation on its own measure.
    EXPECT_GE(a->fair_level, least_thr - 1e-7);
    EXPECT_GT(a->fair_level, 0);
  }
}

TEST(LpAlloc, DeterministicAndThreadSafe) {
  Rng rng(23);
  Instance in = RandomInstance(rng, 60, 20);
  for (bool fair : {false, true}) {
    LpOptions opt;
    opt.fair = fair;
    auto first = SolveAllocation(in.types, in.resources, opt);
    ASSERT_TRUE(first.ok());
    std::vector<Result<LpAllocation>> results(4, Status(StatusCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        results[i] = SolveAllocation(in.types, in.resources, opt);
        ReleaseLpSolverThreadState();  // or the thread's solver environment leaks
      });
    for (auto& th : threads) th.join();
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->x, first->x);  // bit for bit
      EXPECT_EQ(r->objective, first->objective);
      EXPECT_EQ(r->iterations, first->iterations);
    }
  }
}

TEST(LpAlloc, EmptyAndDegenerateInputs) {
  auto a = SolveAllocation({}, {});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->x.empty());
  EXPECT_EQ(a->objective, 0);

  // No resources: every type gets an empty row.
  a = SolveAllocation({Type(3, {}), Type(0, {})}, {});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->x.size(), 2u);
  EXPECT_TRUE(a->x[0].empty());

  // Zero demand, zero capacity, zero speed: nothing to allocate, in both modes.
  LpOptions fair;
  fair.fair = true;
  std::vector<LpResource> rs = {Res(0), Res(5)};
  std::vector<LpJobType> ty = {Type(0, {1, 1}), Type(4, {1, 0}), Type(4, {0, 0})};
  for (const LpOptions& o : {LpOptions{}, fair}) {
    a = SolveAllocation(ty, rs, o);
    ASSERT_TRUE(a.ok()) << a.status().message();
    for (const auto& row : a->x)
      for (double v : row) EXPECT_EQ(v, 0);
    EXPECT_EQ(a->objective, 0);
    EXPECT_EQ(a->fair_level, 0);
  }
}

TEST(LpAlloc, BadInputsAreErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<LpResource> rs = {Res(4), Res(4)};
  auto bad = [&](const std::vector<LpJobType>& ty, const std::vector<LpResource>& res, LpOptions o, const char* what) {
    auto a = SolveAllocation(ty, res, o);
    ASSERT_FALSE(a.ok()) << what;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_NE(a.status().message().find(what), std::string::npos) << a.status().message();
  };
  bad({Type(1, {1})}, rs, {}, "1 speeds for 2 resources");
  bad({Type(1, {1, 1}), Type(1, {1, 1, 1})}, rs, {}, "job type 1");
  bad({Type(-1, {1, 1})}, rs, {}, "demand -1");
  bad({Type(nan, {1, 1})}, rs, {}, "demand nan");
  bad({Type(1, {1, -2})}, rs, {}, "speed on resource 1 is -2");
  bad({Type(1, {inf, 1})}, rs, {}, "speed on resource 0 is inf");
  bad({Type(1, {1, 1}, -1)}, rs, {}, "weight -1");
  bad({Type(1, {1, 1})}, {Res(4), Res(-4)}, {}, "resource 1: capacity -4");
  bad({Type(1, {1, 1})}, {Res(inf), Res(4)}, {}, "resource 0: capacity inf");
  bad({Type(1, {1, 1})}, {Res(4, -0.1), Res(4)}, {}, "penalty -0.1");
  bad({Type(1, {1, 1})}, {Res(4, nan), Res(4)}, {}, "penalty nan");
  LpOptions o;
  o.fair_slack = 1;
  bad({Type(1, {1, 1})}, rs, o, "fair_slack");
  o = {};
  o.time_limit_ms = 0;
  bad({Type(1, {1, 1})}, rs, o, "time_limit_ms");
  o = {};
  o.iteration_limit = -1;
  bad({Type(1, {1, 1})}, rs, o, "iteration_limit");
}

TEST(LpAlloc, SolverLimitIsAnError) {
  Rng rng(29);
  Instance in = RandomInstance(rng, 50, 30);
  LpOptions o;
  o.iteration_limit = 1;
  auto a = SolveAllocation(in.types, in.resources, o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInternal);
  EXPECT_NE(a.status().message().find("iteration limit"), std::string::npos) << a.status().message();
  o.fair = true;
  a = SolveAllocation(in.types, in.resources, o);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("max-min stage"), std::string::npos) << a.status().message();
}

TEST(LpAlloc, LargeInstanceSolves) {
  Rng rng(31);
  Instance in = RandomInstance(rng, 200, 100);
  for (bool fair : {false, true}) {
    LpOptions o;
    o.fair = fair;
    auto a = SolveAllocation(in.types, in.resources, o);
    ASSERT_TRUE(a.ok()) << a.status().message();
    ExpectFeasible(in.types, in.resources, *a);
    if (!fair) {
      EXPECT_GE(a->objective, GreedyValue(in) - 1e-6 * a->objective);
      EXPECT_LE(a->objective, UpperBound(in) * (1 + 1e-6));
    }
  }
}

// Column generation (the default on large instances) reaches the optimum of the full LP.
TEST(LpAlloc, ColumnGenerationMatchesTheFullLp) {
  Rng rng(41);
  for (int iter = 0; iter < 3; ++iter) {
    Instance in = RandomInstance(rng, 120 + 40 * iter, 40 + 10 * iter, 0.2 * iter);
    for (bool fair : {false, true}) {
      LpOptions gen, full;
      gen.fair = full.fair = fair;
      full.column_generation = false;
      auto a = SolveAllocation(in.types, in.resources, gen);
      auto b = SolveAllocation(in.types, in.resources, full);
      ASSERT_TRUE(a.ok() && b.ok());
      ExpectFeasible(in.types, in.resources, *a);
      EXPECT_NEAR(a->objective, b->objective, 1e-6 * b->objective) << "instance " << iter << " fair " << fair;
      EXPECT_NEAR(a->fair_level, b->fair_level, 1e-6) << "instance " << iter;
      // The generated LP holds far fewer columns: most pairs stay out.
      size_t used_a = 0;
      for (const auto& row : a->x)
        for (double v : row) used_a += v > 0;
      EXPECT_LE(used_a, in.types.size() + in.resources.size() + (fair ? in.types.size() : 0));
    }
  }
}

TEST(LpAlloc, TargetSharesNormaliseRows) {
  LpAllocation a;
  a.x = {{2, 6, 0}, {0, 0, 0}, {0, 0, 5}};
  auto s = TargetShares(a);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0][0], 0.25);
  EXPECT_DOUBLE_EQ(s[0][1], 0.75);
  EXPECT_EQ(s[0][2], 0);
  EXPECT_EQ(s[1], std::vector<double>(3, 0.0));
  EXPECT_EQ(s[2], (std::vector<double>{0, 0, 1}));

  Rng rng(37);
  Instance in = RandomInstance(rng, 30, 10);
  auto sol = SolveAllocation(in.types, in.resources);
  ASSERT_TRUE(sol.ok());
  s = TargetShares(*sol);
  for (size_t t = 0; t < s.size(); ++t) {
    double sum = 0, given = 0;
    for (size_t r = 0; r < s[t].size(); ++r) {
      sum += s[t][r];
      given += sol->x[t][r];
      if (sol->x[t][r] == 0) {
        EXPECT_EQ(s[t][r], 0);
      }
    }
    if (given > 0) EXPECT_NEAR(sum, 1, 1e-12);
    else EXPECT_EQ(sum, 0);
  }
}

}  // namespace
}  // namespace suanli
