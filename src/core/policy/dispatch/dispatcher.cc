#include "core/policy/dispatch/dispatcher.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.h"
#include "core/model/energy.h"

namespace suanli {

std::unique_ptr<Dispatcher> MakeHeterogeneityAware(const DispatchSpec& spec, const Network& network,
                                                   const Catalog& catalog);

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Preset {
  const char* name;
  const char* description;
  DispatchSpec spec;
};

std::vector<Preset> Presets() {
  std::vector<Preset> p;
  DispatchSpec s;
  s.name = "isolated";
  s.isolated = true;
  p.push_back({"isolated", "every job stays in its home center (centers not joined; the baseline)", s});
  s = {};
  s.name = "earliest-start";
  p.push_back({"earliest-start", "the center where the job would start first (Slurm's multi-cluster rule)", s});
  s = {};
  s.name = "data-aware";
  s.by_start = false;
  s.w_data = 1;
  p.push_back({"data-aware", "earliest completion, counting the time to stage the dataset over the links", s});
  s = {};
  s.name = "cost-aware";
  s.by_start = false;
  s.w_time = 0.25;
  s.w_cost = 1;
  s.defer = true;
  p.push_back({"cost-aware", "cheapest energy (tariff by hour x PUE); deferrable jobs wait for cheaper hours", s});
  s = {};
  s.name = "carbon-aware";
  s.by_start = false;
  s.w_time = 0.25;
  s.w_carbon = 1;
  s.defer = true;
  p.push_back({"carbon-aware", "least CO2 (grid intensity by hour x PUE); deferrable jobs wait for cleaner hours", s});
  s = {};
  s.name = "heterogeneity-aware";
  s.by_start = false;
  s.lp = true;
  p.push_back({"heterogeneity-aware",
               "Gavel's LP: each job type's share of each (center, model) pool maximises effective throughput", s});
  return p;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> DispatchPolicies() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : Presets()) out.emplace_back(p.name, p.description);
  return out;
}

std::string_view DeferredFor(const DispatchSpec& spec) {
  if (!spec.defer || spec.isolated) return "";
  if (spec.w_cost > 0 && spec.w_carbon > 0) return "price and carbon";
  if (spec.w_cost > 0) return "price";
  if (spec.w_carbon > 0) return "carbon";
  return "";
}

Result<DispatchSpec> ParseDispatchSpec(std::string_view text) {
  auto parts = Split(Trim(text), ':');
  if (parts.empty() || Trim(parts[0]).empty()) return InvalidArgument("empty dispatch policy");
  std::string name(Trim(parts[0]));
  DispatchSpec spec;
  bool found = false;
  std::string known;
  for (const auto& p : Presets()) {
    known += known.empty() ? "" : ", ";
    known += p.name;
    if (name == p.name) {
      spec = p.spec;
      found = true;
    }
  }
  if (!found) return InvalidArgument("unknown dispatch policy '{}' (known: {})", name, known);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view kv = Trim(parts[i]);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos)
      return InvalidArgument("dispatch policy '{}': expected KEY=VALUE, got '{}'", text, kv);
    std::string_view key = Trim(kv.substr(0, eq));
    auto value = ParseDouble(Trim(kv.substr(eq + 1)));
    if (!value || !std::isfinite(*value) || *value < 0)
      return InvalidArgument("dispatch policy '{}': '{}' needs a number >= 0", text, key);
    if (key == "time") spec.w_time = *value;
    else if (key == "data") spec.w_data = *value;
    else if (key == "cost") spec.w_cost = *value;
    else if (key == "carbon") spec.w_carbon = *value;
    else if (key == "defer") spec.defer = *value != 0;
    else if (key == "round" && spec.lp) {
      if (*value < 1 || *value > 1e9)
        return InvalidArgument("dispatch policy '{}': round must be between 1 and 1e9 seconds", text);
      spec.round = SecondsF(*value);
    } else if (key == "fair" && spec.lp) spec.fair = *value != 0;
    else
      return InvalidArgument("dispatch policy '{}': unknown key '{}' (keys: time, data, cost, carbon, defer{})", text,
                             key, spec.lp ? ", round, fair" : "");
  }
  if (spec.isolated && parts.size() > 1) return InvalidArgument("dispatch policy 'isolated' takes no weights");
  spec.text = std::string(Trim(text));
  return spec;
}

