// Synthetic workload generator; see generator.h and docs/generator.md.
#include "sim/generator.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "base/strings.h"
#include "io/line_reader.h"
#include "io/native_format.h"
#include "io/trace.h"

namespace suanli {

// ===========================================================================
// The fitted constants: every number the generator samples from, in one place.
// Regenerate with FitGeneratorFromTraces("data/traces") and FitToSource(); the
// test GeneratorFit.BuiltinMatchesBundledTraces fails when they drift from the data.
// ===========================================================================
namespace {

// Source: philly/philly_runtime.csv.gz (alibaba/clusterdata,
// cluster-trace-gpu-v2020/analysis/philly_runtime.csv): 83,154 Philly job runtimes
// in seconds (median 1,186 s, mean 14,613 s, max 4,628,239 s). Method: type-7
// sample quantiles at the probabilities below, rounded to 1 ms; the generator
// interpolates log-linearly between knots (a runtime below 1 s counts as 1 s).
constexpr std::pair<double, double> kDurationQuantiles[] = {
    {0, 0}, {1, 1},
};

// Source: gavel-philly-vc/msr/seed=0/*.trace.gz (stanford-futuredata/gavel): 15,264
// jobs of 15 Philly virtual clusters; GPUs = field 7 (scale_factor, from Philly),
// class = field 1 (Gavel's synthetic job type) mapped as the gavel importer does.
// Method: counts.
constexpr GeneratorFit::SizeClass kPhillySizes[] = {
    {1, WorkloadClass::kCnn, 1},
};

// Source: alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz (alibaba/clusterdata,
// cluster-trace-gpu-v2023): 8,152 pods. Method: counts of (num_gpu, gpu_milli,
// cpu_milli, memory_mib); gpu_milli is 1000 unless a one-GPU pod asks for a share.
constexpr GeneratorFit::HostDemand kOpenbPods[] = {
    {1, 1000, 1000, 1000, 1},
};

// Source: samples/helios-cluster_throughput-sample.csv (S-Lab-System-Group/Lucid,
// simulation/data/Venus/cluster_throughput.csv, first 200 rows: 2020-04-01 00:00 to
// 2020-04-02 09:10, 10-minute rows). Method: Poisson regression (Newton's method) of
// submit_job_all on two daily harmonics of the row's mid-time h (hours):
// log rate = c0 + a1 cos(2 pi h/24) + b1 sin(2 pi h/24) + a2 cos(4 pi h/24) + b2 sin(4 pi h/24).
constexpr std::array<double, 5> kDiurnal = {0, 0, 0, 0, 0};

// Source: philly/philly_vc.csv.gz (S-Lab-System-Group/HeliosArtifact): node counts of
// the 11 Philly virtual clusters. Method: least squares of ln(nodes) on ln(rank).
constexpr double kTenantZipf = 1.0;
constexpr uint32_t kTenantCount = 11;

}  // namespace

const GeneratorFit& BuiltinFit() {
  static const GeneratorFit kFit = [] {
    GeneratorFit f;
    f.duration_quantiles.assign(std::begin(kDurationQuantiles), std::end(kDurationQuantiles));
    f.philly_sizes.assign(std::begin(kPhillySizes), std::end(kPhillySizes));
    f.openb_pods.assign(std::begin(kOpenbPods), std::end(kOpenbPods));
    f.diurnal = kDiurnal;
    f.tenant_zipf = kTenantZipf;
    f.tenant_count = kTenantCount;
    return f;
  }();
  return kFit;
}

const GeneratorAssumptions& BuiltinAssumptions() {
  static const GeneratorAssumptions kAssume;
  return kAssume;
}

// ===========================================================================
// Fitting
// ===========================================================================
namespace {

// Probabilities of the duration knots, in units of 1/10000: every 1 % up to 99 %,
// every 0.1 % up to 99.9 %, then 99.95 %, 99.99 % and 100 %.
std::vector<int> DurationKnots() {
  std::vector<int> k;
  for (int i = 0; i < 9900; i += 100) k.push_back(i);
  for (int i = 9900; i < 9990; i += 10) k.push_back(i);
  for (int i : {9990, 9995, 9999, 10000}) k.push_back(i);
  return k;
}

double Round3(double v) { return std::round(v * 1000) / 1000; }

Status ForEachLine(const std::string& path, const std::function<Status(LineReader&, std::string_view)>& fn) {
  SUANLI_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  std::string_view line;
  while (reader->Next(&line)) SUANLI_RETURN_IF_ERROR(fn(*reader, line));
  return reader->status();
}

Result<std::vector<double>> FitDurations(const std::string& path) {
  std::vector<double> v;
  bool header = true;
  SUANLI_RETURN_IF_ERROR(ForEachLine(path, [&](LineReader& r, std::string_view line) {
    if (Trim(line).empty()) return Status::Ok();
    if (header) {
      header = false;
      if (ToLower(Trim(line)) == "runtime") return Status::Ok();
    }
    auto d = ParseDouble(line);
    if (!d || *d < 0) return ParseError("{}: field 'runtime': expected seconds >= 0, got '{}'", r.Where(), line);
    v.push_back(*d);
    return Status::Ok();
  }));
  return v;
}

std::vector<std::pair<double, double>> QuantileKnots(std::vector<double> v) {
  std::vector<std::pair<double, double>> out;
  if (v.size() < 2) return out;
  std::sort(v.begin(), v.end());
  const double n1 = static_cast<double>(v.size() - 1);
  for (int k : DurationKnots()) {
    double p = k / 10000.0;
    double h = n1 * k / 10000.0;
    size_t lo = static_cast<size_t>(std::floor(h));
    double q = lo + 1 < v.size() ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v.back();
    out.emplace_back(p, Round3(q));
  }
  return out;
}

Result<std::vector<GeneratorFit::SizeClass>> FitGavel(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > 9 && name.find(".trace") != std::string::npos) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::map<std::pair<uint32_t, int>, uint32_t> counts;
  for (const auto& f : files) {
    SUANLI_RETURN_IF_ERROR(ForEachLine(f, [&](LineReader& r, std::string_view line) {
      if (Trim(line).empty()) return Status::Ok();
      auto fields = Split(line, '\t');
      if (fields.size() != 7)
        return ParseError("{}: expected 7 tab-separated fields, got {}", r.Where(), fields.size());
      auto gpus = ParseInt(fields[6]);
      if (!gpus || *gpus < 1 || *gpus > 1'000'000)
        return ParseError("{}: field 'scale_factor' (column 7): expected GPUs >= 1, got '{}'", r.Where(),
                          fields[6]);
      std::string_view type = fields[0];
      type = Trim(type.substr(0, type.find(" (")));
      WorkloadClass cls = import_detail::ClassFromModelName(type);
      ++counts[{static_cast<uint32_t>(*gpus), static_cast<int>(cls)}];
      return Status::Ok();
    }));
  }
  std::vector<GeneratorFit::SizeClass> out;
  for (const auto& [k, n] : counts) out.push_back({k.first, static_cast<WorkloadClass>(k.second), n});
  return out;
}

// Column index by header name, or an error naming the file.
Result<size_t> Column(const std::vector<std::string_view>& header, std::string_view name,
                      const std::string& where) {
  for (size_t i = 0; i < header.size(); ++i)
    if (ToLower(Trim(header[i])) == name) return i;
  return ParseError("{}: header: missing column '{}'", where, name);
}

Result<std::vector<GeneratorFit::HostDemand>> FitOpenb(const std::string& path) {
  std::map<std::tuple<uint32_t, int, int64_t, int64_t>, uint32_t> counts;
  std::vector<std::string> header_store;
  size_t c_gpu = 0, c_milli = 0, c_cpu = 0, c_mem = 0;
  bool header = true;
  SUANLI_RETURN_IF_ERROR(ForEachLine(path, [&](LineReader& r, std::string_view line) {
    if (Trim(line).empty()) return Status::Ok();
    auto fields = Split(line, ',');
    if (header) {
      header = false;
      SUANLI_ASSIGN_OR_RETURN(c_gpu, Column(fields, "num_gpu", r.Where()));
      SUANLI_ASSIGN_OR_RETURN(c_milli, Column(fields, "gpu_milli", r.Where()));
      SUANLI_ASSIGN_OR_RETURN(c_cpu, Column(fields, "cpu_milli", r.Where()));
      SUANLI_ASSIGN_OR_RETURN(c_mem, Column(fields, "memory_mib", r.Where()));
      return Status::Ok();
    }
    auto get = [&](size_t c, const char* name) -> Result<int64_t> {
      auto v = c < fields.size() ? ParseInt(fields[c]) : std::nullopt;
      if (!v || *v < 0)
        return ParseError("{}: field '{}' (column {}): expected an integer >= 0", r.Where(), name, c + 1);
      return *v;
    };
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, get(c_gpu, "num_gpu"));
    SUANLI_ASSIGN_OR_RETURN(int64_t milli, get(c_milli, "gpu_milli"));
    SUANLI_ASSIGN_OR_RETURN(int64_t cpu, get(c_cpu, "cpu_milli"));
    SUANLI_ASSIGN_OR_RETURN(int64_t mem, get(c_mem, "memory_mib"));
    if (gpus > 64) return ParseError("{}: field 'num_gpu': expected at most 64", r.Where());
    int share = gpus == 1 && milli > 0 && milli < kWholeDevice ? static_cast<int>(milli) : kWholeDevice;
    ++counts[{static_cast<uint32_t>(gpus), share, cpu, mem}];
    return Status::Ok();
  }));
  std::vector<GeneratorFit::HostDemand> out;
  for (const auto& [k, n] : counts)
    out.push_back({std::get<0>(k), static_cast<uint16_t>(std::get<1>(k)), std::get<2>(k), std::get<3>(k), n});
  return out;
}

