// The control plane's local and simulated backends, the subprocess runner
// and GPU detection. Local-backend tests start real processes.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "io/model_loader.h"
#include "live/backend.h"
#include "live/backend_local.h"
#include "live/backend_simulated.h"
#include "live/gpu_detect.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

WallMs Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A fresh directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "suanli-backend-test.XXXXXX").string();
    char* d = ::mkdtemp(tmpl.data());
    if (d != nullptr) path_ = d;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

BackendConfig LocalConfig(int grace_s = 2) {
  BackendConfig c;
  c.kind = "local";
  c.detect_gpus = false;
  c.slots = 2;
  c.grace_s = grace_s;
  return c;
}

std::unique_ptr<Backend> MakeLocal(const std::string& data_dir, int grace_s = 2) {
  auto b = MakeBackend(LocalConfig(grace_s), "here", data_dir, {});
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

LaunchRequest Request(int64_t id, const std::string& data_dir, std::vector<std::string> command) {
  LaunchRequest r;
  r.job_id = id;
  r.spec.command = std::move(command);
  r.spec.time_limit_s = 600;
  r.job_dir = data_dir + "/jobs/" + std::to_string(id);
  r.start_ms = Now();
  return r;
}

// Polls until job `id` ends (or `timeout_s` passes). Events of other jobs
// are kept for later calls (or appended to `others` when given).
std::optional<BackendEvent> WaitEnd(Backend& b, int64_t id, double timeout_s,
                                    std::vector<BackendEvent>* others = nullptr) {
  static std::map<Backend*, std::vector<BackendEvent>> kept;
  auto take = [&]() -> std::optional<BackendEvent> {
    auto& k = kept[&b];
    for (size_t i = 0; i < k.size(); ++i) {
      if (k[i].job_id == id) {
        BackendEvent e = k[i];
        k.erase(k.begin() + static_cast<long>(i));
        return e;
      }
    }
    return std::nullopt;
  };
  if (auto e = take()) return e;
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    auto evs = b.Poll(Now());
    EXPECT_TRUE(evs.ok()) << evs.status().message();
    if (!evs.ok()) return std::nullopt;
    for (BackendEvent& e : *evs) {
      if (e.kind == BackendEvent::Kind::kStarted) continue;
      if (others != nullptr && e.job_id != id) {
        others->push_back(e);
      } else {
        kept[&b].push_back(e);
      }
    }
    if (auto e = take()) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

bool PidAlive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// Waits until a job has written to `path` (its stdout): it runs. Its
// supervisor and reaper start in milliseconds, an instrumented (sanitizer)
// build of them in up to a second or so.
bool WaitOutput(const std::string& path, double timeout_s = 30) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (ReadAll(path).empty()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

pid_t SupervisorPid(const std::string& backend_id) { return static_cast<pid_t>(std::stol(backend_id)); }

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

// ---- local backend: real processes -----------------------------------------------------

TEST(LiveBackendLocal, ProbeWithoutGpusOffersCpuSlotsOnThisHost) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), "local");
  auto cap = b->Probe();
  ASSERT_TRUE(cap.ok()) << cap.status().message();
  ASSERT_EQ(cap->nodes.size(), 1u);
  EXPECT_EQ(cap->nodes[0].name, ShortHostName());
  EXPECT_EQ(cap->nodes[0].cpu_milli, 2000);
  EXPECT_EQ(cap->nodes[0].devices, 0);
  EXPECT_GT(cap->nodes[0].mem_mib, 0);
  EXPECT_TRUE(cap->nodes[0].up);

  BackendConfig all = LocalConfig();
  all.slots = 0;
  auto b2 = MakeBackend(all, "here", tmp.path(), {});
  ASSERT_TRUE(b2.ok());
  auto cap2 = (*b2)->Probe();
  ASSERT_TRUE(cap2.ok());
  EXPECT_EQ(cap2->nodes[0].cpu_milli, 1000 * static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN)));

  BackendConfig bad = LocalConfig();
  bad.slots = -1;
  auto b3 = MakeBackend(bad, "here", tmp.path(), {});
  ASSERT_FALSE(b3.ok());
  EXPECT_NE(b3.status().message().find("slots"), std::string::npos);
}

