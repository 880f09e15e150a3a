#include "core/policy/dispatch/allocation_lp.h"

#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

namespace suanli {
namespace {

struct ProbDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};
using ProbPtr = std::unique_ptr<glp_prob, ProbDeleter>;

// Values this close to 0 are returned as 0.
constexpr double kZero = 1e-9;

bool NonNegativeFinite(double v) { return std::isfinite(v) && v >= 0; }

Status Validate(const std::vector<LpJobType>& types, const std::vector<LpResource>& resources, const LpOptions& opt) {
  for (size_t r = 0; r < resources.size(); ++r) {
    if (!NonNegativeFinite(resources[r].capacity))
      return InvalidArgument("allocation LP: resource {}: capacity {} must be finite and >= 0", r,
                             resources[r].capacity);
    if (!NonNegativeFinite(resources[r].penalty))
      return InvalidArgument("allocation LP: resource {}: penalty {} must be finite and >= 0", r, resources[r].penalty);
  }
  for (size_t t = 0; t < types.size(); ++t) {
    const LpJobType& ty = types[t];
    if (ty.speed.size() != resources.size())
      return InvalidArgument("allocation LP: job type {}: {} speeds for {} resources", t, ty.speed.size(),
                             resources.size());
    if (!NonNegativeFinite(ty.demand))
      return InvalidArgument("allocation LP: job type {}: demand {} must be finite and >= 0", t, ty.demand);
    if (!NonNegativeFinite(ty.weight))
      return InvalidArgument("allocation LP: job type {}: weight {} must be finite and >= 0", t, ty.weight);
    for (size_t r = 0; r < ty.speed.size(); ++r)
      if (!NonNegativeFinite(ty.speed[r]))
        return InvalidArgument("allocation LP: job type {}: speed on resource {} is {}, must be finite and >= 0", t, r,
                               ty.speed[r]);
  }
  if (!(opt.fair_slack >= 0 && opt.fair_slack < 1))
    return InvalidArgument("allocation LP: fair_slack {} must be in [0, 1)", opt.fair_slack);
  if (opt.time_limit_ms <= 0) return InvalidArgument("allocation LP: time_limit_ms {} must be > 0", opt.time_limit_ms);
  if (opt.iteration_limit < 0)
    return InvalidArgument("allocation LP: iteration_limit {} must be >= 0 (0 = none)", opt.iteration_limit);
  return Status::Ok();
}

const char* SolverCode(int rc) {
  switch (rc) {
    case GLP_EBADB: return "invalid initial basis";
    case GLP_ESING: return "singular basis matrix";
    case GLP_ECOND: return "ill-conditioned basis matrix";
    case GLP_EBOUND: return "incorrect bounds";
    case GLP_EFAIL: return "solver failure";
    case GLP_EOBJLL:
    case GLP_EOBJUL: return "objective limit reached";
    case GLP_EITLIM: return "iteration limit exceeded";
    case GLP_ETMLIM: return "time limit exceeded";
    case GLP_ENOPFS: return "no primal feasible solution";
    case GLP_ENODFS: return "no dual feasible solution";
    default: return "unknown error";
  }
}

const char* StatusName(int st) {
  switch (st) {
    case GLP_OPT: return "optimal";
    case GLP_FEAS: return "feasible, not proven optimal";
    case GLP_INFEAS: return "infeasible";
    case GLP_NOFEAS: return "no feasible solution";
    case GLP_UNBND: return "unbounded";
    default: return "undefined";
  }
}

// One simplex call; the problem must end optimal.
Status Simplex(glp_prob* p, const LpOptions& opt, bool presolve, const char* stage, int* iterations) {
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = presolve ? GLP_ON : GLP_OFF;
  parm.tm_lim = opt.time_limit_ms;
  if (opt.iteration_limit > 0) parm.it_lim = opt.iteration_limit;
  const int before = glp_get_it_cnt(p);
  int rc = glp_simplex(p, &parm);
  if (!presolve && (rc == GLP_EBADB || rc == GLP_ESING || rc == GLP_ECOND)) {
    // The warm-start basis is unusable: start again from the standard basis.
    glp_std_basis(p);
    rc = glp_simplex(p, &parm);
  }
  *iterations += glp_get_it_cnt(p) - before;
  if (rc == GLP_ETMLIM) return Internal("allocation LP ({}): time limit of {} ms exceeded", stage, opt.time_limit_ms);
  if (rc == GLP_EITLIM)
    return Internal("allocation LP ({}): iteration limit of {} exceeded", stage, opt.iteration_limit);
  if (rc != 0) return Internal("allocation LP ({}): simplex failed: {} (code {})", stage, SolverCode(rc), rc);
  const int st = glp_get_status(p);
  if (st != GLP_OPT) return Internal("allocation LP ({}): solver ended {}, expected optimal", stage, StatusName(st));
  return Status::Ok();
}

struct Column {
  int t, r;
  int j = 0;  // GLPK column index once in the problem, 0 before
};

// Reduced costs within this (relative) tolerance count as 0, as in GLPK (tol_dj).
constexpr double kPriceTol = 1e-7;
// Columns in the first restricted problem: each type's and each resource's best few.
constexpr int kSeedPerRow = 4;
// Below this many candidate columns, all are put in at once (no generation).
constexpr size_t kAllColumns = 2000;

}  // namespace

