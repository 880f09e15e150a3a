#include "sim/pack.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "base/parallel.h"
#include "base/rng.h"
#include "core/state/cluster_state.h"
#include "io/csv.h"

namespace suanli {

namespace {

// Generous bound on the tasks of one run (tuning a tiny trace up to a huge cluster).
constexpr size_t kMaxArrivals = size_t{20} << 20;
constexpr uint64_t kPlacerSalt = 0x70AC4E5D1F2B3C4DULL;

int64_t GpuMilli(const Job& j) { return j.num_gpus == 0 ? 0 : j.GpuMilli(); }

int RowCount(const PackOptions& o) {
  return std::max(o.min_rows_pct, static_cast<int>(std::ceil(o.tune * 100.0 - 1e-9))) + 1;
}

}  // namespace

PackInput PreparePackInput(std::string name, const Workload& workload, const Catalog& catalog) {
  PackInput in;
  in.name = std::move(name);
  in.workload = &workload;
  in.requests.reserve(workload.jobs.size());
  const ModelMask all = catalog.AllModels();
  for (const Job& j : workload.jobs) {
    PlacementRequest r;
    r.job = j.id;
    r.num_gpus = j.num_gpus;
    r.gpu_milli = j.num_gpus == 1 ? j.gpu_milli : static_cast<uint16_t>(kWholeDevice);
    r.cpu_milli = j.cpu_milli;
    r.mem_mib = j.mem_mib;
    r.models_in_order = false;   // like the artifact: every accepted GPU type is scored together
    r.allow_multi_node = false;  // a task (pod) runs on one node
    if (j.num_gpus > 0) {
      ModelMask mask = j.models ? (j.models & all) : all;
      if (j.stacks) mask &= catalog.ModelsForStacks(j.stacks);
      for (size_t m = 0; m < catalog.size(); ++m)
        if (mask >> m & 1) r.models.push_back(static_cast<ModelId>(m));
    }
    in.requests.push_back(std::move(r));
  }
  in.mix = ComputeTaskMix(workload);
  in.frag = FragModel(in.mix);
  return in;
}

Result<std::vector<JobId>> PackArrivals(const Workload& workload, int64_t capacity_milli, double tune, uint64_t seed) {
  if (!(tune > 0) || !std::isfinite(tune)) return InvalidArgument("tune must be a positive number, got {}", tune);
  const size_t n = workload.jobs.size();
  if (n > kMaxArrivals) return InvalidArgument("workload too large for a packing run ({} tasks)", n);
  Rng rng(seed);
  std::vector<JobId> list;
  list.reserve(n);
  int64_t total = 0;
  for (JobId i : workload.jobs.ids()) {
    list.push_back(i);
    total += GpuMilli(workload.jobs[i]);
  }
  const double target = tune * static_cast<double>(capacity_milli);
  if (static_cast<double>(total) > target) {
    // Remove random tasks until the request fits (order does not matter: shuffled below).
    while (static_cast<double>(total) > target && !list.empty()) {
      size_t i = rng.Below(list.size());
      total -= GpuMilli(workload.jobs[list[i]]);
      list[i] = list.back();
      list.pop_back();
    }
  } else if (total > 0) {
    // Add random copies until the next draw would exceed the target.
    for (;;) {
      const JobId i(static_cast<uint32_t>(rng.Below(n)));
      int64_t g = GpuMilli(workload.jobs[i]);
      if (static_cast<double>(total + g) > target) break;
      total += g;
      list.push_back(i);
      if (list.size() > kMaxArrivals)
        return InvalidArgument("tuning {} to {} x {} milli-GPUs needs more than {} tasks", workload.name, tune,
                               capacity_milli, kMaxArrivals);
    }
  }
  for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[rng.Below(i)]);
  return list;
}

