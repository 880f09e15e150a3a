// A multi-node gang through a running `suanli serve` on a local center that
// offers this machine as two nodes (`nodes: 2`). nvidia-smi is a script on
// the server's PATH that prints a recorded host with four T4s, so the test
// needs no GPU: the server detects them, places the gang on both nodes, and
// every one of its four tasks (real processes, sandboxed) prints its ranks.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "support/live_server.h"

namespace suanli {
namespace {

using namespace ::suanli::testing::live_server;  // NOLINT(google-build-using-namespace)

TEST(LiveServerGang, ATwoNodeGangOnALocalCenterGetsEveryRank) {
  std::string dir = TestDir("gang");
  fs::create_directories(dir + "/bin");
  {
    std::ofstream smi(dir + "/bin/nvidia-smi");
    smi << "#!/bin/sh\nprintf '0, Tesla T4, 15360\\n1, Tesla T4, 15360\\n2, Tesla T4, 15360\\n3, Tesla T4, 15360\\n'\n";
  }
  ::chmod((dir + "/bin/nvidia-smi").c_str(), 0755);
  std::ofstream(dir + "/server.yaml") << "centers:\n  - {name: here, backend: local, nodes: 2, grace_s: 2}\n";
  const char* path = std::getenv("PATH");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {"--config", dir + "/server.yaml"}, "", "",
                        {"PATH=" + dir + "/bin:" + (path != nullptr ? path : "/usr/bin:/bin")}));
  auto admin = srv.Client(kAdminToken);
  auto ra = admin->Post("/api/v1/tenants", R"({"name":"alice"})", "application/json");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->status, 201) << ra->body;
  auto alice = srv.Client(Body(ra).value("token", ""));

  json job = {
      {"command",
       {"sh", "-c", "echo \"rank $RANK/$WORLD_SIZE local $LOCAL_RANK node $NODE_RANK gpus $CUDA_VISIBLE_DEVICES\""}},
      {"gpus", 4},
      {"nodes", 2},
      {"cpu_milli", 500},
      // Room for the launcher too: in a build with sanitizers it is a fork
      // of the instrumented server binary, with its large memory.
      {"mem_mib", 4096}};
  auto sub = alice->Post("/api/v1/jobs", job.dump(), "application/json");
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->status, 201) << sub->body;
  const int64_t id = Body(sub).value("id", int64_t{0});
  json rec = WaitJob(*alice, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  ASSERT_EQ(rec.value("state", ""), "succeeded") << rec.dump() << srv.log();
  const std::string node = rec.value("node", "");
  ASSERT_NE(node.find(','), std::string::npos) << node;
  EXPECT_EQ(node.substr(node.size() - 2), "-1") << node;
  EXPECT_EQ(rec["devices"], json({0, 1, 0, 1}));

  auto logs = alice->Get("/api/v1/jobs/" + std::to_string(id) + "/logs?stream=stdout");
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->status, 200) << logs->body;
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = logs->body.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(logs->body.substr(at, nl - at));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"rank 0/4 local 0 node 0 gpus 0,1", "rank 1/4 local 1 node 0 gpus 0,1",
                                             "rank 2/4 local 0 node 1 gpus 2,3", "rank 3/4 local 1 node 1 gpus 2,3"}))
      << logs->body;
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace suanli
