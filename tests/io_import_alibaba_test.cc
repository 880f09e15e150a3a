// Alibaba importers: openb pods and nodes (2023), PAI tasks and machines
// (2020), DLRM serving instances (2025), spot-GPU nodes (2026).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

std::string TracePath(const std::string& rel) { return std::string(SUANLI_SOURCE_DIR) + "/data/traces/" + rel; }

Result<Workload> ParseText(std::string_view format, std::string text, std::string name, const ImportOptions& opts = {},
                           ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), std::move(name));
  const TraceFormat* f = FindTraceFormat(format);
  if (!f) return NotFound("no format {}", format);
  Workload w;
  ImportReport local;
  Status st = f->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

Result<Network> ParseClusterText(std::string_view format, std::string text, std::string name,
                                 const ImportOptions& opts = {}) {
  auto reader = LineReader::FromString(std::move(text), std::move(name));
  const ClusterFormat* f = FindClusterFormat(format);
  if (!f) return NotFound("no format {}", format);
  Network n;
  Status st = f->parse(*reader, BuiltinCatalog(), opts, &n);
  if (!st.ok()) return st;
  return n;
}

ModelMask Bit(std::string_view name) {
  auto m = BuiltinCatalog().Find(name);
  EXPECT_TRUE(m.has_value()) << name;
  return m ? ModelMask{1} << *m : 0;
}

const char kPodHeader[] =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_"
    "time,"
    "scheduled_time\n";

// ---------------------------------------------------------------------------
// openb pods

TEST(OpenbImport, DefaultTraceMatchesPublishedCounts) {
  ImportReport report;
  auto w = ImportWorkload(TracePath("alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz"), "openb",
                          BuiltinCatalog(), {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 8152u);
  EXPECT_EQ(report.rows, 8152u);
  EXPECT_EQ(report.imported, 8152u);
  EXPECT_EQ(report.skipped, 0u);
  size_t by_gpus[9] = {}, shared = 0, with_work = 0;
  Time last = 0;
  for (const Job& j : w->jobs) {
    ASSERT_LE(j.num_gpus, 8u);
    ++by_gpus[j.num_gpus];
    if (j.IsShared()) ++shared;
    if (j.work > 0) ++with_work;
    EXPECT_EQ(j.models, 0u);  // the default trace has no GPU-type constraints
    last = std::max(last, j.submit);
  }
  EXPECT_EQ(by_gpus[0], 1088u);
  EXPECT_EQ(by_gpus[1], 6989u);
  EXPECT_EQ(by_gpus[2], 16u);
  EXPECT_EQ(by_gpus[4], 15u);
  EXPECT_EQ(by_gpus[8], 44u);
  EXPECT_EQ(shared, 3078u);
  EXPECT_LE(with_work, 7255u);
  EXPECT_EQ(last, Seconds(12'901'761));
  EXPECT_EQ(w->jobs.front().submit, 0);
  EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), "default");
  // openb-pod-0001: 6 cores, 12 GiB, 46% of one GPU, scheduled at creation, deleted at the end.
  bool found = false;
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    if (w->names.vec()[i] != "openb-pod-0001") continue;
    found = true;
    const Job& j = w->jobs.vec()[i];
    EXPECT_EQ(j.cpu_milli, 6000);
    EXPECT_EQ(j.mem_mib, 12288);
    EXPECT_EQ(j.num_gpus, 1u);
    EXPECT_EQ(j.gpu_milli, 460);
    EXPECT_EQ(j.submit, Seconds(427061));
    EXPECT_DOUBLE_EQ(j.work, 12902960.0 - 427061.0);
  }
  EXPECT_TRUE(found);
}

