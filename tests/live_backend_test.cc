// The control plane's subprocess runner and GPU detection: nvidia-smi
// output parsed, product names mapped to catalog models, device variables
// and the local nodes planned from detected GPUs.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "io/model_loader.h"
#include "live/backend_local.h"
#include "live/gpu_detect.h"
#include "live/subprocess.h"
#include "support/live_backend.h"

namespace suanli::live {
namespace {

using Clock = std::chrono::steady_clock;
using ::suanli::testing::live_backend::PidAlive;
using ::suanli::testing::live_backend::ReadAll;
using ::suanli::testing::live_backend::TempDir;

// ---- subprocess -------------------------------------------------------------------

TEST(LiveBackendSubprocess, CapturesOutputExitCodeAndEnvironment) {
  SubprocessOptions o;
  o.argv = {"sh", "-c", "echo out:$SUANLI_X; echo err >&2; exit 4"};
  o.env = {{"SUANLI_X", "a b"}};
  auto r = RunSubprocess(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->out, "out:a b\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(DescribeFailure(o, *r), "sh: exit 4: err");
}

TEST(LiveBackendSubprocess, TimeoutKillsTheWholeGroup) {
  TempDir tmp;
  SubprocessOptions o;
  // The child's own child (sleep) holds the pipes; both must go.
  o.argv = {"sh", "-c", "sleep 30 & echo $! > pid; wait"};
  o.cwd = tmp.path();
  o.timeout_ms = 300;
  auto t0 = Clock::now();
  auto r = RunSubprocess(o);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_LT(took, 3.0);
  EXPECT_NE(DescribeFailure(o, *r).find("no answer"), std::string::npos);
  pid_t sleeper = static_cast<pid_t>(std::stol(ReadAll(tmp.path() + "/pid")));
  for (int i = 0; i < 50 && PidAlive(sleeper); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(PidAlive(sleeper));
}

TEST(LiveBackendSubprocess, MissingProgramIsNotFound) {
  SubprocessOptions o;
  o.argv = {"suanli-no-such-program-here"};
  auto r = RunSubprocess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("suanli-no-such-program-here"), std::string::npos);
}

TEST(LiveBackendSubprocess, SignalNames) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
}

// ---- nvidia-smi parsing and device variables ----------------------------------------

// Recorded output of `nvidia-smi --query-gpu=index,name,memory.total
// --format=csv,noheader,nounits` on an 8 x H100 SXM host.
constexpr const char* kSmiH100 =
    "0, NVIDIA H100 80GB HBM3, 81559\n"
    "1, NVIDIA H100 80GB HBM3, 81559\n"
    "2, NVIDIA H100 80GB HBM3, 81559\n"
    "3, NVIDIA H100 80GB HBM3, 81559\n"
    "4, NVIDIA H100 80GB HBM3, 81559\n"
    "5, NVIDIA H100 80GB HBM3, 81559\n"
    "6, NVIDIA H100 80GB HBM3, 81559\n"
    "7, NVIDIA H100 80GB HBM3, 81559\n";

TEST(LiveBackendGpuDetect, ParsesRecordedNvidiaSmiOutput) {
  const Catalog& cat = BuiltinCatalog();
  auto gpus = ParseNvidiaSmiCsv(kSmiH100, cat);
  ASSERT_TRUE(gpus.ok()) << gpus.status().message();
  ASSERT_EQ(gpus->size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ((*gpus)[i].index, i);
    EXPECT_EQ((*gpus)[i].product, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ((*gpus)[i].memory_mib, 81559);
    EXPECT_EQ((*gpus)[i].model, "H100-80GB");
    EXPECT_TRUE((*gpus)[i].exact);
  }
}

TEST(LiveBackendGpuDetect, MapsProductNamesToCatalogModels) {
  const Catalog& cat = BuiltinCatalog();
  struct Case {
    const char* product;
    int64_t mib;
    const char* model;
    bool exact;
  };
  for (const Case& c :
       {Case{"NVIDIA A100-SXM4-80GB", 81920, "A100-80GB", true},
        Case{"NVIDIA A100 80GB PCIe", 81920, "A100-80GB", true},
        Case{"NVIDIA A800-SXM4-80GB", 81920, "A800-80GB", true}, Case{"NVIDIA H800", 81559, "H800-80GB", true},
        Case{"Tesla V100-SXM2-32GB", 32768, "V100-32GB", true}, Case{"Tesla V100-PCIE-16GB", 16160, "V100-16GB", true},
        Case{"Tesla T4", 15360, "T4", true}, Case{"NVIDIA A10", 23028, "A10", true},
        Case{"Tesla P100-PCIE-16GB", 16280, "P100", true}, Case{"Tesla K80", 11441, "K80", true},
        // Not in the catalog: same family, nearest memory.
        Case{"NVIDIA A100-SXM4-40GB", 40960, "A100-80GB", false}, Case{"NVIDIA H100 NVL", 95830, "H100-80GB", false},
        // Nothing of the family: not offered.
        Case{"NVIDIA GeForce RTX 4090", 24564, "", false}, Case{"NVIDIA H200", 143771, "", false}}) {
    ProductMatch m = MatchNvidiaProduct(c.product, c.mib, cat);
    EXPECT_EQ(m.model, c.model) << c.product;
    EXPECT_EQ(m.exact, c.exact) << c.product;
    if (!c.exact) {
      EXPECT_FALSE(m.note.empty()) << c.product;
      EXPECT_NE(m.note.find(c.product), std::string::npos) << m.note;
    }
  }
}

TEST(LiveBackendGpuDetect, MalformedOutputNamesTheLine) {
  const Catalog& cat = BuiltinCatalog();
  auto r = ParseNvidiaSmiCsv("0, NVIDIA H100 80GB HBM3, 81559\n1, NVIDIA H100 80GB HBM3\n", cat);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  r = ParseNvidiaSmiCsv("x, NVIDIA H100 80GB HBM3, 81559\n", cat);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("index 'x'"), std::string::npos) << r.status().message();
  r = ParseNvidiaSmiCsv("0, NVIDIA H100 80GB HBM3, lots\n", cat);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("memory.total 'lots'"), std::string::npos) << r.status().message();
  r = ParseNvidiaSmiCsv("0, A, 1\n0, A, 1\n", cat);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("twice"), std::string::npos) << r.status().message();
  auto empty = ParseNvidiaSmiCsv("\n", cat);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(LiveBackendGpuDetect, DeviceVariablesFollowTheModelsStack) {
  const Catalog& cat = BuiltinCatalog();
  auto nv = DeviceEnvironment(cat, "A100-80GB", {0, 2});
  ASSERT_TRUE(nv.ok()) << nv.status().message();
  EXPECT_EQ(nv->at("CUDA_VISIBLE_DEVICES"), "0,2");
  EXPECT_EQ(nv->at("CUDA_DEVICE_ORDER"), "PCI_BUS_ID");
  EXPECT_EQ(nv->at("ASCEND_RT_VISIBLE_DEVICES"), "");
  EXPECT_EQ(nv->at("MLU_VISIBLE_DEVICES"), "");
  EXPECT_EQ(nv->at("MUSA_VISIBLE_DEVICES"), "");

  auto ascend = DeviceEnvironment(cat, "ascend-910b", {1});
  ASSERT_TRUE(ascend.ok());
  EXPECT_EQ(ascend->at("ASCEND_RT_VISIBLE_DEVICES"), "1");
  EXPECT_EQ(ascend->at("CUDA_VISIBLE_DEVICES"), "");
  EXPECT_EQ(ascend->count("CUDA_DEVICE_ORDER"), 0u);

  auto mlu = DeviceEnvironment(cat, "MLU370-X8", {3});
  ASSERT_TRUE(mlu.ok());
  EXPECT_EQ(mlu->at("MLU_VISIBLE_DEVICES"), "3");
  auto musa = DeviceEnvironment(cat, "MTT-S4000", {0, 1});
  ASSERT_TRUE(musa.ok());
  EXPECT_EQ(musa->at("MUSA_VISIBLE_DEVICES"), "0,1");
  EXPECT_EQ(musa->at("CUDA_VISIBLE_DEVICES"), "");
  auto iluvatar = DeviceEnvironment(cat, "Tiangai-100", {2});
  ASSERT_TRUE(iluvatar.ok());
  EXPECT_EQ(iluvatar->at("CUDA_VISIBLE_DEVICES"), "2");

  auto cpu = DeviceEnvironment(cat, "", {});
  ASSERT_TRUE(cpu.ok());
  for (const DeviceVariable& dv : DeviceVariables()) EXPECT_EQ(cpu->at(std::string(dv.variable)), "");

  EXPECT_FALSE(DeviceEnvironment(cat, "no-such-card", {0}).ok());
}

TEST(LiveBackendGpuDetect, PlansNodesFromDetectedGpus) {
  const Catalog& cat = BuiltinCatalog();
  auto none = PlanLocalNodes("box", {}, 0, 8, 32000);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].node.name, "box");
  EXPECT_EQ(none[0].node.cpu_milli, 8000);
  EXPECT_EQ(none[0].node.devices, 0);
  EXPECT_EQ(none[0].node.model, "");
  EXPECT_EQ(PlanLocalNodes("box", {}, 3, 8, 32000)[0].node.cpu_milli, 3000);

  auto h100 = ParseNvidiaSmiCsv(kSmiH100, cat);
  ASSERT_TRUE(h100.ok());
  auto one = PlanLocalNodes("box", *h100, 0, 64, 1000000);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].node.name, "box");
  EXPECT_EQ(one[0].node.model, "H100-80GB");
  EXPECT_EQ(one[0].node.devices, 8);
  EXPECT_EQ(one[0].node.cpu_milli, 64000);

  auto mixed = ParseNvidiaSmiCsv(
      "0, Tesla T4, 15360\n1, NVIDIA A10, 23028\n2, Tesla T4, 15360\n"
      "3, NVIDIA GeForce RTX 4090, 24564\n",
      cat);
  ASSERT_TRUE(mixed.ok());
  auto two = PlanLocalNodes("box", *mixed, 0, 6, 3000);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].node.name, "box-a10");
  EXPECT_EQ(two[0].physical, std::vector<int>({1}));
  EXPECT_EQ(two[1].node.name, "box-t4");
  EXPECT_EQ(two[1].physical, std::vector<int>({0, 2}));
  EXPECT_EQ(two[0].node.cpu_milli + two[1].node.cpu_milli, 6000);
}

}  // namespace
}  // namespace suanli::live
