// A delay proxy for many connections in one thread (epoll): it forwards each
// connection accepted on a loopback port to a target port, holding every
// chunk for `delay_ms` in each direction (a WAN's round trip is twice it;
// this machine's kernel has no netem). It also times the target's answers:
// from a request's bytes written to the target to the first bytes of the
// answer read back (the target's own handling time plus loopback).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace suanli::bench {

class DelayProxy {
 public:
  DelayProxy(int target_port, int delay_ms) : target_(target_port), delay_ms_(delay_ms) {
    listen_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof a;
    if (bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(listen_, 4096) == 0 &&
        getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    Watch(listen_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~DelayProxy() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, c] : conns_) close(fd);
    close(listen_);
    close(ep_);
  }
  int port() const { return port_; }
  // The answer times (ms) since the last call.
  std::vector<double> TakeAnswerTimes() {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<double> out;
    out.swap(answers_);
    return out;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Conn {
    int peer = -1;
    bool client = false;                                        // accepted from a client (its peer is the target)
    std::deque<std::pair<Clock::time_point, std::string>> out;  // to write to this fd, when due
    Clock::time_point awaiting{};                               // client side: a request went out
    bool closing = false;
  };
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }
  void Watch(int fd) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }
  void Drop(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    const int peer = it->second.peer;
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_.erase(it);
    if (conns_.count(peer)) Drop(peer);
  }
  void Accept() {
    while (true) {
      int c = accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) return;
      int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = Loopback(target_);
      if (connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(u);
        close(c);
        continue;
      }
      fcntl(u, F_SETFL, fcntl(u, F_GETFL) | O_NONBLOCK);
      int one = 1;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_[c] = Conn{u, true, {}, {}, false};
      conns_[u] = Conn{c, false, {}, {}, false};
      Watch(c);
      Watch(u);
    }
  }
  void Read(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    char buf[65536];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    auto peer = conns_.find(it->second.peer);
    if (n <= 0 || peer == conns_.end()) {
      if (n < 0 && errno == EAGAIN) return;
      // Closed: the peer is closed once what is queued for it is written.
      epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
      if (peer != conns_.end()) {
        peer->second.closing = true;
        peer->second.out.emplace_back(Clock::now() + std::chrono::milliseconds(delay_ms_), std::string());
      } else {
        Drop(fd);
      }
      return;
    }
    const auto now = Clock::now();
    if (!it->second.client) {
      // An answer from the target: timed against its client's request.
      Conn& client = peer->second;
      if (client.awaiting != Clock::time_point{}) {
        std::lock_guard<std::mutex> lk(mu_);
        answers_.push_back(std::chrono::duration<double, std::milli>(now - client.awaiting).count());
        client.awaiting = {};
      }
    }
    peer->second.out.emplace_back(now + std::chrono::milliseconds(delay_ms_), std::string(buf, static_cast<size_t>(n)));
  }
  // Writes what is due; the wait until the next due chunk (ms, at most 20).
  int Flush() {
    const auto now = Clock::now();
    int wait = 20;
    std::vector<int> closed;
    for (auto& [fd, c] : conns_) {
      while (!c.out.empty() && c.out.front().first <= now) {
        std::string& data = c.out.front().second;
        if (data.empty()) {  // the other side closed
          closed.push_back(fd);
          break;
        }
        const ssize_t w = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0) {
          closed.push_back(fd);
          break;
        }
        if (!c.client) {
          // A request written to the target: its client awaits the answer.
          auto peer = conns_.find(c.peer);
          if (peer != conns_.end() && peer->second.awaiting == Clock::time_point{})
            peer->second.awaiting = Clock::now();
        }
        data.erase(0, static_cast<size_t>(w));
        if (!data.empty()) break;
        c.out.pop_front();
      }
      if (!c.out.empty()) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.out.front().first - now).count();
        wait = std::min<int>(wait, static_cast<int>(std::max<int64_t>(ms, 1)));
      }
    }
    for (int fd : closed) Drop(fd);
    return wait;
  }
  void Loop() {
    std::vector<epoll_event> events(1024);
    int wait = 20;
    while (!stop_) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait);
      for (int i = 0; i < n; ++i) {
        if (events[static_cast<size_t>(i)].data.fd == listen_) Accept();
        else Read(events[static_cast<size_t>(i)].data.fd);
      }
      wait = Flush();
    }
  }

  int target_, delay_ms_;
  int listen_ = -1, ep_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::unordered_map<int, Conn> conns_;  // the loop thread's only
  std::mutex mu_;
  std::vector<double> answers_;
};

}  // namespace suanli::bench