Result<PackRun> RunPack(const PackInput& input, const Network& network, const Catalog& catalog,
                        const std::string& policy, uint64_t seed, const PackOptions& options) {
  auto placer = MakePlacer(policy);
  if (!placer) return InvalidArgument("unknown placement policy '{}'", policy);
  const Workload& w = *input.workload;
  ClusterState state(network, catalog.size());
  const int64_t cap = state.total_capacity_milli();
  if (cap <= 0) return InvalidArgument("the cluster '{}' has no accelerators to pack", network.name);
  SUANLI_ASSIGN_OR_RETURN(auto arrivals, PackArrivals(w, cap, options.tune, seed));
  placer->SetTaskMix(input.mix);
  Rng rng(seed ^ kPlacerSalt);

  PackRun run;
  run.workload = input.name;
  run.policy = policy;
  run.seed = seed;
  run.capacity_milli = cap;
  run.tasks = arrivals.size();

  // Expected fragmentation, kept per node and summed (exact integers).
  const FragModel& frag = input.frag;
  IdVector<NodeId, int64_t> node_frag(state.num_nodes(), 0);
  int64_t cluster_frag = 0;
  for (NodeId n : node_frag.ids()) {
    node_frag[n] = frag.NodeFragScaled(state, n);
    cluster_frag += node_frag[n];
  }

  const int rows = RowCount(options);
  run.rows.reserve(rows);
  auto record = [&]() {
    PackRow r;
    r.arrived_pct = static_cast<int>(run.rows.size());
    r.allocated_pct = 100.0 * static_cast<double>(cap - state.total_free_milli()) / static_cast<double>(cap);
    r.fragmented_pct = 100.0 * frag.ToMilli(cluster_frag) / static_cast<double>(cap);
    run.rows.push_back(r);
  };
  int64_t arrived = 0;
  for (JobId idx : arrivals) {
    const Job& job = w.jobs[idx];
    const int64_t g = GpuMilli(job);
    run.requested_milli += g;
    // Rows whose threshold this task crosses show the state before it.
    while (static_cast<int>(run.rows.size()) < rows &&
           (arrived + g) * 100 > static_cast<int64_t>(run.rows.size()) * cap)
      record();
    arrived += g;
    auto a = placer->Place(state, input.requests[idx], rng);
    if (!a) {
      ++run.failed;
      run.failed_milli += g;
      continue;
    }
    if (!state.CanAllocate(*a))
      return Internal("{} returned an allocation that does not fit (task {} of {})", policy, idx, w.name);
    state.Allocate(*a);
    ++run.placed;
    for (const auto& sh : a->shares) {
      int64_t f = frag.NodeFragScaled(state, sh.node);
      cluster_frag += f - node_frag[sh.node];
      node_frag[sh.node] = f;
    }
  }
  while (static_cast<int>(run.rows.size()) < rows) record();
  run.allocated_milli = cap - state.total_free_milli();
  run.final_allocated_pct = run.rows.back().allocated_pct;
  run.final_fragmented_pct = run.rows.back().fragmented_pct;
  return run;
}

Result<std::vector<PackRun>> RunPackGrid(const std::vector<const PackInput*>& inputs, const Network& network,
                                         const Catalog& catalog, const std::vector<std::string>& policies,
                                         uint64_t seed_lo, uint64_t seed_hi, const PackOptions& options) {
  if (seed_lo > seed_hi) return InvalidArgument("empty seed range {}-{}", seed_lo, seed_hi);
  for (const auto& p : policies)
    if (!MakePlacer(p)) return InvalidArgument("unknown placement policy '{}'", p);
  struct Item {
    const PackInput* input;
    const std::string* policy;
    uint64_t seed;
  };
  std::vector<Item> items;
  for (const PackInput* in : inputs)
    for (const auto& p : policies)
      for (uint64_t s = seed_lo;; ++s) {
        items.push_back({in, &p, s});
        if (s == seed_hi) break;
      }
  // The slowest runs (fgd) start first so that threads finish together; results
  // go to their own slots, so the thread count does not change them.
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return (*items[a].policy == "fgd") > (*items[b].policy == "fgd"); });
  std::vector<std::optional<Result<PackRun>>> results(items.size());
  ParallelFor(order.size(), options.threads, [&](size_t k) {
    const Item& it = items[order[k]];
    results[order[k]] = RunPack(*it.input, network, catalog, *it.policy, it.seed, options);
  });
  std::vector<PackRun> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!results[i]->ok())
      return results[i]->status().Wrap(
          fmt::format("{} / {} / seed {}", items[i].input->name, *items[i].policy, items[i].seed));
    out.push_back(std::move(*results[i]).value());
  }
  return out;
}

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

}  // namespace

