// Crash safety of `suanli serve`: the server is killed with SIGKILL in the
// middle of a burst of submissions from 8 client threads; restarted on the
// same data directory, it must hold every job it acknowledged (201) exactly
// once, with the spec that was sent, and go on to schedule them.
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
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/net.h"

extern char** environ;

namespace suanli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kToken = "crash-test-admin-token";

std::string CrashDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("suanli_live_crash_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A `suanli serve` process on the `tiny` network (simulated centers: jobs
// "run" for their duration_s); killed at the end of the test in any case.
class CrashServer {
 public:
  ~CrashServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool Start(const std::string& data) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      log_ = data + ".log";
      std::vector<std::string> args = {SUANLI_BINARY,
                                       "serve",
                                       "--listen",
                                       "127.0.0.1:" + std::to_string(port_),
                                       "--data",
                                       data,
                                       "--network",
                                       "tiny",
                                       "--pass-interval-ms",
                                       "200",
                                       "--access-log",
                                       "off"};
      std::vector<std::string> env;
      for (char** e = environ; *e; ++e) {
        if (std::string_view(*e).substr(0, 7) != "SUANLI_") env.emplace_back(*e);
      }
      env.push_back(std::string("SUANLI_ADMIN_TOKEN=") + kToken);
      std::vector<char*> argv, envp;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      posix_spawn_file_actions_adddup2(&fa, 1, 2);
      int rc = posix_spawn(&pid_, SUANLI_BINARY, &fa, nullptr, argv.data(), envp.data());
      posix_spawn_file_actions_destroy(&fa);
      if (rc != 0) {
        ADD_FAILURE() << "posix_spawn: " << strerror(rc);
        return false;
      }
      auto deadline = Clock::now() + std::chrono::seconds(60);
      while (Clock::now() < deadline) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        httplib::Client c(url());
        c.set_connection_timeout(1, 0);
        auto r = c.Get("/api/v1/health");
        if (r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    ADD_FAILURE() << "suanli serve did not start:\n" << Slurp(log_);
    return false;
  }

  void KillHard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int StopGracefully() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return Slurp(log_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

// Every job of the server (as the admin), paging with before=.
std::vector<json> ListAll(const std::string& url) {
  httplib::Client c(url);
  c.set_bearer_token_auth(kToken);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(60, 0);
  std::vector<json> out;
  int64_t before = 0;
  while (true) {
    std::string path = "/api/v1/jobs?state=pending,running,succeeded,failed,cancelled&limit=500";
    if (before > 0) path += "&before=" + std::to_string(before);
    auto r = c.Get(path);
    if (!r || r->status != 200) {
      ADD_FAILURE() << "list failed: " << (r ? r->body : httplib::to_string(r.error()));
      return out;
    }
    json page = json::parse(r->body)["jobs"];
    for (auto& j : page) out.push_back(j);
    if (page.size() < 500) return out;
    before = page.back().value("id", int64_t{0});
  }
}

TEST(LiveCrash, KillDuringSubmitBurstKeepsEveryAcknowledgedJobOnce) {
  std::string dir = CrashDir("burst");
  const std::string data = dir + "/data";
  CrashServer srv;
  ASSERT_TRUE(srv.Start(data));

  constexpr int kThreads = 8;
  std::mutex mu;
  std::map<int64_t, std::string> acked;  // id -> name sent
  std::atomic<int> n_acked{0};
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::string unexpected_what;
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c(srv.url());
      c.set_bearer_token_auth(kToken);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_connection_timeout(2, 0);
      c.set_read_timeout(10, 0);
      for (int i = 0; !stop.load(); ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        json spec = {{"command", {"true"}}, {"name", name}, {"cpu_milli", 100}, {"mem_mib", 64}, {"duration_s", 1}};
        auto r = c.Post("/api/v1/jobs", spec.dump(), "application/json");
        if (!r) {
          // The server is gone (killed): this request was never acknowledged.
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        if (r->status != 201) {
          std::lock_guard<std::mutex> lk(mu);
          ++unexpected;
          unexpected_what = std::to_string(r->status) + " " + r->body;
          continue;
        }
        int64_t id = json::parse(r->body).value("id", int64_t{0});
        std::lock_guard<std::mutex> lk(mu);
        acked[id] = name;
        ++n_acked;
      }
    });
  }
  // Kill in the middle of the burst: once a few hundred are acknowledged.
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (n_acked.load() < 500 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  srv.KillHard();
  // The clients keep trying a little against the dead server, then stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop.store(true);
  for (auto& c : clients) c.join();
  ASSERT_GE(n_acked.load(), 500) << "the burst did not get going:\n" << srv.log();
  EXPECT_EQ(unexpected.load(), 0) << unexpected_what;
  EXPECT_EQ(static_cast<int>(acked.size()), n_acked.load()) << "an id was acknowledged twice";

  // Restart on the same data directory.
  CrashServer again;
  ASSERT_TRUE(again.Start(data));
  std::vector<json> all = ListAll(again.url());
  std::map<int64_t, int> seen;
  std::map<int64_t, std::string> names;
  for (const auto& j : all) {
    int64_t id = j.value("id", int64_t{0});
    ++seen[id];
    names[id] = j.value("name", "");
  }
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "job " << id << " listed " << count << " times";
  int missing = 0;
  for (const auto& [id, name] : acked) {
    if (!seen.count(id)) {
      ++missing;
      continue;
    }
    EXPECT_EQ(names[id], name) << "job " << id;
  }
  EXPECT_EQ(missing, 0) << missing << " of " << acked.size() << " acknowledged jobs lost";
  // Unacknowledged requests in flight at the kill may or may not be there,
  // but no more than the clients sent.
  EXPECT_GE(all.size(), acked.size());
  EXPECT_LE(all.size(), acked.size() + kThreads);
  // Names are unique: no submission was stored twice.
  std::map<std::string, int> by_name;
  for (const auto& [id, name] : names) ++by_name[name];
  for (const auto& [name, count] : by_name) EXPECT_EQ(count, 1) << name;

  // The restarted server schedules them: every job ends (1 s simulated runs).
  httplib::Client c(again.url());
  c.set_bearer_token_auth(kToken);
  auto until = Clock::now() + std::chrono::seconds(120);
  size_t active = 1;
  while (Clock::now() < until) {
    auto r = c.Get("/api/v1/jobs?state=pending,running&limit=1000");
    ASSERT_TRUE(r);
    active = json::parse(r->body)["jobs"].size();
    if (active == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(active, 0u) << "jobs still pending or running after the restart:\n" << again.log().substr(0, 4000);
  auto done = ListAll(again.url());
  int succeeded = 0;
  for (const auto& j : done) succeeded += j.value("state", "") == "succeeded";
  EXPECT_EQ(succeeded, static_cast<int>(done.size()));
  EXPECT_EQ(again.StopGracefully(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace suanli
