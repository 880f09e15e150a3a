// `suanli serve` as an operator starts it, attacked as a job or a careless
// operator would: the admin token is read once and leaves the process's
// environment; short admin tokens and token files others can read are
// refused; the data directory and the store's files are owner-only; a store
// restored from an older copy is refused until the operator accepts the
// loss, and then new jobs never take an old job's id or its logs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/serve_config.h"
#include "support/cli.h"
#include "support/net.h"

extern char** environ;

namespace suanli {
namespace {

using nlohmann::json;
using ::suanli::testing::ReadFile;
using ::suanli::testing::TempDir;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kToken = "security-test-admin-token-5f1c";

int Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// One `suanli serve`; killed at the end in any case.
class Server {
 public:
  ~Server() { Stop(SIGKILL); }

  // Spawns `suanli serve --data DATA ARGS...` with `env` added to this
  // process's environment (its SUANLI_* variables left out).
  void Spawn(const std::string& data, const std::vector<std::string>& extra, const std::vector<std::string>& env) {
    port_ = testing::FreeLoopbackPort();
    log_ = data + ".log";
    std::vector<std::string> args = {
        SUANLI_BINARY,  "serve", "--listen",           "127.0.0.1:" + std::to_string(port_),
        "--data",       data,    "--pass-interval-ms", "200",
        "--access-log", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).substr(0, 7) != "SUANLI_") envs.emplace_back(*e);
    }
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&pid_, SUANLI_BINARY, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn: " << strerror(rc);
      pid_ = -1;
    }
  }

  // Waits until /api/v1/health answers (true) or the process exits (false).
  bool Healthy() {
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (pid_ > 0 && Clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return false;
      }
      httplib::Client c(url());
      c.set_connection_timeout(1, 0);
      auto r = c.Get("/api/v1/health");
      if (r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Waits for the process to exit by itself; its exit status (-1: killed).
  int WaitExit(int timeout_s = 60) {
    if (pid_ <= 0) return exit_code_;
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop(SIGKILL);
    return -1;
  }

  int Stop(int sig = SIGTERM) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return exit_code_;
  }

  httplib::Client Client(const std::string& token = kToken) const {
    httplib::Client c(url());
    c.set_bearer_token_auth(token);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(60, 0);
    return c;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  std::string log() const { return ReadFile(log_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string log_;
};

// --- the admin token ---

TEST(LiveServeSecurity, AdminTokenIsReadOnceAndLeavesTheEnvironment) {
  auto dir = TempDir("serve_token_env");
  Server srv;
  srv.Spawn(dir + "/data", {"--network", "tiny"}, {std::string("SUANLI_ADMIN_TOKEN=") + kToken});
  ASSERT_TRUE(srv.Healthy()) << srv.log();
  // Nothing of the server's environment, as a child would inherit it or
  // another process could read it, holds the token.
  std::string environ_text = ReadFile("/proc/" + std::to_string(srv.pid()) + "/environ");
  ASSERT_FALSE(environ_text.empty());
  EXPECT_EQ(environ_text.find(kToken), std::string::npos) << "the admin token is still in the environment";
  EXPECT_EQ(environ_text.find("SUANLI_ADMIN_TOKEN=s"), std::string::npos);
  // It was read: the admin exists with it.
  auto c = srv.Client();
  auto r = c.Get("/api/v1/tenants");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(srv.Stop(), 0);
}

TEST(LiveServeSecurity, ShortAdminTokensAreRefused) {
  auto dir = TempDir("serve_token_short");
  {
    Server srv;
    srv.Spawn(dir + "/data", {"--network", "tiny"}, {"SUANLI_ADMIN_TOKEN=fifteen-bytes!!"});
    EXPECT_EQ(srv.WaitExit(), 2) << srv.log();
    EXPECT_NE(srv.log().find("at least 16"), std::string::npos) << srv.log();
    EXPECT_NE(srv.log().find("SUANLI_ADMIN_TOKEN"), std::string::npos) << srv.log();
  }
  {
    const std::string file = dir + "/short.token";
    std::ofstream(file) << "fifteen-bytes!!\n";
    ASSERT_EQ(chmod(file.c_str(), 0600), 0);
    Server srv;
    srv.Spawn(dir + "/data", {"--network", "tiny", "--admin-token-file", file}, {});
    EXPECT_EQ(srv.WaitExit(), 2) << srv.log();
    EXPECT_NE(srv.log().find("at least 16"), std::string::npos) << srv.log();
  }
  // Exactly 16 bytes is enough.
  Server srv;
  srv.Spawn(dir + "/data", {"--network", "tiny"}, {"SUANLI_ADMIN_TOKEN=sixteen-bytes!!!"});
  ASSERT_TRUE(srv.Healthy()) << srv.log();
  auto r = srv.Client("sixteen-bytes!!!").Get("/api/v1/tenants");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(LiveServeSecurity, AdminTokenFileMustBeOwnerOnly) {
  auto dir = TempDir("serve_token_file");
  const std::string file = dir + "/admin.token";
  std::ofstream(file) << kToken << "\n";
  // Readable by others: refused, naming the file and the fix.
  ASSERT_EQ(chmod(file.c_str(), 0644), 0);
  {
    Server srv;
    srv.Spawn(dir + "/data", {"--network", "tiny", "--admin-token-file", file}, {});
    EXPECT_EQ(srv.WaitExit(), 2) << srv.log();
    EXPECT_NE(srv.log().find(file), std::string::npos) << srv.log();
    EXPECT_NE(srv.log().find("chmod 600"), std::string::npos) << srv.log();
  }
  // Owner-only: the token (without its newline) becomes the admin's.
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  Server srv;
  srv.Spawn(dir + "/data", {"--network", "tiny", "--admin-token-file", file}, {});
  ASSERT_TRUE(srv.Healthy()) << srv.log();
  auto r = srv.Client().Get("/api/v1/tenants");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(srv.Stop(), 0);
}

// Where the admin token comes from: a token file at any level (config key
// relative to the config file, environment, flag), the highest level
// winning; both forms at one level, an unreadable or open file, a short
// token: errors naming the source.
TEST(LiveServeSecurity, AdminTokenSourcesAndTheirErrors) {
  auto dir = TempDir("serve_token_sources");
  auto write = [&](const std::string& name, const std::string& text, int mode) {
    std::ofstream(dir + "/" + name) << text;
    EXPECT_EQ(chmod((dir + "/" + name).c_str(), static_cast<mode_t>(mode)), 0);
    return dir + "/" + name;
  };
  const std::string a = write("a.token", "aaaaaaaaaaaaaaaaaaaa\n", 0600);
  const std::string b = write("b.token", "bbbbbbbbbbbbbbbbbbbb", 0400);
  const std::string open_file = write("open.token", "cccccccccccccccccccc\n", 0640);
  const std::string config = write("server.yaml", "admin_token_file: a.token\n", 0600);
  std::map<std::string, std::string> vars;
  server::EnvLookup env = [&](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  server::ServeFlags flags;
  flags.config = config;
  auto c = server::ResolveServeConfig(flags, env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->admin_token, "aaaaaaaaaaaaaaaaaaaa");  // relative to the config file; newline dropped
  vars["SUANLI_ADMIN_TOKEN"] = "env-token-0123456789";
  c = server::ResolveServeConfig(flags, env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->admin_token, "env-token-0123456789");
  flags.admin_token_file = b;
  c = server::ResolveServeConfig(flags, env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->admin_token, "bbbbbbbbbbbbbbbbbbbb");
  flags.admin_token_file.reset();
  vars["SUANLI_ADMIN_TOKEN_FILE"] = b;
  c = server::ResolveServeConfig(flags, env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not both"), std::string::npos) << c.status().message();
  vars.erase("SUANLI_ADMIN_TOKEN");
  vars["SUANLI_ADMIN_TOKEN_FILE"] = open_file;
  c = server::ResolveServeConfig(flags, env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("mode 0640"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("SUANLI_ADMIN_TOKEN_FILE"), std::string::npos) << c.status().message();
  vars["SUANLI_ADMIN_TOKEN_FILE"] = dir + "/missing.token";
  c = server::ResolveServeConfig(flags, env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("missing.token"), std::string::npos) << c.status().message();
  vars.clear();
  vars["SUANLI_ADMIN_TOKEN"] = "short";
  c = server::ResolveServeConfig(flags, env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("(from SUANLI_ADMIN_TOKEN)"), std::string::npos) << c.status().message();
  // Both keys in one config file.
  flags.config = write("both.yaml", "admin_token: xxxxxxxxxxxxxxxxxxxx\nadmin_token_file: a.token\n", 0600);
  vars.clear();
  c = server::ResolveServeConfig(flags, env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not both"), std::string::npos) << c.status().message();
}

// --- the data directory ---

TEST(LiveServeSecurity, DataDirectoryAndStoreFilesAreOwnerOnly) {
  auto dir = TempDir("serve_modes");
  const std::string data = dir + "/data";
  // A data directory an older version left open to everyone.
  fs::create_directories(data + "/jobs");
  ASSERT_EQ(chmod(data.c_str(), 0755), 0);
  ASSERT_EQ(chmod((data + "/jobs").c_str(), 0777), 0);
  Server srv;
  srv.Spawn(data, {"--network", "tiny"}, {std::string("SUANLI_ADMIN_TOKEN=") + kToken});
  ASSERT_TRUE(srv.Healthy()) << srv.log();
  auto c = srv.Client();
  auto r = c.Post("/api/v1/jobs", R"({"command": ["true"], "duration_s": 1})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Mode(data), 0700);
  EXPECT_EQ(Mode(data + "/jobs"), 0700);
  EXPECT_EQ(Mode(data + "/suanli.db"), 0600);
  EXPECT_EQ(Mode(data + "/suanli.db-wal"), 0600);
  EXPECT_EQ(Mode(data + "/suanli.db-shm"), 0600);
  EXPECT_EQ(Mode(data + "/suanli.marks"), 0600);
  for (const auto& e : fs::directory_iterator(data)) {
    int m = Mode(e.path().string());
    EXPECT_EQ(m & 077, 0) << e.path() << " mode " << std::oct << m;
  }
  EXPECT_EQ(srv.Stop(), 0);
}

// --- ids and logs after a restore ---

json Submit(httplib::Client& c, const std::string& word) {
  // 1 GiB: the job's sandbox reaper shares its memory cgroup, and an
  // AddressSanitizer build of it alone holds about 340 MiB.
  json spec = {{"command", {"sh", "-c", "echo " + word}}, {"cpu_milli", 100}, {"mem_mib", 1024}};
  auto r = c.Post("/api/v1/jobs", spec.dump(), "application/json");
  if (!r || r->status != 201) {
    ADD_FAILURE() << "submit: " << (r ? r->body : httplib::to_string(r.error()));
    return json();
  }
  return json::parse(r->body);
}

std::string Finished(httplib::Client& c, int64_t id) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  std::string state;
  while (Clock::now() < deadline) {
    auto r = c.Get("/api/v1/jobs/" + std::to_string(id));
    if (r && r->status == 200) {
      state = json::parse(r->body).value("state", "");
      if (state == "succeeded" || state == "failed" || state == "cancelled") return state;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return state;
}

TEST(LiveServeSecurity, RestoredOlderStoreIsRefusedThenNeverReusesIdsOrLogs) {
  auto dir = TempDir("serve_restore");
  const std::string data = dir + "/data";
  const std::vector<std::string> env = {std::string("SUANLI_ADMIN_TOKEN=") + kToken};
  int64_t first = 0, last = 0;
  {
    Server srv;  // one local center: jobs run here and write logs
    srv.Spawn(data, {}, env);
    ASSERT_TRUE(srv.Healthy()) << srv.log();
    auto c = srv.Client();
    first = Submit(c, "first-job").value("id", int64_t{0});
    ASSERT_EQ(Finished(c, first), "succeeded") << srv.log();
    ASSERT_EQ(srv.Stop(), 0);
  }
  fs::copy_file(data + "/suanli.db", dir + "/backup.db");  // a backup of the stopped store
  {
    Server srv;
    srv.Spawn(data, {}, env);
    ASSERT_TRUE(srv.Healthy()) << srv.log();
    auto c = srv.Client();
    for (int i = 0; i < 3; ++i) {
      last = Submit(c, "second-tenant-secret").value("id", int64_t{0});
      ASSERT_EQ(Finished(c, last), "succeeded") << srv.log();
    }
    ASSERT_EQ(srv.Stop(), 0);
  }
  // The operator restores the backup.
  for (const char* f : {"-wal", "-shm"}) fs::remove(data + "/suanli.db" + f);
  fs::copy_file(dir + "/backup.db", data + "/suanli.db", fs::copy_options::overwrite_existing);
  {
    Server srv;
    srv.Spawn(data, {}, env);
    EXPECT_FALSE(srv.Healthy()) << "a store that lost acknowledged jobs was served";
    EXPECT_NE(srv.WaitExit(), 0);
    EXPECT_NE(srv.log().find("were acknowledged but are missing"), std::string::npos) << srv.log();
    EXPECT_NE(srv.log().find("--accept-data-loss"), std::string::npos) << srv.log();
  }
  Server srv;
  srv.Spawn(data, {"--accept-data-loss"}, env);
  ASSERT_TRUE(srv.Healthy()) << srv.log();
  EXPECT_NE(srv.log().find("accepted data loss"), std::string::npos) << srv.log();
  auto c = srv.Client();
  int64_t id = Submit(c, "third-job").value("id", int64_t{0});
  EXPECT_GT(id, last) << "an id handed out before the restore was handed out again";
  ASSERT_EQ(Finished(c, id), "succeeded") << srv.log();
  auto logs = c.Get("/api/v1/jobs/" + std::to_string(id) + "/logs");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->body, "third-job\n") << "the new job's log holds another job's output";
  EXPECT_EQ(srv.Stop(), 0);
}

}  // namespace
}  // namespace suanli
