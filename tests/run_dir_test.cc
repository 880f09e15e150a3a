// The one reader of a run directory (sim/run_dir.h, and ReadUsageCsv for
// usage.csv), shared by `suanli report`, `suanli usage` and `suanli sweep`:
// what each of them now reads alike.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/output_file.h"
#include "sim/report.h"
#include "sim/run_dir.h"
#include "sim/sweep.h"
#include "sim/usage.h"
#include "support/cli.h"

namespace suanli {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& text) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    auto f = OutputFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().message();
    ASSERT_TRUE(f->Write(text).ok());
    ASSERT_TRUE(f->Close().ok());
    return;
  }
  std::ofstream f(path, std::ios::binary);
  f << text;
}

constexpr const char* kSummary = R"({"network": "tiny", "seed": 3, "policies": [
  {"policy": "fifo", "jobs": 2, "finished": 2, "avg_jct_s": 10, "makespan_s": 20},
  {"policy": "sjf", "jobs": 2, "finished": 2, "avg_jct_s": 8, "makespan_s": 20}]}
)";

TEST(RunDir, FindsAFileOrItsGzipAndNothingElse) {
  std::string d = TempDir("run_dir_find");
  EXPECT_EQ(FindRunFile(d, "jobs.csv"), "");
  Write(d + "/jobs.csv.gz", "x");
  EXPECT_EQ(FindRunFile(d, "jobs.csv"), d + "/jobs.csv.gz");
  Write(d + "/jobs.csv", "x");
  EXPECT_EQ(FindRunFile(d, "jobs.csv"), d + "/jobs.csv");
  fs::create_directories(d + "/usage.csv");
  EXPECT_EQ(FindRunFile(d, "usage.csv"), "");
}

TEST(RunDir, SummaryIsReadPlainOrGzipWithItsKeysInOrder) {
  std::string d = TempDir("run_dir_summary");
  Write(d + "/summary.json.gz", kSummary);
  auto s = ReadSummaryJson(FindRunFile(d, "summary.json"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->at("policies").size(), 2u);
  EXPECT_EQ(s->begin().key(), "network");
  EXPECT_EQ(s->at("policies")[1].at("policy"), "sjf");
  // `suanli report` reads it from there too (it read only a plain file before).
  auto r = BuildReport(d, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NE(r->html.find("sjf"), std::string::npos);
}

TEST(RunDir, AMalformedSummaryIsOneErrorForReportAndSweep) {
  struct Case {
    std::string text, expect;
  };
  std::vector<Case> cases = {
      {"{\"policies\": [\n{\"policy\": }]}", "summary.json: not valid JSON: parse error at line 2"},
      {"{\"policies\": [{\"policy\": \"fifo\", \"jobs\": 1E400}]}", "summary.json: not valid JSON: number overflow"},
      {"[1, 2]", "summary.json: expected a JSON object at the top"},
      {"{\"jobs\": 1}", "summary.json: missing key 'policies'"},
      {"{\"policies\": {}}", "summary.json: 'policies': expected an array"},
      {"{\"policies\": [{\"policy\": \"fifo\"}, 3]}", "summary.json: policies[1]: expected an object"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].text);
    std::string d = TempDir("run_dir_bad_" + std::to_string(i));
    fs::create_directories(d + "/runs/000-p");
    Write(d + "/summary.json", cases[i].text);
    Write(d + "/runs/000-p/summary.json", cases[i].text);
    auto report = BuildReport(d, {});
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.status().message().find(cases[i].expect), std::string::npos) << report.status().message();
    SweepPoint p;
    p.id = "000-p";
    auto sweep = GatherSweep(d, {p});
    ASSERT_FALSE(sweep.ok());
    EXPECT_EQ(sweep.status().message().rfind("point 000-p: ", 0), 0u) << sweep.status().message();
    EXPECT_NE(sweep.status().message().find(cases[i].expect), std::string::npos) << sweep.status().message();
  }
}

// A usage.csv from before the model, reference_hours and pflop_days columns:
// `suanli usage` and `suanli report` both read it, with the same totals.
TEST(RunDir, AnOlderUsageCsvIsReadAlikeByUsageAndReport) {
  std::string d = TempDir("run_dir_usage");
  Write(d + "/summary.json", kSummary);
  Write(d + "/usage.csv",
        "policy,tenant,center,accelerator_hours,energy_kwh,cost,carbon_kg\n"
        "fifo,alice,wuhan,4,10,6.5,5\n"
        "fifo,,wuhan,1,2,1,1\n"
        "sjf,alice,hefei,2,3,2,1.5\n");
  auto u = ReadUsageCsv(FindUsageCsv(d, nullptr));
  ASSERT_TRUE(u.ok()) << u.status().message();
  ASSERT_EQ(u->rows.size(), 3u);
  EXPECT_EQ(u->rows[0].model, "(none)");
  EXPECT_EQ(u->rows[1].tenant, "(none)");
  EXPECT_EQ(u->rows[0].reference_hours, 0);
  EXPECT_EQ(u->runs, (std::vector<std::string>{"fifo", "sjf"}));
  auto r = BuildReport(d, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NE(r->html.find("alice"), std::string::npos);
  // A malformed row is the same error in both.
  Write(d + "/usage.csv", "policy,tenant,center,accelerator_hours,energy_kwh,cost,carbon_kg\nfifo,a,w,-1,1,1,1\n");
  auto bad = ReadUsageCsv(d + "/usage.csv");
  ASSERT_FALSE(bad.ok());
  auto bad_report = BuildReport(d, {});
  ASSERT_FALSE(bad_report.ok());
  EXPECT_EQ(bad_report.status().message(), bad.status().message());
  EXPECT_NE(bad.status().message().find("usage.csv:2"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace suanli
