// Workload statistics; see trace_stats.h.
#include "sim/trace_stats.h"

#include <algorithm>
#include <cmath>

namespace suanli {

std::string_view GpuBinLabel(int bin) {
  static constexpr std::string_view kLabels[kGpuBins] = {"0",   "shared", "1",     "2",     "3-4",
                                                         "5-8", "9-16",   "17-32", "33-63", "64+"};
  return bin >= 0 && bin < kGpuBins ? kLabels[bin] : std::string_view("?");
}

int GpuBin(const Job& job) {
  const uint32_t g = job.num_gpus;
  if (g == 0) return 0;
  if (job.IsShared()) return 1;
  if (g == 1) return 2;
  if (g == 2) return 3;
  if (g <= 4) return 4;
  if (g <= 8) return 5;
  if (g <= 16) return 6;
  if (g <= 32) return 7;
  if (g < 64) return 8;
  return 9;
}

double Quantile(std::vector<double>* values, double p) {
  auto& v = *values;
  if (v.empty()) return 0;
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  p = std::clamp(p, 0.0, 1.0);
  double h = static_cast<double>(v.size() - 1) * p;
  size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= v.size()) return v.back();
  return v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

double TraceStats::OfferedLoad(int64_t accelerators) const {
  if (span <= 0 || accelerators <= 0) return 0;
  return accelerator_seconds / (ToSeconds(span) * static_cast<double>(accelerators));
}

TraceStats ComputeTraceStats(const Workload& w, const Catalog& catalog) {
  TraceStats s;
  s.jobs = w.jobs.size();
  if (w.jobs.empty()) return s;
  s.first_submit = s.last_submit = w.jobs.front().submit;
  std::vector<uint64_t> per_tenant(w.tenants.size() + 1, 0), per_user(w.users.size() + 1, 0);
  std::vector<uint64_t> per_model(catalog.size(), 0), per_stack(catalog.stacks().size(), 0);
  std::vector<double> work;
  work.reserve(w.jobs.size());
  double acc_total = 0;
  for (const Job& j : w.jobs) {
    s.first_submit = std::min(s.first_submit, j.submit);
    s.last_submit = std::max(s.last_submit, j.submit);
    // Hour of day from the trace's own time origin (floor division for negative times).
    int64_t hours = j.submit / kHour - (j.submit % kHour < 0 ? 1 : 0);
    int64_t hour = (hours % 24 + 24) % 24;
    ++s.by_hour[static_cast<size_t>(hour)];
    ++per_tenant[std::min<size_t>(j.tenant.value(), w.tenants.size())];  // the last: tenants without a name
    ++per_user[std::min<size_t>(j.user, w.users.size())];
    ++s.gpu_bins[static_cast<size_t>(GpuBin(j))];
    s.max_gpus = std::max(s.max_gpus, j.num_gpus);
    const double acc = static_cast<double>(j.GpuMilli()) / kWholeDevice;
    acc_total += acc;
    s.accelerator_seconds += acc * j.work;
    s.cpu_core_seconds += static_cast<double>(j.cpu_milli) / 1000 * j.work;
    work.push_back(j.work);
    if (j.models == 0) {
      ++s.any_model;
    } else {
      for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m)
        if (j.models >> m & 1) ++per_model[m];
    }
    if (j.stacks == 0) {
      ++s.any_stack;
    } else {
      for (size_t k = 0; k < catalog.stacks().size() && k < kMaxStacks; ++k)
        if (j.stacks >> k & 1) ++per_stack[k];
    }
    if (j.speed_override != kNoOverride) ++s.with_measured_speeds;
    ++s.classes[static_cast<size_t>(j.cls) < kNumClasses ? static_cast<size_t>(j.cls) : kNumClasses - 1];
  }
  s.span = s.last_submit - s.first_submit;
  if (s.span > 0) s.arrivals_per_hour = static_cast<double>(s.jobs) / (ToSeconds(s.span) / 3600);
  s.busiest_hour = static_cast<int>(std::max_element(s.by_hour.begin(), s.by_hour.end()) - s.by_hour.begin());

  std::vector<std::pair<std::string, uint64_t>> tenants;
  for (size_t t = 0; t < per_tenant.size(); ++t) {
    if (!per_tenant[t]) continue;
    ++s.tenants;
    tenants.emplace_back(t < w.tenants.size() ? w.tenants.Name(TenantId(static_cast<uint32_t>(t))) : "?",
                         per_tenant[t]);
  }
  for (uint64_t n : per_user) s.users += n > 0;
  std::stable_sort(tenants.begin(), tenants.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (tenants.size() > 5) tenants.resize(5);
  s.top_tenants = std::move(tenants);

  s.mean_accelerators = acc_total / static_cast<double>(s.jobs);
  double sum = 0;
  for (double x : work) sum += x;
  s.work_mean = sum / static_cast<double>(s.jobs);
  std::sort(work.begin(), work.end());
  s.work_p50 = Quantile(&work, 0.5);
  s.work_p90 = Quantile(&work, 0.9);
  s.work_p99 = Quantile(&work, 0.99);
  s.work_max = work.back();

  for (size_t m = 0; m < per_model.size(); ++m)
    if (per_model[m]) s.models.emplace_back(catalog.model(static_cast<ModelId>(m)).name, per_model[m]);
  for (size_t k = 0; k < per_stack.size(); ++k)
    if (per_stack[k]) s.stacks.emplace_back(catalog.stacks()[k], per_stack[k]);
  return s;
}

}  // namespace suanli
