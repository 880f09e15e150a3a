// The packing experiment of the FGD paper (Weng et al., ATC'23, Section 6):
// tasks arrive one by one and never leave; how much of the cluster's GPU
// capacity does a placement policy manage to allocate before tasks start to
// fail, and how much free capacity is fragmented on the way?
//
// One run = (workload, placement policy, seed):
//  1. tune: every task of the trace is kept; random copies of its tasks (drawn
//     uniformly with the seed) are added while the total GPU request stays at
//     most tune x the cluster's GPU capacity, stopping at the first draw that
//     would exceed it; if the trace asks for more, random tasks are removed
//     until it fits (the artifact's TunePodsByNodeTotalResource);
//  2. the list is shuffled with the seed (the same list for every policy);
//  3. tasks arrive in that order; each is placed at once with the policy's
//     Placer (the same code the simulator uses), or fails and is dropped;
//     CPU-only tasks take CPU and memory too;
//  4. a row is recorded for every whole percent p of arrived GPU request, from
//     0 to max(130, ceil(100 x tune)): the state after every task whose arrival
//     kept the arrived GPU request at or below p% of capacity (later rows repeat
//     the final state). allocated_pct = allocated GPU capacity / capacity;
//     fragmented_pct = the cluster's expected fragmentation over the workload's
//     task mix (fragmentation.h) / capacity.
// Runs are independent and deterministic per (workload, policy, seed); a grid
// spreads them over threads and its results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "core/policy/place/fragmentation.h"
#include "core/policy/place/placer.h"

namespace suanli {

struct PackOptions {
  double tune = 1.3;     // target total GPU request / cluster GPU capacity (> 0)
  unsigned threads = 0;  // grid runs in parallel; 0 = hardware concurrency
  int min_rows_pct = 130;
};

// A workload prepared once and shared read-only by every run on it.
struct PackInput {
  std::string name;
  const Workload* workload = nullptr;
  IdVector<JobId, PlacementRequest> requests;  // per job: any eligible model, one node
  TaskMix mix;                                 // ComputeTaskMix(*workload)
  FragModel frag;
};
PackInput PreparePackInput(std::string name, const Workload& workload, const Catalog& catalog);

struct PackRow {
  int arrived_pct = 0;
  double allocated_pct = 0;
  double fragmented_pct = 0;
};

struct PackRun {
  std::string workload, policy;
  uint64_t seed = 0;
  std::vector<PackRow> rows;
  size_t tasks = 0, placed = 0, failed = 0;
  int64_t capacity_milli = 0;   // the cluster's GPU capacity
  int64_t requested_milli = 0;  // GPU request of all arriving tasks (after tuning)
  int64_t allocated_milli = 0;  // at the end
  int64_t failed_milli = 0;     // GPU request of the failed tasks
  double final_allocated_pct = 0, final_fragmented_pct = 0;
};

// The arrival order of one seed: jobs of the workload (copies repeat a job).
Result<std::vector<JobId>> PackArrivals(const Workload& workload, int64_t capacity_milli, double tune, uint64_t seed);

Result<PackRun> RunPack(const PackInput& input, const Network& network, const Catalog& catalog,
                        const std::string& policy, uint64_t seed, const PackOptions& options);

// Every (input, policy, seed in [seed_lo, seed_hi]) run, ordered by input, then
// policy as given, then seed.
Result<std::vector<PackRun>> RunPackGrid(const std::vector<const PackInput*>& inputs, const Network& network,
                                         const Catalog& catalog, const std::vector<std::string>& policies,
                                         uint64_t seed_lo, uint64_t seed_hi, const PackOptions& options);

// policy,seed,arrived_pct,allocated_pct,fragmented_pct (with `workload` first when asked).
Status WritePackCsv(const std::string& path, const std::vector<PackRun>& runs, bool workload_column);

// Mean over seeds of the final state, per (workload, policy) in run order.
struct PackSummary {
  std::string workload, policy;
  size_t seeds = 0;
  double allocated_pct = 0, allocated_min = 0, allocated_max = 0;
  double fragmented_pct = 0;
  double failed_tasks = 0;
};
std::vector<PackSummary> SummarizePack(const std::vector<PackRun>& runs);
Status WritePackSummaryCsv(const std::string& path, const std::vector<PackSummary>& rows);
std::string PackSummaryTable(const std::vector<PackSummary>& rows);

}  // namespace suanli
