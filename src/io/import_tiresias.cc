// Simulator inputs of two research schedulers: Tiresias (SymbioticLab, NSDI'19)
// jobs and cluster specs, and Synergy (msr-fiddle, OSDI'22) replay traces.
#include <cmath>

#include "base/strings.h"
#include "io/trace.h"

namespace suanli::import_detail {
namespace {

// The model for traces that name no GPU type.
Result<ModelId> HomogeneousModel(const Catalog& catalog, const ImportOptions& opts) {
  std::string name = Trim(opts.default_model).empty() ? "V100-16GB" : opts.default_model;
  auto m = ResolveModel(catalog, name);
  if (!m) return InvalidArgument("GPU model '{}' is not in the catalog; pass another default model", name);
  return *m;
}

}  // namespace

// ---------------------------------------------------------------------------
// Tiresias jobs: 60_job.csv (job_id,num_gpu,submit_time,iterations,model_name,duration,interval)
// or tf_job.csv (job_id,num_gpu,submit_time,start_time,duration,model_size,aggr_interval,
// model_name,model_scale).

Status ParseTiresias(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                     ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_id, RequireColumn(reader, header, "job_id"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "num_gpu"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_submit, RequireColumn(reader, header, "submit_time"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_dur, RequireColumn(reader, header, "duration"));
  const size_t c_model = OptionalColumn(header, "model_name");
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  const TenantId tenant = out->tenants.Intern("default");
  const uint32_t user = out->users.Intern("default");
  auto row_fn = [&](const CsvRow& row) -> Status {
    Job job;
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "num_gpu", 0, kMaxGpus));
    SUANLI_ASSIGN_OR_RETURN(double submit, Number(row, c_submit, "submit_time", 0, kMaxSeconds));
    SUANLI_ASSIGN_OR_RETURN(double dur, Number(row, c_dur, "duration", 0, kMaxSeconds));
    job.num_gpus = static_cast<uint32_t>(gpus);
    job.submit = SecondsF(submit);
    job.work = dur;
    job.models = gpus > 0 ? dflt : 0;
    if (c_model != SIZE_MAX) job.cls = ClassFromModelName(row.Str(c_model));
    job.tenant = tenant;
    job.user = user;
    out->Add(job, std::string(Trim(row.Str(c_id))));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  return FinishWorkload(reader, first, out, report);
}

// ---------------------------------------------------------------------------
// Tiresias cluster spec: num_switch,num_node_p_switch,num_gpu_p_node,num_cpu_p_node,mem_p_node

Status ParseTiresiasCluster(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) {
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_sw, RequireColumn(reader, header, "num_switch"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_nodes, RequireColumn(reader, header, "num_node_p_switch"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "num_gpu_p_node"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "num_cpu_p_node"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_mem, RequireColumn(reader, header, "mem_p_node"));
  SUANLI_ASSIGN_OR_RETURN(ModelId model, HomogeneousModel(catalog, opts));
  NetworkBuilder b(TraceStem(reader.name()), catalog);
  int64_t switch_base = 0;
  auto row_fn = [&](const CsvRow& row) -> Status {
    SUANLI_ASSIGN_OR_RETURN(int64_t sw, Integer(row, c_sw, "num_switch", 1, 100'000));
    SUANLI_ASSIGN_OR_RETURN(int64_t per, Integer(row, c_nodes, "num_node_p_switch", 1, 100'000));
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "num_gpu_p_node", 0, kMaxDevicesPerNode));
    SUANLI_ASSIGN_OR_RETURN(double cpu, Number(row, c_cpu, "num_cpu_p_node", 1, 1e6));
    SUANLI_ASSIGN_OR_RETURN(double mem, Number(row, c_mem, "mem_p_node", 0.001, 1e9));
    if (b.size() + sw * per > 1'000'000) return row.RowError("more than 1,000,000 nodes in the cluster spec");
    for (int64_t s = 0; s < sw; ++s) {
      for (int64_t n = 0; n < per; ++n) {
        b.AddNode(fmt::format("s{}-n{}", switch_base + s, n), model, static_cast<int>(gpus), std::llround(cpu * 1000),
                  std::max<int64_t>(1, std::llround(mem * 1024)), switch_base + s);
      }
    }
    switch_base += sw;
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, nullptr, row_fn));
  SUANLI_ASSIGN_OR_RETURN(*out, b.Finish());
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Synergy replay traces: job_id, model_name, arrival_time, num_iters, gpu_demand (no header).
//
// Synergy's replay (simulator/jobs/workload.py, populate_from_trace) keeps num_iters as the
// iteration count and takes the per-iteration time of the model at its fair share of CPU and
// memory from simulator/models/<model>_1.py (iter_time), whatever the GPU count; a job's
// duration at fair share is num_iters * iter_time. Unknown names fall back to class 0
// (alexnet), as in ModelZoo.get_job_class_by_name.

namespace {

struct SynergyModel {
  const char* name;
  double iter_time;  // seconds per iteration at fair share
  WorkloadClass cls;
};

constexpr SynergyModel kSynergyModels[] = {
    {"alexnet", 0.6, WorkloadClass::kCnn},        {"res18", 0.64, WorkloadClass::kCnn},
    {"res50", 0.78, WorkloadClass::kCnn},         {"mobilenet", 0.71, WorkloadClass::kCnn},
    {"shufflenet", 0.615, WorkloadClass::kCnn},   {"m5", 0.6, WorkloadClass::kCnn},
    {"deepspeech", 0.757, WorkloadClass::kOther}, {"transformer", 0.67, WorkloadClass::kTransformer},
    {"gnmt", 0.12, WorkloadClass::kOther},        {"lstm", 0.011, WorkloadClass::kOther},
};

}  // namespace

Status ParseSynergy(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                    ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  const TenantId tenant = out->tenants.Intern("default");
  const uint32_t user = out->users.Intern("default");
  auto row_fn = [&](const CsvRow& row) -> Status {
    if (row.size() != 5)
      return row.RowError(fmt::format(
          "expected 5 fields (job_id, model_name, arrival_time, num_iters, gpu_demand), got {}", row.size()));
    Job job;
    SUANLI_RETURN_IF_ERROR(Integer(row, 0, "job_id", 0, INT64_MAX).status());
    SUANLI_ASSIGN_OR_RETURN(double arrival, Number(row, 2, "arrival_time", 0, kMaxSeconds));
    SUANLI_ASSIGN_OR_RETURN(int64_t iters, Integer(row, 3, "num_iters", 0, int64_t{1} << 50));
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, 4, "gpu_demand", 1, kMaxGpus));
    std::string model = ToLower(Trim(row.Str(1)));
    const SynergyModel* m = &kSynergyModels[0];
    for (const auto& s : kSynergyModels)
      if (model == s.name) m = &s;
    double work = static_cast<double>(iters) * m->iter_time;
    if (work > kMaxSeconds) return row.Error(3, "num_iters", "a run time below 1e11 seconds");
    job.work = work;
    job.cls = m->cls;
    job.num_gpus = static_cast<uint32_t>(gpus);
    job.submit = SecondsF(arrival);
    // Synergy's fair share per GPU: 3 CPUs and 62.5 GB of memory.
    job.cpu_milli = 3000 * gpus;
    job.mem_mib = 64000 * gpus;
    job.models = dflt;
    job.tenant = tenant;
    job.user = user;
    out->Add(job, std::string(Trim(row.Str(0))));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  return FinishWorkload(reader, first, out, report);
}

}  // namespace suanli::import_detail
