// Attacks on the HTTP API by clients without a token, against a server run in
// this process on 127.0.0.1 (ApiServer over a simulated control plane): slow
// headers, idle connections, huge headers, bodies over the limit (chunked or
// not), many connections from one address, hostile JSON, pipelining, and a
// stop while slow clients hold connections. Each is bounded in time and
// memory; each failed on the blocking thread-per-connection server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "live/control.h"
#include "server/api_server.h"
#include "server/json_codec.h"
#include "server/json_limits.h"

namespace suanli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kToken = "attack-test-admin-token-0123456789";

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The API server and a simulated control plane, serving on a free port of
// 127.0.0.1 from a thread of this process.
class InProcessServer {
 public:
  explicit InProcessServer(const std::function<void(live::ServerConfig&)>& tweak = {}) {
    dir_ = (fs::temp_directory_path() /
            ("suanli_http_attack_" + std::to_string(getpid()) + "_" + std::to_string(counter_++)))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    live::ServerConfig c;
    c.data_dir = dir_ + "/data";
    c.network = "tiny";
    c.pass_interval_ms = 100;
    c.listen = "127.0.0.1:0";
    c.admin_token = kToken;
    c.http_threads = 4;
    if (tweak) tweak(c);
    server::ApiServerOptions opts;
    opts.access_log = "off";
    opts.read_timeout_s = 5;
    auto srv = server::ApiServer::Create(nullptr, c, opts);
    if (!srv.ok()) {
      ADD_FAILURE() << srv.status().message();
      return;
    }
    srv_ = std::move(srv).value();
    Status bound = srv_->Bind();
    if (!bound.ok()) {
      ADD_FAILURE() << bound.message();
      srv_.reset();
      return;
    }
    auto cp = live::ControlPlane::Start(c);
    if (!cp.ok()) {
      ADD_FAILURE() << cp.status().message();
      srv_.reset();
      return;
    }
    cp_ = std::move(cp).value();
    srv_->SetControlPlane(cp_.get());
    thread_ = std::thread([this] {
      run_status_ = srv_->Run();
      done_.store(true);
    });
  }
  ~InProcessServer() {
    if (srv_) StopSeconds();
    if (cp_) cp_->Stop();
    srv_.reset();
    cp_.reset();
    fs::remove_all(dir_);
  }
  bool ok() const { return srv_ != nullptr; }
  int port() const { return srv_->port(); }
  server::ApiServer& api() { return *srv_; }

  // Stops the server; the seconds until Run() returned (or 30 if it did not).
  double StopSeconds() {
    if (!thread_.joinable()) return 0;
    auto t0 = Clock::now();
    srv_->Stop();
    while (!done_.load() && Since(t0) < 30) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    double s = Since(t0);
    if (!done_.load()) {
      ADD_FAILURE() << "Run() did not return 30 s after Stop()";
      std::abort();  // a thread that cannot be joined
    }
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.message();
    return s;
  }

 private:
  static inline int counter_ = 0;
  std::string dir_;
  std::unique_ptr<server::ApiServer> srv_;
  std::unique_ptr<live::ControlPlane> cp_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Status run_status_;
};

// A TCP connection to 127.0.0.1:port, from `source` (another loopback
// address) if given; -1 on failure.
int Connect(int port, const char* source = nullptr) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (source) {
    sockaddr_in b{};
    b.sin_family = AF_INET;
    inet_pton(AF_INET, source, &b.sin_addr);
    if (bind(s, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
      close(s);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Reply {
  int status = -1;
  std::string head, body;
};

// The complete responses in `raw` (each with a Content-Length).
std::vector<Reply> ParseReplies(const std::string& raw, size_t* used = nullptr) {
  std::vector<Reply> out;
  size_t pos = 0;
  while (true) {
    size_t end = raw.find("\r\n\r\n", pos);
    if (end == std::string::npos || raw.compare(pos, 5, "HTTP/") != 0) break;
    Reply r;
    r.head = raw.substr(pos, end - pos);
    r.status = std::atoi(raw.c_str() + pos + 9);
    size_t len = 0;
    std::string lower = r.head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) len = std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
    if (raw.size() < end + 4 + len) break;
    r.body = raw.substr(end + 4, len);
    out.push_back(std::move(r));
    pos = end + 4 + len;
  }
  if (used) *used = pos;
  return out;
}

// Reads until `want` complete responses, EOF or the timeout.
std::vector<Reply> ReadReplies(int fd, size_t want, int timeout_ms, bool* eof = nullptr) {
  std::string raw;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  if (eof) *eof = false;
  while (true) {
    auto replies = ParseReplies(raw);
    if (replies.size() >= want) return replies;
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return replies;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) continue;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (eof) *eof = true;
      return ParseReplies(raw);
    }
    raw.append(buf, static_cast<size_t>(n));
  }
}