TEST(LiveBackendLocal, ExitCodesSignalsAndLogs) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  auto ok = b->Launch(Request(1, tmp.path(), {"sh", "-c", "echo hello; echo oops >&2"}));
  auto three = b->Launch(Request(2, tmp.path(), {"sh", "-c", "exit 3"}));
  auto killed = b->Launch(Request(3, tmp.path(), {"sh", "-c", "kill -KILL $$"}));
  auto high = b->Launch(Request(4, tmp.path(), {"sh", "-c", "exit 137"}));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_TRUE(three.ok() && killed.ok() && high.ok());

  auto e1 = WaitEnd(*b, 1, 20);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(e1->kind, BackendEvent::Kind::kEnded);
  EXPECT_EQ(e1->state, JobState::kSucceeded);
  EXPECT_EQ(e1->exit_code, 0);
  EXPECT_EQ(e1->signal, 0);
  EXPECT_GT(e1->at_ms, 0);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/1/stdout"), "hello\n");
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/1/stderr"), "oops\n");

  auto e2 = WaitEnd(*b, 2, 20);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->state, JobState::kFailed);
  EXPECT_EQ(e2->exit_code, 3);
  EXPECT_EQ(e2->reason, "exit 3");

  auto e3 = WaitEnd(*b, 3, 20);
  ASSERT_TRUE(e3.has_value());
  EXPECT_EQ(e3->state, JobState::kFailed);
  EXPECT_EQ(e3->signal, SIGKILL);
  EXPECT_EQ(e3->reason, "killed by SIGKILL");

  // A program that exits with 137 by itself is an exit code, not a signal.
  auto e4 = WaitEnd(*b, 4, 20);
  ASSERT_TRUE(e4.has_value());
  EXPECT_EQ(e4->exit_code, 137);
  EXPECT_EQ(e4->signal, 0);
  EXPECT_EQ(e4->reason, "exit 137");

  // Each end is reported once.
  auto again = b->Poll(Now());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(LiveBackendLocal, EnvironmentWorkdirAndHiddenAccelerators) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(42, tmp.path(),
                            {"sh", "-c",
                             "echo \"id=$SUANLI_JOB_ID foo=$FOO cuda=${CUDA_VISIBLE_DEVICES-unset} "
                             "ascend=${ASCEND_RT_VISIBLE_DEVICES-unset} perl=$PERL5OPT dir=$(pwd)\""});
  r.spec.env = {{"FOO", "bar baz"}, {"PERL5OPT", "-MSuanliNoSuchModule"}};
  fs::create_directories(tmp.path() + "/work");
  r.spec.workdir = tmp.path() + "/work";
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 42, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << " " << ReadAll(tmp.path() + "/jobs/42/stderr");
  std::string want =
      "id=42 foo=bar baz cuda= ascend= perl=-MSuanliNoSuchModule dir=" + fs::canonical(tmp.path() + "/work").string() +
      "\n";
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/42/stdout"), want);

  // Without a workdir the job runs in its own directory.
  LaunchRequest r2 = Request(43, tmp.path(), {"pwd"});
  ASSERT_TRUE(b->Launch(r2).ok());
  ASSERT_TRUE(WaitEnd(*b, 43, 20).has_value());
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/43/stdout"), fs::canonical(tmp.path() + "/jobs/43").string() + "\n");

  // A workdir that does not exist is refused at launch.
  LaunchRequest r3 = Request(44, tmp.path(), {"true"});
  r3.spec.workdir = tmp.path() + "/missing";
  auto l3 = b->Launch(r3);
  ASSERT_FALSE(l3.ok());
  EXPECT_NE(l3.status().message().find("missing"), std::string::npos) << l3.status().message();
}