TEST(OpenbImport, EveryPodFileParses) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& e : fs::directory_iterator(TracePath("alibaba-gpu-v2023-openb/csv"))) {
    std::string name = e.path().filename().string();
    if (name.find("openb_pod_list_") != 0) continue;
    ++files;
    ImportReport report;
    auto w = ImportWorkload(e.path().string(), "", BuiltinCatalog(), {}, &report);
    ASSERT_TRUE(w.ok()) << name << ": " << w.status().message();
    EXPECT_GT(w->jobs.size(), 7000u) << name;
    EXPECT_EQ(report.skipped, 0u);
    if (name.find("multigpu") != std::string::npos) {
      // Only the first 5 columns: no times.
      for (const Job& j : w->jobs) {
        ASSERT_EQ(j.submit, 0) << name;
        ASSERT_EQ(j.work, 0) << name;
      }
    }
    if (name.find("gpuspec33") != std::string::npos) {
      size_t constrained = 0;
      for (const Job& j : w->jobs) constrained += j.models != 0;
      EXPECT_GT(constrained, 1000u);
    }
  }
  EXPECT_EQ(files, 24);
}

TEST(OpenbImport, GpuSpecBecomesModelMask) {
  auto w = ParseText("openb",
                     std::string(kPodHeader) +
                         "p0,1000,1024,1,1000,V100M16|V100M32,LS,Running,5,100,10\n"
                         "p1,1000,1024,2,1000,G2,LS,Running,6,,\n"
                         "p2,1000,1024,0,0,,BE,Running,7,9,8\n",
                     "pods.csv");
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 3u);
  EXPECT_EQ(w->jobs[JobId{0}].models, Bit("V100M16") | Bit("V100M32"));
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 90);
  EXPECT_EQ(w->jobs[JobId{0}].submit, Seconds(5));
  EXPECT_EQ(w->jobs[JobId{1}].models, Bit("G2"));
  EXPECT_EQ(w->jobs[JobId{1}].work, 0);  // pending: no scheduled or deletion time
  EXPECT_EQ(w->jobs[JobId{2}].num_gpus, 0u);
  EXPECT_EQ(w->jobs[JobId{2}].gpu_milli, kWholeDevice);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{2}].work, 1);
}

TEST(OpenbImport, MalformedRowsNameFileLineAndField) {
  struct Case {
    std::string row;
    std::string message;
  };
  const Case cases[] = {
      {"p,1000,1024,x,1000,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'num_gpu' (column 4): expected an integer >= 0, got "
       "'x'"},
      {"p,1000,1024,-1,1000,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'num_gpu' (column 4): expected an integer >= 0, got "
       "'-1'"},
      {"p,1000,1024,1,0,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'gpu_milli' (column 5): expected an integer between "
       "1 "
       "and 1000, got '0'"},
      {"p,1000,1024,1,1001,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'gpu_milli' (column 5): expected an integer between "
       "1 "
       "and 1000, got '1001'"},
      {"p,1000,1024,2,500,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'gpu_milli' (column 5): expected 1000 when num_gpu "
       "> 1 "
       "(only one GPU may be shared), got '500'"},
      {"p,1000,1024,1,1000,A100|X9,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'gpu_spec' (column 6): unknown GPU type 'X9'"},
      {"p,1000,1024,1,1000,,LS,Running,0,5,9",
       "openb_pod_list_default.csv.gz:3: field 'deletion_time' (column 10): expected a time >= "
       "scheduled_time (9), got '5'"},
      {"p,1000,1024,1,1000,,LS,Running,-3,5,4",
       "openb_pod_list_default.csv.gz:3: field 'creation_time' (column 9): expected a number >= 0, "
       "got '-3'"},
      {"p,abc,1024,1,1000,,LS,Running,0,1,0",
       "openb_pod_list_default.csv.gz:3: field 'cpu_milli' (column 2): expected an integer >= 0, "
       "got 'abc'"},
      {"p,1000",
       "openb_pod_list_default.csv.gz:3: field 'memory_mib' (column 3): missing, the row has only "
       "2 fields"},
  };
  for (const auto& c : cases) {
    auto w = ParseText("openb", std::string(kPodHeader) + "ok,1000,1024,1,1000,,LS,Running,0,1,0\n" + c.row + "\n",
                       "openb_pod_list_default.csv.gz");
    ASSERT_FALSE(w.ok()) << c.row;
    EXPECT_EQ(w.status().message(), c.message);
    EXPECT_EQ(w.status().code(), StatusCode::kParseError);
  }
}

