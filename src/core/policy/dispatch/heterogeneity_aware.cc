// heterogeneity-aware dispatch (Gavel, Narayanan et al., OSDI'20, applied
// across centers). Jobs that behave alike (same eligible models, class and
// measured run times) form a type; each (center, model) pool is a resource.
// Every round (and when a new type appears) an LP gives each type a share of
// each resource that maximises effective throughput (speed x accelerators),
// optionally less a carbon or price penalty per pool, or max-min fair first.
// An arriving job goes to the resource, among those its type was given and
// that can run it now or later, whose actual share (accelerators of that type
// sent there and not yet done) lags its target most, and is held to that
// model there. A target resource already holding its capacity in jobs sent
// there (of any type) is skipped: the LP's shares were solved for the demand
// of its last round, and a burst of one type (six 8-accelerator jobs in one
// second, for a pool of 8) must not queue on one pool while others stand
// idle. Types the LP gave nothing (overload), jobs whose targets are all full
// and services fall back to the earliest completion. Ties: lower resource
// index (center, then model).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "core/model/energy.h"
#include "core/policy/dispatch/allocation_lp.h"
#include "core/policy/dispatch/dispatcher.h"

namespace suanli {
namespace {

class HeterogeneityAware : public Dispatcher {
 public:
  HeterogeneityAware(const DispatchSpec& spec, const Network& network, const Catalog& catalog)
      : Dispatcher(spec, network, catalog) {
    for (CenterId c : network.centers.ids())
      for (size_t m = 0; m < catalog.size(); ++m)
        if (capacity_[c][m] > 0) res_.push_back({c, static_cast<ModelId>(m)});
    sent_.assign(res_.size(), 0);
  }

  DispatchDecision Dispatch(JobId id, double work, Time now, const DispatchView& v) override {
    Done(id);
    const Job& job = v.workload.jobs[id];
    if (job.service || job.num_gpus == 0) return Dispatcher::Dispatch(id, work, now, v);
    const double dev = static_cast<double>(job.GpuMilli()) / kWholeDevice;
    uint32_t t = TypeOf(job, v);
    types_[t].demand += dev;
    if (dirty_ || now >= next_solve_) Solve(now, v);

    // The resource whose share lags its target most.
    Type& ty = types_[t];
    double total = 0;
    for (double a : ty.assigned) total += a;
    int best = -1;
    double best_gap = -std::numeric_limits<double>::infinity();
    Candidate best_cand;
    for (size_t r = 0; r < res_.size(); ++r) {
      double target = r < ty.target.size() ? ty.target[r] : 0;
      if (target <= 0) continue;
      if (sent_[r] + dev > capacity_[res_[r].center][res_[r].model] + 1e-9) continue;  // full
      double gap = target - (total > 0 ? ty.assigned[r] / total : 0);
      if (gap <= best_gap) continue;
      Candidate k;
      const ModelMask one = ModelMask{1} << res_[r].model;
      if (!(ty.eligible & one) || !Evaluate(job, work, one, true, res_[r].center, now, v, &k)) continue;
      best_gap = gap;
      best = static_cast<int>(r);
      best_cand = k;
    }
    DispatchDecision d;
    if (best >= 0) {
      d = Send(best_cand, now, ModelMask{1} << res_[best].model);
      if (explain_) d.why = "its job type's share of this pool lags the LP's target most";
    } else {
      d = Dispatcher::Dispatch(id, work, now, v);
      if (d.kind != DispatchDecision::Kind::kSend) {
        types_[t].demand -= dev;
        return d;
      }
      best = ResourceOf(d.center, job, v);
    }
    if (!job_.contains(id)) job_.resize(id.value() + 1);
    job_[id] = {t, best, dev};
    if (best >= 0) {
      ty.assigned[best] += dev;
      sent_[best] += dev;
    }
    return d;
  }

