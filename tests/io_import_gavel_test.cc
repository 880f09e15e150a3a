// Gavel importer: per-VC traces with measured throughputs as speed overrides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

std::string TracePath(const std::string& rel) { return std::string(SUANLI_SOURCE_DIR) + "/data/traces/" + rel; }

// A small throughputs file: ResNet-18 runs everywhere, Transformer not on k80.
const char kThroughputs[] = R"json({
  "v100": {"('ResNet-18 (batch size 64)', 1)": {"null": 10.0, "('A3C', 1)": [1, 2]},
           "('ResNet-18 (batch size 64)', 4)": {"null": 32.0},
           "('Transformer (batch size 128)', 1)": {"null": 5.0}},
  "p100": {"('ResNet-18 (batch size 64)', 1)": {"null": 5.0},
           "('ResNet-18 (batch size 64)', 4)": {"null": 16.0},
           "('Transformer (batch size 128)', 1)": {"null": 2.5}},
  "k80": {"('ResNet-18 (batch size 64)', 1)": {"null": 2.0},
          "('ResNet-18 (batch size 64)', 4)": {"null": 6.0},
          "('Transformer (batch size 128)', 1)": {"null": 0.0}},
  "v100_unconsolidated": {"('ResNet-18 (batch size 64)', 4)": {"null": 20.0}}
})json";

Result<Workload> ParseGavelText(std::string text, std::string name, const ImportOptions& base = {},
                                ImportReport* report = nullptr) {
  ImportOptions opts = base;
  if (opts.throughputs_data.empty() && opts.throughputs_path.empty()) opts.throughputs_data = kThroughputs;
  auto reader = LineReader::FromString(std::move(text), std::move(name));
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat("gavel")->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

std::string MsrRow(std::string_view type, int steps, double arrival, int scale) {
  return fmt::format("{}\tpython3 train.py --x %s\t-n\t1\t{}\t{:.6f}\t{}\n", type, steps, arrival, scale);
}

TEST(GavelImport, SeedZeroVcCounts) {
  // Rows per VC in msr/seed=0, and how many of them name a (job type, scale
  // factor) that simulation_throughputs.json does not measure (scale factors
  // above 8, or multi-GPU A3C / CycleGAN / Recommendation): those import with
  // run times scaled linearly from the 1-GPU throughput, and are counted.
  const std::map<std::string, std::pair<size_t, size_t>> expected = {
      {"0e4a51", {1181, 197}}, {"103959", {986, 125}}, {"11cb48", {2000, 181}}, {"23dbec", {9, 1}},
      {"2869ce", {533, 179}},  {"51b7ef", {18, 1}},    {"6214e9", {2000, 15}},  {"6c71a0", {2000, 63}},
      {"795a4c", {3, 0}},      {"7f04ca", {972, 183}}, {"925e2b", {4, 1}},      {"b436b2", {2000, 126}},
      {"e13805", {607, 103}},  {"ed69ec", {951, 0}},   {"ee9e8c", {2000, 373}},
  };
  ImportOptions opts;
  opts.skip_invalid = true;
  size_t rows = 0, jobs = 0;
  for (const auto& [vc, counts] : expected) {
    ImportReport report;
    auto w = ImportWorkload(TracePath("gavel-philly-vc/msr/seed=0/" + vc + ".trace.gz"), "", BuiltinCatalog(), opts,
                            &report);
    ASSERT_TRUE(w.ok()) << vc << ": " << w.status().message();
    EXPECT_EQ(report.rows, counts.first) << vc;
    EXPECT_EQ(report.skipped, 0u) << vc;
    EXPECT_EQ(report.assumed, counts.second) << vc;
    EXPECT_EQ(w->jobs.size(), counts.first) << vc;
    ASSERT_FALSE(w->jobs.empty());
    EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), vc);
    EXPECT_EQ(w->overrides.size(), w->jobs.size());
    rows += report.rows;
    jobs += w->jobs.size();
  }
  EXPECT_EQ(rows, 15264u);
  EXPECT_EQ(jobs, 15264u);  // 1,548 of them with an assumed multi-GPU throughput
}

TEST(GavelImport, FullyMeasuredVcImportsStrictly) {
  auto w =
      ImportWorkload(TracePath("gavel-philly-vc/msr/seed=0/ed69ec.trace.gz"), "gavel", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 951u);
  for (size_t i = 1; i < w->jobs.size(); ++i) ASSERT_LE(w->jobs.vec()[i - 1].submit, w->jobs.vec()[i].submit);
}