TEST(OpenbImport, SkipInvalidCountsAndKeepsMessages) {
  std::string text = std::string(kPodHeader) +
                     "a,1000,1024,1,1000,,LS,Running,0,1,0\n"
                     "b,1000,1024,x,1000,,LS,Running,0,1,0\n"
                     "c,1000,1024,1,2000,,LS,Running,0,1,0\n"
                     "\n"
                     "d,1000,1024,1,500,,LS,Running,3,4,3\n"
                     "e,1000,1024,1,500,Z1,LS,Running,3,4,3\n";
  ImportOptions opts;
  opts.skip_invalid = true;
  opts.max_reported_errors = 2;
  ImportReport report;
  auto w = ParseText("openb", text, "pods.csv", opts, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(report.rows, 5u);
  EXPECT_EQ(report.imported, 2u);
  EXPECT_EQ(report.skipped, 3u);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_THAT(report.errors[0], HasSubstr("pods.csv:3: field 'num_gpu'"));
  EXPECT_THAT(report.errors[1], HasSubstr("pods.csv:4: field 'gpu_milli'"));
  EXPECT_EQ(w->names[JobId{0}], "a");
  EXPECT_EQ(w->names[JobId{1}], "d");
  EXPECT_THAT(report.Summary(), HasSubstr("2 jobs imported"));
  // Without skip_invalid the first bad row stops the import.
  auto strict = ParseText("openb", text, "pods.csv");
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(strict.status().message(), HasSubstr("pods.csv:3:"));
}

TEST(OpenbImport, MissingColumnIsAnError) {
  auto w = ParseText("openb", "name,cpu_milli,memory_mib,gpu_milli\np,1,1,1\n", "x.csv");
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("x.csv:1: header: missing column 'num_gpu'"));
}

TEST(OpenbImport, TruncatedGzipIsAnError) {
  std::string src = TracePath("alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz");
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  std::string path = ::testing::TempDir() + "/truncated_openb_pod_list.csv.gz";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  ImportOptions opts;
  opts.skip_invalid = true;  // a broken file is never a skippable row
  auto w = ImportWorkload(path, "openb", BuiltinCatalog(), opts, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("truncated_openb_pod_list.csv.gz"));
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------
// openb nodes

TEST(OpenbNodesImport, GpuNodeListMatchesPublishedCounts) {
  auto n =
      ImportCluster(TracePath("alibaba-gpu-v2023-openb/csv/openb_node_list_gpu_node.csv.gz"), "", BuiltinCatalog(), {});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->nodes.size(), 1213u);
  EXPECT_EQ(n->TotalDevices(), 6212);
  ASSERT_EQ(n->centers.size(), 1u);
  EXPECT_EQ(n->centers[CenterId{0}].name, "openb_node_list_gpu_node");
  const auto& cat = BuiltinCatalog();
  EXPECT_EQ(n->TotalDevices(*cat.Find("G2")), 4392);
  EXPECT_EQ(n->TotalDevices(*cat.Find("T4")), 842);
  EXPECT_EQ(n->TotalDevices(*cat.Find("G3")), 312);
  EXPECT_EQ(n->TotalDevices(*cat.Find("P100")), 265);
  EXPECT_EQ(n->TotalDevices(*cat.Find("V100M32")), 204);
  EXPECT_EQ(n->TotalDevices(*cat.Find("V100M16")), 195);
  EXPECT_EQ(n->TotalDevices(*cat.Find("A10")), 2);
  EXPECT_EQ(n->pools.size(), 7u);
  // 8 consecutive nodes per rack, 8 racks per pod.
  EXPECT_EQ(n->num_racks, (1213u + 7) / 8);
  EXPECT_EQ(n->num_pods, (n->num_racks + 7) / 8);
  EXPECT_EQ(n->nodes[NodeId{9}].rack, 1u);
  EXPECT_EQ(n->nodes[NodeId{70}].pod, 1u);
  EXPECT_TRUE(n->Validate(cat).ok());
}

