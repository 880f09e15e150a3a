// Synthetic workload generator; see generator.h and docs/generator.md.
#include "sim/generator.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "base/strings.h"
#include "io/line_reader.h"
#include "io/native_format.h"
#include "io/output_file.h"
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

// ===========================================================================
// Generator
// ===========================================================================

namespace {
enum Profile { kMixed = 0, kPhilly = 1, kOpenb = 2, kChinaAicc = 3 };
constexpr size_t kChunk = 1 << 15;
}  // namespace

const std::vector<GenProfileInfo>& GeneratorProfiles() {
  static const std::vector<GenProfileInfo> kProfiles = {
      {"mixed",
       "Philly GPU counts and classes (Gavel), openb GPU sharing and host demand, memory-floor and "
       "software-stack constraints (default)"},
      {"philly", "Philly GPU counts and classes (Gavel) with openb host demand; no sharing, no constraints"},
      {"openb", "openb pods as they are (CPU-only, shared, 1-8 GPUs) with Philly run times and constraints"},
      {"china-aicc",
       "a network of centers: 8 tenants with home centers and stacks, datasets, deferrable jobs, "
       "large-model jobs and inference services over --days (default 30)"},
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

// The models of `pool` with at least `min_gb` of device memory; if none has
// that much, those of `pool` with the most memory.
ModelMask MemoryFloor(const Catalog& catalog, ModelMask pool, double min_gb) {
  ModelMask out = 0, best = 0;
  double best_gb = -1;
  for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m) {
    if (!(pool >> m & 1)) continue;
    double gb = catalog.model(static_cast<ModelId>(m)).memory_gb;
    if (gb >= min_gb) out |= ModelMask{1} << m;
    if (gb > best_gb) {
      best_gb = gb;
      best = 0;
    }
    if (gb == best_gb) best |= ModelMask{1} << m;
  }
  return out ? out : best;
}

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
  if ((opts.jobs < 1 && g.profile_ != kChinaAicc) || opts.jobs >= kNoJob)
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
    if (g.host_whole_idx_[b].empty())
      return Internal("generator fit: no openb pods with {} GPUs", g.host_whole_gpus_[b]);
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
      if (s.gpus == 1 && (g.profile_ == kMixed || g.profile_ == kChinaAicc)) {
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

  // Constraints, limited to what the target has.
  ModelMask present = opts.target.models ? opts.target.models & catalog.AllModels() : catalog.AllModels();
  for (size_t m = 0; m < catalog.size() && m < kMaxModels; ++m)
    if (catalog.model(static_cast<ModelId>(m)).inference_only) present &= ~(ModelMask{1} << m);
  auto floor_mask = [&](ModelMask pool, double min_gb) { return MemoryFloor(catalog, pool, min_gb); };
  const char* kStackNames[] = {"", "cuda", "cann"};
  for (int c = 0; c < 3; ++c) {
    StackChoice& sc = g.stack_choice_[c];
    ModelMask pool = present;
    if (c > 0) {
      auto id = catalog.FindStack(kStackNames[c]);
      ModelMask runs = id ? catalog.ModelsForStacks(StackMask{1} << *id) & present : 0;
      if (!runs) {
        sc = g.stack_choice_[0];  // the target has no model for this stack: run anywhere
        continue;
      }
      sc.stacks = StackMask{1} << *id;
      pool = runs;
    }
    sc.floor[0] = floor_mask(pool, g.assume_.other_min_memory_gb);
    sc.floor[1] = floor_mask(pool, g.assume_.transformer_min_memory_gb);
  }

  Rng root(opts.seed);
  g.arrivals_rng_ = root.Fork(1);
  g.jobs_rng_ = root.Fork(2);
  if (g.profile_ == kChinaAicc) SUANLI_RETURN_IF_ERROR(SetUpNetwork(&g, catalog, root.Fork(3)));
  return g;
}

GenTarget TargetOf(const Network& network) {
  GenTarget t;
  std::set<GenTarget::Shape> shapes;
  for (const Node& n : network.nodes) {
    if (n.model != kNoModel && n.devices > 0) {
      if (n.model < kMaxModels) t.models |= ModelMask{1} << n.model;
      shapes.insert({n.devices, n.cpu_milli, n.mem_mib});
    }
    if (n.cpu_milli > t.cpu_only_cpu || (n.cpu_milli == t.cpu_only_cpu && n.mem_mib > t.cpu_only_mem)) {
      t.cpu_only_cpu = n.cpu_milli;
      t.cpu_only_mem = n.mem_mib;
    }
  }
  t.shapes.assign(shapes.begin(), shapes.end());

  // Centers, their accelerators by model, and round trips to the user regions.
  std::vector<Region> regions = network.regions;
  if (regions.empty()) {
    // No regions in the file: one per distinct center label, at the mean position
    // of its centers.
    for (const Center& c : network.centers) {
      if (c.region.empty()) continue;
      auto it = std::find_if(regions.begin(), regions.end(), [&](const Region& r) { return r.name == c.region; });
      if (it != regions.end()) continue;
      Region r;
      r.name = c.region;
      int n = 0;
      for (const Center& d : network.centers) {
        if (d.region != c.region) continue;
        r.latitude += d.latitude;
        r.longitude += d.longitude;
        ++n;
      }
      r.latitude /= n;
      r.longitude /= n;
      regions.push_back(r);
    }
  }
  for (const Region& r : regions) t.regions.push_back(r.name);
  std::vector<std::map<ModelId, int64_t>> devices(network.centers.size());
  for (const Node& n : network.nodes)
    if (n.model != kNoModel && n.devices > 0 && n.center < devices.size()) devices[n.center][n.model] += n.devices;
  for (size_t c = 0; c < network.centers.size(); ++c) {
    const Center& center = network.centers[c];
    GenTarget::CenterInfo info;
    info.name = center.name;
    info.edge = center.edge;
    info.devices.assign(devices[c].begin(), devices[c].end());
    for (const Region& r : regions) info.region_rtt_ms.push_back(RegionLatencyMs(r, center));
    t.centers.push_back(std::move(info));
  }
  return t;
}

Workload WorkloadGenerator::NewWorkload() const {
  if (net_) return NewNetWorkload();
  Workload w;
  w.name = opts_.name;
  for (uint32_t t = 0; t < tenants_; ++t) w.tenants.Intern(PaddedName("t", t, tenants_));
  for (uint32_t t = 0; t < tenants_; ++t)
    for (uint32_t u = 0; u < users_per_tenant_; ++u)
      w.users.Intern(PaddedName("t", t, tenants_) + PaddedName("-u", u, users_per_tenant_));
  return w;
}

Time WorkloadGenerator::NextArrival() {
  if (arrivals_++ == 0) return 0;                        // the first job arrives at time 0 (midnight of day 0)
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
      WholeHost(s.gpus, r, job);
    }
  }
  if (profile_ != kPhilly && job->num_gpus > 0) {
    if (r.Below(1000) < assume_.science_permille) job->cls = WorkloadClass::kScience;
    const bool constrained = r.Below(100) < assume_.model_constraint_percent;
    uint64_t st = r.Below(100);
    const StackChoice& sc = stack_choice_[st < assume_.cuda_percent                          ? 1
                                          : st < assume_.cuda_percent + assume_.cann_percent ? 2
                                                                                             : 0];
    job->stacks = sc.stacks;
    if (constrained) job->models = sc.floor[job->cls == WorkloadClass::kTransformer ? 1 : 0];
  }
  CapHost(job);
  uint32_t tenant = static_cast<uint32_t>(tenant_table_.Pick(r));
  job->tenant = tenant;
  job->user = tenant * users_per_tenant_ + static_cast<uint32_t>(user_table_.Pick(r));
  job->work = SampleDuration(r);
}