// Solves a small dense system (Gaussian elimination with partial pivoting).
std::array<double, 5> Solve5(std::array<std::array<double, 6>, 5> m) {
  for (int i = 0; i < 5; ++i) {
    int p = i;
    for (int r = i + 1; r < 5; ++r)
      if (std::abs(m[r][i]) > std::abs(m[p][i])) p = r;
    std::swap(m[i], m[p]);
    for (int r = 0; r < 5; ++r) {
      if (r == i || m[i][i] == 0) continue;
      double f = m[r][i] / m[i][i];
      for (int c = i; c < 6; ++c) m[r][c] -= f * m[i][c];
    }
  }
  std::array<double, 5> x{};
  for (int i = 0; i < 5; ++i) x[i] = m[i][i] != 0 ? m[i][5] / m[i][i] : 0;
  return x;
}

std::array<double, 5> Harmonics(double hours) {
  constexpr double kW = 6.283185307179586 / 24;
  return {1, std::cos(kW * hours), std::sin(kW * hours), std::cos(2 * kW * hours), std::sin(2 * kW * hours)};
}

Result<std::array<double, 5>> FitDiurnal(const std::string& path) {
  std::vector<std::pair<std::array<double, 5>, double>> rows;
  size_t c_time = 0, c_submit = 0;
  bool header = true;
  SUANLI_RETURN_IF_ERROR(ForEachLine(path, [&](LineReader& r, std::string_view line) {
    if (Trim(line).empty()) return Status::Ok();
    auto fields = Split(line, ',');
    if (header) {
      header = false;
      SUANLI_ASSIGN_OR_RETURN(c_time, Column(fields, "time", r.Where()));
      SUANLI_ASSIGN_OR_RETURN(c_submit, Column(fields, "submit_job_all", r.Where()));
      return Status::Ok();
    }
    std::string_view t = c_time < fields.size() ? Trim(fields[c_time]) : std::string_view();
    auto hh = t.size() >= 16 ? ParseInt(t.substr(11, 2)) : std::nullopt;
    auto mm = t.size() >= 16 ? ParseInt(t.substr(14, 2)) : std::nullopt;
    if (!hh || !mm || *hh > 23 || *mm > 59)
      return ParseError("{}: field 'time': expected 'YYYY-MM-DD HH:MM:SS'", r.Where());
    auto n = c_submit < fields.size() ? ParseInt(fields[c_submit]) : std::nullopt;
    if (!n || *n < 0) return ParseError("{}: field 'submit_job_all': expected a count >= 0", r.Where());
    rows.push_back({Harmonics(*hh + (*mm + 5) / 60.0), static_cast<double>(*n)});
    return Status::Ok();
  }));
  if (rows.size() < 10) return ParseError("{}: too few rows to fit a daily profile", path);
  double total = 0;
  for (const auto& r : rows) total += r.second;
  std::array<double, 5> beta{std::log(std::max(total, 1.0) / rows.size()), 0, 0, 0, 0};
  for (int it = 0; it < 100; ++it) {
    std::array<std::array<double, 6>, 5> m{};
    for (const auto& [x, y] : rows) {
      double eta = 0;
      for (int a = 0; a < 5; ++a) eta += beta[a] * x[a];
      double mu = std::exp(eta);
      for (int a = 0; a < 5; ++a) {
        for (int b = 0; b < 5; ++b) m[a][b] += mu * x[a] * x[b];
        m[a][5] += (y - mu) * x[a];
      }
    }
    auto step = Solve5(m);
    double biggest = 0;
    for (int a = 0; a < 5; ++a) {
      beta[a] += step[a];
      biggest = std::max(biggest, std::abs(step[a]));
    }
    if (biggest < 1e-13) break;
  }
  for (double& b : beta) b = std::round(b * 1e9) / 1e9;
  return beta;
}

