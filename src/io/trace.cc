// Format registries, format guessing and the helpers every importer shares.
#include "io/trace.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/strings.h"

namespace suanli {

// ---------------------------------------------------------------------------
// Registries

const std::vector<TraceFormat>& TraceFormats() {
  using namespace import_detail;
  static const std::vector<TraceFormat> kFormats = {
      {"native", "Suanli's own workload CSV (docs/formats-traces.md), plain or gzip", &ParseNative},
      {"openb", "Alibaba GPU 2023 pods (openb_pod_list_*.csv): FGD / ATC'23", &ParseOpenb},
      {"gavel", "Gavel traces (msr/seed=S/<vc>.trace, physical_cluster/*.trace) + measured throughputs", &ParseGavel},
      {"tiresias", "Tiresias simulator jobs (60_job.csv or tf_job.csv layout)", &ParseTiresias},
      {"synergy", "Synergy replay traces (job_id, model, arrival, iterations, GPUs; no header)", &ParseSynergy},
      {"swf", "Parallel Workloads Archive Standard Workload Format (processors -> accelerators)", &ParseSwf},
      {"pai", "Alibaba PAI 2020 task table (pai_task_table.csv, tasks aggregated per job)", &ParsePai},
      {"helios", "Helios (SenseTime, SC'21) cluster_log.csv", &ParseHelios},
      {"acme", "Acme (Shanghai AI Lab, NSDI'24) trace_seren.csv / trace_kalos.csv", &ParseAcme},
      {"philly", "Microsoft Philly 2017 cluster_job_log (JSON list or JSON lines)", &ParsePhilly},
      {"dlrm", "Alibaba 2025 DLRM serving instances as long-running jobs", &ParseDlrm},
  };
  return kFormats;
}

const TraceFormat* FindTraceFormat(std::string_view name) {
  std::string l = ToLower(Trim(name));
  for (const auto& f : TraceFormats())
    if (f.name == l) return &f;
  return nullptr;
}

const std::vector<ClusterFormat>& ClusterFormats() {
  using namespace import_detail;
  static const std::vector<ClusterFormat> kFormats = {
      {"openb-nodes", "Alibaba GPU 2023 node list (openb_node_list_*.csv)", &ParseOpenbNodes},
      {"tiresias-cluster", "Tiresias cluster spec (cluster_spec.csv, nXgY.csv): switches become racks",
       &ParseTiresiasCluster},
      {"pai-machines", "Alibaba PAI 2020 machine table (pai_machine_spec.csv, no header)", &ParsePaiMachines},
      {"philly-machines", "Philly machine list (cluster_machine_list or revised_machine_list.csv)",
       &ParsePhillyMachines},
      {"spot-nodes", "Alibaba spot-GPU 2026 node table (node_info_df.csv)", &ParseSpotNodes},
  };
  return kFormats;
}

const ClusterFormat* FindClusterFormat(std::string_view name) {
  std::string l = ToLower(Trim(name));
  for (const auto& f : ClusterFormats())
    if (f.name == l) return &f;
  return nullptr;
}

std::string ImportReport::Summary() const {
  std::string s = fmt::format("{} rows read: {} jobs imported, {} invalid rows skipped, {} rows ignored", rows,
                              imported, skipped, ignored);
  if (assumed) s += fmt::format("; {} jobs {}", assumed, assumed_note);
  return s;
}

// ---------------------------------------------------------------------------
// Guessing and whole-file import

namespace {

std::string FirstLine(const std::string& path) {
  auto r = import_detail::OpenTraceFile(path);
  if (!r.ok()) return "";
  std::string_view line;
  while ((*r)->Next(&line)) {
    if (!Trim(line).empty()) return std::string(line.substr(0, 4096));
  }
  return "";
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool Contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

std::string FormatNames(bool cluster) {
  std::vector<std::string> names;
  if (cluster) {
    for (const auto& f : ClusterFormats()) names.push_back(f.name);
  } else {
    for (const auto& f : TraceFormats()) names.push_back(f.name);
  }
  return Join(names, ", ");
}

}  // namespace

std::string GuessTraceFormat(const std::string& path) {
  std::string base = ToLower(path.substr(path.find_last_of('/') + 1));
  std::string first = ToLower(Trim(FirstLine(path)));
  if (StartsWith(first, "# suanli workload") || StartsWith(first, "id,tenant,user,submit_s")) return "native";
  if (Contains(base, ".swf")) return "swf";
  if (Contains(base, "openb_pod_list")) return "openb";
  if (Contains(base, ".trace")) return "gavel";
  if (Contains(base, "pai_task_table")) return "pai";
  if (Contains(base, "cluster_job_log") || StartsWith(first, "[") || StartsWith(first, "{")) return "philly";
  if (StartsWith(first, ";")) return "swf";
  if (StartsWith(first, "name,cpu_milli,memory_mib,num_gpu")) return "openb";
  if (StartsWith(first, "job_id,num_gpu,submit_time")) return "tiresias";
  if (StartsWith(first, "job_id,user,vc,")) return "helios";
  if (StartsWith(first, "job_id,user,node_num,gpu_num")) return "acme";
  if (StartsWith(first, "instance_sn,role,app_name")) return "dlrm";
  if (Contains(base, "synergy") || Split(first, ',').size() == 5) {
    auto f = Split(first, ',');
    if (f.size() == 5 && ParseInt(f[0]) && !ParseDouble(f[1]) && ParseDouble(f[2])) return "synergy";
  }
  return "";
}

std::string GuessClusterFormat(const std::string& path) {
  std::string base = ToLower(path.substr(path.find_last_of('/') + 1));
  std::string first = ToLower(Trim(FirstLine(path)));
  if (StartsWith(first, "sn,cpu_milli,memory_mib,gpu")) return "openb-nodes";
  if (StartsWith(first, "num_switch,")) return "tiresias-cluster";
  if (StartsWith(first, "gpu_model,gpu_capacity_num")) return "spot-nodes";
  if (StartsWith(first, "machineid,") || StartsWith(first, ",machineid")) return "philly-machines";
  if (Contains(base, "pai_machine_spec")) return "pai-machines";
  if (Contains(base, "openb_node_list")) return "openb-nodes";
  if (Contains(base, "machine_list")) return "philly-machines";
  if (Contains(base, "node_info")) return "spot-nodes";
  return "";
}

Result<Workload> ImportWorkload(const std::string& path, std::string_view format, const Catalog& catalog,
                                const ImportOptions& opts, ImportReport* report) {
  std::string name = format.empty() ? GuessTraceFormat(path) : std::string(format);
  if (name.empty())
    return InvalidArgument("cannot tell the trace format of '{}'; name one of: {}", path, FormatNames(false));
  const TraceFormat* f = FindTraceFormat(name);
  if (!f) return InvalidArgument("unknown trace format '{}'; known: {}", name, FormatNames(false));
  SUANLI_ASSIGN_OR_RETURN(auto reader, import_detail::OpenTraceFile(path));
  Workload w;
  w.name = import_detail::TraceStem(path);
  ImportReport local;
  SUANLI_RETURN_IF_ERROR(f->parse(*reader, catalog, opts, &w, report ? report : &local));
  return w;
}

Result<Network> ImportCluster(const std::string& path, std::string_view format, const Catalog& catalog,
                              const ImportOptions& opts) {
  std::string name = format.empty() ? GuessClusterFormat(path) : std::string(format);
  if (name.empty())
    return InvalidArgument("cannot tell the cluster format of '{}'; name one of: {}", path, FormatNames(true));
  const ClusterFormat* f = FindClusterFormat(name);
  if (!f) return InvalidArgument("unknown cluster format '{}'; known: {}", name, FormatNames(true));
  SUANLI_ASSIGN_OR_RETURN(auto reader, import_detail::OpenTraceFile(path));
  Network net;
  SUANLI_RETURN_IF_ERROR(f->parse(*reader, catalog, opts, &net));
  return net;
}

// ---------------------------------------------------------------------------
// Shared helpers

namespace import_detail {

Result<std::unique_ptr<LineReader>> OpenTraceFile(const std::string& path) { return LineReader::Open(path); }

Status RowErrors::Skip(const Status& error) {
  if (error.ok()) return error;
  if (!opts_.skip_invalid) return error;
  if (report_) {
    ++report_->skipped;
    if (report_->errors.size() < opts_.max_reported_errors) report_->errors.push_back(error.message());
  }
  return Status::Ok();
}

std::string TraceStem(std::string_view path) {
  size_t slash = path.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view ext : {".gz", ".csv", ".trace", ".json", ".swf", ".txt"}) {
    if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext) base.remove_suffix(ext.size());
  }
  return std::string(base);
}

std::string DirName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return "";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::optional<ModelId> ResolveModel(const Catalog& catalog, std::string_view name) {
  name = Trim(name);
  if (name.empty()) return std::nullopt;
  if (auto m = catalog.Find(name)) return m;
  // Spellings such as "A100-SXM4-80GB", "Tesla V100-PCIE-16GB", "NVIDIA H800".
  std::string s(name);
  for (std::string_view prefix : {"NVIDIA ", "Tesla ", "nvidia-", "tesla-"}) {
    if (s.size() > prefix.size() && ToLower(s.substr(0, prefix.size())) == ToLower(prefix)) s = s.substr(prefix.size());
  }
  if (auto m = catalog.Find(s)) return m;
  for (std::string_view form : {"-SXM4", "-SXM5", "-SXM2", "-SXM", "-PCIE", "-PCIe"}) {
    size_t p = s.find(form);
    if (p != std::string::npos) {
      s.erase(p, form.size());
      break;
    }
  }
  if (auto m = catalog.Find(s)) return m;
  // Drop a trailing memory size ("A100-80GB" -> "A100").
  size_t dash = s.find_last_of('-');
  if (dash != std::string::npos && dash > 0) {
    std::string tail = ToLower(s.substr(dash + 1));
    if (tail.size() > 2 && tail.substr(tail.size() - 2) == "gb") {
      if (auto m = catalog.Find(s.substr(0, dash))) return m;
    }
  }
  return std::nullopt;
}

Result<ModelMask> ParseModelList(const CsvRow& row, size_t i, const char* field, const Catalog& catalog, char sep) {
  ModelMask mask = 0;
  std::string_view v = Trim(row.Str(i));
  if (v.empty()) return mask;
  for (std::string_view item : Split(v, sep)) {
    item = Trim(item);
    if (item.empty()) continue;
    auto m = ResolveModel(catalog, item);
    if (!m)
      return row.RowError(
          fmt::format("field '{}' (column {}): unknown GPU type '{}'", field, i + 1, item.substr(0, 60)));
    mask |= ModelMask{1} << *m;
  }
  return mask;
}

Result<ModelMask> DefaultModelMask(const Catalog& catalog, const ImportOptions& opts) {
  if (Trim(opts.default_model).empty()) return ModelMask{0};
  auto m = ResolveModel(catalog, opts.default_model);
  if (!m) return InvalidArgument("default model '{}' is not in the catalog", opts.default_model);
  return ModelMask{1} << *m;
}

namespace {
// Upper bounds at or above these are sanity caps, not part of the field's meaning:
// messages then say ">= lo" unless the value is above the cap.
constexpr double kCapNumber = 1e6;
constexpr int64_t kCapInteger = kMaxGpus;

std::string NumberText(double lo, double hi, bool above) {
  if (hi >= kCapNumber && !above) return fmt::format("a number >= {}", lo);
  return fmt::format("a number between {} and {}", lo, hi);
}
std::string IntegerText(int64_t lo, int64_t hi, bool above) {
  if (hi >= kCapInteger && !above) return fmt::format("an integer >= {}", lo);
  return fmt::format("an integer between {} and {}", lo, hi);
}
}  // namespace

Result<double> Number(const CsvRow& row, size_t i, const char* field, double lo, double hi) {
  if (i >= row.size()) return row.Error(i, field, NumberText(lo, hi, false));
  auto v = ParseDouble(row.Str(i));
  if (!v || *v < lo) return row.Error(i, field, NumberText(lo, hi, false));
  if (*v > hi) return row.Error(i, field, NumberText(lo, hi, true));
  return *v;
}

Result<double> NumberOr(const CsvRow& row, size_t i, const char* field, double lo, double hi, double dflt) {
  if (i >= row.size() || Trim(row.Str(i)).empty()) return dflt;
  return Number(row, i, field, lo, hi);
}

Result<int64_t> Integer(const CsvRow& row, size_t i, const char* field, int64_t lo, int64_t hi) {
  if (i >= row.size()) return row.Error(i, field, IntegerText(lo, hi, false));
  auto v = ParseInt(row.Str(i));
  if (!v || *v < lo) return row.Error(i, field, IntegerText(lo, hi, false));
  if (*v > hi) return row.Error(i, field, IntegerText(lo, hi, true));
  return *v;
}

Result<int64_t> WholeNumber(const CsvRow& row, size_t i, const char* field, int64_t lo, int64_t hi) {
  std::string expected = fmt::format("a whole number between {} and {}", lo, hi);
  if (i >= row.size()) return row.Error(i, field, expected);
  if (auto v = ParseInt(row.Str(i))) {
    if (*v < lo || *v > hi) return row.Error(i, field, expected);
    return *v;
  }
  auto d = ParseDouble(row.Str(i));
  if (!d || *d < static_cast<double>(lo) || *d > static_cast<double>(hi) || *d != std::floor(*d))
    return row.Error(i, field, expected);
  return static_cast<int64_t>(*d);
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<double> ParseDateTime(std::string_view s) {
  s = Trim(s);
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se))
    return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || se > 60) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  std::string_view rest = s.substr(19);
  double frac = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    double scale = 0.1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      frac += (rest[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 1) return std::nullopt;
    rest.remove_prefix(n);
  }
  rest = Trim(rest);
  int offset = 0;  // seconds east of UTC
  if (rest == "Z" || rest == "UTC" || rest.empty()) {
    offset = 0;
  } else if (rest[0] == '+' || rest[0] == '-') {
    int oh = 0, om = 0;
    if (rest.size() == 3 && Digits(rest, 1, 2, &oh)) {
    } else if (rest.size() == 6 && rest[3] == ':' && Digits(rest, 1, 2, &oh) && Digits(rest, 4, 2, &om)) {
    } else if (rest.size() == 5 && Digits(rest, 1, 2, &oh) && Digits(rest, 3, 2, &om)) {
    } else {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  double days = static_cast<double>(DaysFromCivil(y, mo, d));
  return days * 86400.0 + h * 3600 + mi * 60 + se + frac - offset;
}

Status ForEachRow(LineReader& reader, char sep, size_t min_fields, const ImportOptions& opts, ImportReport* report,
                  const std::function<Status(const CsvRow&)>& fn) {
  RowErrors errors(opts, report);
  std::string_view line;
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  while (reader.Next(&line)) {
    if (Trim(line).empty()) continue;
    if (report) ++report->rows;
    Status st;
    if (!SplitCsv(line, sep, &fields, &storage)) {
      st = ParseError("{}: unterminated quote", reader.Where());
    } else if (fields.size() < min_fields) {
      st = ParseError("{}: expected {} fields, got {}", reader.Where(), min_fields, fields.size());
    } else {
      CsvRow row(reader.Where(), fields);
      st = fn(row);
    }
    if (!st.ok()) SUANLI_RETURN_IF_ERROR(errors.Skip(st));
  }
  return reader.status();
}

Result<std::vector<std::string>> ReadHeader(LineReader& reader, char sep) {
  std::string_view line;
  while (reader.Next(&line)) {
    if (Trim(line).empty()) continue;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    if (!SplitCsv(line, sep, &fields, &storage))
      return ParseError("{}: header row: unterminated quote", reader.Where());
    std::vector<std::string> header;
    for (auto f : fields) header.emplace_back(Trim(f));
    if (!header.empty() && header[0].size() >= 3 && header[0].substr(0, 3) == "\xEF\xBB\xBF")
      header[0] = header[0].substr(3);  // UTF-8 byte-order mark
    return header;
  }
  SUANLI_RETURN_IF_ERROR(reader.status());
  return ParseError("{}: empty input, expected a header row", reader.name());
}

Result<size_t> RequireColumn(const LineReader& reader, const std::vector<std::string>& header, std::string_view name) {
  int c = FindColumn(header, name);
  if (c < 0)
    return ParseError("{}:{}: header: missing column '{}' (found: {})", reader.name(), 1, name,
                      Join(header, ",").substr(0, 200));
  return static_cast<size_t>(c);
}

size_t OptionalColumn(const std::vector<std::string>& header, std::string_view name) {
  int c = FindColumn(header, name);
  return c < 0 ? SIZE_MAX : static_cast<size_t>(c);
}

void ShiftToZero(Workload* w, size_t first) {
  if (first >= w->jobs.size()) return;
  Time t0 = kNever;
  std::vector<Job>& jobs = w->jobs.vec();
  for (size_t i = first; i < jobs.size(); ++i) t0 = std::min(t0, jobs[i].submit);
  for (size_t i = first; i < jobs.size(); ++i) jobs[i].submit -= t0;
}

Status FinishWorkload(LineReader& reader, size_t first, Workload* w, ImportReport* report) {
  SUANLI_RETURN_IF_ERROR(reader.status());
  if (!w->names.empty() || first < w->jobs.size()) w->names.resize(w->jobs.size());
  if (w->name.empty()) w->name = TraceStem(reader.name());
  w->SortBySubmit();
  // Overrides in order of first use, so that equal workloads have equal indices.
  std::vector<SpeedOverride> overrides;
  std::vector<uint32_t> remap(w->overrides.size(), kNoOverride);
  for (auto& j : w->jobs) {
    if (j.speed_override == kNoOverride || j.speed_override >= w->overrides.size()) {
      j.speed_override = kNoOverride;
      continue;
    }
    uint32_t& r = remap[j.speed_override];
    if (r == kNoOverride) {
      r = static_cast<uint32_t>(overrides.size());
      overrides.push_back(std::move(w->overrides[j.speed_override]));
    }
    j.speed_override = r;
  }
  w->overrides = std::move(overrides);
  if (report) report->imported += w->jobs.size() - std::min(first, w->jobs.size());
  return Status::Ok();
}

WorkloadClass ClassFromModelName(std::string_view name) {
  std::string n = ToLower(Trim(name));
  auto has = [&](std::string_view p) { return n.find(p) != std::string::npos; };
  auto starts = [&](std::string_view p) { return n.substr(0, p.size()) == p; };
  if (has("transformer") || has("bert") || has("gpt") || has("llama") || has("t5-") || has("llm") || has("pretrain") ||
      has("sft"))
    return WorkloadClass::kTransformer;
  if (has("resnet") || starts("res18") || starts("res50") || starts("res101") || has("vgg") || has("alexnet") ||
      has("inception") || has("googlenet") || has("mobilenet") || has("shufflenet") || has("densenet") ||
      has("squeezenet") || has("cyclegan") || has("efficientnet") || starts("m5") || has("yolo") || has("ssd"))
    return WorkloadClass::kCnn;
  if (starts("a3c") || has("dqn") || has("ppo") || has("reinforce")) return WorkloadClass::kRl;
  return WorkloadClass::kOther;
}

// ---------------------------------------------------------------------------
// NetworkBuilder

NetworkBuilder::NetworkBuilder(std::string name, const Catalog& catalog) : catalog_(catalog) {
  net_.name = name;
  Center c;
  c.name = std::move(name);
  net_.centers.push_back(std::move(c));
}

void NetworkBuilder::AddNode(std::string name, ModelId model, int devices, int64_t cpu_milli, int64_t mem_mib,
                             int64_t rack) {
  Node n;
  n.name = std::move(name);
  n.center = CenterId{0};
  if (devices <= 0) model = kNoModel;
  auto it = pools_.find(model);
  if (it == pools_.end()) {
    Pool p;
    p.name = model == kNoModel || model >= catalog_.size() ? std::string("cpu") : catalog_.model(model).name;
    p.center = CenterId{0};
    it = pools_.emplace(model, net_.pools.next_id()).first;
    net_.pools.push_back(std::move(p));
  }
  n.pool = it->second;
  n.model = model;
  n.devices = static_cast<uint8_t>(std::clamp(devices, 0, 255));
  n.cpu_milli = cpu_milli;
  n.mem_mib = mem_mib;
  if (rack < 0) {
    n.rack = static_cast<uint32_t>(auto_rack_count_ / 8);
    ++auto_rack_count_;
  } else {
    auto r = explicit_racks_.emplace(rack, static_cast<uint32_t>(explicit_racks_.size())).first;
    n.rack = r->second;
  }
  n.pod = n.rack / 8;
  net_.num_racks = std::max(net_.num_racks, n.rack + 1);
  net_.num_pods = std::max(net_.num_pods, n.pod + 1);
  net_.nodes.push_back(std::move(n));
}

Result<Network> NetworkBuilder::Finish() {
  SUANLI_RETURN_IF_ERROR(net_.Validate(catalog_));
  return net_;
}

}  // namespace import_detail
}  // namespace suanli