TEST(LiveBackendLocal, GpuJobGetsItsDevicesOnARecordedGpuHost) {
  TempDir tmp;
  BackendConfig c = LocalConfig();
  c.detect_gpus = true;
  // A host with two A10 and two T4 (nvidia-smi order), recorded.
  auto b = MakeLocalBackend(c, "here", tmp.path(), BuiltinCatalog(),
                            std::string("0, Tesla T4, 15360\n1, NVIDIA A10, 23028\n2, Tesla T4, 15360\n"
                                        "3, NVIDIA A10, 23028\n"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto cap = (*b)->Probe();
  ASSERT_TRUE(cap.ok());
  ASSERT_EQ(cap->nodes.size(), 2u);
  std::string t4_node = ShortHostName() + "-t4";
  EXPECT_EQ(cap->nodes[1].name, t4_node);
  EXPECT_EQ(cap->nodes[1].model, "T4");
  EXPECT_EQ(cap->nodes[1].devices, 2);

  LaunchRequest r = Request(7, tmp.path(),
                            {"sh", "-c",
                             "echo \"$CUDA_VISIBLE_DEVICES|$CUDA_DEVICE_ORDER|$ASCEND_RT_VISIBLE_DEVICES|"
                             "$MLU_VISIBLE_DEVICES|$SUANLI_JOB_ID\""});
  r.node = t4_node;
  r.model = "T4";
  r.devices = {1};
  r.spec.gpus = 1;
  r.spec.env = {{"CUDA_VISIBLE_DEVICES", "0,1,2,3"}};  // a job cannot widen its own devices
  ASSERT_TRUE((*b)->Launch(r).ok());
  auto e = WaitEnd(**b, 7, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded);
  // Node device 1 of the T4 node is nvidia-smi index 2.
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/7/stdout"), "2|PCI_BUS_ID|||7\n");

  // Devices and models the node does not have are refused.
  LaunchRequest bad = Request(8, tmp.path(), {"true"});
  bad.node = t4_node;
  bad.model = "T4";
  bad.devices = {2};
  EXPECT_FALSE((*b)->Launch(bad).ok());
  bad.devices = {0};
  bad.model = "A10";
  EXPECT_FALSE((*b)->Launch(bad).ok());
}

TEST(LiveBackendLocal, CancelEndsWithinTheGracePeriod) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/2);
  ASSERT_NE(b, nullptr);
  auto id = b->Launch(Request(5, tmp.path(), {"sh", "-c", "echo up; exec sleep 1000"}));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(WaitOutput(tmp.path() + "/jobs/5/stdout"));
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Cancel(5, *id).ok());
  auto e = WaitEnd(*b, 5, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_LT(took, 2.0);
  EXPECT_EQ(b->Cancel(99, "1:1").code(), StatusCode::kNotFound);
}

TEST(LiveBackendLocal, CancelKillsAJobThatIgnoresSigtermAfterTheGrace) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/1);
  ASSERT_NE(b, nullptr);
  // The shell and its sleep both ignore SIGTERM; the sleep is in the job's process group.
  auto id = b->Launch(Request(6, tmp.path(), {"sh", "-c", "trap '' TERM; echo up; sleep 1000; echo after"}));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(WaitOutput(tmp.path() + "/jobs/6/stdout"));
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Cancel(6, *id).ok());
  auto e = WaitEnd(*b, 6, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  EXPECT_EQ(e->signal, SIGKILL);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/6/stdout"), "up\n");
}

TEST(LiveBackendLocal, TimeLimit) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/2);
  ASSERT_NE(b, nullptr);
  // (2 s: the job runs well before its limit, even where its supervisor is slow to start.)
  LaunchRequest r = Request(9, tmp.path(), {"sleep", "1000"});
  r.spec.time_limit_s = 2;
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 9, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_EQ(e->reason.rfind("time limit 2 s exceeded", 0), 0u) << e->reason;
  EXPECT_GE(took, 1.9);
  EXPECT_LT(took, 5.0);
}

TEST(LiveBackendLocal, MissingCommandFailsWithItsReasonInStderr) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Launch(Request(10, tmp.path(), {"suanli-no-such-command", "-x"})).ok());
  auto e = WaitEnd(*b, 10, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->exit_code, 127);
  EXPECT_NE(ReadAll(tmp.path() + "/jobs/10/stderr").find("suanli-no-such-command"), std::string::npos);
  EXPECT_FALSE(b->Launch(Request(11, tmp.path(), {})).ok());
}