void WorkloadGenerator::WholeHost(uint32_t gpus, Rng& r, Job* job) const {
  int b = WholeBucket(gpus);
  const GeneratorFit::HostDemand* host = &host_[host_whole_idx_[b][host_whole_[b].Pick(r)]];
  const int64_t base = host_whole_gpus_[b];
  job->cpu_milli = (host->cpu_milli * gpus + base / 2) / base;
  job->mem_mib = (host->mem_mib * gpus + base / 2) / base;
}

// Host demand capped so that the job fits the target's nodes.
void WorkloadGenerator::CapHost(Job* job) const {
  const GenTarget& t = opts_.target;
  if (job->num_gpus == 0) {
    if (t.cpu_only_cpu >= 0) job->cpu_milli = std::min(job->cpu_milli, t.cpu_only_cpu);
    if (t.cpu_only_mem >= 0) job->mem_mib = std::min(job->mem_mib, t.cpu_only_mem);
  } else {
    const int64_t k = job->IsShared() ? 1 : job->num_gpus;
    for (const auto& sh : t.shapes) {
      job->cpu_milli = std::min(job->cpu_milli, k <= sh.devices ? sh.cpu_milli : k * sh.cpu_milli / sh.devices);
      job->mem_mib = std::min(job->mem_mib, k <= sh.devices ? sh.mem_mib : k * sh.mem_mib / sh.devices);
    }
  }
}

