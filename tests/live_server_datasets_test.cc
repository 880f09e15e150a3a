// Datasets through a running `suanli serve`: the HTTP API (tokens, hostile
// and malformed bodies, each tenant's own), the CLI's `datasets` commands
// and `submit --dataset`, and a job that reads its dataset copied to the
// center it ran at.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/cli.h"
#include "support/live_server.h"

namespace suanli {
namespace {

using ::suanli::testing::RunSuanli;
using namespace ::suanli::testing::live_server;  // NOLINT(google-build-using-namespace)

TEST(LiveServerDatasets, RegisteredListedUsedByAJobAndDeletedThroughTheApiAndTheCli) {
  std::string dir = TestDir("datasets");
  fs::create_directories(dir + "/east/alice/corpus");
  fs::create_directories(dir + "/west");
  {
    std::ofstream(dir + "/east/alice/corpus/a.txt") << "from-east\n";
    std::ofstream cfg(dir + "/server.yaml");
    cfg << "network: tiny\ncenters:\n"
           "  - {name: east, backend: local, slots: 1, detect_gpus: false, data_root: east}\n"
           "  - {name: west, backend: local, slots: 1, detect_gpus: false, data_root: west}\n";
  }
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {"--config", dir + "/server.yaml"}));
  auto anon = srv.Client();
  auto admin = srv.Client(kAdminToken);
  auto ra = admin->Post("/api/v1/tenants", R"({"name":"alice"})", "application/json");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->status, 201) << ra->body;
  const std::string alice_token = Body(ra).value("token", "");
  auto rb = admin->Post("/api/v1/tenants", R"({"name":"bob"})", "application/json");
  ASSERT_TRUE(rb);
  auto bob = srv.Client(Body(rb).value("token", ""));

  // No token: 401 for every route; malformed and hostile bodies: 400 naming the field.
  ExpectError(anon->Get("/api/v1/datasets"), 401, "Authorization", "GET without token");
  ExpectError(anon->Post("/api/v1/datasets", R"({"name":"x","center":"east"})", "application/json"), 401,
              "Authorization", "POST without token");
  ExpectError(anon->Delete("/api/v1/datasets/x"), 401, "Authorization", "DELETE without token");
  auto alice = srv.Client(alice_token);
  ExpectError(alice->Post("/api/v1/datasets", "{", "application/json"), 400, "body", "malformed JSON");
  ExpectError(alice->Post("/api/v1/datasets", R"({"name":"x"})", "application/json"), 400, "center", "no center");
  ExpectError(alice->Post("/api/v1/datasets", R"({"name":"x","center":"east","path":"/etc"})", "application/json"), 400,
              "path", "an unknown key");
  ExpectError(alice->Post("/api/v1/datasets", R"({"name":"../../etc","center":"east"})", "application/json"), 400,
              "name", "a name that climbs out of the data root");
  ExpectError(alice->Post("/api/v1/datasets", R"({"name":"x","center":"east","size_gb":-1})", "application/json"), 400,
              "size_gb", "a negative size");
  ExpectError(alice->Post("/api/v1/datasets", R"({"name":"absent","center":"east"})", "application/json"), 409, "",
              "no directory");
  ExpectError(alice->Get("/api/v1/datasets/absent"), 404, "", "not registered");

  // The CLI registers, lists and, once no job uses it, forgets.
  const std::string conn = " --url " + srv.url() + " --token " + alice_token;
  auto added = RunSuanli("datasets add corpus --center east" + conn);
  ASSERT_EQ(added.code, 0) << added.out;
  EXPECT_NE(added.out.find("alice   corpus  east"), std::string::npos) << added.out;
  auto listed = RunSuanli("datasets --json" + conn);
  ASSERT_EQ(listed.code, 0) << listed.out;
  json l = json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(l.is_object()) << listed.out;
  ASSERT_EQ(l["datasets"].size(), 1u);
  EXPECT_EQ(l["datasets"][0].value("size_bytes", 0), 10);
  EXPECT_TRUE(Body(bob->Get("/api/v1/datasets"))["datasets"].empty());  // alice's are hers
  EXPECT_EQ(Body(admin->Get("/api/v1/datasets"))["datasets"].size(), 1u);
  ExpectError(bob->Delete("/api/v1/datasets/corpus"), 404, "", "another tenant's");

  // A job at west reads it there.
  auto sub = RunSuanli("submit -q --center west --dataset corpus" + conn + " -- sh -c 'cat $SUANLI_DATASET_DIR/a.txt'");
  ASSERT_EQ(sub.code, 0) << sub.out;
  const std::string id = sub.out.substr(0, sub.out.find('\n'));
  json job;
  for (int i = 0; i < 200; ++i) {
    job = Body(alice->Get("/api/v1/jobs/" + id));
    if (job.value("state", "") == "succeeded" || job.value("state", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(job.value("state", ""), "succeeded") << job.dump();
  EXPECT_EQ(job.value("dataset", ""), "corpus");
  bool staged = false;
  for (const json& e : job["events"]) staged = staged || e.value("kind", "") == "staged";
  EXPECT_TRUE(staged) << job.dump();
  auto logs = RunSuanli("logs " + id + conn);
  EXPECT_EQ(logs.out, "from-east\n");
  auto shown = RunSuanli("show " + id + conn);
  EXPECT_NE(shown.out.find("dataset:"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("staged: dataset corpus from east to west"), std::string::npos) << shown.out;
  EXPECT_EQ(Body(alice->Get("/api/v1/datasets/corpus"))["copies"][0].value("center", ""), "west");

  // A job naming a dataset that is not registered is refused before it is stored.
  auto unknown = RunSuanli("submit --dataset nothing" + conn + " -- true");
  EXPECT_EQ(unknown.code, 1) << unknown.out;  // the server refused it
  EXPECT_NE(unknown.out.find("dataset"), std::string::npos) << unknown.out;
  auto rm = RunSuanli("datasets rm corpus" + conn);
  EXPECT_EQ(rm.code, 0) << rm.out;
  EXPECT_TRUE(Body(alice->Get("/api/v1/datasets"))["datasets"].empty());
}

}  // namespace
}  // namespace suanli
