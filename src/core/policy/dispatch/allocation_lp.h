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
// Throughput mode (default): variables x[t][r] >= 0 where type t can run on r
// (speed > 0, capacity > 0, demand > 0):
//   maximise   sum_t w_t * sum_r (speed[t][r] - penalty[r]) * x[t][r]
//   subject to sum_r x[t][r] <= demand_t        (a type gets at most what it wants)
//              sum_t x[t][r] <= capacity_r      (a resource gives at most what it has)
// Pairs whose coefficient is <= 0 are left out (they stay 0: an accelerator
// that earns nothing is not handed out). This is a transportation problem: with
// integer demands and capacities the optimum returned is integral.
//
// Fair mode (LpOptions::fair, Gavel's max-min fairness), two stages on the same
// constraints plus one variable z:
//   1. maximise z  s.t.  sum_r (speed[t][r] / best_t) * x[t][r] >= w_t * demand_t * z
//      for every protected type: weight > 0 and somewhere to run; best_t is its
//      best speed over resources of positive capacity. So z* is the least
//      weighted normalised throughput min_t norm_t / w_t, where norm_t =
//      (sum_r speed x) / (demand_t * best_t) is 1 when the type runs all of its
//      demand on its best accelerator. A type of weight 0 is not protected.
//      (One type that can reach only a little capacity caps z* for all.)
//   2. fix z >= z* (1 - fair_slack) and maximise the throughput-mode objective
//      (here every pair that can run is a variable, whatever its coefficient).
//   Stage 2 warm-starts from stage 1's basis.
//
// Solver: GLPK's primal simplex (presolve on in the first solve, messages off),
// with column generation: the LP starts from each type's and each resource's 4
// best pairs; after each solve, the reduced cost of every pair not yet in is
// priced from the row duals and the improving ones are added (largest first,
// at most max(1000, 2(T+R)) a round) until none improves, which proves the
// restricted optimum optimal for the whole LP. With 2000 candidate pairs or
// fewer all are put in at once. The problem is always feasible (x = 0) and
// bounded (x <= demand), so a solver status other than optimal is an error
// (time or iteration limit, numerical trouble). Every GLPK problem object is
// freed on every path. No globals: GLPK keeps its environment per thread, so
// concurrent calls from different threads are safe (see
// ReleaseLpSolverThreadState for threads that end).
//
// Complexity: T + R rows (+ T fairness rows and one column in fair mode), at
// most T*R columns; an O(T*R) pricing pass per generation round; the simplex
// takes roughly a few times (T + R) pivots. Measured (docs/dispatch-lp.md):
// 200 types x 100 resources ~20 ms (fair ~35 ms), 500 x 200 ~0.15 s (fair
// ~0.25 s) of CPU.
//
// Ties and determinism: the same input (same order) gives the same output,
// bit for bit, in both modes: the simplex and the pricing are deterministic
// (pricing ties go to the earlier pair, types then resources). When several
// allocations reach the optimum, the one returned is the vertex the simplex
// path reaches — it depends on the order of types and resources and is not
// otherwise canonical. Values within 1e-9 of 0 are returned as 0. The time
// limit is wall clock: a solve that hits it fails (no partial answer), so
// results never depend on timing, only success may.
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
  bool fair = false;              // Gavel's max-min fairness, then throughput (see above)
  double fair_slack = 1e-6;       // stage 2 keeps z >= z* (1 - fair_slack); in [0, 1)
  int time_limit_ms = 10000;      // per simplex call (wall clock); exceeding it is an error
  int iteration_limit = 0;        // per simplex call; 0 = none; exceeding it is an error
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