TEST(OpenbNodesImport, AllNodesIncludeCpuOnlyNodes) {
  auto n = ImportCluster(TracePath("alibaba-gpu-v2023-openb/csv/openb_node_list_all_node.csv.gz"), "openb-nodes",
                         BuiltinCatalog(), {});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->nodes.size(), 1523u);
  EXPECT_EQ(n->TotalDevices(), 6212);
  size_t cpu_only = 0;
  for (const Node& node : n->nodes) {
    if (node.devices == 0) {
      ++cpu_only;
      EXPECT_EQ(node.model, kNoModel);
    }
  }
  EXPECT_EQ(cpu_only, 310u);
  EXPECT_EQ(n->pools.size(), 8u);
}

TEST(OpenbNodesImport, BadRows) {
  const std::string header = "sn,cpu_milli,memory_mib,gpu,model\n";
  auto bad_model = ParseClusterText("openb-nodes", header + "n0,1000,1024,8,X100\n", "nodes.csv");
  ASSERT_FALSE(bad_model.ok());
  EXPECT_EQ(bad_model.status().message(),
            "nodes.csv:2: field 'model' (column 5): expected a GPU type known to the catalog, got "
            "'X100'");
  auto too_many = ParseClusterText("openb-nodes", header + "n0,1000,1024,33,T4\n", "nodes.csv");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().message(),
            "nodes.csv:2: field 'gpu' (column 4): expected an integer between 0 and 32, got '33'");
  auto no_cpu = ParseClusterText("openb-nodes", header + "n0,0,1024,1,T4\n", "nodes.csv");
  ASSERT_FALSE(no_cpu.ok());
  EXPECT_THAT(no_cpu.status().message(), HasSubstr("field 'cpu_milli' (column 2)"));
  ImportOptions skip;
  skip.skip_invalid = true;
  auto skipped = ParseClusterText("openb-nodes", header + "n0,1000,1024,33,T4\nn1,1000,1024,1,T4\n", "nodes.csv", skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status().message();
  EXPECT_EQ(skipped->nodes.size(), 1u);
  auto empty = ParseClusterText("openb-nodes", header, "nodes.csv");
  EXPECT_FALSE(empty.ok());  // a network needs nodes
}

// ---------------------------------------------------------------------------
// PAI 2020

// Rows built from headers/pai_task_table.header:
// job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type
const char kPaiTasks[] =
    "j1,worker,2.0,Terminated,1000050,1000400,600.0,29.296875,50.0,V100\n"
    "j1,ps,1.0,Terminated,1000100,1000300,200.0,10.0,,\n"
    "j2,worker,1.0,Terminated,1000200,1001200,800.0,32.0,100.0,T4\n"
    "j3,worker,1.0,Waiting,,,600.0,10.0,100.0,P100\n"
    "j4,tensorflow,3.0,Running,1000500,,600.0,10.0,100.0,\n"
    "j5,worker,1.0,Terminated,1000300,1000360,400.0,8.0,50.0,\n"
    "j6,worker,3.0,Failed,1000600,1000700,400.0,8.0,50.0,MISC\n"
    "j7,OssToVolumeWorker,1.0,Terminated,1000010,1000011,50.0,0.5,,\n";