size_t WorkloadGenerator::Next(size_t max, Workload* out) {
  if (net_) return NextNet(max, out);
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

// ===========================================================================
// The china-aicc profile: a workload for a network of centers. Every choice
// below that no trace records is ILLUSTRATIVE; docs/generator.md lists them.
// ===========================================================================
namespace {

struct NetTenantSpec {
  const char* name;
  uint32_t weight;                    // per mille of the batch jobs
  uint32_t science_permille;          // its GPU jobs re-labelled as the science class
  std::array<const char*, 3> stacks;  // preferred stacks; the one with most devices wins
  uint32_t large_weight;              // weight among the tenants that train large models
};
constexpr NetTenantSpec kNetTenants[] = {
    {"lab-nlp", 200, 20, {"cuda", nullptr, nullptr}, 3},      {"lab-vision", 170, 20, {"cuda", nullptr, nullptr}, 0},
    {"lab-science", 110, 400, {"cuda", nullptr, nullptr}, 0}, {"startup-a", 140, 20, {"cuda", nullptr, nullptr}, 2},
    {"startup-b", 80, 20, {"musa", "bang", "corex"}, 0},      {"gov-ai", 130, 20, {"cann", nullptr, nullptr}, 1},
    {"univ-hpc", 120, 50, {"cann", nullptr, nullptr}, 0},     {"inference", 50, 0, {"cuda", nullptr, nullptr}, 0},
};
constexpr uint32_t kNumNetTenants = sizeof(kNetTenants) / sizeof(kNetTenants[0]);
constexpr uint32_t kInferenceTenant = 7;        // owns the services
constexpr uint32_t kServicePermille = 20;       // services among the arrivals
constexpr uint32_t kStackSpecificPercent = 75;  // jobs written for their tenant's stack
constexpr uint32_t kHomeDataPercent = 80;       // datasets at the tenant's home center
constexpr double kDataMedianGb = 50, kDataSigma = 1.6, kDataMinGb = 0.1, kDataMaxGb = 20000;
constexpr uint32_t kDeferrablePercent = 20;
constexpr double kDeferrableMaxWork = 6 * 3600.0;  // "short/medium": up to 6 reference hours
constexpr int64_t kSlackMinMinutes = 6 * 60, kSlackMaxMinutes = 48 * 60;
constexpr double kServiceMinDays = 1, kServiceMaxDays = 14;
constexpr int64_t kLatencyMinMs = 20, kLatencyMaxMs = 60;
constexpr double kLargePerMonthPer10k = 1.0;  // large-model jobs per 30 days per 10,000 accelerators
constexpr double kLargeMinGpus = 1000, kLargeMaxGpus = 12000;
constexpr double kLargeMinDays = 7, kLargeMaxDays = 28;
constexpr int64_t kCheckpointMinMinutes = 60, kCheckpointMaxMinutes = 180;
constexpr double kLargeMinDataGb = 1000, kLargeMaxDataGb = 10000;
constexpr double kLargeMinMemoryGb = 64;
constexpr double kDefaultDays = 30;
constexpr double kMaxDays = 3650;
constexpr double kMinStreamShare = 0.1;  // large jobs take at most 90 % of the offered load
constexpr double kMinWorkScale = 0.01, kMaxWorkScale = 1e6;

}  // namespace

struct WorkloadGenerator::NetProfile {
  // What a job accepts, and the most devices of one accepted model in one center.
  struct Choice {
    ModelMask models = 0;
    StackMask stacks = 0;
    int64_t block = 0;
  };
  struct Tenant {
    uint32_t center = 0;  // home, index into GenTarget::centers
    StackMask stack = 0;  // its stack (0: the catalog has none)
    uint32_t science_permille = 0;
    // [stack-agnostic, its stack][no model constraint, memory floor, transformer floor]
    std::array<std::array<Choice, 3>, 2> choice{};
    Choice large;
    // Services: the least round trip from each region to a center with an
    // accepted model, [stack-agnostic, its stack]; infinity = none.
    std::array<std::vector<double>, 2> min_rtt;
  };
  std::vector<Tenant> tenants;
  Table tenant_table;  // batch jobs
  StringTable places;  // centers, then regions
  std::vector<uint16_t> center_place, region_place;
  std::vector<uint32_t> data_centers;  // centers that are not edge sites and have accelerators
  std::vector<Job> large;              // sorted by submit
  size_t next_large = 0;
  Time horizon = 0;
  bool by_count = false;
  uint64_t stream_jobs = 0, stream_drawn = 0;
  bool have_pending = false, stream_done = false;
  Time pending = 0;
  double work_scale = 1;
  double max_work = 0;  // batch run times and service lifetimes: at most the span, whole seconds
};

double WorkloadGenerator::work_scale() const { return net_ ? net_->work_scale : 1.0; }
uint64_t WorkloadGenerator::large_jobs() const { return net_ ? net_->large.size() : 0; }

Status WorkloadGenerator::SetUpNetwork(WorkloadGenerator* g, const Catalog& catalog, Rng lr) {
  const GenOptions& o = g->opts_;
  const GenTarget& t = o.target;
  if (o.tenants != 0)
    return InvalidArgument("--tenants: the china-aicc profile has its own {} tenants", kNumNetTenants);
  if (!(o.days >= 0) || o.days > kMaxDays)
    return InvalidArgument("--days: expected a number of days > 0 and at most {}, got {}", kMaxDays, o.days);
  const double days = o.days > 0 ? o.days : kDefaultDays;
  auto net = std::make_shared<NetProfile>();
  NetProfile& p = *net;
  const size_t nc = t.centers.size(), nr = t.regions.size();
  for (size_t c = 0; c < nc; ++c)
    if (!t.centers[c].edge && !t.centers[c].devices.empty()) p.data_centers.push_back(static_cast<uint32_t>(c));
  if (p.data_centers.empty())
    return InvalidArgument(
        "--network: the china-aicc profile needs a network with a center (not an edge site) that "
        "has accelerators");
  if (nc + nr >= kNoPlace) return InvalidArgument("--network: too many centers and regions ({})", nc + nr);
  for (const auto& c : t.centers) p.center_place.push_back(static_cast<uint16_t>(p.places.Intern(c.name)));
  for (const auto& r : t.regions) p.region_place.push_back(static_cast<uint16_t>(p.places.Intern(r)));

  auto in_mask = [](ModelMask mask, ModelId m) { return m < kMaxModels && (mask >> m & 1); };
  ModelMask present = 0;  // training-capable models of the network
  for (const auto& c : t.centers)
    for (const auto& [m, d] : c.devices)
      if (m < catalog.size() && m < kMaxModels && !catalog.model(m).inference_only) present |= ModelMask{1} << m;
  // Devices of training-capable models running `st` (0 = any) in center c.
  auto stack_devices = [&](size_t c, StackMask st) {
    const ModelMask ok = catalog.ModelsForStacks(st);
    int64_t n = 0;
    for (const auto& [m, d] : t.centers[c].devices)
      if (in_mask(ok, m) && in_mask(present, m)) n += d;
    return n;
  };
  // The most devices of one accepted model in one center (EligibleModels' rule:
  // models 0 = any, stacks 0 = any): in center `only`, or in any (SIZE_MAX).
  auto block = [&](ModelMask models, StackMask stacks, size_t only) {
    const ModelMask ok = (models ? models : ~ModelMask{0}) & catalog.ModelsForStacks(stacks);
    int64_t best = 0;
    for (size_t c = 0; c < nc; ++c) {
      if (only != SIZE_MAX && c != only) continue;
      for (const auto& [m, d] : t.centers[c].devices)
        if (in_mask(ok, m)) best = std::max(best, d);
    }
    return best;
  };

  // Tenants: a stack each (the preferred one with the most accelerators in the
  // network, else cuda, else the stack with the most).
  std::vector<StackMask> stack_of(kNumNetTenants, 0);
  for (uint32_t i = 0; i < kNumNetTenants; ++i) {
    StackMask st = 0;
    int64_t best = 0;
    auto consider = [&](const char* name) {
      if (!name) return;
      auto id = catalog.FindStack(name);
      if (!id || *id >= kMaxStacks) return;
      const StackMask m = StackMask{1} << *id;
      int64_t n = 0;
      for (uint32_t c : p.data_centers) n += stack_devices(c, m);
      if (n > best) {
        best = n;
        st = m;
      }
    };
    for (const char* name : kNetTenants[i].stacks) consider(name);
    if (!st) consider("cuda");
    for (size_t k = 0; !st && k < catalog.stacks().size(); ++k) consider(catalog.stacks()[k].c_str());
    stack_of[i] = st;
  }
  // Homes, greedily in order of the tenants' expected load (accelerator-seconds
  // per arrival, services included; whole numbers so that comparisons are
  // exact): each goes to the center, running its stack, with the most
  // accelerators of that stack per unit of load homed there with it.
  const double batch_unit = (1 - kServicePermille / 1000.0) * g->mean_acc_ * g->mean_dur_;
  const double service_unit = kServicePermille / 1000.0 * (kServiceMaxDays - kServiceMinDays) * 86400 /
                              std::log(kServiceMaxDays / kServiceMinDays);
  std::vector<int64_t> demand(kNumNetTenants);
  for (uint32_t i = 0; i < kNumNetTenants; ++i)
    demand[i] = std::max<int64_t>(
        1, std::llround(kNetTenants[i].weight / 1000.0 * batch_unit + (i == kInferenceTenant ? service_unit : 0)));
  std::vector<uint32_t> order(kNumNetTenants);
  for (uint32_t i = 0; i < kNumNetTenants; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return demand[a] > demand[b]; });
  std::vector<int64_t> homed_load(nc, 0);
  std::vector<uint32_t> home_of(kNumNetTenants, p.data_centers.front());
  for (uint32_t i : order) {
    int64_t best_d = -1, best_l = 1;
    for (uint32_t c : p.data_centers) {
      const int64_t d = stack_devices(c, stack_of[i]);
      if (d == 0) continue;
      const int64_t l = homed_load[c] + demand[i];
      if (best_d < 0 || d * best_l > best_d * l) {  // d / l > best_d / best_l
        best_d = d;
        best_l = l;
        home_of[i] = c;
      }
    }
    homed_load[home_of[i]] += demand[i];
  }
  for (uint32_t i = 0; i < kNumNetTenants; ++i) {
    const NetTenantSpec& spec = kNetTenants[i];
    const StackMask st = stack_of[i];
    const uint32_t home = home_of[i];
    NetProfile::Tenant tn;
    tn.center = home;
    tn.stack = st;
    tn.science_permille = spec.science_permille;
    // Batch jobs can always run at home: their memory floors pick among the
    // home's models, and their size is capped at the home's largest block of
    // one accepted model.
    ModelMask home_models = 0;
    for (const auto& [m, d] : t.centers[home].devices)
      if (in_mask(present, m)) home_models |= ModelMask{1} << m;
    for (int sp = 0; sp < 2; ++sp) {
      const StackMask stacks = sp ? st : 0;
      ModelMask pool = home_models & catalog.ModelsForStacks(stacks);
      if (!pool) pool = present & catalog.ModelsForStacks(stacks);
      for (int f = 0; f < 3; ++f) {
        NetProfile::Choice ch;
        ch.stacks = stacks;
        if (f > 0)
          ch.models = MemoryFloor(catalog, pool,
                                  f == 2 ? g->assume_.transformer_min_memory_gb : g->assume_.other_min_memory_gb);
        ch.block = block(ch.models, ch.stacks, home);
        if (ch.block == 0) ch.block = block(ch.models, ch.stacks, SIZE_MAX);
        if (ch.block == 0) ch = {0, 0, block(0, 0, SIZE_MAX)};  // nothing accepted: run anywhere
        tn.choice[sp][f] = ch;
      }
      const ModelMask ok = catalog.ModelsForStacks(stacks);
      tn.min_rtt[sp].assign(nr, std::numeric_limits<double>::infinity());
      for (const auto& c : t.centers) {
        bool has = false;
        for (const auto& [m, d] : c.devices) has |= in_mask(ok, m);
        for (size_t r = 0; has && r < nr && r < c.region_rtt_ms.size(); ++r)
          tn.min_rtt[sp][r] = std::min(tn.min_rtt[sp][r], c.region_rtt_ms[r]);
      }
    }
    tn.large.stacks = st;
    tn.large.models = MemoryFloor(catalog, present & catalog.ModelsForStacks(st), kLargeMinMemoryGb);
    tn.large.block = block(tn.large.models, st, SIZE_MAX);
    if (tn.large.block == 0) tn.large = tn.choice[0][0];
    p.tenants.push_back(std::move(tn));
    AddWeight(&p.tenant_table.cum, spec.weight);
  }

  // Large-model jobs, drawn now so that they can be merged into the stream.
  p.horizon = static_cast<Time>(std::llround(days * 86400 * 1000)) * kMilli;
  const double horizon_s = ToSeconds(p.horizon);
  int64_t total_devices = 0;
  for (const auto& c : t.centers)
    for (const auto& [m, d] : c.devices) total_devices += d;
  uint64_t n_large =
      std::max<int64_t>(1, std::llround(kLargePerMonthPer10k * static_cast<double>(total_devices) / 10000 * days / 30));
  if (o.jobs > 0) n_large = std::min<uint64_t>(n_large, o.jobs / 2);
  Table large_tenants;
  for (const auto& spec : kNetTenants) AddWeight(&large_tenants.cum, spec.large_weight);
  double large_load = 0;  // accelerator-seconds per second of the span
  for (uint64_t i = 0; i < n_large; ++i) {
    Job j;
    j.submit = static_cast<Time>(std::llround(lr.Uniform() * horizon_s * 1000)) * kMilli;
    const auto ti = static_cast<uint32_t>(large_tenants.Pick(lr));
    const NetProfile::Tenant& tn = p.tenants[ti];
    const double size = std::exp(std::log(kLargeMinGpus) + lr.Uniform() * std::log(kLargeMaxGpus / kLargeMinGpus));
    int64_t gpus = std::min<int64_t>(std::llround(size), tn.large.block);
    if (gpus >= 8) gpus -= gpus % 8;  // whole 8-accelerator servers
    j.num_gpus = static_cast<uint32_t>(std::max<int64_t>(1, gpus));
    j.cls = WorkloadClass::kTransformer;
    j.models = tn.large.models;
    j.stacks = tn.large.stacks;
    g->WholeHost(j.num_gpus, lr, &j);
    g->CapHost(&j);
    j.tenant = ti;
    j.user = ti * g->users_per_tenant_ + static_cast<uint32_t>(g->user_table_.Pick(lr));
    const double hours = std::round((kLargeMinDays + lr.Uniform() * (kLargeMaxDays - kLargeMinDays)) * 24);
    j.work = hours * 3600;
    j.checkpoint =
        (kCheckpointMinMinutes + static_cast<int64_t>(lr.Below(kCheckpointMaxMinutes - kCheckpointMinMinutes + 1))) *
        kMinute;
    j.home = j.data_at = p.center_place[tn.center];
    j.data_gb = static_cast<float>(
        std::round(std::exp(std::log(kLargeMinDataGb) + lr.Uniform() * std::log(kLargeMaxDataGb / kLargeMinDataGb))));
    // Its share of the span's load: the part of its run inside the span, were it
    // to start when submitted.
    large_load += j.num_gpus * std::min(j.work, horizon_s - ToSeconds(j.submit)) / horizon_s;
    p.large.push_back(j);
  }
  std::stable_sort(p.large.begin(), p.large.end(), [](const Job& a, const Job& b) { return a.submit < b.submit; });

  // The arrival rate (docs/generator.md): services and batch jobs offer what the
  // large-model jobs leave of load x capacity.
  // Batch run times and service lifetimes end within the span: at most T
  // seconds (so the longest of them is not a whole span long after the last arrival).
  p.max_work = std::max(1.0, std::floor(horizon_s));
  const double T = p.max_work;
  const double capacity = static_cast<double>(o.gpus);
  const double service_share = kServicePermille / 1000.0;
  // E[min(L, T)] for the lifetime L, log-uniform in [a, b].
  const double a = kServiceMinDays * 86400, b = kServiceMaxDays * 86400;
  const double service_mean = T >= b   ? (b - a) / std::log(b / a)
                              : T <= a ? T
                                       : ((T - a) + T * std::log(b / T)) / std::log(b / a);
  const double e_service = service_share * service_mean;
  // E[min(k x d, T)] for the run-time table d (log-linear between its knots).
  auto batch_mean = [&](double k) {
    const double lt = std::log(T), lk = std::log(k);
    double m = 0;
    for (size_t i = 0; i + 1 < g->q_p_.size(); ++i) {
      const double dp = g->q_p_[i + 1] - g->q_p_[i];
      const double la = g->q_log_[i] + lk, lb = g->q_log_[i + 1] + lk;
      if (lb <= lt) {
        m += lb - la > 1e-12 ? dp * (std::exp(lb) - std::exp(la)) / (lb - la) : dp * std::exp(la);
      } else if (la >= lt) {
        m += dp * T;
      } else {
        const double f = (lt - la) / (lb - la);
        m += dp * (T - std::exp(la)) / (lb - la) + (1 - f) * dp * T;
      }
    }
    return (1 - service_share) * g->mean_acc_ * m;
  };
  const double target = std::max(o.load * capacity - large_load, kMinStreamShare * o.load * capacity);
  if (o.jobs > 0) {
    p.by_count = true;
    p.stream_jobs = o.jobs - p.large.size();
    g->rate_ = static_cast<double>(p.stream_jobs) / horizon_s;
    // The factor k with e_service + batch_mean(k) = target / rate (batch_mean
    // grows with k; bisection).
    const double need = target / g->rate_ - e_service;
    double lo = kMinWorkScale, hi = kMinWorkScale;
    if (batch_mean(lo) < need) {
      while (batch_mean(hi) < need && hi < kMaxWorkScale) hi *= 2;
      for (int it = 0; it < 100; ++it) {
        const double mid = (lo + hi) / 2;
        (batch_mean(mid) < need ? lo : hi) = mid;
      }
    }
    p.work_scale = hi;
  } else {
    g->rate_ = target / (e_service + batch_mean(1));
    const double expected = g->rate_ * horizon_s;
    if (expected > 2e9)
      return InvalidArgument("--days/--load: about {:.3g} jobs; at most 2e9 (lower --days or --load, or give --jobs)",
                             expected);
  }
  g->tenants_ = kNumNetTenants;
  g->net_ = std::move(net);
  return Status::Ok();
}

