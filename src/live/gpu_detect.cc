#include "live/gpu_detect.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "base/strings.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace {

std::string WithDashes(std::string_view s) {
  std::string out;
  bool dash = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '_') {
      dash = !out.empty();
      continue;
    }
    if (dash && out.back() != '-' && c != '-') out.push_back('-');
    dash = false;
    out.push_back(c);
  }
  return out;
}

// "NVIDIA H100 80GB HBM3" -> "H100 80GB HBM3"; "Tesla V100-SXM2-32GB" -> "V100-SXM2-32GB".
std::string_view StripVendor(std::string_view product) {
  product = Trim(product);
  for (std::string_view prefix : {"NVIDIA ", "Tesla ", "NVIDIA Tesla "}) {
    if (product.size() > prefix.size() && ToLower(product.substr(0, prefix.size())) == ToLower(prefix)) {
      product.remove_prefix(prefix.size());
    }
  }
  // "NVIDIA Tesla V100" strips "NVIDIA " first, then "Tesla ".
  return Trim(product);
}

// First word, up to a space or '-': "A100-SXM4-40GB" -> "A100".
std::string Family(std::string_view s) {
  size_t end = s.find_first_of(" -");
  return std::string(s.substr(0, end));
}

bool StartsWithFamily(std::string_view name, std::string_view family) {
  std::string n = ToLower(name), f = ToLower(family);
  if (n == f) return true;
  return n.size() > f.size() && n.compare(0, f.size(), f) == 0 && n[f.size()] == '-';
}

}  // namespace

std::vector<std::string> NvidiaSmiCommand() {
  return {"nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"};
}

ProductMatch MatchNvidiaProduct(std::string_view product, int64_t memory_mib, const Catalog& catalog) {
  ProductMatch m;
  std::string_view bare = StripVendor(product);
  double mem_gb = memory_mib / 1024.0;
  auto exact = [&](const std::string& name) -> bool {
    if (name.empty()) return false;
    if (auto id = catalog.Find(name)) {
      m.model = catalog.model(*id).name;
      m.exact = true;
      return true;
    }
    return false;
  };
  if (exact(std::string(Trim(product))) || exact(WithDashes(Trim(product))) || exact(std::string(bare)) ||
      exact(WithDashes(bare))) {
    return m;
  }
  std::string family = Family(bare);
  if (family.empty()) {
    m.note = fmt::format("GPU '{}' has no model name", product);
    return m;
  }
  if (memory_mib > 0 && exact(fmt::format("{}-{}GB", family, std::llround(mem_gb)))) return m;
  if (auto id = catalog.Find(family)) {
    const AcceleratorModel& am = catalog.model(*id);
    if (am.memory_gb <= 0 || memory_mib <= 0 || std::fabs(am.memory_gb - mem_gb) <= 0.1 * am.memory_gb) {
      m.model = am.name;
      m.exact = true;
      return m;
    }
  }
  // Same family, nearest memory.
  const AcceleratorModel* best = nullptr;
  double best_diff = 0;
  for (const AcceleratorModel& am : catalog.models()) {
    bool in_family = StartsWithFamily(am.name, family);
    for (const std::string& a : am.aliases) in_family = in_family || StartsWithFamily(a, family);
    if (!in_family) continue;
    double diff = am.memory_gb > 0 ? std::fabs(am.memory_gb - mem_gb) : 1e9;
    if (best == nullptr || diff < best_diff) {
      best = &am;
      best_diff = diff;
    }
  }
  if (best != nullptr) {
    m.model = best->name;
    m.note = fmt::format(
        "GPU '{}' ({} MiB) is not in the accelerator catalog; counted as {} (same family, "
        "nearest memory)",
        product, memory_mib, best->name);
    return m;
  }
  m.note = fmt::format(
      "GPU '{}' ({} MiB) matches no model of the accelerator catalog; it is not offered "
      "(add its name as an alias in data/accelerators.yaml)",
      product, memory_mib);
  return m;
}

