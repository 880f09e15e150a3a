// Helios and Acme job logs (date-time columns), from the bundled format samples.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

std::string SamplePath(const std::string& name) {
  return std::string(SUANLI_SOURCE_DIR) + "/data/traces/samples/" + name;
}

Result<Workload> ParseText(std::string_view format, std::string text, std::string name, const ImportOptions& opts = {},
                           ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), std::move(name));
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat(format)->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

TEST(DateTimeParsing, FormatsAndOffsets) {
  using import_detail::ParseDateTime;
  EXPECT_DOUBLE_EQ(*ParseDateTime("1970-01-01 00:00:00"), 0);
  EXPECT_DOUBLE_EQ(*ParseDateTime("2020-06-09 18:41:01"), 1591728061);
  EXPECT_DOUBLE_EQ(*ParseDateTime("2020-06-09T18:41:01Z"), 1591728061);
  EXPECT_DOUBLE_EQ(*ParseDateTime("2023-03-01 00:18:22+08:00"), *ParseDateTime("2023-02-28 16:18:22"));
  EXPECT_DOUBLE_EQ(*ParseDateTime("2023-03-01 00:18:22-0130"), *ParseDateTime("2023-03-01 01:48:22"));
  EXPECT_DOUBLE_EQ(*ParseDateTime("2024-02-29 12:00:00.25"), *ParseDateTime("2024-02-29 12:00:00") + 0.25);
  EXPECT_FALSE(ParseDateTime("2023-02-29 00:00:00"));
  EXPECT_FALSE(ParseDateTime("2023-13-01 00:00:00"));
  EXPECT_FALSE(ParseDateTime("2023-01-01"));
  EXPECT_FALSE(ParseDateTime("2023-01-01 00:00:00+25:00"));
  EXPECT_FALSE(ParseDateTime("2023-01-01 00:00:00 PST"));
  EXPECT_FALSE(ParseDateTime("None"));
}

TEST(HeliosImport, Sample) {
  ImportReport report;
  auto w = ImportWorkload(SamplePath("helios-cluster_log-sample.csv"), "", BuiltinCatalog(), {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 3u);
  // 1425511,uXBbc,vcJkd,1,1,1,COMPLETED,2020-06-09 18:41:01,...,36848,0
  EXPECT_EQ(w->names[JobId{0}], "1425511");
  EXPECT_EQ(w->jobs[JobId{0}].submit, 0);  // shifted so that the first submit is 0
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 36848);
  EXPECT_EQ(w->jobs[JobId{0}].num_gpus, 1u);
  EXPECT_EQ(w->jobs[JobId{0}].cpu_milli, 1000);
  EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), "vcJkd");
  EXPECT_EQ(w->users.Name(w->jobs[JobId{0}].user), "uXBbc");
  EXPECT_EQ(w->jobs[JobId{1}].submit, Seconds(26));
  EXPECT_EQ(w->jobs[JobId{1}].num_gpus, 4u);
  EXPECT_EQ(w->jobs[JobId{2}].submit, Seconds(27));
  EXPECT_DOUBLE_EQ(w->jobs[JobId{2}].work, 675233);
}

TEST(HeliosImport, BadRowsAndFallbackDuration) {
  const std::string header =
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,"
      "queue\n";
  auto bad_time =
      ParseText("helios", header + "1,u,vc,1,1,1,COMPLETED,2020/06/09 18:41:01,,,10,0\n", "cluster_log.csv");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.status().message(),
            "cluster_log.csv:2: field 'submit_time' (column 8): expected a date-time 'YYYY-MM-DD "
            "HH:MM:SS' "
            "(optionally with an offset), got '2020/06/09 18:41:01'");
  auto neg = ParseText("helios", header + "1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,,,-10,0\n", "cluster_log.csv");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().message(),
            "cluster_log.csv:2: field 'duration' (column 11): expected a number >= 0, got '-10'");
  auto fallback = ParseText(
      "helios", header + "1,u,vc,2,8,1,FAILED,2020-06-09 18:41:01,2020-06-09 18:41:05,2020-06-09 18:42:05,,4\n",
      "cluster_log.csv");
  ASSERT_TRUE(fallback.ok()) << fallback.status().message();
  EXPECT_DOUBLE_EQ(fallback->jobs[JobId{0}].work, 60);
  auto backwards = ParseText(
      "helios", header + "1,u,vc,2,8,1,FAILED,2020-06-09 18:41:01,2020-06-09 18:41:05,2020-06-09 18:40:05,,4\n",
      "cluster_log.csv");
  ASSERT_FALSE(backwards.ok());
  EXPECT_THAT(backwards.status().message(),
              HasSubstr("cluster_log.csv:2: field 'end_time' (column 10): expected a time >= start_time"));
}

