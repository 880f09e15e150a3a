// Inference services through a running `suanli serve`: a service submitted
// through the API with a region and a latency bound, its replicas (real
// processes on a local center), scaled through the API and the CLI, hidden
// from other tenants, and malformed scale bodies refused naming the field.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "support/cli.h"
#include "support/live_server.h"

namespace suanli {
namespace {

using ::suanli::testing::RunSuanli;
using namespace ::suanli::testing::live_server;  // NOLINT(google-build-using-namespace)

// East (run by the local backend) is in Shanghai; west, simulated, in Chengdu.
constexpr const char* kNetwork = R"(name: edge-http
centers:
  - name: east
    region: east
    lat: 31.2
    lon: 121.5
    pue: 1.3
    price_per_kwh: 0.6
    carbon_g_per_kwh: 570
    pools:  # (the local backend's own nodes replace these)
      - name: cpu
        nodes:
          - {count: 1, prefix: east-cpu-, cpu: 16, memory_gib: 64}
  - name: west
    region: west
    lat: 30.7
    lon: 104.1
    pue: 1.1
    price_per_kwh: 0.35
    carbon_g_per_kwh: 200
    pools:
      - name: cpu
        nodes:
          - {count: 1, prefix: west-cpu-, cpu: 16, memory_gib: 64}
regions:
  - {name: shanghai, lat: 31.23, lon: 121.47}
)";

json Service(httplib::Client& cli, const std::string& id) { return Body(cli.Get("/api/v1/services/" + id)); }

bool AllRunning(const json& svc, size_t n) {
  if (!svc.contains("replicas") || svc["replicas"].size() != n) return false;
  for (const json& r : svc["replicas"])
    if (r.value("state", "") != "running") return false;
  return true;
}

TEST(LiveServerServices, SubmittedScaledAndListedThroughTheApiAndTheCli) {
  std::string dir = TestDir("services");
  {
    std::ofstream(dir + "/net.yaml") << kNetwork;
    std::ofstream cfg(dir + "/server.yaml");
    cfg << "network: net.yaml\ncenters:\n  - {name: east, backend: local, slots: 4, detect_gpus: false}\n";
  }
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {"--config", dir + "/server.yaml"}));
  auto anon = srv.Client();
  auto admin = srv.Client(kAdminToken);
  auto ra = admin->Post("/api/v1/tenants", R"({"name":"alice"})", "application/json");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->status, 201) << ra->body;
  const std::string alice_token = Body(ra).value("token", "");
  auto alice = srv.Client(alice_token);
  auto rb = admin->Post("/api/v1/tenants", R"({"name":"bob"})", "application/json");
  ASSERT_TRUE(rb);
  auto bob = srv.Client(Body(rb).value("token", ""));

  // Two replicas within 10 ms of Shanghai: both at east, not the simulated west.
  auto sub = alice->Post(
      "/api/v1/jobs",
      R"({"command":["sleep","60"],"class":"inference","replicas":2,"region":"shanghai","latency_ms":10,"time_limit_s":1})",
      "application/json");
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->status, 201) << sub->body;
  const json first = Body(sub);
  const std::string id = std::to_string(first.value("id", 0));
  EXPECT_EQ(first.value("service", 0), first.value("id", -1));
  EXPECT_EQ(first.value("replicas", 0), 2);
  json svc;
  for (int i = 0; i < 200 && !AllRunning(svc, 2); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    svc = Service(*alice, id);
  }
  ASSERT_TRUE(AllRunning(svc, 2)) << svc.dump();
  for (const json& r : svc["replicas"]) EXPECT_EQ(r.value("center", ""), "east");

  // No token, another tenant, malformed bodies.
  ExpectError(anon->Get("/api/v1/services/" + id), 401, "Authorization", "GET without token");
  ExpectError(anon->Put("/api/v1/services/" + id, R"({"replicas":1})", "application/json"), 401, "Authorization",
              "PUT without token");
  ExpectError(bob->Get("/api/v1/services/" + id), 404, "", "another tenant's service");
  ExpectError(bob->Put("/api/v1/services/" + id, R"({"replicas":9})", "application/json"), 404, "",
              "another tenant scaling it");
  ExpectError(alice->Put("/api/v1/services/" + id, R"({"replicas":-1})", "application/json"), 400, "replicas",
              "a negative count");
  ExpectError(alice->Put("/api/v1/services/" + id, R"({"replicas":"2"})", "application/json"), 400, "replicas",
              "a string");
  ExpectError(alice->Put("/api/v1/services/" + id, R"({"replicas":1000})", "application/json"), 400, "replicas",
              "too many");
  ExpectError(alice->Put("/api/v1/services/" + id, R"({"size":2})", "application/json"), 400, "size", "an unknown key");
  ExpectError(alice->Put("/api/v1/services/" + id, "{}", "application/json"), 400, "replicas", "no count");
  ExpectError(alice->Put("/api/v1/services/0", R"({"replicas":1})", "application/json"), 400, "id", "a zero id");
  ExpectError(alice->Post("/api/v1/jobs", R"({"command":["x"],"replicas":1,"region":"mars"})", "application/json"), 400,
              "region", "an unknown region");

  // The CLI scales it up and shows it.
  const std::string conn = " --url " + srv.url() + " --token " + alice_token;
  auto up = RunSuanli("scale " + id + " 3" + conn);
  ASSERT_EQ(up.code, 0) << up.out;
  EXPECT_NE(up.out.find("service " + id + ": 3 replica(s)"), std::string::npos) << up.out;
  for (int i = 0; i < 200 && !AllRunning(svc, 3); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    svc = Service(*alice, id);
  }
  ASSERT_TRUE(AllRunning(svc, 3)) << svc.dump();
  auto listed = Body(alice->Get("/api/v1/jobs?service=" + id));
  EXPECT_EQ(listed["jobs"].size(), 3u) << listed.dump();
  auto shown = RunSuanli("show " + id + conn);
  EXPECT_NE(shown.out.find("a replica of service " + id + " (suanli service " + id +
                           "), within 10 ms of region "
                           "shanghai"),
            std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find("none (restarted when it ends)"), std::string::npos) << shown.out;
  auto listed_services = RunSuanli("services" + conn);
  ASSERT_EQ(listed_services.code, 0) << listed_services.out;
  EXPECT_NE(listed_services.out.find(id + "        alice   "), std::string::npos) << listed_services.out;
  EXPECT_NE(listed_services.out.find("  3         3        east"), std::string::npos) << listed_services.out;
  EXPECT_TRUE(Body(bob->Get("/api/v1/services"))["services"].empty());
  EXPECT_EQ(Body(admin->Get("/api/v1/services"))["services"].size(), 1u);
  auto as_json = RunSuanli("service " + id + " --json" + conn);
  ASSERT_EQ(as_json.code, 0) << as_json.out;
  EXPECT_EQ(json::parse(as_json.out)["replicas"].size(), 3u);

  // Down to none: every replica is stopped and cancelled.
  auto down = RunSuanli("scale " + id + " 0" + conn);
  ASSERT_EQ(down.code, 0) << down.out;
  json all;
  bool ended = false;
  for (int i = 0; i < 200 && !ended; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    all = Body(alice->Get("/api/v1/jobs?service=" + id));
    ended = all["jobs"].size() == 3;
    for (const json& j : all["jobs"]) ended = ended && j.value("state", "") == "cancelled";
  }
  EXPECT_TRUE(ended) << all.dump();
  EXPECT_TRUE(Service(*alice, id)["replicas"].empty());
  auto submitted = RunSuanli("submit --replicas 1 --region shanghai --latency-ms 10" + conn + " -- sleep 1");
  ASSERT_EQ(submitted.code, 0) << submitted.out;
  EXPECT_NE(submitted.out.find("Submitted service "), std::string::npos) << submitted.out;
  const std::string sid = submitted.out.substr(18, submitted.out.find(' ', 18) - 18);
  ASSERT_EQ(RunSuanli("scale " + sid + " 0" + conn).code, 0);
  // A job file takes the same keys.
  std::ofstream(dir + "/svc.yaml") << "command: [sleep, '1']\nreplicas: 2\nregion: shanghai\nlatency_ms: 10\n";
  auto from_file = RunSuanli("submit --json -f " + dir + "/svc.yaml" + conn);
  ASSERT_EQ(from_file.code, 0) << from_file.out;
  const json ff = json::parse(from_file.out, nullptr, false);
  EXPECT_EQ(ff.value("replicas", 0), 2);
  EXPECT_EQ(ff.value("region", ""), "shanghai");
  EXPECT_EQ(ff.value("latency_ms", 0), 10);
  ASSERT_EQ(RunSuanli("scale " + std::to_string(ff.value("id", 0)) + " 0" + conn).code, 0);
}

}  // namespace
}  // namespace suanli