Dispatcher::Dispatcher(DispatchSpec spec, const Network& network, const Catalog& catalog)
    : spec_(std::move(spec)), network_(network), catalog_(catalog) {
  const size_t nc = network.centers.size();
  present_.assign(nc, 0);
  capacity_.assign(nc, std::vector<double>(catalog.size(), 0));
  for (const auto& n : network.nodes) {
    if (n.model == kNoModel || n.devices == 0) continue;
    present_[n.center] |= ModelMask{1} << n.model;
    capacity_[n.center][n.model] += n.devices;
  }
  for (CenterId c : network.centers.ids())
    if (!network.centers[c].edge) home_order_.push_back(c);
  if (home_order_.empty())
    for (CenterId c : network.centers.ids()) home_order_.push_back(c);
}

bool Dispatcher::InLatency(const Job& job, CenterId c, const DispatchView& v) const {
  if (!job.service || job.latency_ms <= 0 || job.region == kNoPlace) return true;
  uint32_t r = job.region < v.place_region.size() ? v.place_region[job.region] : UINT32_MAX;
  if (r == UINT32_MAX) return true;  // the engine rejects unknown regions up front
  return RegionLatencyMs(network_.regions[r], network_.centers[c]) <= job.latency_ms;
}

CenterId Dispatcher::HomeOf(const Job& job, const DispatchView& v) const {
  if (job.home != kNoPlace && job.home < v.place_center.size() && v.place_center[job.home] != kNoCenter)
    return v.place_center[job.home];
  const size_t n = home_order_.size();
  if (job.service) {  // a service's home is the nearest center within its bound
    CenterId best = kNoCenter;
    double best_ms = kInf;
    uint32_t r = job.region < v.place_region.size() ? v.place_region[job.region] : UINT32_MAX;
    for (CenterId c : network_.centers.ids()) {
      const Scheduler* s = r == UINT32_MAX ? nullptr : v.centers[c].sched;
      if (!s || !s->WhyNever(job).empty()) continue;
      double ms = RegionLatencyMs(network_.regions[r], network_.centers[c]);
      if (ms < best_ms) best_ms = ms, best = c;
    }
    if (best != kNoCenter) return best;
  }
  for (size_t k = 0; k < n; ++k) {
    CenterId c = home_order_[(job.tenant.value() + k) % n];
    const Scheduler* s = v.centers[c].sched;
    if (s && s->WhyNever(job).empty()) return c;
  }
  return home_order_[job.tenant.value() % n];
}

double Dispatcher::WaitEstimate(const Job& job, ModelMask eligible, CenterId c, Time now, const DispatchView& v) const {
  const CenterStatus& cs = v.centers[c];
  const ClusterState& st = cs.sched->state();
  double cap = 0, free_whole = 0;
  bool fits = false;
  const int need = job.IsShared() ? 1 : static_cast<int>(job.num_gpus);
  if (job.num_gpus == 0) {
    fits = true;
    cap = 1;
  }
  for (size_t m = 0; m < catalog_.size() && job.num_gpus > 0; ++m) {
    if (!(eligible >> m & 1)) continue;
    int slot = st.SlotOfModel(static_cast<ModelId>(m));
    cap += capacity_[c][m];
    free_whole += static_cast<double>(st.slot_free_whole(slot));
    if (fits) continue;
    if (job.IsShared()) {
      fits = st.slot_free_milli(slot) >= job.gpu_milli;
    } else if (job.Spread()) {
      // Free enough for its share on `nodes` nodes.
      int found = 0;
      st.ForEachWithFreeWhole(slot, need / job.nodes, [&](NodeId) { return !(fits = ++found >= job.nodes); });
    } else if (need <= st.slot_max_devices(slot)) {
      st.ForEachWithFreeWhole(
          slot, need, [&](NodeId) { return !(fits = true); }, job.cpu_milli);
    } else {
      fits = st.slot_free_whole(slot) >= need;
    }
  }
  if (cap <= 0) return kInf;
  const double now_s = ToSeconds(now);
  double wait = 0;
  if (!fits || cs.sched->num_pending() > 0) wait += cs.backlog_dev_s / cap;
  if (!fits && cs.running_devices > 0) {
    // The busy accelerators must free what is missing: their mean remaining
    // time, scaled by the share of them that must end.
    double avg_left = std::max(0.0, cs.running_end_sum / cs.running_devices - now_s);
    double short_by = std::max(0.0, need - free_whole);
    wait += avg_left * std::min(1.0, short_by / cs.running_devices);
  }
  return wait;
}

