// A job spec's limits are written once (live_job.h): the OpenAPI document
// states the same ones, and `suanli submit` refuses what the server would,
// with the server's words, before sending anything.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "live/live_job.h"
#include "support/cli.h"

namespace suanli {
namespace {

using testing::RunSuanli;
using testing::Source;
using testing::TempDir;

TEST(SpecLimits, TheOpenApiDocumentStatesTheLimitsTheServerChecks) {
  std::ifstream in(Source("data/api/openapi.json"));
  auto doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  const auto& p = doc["components"]["schemas"]["JobSpec"]["properties"];
  EXPECT_EQ(p["command"]["maxItems"], live::kMaxArgs);
  EXPECT_EQ(p["command"]["items"]["maxLength"], live::kMaxArgBytes);
  EXPECT_EQ(p["name"]["maxLength"], live::kMaxNameBytes);
  EXPECT_EQ(p["env"]["maxProperties"], live::kMaxEnvVars);
  EXPECT_EQ(p["workdir"]["maxLength"], live::kMaxPathBytes);
  EXPECT_EQ(p["gpus"]["maximum"], live::kMaxGpus);
  EXPECT_EQ(p["cpu_milli"]["maximum"], live::kMaxCpuMilli);
  EXPECT_EQ(p["mem_mib"]["maximum"], live::kMaxMemMib);
  EXPECT_EQ(p["models"]["maxItems"], live::kMaxListItems);
  EXPECT_EQ(p["stacks"]["maxItems"], live::kMaxListItems);
  EXPECT_EQ(p["time_limit_s"]["minimum"], 1);
  EXPECT_EQ(p["time_limit_s"]["maximum"], live::kMaxTimeLimitS);
  EXPECT_EQ(p["duration_s"]["maximum"], live::kMaxTimeLimitS);
}

// No server listens at the URL: each refusal is the CLI's own.
TEST(SpecLimits, SubmitRefusesWhatTheServerWouldBeforeSending) {
  const std::string base = "submit --url http://127.0.0.1:9 ";
  std::string args;
  for (size_t i = 0; i < live::kMaxArgs; ++i) args += " a";  // with `true`: one too many
  auto r = RunSuanli(base + "-- true" + args);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("command: at most 256 items, got 257"), std::string::npos) << r.out;

  const std::string file = TempDir("spec_limits") + "/job.yaml";
  std::ofstream(file) << "command: [true]\ntime_limit_s: 0\n";
  r = RunSuanli(base + "-f " + file);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("time_limit_s"), std::string::npos) << r.out;

  std::ofstream(file) << "command: [true]\ngpus: 1\nmodels: [no-such-accelerator]\n";
  r = RunSuanli(base + "-f " + file);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unknown model 'no-such-accelerator'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace suanli
