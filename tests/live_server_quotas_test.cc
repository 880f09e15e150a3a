// Tenant quotas through a running `suanli serve`: the HTTP API (who may read
// and change them, hostile and malformed documents), the CLI's `quotas`
// commands, and the quotas set through the API across a restart.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/cli.h"
#include "support/live_server.h"

namespace suanli {
namespace {

using ::suanli::testing::RunSuanli;
using namespace ::suanli::testing::live_server;  // NOLINT(google-build-using-namespace)

TEST(LiveServerQuotas, TheAdminSetsShowsAndClearsQuotasOthersCannot) {
  std::string dir = TestDir("quotas");
  fs::create_directories(dir);
  {
    std::ofstream cfg(dir + "/server.yaml");
    cfg << "network: tiny\nquotas:\n  cohort: labs\n  tenants:\n    - {name: alice, nominal: 25%, borrowing_limit: 0}\n"
           "    - {name: carol, nominal: 75%}\n";
  }
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {"--config", dir + "/server.yaml"}));
  auto anon = srv.Client();
  auto admin = srv.Client(kAdminToken);

  // The config's quotas, as a quota document and per center.
  json q = Body(admin->Get("/api/v1/quotas"));
  ASSERT_TRUE(q.is_object()) << q.dump();
  EXPECT_EQ(q["quotas"].value("cohort", ""), "labs");
  ASSERT_EQ(q["quotas"]["tenants"].size(), 2u);
  EXPECT_EQ(q["quotas"]["tenants"][0].value("nominal", ""), "25%");
  ASSERT_EQ(q["usage"].size(), 4u);  // alice and carol at east and west
  EXPECT_EQ(q["usage"][0].value("center", ""), "east");
  EXPECT_EQ(q["usage"][0].value("tenant", ""), "alice");
  EXPECT_EQ(q["usage"][0].value("nominal", 0.0), 8.0);
  EXPECT_TRUE(q["usage"][1]["borrowing_limit"].is_null());  // carol: unlimited

  // No token: 401 for every method; a tenant reads its own and changes nothing.
  ExpectError(anon->Get("/api/v1/quotas"), 401, "Authorization", "GET without token");
  ExpectError(anon->Put("/api/v1/quotas", R"({"tenants":[]})", "application/json"), 401, "Authorization",
              "PUT without token");
  ExpectError(anon->Delete("/api/v1/quotas"), 401, "Authorization", "DELETE without token");
  auto ra = admin->Post("/api/v1/tenants", R"({"name":"alice"})", "application/json");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->status, 201) << ra->body;
  auto alice = srv.Client(Body(ra).value("token", ""));
  ExpectError(alice->Put("/api/v1/quotas", R"({"tenants":[{"name":"alice","nominal":"100%"}]})", "application/json"),
              403, "", "a tenant raises its own quota");
  ExpectError(alice->Delete("/api/v1/quotas"), 403, "", "a tenant removes the quotas");
  json mine = Body(alice->Get("/api/v1/quotas"));
  ASSERT_EQ(mine["quotas"]["tenants"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["quotas"]["tenants"][0].value("name", ""), "alice");
  for (const auto& u : mine["usage"]) EXPECT_EQ(u.value("tenant", ""), "alice");

  // Malformed and invalid documents: 400 with the parser's message; nothing changes.
  ExpectError(admin->Put("/api/v1/quotas", "{", "application/json"), 400, "", "truncated JSON");
  ExpectError(admin->Put("/api/v1/quotas", R"({"tenants":[{"name":"x","nominal":"300%"}]})", "application/json"), 400,
              "", "a share above 100%");
  ExpectError(admin->Put("/api/v1/quotas", R"({"tenants":[{"name":"x","nominal":1,"extra":2}]})", "application/json"),
              400, "", "an unknown key");
  ExpectError(admin->Put("/api/v1/quotas", R"({"tenants":[]})", "application/json"), 400, "", "no quota at all");
  ExpectError(admin->Put("/api/v1/quotas", std::string(4 << 20, ' '), "application/json"), 413, "", "4 MiB");
  EXPECT_EQ(Body(admin->Get("/api/v1/quotas"))["quotas"].value("cohort", ""), "labs");

  // The CLI: show, set from a file (checked first, errors naming the line), clear.
  const std::string conn = " --url " + srv.url() + " --token " + kAdminToken;
  auto shown = RunSuanli("quotas" + conn);
  EXPECT_EQ(shown.code, 0) << shown.out;
  EXPECT_NE(shown.out.find("east    alice   8"), std::string::npos) << shown.out;
  {
    std::ofstream bad(dir + "/bad.yaml");
    bad << "tenants:\n  - {name: alice, nominal: 20%, borrowing_limit: 5}\n";
  }
  auto refused = RunSuanli("quotas set " + dir + "/bad.yaml" + conn);
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("bad.yaml:2"), std::string::npos) << refused.out;
  {
    std::ofstream good(dir + "/good.yaml");
    good << "cohort: new\ntenants:\n  - {name: alice, nominal: 16, borrowing_limit: unlimited}\n";
  }
  auto set = RunSuanli("quotas set " + dir + "/good.yaml" + conn);
  EXPECT_EQ(set.code, 0) << set.out;
  EXPECT_NE(set.out.find("cohort new"), std::string::npos) << set.out;
  json after = Body(admin->Get("/api/v1/quotas"));
  EXPECT_EQ(after["quotas"]["tenants"][0].value("nominal", 0.0), 16.0) << after.dump();
  EXPECT_EQ(after["quotas"]["tenants"][0].value("borrowing_limit", ""), "unlimited") << after.dump();

  // Set through the API: kept across a restart, over the config's.
  ASSERT_EQ(srv.Stop(), 0);
  ASSERT_TRUE(srv.Start(dir + "/data", {"--config", dir + "/server.yaml"}));
  admin = srv.Client(kAdminToken);
  EXPECT_EQ(Body(admin->Get("/api/v1/quotas"))["quotas"].value("cohort", ""), "new");
  auto cleared = RunSuanli("quotas clear --url " + srv.url() + " --token " + kAdminToken);
  EXPECT_EQ(cleared.code, 0) << cleared.out;
  EXPECT_NE(cleared.out.find("No quotas"), std::string::npos) << cleared.out;
  json none = Body(admin->Get("/api/v1/quotas"));
  EXPECT_TRUE(none["quotas"].is_null()) << none.dump();
  EXPECT_TRUE(none["usage"].empty()) << none.dump();
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace suanli
