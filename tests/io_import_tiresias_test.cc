// Tiresias jobs and cluster specs, Synergy replay traces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

std::string TracePath(const std::string& rel) { return std::string(SUANLI_SOURCE_DIR) + "/data/traces/" + rel; }

Result<Workload> ParseText(std::string_view format, std::string text, std::string name, const ImportOptions& opts = {},
                           ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), std::move(name));
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat(format)->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

TEST(TiresiasImport, SixtyJobTrace) {
  ImportReport report;
  auto w = ImportWorkload(TracePath("tiresias/60_job.csv.gz"), "", BuiltinCatalog(), {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 60u);
  EXPECT_EQ(report.imported, 60u);
  size_t by_gpus[9] = {};
  double total = 0;
  for (const Job& j : w->jobs) {
    ASSERT_LE(j.num_gpus, 8u);
    ++by_gpus[j.num_gpus];
    total += j.work;
    EXPECT_EQ(j.cls, WorkloadClass::kCnn);  // TF-benchmark CNNs only
    EXPECT_EQ(j.models, 0u);
  }
  EXPECT_EQ(by_gpus[1], 30u);
  EXPECT_EQ(by_gpus[2], 10u);
  EXPECT_EQ(by_gpus[4], 10u);
  EXPECT_EQ(by_gpus[8], 10u);
  EXPECT_DOUBLE_EQ(total, 10705);
  // First row: job 0, 1 GPU, submitted at 0, vgg19, 164 s.
  EXPECT_EQ(w->names[JobId{0}], "0");
  EXPECT_EQ(w->jobs[JobId{0}].submit, 0);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 164);
  EXPECT_EQ(w->jobs[JobId{1}].submit, Seconds(30));
  EXPECT_EQ(w->jobs[JobId{1}].num_gpus, 8u);
}

TEST(TiresiasImport, TfJobLayout) {
  auto w = ImportWorkload(TracePath("tiresias/tf_job.csv.gz"), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(w->jobs[JobId{0}].num_gpus, 12u);
  EXPECT_EQ(w->jobs[JobId{0}].submit, Seconds(11));
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 20);
}

TEST(TiresiasImport, DefaultModelConstrainsJobs) {
  ImportOptions opts;
  opts.default_model = "V100M32";
  auto w = ImportWorkload(TracePath("tiresias/60_job.csv.gz"), "tiresias", BuiltinCatalog(), opts, nullptr);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->jobs[JobId{0}].models, ModelMask{1} << *BuiltinCatalog().Find("V100M32"));
  opts.default_model = "NoSuchGPU";
  auto bad = ImportWorkload(TracePath("tiresias/60_job.csv.gz"), "tiresias", BuiltinCatalog(), opts, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("NoSuchGPU"));
}

TEST(TiresiasImport, BadRows) {
  const std::string header = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n";
  auto neg = ParseText("tiresias", header + "0,1,0,606,vgg19,-164,30\n", "60_job.csv");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().message(), "60_job.csv:2: field 'duration' (column 6): expected a number >= 0, got '-164'");
  auto gpus = ParseText("tiresias", header + "0,1,0,606,vgg19,164,30\n1,two,0,1,vgg11,1,1\n", "60_job.csv");
  ASSERT_FALSE(gpus.ok());
  EXPECT_EQ(gpus.status().message(), "60_job.csv:3: field 'num_gpu' (column 2): expected an integer >= 0, got 'two'");
  auto header_only = ParseText("tiresias", "job_id,num_gpu\n", "x.csv");
  ASSERT_FALSE(header_only.ok());
  EXPECT_THAT(header_only.status().message(), HasSubstr("missing column 'submit_time'"));
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseText("tiresias", header + "0,1,0,606,vgg19,-164,30\n1,2,5,1,vgg11,10,1\n", "60_job.csv", skip, &report);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(report.skipped, 1u);
}

