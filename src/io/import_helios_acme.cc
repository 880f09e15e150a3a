// Job logs with date-time columns: Helios (SenseTime, SC'21) cluster_log.csv
// and Acme (Shanghai AI Lab, NSDI'24) trace_seren.csv / trace_kalos.csv.
#include <cmath>

#include "base/strings.h"
#include "io/trace.h"

namespace suanli::import_detail {
namespace {

Result<double> DateTime(const CsvRow& row, size_t i, const char* field) {
  auto t = ParseDateTime(row.Str(i));
  if (!t) return row.Error(i, field, "a date-time 'YYYY-MM-DD HH:MM:SS' (optionally with an offset)");
  return *t;
}

// Run time: the duration column, or end - start when it is empty.
Result<double> RunSeconds(const CsvRow& row, size_t c_dur, size_t c_start, size_t c_end) {
  if (!Trim(row.Str(c_dur)).empty()) return Number(row, c_dur, "duration", 0, kMaxSeconds);
  if (c_start == SIZE_MAX || c_end == SIZE_MAX || Trim(row.Str(c_start)).empty() || Trim(row.Str(c_end)).empty())
    return row.Error(c_dur, "duration", "seconds (or start_time and end_time)");
  SUANLI_ASSIGN_OR_RETURN(double start, DateTime(row, c_start, "start_time"));
  SUANLI_ASSIGN_OR_RETURN(double end, DateTime(row, c_end, "end_time"));
  if (end < start)
    return row.Error(c_end, "end_time", fmt::format("a time >= start_time ({})", row.Str(c_start).substr(0, 30)));
  if (end - start > kMaxSeconds) return row.Error(c_end, "end_time", "a time closer to start_time");
  return end - start;
}

}  // namespace

// Helios:
// job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue
Status ParseHelios(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                   ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_id, RequireColumn(reader, header, "job_id"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_user, RequireColumn(reader, header, "user"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_vc, RequireColumn(reader, header, "vc"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "gpu_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_submit, RequireColumn(reader, header, "submit_time"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_dur, RequireColumn(reader, header, "duration"));
  const size_t c_start = OptionalColumn(header, "start_time");
  const size_t c_end = OptionalColumn(header, "end_time");
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  auto row_fn = [&](const CsvRow& row) -> Status {
    Job job;
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "gpu_num", 0, kMaxGpus));
    SUANLI_ASSIGN_OR_RETURN(double cpus, Number(row, c_cpu, "cpu_num", 0, 1e9));
    SUANLI_ASSIGN_OR_RETURN(double submit, DateTime(row, c_submit, "submit_time"));
    SUANLI_ASSIGN_OR_RETURN(job.work, RunSeconds(row, c_dur, c_start, c_end));
    job.num_gpus = static_cast<uint32_t>(gpus);
    job.cpu_milli = std::llround(cpus * 1000);
    job.submit = SecondsF(submit);
    job.models = gpus > 0 ? dflt : 0;
    std::string_view vc = Trim(row.Str(c_vc)), user = Trim(row.Str(c_user));
    job.tenant = out->tenants.Intern(vc.empty() ? "default" : vc);
    job.user = out->users.Intern(user.empty() ? "default" : user);
    out->Add(job, std::string(Trim(row.Str(c_id))));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  ShiftToZero(out, first);
  return FinishWorkload(reader, first, out, report);
}

// Acme: job_id,user,node_num,gpu_num,cpu_num,[mem_per_pod_GB,shared_mem_per_pod,]type,state,
// submit_time,start_time,end_time,[fail_time,stop_time,]duration,queue,gpu_time
Status ParseAcme(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                 ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_id, RequireColumn(reader, header, "job_id"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_user, RequireColumn(reader, header, "user"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "gpu_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_submit, RequireColumn(reader, header, "submit_time"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_dur, RequireColumn(reader, header, "duration"));
  const size_t c_start = OptionalColumn(header, "start_time");
  const size_t c_end = OptionalColumn(header, "end_time");
  const size_t c_type = OptionalColumn(header, "type");
  const size_t c_nodes = OptionalColumn(header, "node_num");
  const size_t c_mem = OptionalColumn(header, "mem_per_pod_GB");
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  const TenantId tenant = out->tenants.Intern("default");
  auto row_fn = [&](const CsvRow& row) -> Status {
    Job job;
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "gpu_num", 0, kMaxGpus));
    SUANLI_ASSIGN_OR_RETURN(double cpus, Number(row, c_cpu, "cpu_num", 0, 1e9));
    SUANLI_ASSIGN_OR_RETURN(double submit, DateTime(row, c_submit, "submit_time"));
    SUANLI_ASSIGN_OR_RETURN(job.work, RunSeconds(row, c_dur, c_start, c_end));
    if (c_mem != SIZE_MAX && !Trim(row.Str(c_mem)).empty()) {
      SUANLI_ASSIGN_OR_RETURN(double mem, Number(row, c_mem, "mem_per_pod_GB", 0, 1e9));
      int64_t pods = 1;
      if (c_nodes != SIZE_MAX && !Trim(row.Str(c_nodes)).empty()) {
        SUANLI_ASSIGN_OR_RETURN(pods, Integer(row, c_nodes, "node_num", 0, 1'000'000));
      }
      job.mem_mib = std::llround(mem * 1024 * static_cast<double>(pods));
    }
    if (c_type != SIZE_MAX) {
      std::string type = ToLower(Trim(row.Str(c_type)));
      // Acme runs LLM development: pretraining, fine-tuning, evaluation, multimodal models.
      if (type == "pretrain" || type == "sft" || type.rfind("eval", 0) == 0 || type == "mllm")
        job.cls = WorkloadClass::kTransformer;
    }
    job.num_gpus = static_cast<uint32_t>(gpus);
    job.cpu_milli = std::llround(cpus * 1000);
    job.submit = SecondsF(submit);
    job.models = gpus > 0 ? dflt : 0;
    std::string_view user = Trim(row.Str(c_user));
    job.tenant = tenant;
    job.user = out->users.Intern(user.empty() ? "default" : user);
    out->Add(job, std::string(Trim(row.Str(c_id))));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  ShiftToZero(out, first);
  return FinishWorkload(reader, first, out, report);
}

}  // namespace suanli::import_detail
