// End-to-end tests of running `suanli serve` (real server processes, as in
// live_server_test.cc): Prometheus metrics, TLS, the dashboard's files and
// the static file table, configuration errors and SIGTERM.
#include <signal.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/static_files.h"
#include "server/web_files.h"
#include "support/cli.h"
#include "support/live_server.h"

namespace suanli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using ::suanli::testing::RunShell;
using ::suanli::testing::live_server::Body;
using ::suanli::testing::live_server::ExpectError;
using ::suanli::testing::live_server::kAdminToken;
using ::suanli::testing::live_server::ServerProcess;
using ::suanli::testing::live_server::Submit;
using ::suanli::testing::live_server::TestDir;
using ::suanli::testing::live_server::WaitJob;

// Parses the Prometheus text exposition format (0.0.4): every line is a
// comment (# HELP / # TYPE), blank, or `name{labels} value`. Returns
// name{labels} -> value; fails the test on a malformed line.
std::map<std::string, double> ParsePrometheus(const std::string& text, std::map<std::string, std::string>* types) {
  std::map<std::string, double> out;
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)?\})? ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, m, kType)) << "bad TYPE line: " << line;
      if (!m.empty()) (*types)[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      ADD_FAILURE() << "not a Prometheus sample line: " << line;
      continue;
    }
    std::string v = m[8];
    out[m[1].str() + m[2].str()] = v == "+Inf" || v == "Inf" ? INFINITY : std::strtod(v.c_str(), nullptr);
  }
  return out;
}