TEST(PaiImport, TasksAggregateIntoJobs) {
  ImportReport report;
  auto w = ParseText("pai", kPaiTasks, "pai_task_table.csv", {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.rows, 8u);
  EXPECT_EQ(report.imported, 5u);
  EXPECT_EQ(report.ignored, 2u);  // j3 never started, j4 has no finished task
  ASSERT_EQ(w->jobs.size(), 5u);
  auto job = [&](std::string_view name) -> const Job& {
    for (size_t i = 0; i < w->jobs.size(); ++i)
      if (w->names.vec()[i] == name) return w->jobs.vec()[i];
    ADD_FAILURE() << name;
    return w->jobs[JobId{0}];
  };
  // Earliest start (j7 at 1000010) becomes 0.
  EXPECT_EQ(job("j7").submit, 0);
  EXPECT_EQ(job("j7").num_gpus, 0u);
  const Job& j1 = job("j1");
  EXPECT_EQ(j1.num_gpus, 1u);  // 2 instances x 50% = one whole GPU
  EXPECT_EQ(j1.gpu_milli, kWholeDevice);
  EXPECT_EQ(j1.cpu_milli, 14000);  // 2 x 6 + 1 x 2 cores
  EXPECT_EQ(j1.mem_mib, std::llround((2 * 29.296875 + 10) * 1024));
  EXPECT_EQ(j1.submit, Seconds(40));
  EXPECT_DOUBLE_EQ(j1.work, 350);
  EXPECT_EQ(j1.models, Bit("V100"));
  EXPECT_EQ(job("j2").models, Bit("T4"));
  EXPECT_DOUBLE_EQ(job("j2").work, 1000);
  const Job& j5 = job("j5");
  EXPECT_TRUE(j5.IsShared());
  EXPECT_EQ(j5.gpu_milli, 500);
  EXPECT_EQ(j5.models, 0u);
  EXPECT_EQ(job("j6").num_gpus, 2u);  // 1.5 GPUs in total, rounded up
  EXPECT_EQ(job("j6").models, Bit("MISC"));
  EXPECT_EQ(w->users.Name(j1.user), "default");
}

TEST(PaiImport, JoinsUserFromJobTableBeside) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / ("pai_join_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream(dir / "pai_task_table.csv") << kPaiTasks;
    std::ofstream(dir / "pai_job_table.csv") << "j1,inst1,alice,Terminated,1000000,1000400\n"
                                                "j2,inst2,bob,Terminated,1000100,1001200\n";
  }
  auto w = ImportWorkload((dir / "pai_task_table.csv").string(), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::map<std::string, std::string> users;
  for (size_t i = 0; i < w->jobs.size(); ++i) users[w->names.vec()[i]] = w->users.Name(w->jobs.vec()[i].user);
  EXPECT_EQ(users["j1"], "alice");
  EXPECT_EQ(users["j2"], "bob");
  EXPECT_EQ(users["j5"], "default");
  fs::remove_all(dir);
}

TEST(PaiImport, BadRows) {
  auto bad_gpu = ParseText("pai", "j1,w,1,Terminated,0,10,600,2,abc,\n", "pai_task_table.csv");
  ASSERT_FALSE(bad_gpu.ok());
  EXPECT_EQ(bad_gpu.status().message(),
            "pai_task_table.csv:1: field 'plan_gpu' (column 9): expected a number >= 0, got 'abc'");
  auto negative = ParseText("pai", "j1,w,1,Terminated,50,10,600,2,100,\n", "pai_task_table.csv");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(),
            "pai_task_table.csv:1: field 'end_time' (column 6): expected a time >= start_time "
            "(50), got '10'");
  auto unknown = ParseText("pai", "j1,w,1,Terminated,0,10,600,2,100,Z80\n", "pai_task_table.csv");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "pai_task_table.csv:1: field 'gpu_type' (column 10): unknown GPU type 'Z80'");
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseText("pai", std::string("j0,w,1,Terminated,0,10,600,2,100,Z80\n") + kPaiTasks, "pai_task_table.csv",
                     skip, &report);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(w->jobs.size(), 5u);
}

