// `suanli serve` as a real process for end-to-end tests of its HTTP API:
// started on a free port with its own data directory and the admin token
// kAdminToken, stopped when destroyed; HTTP clients, JSON answers and error
// answers, submitting a job and waiting for its state. In a namespace of
// their own: other tests' helpers use some of the same names.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/net.h"

extern char** environ;

namespace suanli::testing::live_server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

inline constexpr const char* kAdminToken = "admin-token-for-tests";

inline std::string TestDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("suanli_live_server_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

inline std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

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
      port_ = FreeLoopbackPort();
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
    // The test's own variables replace the inherited ones of the same name.
    auto overridden = [&](std::string_view kv) {
      for (const std::string& mine : env_)
        if (mine.substr(0, mine.find('=') + 1) == kv.substr(0, kv.find('=') + 1)) return true;
      return false;
    };
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).substr(0, 7) != "SUANLI_" && !overridden(*e)) env.emplace_back(*e);
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

inline json Body(const httplib::Result& r) {
  if (!r) return json();
  try {
    return json::parse(r->body);
  } catch (const std::exception&) {
    return json();
  }
}

// Checks an error answer: status, JSON {"error": {code, message, field}}.
inline void ExpectError(const httplib::Result& r, int status, const std::string& field, const std::string& what) {
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

// Polls a job until `pred(state)` or the timeout; returns the last job JSON.
inline json WaitJob(httplib::Client& cli, int64_t id, const std::function<bool(const std::string&)>& pred,
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

inline int64_t Submit(httplib::Client& cli, const json& spec) {
  auto r = cli.Post("/api/v1/jobs", spec.dump(), "application/json");
  if (!r || r->status != 201) {
    ADD_FAILURE() << "submit failed: " << (r ? r->body : httplib::to_string(r.error()));
    return 0;
  }
  return Body(r).value("id", int64_t{0});
}

}  // namespace suanli::testing::live_server
