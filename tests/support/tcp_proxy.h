// A TCP proxy on loopback for tests of links between processes: it forwards
// each connection to a target port, and can cut the link (a partition:
// open connections are dropped, new ones are held without an answer), make
// it silent (every packet lost: open connections hang) or delay every chunk
// it forwards (latency; this machine's kernel has no netem).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace suanli::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_(target_port) {
    listen_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(listen_, 128) == 0 &&
        getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);  // 0 (no port) makes the tests that use it fail at once
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TcpProxy() {
    stop_ = true;
    shutdown(listen_, SHUT_RDWR);
    close(listen_);
    acceptor_.join();
    std::vector<std::thread> ts;
    {
      std::lock_guard<std::mutex> lk(mu_);
      ts.swap(threads_);
    }
    for (auto& t : ts) t.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Cut: nothing passes (open connections are closed at their next byte or
  // poll; new ones are accepted and never answered). Healed: passes again.
  void SetPartitioned(bool cut) {
    cut_ = cut;
    ++generation_;
  }
  // Silent: packets dropped rather than refused. Open connections stay open
  // and what is sent on them is lost (the peer's reads hang until its own
  // timeout); new ones are accepted and never answered. Healed: passes
  // again (the connections that lived through it are closed).
  void SetSilent(bool silent) {
    silent_ = silent;
    if (!silent) ++generation_;
  }
  void SetDelayMs(int ms) { delay_ms_ = ms; }
  // Forwards new connections to another port (a restarted server's).
  void SetTarget(int port) {
    target_ = port;
    ++generation_;
  }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int c = accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard<std::mutex> lk(mu_);
      threads_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    const int gen = generation_;
    if (cut_ || silent_) {
      // Held without an answer until the link heals or the proxy goes.
      while (!stop_ && generation_ == gen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      close(c);
      return;
    }
    int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(target_));
    if (connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(u);
      close(c);
      return;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[65536];
    while (!stop_ && generation_ == gen) {
      pollfd p[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
      if (poll(p, 2, 50) <= 0) continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = recv(p[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          // Silent, a close is lost too: the other side hangs until the
          // link heals.
          while (silent_ && !stop_ && generation_ == gen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
          done = true;
          break;
        }
        if (silent_) continue;  // lost
        if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
        if (generation_ != gen) {
          done = true;
          break;
        }
        const int to = i == 0 ? u : c;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            done = true;
            break;
          }
          off += w;
        }
      }
      if (done) break;
    }
    close(u);
    close(c);
  }

  std::atomic<int> target_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false}, cut_{false}, silent_{false};
  std::atomic<int> generation_{0}, delay_ms_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

}  // namespace suanli::testing