TEST(LiveBackendLocal, AdoptionByANewBackendObject) {
  TempDir tmp;
  LaunchRequest r = Request(12, tmp.path(), {"sh", "-c", "sleep 1; echo done; exit 7"});
  std::string id;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    ASSERT_TRUE(l.ok());
    id = *l;
  }  // the backend object is gone; the job is not
  EXPECT_TRUE(PidAlive(SupervisorPid(id)));
  EXPECT_FALSE(fs::exists(tmp.path() + "/run/12/status"));
  auto b2 = MakeLocal(tmp.path());
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(r, id).ok());
  auto first = b2->Poll(Now());
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->empty());  // still running
  auto e = WaitEnd(*b2, 12, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->exit_code, 7);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/12/stdout"), "done\n");
}

TEST(LiveBackendLocal, JobThatEndedWhileNoBackendExistedIsReportedOnTheFirstPoll) {
  TempDir tmp;
  LaunchRequest r = Request(13, tmp.path(), {"sh", "-c", "exit 5"});
  std::string id;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    ASSERT_TRUE(l.ok());
    id = *l;
  }
  for (int i = 0; i < 200 && !fs::exists(tmp.path() + "/run/13/status"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(tmp.path() + "/run/13/status"));
  auto b2 = MakeLocal(tmp.path());
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(r, id).ok());
  auto evs = b2->Poll(Now());
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].job_id, 13);
  EXPECT_EQ((*evs)[0].kind, BackendEvent::Kind::kEnded);
  EXPECT_EQ((*evs)[0].state, JobState::kFailed);
  EXPECT_EQ((*evs)[0].exit_code, 5);
  EXPECT_EQ((*evs)[0].reason, "exit 5");
}

TEST(LiveBackendLocal, JobSurvivesTheServerKilledWithSigkill) {
  TempDir tmp;
  LaunchRequest r = Request(14, tmp.path(), {"sh", "-c", "sleep 1; echo survived; exit 4"});
  std::string id_file = tmp.path() + "/backend_id";
  // A "server" process launches the job and is killed with SIGKILL.
  pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    auto b = MakeBackend(LocalConfig(), "here", tmp.path(), {});
    if (!b.ok()) ::_exit(2);
    auto l = (*b)->Launch(r);
    if (!l.ok()) ::_exit(3);
    std::ofstream(id_file) << *l;
    ::raise(SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFSIGNALED(status)) << "server exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  std::string id = ReadAll(id_file);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(PidAlive(SupervisorPid(id)));
  // A new server adopts it and sees its end.
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Adopt(r, id).ok());
  auto e = WaitEnd(*b, 14, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 4);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/14/stdout"), "survived\n");
}