TEST(PaiMachinesImport, MachineSpecMatchesPublishedCounts) {
  auto n = ImportCluster(TracePath("alibaba-pai-gpu-v2020/pai_machine_spec.csv.gz"), "", BuiltinCatalog(), {});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->nodes.size(), 1897u);
  EXPECT_EQ(n->TotalDevices(), 6742);
  const auto& cat = BuiltinCatalog();
  EXPECT_EQ(n->TotalDevices(*cat.Find("P100")), 1596);
  EXPECT_EQ(n->TotalDevices(*cat.Find("T4")), 994);
  EXPECT_EQ(n->TotalDevices(*cat.Find("MISC")), 2240);
  EXPECT_EQ(n->TotalDevices(*cat.Find("V100M32")), 1080);
  EXPECT_EQ(n->TotalDevices(*cat.Find("V100")), 832);
  size_t cpu = 0;
  for (const Node& node : n->nodes) cpu += node.devices == 0;
  EXPECT_EQ(cpu, 83u);
  EXPECT_EQ(n->nodes[NodeId{0}].cpu_milli, 96000);
  EXPECT_EQ(n->nodes[NodeId{0}].mem_mib, 512 * 1024);
  auto bad = ParseClusterText("pai-machines", "m1,Z80,96,512,8\n", "pai_machine_spec.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "pai_machine_spec.csv:1: field 'gpu_type' (column 2): expected a GPU type known to the "
            "catalog, got 'Z80'");
}

// ---------------------------------------------------------------------------
// DLRM 2025

TEST(DlrmImport, LongRunningInstancesWithBothTimes) {
  ImportReport report;
  auto w = ImportWorkload(TracePath("alibaba-gpu-v2025-dlrm/disaggregated_DLRM_trace.csv.gz"), "", BuiltinCatalog(), {},
                          &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.rows, 23871u);
  EXPECT_EQ(report.imported, 12390u);
  EXPECT_EQ(report.ignored, 23871u - 12390u);
  EXPECT_EQ(w->jobs.size(), 12390u);
  EXPECT_EQ(w->tenants.size(), 151u);  // services with at least one imported instance
  size_t gpu = 0;
  for (const Job& j : w->jobs) {
    gpu += j.num_gpus;
    EXPECT_GE(j.work, 0);
    EXPECT_GT(j.cpu_milli, 0);
  }
  EXPECT_EQ(gpu, 3218u);
  // Trace-relative times are kept (not shifted).
  EXPECT_EQ(w->jobs.front().submit, SecondsF(475.00000000000006));
}

// The rule the importer documents: 64-bit FNV-1a of the app name, modulo 6.
std::string ExpectedDlrmRegion(const std::string& app) {
  static const char* kRegions[] = {"north", "east", "south", "central", "southwest", "northwest"};
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : app) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return kRegions[h % 6];
}

