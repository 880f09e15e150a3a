// The golden outputs (tests/golden/README.md): fixed runs of the simulator
// and the packer whose every output file must stay byte-identical.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/cli.h"

namespace suanli {
namespace {

using ::suanli::testing::RunShell;

TEST(GoldenOutputs, EveryFixedRunIsByteIdentical) {
  const std::filesystem::path root = SUANLI_SOURCE_DIR;
  int runs = 0;
  for (const auto& e : std::filesystem::directory_iterator(root / "tests/golden")) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    SCOPED_TRACE(name);
    auto r = RunShell("cd '" + root.string() + "' && SUANLI_BINARY='" + SUANLI_BINARY +
                      "' bash scripts/golden.sh check '" + name + "'");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out, name + ": identical\n");
    ++runs;
  }
  EXPECT_EQ(runs, 4);
}

}  // namespace
}  // namespace suanli