Workload WorkloadGenerator::NewNetWorkload() const {
  Workload w;
  w.name = opts_.name;
  for (const auto& spec : kNetTenants) w.tenants.Intern(spec.name);
  for (const auto& spec : kNetTenants)
    for (uint32_t u = 0; u < users_per_tenant_; ++u) w.users.Intern(spec.name + PaddedName("-u", u, users_per_tenant_));
  w.places = net_->places;
  return w;
}

void WorkloadGenerator::FillNetJob(Job* job) {
  NetProfile& p = *net_;
  Rng& r = jobs_rng_;
  const bool service = r.Below(1000) < kServicePermille;
  const auto ti = service ? kInferenceTenant : static_cast<uint32_t>(p.tenant_table.Pick(r));
  const NetProfile::Tenant& tn = p.tenants[ti];
  const int specific = r.Below(100) < kStackSpecificPercent ? 1 : 0;
  job->gpu_milli = kWholeDevice;
  if (service) {
    // One inference replica: a whole accelerator for days, near its users.
    job->service = true;
    job->num_gpus = 1;
    WholeHost(1, r, job);
    job->cls = static_cast<WorkloadClass>(class_table_.Pick(r));
    const NetProfile::Choice& ch = tn.choice[specific][0];
    job->stacks = ch.stacks;
    job->models = ch.models;
    const double days = std::exp(std::log(kServiceMinDays) + r.Uniform() * std::log(kServiceMaxDays / kServiceMinDays));
    job->work = std::min(p.max_work, std::max(1.0, static_cast<double>(std::llround(days * 86400))));
    if (!p.region_place.empty()) {
      const auto reg = static_cast<size_t>(r.Below(p.region_place.size()));
      job->region = p.region_place[reg];
      double bound =
          static_cast<double>(kLatencyMinMs + static_cast<int64_t>(r.Below(kLatencyMaxMs - kLatencyMinMs + 1)));
      // A bound no center could meet is raised to the nearest center that can serve it.
      const double need = tn.min_rtt[specific][reg];
      if (std::isfinite(need) && bound < need) bound = std::ceil(need);
      job->latency_ms = static_cast<float>(bound);
    }
  } else {
    const auto& s = sizes_[size_table_.Pick(r)];
    job->num_gpus = s.gpus;
    job->cls = s.cls;
    const bool shared = s.gpus == 1 && r.Below(one_gpu_) < shared_;
    if (r.Below(1000) < tn.science_permille) job->cls = WorkloadClass::kScience;
    const bool constrained = r.Below(100) < assume_.model_constraint_percent;
    const NetProfile::Choice& ch =
        tn.choice[specific][constrained ? (job->cls == WorkloadClass::kTransformer ? 2 : 1) : 0];
    job->stacks = ch.stacks;
    job->models = ch.models;
    // No bigger than what one center holds of one accepted model.
    if (job->num_gpus > ch.block) job->num_gpus = static_cast<uint32_t>(ch.block);
    if (shared) {
      const auto& host = host_[host_shared_idx_[host_shared_.Pick(r)]];
      job->gpu_milli = host.gpu_milli;
      job->cpu_milli = host.cpu_milli;
      job->mem_mib = host.mem_mib;
    } else {
      WholeHost(job->num_gpus, r, job);
    }
    job->work =
        std::min(p.max_work, std::max(1.0, static_cast<double>(std::llround(SampleDuration(r) * p.work_scale))));
  }
  CapHost(job);
  job->tenant = ti;
  job->user = ti * users_per_tenant_ + static_cast<uint32_t>(user_table_.Pick(r));
  job->home = p.center_place[tn.center];
  // The dataset: at home, or at another center.
  uint32_t data_center = tn.center;
  if (p.data_centers.size() > 1 && r.Below(100) >= kHomeDataPercent) {
    auto k = static_cast<size_t>(r.Below(p.data_centers.size() - 1));
    for (uint32_t c : p.data_centers) {
      if (c == tn.center) continue;
      if (k-- == 0) {
        data_center = c;
        break;
      }
    }
  }
  job->data_at = p.center_place[data_center];
  const double gb = kDataMedianGb * std::exp(kDataSigma * r.Normal());
  job->data_gb = static_cast<float>(std::clamp(std::round(gb * 10) / 10, kDataMinGb, kDataMaxGb));
  // Deferrable: a deadline of its run time plus a slack.
  if (!service && job->work <= kDeferrableMaxWork && r.Below(100) < kDeferrablePercent) {
    const auto slack = kSlackMinMinutes + static_cast<int64_t>(r.Below(kSlackMaxMinutes - kSlackMinMinutes + 1));
    job->deadline = job->submit + Seconds(static_cast<int64_t>(job->work)) + slack * kMinute;
  }
}