// Every instance is one replica of an inference service: service, a user region
// that is the same for all replicas of an app, and the assumed 50 ms bound.
TEST(DlrmImport, InstancesAreServiceReplicasInARegion) {
  auto w = ImportWorkload(TracePath("alibaba-gpu-v2025-dlrm/disaggregated_DLRM_trace.csv.gz"), "", BuiltinCatalog(), {},
                          nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::map<TenantId, uint16_t> region_of_app;
  std::map<std::string, size_t> by_region;
  for (const Job& j : w->jobs) {
    ASSERT_TRUE(j.service) << w->JobName(j.id);
    EXPECT_EQ(j.latency_ms, 50.0f);
    ASSERT_NE(j.region, kNoPlace);
    ASSERT_LT(j.region, w->places.size());
    const std::string& app = w->tenants.Name(j.tenant);
    EXPECT_EQ(w->places.Name(j.region), ExpectedDlrmRegion(app)) << app;
    auto [it, fresh] = region_of_app.emplace(j.tenant, j.region);
    EXPECT_EQ(it->second, j.region) << app;
    ++by_region[w->places.Name(j.region)];
    EXPECT_EQ(j.home, kNoPlace);
    EXPECT_EQ(j.deadline, kNever);
  }
  // 151 apps spread over all six regions; only region names are in the places.
  EXPECT_EQ(by_region.size(), 6u);
  EXPECT_EQ(w->places.size(), 6u);
  for (const auto& [region, n] : by_region) EXPECT_GT(n, 100u) << region;
}

TEST(DlrmImport, BadRow) {
  const std::string header =
      "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_"
      "limit,"
      "memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,"
      "scheduled_time,deletion_time\n";
  auto w = ParseText("dlrm", header + "i,HN,app,12,12,1,1,25,25,120.0,120.0,640,800,8,100,110,50\n", "dlrm.csv");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(),
            "dlrm.csv:2: field 'deletion_time' (column 17): expected a time >= creation_time "
            "(100), got '50'");
  auto frac = ParseText("dlrm", header + "i,HN,app,12,12,1.5,1,25,25,120.0,120.0,640,800,8,100,110,150\n", "dlrm.csv");
  ASSERT_FALSE(frac.ok());
  EXPECT_THAT(frac.status().message(), HasSubstr("field 'gpu_request' (column 6)"));
  auto share =
      ParseText("dlrm", header + "i,HN,app,12,12,0.25,1,25,25,120.0,120.0,640,800,8,100,110,150\n", "dlrm.csv");
  ASSERT_TRUE(share.ok());
  EXPECT_EQ(share->jobs[JobId{0}].gpu_milli, 250);
  EXPECT_EQ(share->jobs[JobId{0}].mem_mib, 120 * 1024);
  EXPECT_EQ(share->tenants.Name(share->jobs[JobId{0}].tenant), "app");
  EXPECT_TRUE(share->jobs[JobId{0}].service);
  EXPECT_EQ(share->places.Name(share->jobs[JobId{0}].region), ExpectedDlrmRegion("app"));
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto skipped = ParseText("dlrm",
                           header + "i0,HN,app,12,12,1,1,25,25,120.0,120.0,640,800,8,100,110,50\n" +
                               "i1,CN,app,12,12,0,0,25,25,120.0,120.0,640,800,8,,110,50\n" +
                               "i2,HN,app,12,12,1,1,25,25,120.0,120.0,640,800,8,100,110,150\n",
                           "dlrm.csv", skip, &report);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->jobs.size(), 1u);
  EXPECT_EQ(report.rows, 3u);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(report.ignored, 1u);  // no creation time
  EXPECT_THAT(report.errors.at(0), HasSubstr("dlrm.csv:2: field 'deletion_time'"));
}

// ---------------------------------------------------------------------------
// Spot nodes 2026

TEST(SpotNodesImport, NodeTableMatchesPublishedCounts) {
  auto n = ImportCluster(TracePath("alibaba-spot-gpu-v2026/node_info_df.csv.gz"), "", BuiltinCatalog(), {});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->nodes.size(), 4278u);
  EXPECT_EQ(n->TotalDevices(), 10412);
  const auto& cat = BuiltinCatalog();
  EXPECT_EQ(n->TotalDevices(*cat.Find("A100-SXM4-80GB")), 3456);
  EXPECT_EQ(n->TotalDevices(*cat.Find("A10")), 2494);
  EXPECT_EQ(n->TotalDevices(*cat.Find("H800")), 1752);
  EXPECT_EQ(n->TotalDevices(*cat.Find("A800")), 176);
  size_t by[33] = {};
  for (const Node& node : n->nodes) ++by[node.devices];
  EXPECT_EQ(by[1], 3396u);
  EXPECT_EQ(by[4], 10u);
  EXPECT_EQ(by[8], 872u);
  auto bad = ParseClusterText("spot-nodes", "gpu_model,gpu_capacity_num,cpu_num,node_name\nB200,8,128,1\n",
                              "node_info_df.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "node_info_df.csv:2: field 'gpu_model' (column 1): expected a GPU type known to the "
            "catalog, got 'B200'");
}

}  // namespace
}  // namespace suanli