TEST(LiveBackendLocal, CancelAfterAdoptionAndAVanishedSupervisor) {
  TempDir tmp;
  LaunchRequest r = Request(15, tmp.path(), {"sleep", "1000"});
  LaunchRequest r2 = Request(16, tmp.path(), {"sleep", "1000"});
  std::string id, id2;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    auto l2 = b->Launch(r2);
    ASSERT_TRUE(l.ok() && l2.ok());
    id = *l;
    id2 = *l2;
  }
  auto b = MakeLocal(tmp.path(), /*grace_s=*/1);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Adopt(r, id).ok());
  ASSERT_TRUE(b->Adopt(r2, id2).ok());
  for (int i = 0; i < 100 && !fs::exists(tmp.path() + "/run/16/pgid"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_t command = static_cast<pid_t>(std::stol(ReadAll(tmp.path() + "/run/16/pgid")));
  ASSERT_TRUE(b->Cancel(15, id).ok());
  // The supervisor of job 16 is killed: its job is lost and its command stopped.
  ASSERT_EQ(::kill(SupervisorPid(id2), SIGKILL), 0);
  std::vector<BackendEvent> others;
  auto e = WaitEnd(*b, 15, 10, &others);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  for (int i = 0; i < 100 && others.empty(); ++i) {
    auto evs = b->Poll(Now());
    ASSERT_TRUE(evs.ok());
    others.insert(others.end(), evs->begin(), evs->end());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].job_id, 16);
  EXPECT_EQ(others[0].kind, BackendEvent::Kind::kLost);
  EXPECT_EQ(others[0].reason, "lost: supervisor gone");
  for (int i = 0; i < 100 && PidAlive(command); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(PidAlive(command));
}

TEST(LiveBackendLocal, AdoptRejectsMalformedIdsAndReportsAGoneJobAsLost) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(17, tmp.path(), {"true"});
  EXPECT_EQ(b->Adopt(r, "sim-17").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->Adopt(r, "").code(), StatusCode::kInvalidArgument);
  // A pid that is not (or no longer) the supervisor, and no status file.
  ASSERT_TRUE(b->Adopt(r, fmt::format("{}:1", ::getpid())).ok());
  auto evs = b->Poll(Now());
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].kind, BackendEvent::Kind::kLost);
}

// ---- simulated backend -------------------------------------------------------------------

BackendCapacity SimCapacity(int nodes, int devices) {
  BackendCapacity c;
  for (int i = 0; i < nodes; ++i) {
    BackendNode n;
    n.name = "n" + std::to_string(i);
    n.model = "A100-80GB";
    n.devices = devices;
    n.cpu_milli = 64000;
    n.mem_mib = 512000;
    c.nodes.push_back(n);
  }
  return c;
}

std::unique_ptr<Backend> MakeSim(const BackendCapacity& cap) {
  BackendConfig c;
  c.kind = "simulated";
  auto b = MakeBackend(c, "sim", "", cap);
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

LaunchRequest SimRequest(int64_t id, WallMs start, int64_t duration_s, int64_t limit_s) {
  LaunchRequest r;
  r.job_id = id;
  r.spec.command = {"train"};
  r.spec.duration_s = duration_s;
  r.spec.time_limit_s = limit_s;
  r.node = "n0";
  r.model = "A100-80GB";
  r.devices = {0};
  r.start_ms = start;
  return r;
}

TEST(LiveBackendSimulated, JobsEndAtTheirDuration) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), "simulated");
  auto cap = b->Probe();
  ASSERT_TRUE(cap.ok());
  EXPECT_EQ(cap->nodes.size(), 2u);
  const WallMs t0 = 1'700'000'000'000;
  auto id = b->Launch(SimRequest(1, t0, 10, 3600));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "sim-1");
  ASSERT_TRUE(b->Launch(SimRequest(2, t0, 0, 20)).ok());    // runs its time limit, succeeds
  ASSERT_TRUE(b->Launch(SimRequest(3, t0, 100, 30)).ok());  // stopped at its limit
  auto none = b->Poll(t0 + 9'999);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto one = b->Poll(t0 + 10'000);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].job_id, 1);
  EXPECT_EQ((*one)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*one)[0].exit_code, 0);
  EXPECT_EQ((*one)[0].at_ms, t0 + 10'000);
  auto rest = b->Poll(t0 + 1'000'000);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].job_id, 2);
  EXPECT_EQ((*rest)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*rest)[0].at_ms, t0 + 20'000);
  EXPECT_EQ((*rest)[1].job_id, 3);
  EXPECT_EQ((*rest)[1].state, JobState::kFailed);
  EXPECT_EQ((*rest)[1].reason, "time limit 30 s exceeded");
  EXPECT_EQ((*rest)[1].at_ms, t0 + 30'000);
}

