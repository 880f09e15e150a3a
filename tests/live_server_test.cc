// End-to-end tests of `suanli serve`'s HTTP API: real server processes
// (SUANLI_BINARY) on free ports with their own data directories, spoken to
// over HTTP and HTTPS. Health, authentication and tenants, the job life cycle
// on a local center, hostile requests (while another client keeps being
// served), the OpenAPI document against the routes, Prometheus metrics, TLS,
// the dashboard's files, configuration errors and SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/static_files.h"
#include "server/web_files.h"
#include "support/cli.h"

extern char** environ;

namespace suanli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kAdminToken = "admin-token-for-tests";

std::string TestDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("suanli_live_server_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(s);
  return port;
}

using ::suanli::testing::RunShell;

// One `suanli serve` process; stopped (SIGTERM, then SIGKILL) when destroyed.
class ServerProcess {
 public:
  ~ServerProcess() { Stop(); }

  // Starts the server on a free port with the data directory `data` and waits
  // until /api/v1/health answers. `tls`: serve HTTPS with the cert/key pair.
  bool Start(const std::string& data, const std::vector<std::string>& extra = {}, const std::string& cert = "",
             const std::string& key = "", const std::vector<std::string>& env = {}) {
    env_ = env;
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = FreePort();
      log_ = data + ".log";
      std::vector<std::string> args = {
          SUANLI_BINARY, "serve", "--listen",           "127.0.0.1:" + std::to_string(port_),
          "--data",      data,    "--pass-interval-ms", "200"};
      if (!cert.empty()) {
        args.insert(args.end(), {"--tls-cert", cert, "--tls-key", key});
      }
      args.insert(args.end(), extra.begin(), extra.end());
      tls_ = !cert.empty();
      cert_ = cert;
      if (!Spawn(args)) return false;
      auto deadline = Clock::now() + std::chrono::seconds(60);
      while (Clock::now() < deadline) {
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;
          break;  // exited (the port may have been taken meanwhile): try again
        }
        auto cli = Client();
        cli->set_connection_timeout(1, 0);
        auto r = cli->Get("/api/v1/health");
        if (r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ > 0) Stop();
    }
    ADD_FAILURE() << "suanli serve did not start; its log:\n" << ReadText(log_);
    return false;
  }

  // Sends `sig` and waits for the exit; returns the exit status (-1: killed by
  // a signal or not running).
  int Stop(int sig = SIGTERM, int timeout_s = 30) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    int st = 0;
    while (true) {
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) break;
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  std::unique_ptr<httplib::Client> Client(const std::string& token = "") const {
    auto c = std::make_unique<httplib::Client>(url());
    if (tls_) c->set_ca_cert_path(cert_);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(60, 0);
    c->set_write_timeout(60, 0);
    if (!token.empty()) c->set_bearer_token_auth(token);
    return c;
  }
  std::string url() const { return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return ReadText(log_); }

 private:
  bool Spawn(const std::vector<std::string>& args) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).substr(0, 7) != "SUANLI_") env.emplace_back(*e);
    }
    env.push_back(std::string("SUANLI_ADMIN_TOKEN=") + kAdminToken);
    env.insert(env.end(), env_.begin(), env_.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&pid_, SUANLI_BINARY, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << SUANLI_BINARY << ": " << strerror(rc);
      pid_ = -1;
      return false;
    }
    return true;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;
  std::string cert_, log_;
  std::vector<std::string> env_;
};

json Body(const httplib::Result& r) {
  if (!r) return json();
  try {
    return json::parse(r->body);
  } catch (const std::exception&) {
    return json();
  }
}

// Checks an error answer: status, JSON {"error": {code, message, field}}.
void ExpectError(const httplib::Result& r, int status, const std::string& field, const std::string& what) {
  ASSERT_TRUE(r) << what << ": no answer (" << httplib::to_string(r.error()) << ")";
  EXPECT_EQ(r->status, status) << what << ": " << r->body;
  json j = Body(r);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << what << ": not a JSON error: " << r->body.substr(0, 300);
  EXPECT_FALSE(j["error"].value("message", "").empty()) << what;
  EXPECT_FALSE(j["error"].value("code", "").empty()) << what;
  if (!field.empty()) {
    EXPECT_EQ(j["error"].value("field", ""), field) << what << ": " << r->body;
  }
  EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos) << what;
}

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

// Polls a job until `pred(state)` or the timeout; returns the last job JSON.
json WaitJob(httplib::Client& cli, int64_t id, const std::function<bool(const std::string&)>& pred,
             int timeout_s = 60) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  json j;
  while (Clock::now() < deadline) {
    auto r = cli.Get("/api/v1/jobs/" + std::to_string(id));
    if (r && r->status == 200) {
      j = Body(r);
      if (pred(j.value("state", ""))) return j;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return j;
}

int64_t Submit(httplib::Client& cli, const json& spec) {
  auto r = cli.Post("/api/v1/jobs", spec.dump(), "application/json");
  if (!r || r->status != 201) {
    ADD_FAILURE() << "submit failed: " << (r ? r->body : httplib::to_string(r.error()));
    return 0;
  }
  return Body(r).value("id", int64_t{0});
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
                                                                  {"get", "/api/v1/whoami"},
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
  for (const auto& [method, templ] : described) {
    int64_t id = Submit(*admin, json{{"command", {"sleep", "30"}}});
    ASSERT_GT(id, 0);
    std::string path = std::regex_replace(templ, std::regex("\\{id\\}"), std::to_string(id));
    path = std::regex_replace(path, std::regex("\\{name\\}"), "local");
    auto call = [&]() -> httplib::Result {
      if (method == "get") return admin->Get(path);
      if (method == "delete") return admin->Delete(path);
      std::string body;
      if (templ == "/api/v1/jobs") body = R"({"command":["true"]})";
      if (templ == "/api/v1/tenants") body = json{{"name", "t" + std::to_string(n)}}.dump();
      return admin->Post(path, body, "application/json");
    };
    ASSERT_TRUE(method == "get" || method == "delete" || method == "post") << method;
    httplib::Result res = call();
    ASSERT_TRUE(res) << method << " " << path;
    EXPECT_TRUE(res->status >= 200 && res->status < 300)
        << method << " " << path << ": " << res->status << " " << res->body.substr(0, 300);
    // The answer is one the document lists for that route.
    EXPECT_TRUE(doc["paths"][templ][method]["responses"].contains(std::to_string(res->status)))
        << method << " " << templ << " answered " << res->status;
    ++n;
    admin->Post("/api/v1/jobs/" + std::to_string(id) + "/cancel", "", "application/json");
  }
  EXPECT_EQ(n, static_cast<int>(described.size()));
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