TEST(HeliosImport, SkipInvalid) {
  const std::string header =
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,"
      "queue\n";
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseText("helios",
                     header + "1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,,,10,0\n" +
                         "2,u,vc,-1,1,1,COMPLETED,2020-06-09 18:41:02,,,10,0\n" +
                         "3,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:03,,,10,0\n",
                     "cluster_log.csv", skip, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(w->jobs[JobId{1}].submit, Seconds(2));
  EXPECT_EQ(report.skipped, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0], "cluster_log.csv:3: field 'gpu_num' (column 4): expected an integer >= 0, got '-1'");
}

TEST(AcmeImport, SerenAndKalosSamples) {
  auto seren = ImportWorkload(SamplePath("acme-trace_seren-sample.csv"), "acme", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(seren.ok()) << seren.status().message();
  ASSERT_EQ(seren->jobs.size(), 2u);
  EXPECT_EQ(seren->jobs[JobId{0}].num_gpus, 8u);
  EXPECT_EQ(seren->jobs[JobId{0}].cpu_milli, 128000);
  EXPECT_DOUBLE_EQ(seren->jobs[JobId{0}].work, 117);
  // 00:18:22 and 00:23:58 (+08:00) are 336 s apart.
  EXPECT_EQ(seren->jobs[JobId{1}].submit, Seconds(336));
  EXPECT_EQ(seren->users.Name(seren->jobs[JobId{0}].user), "u5907");
  EXPECT_EQ(seren->tenants.Name(seren->jobs[JobId{0}].tenant), "default");
  auto kalos = ImportWorkload(SamplePath("acme-trace_kalos-sample.csv"), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(kalos.ok()) << kalos.status().message();
  ASSERT_EQ(kalos->jobs.size(), 2u);
  EXPECT_EQ(kalos->jobs[JobId{0}].num_gpus, 64u);
  EXPECT_EQ(kalos->jobs[JobId{0}].mem_mib, 8 * 1000 * 1024);  // 1000 GB per pod on 8 nodes
  EXPECT_DOUBLE_EQ(kalos->jobs[JobId{1}].work, 82);
  EXPECT_EQ(kalos->jobs[JobId{1}].submit, Seconds(27 * 60 + 44));
}

TEST(AcmeImport, ClassFromTypeAndBadRows) {
  const std::string header =
      "job_id,user,node_num,gpu_num,cpu_num,type,state,submit_time,start_time,end_time,duration,"
      "queue,gpu_time\n";
  auto w = ParseText("acme",
                     header + "a,u,1,8,64,Pretrain,COMPLETED,2023-03-01 00:18:22+08:00,,,100.5,3.0,804.0\n" +
                         "b,u,1,8,64,Debug,COMPLETED,2023-03-01 00:18:23+08:00,,,1,3.0,8.0\n",
                     "trace_seren.csv");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs[JobId{0}].cls, WorkloadClass::kTransformer);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 100.5);
  EXPECT_EQ(w->jobs[JobId{1}].cls, WorkloadClass::kOther);
  auto bad = ParseText("acme", header + "a,u,1,8.5,64,Pretrain,COMPLETED,2023-03-01 00:18:22+08:00,,,100,3,8\n",
                       "trace_seren.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "trace_seren.csv:2: field 'gpu_num' (column 4): expected an integer >= 0, got '8.5'");
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto skipped = ParseText("acme",
                           header + "a,u,1,8.5,64,Pretrain,COMPLETED,2023-03-01 00:18:22+08:00,,,100,3,8\n" +
                               "b,u,1,8,64,SFT,COMPLETED,2023-03-01 00:18:22 +08:00,,,100,3,8\n" +
                               "c,u,1,8,64,SFT,COMPLETED,2023-03-01 00:18:22+08:00,,,100,3,8\n",
                           "trace_seren.csv", skip, &report);
  ASSERT_TRUE(skipped.ok()) << skipped.status().message();
  EXPECT_EQ(skipped->jobs.size(), 2u);  // an offset after a blank is accepted
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(report.rows, 3u);
}

}  // namespace
}  // namespace suanli