Result<LpAllocation> SolveAllocation(const std::vector<LpJobType>& types, const std::vector<LpResource>& resources,
                                     const LpOptions& opt) {
  SUANLI_RETURN_IF_ERROR(Validate(types, resources, opt));
  const int T = static_cast<int>(types.size());
  const int R = static_cast<int>(resources.size());
  LpAllocation out;
  out.x.assign(T, std::vector<double>(R, 0.0));

  auto coef = [&](int t, int r) { return types[t].weight * (types[t].speed[r] - resources[r].penalty); };
  auto can_run = [&](int t, int r) {
    return types[t].demand > 0 && types[t].speed[r] > 0 && resources[r].capacity > 0;
  };

  // Fair mode protects the types with positive weight and somewhere to run.
  std::vector<int> fair_row(T, 0);  // the type's fairness row, 0 if unprotected
  int n_fair = 0;
  if (opt.fair)
    for (int t = 0; t < T; ++t) {
      if (types[t].weight <= 0) continue;
      for (int r = 0; r < R; ++r)
        if (can_run(t, r)) {
          fair_row[t] = T + R + ++n_fair;
          break;
        }
    }
  const bool two_stage = n_fair > 0;

  // Candidate columns: where x can be positive and (without fairness) earns something.
  std::vector<Column> cols;
  std::vector<double> best(T, 0.0);  // best speed over the resources the type can use
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      if (!can_run(t, r)) continue;
      best[t] = std::max(best[t], types[t].speed[r]);
      if (!two_stage && coef(t, r) <= 0) continue;
      cols.push_back({t, r});
    }
  if (cols.empty()) return out;

  ProbPtr prob(glp_create_prob());
  glp_prob* p = prob.get();
  glp_set_obj_dir(p, GLP_MAX);

  // Rows 1..T: demand; T+1..T+R: capacity; then one fairness row per protected type.
  glp_add_rows(p, T + R + n_fair);
  for (int t = 0; t < T; ++t) glp_set_row_bnds(p, 1 + t, GLP_UP, 0.0, types[t].demand);
  for (int r = 0; r < R; ++r) glp_set_row_bnds(p, 1 + T + r, GLP_UP, 0.0, resources[r].capacity);
  for (int k = 1; k <= n_fair; ++k) glp_set_row_bnds(p, T + R + k, GLP_LO, 0.0, 0.0);

  // Column z (fair mode) comes first: sum_r (speed / best) x - w d z >= 0 in each fairness row.
  int z = 0;
  if (two_stage) {
    z = glp_add_cols(p, 1);
    glp_set_col_bnds(p, z, GLP_LO, 0.0, 0.0);
    std::vector<int> ind(1);
    std::vector<double> val(1);
    for (int t = 0; t < T; ++t)
      if (fair_row[t]) {
        ind.push_back(fair_row[t]);
        val.push_back(-types[t].weight * types[t].demand);
      }
    glp_set_mat_col(p, z, static_cast<int>(ind.size()) - 1, ind.data(), val.data());
  }

  int stage = 1;  // 1: max z (fair mode only); 2: throughput
  auto objective = [&](const Column& c) { return stage == 1 ? 0.0 : coef(c.t, c.r); };
  auto add_column = [&](Column& c) {
    c.j = glp_add_cols(p, 1);
    glp_set_col_bnds(p, c.j, GLP_DB, 0.0, std::min(types[c.t].demand, resources[c.r].capacity));
    glp_set_obj_coef(p, c.j, objective(c));
    int ind[4] = {0, 1 + c.t, 1 + T + c.r, fair_row[c.t]};
    double val[4] = {0, 1.0, 1.0, fair_row[c.t] ? types[c.t].speed[c.r] / best[c.t] : 0.0};
    glp_set_mat_col(p, c.j, fair_row[c.t] ? 3 : 2, ind, val);
  };

  // Column generation. Most (type, resource) pairs are useless at the optimum, so the LP
  // starts from each type's and each resource's best few columns; after each solve, the
  // reduced cost of every candidate not yet in is computed from the row duals, and the
  // ones that would improve the objective are added (largest first), until none would:
  // then the restricted optimum is optimal for the whole LP (its duals are feasible).
  if (!opt.column_generation || cols.size() <= kAllColumns) {
    for (Column& c : cols) add_column(c);
  } else {
    std::vector<char> seed(cols.size(), 0);
    std::vector<size_t> order(cols.size());
    auto mark_best = [&](auto key_of) {  // within each group, the kSeedPerRow best by coef
      for (size_t i = 0; i < cols.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const int ka = key_of(cols[a]), kb = key_of(cols[b]);
        if (ka != kb) return ka < kb;
        return coef(cols[a].t, cols[a].r) > coef(cols[b].t, cols[b].r);
      });
      int run = 0;
      for (size_t i = 0; i < order.size(); ++i) {
        run = (i > 0 && key_of(cols[order[i]]) == key_of(cols[order[i - 1]])) ? run + 1 : 0;
        if (run < kSeedPerRow) seed[order[i]] = 1;
      }
    };
    mark_best([](const Column& c) { return c.t; });
    mark_best([](const Column& c) { return c.r; });
    for (size_t i = 0; i < cols.size(); ++i)
      if (seed[i]) add_column(cols[i]);
  }
  const size_t max_add = std::max<size_t>(kAllColumns / 2, 2 * static_cast<size_t>(T + R));
  bool presolve = true;
  std::vector<double> dual(T + R + n_fair + 1, 0.0);
  std::vector<std::pair<double, size_t>> better;
  auto solve_stage = [&](const char* name) -> Status {
    for (;;) {
      SUANLI_RETURN_IF_ERROR(Simplex(p, opt, presolve, name, &out.iterations));
      presolve = false;  // later solves warm-start from the basis
      for (int i = 1; i <= T + R + n_fair; ++i) dual[i] = glp_get_row_dual(p, i);
      better.clear();
      for (size_t i = 0; i < cols.size(); ++i) {
        const Column& c = cols[i];
        if (c.j) continue;
        const double cj = objective(c);
        double d = cj - dual[1 + c.t] - dual[1 + T + c.r];
        if (fair_row[c.t]) d -= dual[fair_row[c.t]] * types[c.t].speed[c.r] / best[c.t];
        if (d > kPriceTol * (1 + std::abs(cj))) better.push_back({-d, i});
      }
      if (better.empty()) return Status::Ok();
      if (better.size() > max_add) {
        std::nth_element(better.begin(), better.begin() + max_add, better.end());
        better.resize(max_add);
      }
      std::sort(better.begin(), better.end());
      for (const auto& b : better) add_column(cols[b.second]);
    }
  };

  if (two_stage) {
    glp_set_obj_coef(p, z, 1.0);
    SUANLI_RETURN_IF_ERROR(solve_stage("max-min stage"));
    const double zstar = std::max(0.0, glp_get_col_prim(p, z));
    out.fair_level = zstar;
    // Stage 2: keep everyone at the fair level (less a little slack), maximise throughput.
    const double floor = zstar * (1.0 - opt.fair_slack);
    if (floor > 0) glp_set_col_bnds(p, z, GLP_LO, floor, 0.0);
    glp_set_obj_coef(p, z, 0.0);
    stage = 2;
    for (const Column& c : cols)
      if (c.j) glp_set_obj_coef(p, c.j, objective(c));
    SUANLI_RETURN_IF_ERROR(solve_stage("throughput stage"));
  } else {
    stage = 2;
    for (const Column& c : cols)
      if (c.j) glp_set_obj_coef(p, c.j, objective(c));
    SUANLI_RETURN_IF_ERROR(solve_stage("throughput"));
  }

  for (const Column& c : cols) {
    if (!c.j) continue;
    double v = glp_get_col_prim(p, c.j);
    if (v < kZero) v = 0;
    out.x[c.t][c.r] = v;
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r)
      if (out.x[t][r] > 0) out.objective += coef(t, r) * out.x[t][r];
  return out;
}

void ReleaseLpSolverThreadState() { glp_free_env(); }

std::vector<std::vector<double>> TargetShares(const LpAllocation& alloc) {
  std::vector<std::vector<double>> shares(alloc.x.size());
  for (size_t t = 0; t < alloc.x.size(); ++t) {
    const auto& row = alloc.x[t];
    double sum = 0;
    for (double v : row) sum += v > 0 ? v : 0;
    shares[t].assign(row.size(), 0.0);
    if (sum <= 0) continue;
    for (size_t r = 0; r < row.size(); ++r) shares[t][r] = row[r] > 0 ? row[r] / sum : 0;
  }
  return shares;
}

}  // namespace suanli