Result<double> FitZipf(const std::string& path, uint32_t* count) {
  std::vector<double> nodes;
  bool header = true;
  SUANLI_RETURN_IF_ERROR(ForEachLine(path, [&](LineReader& r, std::string_view line) {
    if (Trim(line).empty()) return Status::Ok();
    if (header) {
      header = false;
      return Status::Ok();
    }
    auto fields = Split(line, ',');
    auto n = fields.size() >= 2 ? ParseDouble(fields[1]) : std::nullopt;
    if (!n || *n <= 0) return ParseError("{}: field 'node num' (column 2): expected a count > 0", r.Where());
    nodes.push_back(*n);
    return Status::Ok();
  }));
  if (nodes.size() < 2) return ParseError("{}: need at least 2 virtual clusters", path);
  std::sort(nodes.rbegin(), nodes.rend());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    double x = std::log(static_cast<double>(i + 1)), y = std::log(nodes[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  *count = static_cast<uint32_t>(nodes.size());
  double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return std::round(-slope * 1e6) / 1e6;
}

bool Exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

Result<GeneratorFit> FitGeneratorFromTraces(const std::string& traces_dir) {
  GeneratorFit fit;
  const std::string d = traces_dir.empty() ? "." : traces_dir;
  if (std::string p = d + "/philly/philly_runtime.csv.gz"; Exists(p)) {
    SUANLI_ASSIGN_OR_RETURN(auto v, FitDurations(p));
    fit.duration_quantiles = QuantileKnots(std::move(v));
  }
  if (std::string p = d + "/gavel-philly-vc/msr/seed=0"; Exists(p)) {
    SUANLI_ASSIGN_OR_RETURN(fit.philly_sizes, FitGavel(p));
  }
  if (std::string p = d + "/alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz"; Exists(p)) {
    SUANLI_ASSIGN_OR_RETURN(fit.openb_pods, FitOpenb(p));
  }
  if (std::string p = d + "/samples/helios-cluster_throughput-sample.csv"; Exists(p)) {
    SUANLI_ASSIGN_OR_RETURN(fit.diurnal, FitDiurnal(p));
  }
  if (std::string p = d + "/philly/philly_vc.csv.gz"; Exists(p)) {
    SUANLI_ASSIGN_OR_RETURN(fit.tenant_zipf, FitZipf(p, &fit.tenant_count));
  }
  return fit;
}

std::string FitToSource(const GeneratorFit& fit) {
  std::string s = "constexpr std::pair<double, double> kDurationQuantiles[] = {\n";
  for (size_t i = 0; i < fit.duration_quantiles.size(); ++i) {
    const auto& [p, v] = fit.duration_quantiles[i];
    s += fmt::format("{}{{{}, {}}},", i % 4 == 0 ? "    " : " ", p, v);
    if (i % 4 == 3 || i + 1 == fit.duration_quantiles.size()) s += '\n';
  }
  s += "};\n\nconstexpr GeneratorFit::SizeClass kPhillySizes[] = {\n";
  static const char* kClassEnum[] = {"kCnn", "kTransformer", "kRl", "kScience", "kOther"};
  for (const auto& c : fit.philly_sizes)
    s += fmt::format("    {{{}, WorkloadClass::{}, {}}},\n", c.gpus, kClassEnum[static_cast<int>(c.cls)], c.jobs);
  s += "};\n\nconstexpr GeneratorFit::HostDemand kOpenbPods[] = {\n";
  for (size_t i = 0; i < fit.openb_pods.size(); ++i) {
    const auto& h = fit.openb_pods[i];
    s += fmt::format("{}{{{}, {}, {}, {}, {}}},", i % 3 == 0 ? "    " : " ", h.gpus, h.gpu_milli, h.cpu_milli,
                     h.mem_mib, h.pods);
    if (i % 3 == 2 || i + 1 == fit.openb_pods.size()) s += '\n';
  }
  s += fmt::format("}};\n\nconstexpr std::array<double, 5> kDiurnal = {{{}, {}, {}, {}, {}}};\n", fit.diurnal[0],
                   fit.diurnal[1], fit.diurnal[2], fit.diurnal[3], fit.diurnal[4]);
  s += fmt::format("\nconstexpr double kTenantZipf = {};\nconstexpr uint32_t kTenantCount = {};\n",
                   fit.tenant_zipf, fit.tenant_count);
  return s;
}

std::array<double, 24> HourlyProfile(const std::array<double, 5>& diurnal) {
  std::array<double, 24> r{};
  double sum = 0;
  for (int h = 0; h < 24; ++h) {
    auto x = Harmonics(h + 0.5);
    double eta = 0;
    for (int a = 0; a < 5; ++a) eta += diurnal[a] * x[a];
    r[h] = std::exp(eta);
    sum += r[h];
  }
  for (double& v : r) v = sum > 0 ? v * 24 / sum : 1.0;
  return r;
}

// ===========================================================================
// Generator
// ===========================================================================

namespace {
enum Profile { kMixed = 0, kPhilly = 1, kOpenb = 2 };
constexpr size_t kChunk = 1 << 15;
}  // namespace

const std::vector<GenProfileInfo>& GeneratorProfiles() {
  static const std::vector<GenProfileInfo> kProfiles = {
      {"mixed",
       "Philly GPU counts and classes (Gavel), openb GPU sharing and host demand, memory-floor and "
       "software-stack constraints (default)"},
      {"philly", "Philly GPU counts and classes (Gavel) with openb host demand; no sharing, no constraints"},
      {"openb", "openb pods as they are (CPU-only, shared, 1-8 GPUs) with Philly run times and constraints"},
  };
  return kProfiles;
}

uint64_t WorkloadGenerator::Table::Pick(Rng& rng) const {
  uint64_t x = rng.Below(cum.back());
  return static_cast<uint64_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
}

namespace {

void AddWeight(std::vector<uint64_t>* cum, uint64_t w) { cum->push_back((cum->empty() ? 0 : cum->back()) + w); }

// Index of the openb whole-GPU table used for a job of `gpus` devices: 1, 2, 4, 8.
int WholeBucket(uint32_t gpus) { return gpus >= 8 ? 3 : gpus >= 4 ? 2 : gpus >= 2 ? 1 : 0; }

std::string PaddedName(const char* prefix, uint32_t i, uint32_t count) {
  int width = std::max<int>(2, static_cast<int>(std::to_string(count ? count - 1 : 0).size()));
  return fmt::format("{}{:0{}}", prefix, i, width);
}

}  // namespace

Result<WorkloadGenerator> WorkloadGenerator::Create(const GenOptions& opts, const Catalog& catalog) {
  WorkloadGenerator g;
  g.opts_ = opts;
  const auto& profiles = GeneratorProfiles();
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const auto& p) { return p.name == opts.profile; });
  if (it == profiles.end()) {
    std::vector<std::string> names;
    for (const auto& p : profiles) names.push_back(p.name);
    return InvalidArgument("--profile: unknown profile '{}'; known: {}", opts.profile, Join(names, ", "));
  }
  g.profile_ = static_cast<int>(it - profiles.begin());
  if (opts.jobs < 1 || opts.jobs >= kNoJob)
    return InvalidArgument("--jobs: expected 1 to {}, got {}", kNoJob - 1, opts.jobs);
  if (!(opts.load > 0) || !std::isfinite(opts.load) || opts.load > 1e6)
    return InvalidArgument("--load: expected a number > 0, got {}", opts.load);
  if (opts.gpus < 1 || opts.gpus > 1'000'000'000)
    return InvalidArgument("--gpus: expected 1 to 1000000000, got {}", opts.gpus);
  if (opts.tenants > 1'000'000) return InvalidArgument("--tenants: expected at most 1000000, got {}", opts.tenants);
  if (g.opts_.name.empty()) g.opts_.name = fmt::format("gen-{}-{}", opts.profile, opts.seed);

  const GeneratorFit& fit = BuiltinFit();
  g.assume_ = BuiltinAssumptions();

  // Sizes and classes (Gavel / Philly).
  g.sizes_ = fit.philly_sizes;
  for (const auto& s : g.sizes_) {
    AddWeight(&g.size_table_.cum, s.jobs);
    g.class_weights_[static_cast<int>(s.cls)] += s.jobs;
  }
  for (uint64_t w : g.class_weights_) AddWeight(&g.class_table_.cum, w);

  // Host demand (openb).
  g.host_ = fit.openb_pods;
  g.host_whole_gpus_ = {1, 2, 4, 8};
  for (size_t i = 0; i < g.host_.size(); ++i) {
    const auto& h = g.host_[i];
    AddWeight(&g.host_all_.cum, h.pods);
    if (h.gpus == 0) {
      g.host_cpu_only_idx_.push_back(i);
      AddWeight(&g.host_cpu_only_.cum, h.pods);
      g.openb_cpu_only_ += h.pods;
      continue;
    }
    g.openb_gpu_ += h.pods;
    if (h.gpus == 1) g.one_gpu_ += h.pods;
    if (h.gpu_milli < kWholeDevice) {
      g.host_shared_idx_.push_back(i);
      AddWeight(&g.host_shared_.cum, h.pods);
      g.shared_ += h.pods;
      continue;
    }
    for (int b = 0; b < 4; ++b) {
      if (h.gpus == g.host_whole_gpus_[b]) {
        g.host_whole_idx_[b].push_back(i);
        AddWeight(&g.host_whole_[b].cum, h.pods);
      }
    }
  }
  for (int b = 0; b < 4; ++b)
    if (g.host_whole_idx_[b].empty()) return Internal("generator fit: no openb pods with {} GPUs", g.host_whole_gpus_[b]);
  if (g.sizes_.empty() || g.host_shared_idx_.empty() || g.host_cpu_only_idx_.empty())
    return Internal("generator fit: empty size tables");

  // Durations.
  for (const auto& [p, v] : fit.duration_quantiles) {
    g.q_p_.push_back(p);
    g.q_log_.push_back(std::log(std::max(v, 1.0)));
  }
  if (g.q_p_.size() < 2 || g.q_p_.front() != 0 || g.q_p_.back() != 1)
    return Internal("generator fit: duration quantiles must run from p = 0 to p = 1");
  double mean_dur = 0;
  for (size_t i = 0; i + 1 < g.q_p_.size(); ++i) {
    double dp = g.q_p_[i + 1] - g.q_p_[i];
    double a = g.q_log_[i], b = g.q_log_[i + 1];
    mean_dur += b - a > 1e-12 ? dp * (std::exp(b) - std::exp(a)) / (b - a) : dp * std::exp(a);
  }
  g.mean_dur_ = mean_dur;

  // Mean accelerators per job.
  double shared_acc = 0;
  for (size_t i : g.host_shared_idx_) shared_acc += g.host_[i].pods * (g.host_[i].gpu_milli / 1000.0);
  if (g.profile_ == kOpenb) {
    double acc = 0;
    for (const auto& h : g.host_) acc += h.pods * (h.gpu_milli < kWholeDevice ? h.gpu_milli / 1000.0 : h.gpus);
    g.mean_acc_ = acc / static_cast<double>(g.openb_cpu_only_ + g.openb_gpu_);
  } else {
    double acc = 0;
    for (const auto& s : g.sizes_) {
      if (s.gpus == 1 && g.profile_ == kMixed) {
        double whole = static_cast<double>(g.one_gpu_ - g.shared_);
        acc += s.jobs * (whole + shared_acc) / static_cast<double>(g.one_gpu_);
      } else {
        acc += static_cast<double>(s.jobs) * s.gpus;
      }
    }
    g.mean_acc_ = acc / static_cast<double>(g.size_table_.cum.back());
  }
  g.rate_ = opts.load * static_cast<double>(opts.gpus) / (g.mean_acc_ * g.mean_dur_);

  // Arrivals.
  if (opts.diurnal) {
    g.hourly_ = HourlyProfile(fit.diurnal);
  } else {
    g.hourly_.fill(1.0);
  }

  // Tenants and users: Zipf weights quantised to integers.
  g.tenants_ = opts.tenants ? opts.tenants : fit.tenant_count;
  if (g.tenants_ < 1) g.tenants_ = 1;
  for (uint32_t r = 1; r <= g.tenants_; ++r)
    AddWeight(&g.tenant_table_.cum, static_cast<uint64_t>(std::llround(1e9 * std::pow(r, -fit.tenant_zipf))) + 1);
  g.users_per_tenant_ = std::max<uint32_t>(1, g.assume_.users_per_tenant);
  for (uint32_t r = 1; r <= g.users_per_tenant_; ++r)
    AddWeight(&g.user_table_.cum, static_cast<uint64_t>(std::llround(1e9 * std::pow(r, -g.assume_.user_zipf))) + 1);

  // Constraints.
  for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m) {
    const auto& am = catalog.model(static_cast<ModelId>(m));
    if (am.inference_only) continue;
    if (am.memory_gb >= g.assume_.transformer_min_memory_gb) g.big_models_ |= ModelMask{1} << m;
    if (am.memory_gb >= g.assume_.other_min_memory_gb) g.large_models_ |= ModelMask{1} << m;
  }
  if (auto s = catalog.FindStack("cuda")) g.cuda_ = StackMask{1} << *s;
  if (auto s = catalog.FindStack("cann")) g.cann_ = StackMask{1} << *s;

  Rng root(opts.seed);
  g.arrivals_rng_ = root.Fork(1);
  g.jobs_rng_ = root.Fork(2);
  return g;
}

