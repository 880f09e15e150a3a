// End-to-end tests of `suanli serve`'s HTTP API: real server processes
// (SUANLI_BINARY) on free ports with their own data directories, spoken to
// over HTTP. Health, authentication and tenants, the job life cycle on a
// local center and its logs (not followed through a link or a FIFO), hostile
// requests (while another client keeps being served) and the OpenAPI
// document against the routes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/live_server.h"

namespace suanli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

using ::suanli::testing::live_server::Body;
using ::suanli::testing::live_server::ExpectError;
using ::suanli::testing::live_server::kAdminToken;
using ::suanli::testing::live_server::ServerProcess;
using ::suanli::testing::live_server::Submit;
using ::suanli::testing::live_server::TestDir;
using ::suanli::testing::live_server::WaitJob;

// A raw HTTP/1.1 request (paths a client library would normalise); the answer.
std::string RawRequest(int port, const std::string& request, int wait_s = 10) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    size_t off = 0;
    while (off < request.size()) {
      ssize_t n = write(s, request.data() + off, request.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    timeval tv{wait_s, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(s);
  return out;
}

int StatusOf(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) return -1;
  return std::atoi(raw.c_str() + 9);
}
std::string BodyOf(const std::string& raw) {
  size_t p = raw.find("\r\n\r\n");
  return p == std::string::npos ? "" : raw.substr(p + 4);
}

// ----------------------------------------------------------------------------

TEST(LiveServer, HealthAuthAndTenants) {
  std::string dir = TestDir("auth");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto anon = srv.Client();
  auto h = anon->Get("/api/v1/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(Body(h).value("ok", false), true);
  EXPECT_FALSE(Body(h).value("version", "").empty());

  // No token, an unknown token, a malformed header: 401 JSON.
  ExpectError(anon->Get("/api/v1/jobs"), 401, "Authorization", "no token");
  ExpectError(srv.Client("wrong-token")->Get("/api/v1/jobs"), 401, "Authorization", "bad token");
  ExpectError(anon->Get("/api/v1/whoami", {{"Authorization", "Basic YWRtaW46eA=="}}), 401, "Authorization",
              "basic auth");
  ExpectError(anon->Post("/api/v1/jobs", R"({"command":["true"]})", "application/json"), 401, "Authorization",
              "submit without token");

  auto admin = srv.Client(kAdminToken);
  auto who = Body(admin->Get("/api/v1/whoami"));
  EXPECT_EQ(who.value("tenant", ""), "admin");
  EXPECT_EQ(who.value("admin", false), true);

  // Tenants: created by the admin, each token shown once.
  auto ra = admin->Post("/api/v1/tenants", R"({"name":"alice","max_active_jobs":50})", "application/json");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->status, 201) << ra->body;
  std::string alice_token = Body(ra).value("token", "");
  EXPECT_EQ(Body(ra)["tenant"].value("name", ""), "alice");
  EXPECT_EQ(Body(ra)["tenant"].value("max_active_jobs", 0), 50);
  auto rb = admin->Post("/api/v1/tenants", R"({"name":"bob"})", "application/json");
  ASSERT_TRUE(rb);
  ASSERT_EQ(rb->status, 201) << rb->body;
  std::string bob_token = Body(rb).value("token", "");
  ASSERT_FALSE(alice_token.empty());
  ASSERT_NE(alice_token, bob_token);
  ExpectError(admin->Post("/api/v1/tenants", R"({"name":"Bad Name"})", "application/json"), 400, "name",
              "bad tenant name");
  ExpectError(admin->Post("/api/v1/tenants", R"({"name":"carol","quota":3})", "application/json"), 400, "quota",
              "unknown tenant key");

  auto alice = srv.Client(alice_token);
  auto bob = srv.Client(bob_token);
  EXPECT_EQ(Body(alice->Get("/api/v1/whoami")).value("tenant", ""), "alice");
  EXPECT_EQ(Body(alice->Get("/api/v1/whoami")).value("admin", true), false);
  ExpectError(alice->Post("/api/v1/tenants", R"({"name":"mallory"})", "application/json"), 403, "",
              "tenant creates a tenant");
  ExpectError(alice->Post("/api/v1/centers/local/drain", "", "application/json"), 403, "", "tenant drains");
  auto tl = Body(alice->Get("/api/v1/tenants"));
  ASSERT_TRUE(tl["tenants"].is_array());
  ASSERT_EQ(tl["tenants"].size(), 1u);
  EXPECT_EQ(tl["tenants"][0].value("name", ""), "alice");
  EXPECT_GE(Body(admin->Get("/api/v1/tenants"))["tenants"].size(), 3u);

  // Alice's job: hers and the admin's to see, not Bob's.
  int64_t id = Submit(*alice, json{{"command", {"sleep", "0.2"}}, {"name", "alices"}});
  ASSERT_GT(id, 0);
  std::string path = "/api/v1/jobs/" + std::to_string(id);
  auto ga = alice->Get(path);
  ASSERT_TRUE(ga);
  EXPECT_EQ(ga->status, 200);
  EXPECT_EQ(Body(ga).value("tenant", ""), "alice");
  ExpectError(bob->Get(path), 404, "", "other tenant's job");
  ExpectError(bob->Post(path + "/cancel", "", "application/json"), 404, "", "other tenant cancels");
  ExpectError(bob->Get(path + "/logs"), 404, "", "other tenant's logs");
  auto bl = Body(bob->Get("/api/v1/jobs?state=pending,running,succeeded,failed,cancelled"));
  ASSERT_TRUE(bl["jobs"].is_array());
  EXPECT_TRUE(bl["jobs"].empty()) << bl.dump();
  // A tenant asking for another tenant's list still gets only its own.
  EXPECT_TRUE(Body(bob->Get("/api/v1/jobs?tenant=alice"))["jobs"].empty());
  auto gl = admin->Get(path);
  ASSERT_TRUE(gl);
  EXPECT_EQ(gl->status, 200);
  auto al = Body(admin->Get("/api/v1/jobs?tenant=alice"));
  ASSERT_EQ(al["jobs"].size(), 1u);
  EXPECT_EQ(al["jobs"][0].value("id", int64_t{0}), id);
  WaitJob(*alice, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveServer, JobLifecycleAndLogs) {
  std::string dir = TestDir("lifecycle");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto admin = srv.Client(kAdminToken);

  auto r = admin->Post("/api/v1/jobs",
                       json{{"command", {"sh", "-c", "echo out-line; echo err-line >&2; printf 0123456789"}},
                            {"name", "lifecycle"},
                            {"env", {{"GREETING", "hi"}}},
                            {"time_limit_s", 60}}
                           .dump(),
                       "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  json job = Body(r);
  int64_t id = job.value("id", int64_t{0});
  ASSERT_GT(id, 0);
  EXPECT_EQ(job.value("state", ""), "pending");
  EXPECT_EQ(job.value("name", ""), "lifecycle");
  EXPECT_EQ(job["env"].value("GREETING", ""), "hi");
  EXPECT_EQ(r->get_header_value("Location"), "/api/v1/jobs/" + std::to_string(id));

  json done = WaitJob(*admin, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  ASSERT_EQ(done.value("state", ""), "succeeded") << done.dump() << "\n" << srv.log();
  EXPECT_EQ(done.value("exit_code", -1), 0);
  EXPECT_EQ(done.value("center", ""), "local");
  EXPECT_GT(done.value("start_ms", int64_t{0}), 0);
  EXPECT_GE(done.value("end_ms", int64_t{0}), done.value("start_ms", int64_t{0}));

  std::string logs = "/api/v1/jobs/" + std::to_string(id) + "/logs";
  auto out = admin->Get(logs);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(out->body, "out-line\n0123456789");
  EXPECT_EQ(out->get_header_value("X-Log-Size"), std::to_string(out->body.size()));
  EXPECT_EQ(out->get_header_value("X-Job-State"), "succeeded");
  auto err = admin->Get(logs + "?stream=stderr");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->body, "err-line\n");
  auto part = admin->Get(logs + "?offset=9&limit=4");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->body, "0123");
  auto past = admin->Get(logs + "?offset=1000");
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 200);
  EXPECT_EQ(past->body, "");

  // Listing by state, paging with before=.
  int64_t id2 = Submit(*admin, json{{"command", {"true"}}});
  int64_t id3 = Submit(*admin, json{{"command", {"true"}}});
  ASSERT_GT(id3, id2);
  WaitJob(*admin, id3, [](const std::string& s) { return s == "succeeded"; });
  WaitJob(*admin, id2, [](const std::string& s) { return s == "succeeded"; });
  auto l1 = Body(admin->Get("/api/v1/jobs?state=succeeded&limit=2"));
  ASSERT_EQ(l1["jobs"].size(), 2u) << l1.dump();
  EXPECT_EQ(l1["jobs"][0].value("id", int64_t{0}), id3);
  EXPECT_EQ(l1["jobs"][1].value("id", int64_t{0}), id2);
  auto l2 = Body(admin->Get("/api/v1/jobs?state=succeeded&limit=2&before=" + std::to_string(id2)));
  ASSERT_EQ(l2["jobs"].size(), 1u) << l2.dump();
  EXPECT_EQ(l2["jobs"][0].value("id", int64_t{0}), id);
  EXPECT_TRUE(Body(admin->Get("/api/v1/jobs?state=failed"))["jobs"].empty());

  // Cancel: a finished job is a conflict; a running one ends cancelled.
  ExpectError(admin->Post(logs.substr(0, logs.size() - 5) + "/cancel", "", "application/json"), 409, "",
              "cancel a finished job");
  int64_t sleeper = Submit(*admin, json{{"command", {"sleep", "100"}}});
  json running = WaitJob(*admin, sleeper, [](const std::string& s) { return s != "pending"; });
  ASSERT_EQ(running.value("state", ""), "running") << running.dump();
  auto c = admin->Post("/api/v1/jobs/" + std::to_string(sleeper) + "/cancel", "", "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200) << c->body;
  json cancelled = WaitJob(*admin, sleeper, [](const std::string& s) { return s == "cancelled" || s == "failed"; });
  EXPECT_EQ(cancelled.value("state", ""), "cancelled") << cancelled.dump();

  // DELETE cancels too.
  int64_t other = Submit(*admin, json{{"command", {"sleep", "100"}}});
  auto d = admin->Delete("/api/v1/jobs/" + std::to_string(other));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200) << d->body;
  EXPECT_EQ(
      WaitJob(*admin, other, [](const std::string& s) { return s == "cancelled" || s == "failed"; }).value("state", ""),
      "cancelled");

  // Usage of the finished jobs.
  auto u = Body(admin->Get("/api/v1/usage"));
  ASSERT_TRUE(u["usage"].is_array()) << u.dump();
  int64_t jobs = 0;
  for (const auto& row : u["usage"]) jobs += row.value("jobs", int64_t{0});
  EXPECT_GE(jobs, 3) << u.dump();
  auto none = Body(admin->Get("/api/v1/usage?from=0&to=1"));
  EXPECT_TRUE(none["usage"].empty()) << none.dump();

  // Centers.
  auto cs = Body(admin->Get("/api/v1/centers"));
  ASSERT_EQ(cs["centers"].size(), 1u);
  EXPECT_EQ(cs["centers"][0].value("name", ""), "local");
  EXPECT_EQ(cs["centers"][0].value("up", false), true);
  auto dr = admin->Post("/api/v1/centers/local/drain", "", "application/json");
  ASSERT_TRUE(dr);
  EXPECT_EQ(dr->status, 200) << dr->body;
  EXPECT_EQ(Body(dr).value("drained", false), true);
  auto rs = admin->Post("/api/v1/centers/local/resume", "", "application/json");
  ASSERT_TRUE(rs);
  EXPECT_EQ(Body(rs).value("drained", true), false);
  ExpectError(admin->Post("/api/v1/centers/nowhere/drain", "", "application/json"), 404, "", "unknown center");
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveServer, HostileRequestsGetJsonErrorsWhileOthersAreServed) {
  std::string dir = TestDir("hostile");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto admin = srv.Client(kAdminToken);
  int64_t real_id = Submit(*admin, json{{"command", {"true"}}});
  ASSERT_GT(real_id, 0);

  // Another client keeps using the server the whole time.
  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, bad{0};
  std::string last_bad;
  std::thread other([&] {
    auto cli = srv.Client(kAdminToken);
    while (!done.load()) {
      auto r = cli->Get("/api/v1/jobs/" + std::to_string(real_id));
      if (r && r->status == 200) {
        ++ok;
      } else {
        ++bad;
        last_bad = r ? std::to_string(r->status) : httplib::to_string(r.error());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  auto post = [&](const std::string& body) { return admin->Post("/api/v1/jobs", body, "application/json"); };
  ExpectError(post("{\"command\": [\"true\""), 400, "body", "truncated JSON");
  ExpectError(post("not json at all"), 400, "body", "not JSON");
  ExpectError(post(""), 400, "body", "empty body");
  ExpectError(post("[\"true\"]"), 400, "body", "array body");
  ExpectError(post("\"true\""), 400, "body", "string body");
  ExpectError(post("null"), 400, "body", "null body");
  ExpectError(post("{\"command\":[\"true\"]} trailing"), 400, "body", "trailing garbage");
  ExpectError(post(R"({"command":"true"})"), 400, "command", "command as a string");
  ExpectError(post(R"({"command":[]})"), 400, "command", "empty command");
  ExpectError(post(R"({"command":[1,2]})"), 400, "command[0]", "command of numbers");
  ExpectError(post(R"({"gpus":1})"), 400, "command", "no command");
  ExpectError(post(R"({"command":["true"],"gpus":"2"})"), 400, "gpus", "gpus as a string");
  ExpectError(post(R"({"command":["true"],"gpus":-1})"), 400, "gpus", "negative gpus");
  ExpectError(post(R"({"command":["true"],"gpus":1.5})"), 400, "gpus", "fractional gpus");
  ExpectError(post(R"({"command":["true"],"gpus":99999999999999999999999999})"), 400, "gpus", "huge gpus");
  ExpectError(post(R"({"command":["true"],"gpus":18446744073709551615})"), 400, "gpus", "uint64 max gpus");
  ExpectError(post(R"({"command":["true"],"cpu_milli":1e300})"), 400, "cpu_milli", "huge float");
  ExpectError(post(R"({"command":["true"],"time_limit_s":9223372036854775807})"), 400, "time_limit_s",
              "int64 max time limit");
  ExpectError(post(R"({"command":["true"],"priority":4294967296})"), 400, "priority", "priority over int32");
  ExpectError(post(R"({"command":["true"],"env":{"A":1}})"), 400, "env.A", "env value not a string");
  ExpectError(post(R"({"command":["true"],"env":["A=1"]})"), 400, "env", "env as an array");
  ExpectError(post(R"({"command":["true"],"models":"a100"})"), 400, "models", "models as a string");
  ExpectError(post(R"({"command":["true"],"bogus":1})"), 400, "bogus", "unknown key");
  ExpectError(post(R"({"command":["true"],"gpus":0,"gpus":1})"), 400, "gpus", "key given twice");
  ExpectError(post(R"({"command":["true"],"env":{"A":"1","A":"2"}})"), 400, "env.A", "env key given twice");
  ExpectError(post(R"({"command":["true"],"name":"a\u0000b"})"), 400, "name", "NUL in a name");
  ExpectError(post("{\"command\":[\"true\"],\"name\":\"\xff\xfe\"}"), 400, "body", "invalid UTF-8");
  ExpectError(post(std::string(200000, '[') + std::string(200000, ']')), 400, "body", "deep nesting");
  // Semantic checks of the control plane: 400 naming the field.
  ExpectError(post(R"({"command":["true"],"gpus":4})"), 400, "gpus", "gpus on a CPU-only center");
  ExpectError(post(R"({"command":["true"],"center":"nowhere"})"), 400, "center", "unknown center");
  // A 10 MB body: 413, the connection is answered, not dropped.
  ExpectError(post("{\"command\":[\"" + std::string(10 << 20, 'x') + "\"]}"), 413, "body", "10 MB body");

  // Bad ids and query parameters.
  ExpectError(admin->Get("/api/v1/jobs/abc"), 400, "id", "id abc");
  ExpectError(admin->Get("/api/v1/jobs/0"), 400, "id", "id 0");
  ExpectError(admin->Get("/api/v1/jobs/-3"), 400, "id", "negative id");
  ExpectError(admin->Get("/api/v1/jobs/99999999999999999999999"), 400, "id", "overflowing id");
  ExpectError(admin->Get("/api/v1/jobs/12abc/logs"), 400, "id", "id with letters (logs)");
  ExpectError(admin->Post("/api/v1/jobs/1e3/cancel", "", "application/json"), 400, "id", "float id (cancel)");
  ExpectError(admin->Get("/api/v1/jobs/987654321"), 404, "", "no such job");
  ExpectError(admin->Get("/api/v1/jobs?limit=0"), 400, "limit", "limit 0");
  ExpectError(admin->Get("/api/v1/jobs?limit=abc"), 400, "limit", "limit abc");
  ExpectError(admin->Get("/api/v1/jobs?limit=99999999999999999999"), 400, "limit", "limit overflow");
  ExpectError(admin->Get("/api/v1/jobs?before=-1"), 400, "before", "before -1");
  ExpectError(admin->Get("/api/v1/jobs?state=sleeping"), 400, "state", "unknown state");
  ExpectError(admin->Get("/api/v1/jobs?colour=red"), 400, "colour", "unknown parameter");
  ExpectError(admin->Get("/api/v1/jobs?limit=1&limit=2"), 400, "limit", "repeated parameter");
  ExpectError(admin->Get("/api/v1/jobs?limit=%zz"), 400, "query", "bad percent escape");
  ExpectError(admin->Get("/api/v1/usage?from=5&to=1"), 400, "to", "to before from");
  ExpectError(admin->Get("/api/v1/whoami?x=1"), 400, "x", "parameter on a route without any");
  std::string logs = "/api/v1/jobs/" + std::to_string(real_id) + "/logs";
  ExpectError(admin->Get(logs + "?stream=../../../../etc/passwd"), 400, "stream", "log stream traversal");
  ExpectError(admin->Get(logs + "?stream=stdout%2F..%2F..%2Fsuanli.db"), 400, "stream", "encoded stream traversal");
  ExpectError(admin->Get(logs + "?offset=-1"), 400, "offset", "negative offset");
  ExpectError(admin->Get(logs + "?limit=999999999999"), 400, "limit", "huge log limit");

  // Routes and methods.
  ExpectError(admin->Get("/api/v1/nothing-here"), 404, "", "unknown API route");
  ExpectError(admin->Get("/api/v2/jobs"), 404, "", "unknown API version");
  ExpectError(admin->Put("/api/v1/jobs", "{}", "application/json"), 405, "", "PUT on jobs");
  ExpectError(admin->Delete("/api/v1/jobs"), 405, "", "DELETE on the job list");
  ExpectError(admin->Post("/api/v1/health", "", "application/json"), 405, "", "POST on health");

  // Path traversal in static routes, with raw requests a client would not send.
  for (std::string target : {"/../../../../etc/passwd", "/assets/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                             "/..%2f..%2fetc%2fpasswd", "/assets/..\\..\\etc\\passwd"}) {
    std::string raw = RawRequest(srv.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(StatusOf(raw), 400) << target << ": " << raw.substr(0, 300);
    EXPECT_EQ(BodyOf(raw).find("root:"), std::string::npos) << target;
    json j = json::parse(BodyOf(raw), nullptr, false);
    EXPECT_TRUE(j.is_object() && j["error"].value("field", "") == "path") << target << ": " << BodyOf(raw);
  }
  // Garbage instead of HTTP: the connection is closed, the server goes on.
  // (Not HTTP, no end of headers: the server waits for more until its read
  // timeout; the client stops listening after 2 s.)
  RawRequest(srv.port(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(3000, 'A'), 2);
  RawRequest(srv.port(), "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n");
  RawRequest(srv.port(),
             "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n");

  // (The hostile requests may all be answered within a few hundred
  // milliseconds: the other client gets its requests in before it stops.)
  for (auto until = Clock::now() + std::chrono::seconds(10); ok.load() <= 10 && Clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done.store(true);
  other.join();
  EXPECT_EQ(bad.load(), 0) << "the other client failed " << bad.load() << " times, last: " << last_bad;
  EXPECT_GT(ok.load(), 10);
  auto h = admin->Get("/api/v1/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  // No job was created by any hostile request.
  auto all = Body(admin->Get("/api/v1/jobs?limit=1000&state=pending,running,succeeded,failed,cancelled"));
  EXPECT_EQ(all["jobs"].size(), 1u) << all.dump().substr(0, 2000);
  EXPECT_EQ(srv.Stop(), 0) << srv.log();
  fs::remove_all(dir);
}

TEST(LiveServer, OpenApiListsEveryRouteAndEachAnswers) {
  std::string dir = TestDir("openapi");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto admin = srv.Client(kAdminToken);
  auto r = srv.Client()->Get("/api/v1/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json doc = Body(r);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.value("openapi", "").substr(0, 2), "3.");
  ASSERT_TRUE(doc["paths"].is_object());
  ASSERT_TRUE(doc["components"]["schemas"].contains("Job"));
  ASSERT_TRUE(doc["components"]["schemas"].contains("Error"));
  // It is data/api/openapi.json (which the linter and the dashboard's types read), with the version.
  {
    std::ifstream in(std::string(SUANLI_SOURCE_DIR) + "/data/api/openapi.json");
    json file = json::parse(in, nullptr, false);
    ASSERT_TRUE(file.is_object());
    file["info"]["version"] = doc["info"]["version"];
    EXPECT_EQ(file, doc);
  }

  // Every route of docs/api.md is described.
  const std::set<std::pair<std::string, std::string>> expected = {{"post", "/api/v1/jobs"},
                                                                  {"get", "/api/v1/jobs"},
                                                                  {"get", "/api/v1/jobs/{id}"},
                                                                  {"delete", "/api/v1/jobs/{id}"},
                                                                  {"post", "/api/v1/jobs/{id}/cancel"},
                                                                  {"get", "/api/v1/jobs/{id}/logs"},
                                                                  {"get", "/api/v1/centers"},
                                                                  {"post", "/api/v1/centers/{name}/drain"},
                                                                  {"post", "/api/v1/centers/{name}/resume"},
                                                                  {"get", "/api/v1/tenants"},
                                                                  {"post", "/api/v1/tenants"},
                                                                  {"get", "/api/v1/usage"},
                                                                  {"get", "/api/v1/quotas"},
                                                                  {"put", "/api/v1/quotas"},
                                                                  {"delete", "/api/v1/quotas"},
                                                                  {"get", "/api/v1/datasets"},
                                                                  {"post", "/api/v1/datasets"},
                                                                  {"get", "/api/v1/datasets/{name}"},
                                                                  {"delete", "/api/v1/datasets/{name}"},
                                                                  {"post", "/api/v1/jobs/{id}/checkpoint"},
                                                                  {"get", "/api/v1/services"},
                                                                  {"get", "/api/v1/services/{id}"},
                                                                  {"put", "/api/v1/services/{id}"},
                                                                  {"get", "/api/v1/whoami"},
                                                                  {"post", "/api/v1/centers"},
                                                                  {"post", "/api/v1/centers/{name}/sync"},
                                                                  {"get", "/api/v1/health"},
                                                                  {"get", "/api/v1/openapi.json"},
                                                                  {"get", "/metrics"}};
  std::set<std::pair<std::string, std::string>> described;
  std::set<std::string> operation_ids;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      if (m.key() == "parameters") continue;
      described.emplace(m.key(), p.key());
      EXPECT_TRUE(m.value().contains("responses")) << m.key() << " " << p.key();
      // Every operation has an operationId, each its own (clients are generated from them).
      std::string op = m.value().value("operationId", "");
      EXPECT_FALSE(op.empty()) << m.key() << " " << p.key();
      EXPECT_TRUE(operation_ids.insert(op).second) << "operationId " << op << " twice";
    }
  }
  for (const auto& e : expected)
    EXPECT_TRUE(described.count(e)) << "not in openapi.json: " << e.first << " " << e.second;

  // Every described route answers (not "no such route", not a server error).
  int n = 0;
  for (const auto& route : described) {
    // (Named references, not a structured binding: a lambda below uses them.)
    const std::string& method = route.first;
    const std::string& templ = route.second;
    // A service's routes take a service (a one-replica one).
    const bool service = templ.starts_with("/api/v1/services/");
    int64_t id = service ? Submit(*admin, json{{"command", {"sleep", "30"}}, {"replicas", 1}})
                         : Submit(*admin, json{{"command", {"sleep", "30"}}});
    ASSERT_GT(id, 0);
    std::string path = std::regex_replace(templ, std::regex("\\{id\\}"), std::to_string(id));
    path = std::regex_replace(path, std::regex("\\{name\\}"), "local");
    if (templ == "/api/v1/jobs/{id}/checkpoint") {
      // Only a running job has a run to checkpoint.
      for (int i = 0; i < 200; ++i) {
        auto g = admin->Get("/api/v1/jobs/" + std::to_string(id));
        if (g && json::parse(g->body, nullptr, false).value("state", "") == "running") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    // A dataset named "local" to read and delete (registered again each time).
    const std::string dataset = R"({"name":"local","center":"local","size_gb":1})";
    if (templ == "/api/v1/datasets/{name}") admin->Post("/api/v1/datasets", dataset, "application/json");
    auto call = [&]() -> httplib::Result {
      if (method == "get") return admin->Get(path);
      if (method == "delete") return admin->Delete(path);
      std::string body;
      if (templ == "/api/v1/jobs") body = R"({"command":["true"]})";
      if (templ == "/api/v1/tenants") body = json{{"name", "t" + std::to_string(n)}}.dump();
      if (templ == "/api/v1/quotas") body = R"({"tenants":[{"name":"t0","nominal":"50%"}]})";
      if (templ == "/api/v1/datasets") body = dataset;
      if (templ == "/api/v1/centers") body = R"({"name":"local"})";
      if (service) body = R"({"replicas":1})";
      if (method == "put") return admin->Put(path, body, "application/json");
      return admin->Post(path, body, "application/json");
    };
    ASSERT_TRUE(method == "get" || method == "delete" || method == "post" || method == "put") << method;
    httplib::Result res = call();
    ASSERT_TRUE(res) << method << " " << path;
    // This server has no agent's center (LiveAgent.* runs those routes): a
    // local center gets no credential, and the admin's token is not one.
    const int want = templ == "/api/v1/centers/{name}/sync"           ? 401
                     : templ == "/api/v1/centers" && method == "post" ? 409
                                                                      : 0;
    if (want) EXPECT_EQ(res->status, want) << method << " " << path << ": " << res->body.substr(0, 300);
    else
      EXPECT_TRUE(res->status >= 200 && res->status < 300)
          << method << " " << path << ": " << res->status << " " << res->body.substr(0, 300);
    // The answer is one the document lists for that route.
    EXPECT_TRUE(doc["paths"][templ][method]["responses"].contains(std::to_string(res->status)))
        << method << " " << templ << " answered " << res->status;
    ++n;
    admin->Post("/api/v1/jobs/" + std::to_string(id) + "/cancel", "", "application/json");
  }
  EXPECT_EQ(n, static_cast<int>(described.size()));
  // Every route but the public ones answers 401 to a caller without a token
  // or with a wrong one, and does nothing.
  const std::set<std::string> open = {"/api/v1/health", "/api/v1/openapi.json", "/metrics"};
  const int64_t jobs_before = Body(admin->Get("/api/v1/jobs?limit=1000"))["jobs"].size();
  for (const auto& [method, templ] : described) {
    if (open.count(templ)) continue;
    std::string path = std::regex_replace(templ, std::regex("\\{id\\}"), "1");
    path = std::regex_replace(path, std::regex("\\{name\\}"), "local");
    for (const char* token : {"", "not-a-token-of-anyone"}) {
      auto c = srv.Client(token);
      httplib::Result res = method == "get"      ? c->Get(path)
                            : method == "delete" ? c->Delete(path)
                            : method == "put"    ? c->Put(path, R"({"tenants":[]})", "application/json")
                                              : c->Post(path, R"({"command":["true"],"name":"x"})", "application/json");
      ASSERT_TRUE(res) << method << " " << path;
      EXPECT_EQ(res->status, 401) << method << " " << path << " token '" << token << "': " << res->body.substr(0, 200);
      EXPECT_TRUE(doc["paths"][templ][method]["responses"].contains("401")) << method << " " << templ;
    }
  }
  EXPECT_EQ(Body(admin->Get("/api/v1/jobs?limit=1000"))["jobs"].size(), jobs_before);
  EXPECT_EQ(admin->Get("/api/v1/jobs/1")->status, 200);  // not deleted
  // Cancel whatever is still active before stopping (local jobs outlive the server).
  auto act = Body(admin->Get("/api/v1/jobs?state=pending,running&limit=1000"));
  for (const auto& j : act["jobs"]) {
    admin->Post("/api/v1/jobs/" + std::to_string(j.value("id", int64_t{0})) + "/cancel", "", "application/json");
  }
  for (const auto& j : act["jobs"]) {
    WaitJob(*admin, j.value("id", int64_t{0}),
            [](const std::string& s) { return s == "cancelled" || s == "failed" || s == "succeeded"; });
  }
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

// A job owns its directory: it replaces its stdout by a link to the server's
// database and its stderr by a FIFO. Reading its logs must neither serve the
// database nor hang.
TEST(LiveServer, ALogReplacedByALinkOrAFifoIsNotFollowed) {
  std::string dir = TestDir("loglink");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto admin = srv.Client(kAdminToken);
  std::string db = fs::absolute(dir + "/data/suanli.db").lexically_normal().string();
  int64_t id =
      Submit(*admin, json{{"command", {"sh", "-c", "rm -f stdout stderr; ln -s " + db + " stdout; mkfifo stderr"}}});
  json done = WaitJob(*admin, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  ASSERT_EQ(done.value("state", ""), "succeeded") << done.dump() << "\n" << srv.log();
  std::string logs = "/api/v1/jobs/" + std::to_string(id) + "/logs";
  auto out = admin->Get(logs);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(out->body.find("SQLite format"), std::string::npos);
  EXPECT_EQ(out->body, "");
  auto err = admin->Get(logs + "?stream=stderr");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 200);
  EXPECT_EQ(err->body, "");
}

}  // namespace
}  // namespace suanli