bool Dispatcher::Evaluate(const Job& job, double work, ModelMask eligible_models, bool restricted, CenterId c, Time now,
                          const DispatchView& v, Candidate* out) const {
  const CenterStatus& cs = v.centers[c];
  if (!cs.up || !cs.sched || c == v.avoid) return false;
  if (!InLatency(job, c, v)) return false;
  ModelMask eligible = job.num_gpus == 0 ? 0 : eligible_models & present_[c];
  if (job.num_gpus > 0 && eligible == 0) return false;
  if (restricted) {
    Job probe = job;
    probe.models = eligible_models;
    if (!cs.sched->WhyNever(probe).empty()) return false;
  } else if (!cs.sched->WhyNever(job).empty()) {
    return false;
  }
  Candidate k;
  k.center = c;
  if (job.num_gpus > 0) {
    double best = 0;
    for (size_t m = 0; m < catalog_.size(); ++m) {
      if (!(eligible >> m & 1)) continue;
      double s = Speed(job, static_cast<ModelId>(m), catalog_, v.workload);
      if (s > best) best = s, k.model = static_cast<ModelId>(m);
    }
    if (best <= 0) return false;
    k.speed = best;
  }
  k.run_s = work / k.speed;
  k.wait_s = WaitEstimate(job, eligible, c, now, v);
  if (!std::isfinite(k.wait_s)) return false;
  CenterId data =
      job.data_at != kNoPlace && job.data_at < v.place_center.size() ? v.place_center[job.data_at] : kNoCenter;
  if (data != kNoCenter && job.data_gb > 0) {
    k.transfer_s = v.paths.TransferSeconds(data, c, job.data_gb);
    if (!std::isfinite(k.transfer_s)) return false;  // no route to the data
  }
  *out = k;
  return true;
}

bool Dispatcher::Best(const std::vector<Candidate>& cands, const Job& job, Candidate* best) const {
  if (cands.empty()) return false;
  // Each term is divided by the best value among the candidates, so that
  // weights are dimensionless.
  double ref_time = kInf, ref_cost = kInf, ref_carbon = kInf;
  auto time_of = [&](const Candidate& k) {
    double t = ToSeconds(k.delay) + k.wait_s;
    return spec_.by_start ? t : t + k.run_s;
  };
  for (const auto& k : cands) {
    ref_time = std::min(ref_time, time_of(k) + k.transfer_s);
    ref_cost = std::min(ref_cost, k.cost);
    ref_carbon = std::min(ref_carbon, k.carbon);
  }
  ref_time = std::max(ref_time, 60.0);
  ref_cost = std::max(ref_cost, 1e-9);
  ref_carbon = std::max(ref_carbon, 1e-9);
  // A deferrable job only needs to meet its deadline: time does not count
  // as long as it does (candidates that miss it are filtered out before).
  const double wt = job.Deferrable() && spec_.defer ? 0.0 : spec_.w_time;
  double best_score = kInf;
  for (const auto& k : cands) {
    double s = wt * time_of(k) / ref_time + spec_.w_data * k.transfer_s / ref_time;
    if (spec_.w_cost > 0) s += spec_.w_cost * k.cost / ref_cost;
    if (spec_.w_carbon > 0) s += spec_.w_carbon * k.carbon / ref_carbon;
    if (s < best_score - 1e-12) {
      best_score = s;
      *best = k;
    }
  }
  return true;
}

