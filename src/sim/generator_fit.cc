// The workload generator's fit (see generator.h and docs/generator.md): the
// fitted constants every number the generator samples from, and how they are
// fitted again from the traces.
#include "sim/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <tuple>

#include "base/strings.h"
#include "io/line_reader.h"
#include "io/trace.h"

namespace suanli {

// ===========================================================================
// The fitted constants: every number the generator samples from, in one place.
// Regenerate with FitGeneratorFromTraces("data/traces") and FitToSource(); the
// test GeneratorFit.BuiltinMatchesBundledTraces fails when they drift from the data.
// ===========================================================================
namespace {

// clang-format off
// Source: philly/philly_runtime.csv.gz (alibaba/clusterdata,
// cluster-trace-gpu-v2020/analysis/philly_runtime.csv): 83,154 Philly job runtimes
// in seconds (median 1,186 s, mean 14,613 s, max 4,628,239 s). Method: type-7
// sample quantiles at the probabilities below, rounded to 1 ms; the generator
// interpolates log-linearly between knots (a runtime below 1 s counts as 1 s).
constexpr std::pair<double, double> kDurationQuantiles[] = {
    {0, 0}, {0.01, 17}, {0.02, 25}, {0.03, 38},
    {0.04, 44}, {0.05, 48}, {0.06, 51}, {0.07, 55},
    {0.08, 57}, {0.09, 59}, {0.1, 61}, {0.11, 63},
    {0.12, 64}, {0.13, 65}, {0.14, 67}, {0.15, 68},
    {0.16, 69}, {0.17, 71}, {0.18, 72}, {0.19, 74},
    {0.2, 76}, {0.21, 79}, {0.22, 84}, {0.23, 95},
    {0.24, 110}, {0.25, 131}, {0.26, 151}, {0.27, 170},
    {0.28, 186}, {0.29, 207}, {0.3, 229}, {0.31, 265},
    {0.32, 302}, {0.33, 325}, {0.34, 356.02}, {0.35, 428},
    {0.36, 486.08}, {0.37, 528}, {0.38, 558}, {0.39, 589},
    {0.4, 630}, {0.41, 675}, {0.42, 726}, {0.43, 785},
    {0.44, 845}, {0.45, 889}, {0.46, 930}, {0.47, 986},
    {0.48, 1053}, {0.49, 1121}, {0.5, 1186}, {0.51, 1252},
    {0.52, 1330}, {0.53, 1412}, {0.54, 1461}, {0.55, 1500},
    {0.56, 1547}, {0.57, 1604.21}, {0.58, 1699}, {0.59, 1801.27},
    {0.6, 1871}, {0.61, 1941}, {0.62, 2004}, {0.63, 2059},
    {0.64, 2127}, {0.65, 2242}, {0.66, 2354}, {0.67, 2433},
    {0.68, 2490}, {0.69, 2545}, {0.7, 2590}, {0.71, 2647},
    {0.72, 2710}, {0.73, 2783}, {0.74, 2949.22}, {0.75, 3341.5},
    {0.76, 3536}, {0.77, 3801.81}, {0.78, 4018}, {0.79, 4261.87},
    {0.8, 4699.4}, {0.81, 5160}, {0.82, 5453.46}, {0.83, 5710},
    {0.84, 5928}, {0.85, 6300.1}, {0.86, 7765.58}, {0.87, 8816.11},
    {0.88, 9709.76}, {0.89, 11086}, {0.9, 12859.4}, {0.91, 15080.61},
    {0.92, 18841.8}, {0.93, 23848}, {0.94, 31998.66}, {0.95, 49947.55},
    {0.96, 69286.92}, {0.97, 101863.35}, {0.98, 167783.62}, {0.99, 287283.18},
    {0.991, 320550.52}, {0.992, 353212.16}, {0.993, 382444.166}, {0.994, 427406.394},
    {0.995, 484496.99}, {0.996, 567256.044}, {0.997, 688570.1}, {0.998, 874641.93},
    {0.999, 1361015.245}, {0.9995, 1912481.6}, {0.9999, 2745152.314}, {1, 4628239},
};

// Source: gavel-philly-vc/msr/seed=0/*.trace.gz (stanford-futuredata/gavel): 15,264
// jobs of 15 Philly virtual clusters; GPUs = field 7 (scale_factor, from Philly),
// class = field 1 (Gavel's synthetic job type) mapped as the gavel importer does.
// Method: counts.
constexpr GeneratorFit::SizeClass kPhillySizes[] = {
    {1, WorkloadClass::kCnn, 4147},
    {1, WorkloadClass::kTransformer, 2064},
    {1, WorkloadClass::kRl, 389},
    {1, WorkloadClass::kOther, 3880},
    {2, WorkloadClass::kCnn, 185},
    {2, WorkloadClass::kTransformer, 76},
    {2, WorkloadClass::kRl, 17},
    {2, WorkloadClass::kOther, 185},
    {4, WorkloadClass::kCnn, 782},
    {4, WorkloadClass::kTransformer, 423},
    {4, WorkloadClass::kRl, 66},
    {4, WorkloadClass::kOther, 773},
    {7, WorkloadClass::kTransformer, 1},
    {7, WorkloadClass::kOther, 1},
    {8, WorkloadClass::kCnn, 783},
    {8, WorkloadClass::kTransformer, 374},
    {8, WorkloadClass::kRl, 56},
    {8, WorkloadClass::kOther, 703},
    {12, WorkloadClass::kCnn, 3},
    {12, WorkloadClass::kRl, 1},
    {12, WorkloadClass::kOther, 2},
    {16, WorkloadClass::kCnn, 101},
    {16, WorkloadClass::kTransformer, 53},
    {16, WorkloadClass::kRl, 5},
    {16, WorkloadClass::kOther, 96},
    {20, WorkloadClass::kRl, 1},
    {24, WorkloadClass::kCnn, 1},
    {24, WorkloadClass::kTransformer, 2},
    {24, WorkloadClass::kOther, 2},
    {32, WorkloadClass::kCnn, 37},
    {32, WorkloadClass::kTransformer, 20},
    {32, WorkloadClass::kRl, 2},
    {32, WorkloadClass::kOther, 32},
    {64, WorkloadClass::kCnn, 1},
};

// Source: alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz (alibaba/clusterdata,
// cluster-trace-gpu-v2023): 8,152 pods. Method: counts of (num_gpu, gpu_milli,
// cpu_milli, memory_mib); gpu_milli is 1000 unless a one-GPU pod asks for a share.
constexpr GeneratorFit::HostDemand kOpenbPods[] = {
    {0, 1000, 8000, 8192, 2}, {0, 1000, 8000, 15625, 11}, {0, 1000, 8000, 16384, 2},
    {0, 1000, 8000, 30517, 163}, {0, 1000, 8000, 31250, 5}, {0, 1000, 8000, 61035, 1},
    {0, 1000, 8000, 62500, 1}, {0, 1000, 10000, 48828, 1}, {0, 1000, 11400, 57344, 11},
    {0, 1000, 12000, 24576, 4}, {0, 1000, 12500, 57344, 364}, {0, 1000, 12500, 65536, 2},
    {0, 1000, 15400, 51200, 120}, {0, 1000, 16000, 15625, 1}, {0, 1000, 16000, 16384, 1},
    {0, 1000, 16000, 31250, 8}, {0, 1000, 16000, 32768, 2}, {0, 1000, 16000, 62500, 1},
    {0, 1000, 16000, 65536, 1}, {0, 1000, 16500, 51200, 95}, {0, 1000, 20000, 65536, 2},
    {0, 1000, 32000, 32768, 2}, {0, 1000, 32000, 49152, 284}, {0, 1000, 32000, 62500, 3},
    {0, 1000, 32000, 65536, 1}, {1, 50, 4000, 15258, 3}, {1, 50, 6000, 22888, 4},
    {1, 110, 4000, 15258, 8}, {1, 110, 4000, 22888, 9}, {1, 110, 4000, 30517, 1},
    {1, 110, 6000, 22888, 4}, {1, 110, 8000, 30517, 2}, {1, 140, 1000, 2048, 1},
    {1, 160, 4000, 15258, 53}, {1, 160, 4000, 22888, 1}, {1, 160, 6000, 22888, 20},
    {1, 220, 4000, 15258, 24}, {1, 220, 4000, 22888, 11}, {1, 220, 4000, 30517, 8},
    {1, 220, 8000, 30517, 19}, {1, 230, 4000, 15258, 12}, {1, 230, 4000, 22888, 26},
    {1, 230, 4000, 30517, 84}, {1, 230, 8000, 30517, 18}, {1, 270, 4152, 10600, 4},
    {1, 290, 1000, 2048, 1}, {1, 320, 1000, 2048, 22}, {1, 320, 4000, 15258, 78},
    {1, 320, 4000, 22888, 111}, {1, 320, 4000, 30517, 43}, {1, 320, 6000, 30517, 2},
    {1, 320, 8000, 30517, 72}, {1, 330, 4000, 22888, 7}, {1, 350, 4000, 22888, 6},
    {1, 370, 2000, 8192, 2}, {1, 370, 4152, 10600, 45}, {1, 440, 8000, 30517, 2},
    {1, 460, 6000, 6144, 51}, {1, 460, 6000, 8192, 9}, {1, 460, 6000, 12288, 29},
    {1, 460, 6000, 16384, 7}, {1, 460, 6000, 18432, 18}, {1, 460, 6000, 23552, 6},
    {1, 460, 8000, 16000, 2}, {1, 460, 12000, 18432, 6}, {1, 470, 4000, 15258, 2},
    {1, 470, 8000, 30517, 360}, {1, 470, 11908, 47104, 388}, {1, 480, 4000, 22888, 18},
    {1, 480, 8000, 30517, 1}, {1, 550, 4152, 10600, 72}, {1, 590, 3152, 5600, 75},
    {1, 650, 1000, 2048, 2}, {1, 650, 4000, 15258, 2}, {1, 650, 8000, 30517, 12},
    {1, 650, 11908, 47104, 237}, {1, 810, 3152, 5600, 1047}, {1, 810, 4152, 10600, 31},
    {1, 1000, 1000, 6144, 15}, {1, 1000, 2000, 8192, 3}, {1, 1000, 2000, 16384, 5},
    {1, 1000, 3152, 5600, 470}, {1, 1000, 4000, 4096, 1}, {1, 1000, 4000, 8192, 1},
    {1, 1000, 4000, 16384, 8}, {1, 1000, 4000, 24576, 104}, {1, 1000, 4000, 31250, 40},
    {1, 1000, 4000, 32768, 5}, {1, 1000, 5000, 10240, 1}, {1, 1000, 6000, 8192, 1},
    {1, 1000, 6000, 16384, 1}, {1, 1000, 6000, 32768, 6}, {1, 1000, 7000, 30000, 11},
    {1, 1000, 8000, 8192, 1}, {1, 1000, 8000, 15625, 1}, {1, 1000, 8000, 16384, 104},
    {1, 1000, 8000, 24576, 1}, {1, 1000, 8000, 32768, 55}, {1, 1000, 8000, 65536, 2},
    {1, 1000, 8200, 33792, 41}, {1, 1000, 8710, 41560, 1}, {1, 1000, 9400, 52224, 6},
    {1, 1000, 9810, 41560, 195}, {1, 1000, 11300, 23552, 1}, {1, 1000, 11300, 37888, 16},
    {1, 1000, 11300, 49152, 857}, {1, 1000, 11400, 48128, 534}, {1, 1000, 11400, 77824, 65},
    {1, 1000, 11800, 78848, 1}, {1, 1000, 11900, 43008, 4}, {1, 1000, 11900, 77824, 51},
    {1, 1000, 11908, 47104, 153}, {1, 1000, 12000, 12288, 1}, {1, 1000, 12000, 15360, 44},
    {1, 1000, 12000, 16000, 2}, {1, 1000, 12000, 16384, 99}, {1, 1000, 12000, 23552, 2},
    {1, 1000, 12000, 24576, 158}, {1, 1000, 12000, 32768, 8}, {1, 1000, 12000, 47104, 8},
    {1, 1000, 12000, 49152, 4}, {1, 1000, 14000, 0, 1}, {1, 1000, 14200, 58368, 93},
    {1, 1000, 14900, 73728, 8}, {1, 1000, 15200, 80896, 36}, {1, 1000, 15400, 90112, 9},
    {1, 1000, 15700, 58368, 158}, {1, 1000, 15900, 90112, 1}, {1, 1000, 16000, 16384, 2},
    {1, 1000, 16000, 24576, 1}, {1, 1000, 16000, 31250, 3}, {1, 1000, 16000, 32768, 108},
    {1, 1000, 16000, 49152, 3}, {1, 1000, 16000, 65536, 33}, {1, 1000, 16400, 84992, 2},
    {1, 1000, 16400, 125952, 27}, {1, 1000, 18708, 64512, 255}, {1, 1000, 24200, 93184, 84},
    {2, 1000, 6000, 65536, 3}, {2, 1000, 14000, 60000, 1}, {2, 1000, 16200, 66560, 7},
    {2, 1000, 17400, 43008, 2}, {2, 1000, 30200, 160768, 3}, {4, 1000, 32000, 131072, 3},
    {4, 1000, 32200, 132096, 9}, {4, 1000, 60200, 320512, 3}, {8, 1000, 64000, 262144, 3},
    {8, 1000, 64200, 263168, 18}, {8, 1000, 88000, 327680, 18}, {8, 1000, 120000, 737280, 3},
    {8, 1000, 120200, 640000, 2},
};

// Source: samples/helios-cluster_throughput-sample.csv (S-Lab-System-Group/Lucid,
// simulation/data/Venus/cluster_throughput.csv, first 200 rows: 2020-04-01 00:00 to
// 2020-04-02 09:10, 10-minute rows). Method: Poisson regression (Newton's method) of
// submit_job_all on two daily harmonics of the row's mid-time h (hours):
// log rate = c0 + a1 cos(2 pi h/24) + b1 sin(2 pi h/24) + a2 cos(4 pi h/24) + b2 sin(4 pi h/24).
constexpr std::array<double, 5> kDiurnal = {1.419554594, -0.331625996, -1.311709059, 0.542900743, -0.044686896};

// Source: philly/philly_vc.csv.gz (S-Lab-System-Group/HeliosArtifact): node counts of
// the 11 Philly virtual clusters. Method: least squares of ln(nodes) on ln(rank).
constexpr double kTenantZipf = 0.932284;
constexpr uint32_t kTenantCount = 11;
// clang-format on

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
        return ParseError("{}: field 'scale_factor' (column 7): expected GPUs >= 1, got '{}'", r.Where(), fields[6]);
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
Result<size_t> Column(const std::vector<std::string_view>& header, std::string_view name, const std::string& where) {
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
  s += fmt::format("\nconstexpr double kTenantZipf = {};\nconstexpr uint32_t kTenantCount = {};\n", fit.tenant_zipf,
                   fit.tenant_count);
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

}  // namespace suanli