Workload WorkloadGenerator::NewWorkload() const {
  Workload w;
  w.name = opts_.name;
  for (uint32_t t = 0; t < tenants_; ++t) w.tenants.Intern(PaddedName("t", t, tenants_));
  for (uint32_t t = 0; t < tenants_; ++t)
    for (uint32_t u = 0; u < users_per_tenant_; ++u)
      w.users.Intern(PaddedName("t", t, tenants_) + PaddedName("-u", u, users_per_tenant_));
  return w;
}

Time WorkloadGenerator::NextArrival() {
  if (generated_ == 0) return 0;  // the first job arrives at time 0 (midnight of day 0)
  double need = arrivals_rng_.Exponential(1.0) / rate_;  // integrated intensity, in mean-rate seconds
  double t = clock_;
  while (true) {
    double hour_index = std::floor(t / 3600);
    int h = static_cast<int>(std::fmod(hour_index, 24.0));
    double end = (hour_index + 1) * 3600;
    double cap = (end - t) * hourly_[h];
    if (need <= cap) {
      t += need / hourly_[h];
      break;
    }
    need -= cap;
    t = end;
  }
  clock_ = t;
  return static_cast<Time>(std::llround(t * 1000)) * kMilli;
}

double WorkloadGenerator::SampleDuration(Rng& rng) const {
  double u = rng.Uniform();
  size_t i = static_cast<size_t>(std::upper_bound(q_p_.begin(), q_p_.end(), u) - q_p_.begin());
  i = std::clamp<size_t>(i, 1, q_p_.size() - 1) - 1;
  double f = (u - q_p_[i]) / (q_p_[i + 1] - q_p_[i]);
  double v = std::exp(q_log_[i] + (q_log_[i + 1] - q_log_[i]) * f);
  return std::max(1.0, static_cast<double>(std::llround(v)));
}