// A replayed trace job runs exactly what the scheduler expects, to the
// microsecond; an injected device failure stops it earlier, as its center's
// doing; NextEventUs says when the next run ends.
TEST(LiveBackendSimulated, RunsToTheMicrosecondAndFailsWhereInjected) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);
  const int64_t t0 = 1'700'000'000'000'123;  // µs
  LaunchRequest a = SimRequest(1, t0 / 1000, 10, 0);
  a.start_us = t0;
  a.run_us = 2'500'001;  // spec.duration_s does not count
  ASSERT_TRUE(b->Launch(a).ok());
  LaunchRequest f = SimRequest(2, t0 / 1000, 10, 0);
  f.start_us = t0;
  f.run_us = 9'000'000;
  f.fail_after_us = 4'000'000;
  ASSERT_TRUE(b->Launch(f).ok());
  LaunchRequest late = SimRequest(3, t0 / 1000, 10, 0);
  late.start_us = t0;
  late.run_us = 1'000'000;
  late.fail_after_us = 2'000'000;  // after its end: no failure
  ASSERT_TRUE(b->Launch(late).ok());
  EXPECT_EQ(b->NextEventUs(), t0 + 1'000'000);
  ASSERT_EQ(b->PollUs(t0 + 1'000'000)->size(), 1u);
  EXPECT_EQ(b->NextEventUs(), t0 + 2'500'001);
  EXPECT_TRUE(b->PollUs(t0 + 2'500'000)->empty());
  auto one = b->PollUs(t0 + 2'500'001);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].job_id, 1);
  EXPECT_EQ((*one)[0].state, JobState::kSucceeded);
  EXPECT_EQ((*one)[0].at_ms, (t0 + 2'500'001) / 1000);
  auto failed = b->PollUs(t0 + 4'000'000);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].job_id, 2);
  EXPECT_EQ((*failed)[0].state, JobState::kFailed);
  EXPECT_TRUE((*failed)[0].center_stopped);
  EXPECT_EQ((*failed)[0].reason, "device failure");
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);
}

// A simulated center's outage (suanli replay): it answers nothing while
// away, loses its runs, and reports them lost when it is back.
TEST(LiveBackendSimulated, AnOutageLosesItsRunsAndReportsThemWhenItIsBack) {
  auto b = MakeSim(SimCapacity(2, 8));
  ASSERT_NE(b, nullptr);
  const int64_t t0 = 1'700'000'000'000'000;
  for (int64_t id : {7, 3}) {
    LaunchRequest r = SimRequest(id, t0 / 1000, 100, 0);
    r.start_us = t0;
    ASSERT_TRUE(b->Launch(r).ok());
  }
  ASSERT_TRUE(SetSimulatedCenterAway(*b, true, t0 + 5'000'000).ok());
  EXPECT_EQ(b->PollUs(t0 + 6'000'000).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->Launch(SimRequest(9, t0 / 1000, 100, 0)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->Cancel(7, "sim-7").code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);  // nothing ends while it is away
  ASSERT_TRUE(SetSimulatedCenterAway(*b, false, t0 + 200'000'000).ok());
  EXPECT_EQ(b->NextEventUs(), INT64_MIN);  // its lost runs, at the next poll
  auto back = b->PollUs(t0 + 200'000'000);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].job_id, 3);
  EXPECT_EQ((*back)[1].job_id, 7);
  for (const BackendEvent& ev : *back) {
    EXPECT_EQ(ev.kind, BackendEvent::Kind::kLost);
    EXPECT_EQ(ev.at_ms, (t0 + 5'000'000) / 1000);
  }
  EXPECT_EQ(b->NextEventUs(), INT64_MAX);  // nothing runs there any more
}

// A run cancelled and launched again before the cancel is reported (a
// replay's job preempted and started again in one pass): the new run
// replaces it, and no end of the cancelled one is reported.
TEST(LiveBackendSimulated, ALaunchReplacesARunCancelledButNotReported) {
  auto b = MakeSim(SimCapacity(1, 8));
  ASSERT_NE(b, nullptr);
  const int64_t t0 = 1'700'000'000'000'000;
  LaunchRequest r = SimRequest(4, t0 / 1000, 100, 0);
  r.start_us = t0;
  ASSERT_TRUE(b->Launch(r).ok());
  EXPECT_FALSE(b->Launch(r).ok());  // running: not twice
  ASSERT_TRUE(b->Cancel(4, "sim-4").ok());
  r.start_us = t0 + 1'000'000;
  r.run_us = 3'000'000;
  ASSERT_TRUE(b->Launch(r).ok());
  EXPECT_EQ(b->NextEventUs(), t0 + 4'000'000);
  auto ended = b->PollUs(t0 + 4'000'000);
  ASSERT_TRUE(ended.ok());
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].state, JobState::kSucceeded);
}

