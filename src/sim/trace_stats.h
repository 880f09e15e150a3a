// Statistics of a workload, for `suanli trace info`: pure functions over a
// Workload (the printing lives in the app).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/job.h"

namespace suanli {

// Accelerators per job: 0, shared (part of one device), 1, 2, 3-4, 5-8, 9-16,
// 17-32, 33-63, 64+.
inline constexpr int kGpuBins = 10;
std::string_view GpuBinLabel(int bin);
int GpuBin(const Job& job);

struct TraceStats {
  uint64_t jobs = 0;
  Time first_submit = 0, last_submit = 0;
  Duration span = 0;             // last_submit - first_submit
  double arrivals_per_hour = 0;  // jobs / span in hours (0 when the span is 0)
  // Submissions by hour of day, counted from the trace's time origin (submit 0 = 00:00).
  std::array<uint64_t, 24> by_hour{};
  int busiest_hour = 0;

  uint64_t tenants = 0;  // distinct tenants and users that submit at least one job
  uint64_t users = 0;
  // The tenants with the most jobs (at most 5), most first.
  std::vector<std::pair<std::string, uint64_t>> top_tenants;

  std::array<uint64_t, kGpuBins> gpu_bins{};
  uint32_t max_gpus = 0;
  double mean_accelerators = 0;    // per job, a shared device counts its share
  double accelerator_seconds = 0;  // sum of accelerators x work (reference seconds)
  double cpu_core_seconds = 0;     // sum of cores x work

  // Work per job (run time on the reference card, seconds).
  double work_mean = 0, work_p50 = 0, work_p90 = 0, work_p99 = 0, work_max = 0;

  // Constraints: jobs that accept any model / stack, and per model or stack the
  // number of constrained jobs that accept it (catalog order, zero counts left out).
  uint64_t any_model = 0;
  std::vector<std::pair<std::string, uint64_t>> models;
  uint64_t any_stack = 0;
  std::vector<std::pair<std::string, uint64_t>> stacks;
  uint64_t with_measured_speeds = 0;  // jobs with a speed override (e.g. Gavel throughputs)

  std::array<uint64_t, kNumClasses> classes{};

  // Offered load on `accelerators` devices over the span (0 when the span is 0).
  double OfferedLoad(int64_t accelerators) const;
};

TraceStats ComputeTraceStats(const Workload& workload, const Catalog& catalog);

// Type-7 sample quantile of `values` (sorted in place), p in [0, 1]; 0 when empty.
double Quantile(std::vector<double>* values, double p);

}  // namespace suanli