TEST(LiveServer, MetricsArePrometheusText) {
  std::string dir = TestDir("metrics");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {"--network", "tiny"}));
  auto admin = srv.Client(kAdminToken);
  int64_t id = Submit(*admin, json{{"command", {"train"}}, {"gpus", 2}, {"duration_s", 1}});
  ASSERT_GT(id, 0);
  json done = WaitJob(*admin, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  EXPECT_EQ(done.value("state", ""), "succeeded") << done.dump();
  ExpectError(admin->Get("/api/v1/jobs/abc"), 400, "id", "a 400 to count");

  auto r = srv.Client()->Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_NE(r->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  std::map<std::string, std::string> types;
  auto m = ParsePrometheus(r->body, &types);
  for (const char* c : {"east", "west"}) {
    std::string l = std::string("{center=\"") + c + "\"}";
    EXPECT_TRUE(m.count("suanli_queue_depth" + l)) << l;
    EXPECT_TRUE(m.count("suanli_running_jobs" + l)) << l;
    EXPECT_EQ(m["suanli_center_up" + l], 1) << l;
  }
  EXPECT_EQ(m["suanli_accelerators{center=\"east\",model=\"A100-80GB\"}"], 32);
  EXPECT_EQ(m["suanli_accelerators{center=\"west\",model=\"V100-32GB\"}"], 16);
  EXPECT_TRUE(m.count("suanli_accelerators_busy{center=\"east\",model=\"A100-80GB\"}"));
  EXPECT_TRUE(m.count("suanli_utilisation{model=\"A100-80GB\"}"));
  EXPECT_TRUE(m.count("suanli_utilisation{model=\"V100-32GB\"}"));
  EXPECT_GE(m["suanli_submissions_total"], 1);
  EXPECT_GE(m["suanli_jobs_succeeded_total"], 1);
  EXPECT_TRUE(m.count("suanli_job_failures_total"));
  EXPECT_GE(m["suanli_http_requests_total{code=\"201\"}"], 1);
  EXPECT_GE(m["suanli_http_requests_total{code=\"400\"}"], 1);
  EXPECT_GE(m["suanli_http_requests_total{code=\"200\"}"], 1);
  EXPECT_EQ(types["suanli_pass_duration_seconds"], "histogram");
  EXPECT_EQ(types["suanli_last_decision_to_launch_seconds"], "gauge");
  EXPECT_EQ(types["suanli_submissions_total"], "counter");
  EXPECT_EQ(types["suanli_queue_depth"], "gauge");
  // Histogram: cumulative buckets ending with +Inf == _count.
  double prev = 0;
  int buckets = 0;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("suanli_pass_duration_seconds_bucket{", 0) != 0) continue;
    double v = std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
    EXPECT_GE(v, prev) << line;
    prev = v;
    ++buckets;
  }
  EXPECT_GE(buckets, 2);
  EXPECT_EQ(m["suanli_pass_duration_seconds_bucket{le=\"+Inf\"}"], m["suanli_pass_duration_seconds_count"]);
  EXPECT_GE(m["suanli_pass_duration_seconds_count"], 1);
  EXPECT_TRUE(m.count("suanli_pass_duration_seconds_sum"));
  // Prometheus's own linter (Debian's prometheus package, from install-deps)
  // finds nothing: names, types, help, base units.
  {
    std::ofstream(dir + "/metrics.txt") << r->body;
    auto lint = RunShell("promtool check metrics < " + dir + "/metrics.txt");
    EXPECT_EQ(lint.code, 0) << "promtool check metrics (installed by scripts/install-deps.sh):\n" << lint.out;
  }
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveServer, Tls) {
  std::string dir = TestDir("tls");
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  auto gen = RunShell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(gen.code, 0) << gen.out;
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data", {}, cert, key));
  ASSERT_EQ(srv.url().substr(0, 8), "https://");
  auto admin = srv.Client(kAdminToken);  // trusts the self-signed certificate
  auto h = admin->Get("/api/v1/health");
  ASSERT_TRUE(h) << httplib::to_string(h.error());
  EXPECT_EQ(h->status, 200);
  int64_t id = Submit(*admin, json{{"command", {"true"}}});
  EXPECT_GT(id, 0);
  // Without trusting the certificate, the client refuses; plain HTTP gets nothing.
  httplib::Client untrusting(srv.url());  // the system's CAs only
  untrusting.set_connection_timeout(3, 0);
  auto bad = untrusting.Get("/api/v1/health");
  EXPECT_FALSE(bad && bad->status == 200);
  httplib::Client plain("http://127.0.0.1:" + std::to_string(srv.port()));
  plain.set_connection_timeout(3, 0);
  plain.set_read_timeout(3, 0);
  auto pr = plain.Get("/api/v1/health");
  EXPECT_FALSE(pr && pr->status == 200);
  // The CLI over HTTPS with the CA certificate.
  auto cli = RunShell(std::string(SUANLI_BINARY) + " show " + std::to_string(id) + " --json --url " + srv.url() +
                      " --token " + kAdminToken + " --ca-cert " + cert);
  EXPECT_EQ(cli.code, 0) << cli.out;
  EXPECT_NE(cli.out.find("\"id\": " + std::to_string(id)), std::string::npos) << cli.out;
  // A certificate that does not load: exit 2 naming tls_cert.
  auto badcert = RunShell(std::string(SUANLI_BINARY) + " serve --listen 127.0.0.1:0 --data " + dir +
                          "/data2 --tls-cert " + key + " --tls-key " + cert);
  EXPECT_EQ(badcert.code, 2) << badcert.out;
  EXPECT_NE(badcert.out.find("tls_cert"), std::string::npos) << badcert.out;
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveServer, DashboardFiles) {
  std::string dir = TestDir("static");
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  auto cli = srv.Client();
  auto root = cli->Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_NE(root->get_header_value("Content-Type").find("text/html"), std::string::npos);
  // Client-side routes get the same page.
  auto route = cli->Get("/jobs/17");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, root->body);
  const auto& files = EmbeddedWebFiles();
  if (files.empty()) {
    EXPECT_NE(root->body.find("not"), std::string::npos);
    EXPECT_NE(root->body.find("build"), std::string::npos);
  } else {
    for (const auto& f : files) {
      auto r = cli->Get("/" + std::string(f.path));
      ASSERT_TRUE(r) << f.path;
      EXPECT_EQ(r->status, 200) << f.path;
      EXPECT_EQ(r->body, std::string(f.data)) << f.path;
      std::string ct = r->get_header_value("Content-Type");
      std::string p(f.path);
      if (p.size() > 3 && p.substr(p.size() - 3) == ".js") {
        EXPECT_NE(ct.find("javascript"), std::string::npos) << p;
      }
      if (p.size() > 4 && p.substr(p.size() - 4) == ".css") {
        EXPECT_NE(ct.find("text/css"), std::string::npos) << p;
      }
      if (p.size() > 5 && p.substr(p.size() - 5) == ".html") {
        EXPECT_NE(ct.find("text/html"), std::string::npos) << p;
      }
    }
  }
  // API and metrics paths never fall back to the page.
  ExpectError(cli->Get("/api/v1/unknown"), 404, "", "unknown API path");
  ExpectError(cli->Get("/api"), 404, "", "/api");
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