TEST(LiveBackendSimulated, CancelAdoptAndBadRequests) {
  BackendCapacity cap = SimCapacity(1, 4);
  const WallMs t0 = 1'700'000'000'000;
  auto b = MakeSim(cap);
  ASSERT_NE(b, nullptr);
  auto id = b->Launch(SimRequest(1, t0, 100, 3600));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(b->Cancel(1, *id).ok());
  auto evs = b->Poll(t0 + 5'000);
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].state, JobState::kCancelled);
  EXPECT_EQ((*evs)[0].at_ms, t0 + 5'000);
  EXPECT_TRUE(b->Poll(t0 + 1'000'000)->empty());
  EXPECT_EQ(b->Cancel(1, *id).code(), StatusCode::kNotFound);

  // A new backend object adopts a job launched before: it continues from its start.
  auto b2 = MakeSim(cap);
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(SimRequest(2, t0, 50, 3600), "sim-2").ok());
  ASSERT_TRUE(b2->Adopt(SimRequest(3, t0, 5, 3600), "sim-3").ok());  // ended meanwhile
  auto first = b2->Poll(t0 + 10'000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].job_id, 3);
  EXPECT_EQ((*first)[0].at_ms, t0 + 5'000);
  auto second = b2->Poll(t0 + 50'000);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].job_id, 2);
  EXPECT_EQ(b2->Adopt(SimRequest(4, t0, 5, 3600), "4:123").code(), StatusCode::kInvalidArgument);

  LaunchRequest bad = SimRequest(5, t0, 5, 3600);
  bad.node = "nowhere";
  EXPECT_FALSE(b2->Launch(bad).ok());
  bad = SimRequest(5, t0, 5, 3600);
  bad.devices = {4};
  EXPECT_FALSE(b2->Launch(bad).ok());

  BackendCapacity dup = SimCapacity(2, 4);
  dup.nodes[1].name = dup.nodes[0].name;
  BackendConfig c;
  c.kind = "simulated";
  EXPECT_FALSE(MakeBackend(c, "sim", "", dup).ok());
}

TEST(LiveBackendSimulated, ManyJobsEndInOrder) {
  // 100,000 accelerators, 30,000 jobs with spread-out durations.
  auto b = MakeSim(SimCapacity(12'500, 8));
  ASSERT_NE(b, nullptr);
  const WallMs t0 = 1'700'000'000'000;
  const int kJobs = 30'000;
  for (int i = 1; i <= kJobs; ++i) {
    LaunchRequest r = SimRequest(i, t0, 1 + (i * 7919) % 5000, 0);
    r.node = "n" + std::to_string(i % 12'500);
    ASSERT_TRUE(b->Launch(r).ok());
  }
  int ended = 0;
  WallMs last_at = 0;
  for (WallMs now = t0; now <= t0 + 5'001'000; now += 100'000) {
    auto evs = b->Poll(now);
    ASSERT_TRUE(evs.ok());
    for (const BackendEvent& e : *evs) {
      EXPECT_LE(e.at_ms, now);
      EXPECT_GE(e.at_ms, last_at);
      last_at = e.at_ms;
      EXPECT_EQ(e.at_ms, t0 + (1 + (e.job_id * 7919) % 5000) * 1000);
      ++ended;
    }
  }
  EXPECT_EQ(ended, kJobs);
}

TEST(LiveBackendFactory, UnknownKindIsAnError) {
  BackendConfig c;
  c.kind = "kubernetes";
  auto b = MakeBackend(c, "c1", "", {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("kubernetes"), std::string::npos);
  EXPECT_NE(b.status().message().find("c1"), std::string::npos);
}

}  // namespace
}  // namespace suanli::live