// True if the peer closed the connection within the timeout (whatever it
// sent before).
bool ClosedWithin(int fd, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

// GET /api/v1/health on a new connection; its status, -1 if none came within
// the timeout.
int Health(int port, int timeout_ms, const char* source = nullptr) {
  int fd = Connect(port, source);
  if (fd < 0) return -1;
  SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r = ReadReplies(fd, 1, timeout_ms);
  close(fd);
  return r.empty() ? -1 : r[0].status;
}

bool IsJsonError(const Reply& r, const std::string& field) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return false;
  return field.empty() || j["error"].value("field", "") == field;
}

// Descriptors this test may use for connections (both ends are in this
// process): the soft limit raised to the hard one, less a reserve.
int FdBudget() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20)) - 400;
}

// Clients that send a request's header a few bytes at a time and never end it.
class SlowClients {
 public:
  SlowClients(int port, int n) {
    for (int i = 0; i < n; ++i) {
      int fd = Connect(port);
      if (fd < 0) break;
      SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
      fds_.push_back(fd);
      closed_at_.push_back(-1);
    }
    start_ = Clock::now();
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        for (size_t i = 0; i < fds_.size(); ++i) {
          if (closed_at_[i] >= 0) continue;
          pollfd p{fds_[i], POLLIN, 0};
          char buf[1024];
          bool gone = poll(&p, 1, 0) > 0 && recv(fds_[i], buf, sizeof buf, MSG_DONTWAIT) <= 0;
          if (gone || !SendAll(fds_[i], "X: y\r\n")) closed_at_[i] = Since(start_);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  ~SlowClients() {
    stop_.store(true);
    thread_.join();
    for (int fd : fds_) close(fd);
  }
  size_t size() const { return fds_.size(); }
  // After `wait_ms` more of sending: the seconds from the start until each
  // was closed by the server (-1: still open).
  std::vector<double> StoppedAfter(int wait_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    stop_.store(true);
    thread_.join();
    thread_ = std::thread([] {});
    return closed_at_;
  }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::vector<int> fds_;
  std::vector<double> closed_at_;
  Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(LiveHttpAttack, SlowHeadersDoNotLockOthersOutAndMeetTheirDeadline) {
  InProcessServer srv([](live::ServerConfig& c) { c.header_timeout_s = 2; });
  ASSERT_TRUE(srv.ok());
  SlowClients slow(srv.port(), 100);  // more than the worker threads of any pool
  ASSERT_EQ(slow.size(), 100u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    EXPECT_EQ(Health(srv.port(), 1000), 200) << "health #" << i << " with 100 slow-header clients open";
    EXPECT_LT(Since(t0), 1.0);
  }
  // Still sending (a line every 200 ms), none gets past the 2 s deadline.
  auto closed = slow.StoppedAfter(3500);
  for (size_t i = 0; i < closed.size(); ++i) {
    EXPECT_GE(closed[i], 0) << "slow client " << i << " still connected after 3.5 s (header_timeout_s 2)";
  }
}

TEST(LiveHttpAttack, IdleConnectionsDoNotMakeNewClientsWait) {
  const int n = std::min(2000, FdBudget() / 2);
  ASSERT_GE(n, 300) << "too few descriptors for the test";
  InProcessServer srv([n](live::ServerConfig& c) {
    c.max_connections_per_client = n + 100;
    c.max_connections = n + 100;
  });
  ASSERT_TRUE(srv.ok());
  std::vector<int> idle;
  for (int i = 0; i < n; ++i) {
    int fd = Connect(srv.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    EXPECT_EQ(Health(srv.port(), 1000), 200) << "health #" << i << " with " << n << " idle connections";
    EXPECT_LT(Since(t0), 1.0);
  }
  EXPECT_GE(srv.api().connections(), n);
  for (int fd : idle) close(fd);
}

TEST(LiveHttpAttack, HeaderCountAndSizeAreLimited) {
  InProcessServer srv;
  ASSERT_TRUE(srv.ok());
  // 200 header fields (max_headers 100).
  std::string many = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  int fd = Connect(srv.port());
  SendAll(fd, many + "\r\n");
  auto r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 431) << r[0].head;
  EXPECT_TRUE(IsJsonError(r[0], "headers")) << r[0].body;
  close(fd);
  // One 64 KiB header (max_header_bytes 16 KiB); the rest is never sent.
  fd = Connect(srv.port());
  SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 << 10, 'a'));
  r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 431) << r[0].head;
  EXPECT_TRUE(IsJsonError(r[0], "headers")) << r[0].body;
  close(fd);
  // Header fields without end: 431 after the first 16 KiB; what the client
  // sends after it is read and dropped for a short while only, then the
  // connection is closed, however fast it sends.
  fd = Connect(srv.port());
  std::string block;
  for (int i = 0; i < 1000; ++i) block += "X-A: bbbbbbb\r\n";
  SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 64; ++i) SendAll(fd, block);  // about 1 MB
  r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u) << "no answer to 1 MB of header fields";
  EXPECT_EQ(r[0].status, 431) << r[0].head;
  auto t0 = Clock::now();
  bool refused = false;
  while (!refused && Since(t0) < 6) refused = !SendAll(fd, block);
  EXPECT_TRUE(refused) << "the server kept reading headers for 6 s";
  close(fd);
  EXPECT_EQ(Health(srv.port(), 1000), 200);
}