Status WritePackCsv(const std::string& path, const std::vector<PackRun>& runs, bool workload_column) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "w"));
  if (!f) return IoError("cannot write '{}'", path);
  std::string buf;
  buf += workload_column ? "workload,policy,seed,arrived_pct,allocated_pct,fragmented_pct\n"
                         : "policy,seed,arrived_pct,allocated_pct,fragmented_pct\n";
  for (const auto& r : runs) {
    for (const auto& row : r.rows) {
      if (workload_column) {
        buf += CsvField(r.workload);
        buf += ',';
      }
      buf += fmt::format("{},{},{},{:.4f},{:.4f}\n", CsvField(r.policy), r.seed, row.arrived_pct, row.allocated_pct,
                         row.fragmented_pct);
    }
    if (buf.size() > (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) return IoError("cannot write '{}'", path);
      buf.clear();
    }
  }
  if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) return IoError("cannot write '{}'", path);
  if (std::fclose(f.release()) != 0) return IoError("cannot write '{}'", path);
  return Status::Ok();
}

std::vector<PackSummary> SummarizePack(const std::vector<PackRun>& runs) {
  std::vector<PackSummary> out;
  for (const auto& r : runs) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const PackSummary& s) { return s.workload == r.workload && s.policy == r.policy; });
    if (it == out.end()) {
      PackSummary s;
      s.workload = r.workload;
      s.policy = r.policy;
      s.allocated_min = s.allocated_max = r.final_allocated_pct;
      out.push_back(s);
      it = out.end() - 1;
    }
    ++it->seeds;
    it->allocated_pct += r.final_allocated_pct;
    it->allocated_min = std::min(it->allocated_min, r.final_allocated_pct);
    it->allocated_max = std::max(it->allocated_max, r.final_allocated_pct);
    it->fragmented_pct += r.final_fragmented_pct;
    it->failed_tasks += static_cast<double>(r.failed);
  }
  for (auto& s : out) {
    const double n = static_cast<double>(s.seeds);
    s.allocated_pct /= n;
    s.fragmented_pct /= n;
    s.failed_tasks /= n;
  }
  return out;
}

Status WritePackSummaryCsv(const std::string& path, const std::vector<PackSummary>& rows) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "w"));
  if (!f) return IoError("cannot write '{}'", path);
  std::string buf =
      "workload,policy,seeds,final_allocated_pct_mean,final_allocated_pct_min,final_allocated_pct_max,"
      "final_fragmented_pct_mean,failed_tasks_mean\n";
  for (const auto& s : rows)
    buf += fmt::format("{},{},{},{:.4f},{:.4f},{:.4f},{:.4f},{:.1f}\n", CsvField(s.workload), CsvField(s.policy),
                       s.seeds, s.allocated_pct, s.allocated_min, s.allocated_max, s.fragmented_pct, s.failed_tasks);
  if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) return IoError("cannot write '{}'", path);
  if (std::fclose(f.release()) != 0) return IoError("cannot write '{}'", path);
  return Status::Ok();
}

std::string PackSummaryTable(const std::vector<PackSummary>& rows) {
  size_t wl = 8, pl = 6;
  for (const auto& s : rows) {
    wl = std::max(wl, s.workload.size());
    pl = std::max(pl, s.policy.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:>5}  {:>12}  {:>15}  {:>13}  {:>12}\n", "workload", wl, "policy", pl,
                                "seeds", "allocated %", "min..max %", "fragmented %", "failed tasks");
  for (const auto& s : rows)
    out += fmt::format("{:<{}}  {:<{}}  {:>5}  {:>12.2f}  {:>6.2f}..{:<6.2f}  {:>13.2f}  {:>12.1f}\n", s.workload, wl,
                       s.policy, pl, s.seeds, s.allocated_pct, s.allocated_min, s.allocated_max, s.fragmented_pct,
                       s.failed_tasks);
  return out;
}

}  // namespace suanli