Result<std::vector<DetectedGpu>> ParseNvidiaSmiCsv(std::string_view text, const Catalog& catalog) {
  std::vector<DetectedGpu> out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, ',');
    if (f.size() != 3) {
      return ParseError("nvidia-smi output line {}: expected 3 fields (index, name, memory.total), got {}: '{}'",
                        line_no, f.size(), line);
    }
    auto index = ParseInt(f[0]);
    if (!index || *index < 0 || *index > 4096) {
      return ParseError("nvidia-smi output line {}: index '{}' is not a device number", line_no, Trim(f[0]));
    }
    DetectedGpu g;
    g.index = static_cast<int>(*index);
    g.product = std::string(Trim(f[1]));
    if (g.product.empty()) return ParseError("nvidia-smi output line {}: empty name", line_no);
    std::string_view mem = Trim(f[2]);
    if (auto mib = ParseInt(mem); mib && *mib >= 0) {
      g.memory_mib = *mib;
    } else if (mem != "[N/A]" && mem != "N/A") {
      return ParseError("nvidia-smi output line {}: memory.total '{}' is not a number of MiB", line_no, mem);
    }
    for (const DetectedGpu& other : out) {
      if (other.index == g.index)
        return ParseError("nvidia-smi output line {}: index {} listed twice", line_no, g.index);
    }
    ProductMatch pm = MatchNvidiaProduct(g.product, g.memory_mib, catalog);
    g.model = pm.model;
    g.exact = pm.exact;
    g.note = pm.note;
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::vector<DetectedGpu>> DetectNvidiaGpus(const Catalog& catalog, int timeout_s) {
  SubprocessOptions o;
  o.argv = NvidiaSmiCommand();
  o.timeout_ms = timeout_s * 1000;
  auto r = RunSubprocess(o);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) return std::vector<DetectedGpu>{};
    return r.status();
  }
  if (!r->ok()) return Unavailable("{}", DescribeFailure(o, *r));
  auto parsed = ParseNvidiaSmiCsv(r->out, catalog);
  if (!parsed.ok()) return parsed.status();
  return parsed;
}

const std::vector<DeviceVariable>& DeviceVariables() {
  static const std::vector<DeviceVariable> kTable = {
      {"cuda", "CUDA_VISIBLE_DEVICES"},       // NVIDIA CUDA; CUDA-compatible stacks read it too
      {"cann", "ASCEND_RT_VISIBLE_DEVICES"},  // Huawei Ascend CANN runtime
      {"bang", "MLU_VISIBLE_DEVICES"},        // Cambricon Neuware (CNRT)
      {"musa", "MUSA_VISIBLE_DEVICES"},       // Moore Threads MUSA runtime
      {"corex", "CUDA_VISIBLE_DEVICES"},      // Iluvatar CoreX: its CUDA-compatible runtime
      {"supa", "CUDA_VISIBLE_DEVICES"},       // Biren: the CUDA-compatible path (see docs/backends.md)
  };
  return kTable;
}

Result<std::map<std::string, std::string>> DeviceEnvironment(const Catalog& catalog, const std::string& model,
                                                             const std::vector<int>& devices) {
  std::map<std::string, std::string> env;
  for (const DeviceVariable& dv : DeviceVariables()) env[std::string(dv.variable)] = "";
  if (model.empty()) return env;
  auto id = catalog.Find(model);
  if (!id) return NotFound("accelerator model '{}' is not in the catalog", model);
  const AcceleratorModel& am = catalog.model(*id);
  std::string list;
  for (size_t i = 0; i < devices.size(); ++i) list += (i ? "," : "") + std::to_string(devices[i]);
  bool any = false;
  for (const DeviceVariable& dv : DeviceVariables()) {
    auto stack = catalog.FindStack(dv.stack);
    if (!stack || (am.stacks & (StackMask{1} << *stack)) == 0) continue;
    env[std::string(dv.variable)] = list;
    any = true;
  }
  if (!any) {
    return InvalidArgument("accelerator model '{}' runs no stack with a known device variable", am.name);
  }
  if (!env["CUDA_VISIBLE_DEVICES"].empty()) env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
  return env;
}

std::map<std::string, std::string> ShareEnvironment(const Catalog& catalog, const std::string& model, Gpus gpus) {
  std::map<std::string, std::string> env;
  if (!gpus.shared()) return env;
  const uint32_t milli = gpus.per_device_milli();
  env["SUANLI_GPU_SHARE"] = gpus.ToString();
  auto id = catalog.Find(model);
  auto cuda = catalog.FindStack("cuda");
  if (!id || !cuda || (catalog.model(*id).stacks & (StackMask{1} << *cuda)) == 0) return env;
  env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = std::to_string((milli + 9) / 10);
  const double mib = catalog.model(*id).memory_gb * 1024.0 * milli / 1000.0;
  if (mib >= 1) env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] = fmt::format("0={}M", static_cast<int64_t>(mib));
  return env;
}

}  // namespace suanli::live
