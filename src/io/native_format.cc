// Reader and writer of the native workload CSV.
#include "io/native_format.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "base/strings.h"
#include "io/csv.h"
#include "io/output_file.h"
#include "io/trace.h"

namespace suanli {
namespace {

using import_detail::kMaxGpus;
using import_detail::kMaxSeconds;
// Submit times may span more than kMaxSeconds after absolute dates are shifted
// (years 0 to 9999 are about 3.2e11 s); 1e12 s is still far inside int64 microseconds.
constexpr double kMaxSubmitSeconds = 1e12;

// ---------------------------------------------------------------------------
// Writer

bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == '#' || s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t') return true;
  return s.find_first_of(",\"") != std::string_view::npos;
}

void AppendField(std::string* out, std::string_view s) {
  std::string clean;
  if (s.find_first_of("\r\n") != std::string_view::npos) {
    clean.assign(s);
    for (char& c : clean)
      if (c == '\r' || c == '\n') c = ' ';
    s = clean;
  }
  if (!NeedsQuotes(s)) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string FormatMicros(Time t) {
  bool neg = t < 0;
  uint64_t u = neg ? uint64_t(0) - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  uint64_t sec = u / 1'000'000, frac = u % 1'000'000;
  std::string s = neg ? "-" : "";
  s += std::to_string(sec);
  if (frac) {
    std::string f = fmt::format("{:06}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += '.';
    s += f;
  }
  return s;
}

std::string MaskNames(ModelMask mask, const Catalog& catalog) {
  std::string out;
  for (size_t i = 0; i < catalog.size() && i < 64; ++i) {
    if (!(mask >> i & 1)) continue;
    if (!out.empty()) out += '|';
    out += catalog.model(static_cast<ModelId>(i)).name;
  }
  return out;
}

std::string StackNames(StackMask mask, const Catalog& catalog) {
  std::string out;
  for (size_t i = 0; i < catalog.stacks().size() && i < 32; ++i) {
    if (!(mask >> i & 1)) continue;
    if (!out.empty()) out += '|';
    out += catalog.stacks()[i];
  }
  return out;
}

const std::string& PlaceName(const Workload& w, uint16_t place) {
  static const std::string kEmpty;
  return place != kNoPlace && place < w.places.size() ? w.places.Name(place) : kEmpty;
}

bool WantNetworkColumns(const Workload& w, NativeColumns columns) {
  if (columns != NativeColumns::kAuto) return columns == NativeColumns::kNetwork;
  for (const Job& j : w.jobs)
    if (UsesNetworkFields(j)) return true;
  return false;
}

// The network columns of one job; defaults are written as empty fields.
void AppendNetworkFields(std::string* buf, const Workload& w, const Job& j) {
  *buf += ',';
  AppendField(buf, PlaceName(w, j.home));
  *buf += ',';
  AppendField(buf, PlaceName(w, j.data_at));
  *buf += ',';
  if (j.data_gb != 0) *buf += fmt::format("{}", j.data_gb);
  *buf += ',';
  AppendField(buf, PlaceName(w, j.region));
  *buf += ',';
  if (j.latency_ms != 0) *buf += fmt::format("{}", j.latency_ms);
  *buf += j.service ? ",1," : ",,";
  if (j.deadline != kNever) *buf += FormatMicros(j.deadline);
  *buf += ',';
  if (j.checkpoint != 0) *buf += FormatMicros(j.checkpoint);
}

void WriteAll(const Workload& w, const Catalog& catalog, NativeColumns columns,
              const std::function<bool(const std::string&)>& sink) {
  const bool network = WantNetworkColumns(w, columns);
  const bool nodes = network && std::any_of(w.jobs.begin(), w.jobs.end(), [](const Job& j) { return j.nodes != 0; });
  std::string buf;
  buf.reserve(1 << 16);
  buf += kNativeMagic;
  buf += '\n';
  buf += NativeHeaderLine(network, nodes);
  buf += '\n';
  for (JobId i : w.jobs.ids()) {
    const Job& j = w.jobs[i];
    const std::string& name = w.JobName(i);
    AppendField(&buf, name.empty() ? std::to_string(j.id.value()) : name);
    buf += ',';
    AppendField(&buf, j.tenant.value() < w.tenants.size() ? w.tenants.Name(j.tenant) : std::string());
    buf += ',';
    AppendField(&buf, j.user < w.users.size() ? w.users.Name(j.user) : std::string());
    buf += ',';
    buf += FormatMicros(j.submit);
    buf += fmt::format(",{},{},{},{},", j.num_gpus, j.gpu_milli, j.cpu_milli, j.mem_mib);
    buf += MaskNames(j.models, catalog);
    buf += ',';
    AppendField(&buf, StackNames(j.stacks, catalog));
    buf += fmt::format(",{},{},{},{},", ClassName(j.cls), j.work, j.estimate, j.priority);
    if (j.speed_override != kNoOverride && j.speed_override < w.overrides.size()) {
      bool first = true;
      for (const auto& [m, secs] : w.overrides[j.speed_override].seconds) {
        if (m >= catalog.size()) continue;
        if (!first) buf += ';';
        first = false;
        buf += fmt::format("{}={}", catalog.model(m).name, secs);
      }
    }
    if (network) AppendNetworkFields(&buf, w, j);
    if (nodes) buf += j.nodes != 0 ? fmt::format(",{}", j.nodes) : ",";
    buf += '\n';
    if (buf.size() > (1 << 16)) {
      if (!sink(buf)) return;
      buf.clear();
    }
  }
  if (!buf.empty()) sink(buf);
}

// ---------------------------------------------------------------------------
// Reader

// Seconds with up to 6 decimals, read exactly into microseconds.
std::optional<Time> ParseSecondsExact(std::string_view s) {
  s = Trim(s);
  std::string_view digits = s;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  size_t dot = digits.find('.');
  std::string_view ip = digits.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view() : digits.substr(dot + 1);
  auto all_digits = [](std::string_view x) {
    for (char c : x)
      if (c < '0' || c > '9') return false;
    return true;
  };
  if (!ip.empty() && ip.size() <= 12 && fp.size() <= 6 && all_digits(ip) && all_digits(fp) &&
      !(dot != std::string_view::npos && fp.empty())) {
    int64_t sec = 0, micro = 0;
    for (char c : ip) sec = sec * 10 + (c - '0');
    std::string f(fp);
    f.resize(6, '0');
    for (char c : f) micro = micro * 10 + (c - '0');
    if (static_cast<double>(sec) > kMaxSubmitSeconds) return std::nullopt;
    Time t = sec * kSecond + micro;
    return neg ? -t : t;
  }
  auto d = ParseDouble(s);
  if (!d || std::abs(*d) > kMaxSubmitSeconds) return std::nullopt;
  return SecondsF(*d);
}

struct Columns {
  size_t id, tenant, user, submit, gpus, gpu_milli, cpu_milli, mem_mib, models, stacks, cls, work, estimate, priority,
      durations;
  // Optional network columns; SIZE_MAX = absent.
  size_t home = SIZE_MAX, data_at = SIZE_MAX, data_gb = SIZE_MAX, region = SIZE_MAX, latency_ms = SIZE_MAX,
         service = SIZE_MAX, deadline = SIZE_MAX, checkpoint = SIZE_MAX, nodes = SIZE_MAX;
};

constexpr double kMaxDataGb = 1e12;    // a petabyte is 1e6 GB; far above any dataset
constexpr double kMaxLatencyMs = 1e6;  // a thousand seconds

// A float column: the range is checked (and reported) as a double, then the
// text is read again as a float so that the writer's shortest float form
// round-trips exactly.
Result<float> FloatField(const CsvRow& row, size_t i, const char* field, double hi) {
  using namespace import_detail;
  if (i == SIZE_MAX || Trim(row.Str(i)).empty()) return 0.0f;
  SUANLI_ASSIGN_OR_RETURN(double v, Number(row, i, field, 0, hi));
  std::string_view s = Trim(row.Str(i));
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  float f = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), f);
  if (ec != std::errc() || p != s.data() + s.size()) f = static_cast<float>(v);
  return f;
}

// A place name (center or region) interned into Workload::places.
Result<uint16_t> PlaceField(const CsvRow& row, size_t i, const char* field, Workload* w) {
  if (i == SIZE_MAX) return kNoPlace;
  std::string_view s = Trim(row.Str(i));
  if (s.empty()) return kNoPlace;
  if (!w->places.Find(s) && w->places.size() >= kNoPlace)
    return row.Error(i, field, fmt::format("at most {} distinct place names", kNoPlace));
  return static_cast<uint16_t>(w->places.Intern(s));
}

Status ParseNetworkFields(const CsvRow& row, const Columns& c, Workload* w, Job* job) {
  using namespace import_detail;
  SUANLI_ASSIGN_OR_RETURN(job->data_gb, FloatField(row, c.data_gb, "data_gb", kMaxDataGb));
  SUANLI_ASSIGN_OR_RETURN(job->latency_ms, FloatField(row, c.latency_ms, "latency_ms", kMaxLatencyMs));
  job->service = false;
  if (c.service != SIZE_MAX && !Trim(row.Str(c.service)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(int64_t svc, Integer(row, c.service, "service", 0, 1));
    job->service = svc == 1;
  }
  job->deadline = kNever;
  if (c.deadline != SIZE_MAX && !Trim(row.Str(c.deadline)).empty()) {
    auto d = ParseSecondsExact(row.Str(c.deadline));
    if (!d || *d < job->submit)
      return row.Error(c.deadline, "deadline_s",
                       fmt::format("seconds >= submit_s ({}), up to 6 decimals", FormatMicros(job->submit)));
    job->deadline = *d;
  }
  job->checkpoint = 0;
  if (c.checkpoint != SIZE_MAX && !Trim(row.Str(c.checkpoint)).empty()) {
    auto d = ParseSecondsExact(row.Str(c.checkpoint));
    if (!d || *d < 0) return row.Error(c.checkpoint, "checkpoint_s", "seconds >= 0 (up to 6 decimals)");
    job->checkpoint = *d;
  }
  job->nodes = 0;
  if (c.nodes != SIZE_MAX && !Trim(row.Str(c.nodes)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(int64_t nodes, Integer(row, c.nodes, "nodes", 1, UINT16_MAX));
    if (nodes > 1 && (job->IsShared() || job->num_gpus < nodes || job->num_gpus % nodes != 0))
      return row.Error(c.nodes, "nodes",
                       fmt::format("a divisor of gpus ({}, whole devices) when above 1", job->num_gpus));
    job->nodes = static_cast<uint16_t>(nodes);
  }
  // Places last, so that a row rejected for another field adds no name.
  SUANLI_ASSIGN_OR_RETURN(job->home, PlaceField(row, c.home, "home", w));
  SUANLI_ASSIGN_OR_RETURN(job->data_at, PlaceField(row, c.data_at, "data_at", w));
  SUANLI_ASSIGN_OR_RETURN(job->region, PlaceField(row, c.region, "region", w));
  return Status::Ok();
}

Status ParseRow(const CsvRow& row, const Columns& c, const Catalog& catalog, Workload* w,
                std::vector<SpeedOverride>* pending, Job* job, std::string* name) {
  using namespace import_detail;
  *name = std::string(row.Str(c.id));
  auto submit = ParseSecondsExact(row.Str(c.submit));
  if (!submit || *submit < 0) return row.Error(c.submit, "submit_s", "seconds >= 0 (up to 6 decimals)");
  job->submit = *submit;
  SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c.gpus, "gpus", 0, kMaxGpus));
  job->num_gpus = static_cast<uint32_t>(gpus);
  int64_t milli = kWholeDevice;
  if (!Trim(row.Str(c.gpu_milli)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(milli, Integer(row, c.gpu_milli, "gpu_milli", gpus == 0 ? 0 : 1, kWholeDevice));
  }
  if (gpus > 1 && milli != kWholeDevice)
    return row.Error(c.gpu_milli, "gpu_milli", "1000 when gpus > 1 (only a single-GPU job may ask for a share)");
  job->gpu_milli = static_cast<uint16_t>(gpus == 0 ? kWholeDevice : milli);
  constexpr int64_t kMaxMilli = 1'000'000'000'000'000;
  job->cpu_milli = job->mem_mib = 0;
  if (!Trim(row.Str(c.cpu_milli)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(job->cpu_milli, Integer(row, c.cpu_milli, "cpu_milli", 0, kMaxMilli));
  }
  if (!Trim(row.Str(c.mem_mib)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(job->mem_mib, Integer(row, c.mem_mib, "mem_mib", 0, kMaxMilli));
  }
  SUANLI_ASSIGN_OR_RETURN(job->models, ParseModelList(row, c.models, "models", catalog));
  job->stacks = 0;
  std::string_view stacks = Trim(row.Str(c.stacks));
  if (!stacks.empty()) {
    for (std::string_view s : Split(stacks, '|')) {
      s = Trim(s);
      if (s.empty()) continue;
      auto id = catalog.FindStack(s);
      if (!id)
        return row.RowError(
            fmt::format("field 'stacks' (column {}): unknown software stack '{}'", c.stacks + 1, s.substr(0, 60)));
      job->stacks |= StackMask{1} << *id;
    }
  }
  std::string_view cls = Trim(row.Str(c.cls));
  if (cls.empty()) {
    job->cls = WorkloadClass::kOther;
  } else {
    auto parsed = ParseClass(cls);
    if (!parsed) return row.Error(c.cls, "class", "one of cnn, transformer, rl, science, other");
    job->cls = *parsed;
  }
  SUANLI_ASSIGN_OR_RETURN(job->work, Number(row, c.work, "work_s", 0, kMaxSeconds));
  SUANLI_ASSIGN_OR_RETURN(job->estimate, NumberOr(row, c.estimate, "estimate_s", 0, kMaxSeconds, 0));
  int64_t prio = 0;
  if (!Trim(row.Str(c.priority)).empty()) {
    SUANLI_ASSIGN_OR_RETURN(prio, Integer(row, c.priority, "priority", std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max()));
  }
  job->priority = static_cast<int32_t>(prio);
  std::string_view durations = Trim(row.Str(c.durations));
  job->speed_override = kNoOverride;
  if (!durations.empty()) {
    SpeedOverride o;
    ModelMask seen = 0;
    for (std::string_view item : Split(durations, ';')) {
      item = Trim(item);
      if (item.empty()) continue;
      size_t eq = item.find('=');
      auto bad = [&](std::string_view why) {
        return row.RowError(
            fmt::format("field 'durations' (column {}): {} in '{}'", c.durations + 1, why, item.substr(0, 60)));
      };
      if (eq == std::string_view::npos) return bad("expected MODEL=seconds");
      auto m = ResolveModel(catalog, item.substr(0, eq));
      if (!m) return bad("unknown GPU type");
      if (seen >> *m & 1) return bad("model listed twice");
      seen |= ModelMask{1} << *m;
      auto secs = ParseDouble(item.substr(eq + 1));
      if (!secs || *secs < 0 || *secs > kMaxSeconds) return bad("expected seconds >= 0");
      o.seconds.emplace_back(*m, *secs);
    }
    if (!o.seconds.empty()) {
      job->speed_override = static_cast<uint32_t>(w->overrides.size() + pending->size());
      pending->push_back(std::move(o));
    }
  }
  return ParseNetworkFields(row, c, w, job);
}

}  // namespace

bool UsesNetworkFields(const Job& j) {
  return j.home != kNoPlace || j.data_at != kNoPlace || j.region != kNoPlace || j.data_gb != 0 || j.latency_ms != 0 ||
         j.service || j.deadline != kNever || j.checkpoint != 0 || j.nodes != 0;
}

std::string NativeHeaderLine(bool network_columns, bool nodes_column) {
  std::string h(kNativeHeader);
  if (network_columns) {
    h += ',';
    h += kNativeNetworkColumns;
  }
  if (network_columns && nodes_column) {
    h += ',';
    h += kNativeNodesColumn;
  }
  return h;
}

Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog, std::ostream& out) {
  WriteAll(workload, catalog, NativeColumns::kAuto, [&](const std::string& s) {
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    return static_cast<bool>(out);
  });
  if (!out) return IoError("writing workload '{}' failed", workload.name);
  return Status::Ok();
}

std::string NativeWorkloadString(const Workload& workload, const Catalog& catalog, NativeColumns columns) {
  std::string all;
  WriteAll(workload, catalog, columns, [&](const std::string& s) {
    all += s;
    return true;
  });
  return all;
}

Status WriteNativeWorkload(const Workload& workload, const Catalog& catalog, const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(auto out, OutputFile::Open(path, 6));
  Status st;
  WriteAll(workload, catalog, NativeColumns::kAuto, [&](const std::string& s) {
    st = out.Write(s);
    return st.ok();
  });
  SUANLI_RETURN_IF_ERROR(st);
  return out.Close();
}

namespace import_detail {

Status ParseNative(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                   ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  RowErrors errors(opts, report);
  const size_t first = out->jobs.size();
  std::string_view line;
  std::vector<std::string> header;
  while (reader.Next(&line)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    if (!SplitCsv(line, ',', &fields, &storage))
      return ParseError("{}: header row: unterminated quote", reader.Where());
    for (auto f : fields) header.emplace_back(Trim(f));
    break;
  }
  if (header.empty()) {
    SUANLI_RETURN_IF_ERROR(reader.status());
    return ParseError("{}: empty input, expected the header '{}'", reader.name(), kNativeHeader);
  }
  Columns c{};
  struct Named {
    size_t* slot;
    const char* name;
  };
  const Named named[] = {{&c.id, "id"},
                         {&c.tenant, "tenant"},
                         {&c.user, "user"},
                         {&c.submit, "submit_s"},
                         {&c.gpus, "gpus"},
                         {&c.gpu_milli, "gpu_milli"},
                         {&c.cpu_milli, "cpu_milli"},
                         {&c.mem_mib, "mem_mib"},
                         {&c.models, "models"},
                         {&c.stacks, "stacks"},
                         {&c.cls, "class"},
                         {&c.work, "work_s"},
                         {&c.estimate, "estimate_s"},
                         {&c.priority, "priority"},
                         {&c.durations, "durations"}};
  for (const auto& n : named) {
    int col = FindColumn(header, n.name);
    if (col < 0)
      return ParseError("{}: header: missing column '{}'; expected '{}'", reader.Where(), n.name, kNativeHeader);
    *n.slot = static_cast<size_t>(col);
  }
  const Named optional[] = {{&c.home, "home"},           {&c.data_at, "data_at"},         {&c.data_gb, "data_gb"},
                            {&c.region, "region"},       {&c.latency_ms, "latency_ms"},   {&c.service, "service"},
                            {&c.deadline, "deadline_s"}, {&c.checkpoint, "checkpoint_s"}, {&c.nodes, "nodes"}};
  for (const auto& n : optional) {
    int col = FindColumn(header, n.name);
    if (col >= 0) *n.slot = static_cast<size_t>(col);
  }
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  std::vector<SpeedOverride> pending;
  while (reader.Next(&line)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    ++report->rows;
    Status st;
    Job job;
    std::string name;
    pending.clear();
    if (!SplitCsv(line, ',', &fields, &storage)) {
      st = ParseError("{}: unterminated quote", reader.Where());
    } else if (fields.size() < header.size()) {
      st = ParseError("{}: expected {} fields, got {}", reader.Where(), header.size(), fields.size());
    } else {
      CsvRow row(reader.Where(), fields);
      st = ParseRow(row, c, catalog, out, &pending, &job, &name);
    }
    if (!st.ok()) {
      SUANLI_RETURN_IF_ERROR(errors.Skip(st));
      continue;
    }
    std::string_view tenant = fields[c.tenant];
    std::string_view user = fields[c.user];
    job.tenant = out->tenants.Intern(tenant.empty() ? "default" : tenant);
    job.user = out->users.Intern(user.empty() ? "default" : user);
    for (auto& o : pending) out->overrides.push_back(std::move(o));
    out->Add(job, std::move(name));
  }
  return FinishWorkload(reader, first, out, report);
}

}  // namespace import_detail
}  // namespace suanli
