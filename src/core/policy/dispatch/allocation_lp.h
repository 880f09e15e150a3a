// allocation_lp: the linear program behind the heterogeneity-aware dispatch
// policy (Narayanan et al., "Heterogeneity-Aware Cluster Scheduling Policies for
// Deep Learning Workloads", OSDI'20 — Gavel). Each round, the dispatcher groups
// the jobs that behave alike into job types and the accelerators into resources
// (one per center and accelerator model), and asks how many accelerators of each
// resource each type should hold. See docs/dispatch-lp.md.
//
// Assumes: speeds are effective throughputs on one common scale (e.g. relative
// to the reference card), 0 where the type cannot run (software stack, accepted
// models, memory); a type's demand is the accelerators its jobs want in total;
// penalties are on the scale of the speeds (a normalised price or carbon cost
// per accelerator-unit). Allocations are fractional: they are targets, not
// placements (see TargetShares).
//
// Throughput mode (default): variables x[t][r] >= 0 only where speed[t][r] > 0
//   maximise   sum_t w_t * sum_r (speed[t][r] - penalty[r]) * x[t][r]
//   subject to sum_r x[t][r] <= demand_t        (a type gets at most what it wants)
//              sum_t x[t][r] <= capacity_r      (a resource gives at most what it has)
// Variables whose coefficient is <= 0 are left out (they stay 0: an
// accelerator that earns nothing is not handed out).
//
// Fair mode (LpOptions::fair, Gavel's max-min fairness), two stages on the same
// constraints plus one variable z:
//   1. maximise z  s.t.  sum_r (speed[t][r] / best_t) * x[t][r] >= w_t * demand_t * z
//      for every type that can run somewhere (demand > 0, some speed > 0 on a
//      resource of positive capacity); best_t = max_r speed[t][r]. So z is the
//      least weighted normalised throughput min_t norm_t / w_t, where norm_t =
//      (sum_r speed x) / (demand_t * best_t) is 1 when the type runs all of its
//      demand on its best accelerator. A type of weight 0 is not protected.
//   2. fix z >= z* (1 - fair_slack) and maximise the throughput-mode objective
//      (every x with speed > 0 is a variable here, whatever its coefficient).
//   Stage 2 warm-starts from stage 1's basis.
//
// Solver: GLPK's simplex (presolve on in the first solve, scaled, messages
// off). The problem is always feasible (x = 0) and bounded (x <= demand), so a
// solver status other than optimal is reported as an error (time or iteration
// limit, numerical trouble). Every GLPK problem object is freed on every path.
// No globals: GLPK keeps its environment per thread, so concurrent calls from
// different threads are safe.
//
// Complexity: T*R' columns (R' resources with speed > 0 per type), T + R rows
// (+1 column in fair mode); simplex, typically a few hundred to a few
// thousand pivots — see docs/dispatch-lp.md for measured times (200 types x
// 100 resources: tens of milliseconds).
//
// Ties and determinism: the same input (same order) gives the same output:
// the simplex is deterministic. When several allocations reach the optimum,
// the one returned is the vertex the simplex path reaches first — it depends
// on the order of types and resources, and is not otherwise canonical. Values
// within 1e-9 of 0 are returned as 0.
#pragma once

#include <vector>

#include "base/status.h"

namespace suanli {

// A group of waiting/running jobs that behave alike.
struct LpJobType {
  double demand = 0;          // accelerators wanted by the type in total (sum of gang sizes)
  std::vector<double> speed;  // per resource r: effective speed of this type on r (0 = cannot run there)
  double weight = 1;          // priority weight of the type
};

// One (center, accelerator model) pool.
struct LpResource {
  double capacity = 0;  // accelerators
  double penalty = 0;   // per accelerator-unit cost term (e.g. normalised carbon or price), subtracted
};

struct LpOptions {
  bool fair = false;          // Gavel's max-min fairness, then throughput (see above)
  double fair_slack = 1e-6;   // stage 2 keeps z >= z* (1 - fair_slack); in [0, 1)
  int time_limit_ms = 10000;  // per simplex call (wall clock); exceeding it is an error
  int iteration_limit = 0;    // per simplex call; 0 = none; exceeding it is an error
  bool column_generation = true;  // false: every column from the start (same optimum, slower)
};

struct LpAllocation {
  std::vector<std::vector<double>> x;  // x[t][r]: accelerators of resource r given to type t
  double objective = 0;                // sum_t w_t sum_r (speed - penalty) x, for the x returned
  double fair_level = 0;               // fair mode: z*, the least weighted normalised throughput
  int iterations = 0;                  // simplex iterations, all stages
};

// Solves the allocation LP. Errors: InvalidArgument for inconsistent sizes,
// negative or non-finite values, bad options; Internal when the solver fails or
// runs past a limit.
Result<LpAllocation> SolveAllocation(const std::vector<LpJobType>& types, const std::vector<LpResource>& resources,
                                     const LpOptions& opt = {});

// Frees this thread's solver state (GLPK's per-thread environment). A thread that
// called SolveAllocation should call it before it exits, or that state leaks; the
// next SolveAllocation on the thread builds it again. Invalidates nothing of ours
// (no problem object outlives a call), but frees any GLPK object the same thread
// made elsewhere.
void ReleaseLpSolverThreadState();

// Target share per type: row t is x[t] divided by its sum (so it sums to 1), or
// all zero when the type got nothing. The dispatcher sends an arriving job of
// type t to the resource whose actual share lags its target most.
std::vector<std::vector<double>> TargetShares(const LpAllocation& alloc);

}  // namespace suanli
