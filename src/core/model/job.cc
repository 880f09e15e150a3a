#include "core/model/job.h"

#include <algorithm>
#include <cmath>

namespace suanli {

const std::string& Workload::JobName(JobId id) const {
  static const std::string kEmpty;
  return names.contains(id) ? names[id] : kEmpty;
}

JobId Workload::Add(Job job, std::string name) {
  job.id = jobs.next_id();
  jobs.push_back(job);
  names.resize(jobs.size() - 1);
  names.push_back(std::move(name));
  return job.id;
}

void Workload::SortBySubmit() {
  std::vector<JobId> idx(jobs.ids().begin(), jobs.ids().end());
  std::stable_sort(idx.begin(), idx.end(), [&](JobId a, JobId b) { return jobs[a].submit < jobs[b].submit; });
  IdVector<JobId, Job> sorted;
  sorted.reserve(jobs.size());
  IdVector<JobId, std::string> sorted_names;
  if (!names.empty()) sorted_names.reserve(names.size());
  for (JobId i : idx) {
    const JobId to = sorted.next_id();
    sorted.push_back(jobs[i]);
    sorted.back().id = to;
    if (!names.empty()) sorted_names.push_back(std::move(names[i]));
  }
  jobs = std::move(sorted);
  names = std::move(sorted_names);
}

double Speed(const Job& job, ModelId m, const Catalog& catalog, const Workload& workload) {
  if (m >= catalog.size()) return 0;
  if (job.speed_override != kNoOverride) {
    const auto& o = workload.overrides[job.speed_override];
    for (const auto& [model, secs] : o.seconds)
      if (model == m && secs > 0) return job.work > 0 ? job.work / secs : 1.0;
    return 0;
  }
  return catalog.model(m).speed[static_cast<int>(job.cls)];
}

Duration RunTime(const Job& job, double work, ModelId m, const Catalog& catalog, const Workload& workload) {
  if (job.num_gpus == 0 && m == 255) return SecondsF(work);  // CPU-only job
  double s = Speed(job, m, catalog, workload);
  if (s <= 0) return kNever;
  return std::max<Duration>(1, SecondsF(work / s));
}

ModelMask EligibleModels(const Job& job, const Catalog& catalog, const Workload& workload) {
  ModelMask mask = job.models ? job.models & catalog.AllModels() : catalog.AllModels();
  if (job.stacks) mask &= catalog.ModelsForStacks(job.stacks);
  ModelMask out = 0;
  for (size_t i = 0; i < catalog.size(); ++i)
    if ((mask >> i & 1) && Speed(job, static_cast<ModelId>(i), catalog, workload) > 0) out |= ModelMask{1} << i;
  return out;
}

}  // namespace suanli