void WorkloadGenerator::FillJob(Job* job) {
  Rng& r = jobs_rng_;
  const GeneratorFit::HostDemand* host = nullptr;
  if (profile_ == kOpenb) {
    host = &host_[host_all_.Pick(r)];
    job->cls = host->gpus == 0 ? WorkloadClass::kOther : static_cast<WorkloadClass>(class_table_.Pick(r));
    job->num_gpus = host->gpus;
    job->gpu_milli = host->gpus == 0 ? kWholeDevice : host->gpu_milli;
    job->cpu_milli = host->cpu_milli;
    job->mem_mib = host->mem_mib;
  } else {
    const auto& s = sizes_[size_table_.Pick(r)];
    job->num_gpus = s.gpus;
    job->cls = s.cls;
    job->gpu_milli = kWholeDevice;
    if (s.gpus == 1 && profile_ == kMixed && r.Below(one_gpu_) < shared_) {
      host = &host_[host_shared_idx_[host_shared_.Pick(r)]];
      job->gpu_milli = host->gpu_milli;
      job->cpu_milli = host->cpu_milli;
      job->mem_mib = host->mem_mib;
    } else {
      int b = WholeBucket(s.gpus);
      host = &host_[host_whole_idx_[b][host_whole_[b].Pick(r)]];
      const int64_t base = host_whole_gpus_[b];
      job->cpu_milli = (host->cpu_milli * s.gpus + base / 2) / base;
      job->mem_mib = (host->mem_mib * s.gpus + base / 2) / base;
    }
  }
  if (profile_ != kPhilly && job->num_gpus > 0) {
    if (r.Below(1000) < assume_.science_permille) job->cls = WorkloadClass::kScience;
    if (r.Below(100) < assume_.model_constraint_percent)
      job->models = job->cls == WorkloadClass::kTransformer ? big_models_ : large_models_;
    uint64_t st = r.Below(100);
    job->stacks = st < assume_.cuda_percent                        ? cuda_
                  : st < assume_.cuda_percent + assume_.cann_percent ? cann_
                                                                    : 0;
  }
  uint32_t tenant = static_cast<uint32_t>(tenant_table_.Pick(r));
  job->tenant = tenant;
  job->user = tenant * users_per_tenant_ + static_cast<uint32_t>(user_table_.Pick(r));
  job->work = SampleDuration(r);
}

