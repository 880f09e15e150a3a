// Standard Workload Format (Parallel Workloads Archive).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

Result<Workload> ParseSwfText(std::string text, const ImportOptions& opts = {}, ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), "log.swf");
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat("swf")->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

TEST(SwfImport, NasaIpscLog) {
  ImportReport report;
  auto w =
      ImportWorkload(std::string(SUANLI_SOURCE_DIR) + "/data/traces/pwa-nasa-ipsc-1993/NASA-iPSC-1993-3.1-cln.swf.gz",
                     "", BuiltinCatalog(), {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.rows, 18239u);
  EXPECT_EQ(report.imported + report.ignored, 18239u);
  EXPECT_EQ(report.ignored, 0u);
  EXPECT_EQ(w->jobs.size(), 18239u);
  // Job 1: submitted at 0, ran 1451 s on 128 processors (-> 128 accelerators), user 1, group 1.
  EXPECT_EQ(w->names[JobId{0}], "1");
  EXPECT_EQ(w->jobs[JobId{0}].submit, 0);
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].work, 1451);
  EXPECT_EQ(w->jobs[JobId{0}].num_gpus, 128u);
  EXPECT_EQ(w->jobs[JobId{0}].estimate, 0);  // requested time unknown (-1)
  EXPECT_EQ(w->users.Name(w->jobs[JobId{0}].user), "1");
  EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), "1");
  EXPECT_EQ(w->tenants.size(), 2u);  // group 1 (users) and 2 (system personnel)
  EXPECT_EQ(w->users.size(), 69u);
  uint32_t max_gpus = 0;
  for (const Job& j : w->jobs) max_gpus = std::max(max_gpus, j.num_gpus);
  EXPECT_EQ(max_gpus, 128u);
}

TEST(SwfImport, UnknownRunTimeOrSizeIsIgnored) {
  ImportReport report;
  auto w = ParseSwfText(
      "; Version: 2.2\n"
      ";\n"
      "1 0 5 100 4 -1 -1 8 3600 -1 1 7 2 -1 -1 -1 -1 -1\n"
      "2 10 5 -1 4 -1 -1 8 3600 -1 1 7 2 -1 -1 -1 -1 -1\n"
      "3 20 5 100 -1 -1 -1 -1 3600 -1 1 7 2 -1 -1 -1 -1 -1\n"
      "4 30 5 100 -1 -1 -1 16 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"
      "\n",
      {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.rows, 4u);
  EXPECT_EQ(report.ignored, 2u);
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(w->jobs[JobId{0}].num_gpus, 4u);  // allocated processors
  EXPECT_DOUBLE_EQ(w->jobs[JobId{0}].estimate, 3600);
  EXPECT_EQ(w->users.Name(w->jobs[JobId{0}].user), "7");
  EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), "2");
  EXPECT_EQ(w->jobs[JobId{1}].num_gpus, 16u);  // requested, as allocated is unknown
  EXPECT_EQ(w->users.Name(w->jobs[JobId{1}].user), "default");
  EXPECT_EQ(w->jobs[JobId{1}].submit, Seconds(30));
}

TEST(SwfImport, MalformedLines) {
  auto short_line = ParseSwfText("; x\n1 0 5 100 4\n");
  ASSERT_FALSE(short_line.ok());
  EXPECT_EQ(short_line.status().message(), "log.swf:2: expected 18 whitespace-separated fields, got 5");
  auto bad_run = ParseSwfText("1 0 5 -7 4 -1 -1 8 3600 -1 1 7 2 -1 -1 -1 -1 -1\n");
  ASSERT_FALSE(bad_run.ok());
  EXPECT_EQ(bad_run.status().message(), "log.swf:1: field 'run_time' (column 4): expected a number >= -1, got '-7'");
  auto bad_procs = ParseSwfText("1 0 5 7 four -1 -1 8 3600 -1 1 7 2 -1 -1 -1 -1 -1\n");
  ASSERT_FALSE(bad_procs.ok());
  EXPECT_EQ(bad_procs.status().message(),
            "log.swf:1: field 'allocated_processors' (column 5): expected an integer >= -1, got 'four'");
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseSwfText(
      "1 0 5 -7 4 -1 -1 8 3600 -1 1 7 2 -1 -1 -1 -1 -1\n2 0 5 7 4 -1 -1 8 3600 -1 1 7 2 -1 -1 -1 "
      "-1 -1\n",
      skip, &report);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_THAT(report.errors.at(0), HasSubstr("log.swf:1: field 'run_time'"));
}

}  // namespace
}  // namespace suanli