size_t WorkloadGenerator::NextNet(size_t max, Workload* out) {
  NetProfile& p = *net_;
  size_t n = 0;
  while (n < max && generated_ + 1 < kNoJob) {
    if (!p.have_pending && !p.stream_done) {
      if (p.by_count && p.stream_drawn >= p.stream_jobs) {
        p.stream_done = true;
      } else {
        const Time t = NextArrival();
        if (!p.by_count && t >= p.horizon) {
          p.stream_done = true;
        } else {
          p.pending = t;
          p.have_pending = true;
          ++p.stream_drawn;
        }
      }
    }
    Job job;
    if (p.next_large < p.large.size() && (!p.have_pending || p.large[p.next_large].submit <= p.pending)) {
      job = p.large[p.next_large++];
    } else if (p.have_pending) {
      job.submit = p.pending;
      p.have_pending = false;
      FillNetJob(&job);
    } else {
      break;
    }
    job.id = static_cast<JobId>(generated_++);
    out->jobs.push_back(job);
    ++n;
  }
  return n;
}

Result<Workload> GenerateWorkload(const GenOptions& opts, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  Workload w = gen.NewWorkload();
  while (gen.Next(kChunk, &w) > 0) {}
  return w;
}

namespace {}  // namespace

Status WriteGeneratedWorkload(const GenOptions& opts, const Catalog& catalog, const std::string& path,
                              GenSummary* summary) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  SUANLI_ASSIGN_OR_RETURN(auto sink, OutputFile::Open(path, 1));  // fastest: 10M jobs well under a minute
  // Two stages: this thread writes (and compresses) while a second one generates
  // and formats the next chunks. The order of the chunks, and so the file, does
  // not depend on the timing.
  const bool network = gen.network_columns();
  const NativeColumns columns = network ? NativeColumns::kNetwork : NativeColumns::kBase;
  const std::string header = fmt::format("{}\n{}\n", kNativeMagic, NativeHeaderLine(network));
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;
  bool done = false, stop = false;
  Status produced;
  GenSummary sum;
  Time first = 0, last = 0;
  std::vector<Job> large;  // china-aicc large-model jobs (a few)
  std::thread producer([&] {
    Workload chunk = gen.NewWorkload();
    bool first_chunk = true;
    while (gen.Next(kChunk, &chunk) > 0) {
      for (const Job& j : chunk.jobs) {
        if (network && j.checkpoint != 0) {
          large.push_back(j);  // counted inside the span at the end
        } else {
          sum.accelerator_seconds += static_cast<double>(j.GpuMilli()) / 1000 * j.work;
        }
        sum.services += j.service;
        sum.deferrable += j.Deferrable();
        sum.large_jobs += j.checkpoint != 0;
      }
      if (first_chunk) first = chunk.jobs.front().submit;
      last = chunk.jobs.back().submit;
      std::string text = NativeWorkloadString(chunk, catalog, columns);
      chunk.jobs.clear();
      // Every chunk is written as a whole workload; keep the header of the first only.
      if (!first_chunk) {
        if (text.compare(0, header.size(), header) != 0) {
          std::lock_guard<std::mutex> lock(mu);
          produced = Internal("native writer output does not start with the expected header");
          break;
        }
        text.erase(0, header.size());
      }
      first_chunk = false;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < 4 || stop; });
      if (stop) break;
      queue.push_back(std::move(text));
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  Status written;
  while (true) {
    std::string text;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || done; });
      if (queue.empty()) break;
      text = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    written = sink.Write(text);
    if (!written.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_all();
      break;
    }
  }
  producer.join();
  SUANLI_RETURN_IF_ERROR(produced);
  SUANLI_RETURN_IF_ERROR(written);
  SUANLI_RETURN_IF_ERROR(sink.Close());
  sum.jobs = gen.generated();
  sum.span = last - first;
  sum.arrival_rate = gen.arrival_rate();
  sum.mean_accelerators = gen.mean_accelerators();
  sum.mean_duration = gen.mean_duration();
  sum.work_scale = gen.work_scale();
  // A large-model job offers, within the span, the part of its run before the
  // last arrival (as if it started when submitted).
  for (const Job& j : large)
    sum.accelerator_seconds += static_cast<double>(j.GpuMilli()) / 1000 * std::min(j.work, ToSeconds(last - j.submit));
  if (sum.span > 0) sum.offered_load = sum.accelerator_seconds / (ToSeconds(sum.span) * static_cast<double>(opts.gpus));
  if (summary) *summary = sum;
  return Status::Ok();
}

}  // namespace suanli
