// live_http_attack: a running `suanli serve` under clients without a token
// that try to exhaust it, beside the same server without them.
//
//   live_http_attack --url http://127.0.0.1:8080 --token TOKEN [--idle 2000] [--slow 500]
//                    [--seconds 10] [--threads 16] [--health 500] [--json]
//
// Two phases, each measured the same way: first without attackers, then with
// --idle connections that never send a byte and --slow connections that send
// a request's header one byte a second and never finish it (closed ones are
// opened again, so the numbers stay). The attackers connect from 127.0.0.2,
// 127.0.0.3, ... (at most 200 connections from each address). In each phase:
//   * GET /api/v1/health, --health times (or for --health-budget-s), each on a
//     new connection as a new client would (5 s timeout): p50, p99, max and
//     failures;
//   * durable submissions (POST /api/v1/jobs, as bench/live_submit) from
//     --threads keep-alive clients for --seconds: jobs acknowledged per second.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string host = "127.0.0.1";
  int port = 8080;
};

int Connect(const Target& t, const std::string& source) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  timeval tv{2, 0};
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!source.empty()) {
    sockaddr_in b{};
    b.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &b.sin_addr);
    if (bind(s, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
      close(s);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, t.host.c_str(), &a.sin_addr);
  a.sin_port = htons(static_cast<uint16_t>(t.port));
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// Idle and slow-header connections, kept at their numbers by one thread.
class Attackers {
 public:
  Attackers(const Target& t, int idle, int slow) : target_(t) {
    for (int i = 0; i < idle + slow; ++i) {
      conns_.push_back(Conn{-1, i >= idle, fmt::format("127.0.0.{}", 2 + i / 200), 0});
    }
    int open = 0;
    for (auto& c : conns_) {
      Open(c);
      open += c.fd >= 0;
    }
    open_.store(open);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Attackers() {
    stop_.store(true);
    thread_.join();
    for (auto& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
  }
  int open() const { return open_.load(); }
  int64_t reopened() const { return reopened_.load(); }

 private:
  struct Conn {
    int fd;
    bool slow;
    std::string source;
    size_t sent;
  };
  static constexpr char kHeader[] = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

  void Open(Conn& c) {
    c.fd = Connect(target_, c.source);
    c.sent = 0;
  }
  void Loop() {
    auto last_byte = Clock::now();
    while (!stop_.load()) {
      bool tick = Clock::now() - last_byte >= std::chrono::seconds(1);
      if (tick) last_byte = Clock::now();
      int open = 0;
      for (auto& c : conns_) {
        if (c.fd >= 0) {
          pollfd p{c.fd, POLLIN, 0};
          char buf[4096];
          bool gone = poll(&p, 1, 0) > 0 && recv(c.fd, buf, sizeof buf, MSG_DONTWAIT) <= 0;
          if (!gone && c.slow && tick) {
            char byte = c.sent < sizeof kHeader - 1 ? kHeader[c.sent] : 'a';
            gone = send(c.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN;
            ++c.sent;
          }
          if (gone) {
            close(c.fd);
            c.fd = -1;
          }
        }
        if (c.fd < 0) {
          Open(c);
          if (c.fd >= 0) ++reopened_;
        }
        open += c.fd >= 0;
      }
      open_.store(open);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Target target_;
  std::vector<Conn> conns_;
  std::atomic<bool> stop_{false};
  std::atomic<int> open_{0};
  std::atomic<int64_t> reopened_{0};
  std::thread thread_;
};

struct Phase {
  std::string name;
  int attackers_open = 0;
  int health_ok = 0, health_failed = 0;
  double health_p50_ms = 0, health_p99_ms = 0, health_max_ms = 0;
  double submit_rate = 0;
  int64_t submit_errors = 0;
  std::string first_error;
};

void MeasureHealth(const Target& t, int n, double budget_s, Phase* ph) {
  std::vector<double> lat;
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (std::chrono::duration<double>(Clock::now() - start).count() > budget_s) break;
    auto t0 = Clock::now();
    int fd = Connect(t, "");
    bool ok = false;
    if (fd >= 0) {
      static const char kReq[] = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      if (send(fd, kReq, sizeof kReq - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kReq - 1)) {
        std::string got;
        char buf[4096];
        while (got.find("\"ok\":true") == std::string::npos) {
          pollfd p{fd, POLLIN, 0};
          int left = 5000 - static_cast<int>(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (left <= 0 || poll(&p, 1, left) <= 0) break;
          ssize_t r = recv(fd, buf, sizeof buf, 0);
          if (r <= 0) break;
          got.append(buf, static_cast<size_t>(r));
        }
        ok = got.rfind("HTTP/1.1 200", 0) == 0 && got.find("\"ok\":true") != std::string::npos;
      }
      close(fd);
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (ok) {
      ++ph->health_ok;
      lat.push_back(ms);
    } else {
      ++ph->health_failed;
    }
  }
  ph->health_p50_ms = Percentile(lat, 0.50);
  ph->health_p99_ms = Percentile(lat, 0.99);
  ph->health_max_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
}

void MeasureSubmit(const std::string& url, const std::string& token, int threads, double seconds, Phase* ph) {
  const std::string body = R"({"command":["true"],"cpu_milli":100,"mem_mib":64,"duration_s":3600,"name":"bench"})";
  std::atomic<int64_t> acked{0}, errors{0};
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::string first_error;
  std::mutex mu;
  Clock::time_point end;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      httplib::Client c(url);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_bearer_token_auth(token);
      c.set_connection_timeout(5, 0);
      c.set_read_timeout(30, 0);
      (void)c.Get("/api/v1/health");
      ++ready;
      while (!go.load()) std::this_thread::yield();
      while (Clock::now() < end) {
        auto r = c.Post("/api/v1/jobs", body, "application/json");
        if (r && r->status == 201) {
          ++acked;
          continue;
        }
        ++errors;
        std::lock_guard<std::mutex> lk(mu);
        if (first_error.empty()) {
          first_error = r ? fmt::format("HTTP {}", r->status) : httplib::to_string(r.error());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = Clock::now();
  end = start + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  go.store(true);
  for (auto& t : ts) t.join();
  ph->submit_rate = static_cast<double>(acked.load()) / seconds;
  ph->submit_errors = errors.load();
  if (ph->first_error.empty()) ph->first_error = first_error;
}

nlohmann::json ToJson(const Phase& p) {
  return {{"phase", p.name},
          {"attackers_open", p.attackers_open},
          {"health_ok", p.health_ok},
          {"health_failed", p.health_failed},
          {"health_p50_ms", p.health_p50_ms},
          {"health_p99_ms", p.health_p99_ms},
          {"health_max_ms", p.health_max_ms},
          {"submit_rate", p.submit_rate},
          {"submit_errors", p.submit_errors},
          {"first_error", p.first_error}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HTTP attack benchmark against a running suanli serve"};
  std::string url = "http://127.0.0.1:8080", token;
  int idle = 2000, slow = 500, threads = 16, health = 500;
  double seconds = 10, health_budget = 60;
  bool as_json = false;
  app.add_option("--url", url, "Server URL (plain HTTP)");
  app.add_option("--token", token, "Bearer token for the submissions")->required();
  app.add_option("--idle", idle, "Idle connections (default 2000)");
  app.add_option("--slow", slow, "Slow-header connections (default 500)");
  app.add_option("--threads", threads, "Submitting clients (default 16)");
  app.add_option("--seconds", seconds, "Seconds of submissions per phase (default 10)");
  app.add_option("--health", health, "Health requests per phase (default 500)");
  app.add_option("--health-budget-s", health_budget,
                 "Stop the health requests of a phase after this long (default 60; failures take 5 s each)");
  app.add_flag("--json", as_json, "One JSON object per phase");
  CLI11_PARSE(app, argc, argv);

  Target t;
  {
    std::string rest = url.substr(url.find("://") + 3);
    t.host = rest.substr(0, rest.rfind(':'));
    t.port = std::atoi(rest.substr(rest.rfind(':') + 1).c_str());
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  std::vector<Phase> phases(2);
  phases[0].name = "without attackers";
  MeasureHealth(t, health, health_budget, &phases[0]);
  MeasureSubmit(url, token, threads, seconds, &phases[0]);
  phases[1].name = fmt::format("with {} idle + {} slow-header connections", idle, slow);
  {
    Attackers attackers(t, idle, slow);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    MeasureHealth(t, health, health_budget, &phases[1]);
    phases[1].attackers_open = attackers.open();
    MeasureSubmit(url, token, threads, seconds, &phases[1]);
    phases[1].attackers_open = std::min(phases[1].attackers_open, attackers.open());
  }
  for (const auto& p : phases) {
    if (as_json) {
      std::printf("%s\n", ToJson(p).dump().c_str());
    } else {
      std::printf(
          "%-45s attackers open %5d  health ok %4d failed %4d  p50 %7.2f ms  p99 %8.2f ms  max %8.2f ms  "
          "submissions %7.0f/s (errors %lld%s%s)\n",
          p.name.c_str(), p.attackers_open, p.health_ok, p.health_failed, p.health_p50_ms, p.health_p99_ms,
          p.health_max_ms, p.submit_rate, static_cast<long long>(p.submit_errors), p.first_error.empty() ? "" : ": ",
          p.first_error.c_str());
    }
  }
  return 0;
}