size_t WorkloadGenerator::Next(size_t max, Workload* out) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(max, opts_.jobs - generated_));
  out->jobs.reserve(out->jobs.size() + n);
  for (size_t i = 0; i < n; ++i) {
    Job job;
    job.id = static_cast<JobId>(generated_);
    job.submit = NextArrival();
    FillJob(&job);
    out->jobs.push_back(job);
    ++generated_;
  }
  return n;
}

Result<Workload> GenerateWorkload(const GenOptions& opts, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  Workload w = gen.NewWorkload();
  gen.Next(opts.jobs, &w);
  return w;
}

namespace {

// Where generated text goes: a plain file or a gzip stream.
class Sink {
 public:
  static Result<Sink> Open(const std::string& path) {
    Sink s;
    s.path_ = path;
    s.gz_ = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (s.gz_) {
      s.gzf_ = gzopen(path.c_str(), "wb6");
      if (!s.gzf_) return IoError("cannot create '{}': {}", path, std::strerror(errno));
    } else {
      s.f_ = std::fopen(path.c_str(), "wb");
      if (!s.f_) return IoError("cannot create '{}': {}", path, std::strerror(errno));
    }
    return s;
  }
  Sink(Sink&& o) noexcept { *this = std::move(o); }
  Sink& operator=(Sink&& o) noexcept {
    std::swap(path_, o.path_);
    std::swap(gz_, o.gz_);
    std::swap(f_, o.f_);
    std::swap(gzf_, o.gzf_);
    return *this;
  }
  ~Sink() { (void)Close(); }
  Status Write(std::string_view s) {
    bool ok = gz_ ? gzwrite(gzf_, s.data(), static_cast<unsigned>(s.size())) == static_cast<int>(s.size())
                  : std::fwrite(s.data(), 1, s.size(), f_) == s.size();
    if (!ok) return IoError("writing '{}' failed: {}", path_, std::strerror(errno));
    return Status::Ok();
  }
  Status Close() {
    bool ok = true;
    if (gzf_) ok = gzclose(gzf_) == Z_OK;
    if (f_) ok = std::fclose(f_) == 0;
    gzf_ = nullptr;
    f_ = nullptr;
    if (!ok) return IoError("writing '{}' failed", path_);
    return Status::Ok();
  }

