// Parallel Workloads Archive Standard Workload Format (SWF): CPU HPC logs,
// read with one accelerator per processor.
#include <cmath>

#include "base/strings.h"
#include "io/trace.h"

namespace suanli::import_detail {
namespace {

// SWF field numbers (1-based) as zero-based indices.
enum SwfField : size_t {
  kJob = 0,
  kSubmit = 1,
  kRunTime = 3,
  kAllocProcs = 4,
  kReqProcs = 7,
  kReqTime = 8,
  kUser = 11,
  kGroup = 12,
};
constexpr size_t kSwfFields = 18;

void SplitWhitespace(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out->push_back(line.substr(start, i - start));
  }
}

}  // namespace

Status ParseSwf(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  RowErrors errors(opts, report);
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  std::string_view line;
  std::vector<std::string_view> fields;
  while (reader.Next(&line)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == ';') continue;
    ++report->rows;
    SplitWhitespace(t, &fields);
    CsvRow row(reader.Where(), fields);
    bool ignored = false;
    auto parse = [&]() -> Status {
      if (fields.size() != kSwfFields)
        return row.RowError(fmt::format("expected {} whitespace-separated fields, got {}", kSwfFields, fields.size()));
      // -1 means "unknown" in every field.
      SUANLI_RETURN_IF_ERROR(Integer(row, kJob, "job_number", -1, INT64_MAX).status());
      SUANLI_ASSIGN_OR_RETURN(double submit, Number(row, kSubmit, "submit_time", -1, kMaxSeconds));
      SUANLI_ASSIGN_OR_RETURN(double run, Number(row, kRunTime, "run_time", -1, kMaxSeconds));
      SUANLI_ASSIGN_OR_RETURN(int64_t alloc, Integer(row, kAllocProcs, "allocated_processors", -1, kMaxGpus));
      SUANLI_ASSIGN_OR_RETURN(int64_t req, Integer(row, kReqProcs, "requested_processors", -1, kMaxGpus));
      SUANLI_ASSIGN_OR_RETURN(double req_time, Number(row, kReqTime, "requested_time", -1, kMaxSeconds));
      SUANLI_ASSIGN_OR_RETURN(int64_t user, Integer(row, kUser, "user_id", -1, INT64_MAX));
      SUANLI_ASSIGN_OR_RETURN(int64_t group, Integer(row, kGroup, "group_id", -1, INT64_MAX));
      int64_t procs = alloc > 0 ? alloc : req;
      if (submit < 0 || run < 0 || procs <= 0) {
        ignored = true;  // unknown submit time, run time or size
        return Status::Ok();
      }
      Job job;
      job.submit = SecondsF(submit);
      job.work = run;
      job.estimate = req_time > 0 ? req_time : 0;
      job.num_gpus = static_cast<uint32_t>(procs);
      job.models = dflt;
      job.user = out->users.Intern(user >= 0 ? std::to_string(user) : std::string("default"));
      job.tenant = out->tenants.Intern(group >= 0 ? std::to_string(group) : std::string("default"));
      out->Add(job, std::string(fields[kJob]));
      return Status::Ok();
    };
    Status st = parse();
    if (!st.ok()) {
      SUANLI_RETURN_IF_ERROR(errors.Skip(st));
    } else if (ignored) {
      ++report->ignored;
    }
  }
  return FinishWorkload(reader, first, out, report);
}

}  // namespace suanli::import_detail