TEST(GavelImport, RunTimesComeFromMeasuredThroughputs) {
  // 795a4c: three single-GPU jobs; the first is Transformer (batch size 128), 79,561 steps at 0 s.
  auto w = ImportWorkload(TracePath("gavel-philly-vc/msr/seed=0/795a4c.trace.gz"), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 3u);
  const auto& cat = BuiltinCatalog();
  const Job& j = w->jobs[JobId{0}];
  EXPECT_EQ(j.submit, 0);
  EXPECT_EQ(j.num_gpus, 1u);
  EXPECT_EQ(j.cls, WorkloadClass::kTransformer);
  ModelId v100 = *cat.Find("v100"), p100 = *cat.Find("p100"), k80 = *cat.Find("k80");
  // Measured steps/s: v100 5.446, p100 3.074, k80 0.982.
  EXPECT_NEAR(ToSeconds(RunTime(j, j.work, v100, cat, *w)), 79561 / 5.44610521981264, 1e-3);
  EXPECT_NEAR(ToSeconds(RunTime(j, j.work, p100, cat, *w)), 79561 / 3.0735350560514787, 1e-3);
  EXPECT_NEAR(ToSeconds(RunTime(j, j.work, k80, cat, *w)), 79561 / 0.9815827061299781, 1e-3);
  // work = fastest run time x that model's catalog speed, so Speed() there is the catalog's.
  EXPECT_NEAR(Speed(j, v100, cat, *w), cat.model(v100).speed[static_cast<int>(WorkloadClass::kTransformer)], 1e-9);
  // Models that are not measured cannot run the job.
  ModelId a100 = *cat.Find("A100");
  EXPECT_EQ(Speed(j, a100, cat, *w), 0);
  EXPECT_EQ(EligibleModels(j, cat, *w), (ModelMask{1} << v100) | (ModelMask{1} << p100) | (ModelMask{1} << k80));
  EXPECT_EQ(w->jobs[JobId{1}].cls, WorkloadClass::kOther);  // Recommendation
  EXPECT_EQ(w->jobs[JobId{1}].submit, Seconds(1511));
  EXPECT_EQ(w->names[JobId{0}], "795a4c-0");
}

TEST(GavelImport, PhysicalClusterTraces) {
  const std::map<std::string, size_t> expected = {
      {"artifact_evaluation", 15}, {"debug", 14},       {"debug_v2", 14},           {"highmem_test", 8},
      {"max_min_fairness", 96},    {"medium_test", 20}, {"minimize_makespan", 100}, {"small_test", 20},
  };
  for (const auto& [name, n] : expected) {
    auto w = ImportWorkload(TracePath("gavel-philly-vc/physical_cluster/" + name + ".trace.gz"), "", BuiltinCatalog(),
                            {}, nullptr);
    ASSERT_TRUE(w.ok()) << name << ": " << w.status().message();
    EXPECT_EQ(w->jobs.size(), n) << name;
  }
}

TEST(GavelImport, ZeroThroughputMeansCannotRunThere) {
  auto w = ParseGavelText(
      MsrRow("Transformer (batch size 128)", 100, 7, 1) + MsrRow("ResNet-18 (batch size 64)", 320, 3, 4), "vc1.trace");
  ASSERT_TRUE(w.ok()) << w.status().message();
  const auto& cat = BuiltinCatalog();
  ModelId v100 = *cat.Find("v100"), p100 = *cat.Find("p100"), k80 = *cat.Find("k80");
  ASSERT_EQ(w->jobs.size(), 2u);
  const Job& resnet = w->jobs[JobId{0}];  // sorted by submit
  EXPECT_EQ(resnet.num_gpus, 4u);
  EXPECT_EQ(resnet.cls, WorkloadClass::kCnn);
  EXPECT_NEAR(ToSeconds(RunTime(resnet, resnet.work, v100, cat, *w)), 10, 1e-6);
  EXPECT_NEAR(ToSeconds(RunTime(resnet, resnet.work, p100, cat, *w)), 20, 1e-6);
  EXPECT_NEAR(ToSeconds(RunTime(resnet, resnet.work, k80, cat, *w)), 320 / 6.0, 1e-6);
  const Job& tr = w->jobs[JobId{1}];
  EXPECT_EQ(RunTime(tr, tr.work, k80, cat, *w), kNever);
  EXPECT_NEAR(ToSeconds(RunTime(tr, tr.work, p100, cat, *w)), 40, 1e-6);
  EXPECT_EQ(w->tenants.Name(tr.tenant), "vc1");
  EXPECT_EQ(w->overrides.size(), 2u);
  EXPECT_EQ(resnet.speed_override, 0u);  // overrides are numbered in job order
}

