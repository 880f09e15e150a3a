// Philly: the cluster_job_log JSON (rows built from the upstream schema) and
// the bundled machine lists.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/model_loader.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

Result<Workload> ParsePhillyText(std::string text, const ImportOptions& opts = {}, ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), "cluster_job_log");
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat("philly")->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

// Three jobs in the upstream layout: a two-attempt job on 2 machines, a job
// still running (no end time) and a job that never got an attempt.
const char kLog[] = R"([
  {"status": "Pass", "vc": "ee9e8c", "jobid": "application_1506638472019_14199",
   "submitted_time": "2017-10-03 09:01:24", "user": "7e3e5d",
   "attempts": [
     {"start_time": "2017-10-03 09:01:30", "end_time": "2017-10-03 09:05:00",
      "detail": [{"ip": "m100", "gpus": ["gpu0", "gpu1", "gpu2", "gpu3"]},
                 {"ip": "m101", "gpus": ["gpu0", "gpu1", "gpu2", "gpu3"]}]},
     {"start_time": "2017-10-03 10:00:00", "end_time": "2017-10-03 12:30:00", "detail": []}]},
  {"status": "Killed", "vc": "0e4a51", "jobid": "application_1506638472019_14200",
   "submitted_time": "2017-10-03 09:00:24", "user": "a1b2c3",
   "attempts": [{"start_time": "2017-10-03 09:00:30", "end_time": null,
                 "detail": [{"ip": "m7", "gpus": ["gpu0"]}]}]},
  {"status": "Failed", "vc": "0e4a51", "jobid": "application_1506638472019_14201",
   "submitted_time": "2017-10-03 09:10:24", "user": "a1b2c3", "attempts": []},
  {"status": "Pass", "vc": "0e4a51", "jobid": "application_1506638472019_14202",
   "submitted_time": "2017-10-03 08:59:24", "user": "a1b2c3",
   "attempts": [{"start_time": "2017-10-03 09:00:00", "end_time": "2017-10-03 09:00:10",
                 "detail": [{"ip": "m7", "gpus": ["gpu1"]}]}]}
]
)";

TEST(PhillyImport, JobLog) {
  ImportReport report;
  auto w = ParsePhillyText(kLog, {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.rows, 4u);
  EXPECT_EQ(report.ignored, 2u);
  ASSERT_EQ(w->jobs.size(), 2u);
  const Job& small = w->jobs[JobId{0}];
  EXPECT_EQ(w->names[JobId{0}], "application_1506638472019_14202");
  EXPECT_EQ(small.submit, 0);
  EXPECT_DOUBLE_EQ(small.work, 10);
  EXPECT_EQ(small.num_gpus, 1u);
  const Job& big = w->jobs[JobId{1}];
  EXPECT_EQ(big.submit, Seconds(120));
  EXPECT_EQ(big.num_gpus, 8u);             // from the first attempt's detail
  EXPECT_DOUBLE_EQ(big.work, 2.5 * 3600);  // the last attempt
  EXPECT_EQ(w->tenants.Name(big.tenant), "ee9e8c");
  EXPECT_EQ(w->users.Name(big.user), "7e3e5d");
}

TEST(PhillyImport, JsonLinesToo) {
  auto w = ParsePhillyText(
      R"({"vc": "a", "jobid": "j1", "submitted_time": "2017-10-03 09:00:00", "user": "u", "attempts": [{"start_time": "2017-10-03 09:00:00", "end_time": "2017-10-03 09:01:00", "detail": [{"ip": "m1", "gpus": ["gpu0"]}]}]}
{"vc": "a", "jobid": "j2", "submitted_time": "2017-10-03 09:00:05", "user": "u", "attempts": [{"start_time": "None", "end_time": "None", "detail": []}]}
)");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs.size(), 1u);
}

TEST(PhillyImport, BadJobsNameLineAndField) {
  auto bad_time = ParsePhillyText(
      "[\n{\"jobid\": \"j1\", \"vc\": \"a\", \"submitted_time\": \"yesterday\", \"attempts\": "
      "[]}\n]\n");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.status().message(),
            "cluster_job_log:2: job 'j1': field 'submitted_time': expected a date-time 'YYYY-MM-DD "
            "HH:MM:SS'");
  auto backwards = ParsePhillyText(
      "[\n\n{\"jobid\": \"j2\", \"submitted_time\": \"2017-10-03 09:00:00\", \"attempts\": "
      "[{\"start_time\": "
      "\"2017-10-03 09:00:00\", \"end_time\": \"2017-10-03 08:00:00\", \"detail\": [{\"ip\": "
      "\"m\", \"gpus\": [\"gpu0\"]}]}]}]");
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.status().message(),
            "cluster_job_log:3: job 'j2': field 'attempts[-1].end_time': expected a time >= start_time");
  auto not_json = ParsePhillyText("[{\"jobid\": \"j3\", \"submitted_time\": }]");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().message(), "cluster_job_log:1: job object is not valid JSON");
  auto garbage = ParsePhillyText("hello");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.status().message(), HasSubstr("cluster_job_log:1: expected a JSON list of job objects"));
  auto open = ParsePhillyText("[{\"jobid\": \"j3\"");
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.status().message(), HasSubstr("not closed"));
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParsePhillyText(std::string("[{\"jobid\": \"x\", \"submitted_time\": 5, \"attempts\": []},\n") + (kLog + 1),
                           skip, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(w->jobs.size(), 2u);
}

TEST(PhillyMachinesImport, MachineLists) {
  const std::string dir = std::string(SUANLI_SOURCE_DIR) + "/data/traces/philly/";
  auto orig = ImportCluster(dir + "cluster_machine_list.csv.gz", "", BuiltinCatalog(), {});
  ASSERT_TRUE(orig.ok()) << orig.status().message();
  EXPECT_EQ(orig->nodes.size(), 552u);
  EXPECT_EQ(orig->TotalDevices(), 321 * 2 + 231 * 8);
  EXPECT_EQ(orig->nodes[NodeId{0}].name, "m0");
  EXPECT_EQ(orig->nodes[NodeId{0}].cpu_milli, 16000);  // 8 cores per GPU
  ImportOptions opts;
  opts.default_model = "K80";
  auto revised = ImportCluster(dir + "revised_machine_list.csv.gz", "philly-machines", BuiltinCatalog(), opts);
  ASSERT_TRUE(revised.ok()) << revised.status().message();
  EXPECT_EQ(revised->nodes.size(), 552u);
  EXPECT_EQ(revised->TotalDevices(*BuiltinCatalog().Find("K80")), 271 * 4 + 264 * 8 + 3 * 2 + 3);
  size_t empty = 0;
  for (const Node& n : revised->nodes) empty += n.devices == 0;
  EXPECT_EQ(empty, 13u);
  auto reader = LineReader::FromString("machineId, number of GPUs, single GPU mem\nm0,2, twelve\n", "list");
  Network n;
  Status st = FindClusterFormat("philly-machines")->parse(*reader, BuiltinCatalog(), {}, &n);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "list:2: field 'single GPU mem' (column 3): expected a memory size such as '12GB', got "
            "' twelve'");
}

}  // namespace
}  // namespace suanli