TEST(TiresiasClusterImport, SwitchesBecomeRacks) {
  auto n = ImportCluster(TracePath("tiresias/n160g8.csv.gz"), "", BuiltinCatalog(), {});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->nodes.size(), 160u);
  EXPECT_EQ(n->TotalDevices(), 1280);
  EXPECT_EQ(n->num_racks, 5u);
  EXPECT_EQ(n->num_pods, 1u);
  EXPECT_EQ(n->nodes[NodeId{31}].rack, 0u);
  EXPECT_EQ(n->nodes[NodeId{32}].rack, 1u);
  EXPECT_EQ(n->nodes[NodeId{0}].cpu_milli, 128000);
  EXPECT_EQ(n->nodes[NodeId{0}].mem_mib, 256 * 1024);
  EXPECT_EQ(n->nodes[NodeId{0}].model, *BuiltinCatalog().Find("V100-16GB"));
  auto one = ImportCluster(TracePath("tiresias/n1g4.csv.gz"), "tiresias-cluster", BuiltinCatalog(), {});
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->nodes.size(), 1u);
  ImportOptions opts;
  opts.default_model = "A100";
  auto spec = ImportCluster(TracePath("tiresias/cluster_spec.csv.gz"), "", BuiltinCatalog(), opts);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->TotalDevices(*BuiltinCatalog().Find("A100")), 64);
  EXPECT_EQ(spec->nodes[NodeId{0}].mem_mib, 254 * 1024);
  auto big = ImportCluster(TracePath("tiresias/n256g8.csv.gz"), "tiresias-cluster", BuiltinCatalog(), {});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->nodes.size(), 256u);
  EXPECT_EQ(big->num_racks, 8u);
}

TEST(TiresiasClusterImport, BadSpec) {
  auto reader = LineReader::FromString(
      "num_switch,num_node_p_switch,num_gpu_p_node,num_cpu_p_node,mem_p_node\n1,16,64,128,254\n", "spec.csv");
  Network n;
  Status st = FindClusterFormat("tiresias-cluster")->parse(*reader, BuiltinCatalog(), {}, &n);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "spec.csv:2: field 'num_gpu_p_node' (column 3): expected an integer between 0 and 32, "
            "got '64'");
}

TEST(SynergyImport, ReplayTraces) {
  ImportReport report;
  auto w = ImportWorkload(TracePath("synergy/test_trace.csv.gz"), "synergy", BuiltinCatalog(), {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 8u);
  // 0,alexnet,.123,3349,4: alexnet runs 0.6 s per iteration at its fair share.
  EXPECT_EQ(w->names[JobId{0}], "0");
  EXPECT_EQ(w->jobs[JobId{0}].submit, SecondsF(0.123));
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 3349 * 0.6);
  EXPECT_EQ(w->jobs[JobId{0}].num_gpus, 4u);
  EXPECT_EQ(w->jobs[JobId{0}].cls, WorkloadClass::kCnn);
  EXPECT_EQ(w->jobs[JobId{0}].cpu_milli, 12000);
  EXPECT_EQ(w->jobs[JobId{0}].mem_mib, 4 * 64000);
  // 1,gnmt,.286,26435,1 at 0.12 s per iteration; 4,lstm,.464,184737,4 at 0.011.
  EXPECT_DOUBLE_EQ(w->jobs[JobId{1}].work, 26435 * 0.12);
  EXPECT_EQ(w->jobs[JobId{2}].cls, WorkloadClass::kTransformer);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{2}].work, 13451 * 0.67);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{4}].work, 184737 * 0.011);
  auto big = ImportWorkload(TracePath("synergy/static_100job_6_3_1100.0.csv.gz"), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_EQ(big->jobs.size(), 100u);
  for (const Job& j : big->jobs) EXPECT_EQ(j.num_gpus, 1u);
}

TEST(SynergyImport, BadRows) {
  auto fields = ParseText("synergy", "0,alexnet,0.1,100\n", "trace");
  ASSERT_FALSE(fields.ok());
  EXPECT_EQ(fields.status().message(),
            "trace:1: expected 5 fields (job_id, model_name, arrival_time, num_iters, gpu_demand), "
            "got 4");
  auto gpus = ParseText("synergy", "0,alexnet,0.1,100,0\n", "trace");
  ASSERT_FALSE(gpus.ok());
  EXPECT_EQ(gpus.status().message(), "trace:1: field 'gpu_demand' (column 5): expected an integer >= 1, got '0'");
  auto iters = ParseText("synergy", "0,alexnet,0.1,-100,1\n", "trace");
  ASSERT_FALSE(iters.ok());
  EXPECT_EQ(iters.status().message(), "trace:1: field 'num_iters' (column 4): expected an integer >= 0, got '-100'");
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto skipped = ParseText("synergy", "0,alexnet,0.1,100,0\n1,res50,0.2,10,2\n2,lstm,x,10,2\n", "trace", skip, &report);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->jobs.size(), 1u);
  EXPECT_EQ(report.rows, 3u);
  EXPECT_EQ(report.skipped, 2u);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[1], "trace:3: field 'arrival_time' (column 3): expected a number >= 0, got 'x'");
  // Unknown model names run as alexnet, as in Synergy's model zoo.
  auto unknown = ParseText("synergy", "0,vgg99,0.1,100,1\n", "trace");
  ASSERT_TRUE(unknown.ok());
  EXPECT_DOUBLE_EQ(unknown->jobs[JobId{0}].work, 60);
}

}  // namespace
}  // namespace suanli