TEST(LiveHttpAttack, BodiesOverTheLimitGet413BeforeAuthentication) {
  InProcessServer srv([](live::ServerConfig& c) { c.max_body_bytes = 64 << 10; });
  ASSERT_TRUE(srv.ok());
  // Chunked, no token, chunks of 8 KiB past the limit and never finished:
  // 413 (not 401) while the client is still sending.
  int fd = Connect(srv.port());
  SendAll(fd, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = "2000\r\n" + std::string(0x2000, 'x') + "\r\n";
  for (int i = 0; i < 10; ++i) SendAll(fd, chunk);
  auto r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u) << "no answer to a chunked body over max_body_bytes";
  EXPECT_EQ(r[0].status, 413) << r[0].head;
  EXPECT_TRUE(IsJsonError(r[0], "body")) << r[0].body;
  close(fd);
  // One chunk declared larger than the limit.
  fd = Connect(srv.port());
  SendAll(fd, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\nxx");
  r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 413) << r[0].head;
  close(fd);
  // A whole chunked body over the limit with a wrong token: 413, not 401.
  fd = Connect(srv.port());
  std::string whole =
      "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) whole += chunk;
  whole += "0\r\n\r\n";
  SendAll(fd, whole);
  r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 413) << r[0].head;
  close(fd);
  // Content-Length of 1 GB, body not sent: 413 at once.
  fd = Connect(srv.port());
  SendAll(fd, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n{");
  r = ReadReplies(fd, 1, 3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 413) << r[0].head;
  EXPECT_TRUE(IsJsonError(r[0], "body")) << r[0].body;
  close(fd);
  // A chunked body within the limit is read and authenticated as usual.
  fd = Connect(srv.port());
  std::string body = R"({"command":["train"],"duration_s":1})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  SendAll(fd, std::string("POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
                  "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + size + "\r\n" + body +
                  "\r\n0\r\n\r\n");
  r = ReadReplies(fd, 1, 5000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 201) << r[0].body;
  close(fd);
}

TEST(LiveHttpAttack, ConnectionsPerClientAndInAllAreCapped) {
  InProcessServer srv([](live::ServerConfig& c) {
    c.max_connections_per_client = 8;
    c.max_connections = 12;
  });
  ASSERT_TRUE(srv.ok());
  std::vector<int> mine;
  for (int i = 0; i < 8; ++i) mine.push_back(Connect(srv.port()));
  for (int fd : mine) ASSERT_GE(fd, 0);
  // The ninth from 127.0.0.1: refused at once (503 or closed).
  int ninth = Connect(srv.port());
  ASSERT_GE(ninth, 0);
  auto t0 = Clock::now();
  EXPECT_TRUE(ClosedWithin(ninth, 2000)) << "a ninth connection from one address was kept";
  EXPECT_LT(Since(t0), 2.0);
  close(ninth);
  // Another address still gets in, up to the cap in all (12).
  std::vector<int> other;
  for (int i = 0; i < 4; ++i) {
    int fd = Connect(srv.port(), "127.0.0.2");
    ASSERT_GE(fd, 0) << "cannot connect from 127.0.0.2";
    other.push_back(fd);
  }
  int thirteenth = Connect(srv.port(), "127.0.0.3");
  ASSERT_GE(thirteenth, 0);
  EXPECT_TRUE(ClosedWithin(thirteenth, 2000)) << "a connection over max_connections was kept";
  close(thirteenth);
  // Closing some lets new clients in again.
  for (int fd : mine) close(fd);
  auto t1 = Clock::now();
  int status = -1;
  while (status != 200 && Since(t1) < 3) status = Health(srv.port(), 1000);
  EXPECT_EQ(status, 200);
  for (int fd : other) close(fd);
}