DispatchDecision Dispatcher::Send(const Candidate& k, Time now, ModelMask models) const {
  DispatchDecision d;
  d.kind = DispatchDecision::Kind::kSend;
  d.center = k.center;
  d.models = models;
  d.transfer_s = k.transfer_s;
  d.deferred = k.delay > 0;
  d.at = now + k.delay + SecondsF(k.transfer_s);
  return d;
}

std::string Dispatcher::NoCenterReason(const Job& job, const DispatchView& v) const {
  // The reason of the first center that is up, or that none is.
  for (CenterId c : network_.centers.ids()) {
    const CenterStatus& cs = v.centers[c];
    if (!cs.sched) continue;
    std::string why = cs.sched->WhyNever(job);
    if (!why.empty()) continue;
    if (!InLatency(job, c, v)) continue;
    return cs.up ? "no route to its dataset" : "every center that could run it is down";
  }
  if (job.service && job.latency_ms > 0)
    return fmt::format("no center that can run it is within {} ms of its region", job.latency_ms);
  const Scheduler* s = v.centers.empty() ? nullptr : v.centers.front().sched;
  std::string why = s ? s->WhyNever(job) : "";
  return "no center can run it" + (why.empty() ? "" : " (" + network_.centers.front().name + ": " + why + ")");
}

DispatchDecision Dispatcher::Dispatch(JobId id, double work, Time now, const DispatchView& v) {
  const Job& job = v.workload.jobs[id];
  DispatchDecision d;
  if (spec_.isolated) {
    CenterId home = HomeOf(job, v);
    const CenterStatus& cs = v.centers[home];
    std::string why = cs.sched ? cs.sched->WhyNever(job) : "no scheduler";
    if (!why.empty()) {
      d.kind = DispatchDecision::Kind::kReject;
      d.reason = fmt::format("cannot run at its home center {}: {}", network_.centers[home].name, why);
      return d;
    }
    if (!cs.up || home == v.avoid) {
      d.kind = DispatchDecision::Kind::kHold;
      d.center = home;
      d.reason = cs.up ? "its home center stopped its last run" : "home center down";
      return d;
    }
    Candidate k;
    k.center = home;
    CenterId data =
        job.data_at != kNoPlace && job.data_at < v.place_center.size() ? v.place_center[job.data_at] : kNoCenter;
    if (data != kNoCenter && job.data_gb > 0) k.transfer_s = v.paths.TransferSeconds(data, home, job.data_gb);
    if (!std::isfinite(k.transfer_s)) k.transfer_s = 0;  // isolated: the data is brought by other means
    d = Send(k, now, 0);
    if (explain_) d.why = "its tenant's home center";
    return d;
  }

  std::vector<Candidate> cands;
  const bool energy = spec_.w_cost > 0 || spec_.w_carbon > 0;
  const double devices = job.num_gpus == 0 ? 0 : static_cast<double>(job.GpuMilli()) / kWholeDevice;
  bool any_down = false;
  const ModelMask eligible = EligibleModels(job, catalog_, v.workload);
  for (CenterId c : network_.centers.ids()) {
    Candidate k;
    if (!v.centers[c].up || c == v.avoid) any_down = true;
    if (!Evaluate(job, work, eligible, false, c, now, v, &k)) continue;
    const Center& center = network_.centers[c];
    auto price = [&](Candidate* x) {
      if (!energy || x->model == kNoModel) return;
      Time start = now + x->delay + SecondsF(x->wait_s + x->transfer_s);
      Energy e = BusyEnergy(center, catalog_.model(x->model), devices, start, start + SecondsF(x->run_s), v.start_hour);
      x->cost = e.cost;
      x->carbon = e.carbon_kg;
    };
    if (job.Deferrable() && spec_.defer && energy) {
      // Candidate start hours: now, then each hour boundary in the next day,
      // as long as the run still ends by the deadline.
      Time first = (now / kHour + 1) * kHour;
      for (int h = -1; h < 24; ++h) {
        Candidate x = k;
        x.delay = h < 0 ? 0 : first + h * kHour - now;
        Time end = now + x.delay + SecondsF(x.wait_s + x.transfer_s + x.run_s);
        if (end > job.deadline && h >= 0) break;
        price(&x);
        cands.push_back(x);
      }
    } else {
      price(&k);
      cands.push_back(k);
    }
  }
  Candidate best;
  if (!Best(cands, job, &best)) {
    bool ever = false;
    for (CenterId c : network_.centers.ids()) {
      ever = v.centers[c].sched && v.centers[c].sched->WhyNever(job).empty() && InLatency(job, c, v);
      if (ever) break;
    }
    if (ever && any_down) {
      d.kind = DispatchDecision::Kind::kHold;
      d.reason = "every center that could run it is down";
    } else {
      d.kind = DispatchDecision::Kind::kReject;
      d.reason = NoCenterReason(job, v);
    }
    return d;
  }
  d = Send(best, now, 0);
  if (explain_) d.why = Explain(cands, best, job);
  return d;
}