 private:
  Sink() = default;
  std::string path_;
  bool gz_ = false;
  FILE* f_ = nullptr;
  gzFile gzf_ = nullptr;
};

}  // namespace

Status WriteGeneratedWorkload(const GenOptions& opts, const Catalog& catalog, const std::string& path,
                              GenSummary* summary) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  SUANLI_ASSIGN_OR_RETURN(auto sink, Sink::Open(path));
  Workload chunk = gen.NewWorkload();
  const std::string header = fmt::format("{}\n{}\n", kNativeMagic, kNativeHeader);
  GenSummary sum;
  Time first = 0, last = 0;
  bool first_chunk = true;
  while (gen.Next(kChunk, &chunk) > 0) {
    for (const Job& j : chunk.jobs) sum.accelerator_seconds += static_cast<double>(j.GpuMilli()) / 1000 * j.work;
    if (first_chunk) first = chunk.jobs.front().submit;
    last = chunk.jobs.back().submit;
    std::string text = NativeWorkloadString(chunk, catalog);
    std::string_view body = text;
    // Every chunk is written as a whole workload; keep the header of the first only.
    if (!first_chunk) {
      if (body.substr(0, header.size()) != header)
        return Internal("native writer output does not start with the expected header");
      body.remove_prefix(header.size());
    }
    SUANLI_RETURN_IF_ERROR(sink.Write(body));
    first_chunk = false;
    chunk.jobs.clear();
  }
  SUANLI_RETURN_IF_ERROR(sink.Close());
  sum.jobs = gen.generated();
  sum.span = last - first;
  sum.arrival_rate = gen.arrival_rate();
  sum.mean_accelerators = gen.mean_accelerators();
  sum.mean_duration = gen.mean_duration();
  if (sum.span > 0) sum.offered_load = sum.accelerator_seconds / (ToSeconds(sum.span) * static_cast<double>(opts.gpus));
  if (summary) *summary = sum;
  return Status::Ok();
}

}  // namespace suanli