TEST(LiveHttpAttack, PipelinedRequestsAreAnsweredInOrder) {
  InProcessServer srv;
  ASSERT_TRUE(srv.ok());
  int fd = Connect(srv.port());
  // A request answered by a worker thread (authenticated), then two answered
  // on the I/O thread: the answers keep the order of the requests.
  std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
  SendAll(fd, "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n" +
                  "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n" +
                  "GET /api/v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  bool eof = false;
  auto r = ReadReplies(fd, 3, 5000, &eof);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_NE(r[0].body.find("\"tenant\":\"admin\""), std::string::npos) << r[0].body;
  EXPECT_EQ(r[1].status, 200);
  EXPECT_NE(r[1].body.find("\"ok\":true"), std::string::npos) << r[1].body;
  EXPECT_EQ(r[2].status, 404);
  close(fd);
}

TEST(LiveHttpAttack, HostileJsonIsRefusedWhileParsing) {
  // 100,000-deep nesting and an object of 131,072 keys: refused at the
  // limit, without building the document.
  server::ApiError err;
  live::JobSpec spec;
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto t0 = Clock::now();
  EXPECT_FALSE(server::ParseJobSpec("{\"command\":" + deep + "}", &spec, &err));
  EXPECT_EQ(err.field, "body");
  EXPECT_NE(err.message.find("nested deeper"), std::string::npos) << err.message;
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
  deep_objects += "1" + std::string(100000, '}');
  EXPECT_FALSE(server::ParseJobSpec(deep_objects, &spec, &err));
  EXPECT_EQ(err.field, "body");
  std::string wide = "{";
  for (int i = 0; i < 131072; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  wide += "}";
  EXPECT_FALSE(server::ParseJobSpec(wide, &spec, &err));
  EXPECT_EQ(err.field, "body");
  EXPECT_NE(err.message.find("keys"), std::string::npos) << err.message;
  EXPECT_LT(Since(t0), 3.0) << "hostile JSON took long to refuse";

  // Duplicate keys found in a large object (under the key limit), in nested
  // objects named by their path.
  std::string dup = "{\"command\":[\"true\"],\"env\":{";
  for (int i = 0; i < 1000; ++i) dup += "\"V" + std::to_string(i) + "\":\"x\",";
  dup += "\"V999\":\"y\"}}";
  EXPECT_FALSE(server::ParseJobSpec(dup, &spec, &err));
  EXPECT_EQ(err.field, "env.V999") << err.message;

  // The limits themselves.
  json out;
  server::JsonLimits lim;
  lim.max_depth = 3;
  lim.max_keys = 2;
  lim.max_values = 6;
  EXPECT_TRUE(server::ParseJsonObject(R"({"a":{"b":[1]}})", &out, &err, lim)) << err.message;
  EXPECT_FALSE(server::ParseJsonObject(R"({"a":{"b":[[1]]}})", &out, &err, lim));
  EXPECT_TRUE(server::ParseJsonObject(R"({"a":1,"b":2})", &out, &err, lim));
  EXPECT_FALSE(server::ParseJsonObject(R"({"a":1,"b":2,"c":3})", &out, &err, lim));
  EXPECT_FALSE(server::ParseJsonObject(R"({"a":[1,2,3,4,5,6]})", &out, &err, lim));
  EXPECT_EQ(err.field, "body");
  EXPECT_TRUE(server::ParseJsonObject(R"({"a":{"a":1},"b":{"a":2}})", &out, &err));  // same key, other objects
  EXPECT_EQ(out["b"]["a"], 2);

  // Over HTTP, with a body limit that lets them in: 400 naming the body.
  InProcessServer srv([](live::ServerConfig& c) { c.max_body_bytes = 4 << 20; });
  ASSERT_TRUE(srv.ok());
  for (const std::string* body : {&deep, &wide}) {
    int fd = Connect(srv.port());
    auto t1 = Clock::now();
    SendAll(fd, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kToken) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body->size()) +
                    "\r\nConnection: close\r\n\r\n" + *body);
    auto r = ReadReplies(fd, 1, 5000);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 400);
    EXPECT_TRUE(IsJsonError(r[0], "body")) << r[0].body;
    EXPECT_LT(Since(t1), 3.0);
    close(fd);
  }
}

TEST(LiveHttpAttack, StopClosesSlowClientsAndReturnsPromptly) {
  InProcessServer srv;  // header_timeout_s 10: the slow clients would stay
  ASSERT_TRUE(srv.ok());
  SlowClients slow(srv.port(), 100);
  ASSERT_EQ(slow.size(), 100u);
  // And idle keep-alive connections after a request.
  std::vector<int> kept;
  for (int i = 0; i < 20; ++i) {
    int fd = Connect(srv.port());
    SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(ReadReplies(fd, 1, 2000).size(), 1u);
    kept.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double s = srv.StopSeconds();
  EXPECT_LT(s, 2.0) << "Run() returned " << s << " s after Stop()";
  for (int fd : kept) {
    EXPECT_TRUE(ClosedWithin(fd, 1000));
    close(fd);
  }
  auto closed = slow.StoppedAfter(1000);
  int open = 0;
  for (double c : closed) open += c < 0;
  EXPECT_EQ(open, 0) << "slow clients still connected after Stop()";
}

}  // namespace
}  // namespace suanli
