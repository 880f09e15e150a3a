// Accelerators of this machine, for the local backend: NVIDIA GPUs from
// nvidia-smi mapped to catalog models, and the environment variables that
// give a process its devices, by software stack (docs/backends.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "live/live_job.h"

namespace suanli::live {

// What nvidia-smi reports for one GPU, and the catalog model it counts as.
struct DetectedGpu {
  int index = 0;           // nvidia-smi index (PCI bus order)
  std::string product;     // "NVIDIA H100 80GB HBM3"
  int64_t memory_mib = 0;  // memory.total
  std::string model;       // catalog model name ("" = no match at all)
  bool exact = false;      // the product named a catalog model or alias
  std::string note;        // how an inexact match was made (for the log)
};

// The query the local backend runs.
std::vector<std::string> NvidiaSmiCommand();

// Parses the output of `nvidia-smi --query-gpu=index,name,memory.total
// --format=csv,noheader,nounits` and maps each product to a catalog model
// (MatchNvidiaProduct). Errors name the line and what is wrong with it.
Result<std::vector<DetectedGpu>> ParseNvidiaSmiCsv(std::string_view text, const Catalog& catalog);

struct ProductMatch {
  std::string model;  // "" = nothing fits
  bool exact = false;
  std::string note;
};

// Product name (and memory) -> catalog model:
//  1. exact: the product with its vendor prefix ("NVIDIA ", "Tesla ")
//     removed, spaces as '-', is a catalog name or alias ("A100-SXM4-80GB");
//     or its first word plus the memory rounded to GB is ("H100" + "80GB" ->
//     "H100-80GB"); or its first word alone is, and that model's memory is
//     within 10% of the card's ("H100 80GB HBM3" -> H100 -> H100-80GB).
//  2. same family: catalog models whose name or an alias starts with the
//     first word ("A100"), the one with the nearest memory (A100 40GB ->
//     A100-80GB), noted.
//  3. otherwise no model ("" with a note): the GPU is not offered.
ProductMatch MatchNvidiaProduct(std::string_view product, int64_t memory_mib, const Catalog& catalog);

// Runs nvidia-smi (timeout_s). Not installed -> an empty list; installed but
// failing (driver not loaded, ...) -> an error saying so.
Result<std::vector<DetectedGpu>> DetectNvidiaGpus(const Catalog& catalog, int timeout_s);

// ---- device visibility, by software stack -------------------------------------

struct DeviceVariable {
  std::string_view stack;     // catalog stack name
  std::string_view variable;  // e.g. CUDA_VISIBLE_DEVICES
};
// The table (docs/backends.md gives the sources).
const std::vector<DeviceVariable>& DeviceVariables();

// The variables for a job on `model` with `devices` (indices as the vendor's
// tools number them): every variable of the model's stacks lists the
// devices, every other variable of the table is set to "" (hidden). For a
// CPU-only job (model "") all of them are "". CUDA jobs also get
// CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers devices as nvidia-smi
// does. An unknown model is an error.
Result<std::map<std::string, std::string>> DeviceEnvironment(const Catalog& catalog, const std::string& model,
                                                             const std::vector<int>& devices);

// The variables of a share of one device (a job's gpus below 1;
// docs/control-plane.md "Fractional accelerators"):
//   SUANLI_GPU_SHARE                   the share, "0.25" (every model)
//   CUDA_MPS_ACTIVE_THREAD_PERCENTAGE  the share of the device's SMs in percent,
//                                      rounded up (a CUDA model)
//   CUDA_MPS_PINNED_DEVICE_MEM_LIMIT   "0=20480M": the share of the model's
//                                      memory (a CUDA model of known memory)
// CUDA enforces the last two when the node runs the MPS control daemon;
// other vendors' runtimes have no such per-process limit, and the share is
// the scheduler's accounting. Empty for whole devices.
std::map<std::string, std::string> ShareEnvironment(const Catalog& catalog, const std::string& model, Gpus gpus);

}  // namespace suanli::live
