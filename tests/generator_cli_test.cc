// The synthetic workload generator's command line (`suanli gen`): the same
// file as the library, the china-aicc profile, and bad arguments exiting
// with 2.
#include "sim/generator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/line_reader.h"
#include "io/model_loader.h"
#include "support/cli.h"
#include "support/generator.h"

namespace suanli {
namespace {

using ::suanli::testing::generator::NetOpts;
using ::suanli::testing::generator::Opts;
using ::suanli::testing::generator::TempPath;

// ---------------------------------------------------------------------------
// Command line

int RunSuanli(const std::string& args, std::string* out) {
  auto r = testing::RunSuanli(args);
  *out += r.out;
  return r.code;
}

TEST(GeneratorCli, GenWritesTheSameFileAsTheLibrary) {
  std::string path = TempPath("cli.csv.gz"), lib = TempPath("lib.csv.gz");
  std::string out;
  ASSERT_EQ(RunSuanli("gen --jobs 2000 --seed 42 --gpus 500 --out " + path, &out), 0) << out;
  EXPECT_NE(out.find("wrote 2000 jobs"), std::string::npos) << out;
  auto net = LoadNetwork("uniform-100k", BuiltinCatalog());
  ASSERT_TRUE(net.ok());
  GenOptions o = Opts(2000, 42);
  o.gpus = 500;
  o.target = TargetOf(*net);
  ASSERT_TRUE(WriteGeneratedWorkload(o, BuiltinCatalog(), lib, nullptr).ok());
  EXPECT_EQ(*ReadFileMaybeGz(path), *ReadFileMaybeGz(lib));
  std::filesystem::remove(path);
  std::filesystem::remove(lib);
}

TEST(GeneratorCli, ChinaAiccProfile) {
  std::string path = TempPath("cli_net.csv.gz"), lib = TempPath("lib_net.csv.gz");
  std::string out;
  ASSERT_EQ(RunSuanli("gen --profile china-aicc --network cn-alliance --days 2 --seed 3 --out " + path, &out), 0)
      << out;
  EXPECT_NE(out.find("large-model jobs"), std::string::npos) << out;
  EXPECT_NE(out.find("inference services"), std::string::npos) << out;
  auto net = LoadNetwork("cn-alliance", BuiltinCatalog());
  ASSERT_TRUE(net.ok());
  GenOptions o = NetOpts(*net, 2, 0, 3);
  ASSERT_TRUE(WriteGeneratedWorkload(o, BuiltinCatalog(), lib, nullptr).ok());
  EXPECT_EQ(*ReadFileMaybeGz(path), *ReadFileMaybeGz(lib));
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --days 2 --out " + TempPath("x.csv"), &out), 2);
  EXPECT_NE(out.find("--days"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("gen --profile china-aicc --network cn-alliance --tenants 3 --out " + TempPath("x.csv"), &out),
            2);
  for (const auto& p : {path, lib, TempPath("x.csv")}) std::filesystem::remove(p);
}

TEST(GeneratorCli, BadArgumentsExitWithTwo) {
  std::string out;
  EXPECT_EQ(RunSuanli("gen --jobs 10 --profile nope --out " + TempPath("x.csv"), &out), 2);
  EXPECT_NE(out.find("unknown profile 'nope'"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --load -1 --out " + TempPath("x.csv"), &out), 2);
  out.clear();
  EXPECT_EQ(RunSuanli("gen --jobs 10 --network no-such-net --out " + TempPath("x.csv"), &out), 2);
  out.clear();
  EXPECT_EQ(RunSuanli("gen --out " + TempPath("x.csv"), &out), 2);  // --jobs is required
  std::filesystem::remove(TempPath("x.csv"));
}

}  // namespace
}  // namespace suanli
