// Alibaba traces: GPU 2023 "openb" pods and nodes, PAI 2020 tasks and
// machines, the 2025 DLRM serving instances and the 2026 spot-GPU node table.
#include <sys/stat.h>

#include <cmath>
#include <unordered_map>

#include "base/strings.h"
#include "io/trace.h"

namespace suanli::import_detail {
namespace {

constexpr int64_t kMaxMilli = 1'000'000'000'000'000;  // milli-cores or MiB; far above any machine

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Sets num_gpus / gpu_milli from a (possibly fractional) GPU count read from `field`.
Status SetGpus(const CsvRow& row, size_t i, const char* field, double g, Job* job) {
  if (g <= 0) {
    job->num_gpus = 0;
    job->gpu_milli = kWholeDevice;
  } else if (g < 1) {
    job->num_gpus = 1;
    job->gpu_milli = static_cast<uint16_t>(std::clamp<long long>(std::llround(g * 1000), 1, 1000));
  } else {
    if (g != std::floor(g)) return row.Error(i, field, "a whole number of GPUs, or a share below one GPU");
    job->num_gpus = static_cast<uint32_t>(g);
    job->gpu_milli = kWholeDevice;
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// openb pods

Status ParseOpenb(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                  ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_name, RequireColumn(reader, header, "name"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_milli"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_mem, RequireColumn(reader, header, "memory_mib"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "num_gpu"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_milli, RequireColumn(reader, header, "gpu_milli"));
  const size_t c_spec = OptionalColumn(header, "gpu_spec");
  const size_t c_create = OptionalColumn(header, "creation_time");
  const size_t c_delete = OptionalColumn(header, "deletion_time");
  const size_t c_sched = OptionalColumn(header, "scheduled_time");
  const TenantId tenant = out->tenants.Intern("default");
  const uint32_t user = out->users.Intern("default");
  auto row_fn = [&](const CsvRow& row) -> Status {
    Job job;
    SUANLI_ASSIGN_OR_RETURN(job.cpu_milli, Integer(row, c_cpu, "cpu_milli", 0, kMaxMilli));
    SUANLI_ASSIGN_OR_RETURN(job.mem_mib, Integer(row, c_mem, "memory_mib", 0, kMaxMilli));
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "num_gpu", 0, kMaxGpus));
    job.num_gpus = static_cast<uint32_t>(gpus);
    if (gpus == 0) {
      // CPU-only pods carry gpu_milli 0; the value is not used.
      if (!Trim(row.Str(c_milli)).empty())
        SUANLI_RETURN_IF_ERROR(Integer(row, c_milli, "gpu_milli", 0, kWholeDevice).status());
    } else {
      SUANLI_ASSIGN_OR_RETURN(int64_t milli, Integer(row, c_milli, "gpu_milli", 1, kWholeDevice));
      if (gpus > 1 && milli != kWholeDevice)
        return row.Error(c_milli, "gpu_milli", "1000 when num_gpu > 1 (only one GPU may be shared)");
      job.gpu_milli = static_cast<uint16_t>(milli);
    }
    if (c_spec != SIZE_MAX) {
      SUANLI_ASSIGN_OR_RETURN(job.models, ParseModelList(row, c_spec, "gpu_spec", catalog));
    }
    double create = 0;
    if (c_create != SIZE_MAX) {
      SUANLI_ASSIGN_OR_RETURN(create, NumberOr(row, c_create, "creation_time", 0, kMaxSeconds, 0));
    }
    job.submit = SecondsF(create);
    if (c_delete != SIZE_MAX && c_sched != SIZE_MAX && !Trim(row.Str(c_delete)).empty() &&
        !Trim(row.Str(c_sched)).empty()) {
      SUANLI_ASSIGN_OR_RETURN(double sched, Number(row, c_sched, "scheduled_time", 0, kMaxSeconds));
      SUANLI_ASSIGN_OR_RETURN(double del, Number(row, c_delete, "deletion_time", 0, kMaxSeconds));
      if (del < sched)
        return row.Error(c_delete, "deletion_time",
                         fmt::format("a time >= scheduled_time ({})", row.Str(c_sched).substr(0, 30)));
      job.work = del - sched;
    }
    job.tenant = tenant;
    job.user = user;
    out->Add(job, std::string(row.Str(c_name)));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  return FinishWorkload(reader, first, out, report);
}

// ---------------------------------------------------------------------------
// openb nodes

Status ParseOpenbNodes(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) {
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_sn, RequireColumn(reader, header, "sn"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_milli"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_mem, RequireColumn(reader, header, "memory_mib"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "gpu"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_model, RequireColumn(reader, header, "model"));
  NetworkBuilder b(TraceStem(reader.name()), catalog);
  auto row_fn = [&](const CsvRow& row) -> Status {
    SUANLI_ASSIGN_OR_RETURN(int64_t cpu, Integer(row, c_cpu, "cpu_milli", 1, kMaxMilli));
    SUANLI_ASSIGN_OR_RETURN(int64_t mem, Integer(row, c_mem, "memory_mib", 1, kMaxMilli));
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "gpu", 0, kMaxDevicesPerNode));
    ModelId model = kNoModel;
    if (gpus > 0) {
      auto m = ResolveModel(catalog, row.Str(c_model));
      if (!m) return row.Error(c_model, "model", "a GPU type known to the catalog");
      model = *m;
    }
    b.AddNode(std::string(row.Str(c_sn)), model, static_cast<int>(gpus), cpu, mem);
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, nullptr, row_fn));
  SUANLI_ASSIGN_OR_RETURN(*out, b.Finish());
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// PAI 2020 task table

namespace {

struct PaiJob {
  std::string name;
  double gpus = 0, cpu_cores = 0, mem_gb = 0;
  ModelMask models = 0;
  double start = INFINITY, end = -INFINITY;
  size_t rows = 0;
};

// job_name -> user from pai_job_table.csv[.gz] beside the task table.
Status LoadPaiUsers(const std::string& task_path, const ImportOptions& opts, ImportReport* report,
                    std::unordered_map<std::string, std::string>* users) {
  std::string dir = DirName(task_path);
  std::string prefix = dir.empty() ? "" : dir + "/";
  std::string path;
  for (const char* name : {"pai_job_table.csv", "pai_job_table.csv.gz"})
    if (FileExists(prefix + name)) path = prefix + name;
  if (path.empty()) return Status::Ok();
  SUANLI_ASSIGN_OR_RETURN(auto reader, OpenTraceFile(path));
  ImportOptions o = opts;
  ImportReport ignored_report;
  // job_name, inst_id, user, status, start_time, end_time
  auto fn = [&](const CsvRow& row) -> Status {
    if (row.Str(0) == "job_name") return Status::Ok();  // a header row, if any
    if (Trim(row.Str(2)).empty()) return row.Error(2, "user", "a user name");
    users->emplace(std::string(row.Str(0)), std::string(row.Str(2)));
    return Status::Ok();
  };
  Status st = ForEachRow(*reader, ',', 3, o, report ? &ignored_report : nullptr, fn);
  if (report) {
    report->skipped += ignored_report.skipped;
    for (auto& e : ignored_report.errors)
      if (report->errors.size() < opts.max_reported_errors) report->errors.push_back(e);
  }
  return st;
}

}  // namespace

Status ParsePai(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  std::vector<PaiJob> jobs;
  std::unordered_map<std::string, size_t> index;
  // job_name, task_name, inst_num, status, start_time, end_time, plan_cpu, plan_mem, plan_gpu,
  // gpu_type
  auto row_fn = [&](const CsvRow& row) -> Status {
    if (row.Str(0) == "job_name" && row.Str(1) == "task_name") {
      --report->rows;  // a header row
      return Status::Ok();
    }
    if (Trim(row.Str(0)).empty()) return row.Error(0, "job_name", "a job name");
    SUANLI_ASSIGN_OR_RETURN(double inst, Number(row, 2, "inst_num", 0, 1e6));
    const double nan = std::nan("");
    SUANLI_ASSIGN_OR_RETURN(double start, NumberOr(row, 4, "start_time", 0, kMaxSeconds, nan));
    SUANLI_ASSIGN_OR_RETURN(double end, NumberOr(row, 5, "end_time", 0, kMaxSeconds, nan));
    if (!std::isnan(start) && !std::isnan(end) && end < start)
      return row.Error(5, "end_time", fmt::format("a time >= start_time ({})", row.Str(4).substr(0, 30)));
    SUANLI_ASSIGN_OR_RETURN(double cpu, NumberOr(row, 6, "plan_cpu", 0, 1e8, 0));
    SUANLI_ASSIGN_OR_RETURN(double mem, NumberOr(row, 7, "plan_mem", 0, 1e8, 0));
    SUANLI_ASSIGN_OR_RETURN(double gpu, NumberOr(row, 8, "plan_gpu", 0, 1e6, 0));
    ModelMask models = 0;
    std::string_view type = Trim(row.Str(9));
    if (!type.empty() && ToLower(type) != "cpu") {
      SUANLI_ASSIGN_OR_RETURN(models, ParseModelList(row, 9, "gpu_type", catalog));
    }
    std::string name(row.Str(0));
    auto [it, fresh] = index.emplace(name, jobs.size());
    if (fresh) {
      jobs.emplace_back();
      jobs.back().name = std::move(name);
    }
    PaiJob& j = jobs[it->second];
    j.gpus += inst * gpu / 100;
    j.cpu_cores += inst * cpu / 100;
    j.mem_gb += inst * mem;
    j.models |= models;
    if (!std::isnan(start)) j.start = std::min(j.start, start);
    if (!std::isnan(end)) j.end = std::max(j.end, end);
    ++j.rows;
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  SUANLI_RETURN_IF_ERROR(reader.status());
  std::unordered_map<std::string, std::string> users;
  SUANLI_RETURN_IF_ERROR(LoadPaiUsers(reader.name(), opts, report, &users));
  const TenantId tenant = out->tenants.Intern("default");
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  for (const PaiJob& j : jobs) {
    if (!std::isfinite(j.start) || !std::isfinite(j.end) || j.end < j.start) {
      report->ignored += j.rows;  // never started, or no task has finished
      continue;
    }
    Job job;
    if (j.gpus <= 0) {
      job.num_gpus = 0;
    } else if (j.gpus < 1) {
      job.num_gpus = 1;
      job.gpu_milli = static_cast<uint16_t>(std::clamp<long long>(std::llround(j.gpus * 1000), 1, 1000));
    } else {
      job.num_gpus = static_cast<uint32_t>(std::min<double>(std::ceil(j.gpus - 1e-9), kMaxGpus));
    }
    job.cpu_milli = std::llround(std::min(j.cpu_cores * 1000, 1e15));
    job.mem_mib = std::llround(std::min(j.mem_gb * 1024, 1e15));
    job.models = j.models ? j.models : dflt;
    job.submit = SecondsF(j.start);
    job.work = j.end - j.start;
    job.tenant = tenant;
    auto u = users.find(j.name);
    job.user = out->users.Intern(u == users.end() ? std::string_view("default") : u->second);
    out->Add(job, std::string(j.name));
  }
  ShiftToZero(out, first);
  return FinishWorkload(reader, first, out, report);
}

// ---------------------------------------------------------------------------
// PAI machines

Status ParsePaiMachines(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) {
  NetworkBuilder b(TraceStem(reader.name()), catalog);
  // machine, gpu_type, cap_cpu, cap_mem, cap_gpu
  auto row_fn = [&](const CsvRow& row) -> Status {
    if (row.Str(0) == "machine" && row.Str(1) == "gpu_type") return Status::Ok();  // a header row
    SUANLI_ASSIGN_OR_RETURN(double cpu, Number(row, 2, "cap_cpu", 0.001, 1e9));
    SUANLI_ASSIGN_OR_RETURN(double mem, Number(row, 3, "cap_mem", 0.001, 1e9));
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, WholeNumber(row, 4, "cap_gpu", 0, kMaxDevicesPerNode));
    std::string_view type = Trim(row.Str(1));
    ModelId model = kNoModel;
    if (gpus > 0) {
      auto m = ResolveModel(catalog, type);
      if (!m) return row.Error(1, "gpu_type", "a GPU type known to the catalog");
      model = *m;
    }
    b.AddNode(std::string(row.Str(0)), model, static_cast<int>(gpus), std::max<int64_t>(1, std::llround(cpu * 1000)),
              std::max<int64_t>(1, std::llround(mem * 1024)));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, nullptr, row_fn));
  SUANLI_ASSIGN_OR_RETURN(*out, b.Finish());
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// DLRM serving instances (2025)

namespace {

// The trace has no location. Each service (app) is given one of the user regions
// of the built-in china-aicc network by a hash of its name (64-bit FNV-1a, modulo
// 6), so that all replicas of a service answer the same region, on every run.
constexpr const char* kDlrmRegions[] = {"north", "east", "south", "central", "southwest", "northwest"};
// Assumed round-trip latency bound of a recommendation service (the trace has none).
constexpr float kDlrmLatencyMs = 50;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string_view DlrmRegion(std::string_view app) {
  return kDlrmRegions[Fnv1a(app) % (sizeof(kDlrmRegions) / sizeof(kDlrmRegions[0]))];
}

}  // namespace

Status ParseDlrm(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                 ImportReport* report) {
  (void)catalog;
  ImportReport local;
  if (!report) report = &local;
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_sn, RequireColumn(reader, header, "instance_sn"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_app, RequireColumn(reader, header, "app_name"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_request"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "gpu_request"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_mem, RequireColumn(reader, header, "memory_request"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_create, RequireColumn(reader, header, "creation_time"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_delete, RequireColumn(reader, header, "deletion_time"));
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  const uint32_t user = out->users.Intern("default");
  auto row_fn = [&](const CsvRow& row) -> Status {
    Job job;
    SUANLI_ASSIGN_OR_RETURN(double cpu, Number(row, c_cpu, "cpu_request", 0, 1e9));
    SUANLI_ASSIGN_OR_RETURN(double gpu, Number(row, c_gpu, "gpu_request", 0, kMaxGpus));
    SUANLI_ASSIGN_OR_RETURN(double mem, Number(row, c_mem, "memory_request", 0, 1e9));
    SUANLI_RETURN_IF_ERROR(SetGpus(row, c_gpu, "gpu_request", gpu, &job));
    const double nan = std::nan("");
    SUANLI_ASSIGN_OR_RETURN(double create, NumberOr(row, c_create, "creation_time", 0, kMaxSeconds, nan));
    SUANLI_ASSIGN_OR_RETURN(double del, NumberOr(row, c_delete, "deletion_time", 0, kMaxSeconds, nan));
    if (std::isnan(create) || std::isnan(del)) {
      ++report->ignored;  // created before or deleted after the trace window
      return Status::Ok();
    }
    if (del < create)
      return row.Error(c_delete, "deletion_time",
                       fmt::format("a time >= creation_time ({})", row.Str(c_create).substr(0, 30)));
    job.cpu_milli = std::llround(cpu * 1000);
    job.mem_mib = std::llround(mem * 1024);
    job.submit = SecondsF(create);
    job.work = del - create;
    job.models = job.num_gpus ? dflt : 0;
    const std::string_view app = Trim(row.Str(c_app)).empty() ? "default" : row.Str(c_app);
    job.tenant = out->tenants.Intern(app);
    job.user = user;
    // Each instance is one replica of its service.
    job.service = true;
    job.region = static_cast<uint16_t>(out->places.Intern(DlrmRegion(app)));
    job.latency_ms = kDlrmLatencyMs;
    out->Add(job, std::string(row.Str(c_sn)));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, report, row_fn));
  return FinishWorkload(reader, first, out, report);
}

// ---------------------------------------------------------------------------
// Spot-GPU node table (2026)

Status ParseSpotNodes(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) {
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_model, RequireColumn(reader, header, "gpu_model"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "gpu_capacity_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_cpu, RequireColumn(reader, header, "cpu_num"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_name, RequireColumn(reader, header, "node_name"));
  std::optional<ModelId> dflt;
  if (!Trim(opts.default_model).empty()) {
    dflt = ResolveModel(catalog, opts.default_model);
    if (!dflt) return InvalidArgument("default model '{}' is not in the catalog", opts.default_model);
  }
  NetworkBuilder b(TraceStem(reader.name()), catalog);
  auto row_fn = [&](const CsvRow& row) -> Status {
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "gpu_capacity_num", 0, kMaxDevicesPerNode));
    SUANLI_ASSIGN_OR_RETURN(double cpu, Number(row, c_cpu, "cpu_num", 1, 1e6));
    ModelId model = kNoModel;
    if (gpus > 0) {
      std::string_view name = Trim(row.Str(c_model));
      auto m = ResolveModel(catalog, name);
      // The undisclosed "GPU-series-N" types run as the default model when one is given.
      if (!m && dflt && ToLower(name.substr(0, 10)) == "gpu-series") m = dflt;
      if (!m) return row.Error(c_model, "gpu_model", "a GPU type known to the catalog");
      model = *m;
    }
    // The table gives no memory: 8 GiB per vCPU.
    int64_t cpu_milli = std::llround(cpu * 1000);
    b.AddNode("spot-" + std::string(Trim(row.Str(c_name))), model, static_cast<int>(gpus), cpu_milli,
              std::llround(cpu * 8 * 1024));
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, nullptr, row_fn));
  SUANLI_ASSIGN_OR_RETURN(*out, b.Finish());
  return Status::Ok();
}

}  // namespace suanli::import_detail