TEST(GavelImport, UnmeasuredScaleScalesTheOneGpuThroughput) {
  ImportReport r;
  auto w =
      ParseGavelText(MsrRow("ResNet-18 (batch size 64)", 1000, 0, 1) + MsrRow("ResNet-18 (batch size 64)", 1000, 5, 16),
                     "0e4a51.trace.gz", {}, &r);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(r.assumed, 1u);
  EXPECT_NE(r.Summary().find("linear scaling"), std::string::npos);
  // Same steps on 16 GPUs: 1/16 of the one-GPU run time on every model.
  const auto& one = w->overrides[w->jobs[JobId{0}].speed_override].seconds;
  const auto& sixteen = w->overrides[w->jobs[JobId{1}].speed_override].seconds;
  ASSERT_EQ(one.size(), sixteen.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(sixteen[i].second * 16, one[i].second, 1e-6);
}

TEST(GavelImport, UnknownJobTypeIsARowError) {
  auto w = ParseGavelText(MsrRow("ResNet-18 (batch size 64)", 10, 0, 1) + MsrRow("NoSuchModel", 10, 5, 4),
                          "0e4a51.trace.gz");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(),
            "0e4a51.trace.gz:2: field 'job_type' (column 1): no measured throughput for "
            "('NoSuchModel', 4) (job type, scale_factor)");
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto ok = ParseGavelText(MsrRow("ResNet-18 (batch size 64)", 10, 0, 1) + MsrRow("NoSuchModel", 10, 5, 1), "vc.trace",
                           skip, &report);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->jobs.size(), 1u);
  EXPECT_EQ(report.skipped, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_THAT(report.errors[0], HasSubstr("vc.trace:2: field 'job_type'"));
}

TEST(GavelImport, MalformedRows) {
  struct Case {
    std::string row, message;
  };
  const Case cases[] = {
      {"ResNet-18 (batch size 64)\tcmd\t-n\t1\tten\t0.0\t1",
       "t.trace:1: field 'total_steps' (column 5): expected an integer >= 1, got 'ten'"},
      {"ResNet-18 (batch size 64)\tcmd\t-n\t1\t10\t-5\t1",
       "t.trace:1: field 'arrival_time' (column 6): expected a number >= 0, got '-5'"},
      {"ResNet-18 (batch size 64)\tcmd\t-n\t1\t10\t0\t0",
       "t.trace:1: field 'scale_factor' (column 7): expected an integer >= 1, got '0'"},
      {"ResNet-18 (batch size 64)\tcmd\t-n\t1\t10",
       "t.trace:1: expected 7 (msr) or 10 (physical_cluster) tab-separated fields, got 5"},
      {"Transformer (batch size 128)\tcmd\tdir\t-step\t1\t346\t1\t1\t-1.000000\tx",
       "t.trace:1: field 'arrival_time' (column 10): expected a number >= 0, got 'x'"},
  };
  for (const auto& c : cases) {
    auto w = ParseGavelText(c.row + "\n", "t.trace");
    ASSERT_FALSE(w.ok()) << c.row;
    EXPECT_EQ(w.status().message(), c.message);
  }
}

TEST(GavelImport, ThroughputsFileErrors) {
  const auto& cat = BuiltinCatalog();
  auto bad_json = ParseGavelThroughputs("{\n\"v100\": {\n", "tp.json", cat);
  ASSERT_FALSE(bad_json.ok());
  EXPECT_THAT(bad_json.status().message(), HasSubstr("tp.json:3: not valid JSON"));
  auto unknown = ParseGavelThroughputs(R"json({"tpu9": {}})json", "tp.json", cat);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("worker type 'tpu9'"));
  auto bad_key = ParseGavelThroughputs(R"json({"v100": {"ResNet": {"null": 1}}})json", "tp.json", cat);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_THAT(bad_key.status().message(), HasSubstr("key 'ResNet'"));
  auto negative = ParseGavelThroughputs(R"json({"v100": {"('A', 1)": {"null": -1}}})json", "tp.json", cat);
  ASSERT_FALSE(negative.ok());
  auto good = ParseGavelThroughputs(kThroughputs, "tp.json", cat);
  ASSERT_TRUE(good.ok()) << good.status().message();
  const auto* rates = good->Find("ResNet-18 (batch size 64)", 4);
  ASSERT_NE(rates, nullptr);
  EXPECT_EQ(rates->size(), 3u);  // the _unconsolidated entry is ignored
  EXPECT_EQ(good->Find("ResNet-18 (batch size 64)", 2), nullptr);
}

TEST(GavelImport, BundledThroughputsLoadFromPathOrMemory) {
  const auto& cat = BuiltinCatalog();
  ImportOptions by_path;
  by_path.throughputs_path = TracePath("gavel-philly-vc/simulation_throughputs.json.gz");
  auto w = ParseGavelText(MsrRow("ResNet-50 (batch size 128)", 1000, 0, 2), "x.trace", by_path);
  ASSERT_TRUE(w.ok()) << w.status().message();
  // k80 cannot run ResNet-50 (batch size 128) at scale 2 (throughput 0).
  EXPECT_EQ(Speed(w->jobs[JobId{0}], *cat.Find("k80"), cat, *w), 0);
  EXPECT_GT(Speed(w->jobs[JobId{0}], *cat.Find("v100"), cat, *w), 0);
  ImportOptions missing;
  missing.throughputs_path = "/nonexistent/simulation_throughputs.json";
  auto err = ParseGavelText(MsrRow("A3C", 10, 0, 1), "x.trace", missing);
  ASSERT_FALSE(err.ok());
  EXPECT_THAT(err.status().message(), HasSubstr("/nonexistent/simulation_throughputs.json"));
}

}  // namespace
}  // namespace suanli