// The file table itself: with and without a built dashboard.
TEST(LiveServer, StaticFilesTable) {
  server::StaticFiles none(std::vector<EmbeddedFileEntry>{});
  EXPECT_FALSE(none.built());
  const server::StaticFile* page = none.Find("/");
  ASSERT_NE(page, nullptr);
  EXPECT_NE(std::string(page->data).find("scripts/build-web.sh"), std::string::npos);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(none.Find("/jobs/3"), page);

  const std::vector<EmbeddedFileEntry> files = {{"index.html", "<html>app</html>"},
                                                {"assets/app-1.js", "js"},
                                                {"assets/app-1.css", "css"},
                                                {"favicon.svg", "<svg/>"},
                                                {"docs/index.html", "docs"}};
  server::StaticFiles t(files);
  EXPECT_TRUE(t.built());
  ASSERT_NE(t.Find("/"), nullptr);
  EXPECT_EQ(t.Find("/")->data, "<html>app</html>");
  EXPECT_EQ(t.Find("/assets/app-1.js")->data, "js");
  EXPECT_EQ(t.Find("/assets/app-1.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_TRUE(t.Find("/assets/app-1.js")->immutable);
  EXPECT_FALSE(t.Find("/")->immutable);
  EXPECT_EQ(t.Find("/assets/app-1.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(t.Find("/favicon.svg")->content_type, "image/svg+xml");
  EXPECT_EQ(t.Find("/docs/")->data, "docs");
  EXPECT_EQ(t.Find("/tenants/alice")->data, "<html>app</html>");  // a client-side route
  EXPECT_EQ(t.Find("/../index.html"), nullptr);
  EXPECT_EQ(t.Find("/assets/../../x"), nullptr);
  EXPECT_EQ(t.Find("/a\\b"), nullptr);
  EXPECT_EQ(t.Find(std::string_view("/a\0b", 4)), nullptr);
  EXPECT_NE(t.Find("/..hidden"), nullptr);  // not a ".." segment
  EXPECT_EQ(server::ContentTypeFor("x.unknownext"), "application/octet-stream");
  EXPECT_EQ(server::ContentTypeFor("dir.d/file"), "application/octet-stream");
}

TEST(LiveServer, BadConfigurationExitsTwoNamingTheKey) {
  std::string dir = TestDir("config");
  const std::string bin = SUANLI_BINARY;
  auto r1 = RunShell(bin + " serve --listen nonsense --data " + dir + "/d1");
  EXPECT_EQ(r1.code, 2) << r1.out;
  EXPECT_NE(r1.out.find("listen"), std::string::npos) << r1.out;
  auto r2 = RunShell("SUANLI_POLICY=no-such-policy " + bin + " serve --listen 127.0.0.1:0 --data " + dir + "/d2");
  EXPECT_EQ(r2.code, 2) << r2.out;
  EXPECT_NE(r2.out.find("policy"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find("SUANLI_POLICY"), std::string::npos) << r2.out;
  {
    std::ofstream f(dir + "/bad.yaml");
    f << "listen: 127.0.0.1:0\nhttp_treads: 4\n";
  }
  auto r3 = RunShell(bin + " serve --config " + dir + "/bad.yaml --data " + dir + "/d3");
  EXPECT_EQ(r3.code, 2) << r3.out;
  EXPECT_NE(r3.out.find("http_treads"), std::string::npos) << r3.out;
  auto r4 = RunShell(bin + " serve --http-threads 0 --listen 127.0.0.1:0 --data " + dir + "/d4");
  EXPECT_EQ(r4.code, 2) << r4.out;
  EXPECT_NE(r4.out.find("http_threads"), std::string::npos) << r4.out;
  auto r5 = RunShell(bin + " serve --bogus-flag");
  EXPECT_EQ(r5.code, 2) << r5.out;
  // The environment wins over the file (a bad SUANLI_POLICY fails although
  // the file's policy is good); a flag wins over both (the same bad variable
  // with --policy starts).
  {
    std::ofstream f(dir + "/good.yaml");
    f << "listen: 127.0.0.1:0\npolicy: fifo\n";
  }
  auto r6 = RunShell("SUANLI_POLICY=bogus " + bin + " serve --config " + dir + "/good.yaml --data " + dir + "/d6");
  EXPECT_EQ(r6.code, 2) << r6.out;
  EXPECT_NE(r6.out.find("SUANLI_POLICY"), std::string::npos) << r6.out;
  ServerProcess ok;
  ASSERT_TRUE(ok.Start(dir + "/d7", {"--config", dir + "/good.yaml", "--policy", "sjf"}, "", "",
                       {"SUANLI_POLICY=bogus", "SUANLI_LISTEN=nonsense"}));
  EXPECT_TRUE(fs::exists(dir + "/d7"));
  EXPECT_EQ(ok.Stop(), 0);
  // The file alone: a bad value there fails naming the file and the key.
  {
    std::ofstream f(dir + "/badpolicy.yaml");
    f << "policy: bogus\n";
  }
  auto r8 = RunShell(bin + " serve --config " + dir + "/badpolicy.yaml --data " + dir + "/d8");
  EXPECT_EQ(r8.code, 2) << r8.out;
  EXPECT_NE(r8.out.find("badpolicy.yaml"), std::string::npos) << r8.out;
  EXPECT_NE(r8.out.find("policy"), std::string::npos) << r8.out;
  fs::remove_all(dir);
}

TEST(LiveServer, SigtermStopsCleanlyAndDataSurvives) {
  std::string dir = TestDir("sigterm");
  int64_t id = 0;
  {
    ServerProcess srv;
    ASSERT_TRUE(srv.Start(dir + "/data", {"--network", "tiny"}));
    auto admin = srv.Client(kAdminToken);
    id = Submit(*admin, json{{"command", {"train"}}, {"gpus", 1}, {"duration_s", 3600}, {"name", "long"}});
    ASSERT_GT(id, 0);
    EXPECT_EQ(srv.Stop(SIGINT), 0) << srv.log();
  }
  ServerProcess again;
  ASSERT_TRUE(again.Start(dir + "/data", {"--network", "tiny"}));
  auto admin = again.Client(kAdminToken);
  auto g = admin->Get("/api/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(Body(g).value("name", ""), "long");
  EXPECT_EQ(again.Stop(SIGTERM), 0);

  // A local job keeps running while the server is down and is re-adopted by
  // the next server, which records its end and keeps its output.
  int64_t local_id = 0;
  {
    ServerProcess srv;
    ASSERT_TRUE(srv.Start(dir + "/local"));
    auto a = srv.Client(kAdminToken);
    local_id = Submit(*a, json{{"command", {"sh", "-c", "sleep 2; echo survived"}}});
    ASSERT_GT(local_id, 0);
    json r = WaitJob(*a, local_id, [](const std::string& s) { return s != "pending"; });
    ASSERT_EQ(r.value("state", ""), "running") << r.dump();
    EXPECT_EQ(srv.Stop(SIGTERM), 0) << srv.log();
  }
  ServerProcess third;
  ASSERT_TRUE(third.Start(dir + "/local"));
  auto a3 = third.Client(kAdminToken);
  json fin = WaitJob(*a3, local_id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  EXPECT_EQ(fin.value("state", ""), "succeeded") << fin.dump() << third.log();
  auto out = a3->Get("/api/v1/jobs/" + std::to_string(local_id) + "/logs");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->body, "survived\n");
  EXPECT_EQ(third.Stop(SIGTERM), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace suanli