std::string Dispatcher::Explain(const std::vector<Candidate>& cands, const Candidate& best, const Job& job) const {
  // The figures the policy weighs, for a candidate.
  const bool time = !(job.Deferrable() && spec_.defer) && spec_.w_time > 0;
  auto figures = [&](const Candidate& k) {
    std::vector<std::string> f;
    if (time) {
      const double s = ToSeconds(k.delay) + k.wait_s + k.transfer_s + (spec_.by_start ? 0 : k.run_s);
      f.push_back(fmt::format("{} {}", spec_.by_start ? "starts" : "ends",
                              s < 1 ? std::string("now") : "in " + FormatDuration(SecondsF(s))));
    }
    if (spec_.w_data > 0 && k.transfer_s > 0)
      f.push_back("stages its data in " + FormatDuration(SecondsF(k.transfer_s)));
    if (spec_.w_cost > 0) f.push_back(fmt::format("energy cost {:.3g}", k.cost));
    if (spec_.w_carbon > 0) f.push_back(fmt::format("{:.3g} kg CO2", k.carbon));
    if (k.delay > 0) f.push_back("starting in " + FormatDuration(k.delay));
    return f.empty() ? std::string("can run it") : fmt::format("{}", fmt::join(f, ", "));
  };
  std::string out = figures(best);
  // Each other center's first candidate (candidates come by center, then
  // hour: for a deferrable job, its "now", not its best hour), up to three.
  std::vector<CenterId> shown;
  std::vector<std::string> others;
  for (const Candidate& k : cands) {
    if (k.center == best.center || std::find(shown.begin(), shown.end(), k.center) != shown.end()) continue;
    shown.push_back(k.center);
    if (others.size() < 3) others.push_back(fmt::format("{}: {}", network_.centers[k.center].name, figures(k)));
  }
  if (shown.size() > others.size()) others.push_back(fmt::format("{} more", shown.size() - others.size()));
  if (!others.empty()) out += fmt::format(" (against {})", fmt::join(others, "; "));
  return out;
}

Result<std::unique_ptr<Dispatcher>> MakeDispatcher(const DispatchSpec& spec, const Network& network,
                                                   const Catalog& catalog) {
  if (spec.lp) return MakeHeterogeneityAware(spec, network, catalog);
  return std::make_unique<Dispatcher>(spec, network, catalog);
}

}  // namespace suanli