  void Done(JobId id) override {
    if (!job_.contains(id) || job_[id].type == kNone) return;
    Entry& e = job_[id];
    types_[e.type].demand = std::max(0.0, types_[e.type].demand - e.dev);
    if (e.res >= 0) {
      types_[e.type].assigned[e.res] = std::max(0.0, types_[e.type].assigned[e.res] - e.dev);
      sent_[e.res] = std::max(0.0, sent_[e.res] - e.dev);
    }
    e = {};
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Resource {
    CenterId center;
    ModelId model;
  };
  struct Type {
    Job rep;  // a job of this type as it asked (for speeds; the engine may since have held it to one model)
    ModelMask eligible = 0;
    double demand = 0;
    std::vector<double> assigned;  // accelerators sent per resource, not yet done
    std::vector<double> target;    // LP share per resource
  };
  struct Entry {
    uint32_t type = kNone;
    int res = -1;
    double dev = 0;
  };

  uint32_t TypeOf(const Job& job, const DispatchView& v) {
    ModelMask mask = EligibleModels(job, catalog_, v.workload);
    auto key = std::make_tuple(mask, static_cast<int>(job.cls), job.speed_override);
    auto [it, added] = type_of_.try_emplace(key, static_cast<uint32_t>(types_.size()));
    if (added) {
      Type ty;
      ty.rep = job;
      ty.eligible = mask;
      ty.assigned.assign(res_.size(), 0);
      types_.push_back(std::move(ty));
      dirty_ = true;
    }
    return it->second;
  }

  int ResourceOf(CenterId c, const Job& job, const DispatchView& v) const {
    int best = -1;
    double speed = 0;
    const ModelMask eligible = EligibleModels(job, catalog_, v.workload);
    for (size_t r = 0; r < res_.size(); ++r) {
      if (res_[r].center != c) continue;
      double s = (eligible >> res_[r].model & 1) ? Speed(job, res_[r].model, catalog_, v.workload) : 0;
      if (s > speed) speed = s, best = static_cast<int>(r);
    }
    return best;
  }

  void Solve(Time now, const DispatchView& v) {
    dirty_ = false;
    next_solve_ = now + spec_.round;
    // Penalties: a weight of 1 takes half a reference unit of speed off the
    // dirtiest (or dearest) pool per accelerator, proportionally less off
    // the others, at this hour.
    std::vector<double> carbon(res_.size()), price(res_.size());
    double max_carbon = 0, max_price = 0;
    for (size_t r = 0; r < res_.size(); ++r) {
      const Center& c = network_.centers[res_[r].center];
      double kw = catalog_.model(res_[r].model).power_w * c.pue / 1000.0;
      const int hour = LocalHour(c, now, v.start_hour);
      carbon[r] = kw * c.carbon_g_per_kwh[hour];
      price[r] = kw * c.price_per_kwh[hour];
      max_carbon = std::max(max_carbon, carbon[r]);
      max_price = std::max(max_price, price[r]);
    }
    std::vector<LpResource> resources(res_.size());
    for (size_t r = 0; r < res_.size(); ++r) {
      resources[r].capacity = v.centers[res_[r].center].up ? capacity_[res_[r].center][res_[r].model] : 0;
      double p = 0;
      if (spec_.w_carbon > 0 && max_carbon > 0) p += spec_.w_carbon * carbon[r] / max_carbon;
      if (spec_.w_cost > 0 && max_price > 0) p += spec_.w_cost * price[r] / max_price;
      resources[r].penalty = 0.5 * p;
    }
    std::vector<LpJobType> lp;
    std::vector<uint32_t> which;
    for (uint32_t t = 0; t < types_.size(); ++t) {
      types_[t].target.assign(res_.size(), 0);
      if (types_[t].demand <= 1e-9) continue;
      const Job& rep = types_[t].rep;
      ModelMask mask = EligibleModels(rep, catalog_, v.workload);
      LpJobType ty;
      ty.demand = types_[t].demand;
      ty.speed.assign(res_.size(), 0);
      for (size_t r = 0; r < res_.size(); ++r)
        if (mask >> res_[r].model & 1) ty.speed[r] = Speed(rep, res_[r].model, catalog_, v.workload);
      lp.push_back(std::move(ty));
      which.push_back(t);
    }
    if (lp.empty()) return;
    LpOptions opt;
    opt.fair = spec_.fair;
    auto sol = SolveAllocation(lp, resources, opt);
    ++solves_;
    if (!sol.ok()) return;  // keep no targets: jobs fall back to earliest completion this round
    auto shares = TargetShares(*sol);
    for (size_t i = 0; i < which.size(); ++i) types_[which[i]].target = std::move(shares[i]);
  }

  std::vector<Resource> res_;
  std::vector<double> sent_;  // per resource: accelerators of every type sent there, not yet done
  std::vector<Type> types_;
  std::map<std::tuple<ModelMask, int, uint32_t>, uint32_t> type_of_;
  IdVector<JobId, Entry> job_;
  bool dirty_ = true;
  Time next_solve_ = 0;
  uint64_t solves_ = 0;
};

}  // namespace

std::unique_ptr<Dispatcher> MakeHeterogeneityAware(const DispatchSpec& spec, const Network& network,
                                                   const Catalog& catalog) {
  return std::make_unique<HeterogeneityAware>(spec, network, catalog);
}

}  // namespace suanli
