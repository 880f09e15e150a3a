// End-to-end tests of the client commands (`suanli submit|queue|show|cancel|
// logs|centers|usage|tenants`) against a real `suanli serve` process with a
// local center: output, JSON, job files, connection settings and exit codes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "support/net.h"

extern char** environ;

namespace suanli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kCliToken = "cli-test-admin-token";

std::string CliDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("suanli_live_cli_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct CliRun {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `suanli ARGS` (shell text) with a clean SUANLI_* environment plus `env`
// (shell assignments), capturing stdout and stderr apart.
CliRun Suanli(const std::string& args, const std::string& env = "", const std::string& err_file = "") {
  std::string errf = err_file.empty() ? fs::temp_directory_path() / ("suanli_cli_err_" + std::to_string(getpid()))
                                      : fs::path(err_file);
  std::string cmd = "env -u SUANLI_URL -u SUANLI_TOKEN -u SUANLI_CLI_CONFIG HOME=/nonexistent " + env + " " +
                    SUANLI_BINARY + " " + args + " 2>" + errf;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = ReadAll(errf);
  fs::remove(errf);
  return r;
}

// A `suanli serve` with one local center (or the centers of `network`,
// simulated); SIGTERM (then SIGKILL) at the end.
class CliServer {
 public:
  ~CliServer() { Stop(); }
  bool Start(const std::string& data, const std::string& network = "") {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      log_ = data + ".log";
      std::vector<std::string> args = {
          SUANLI_BINARY, "serve", "--listen",           "127.0.0.1:" + std::to_string(port_),
          "--data",      data,    "--pass-interval-ms", "200"};
      if (!network.empty()) args.insert(args.end(), {"--network", network});
      std::vector<std::string> env;
      for (char** e = environ; *e; ++e) {
        if (std::string_view(*e).substr(0, 7) != "SUANLI_") env.emplace_back(*e);
      }
      env.push_back(std::string("SUANLI_ADMIN_TOKEN=") + kCliToken);
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
    ADD_FAILURE() << "suanli serve did not start:\n" << ReadAll(log_);
    return false;
  }
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int st = 0;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, &st, WNOHANG) != pid_) {
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
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // --url and --token for a command line.
  std::string conn() const { return "--url " + url() + " --token " + kCliToken; }
  std::string log() const { return ReadAll(log_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

int64_t IdFrom(const std::string& submitted) {
  // "Submitted job 17\n"
  size_t p = submitted.find_last_of(' ');
  return p == std::string::npos ? 0 : std::atoll(submitted.c_str() + p + 1);
}

// `suanli show ID --json` until the state satisfies `pred`.
json WaitState(const CliServer& srv, int64_t id, const std::function<bool(const std::string&)>& pred) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  json j;
  while (Clock::now() < deadline) {
    CliRun r = Suanli("show " + std::to_string(id) + " --json " + srv.conn());
    if (r.code == 0) {
      j = json::parse(r.out, nullptr, false);
      if (j.is_object() && pred(j.value("state", ""))) return j;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  return j;
}

TEST(LiveCli, SubmitShowLogsQueue) {
  std::string dir = CliDir("submit");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));

  CliRun sub = Suanli("submit --name hello " + srv.conn() + " -- sh -c 'echo hello'");
  ASSERT_EQ(sub.code, 0) << sub.out << sub.err;
  ASSERT_EQ(sub.out.rfind("Submitted job ", 0), 0u) << sub.out;
  int64_t id = IdFrom(sub.out);
  ASSERT_GT(id, 0) << sub.out;

  json j = WaitState(srv, id, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump() << srv.log();
  EXPECT_EQ(j.value("name", ""), "hello");
  EXPECT_EQ(j["command"], json({"sh", "-c", "echo hello"}));
  EXPECT_EQ(j.value("exit_code", -1), 0);

  CliRun logs = Suanli("logs " + std::to_string(id) + " " + srv.conn());
  EXPECT_EQ(logs.code, 0) << logs.err;
  EXPECT_EQ(logs.out, "hello\n");
  CliRun follow = Suanli("logs --follow " + std::to_string(id) + " " + srv.conn());
  EXPECT_EQ(follow.code, 0) << follow.err;
  EXPECT_EQ(follow.out, "hello\n");
  CliRun err = Suanli("logs --stderr " + std::to_string(id) + " " + srv.conn());
  EXPECT_EQ(err.code, 0);
  EXPECT_EQ(err.out, "");

  CliRun show = Suanli("show " + std::to_string(id) + " " + srv.conn());
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("succeeded"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("sh -c 'echo hello'"), std::string::npos) << show.out;

  // What a tenant wrote reaches the terminal with its control characters
  // shown, never sent: no clearing the screen, no forged row.
  CliRun esc = Suanli("submit --quiet --env \"E=$(printf 'a\\033[2J\\nb')\" " + srv.conn() +
                      " -- sh -c \"$(printf 'true \\033]0;owned\\007')\"");
  ASSERT_EQ(esc.code, 0) << esc.err;
  CliRun shown = Suanli("show " + esc.out.substr(0, esc.out.size() - 1) + " " + srv.conn());
  EXPECT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(shown.out.find('\x1b'), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find('\x07'), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("E=a\\x1b[2J\\x0ab\n"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\\x1b]0;owned\\x07"), std::string::npos) << shown.out;

  // --quiet prints only the id; --json the stored job.
  CliRun q = Suanli("submit --quiet " + srv.conn() + " -- sleep 0.3");
  ASSERT_EQ(q.code, 0) << q.err;
  int64_t id2 = std::atoll(q.out.c_str());
  EXPECT_EQ(q.out, std::to_string(id2) + "\n");
  EXPECT_GT(id2, id);
  CliRun js = Suanli("submit --json --priority 3 --time-limit 90m --env A=1 --env B=x=y " + srv.conn() + " -- true");
  ASSERT_EQ(js.code, 0) << js.err;
  json sj = json::parse(js.out);
  EXPECT_EQ(sj.value("state", ""), "pending");
  EXPECT_EQ(sj.value("priority", 0), 3);
  EXPECT_EQ(sj.value("time_limit_s", 0), 5400);
  EXPECT_EQ(sj["env"].value("B", ""), "x=y");

  CliRun qj = Suanli("queue --all --json " + srv.conn());
  ASSERT_EQ(qj.code, 0) << qj.err;
  json list = json::parse(qj.out);
  ASSERT_TRUE(list["jobs"].is_array());
  bool found = false;
  for (const auto& x : list["jobs"]) found = found || x.value("id", int64_t{0}) == id;
  EXPECT_TRUE(found) << qj.out;
  CliRun table = Suanli("queue --all " + srv.conn());
  ASSERT_EQ(table.code, 0);
  EXPECT_EQ(table.out.rfind("ID", 0), 0u) << table.out;
  for (const char* col : {"NAME", "TENANT", "STATE", "CENTER", "MODEL", "GPUS", "SUBMITTED", "START/EST"}) {
    EXPECT_NE(table.out.find(col), std::string::npos) << col;
  }
  EXPECT_NE(table.out.find("hello"), std::string::npos) << table.out;
  CliRun succ = Suanli("queue --state succeeded --json " + srv.conn());
  ASSERT_EQ(succ.code, 0);
  json succeeded = json::parse(succ.out);
  ASSERT_FALSE(succeeded["jobs"].empty());
  for (const auto& x : succeeded["jobs"]) EXPECT_EQ(x.value("state", ""), "succeeded");

  // Centers, tenants, usage.
  CliRun centers = Suanli("centers --json " + srv.conn());
  ASSERT_EQ(centers.code, 0) << centers.err;
  EXPECT_EQ(json::parse(centers.out)["centers"][0].value("name", ""), "local");
  CliRun ct = Suanli("centers " + srv.conn());
  EXPECT_EQ(ct.code, 0);
  EXPECT_NE(ct.out.find("local"), std::string::npos);
  CliRun drain = Suanli("centers drain local " + srv.conn());
  EXPECT_EQ(drain.code, 0) << drain.err;
  EXPECT_EQ(json::parse(Suanli("centers --json " + srv.conn()).out)["centers"][0].value("drained", false), true);
  CliRun resume = Suanli("centers resume local " + srv.conn());
  EXPECT_EQ(resume.code, 0) << resume.err;
  CliRun usage = Suanli("usage --json " + srv.conn());
  ASSERT_EQ(usage.code, 0) << usage.err;
  EXPECT_FALSE(json::parse(usage.out)["usage"].empty()) << usage.out;
  CliRun ut = Suanli("usage --from 2000-01-01 " + srv.conn());
  EXPECT_EQ(ut.code, 0) << ut.err;
  EXPECT_NE(ut.out.find("total"), std::string::npos);
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveCli, CancelTenantsAndConnectionSettings) {
  std::string dir = CliDir("cancel");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));

  // A tenant made with the CLI; its token used through SUANLI_URL/SUANLI_TOKEN.
  CliRun made = Suanli("tenants create alice --max-active-jobs 10 --json " + srv.conn());
  ASSERT_EQ(made.code, 0) << made.err;
  std::string token = json::parse(made.out).value("token", "");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(json::parse(made.out)["tenant"].value("home", ""), "local");  // the server's one center
  CliRun homed = Suanli("tenants create bob --home local " + srv.conn());
  ASSERT_EQ(homed.code, 0) << homed.err;
  EXPECT_NE(homed.out.find("Created tenant bob, home center local"), std::string::npos) << homed.out;
  CliRun nohome = Suanli("tenants create carol --home mars " + srv.conn());
  EXPECT_NE(nohome.code, 0);
  EXPECT_NE(nohome.err.find("home"), std::string::npos) << nohome.err;
  CliRun listed = Suanli("tenants " + srv.conn());
  EXPECT_NE(listed.out.find("HOME"), std::string::npos) << listed.out;
  std::string env = "SUANLI_URL=" + srv.url() + " SUANLI_TOKEN=" + token;
  CliRun sub = Suanli("submit --quiet -- sleep 100", env);
  ASSERT_EQ(sub.code, 0) << sub.err;
  int64_t id = std::atoll(sub.out.c_str());
  ASSERT_GT(id, 0);
  json running = WaitState(srv, id, [](const std::string& s) { return s != "pending"; });
  ASSERT_EQ(running.value("state", ""), "running") << running.dump();
  EXPECT_EQ(running.value("tenant", ""), "alice");
  CliRun cancel = Suanli("cancel " + std::to_string(id), env);
  EXPECT_EQ(cancel.code, 0) << cancel.err;
  EXPECT_NE(cancel.out.find(std::to_string(id)), std::string::npos) << cancel.out;
  json done = WaitState(srv, id, [](const std::string& s) { return s == "cancelled" || s == "failed"; });
  EXPECT_EQ(done.value("state", ""), "cancelled") << done.dump();
  // A second cancel: the server refuses (409), exit 1 with its message.
  CliRun again = Suanli("cancel " + std::to_string(id), env);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already"), std::string::npos) << again.err;

  // The CLI config file (SUANLI_CLI_CONFIG) gives url and token.
  std::string cfg = dir + "/cli.yaml";
  {
    std::ofstream f(cfg);
    f << "url: " << srv.url() << "\ntoken: " << token << "\n";
  }
  CliRun tl = Suanli("tenants --json", "SUANLI_CLI_CONFIG=" + cfg);
  ASSERT_EQ(tl.code, 0) << tl.err;
  auto tenants = json::parse(tl.out)["tenants"];
  ASSERT_EQ(tenants.size(), 1u);
  EXPECT_EQ(tenants[0].value("name", ""), "alice");
  // Flags win over the file: the admin token sees every tenant.
  CliRun ta = Suanli("tenants --json --token " + std::string(kCliToken), "SUANLI_CLI_CONFIG=" + cfg);
  ASSERT_EQ(ta.code, 0) << ta.err;
  EXPECT_GE(json::parse(ta.out)["tenants"].size(), 2u);
  {
    std::ofstream f(dir + "/bad.yaml");
    f << "url: " << srv.url() << "\ntokn: x\n";
  }
  CliRun bad = Suanli("queue", "SUANLI_CLI_CONFIG=" + dir + "/bad.yaml");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("tokn"), std::string::npos) << bad.err;

  // A job file, with options over it.
  std::string jf = dir + "/job.yaml";
  {
    std::ofstream f(jf);
    f << "name: from-file\ncommand: [sh, -c, 'echo $GREETING']\nenv: {GREETING: bonjour}\ntime_limit_s: 10m\n"
         "priority: 2\n";
  }
  CliRun fsub = Suanli("submit --json -f " + jf + " --priority 5 " + srv.conn());
  ASSERT_EQ(fsub.code, 0) << fsub.err;
  json fj = json::parse(fsub.out);
  EXPECT_EQ(fj.value("name", ""), "from-file");
  EXPECT_EQ(fj.value("time_limit_s", 0), 600);
  EXPECT_EQ(fj.value("priority", 0), 5);
  int64_t fid = fj.value("id", int64_t{0});
  WaitState(srv, fid, [](const std::string& s) { return s == "succeeded" || s == "failed"; });
  EXPECT_EQ(Suanli("logs " + std::to_string(fid) + " " + srv.conn()).out, "bonjour\n");
  {
    std::ofstream f(dir + "/badjob.yaml");
    f << "command: [true]\ngpu: 2\n";
  }
  CliRun badjob = Suanli("submit -f " + dir + "/badjob.yaml " + srv.conn());
  EXPECT_EQ(badjob.code, 2);
  EXPECT_NE(badjob.err.find("gpu"), std::string::npos) << badjob.err;
  EXPECT_NE(badjob.err.find("badjob.yaml:2"), std::string::npos) << badjob.err;
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

TEST(LiveCli, ErrorsAndExitCodes) {
  std::string dir = CliDir("errors");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  // Usage errors: exit 2 with a message, nothing sent.
  CliRun badflag = Suanli("submit --bogus " + srv.conn() + " -- true");
  EXPECT_EQ(badflag.code, 2);
  EXPECT_NE((badflag.out + badflag.err).find("bogus"), std::string::npos) << badflag.out << badflag.err;
  CliRun nocmd = Suanli("submit --gpus 1 " + srv.conn());
  EXPECT_EQ(nocmd.code, 2);
  EXPECT_NE(nocmd.err.find("command"), std::string::npos) << nocmd.err;
  CliRun neg = Suanli("submit --gpus -1 " + srv.conn() + " -- true");
  EXPECT_EQ(neg.code, 2) << neg.out << neg.err;
  CliRun tl = Suanli("submit --time-limit soon " + srv.conn() + " -- true");
  EXPECT_EQ(tl.code, 2);
  EXPECT_NE(tl.err.find("--time-limit"), std::string::npos) << tl.err;
  CliRun env = Suanli("submit --env NOEQUALS " + srv.conn() + " -- true");
  EXPECT_EQ(env.code, 2);
  CliRun showabc = Suanli("show abc " + srv.conn());
  EXPECT_EQ(showabc.code, 2);
  CliRun badurl = Suanli("queue --url ftp://x --token t");
  EXPECT_EQ(badurl.code, 2);
  EXPECT_NE(badurl.err.find("url"), std::string::npos) << badurl.err;
  // Server errors: exit 1 with the server's message and field.
  CliRun nocenter = Suanli("submit --center nowhere " + srv.conn() + " -- true");
  EXPECT_EQ(nocenter.code, 1);
  EXPECT_NE(nocenter.err.find("center"), std::string::npos) << nocenter.err;
  CliRun gpus = Suanli("submit --gpus 2 " + srv.conn() + " -- true");
  EXPECT_EQ(gpus.code, 1);
  EXPECT_NE(gpus.err.find("gpus"), std::string::npos) << gpus.err;
  CliRun missing = Suanli("show 424242 " + srv.conn());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  CliRun notoken = Suanli("queue --url " + srv.url());
  EXPECT_EQ(notoken.code, 1);
  EXPECT_NE(notoken.err.find("token"), std::string::npos) << notoken.err;
  CliRun badtoken = Suanli("queue --url " + srv.url() + " --token nope");
  EXPECT_EQ(badtoken.code, 1);
  // Cannot connect: exit 3.
  int dead = testing::FreeLoopbackPort();
  CliRun unreachable = Suanli("queue --url http://127.0.0.1:" + std::to_string(dead) + " --token t");
  EXPECT_EQ(unreachable.code, 3) << unreachable.err;
  EXPECT_NE(unreachable.err.find("127.0.0.1:" + std::to_string(dead)), std::string::npos) << unreachable.err;
  CliRun unreachable2 = Suanli("submit -- true", "SUANLI_URL=http://127.0.0.1:" + std::to_string(dead));
  EXPECT_EQ(unreachable2.code, 3) << unreachable2.err;
  EXPECT_EQ(srv.Stop(), 0);
  fs::remove_all(dir);
}

// Checkpoints from the CLI: the flags (and a job file's keys) reach the job,
// a bad signal is refused before anything is sent, `suanli checkpoint`
// reports one for a running job, and `suanli show` tells of it.
TEST(LiveCli, CheckpointFlagsAndReport) {
  std::string dir = CliDir("checkpoint");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  CliRun bad = Suanli("submit --checkpoint-s 10m --stop-signal KILL " + srv.conn() + " -- sleep 1");
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("stop_signal"), std::string::npos) << bad.err;
  CliRun sub = Suanli("submit --checkpoint-s 10m --grace-s 30 --stop-signal USR2 " + srv.conn() + " -- sleep 600");
  ASSERT_EQ(sub.code, 0) << sub.err;
  const int64_t id = IdFrom(sub.out);
  json j = WaitState(srv, id, [](const std::string& s) { return s == "running"; });
  ASSERT_EQ(j.value("state", ""), "running") << j.dump();
  EXPECT_EQ(j["checkpoint_s"], 600);
  EXPECT_EQ(j["grace_s"], 30);
  EXPECT_EQ(j["stop_signal"], "USR2");
  CliRun cp = Suanli("checkpoint " + std::to_string(id) + " " + srv.conn());
  ASSERT_EQ(cp.code, 0) << cp.err;
  EXPECT_NE(cp.out.find("checkpointed at"), std::string::npos) << cp.out;
  CliRun show = Suanli("show " + std::to_string(id) + " " + srv.conn());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("every 10m; told by SIGUSR2 30s before a preemption"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("checkpointed:"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("history:"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("submitted: submitted by admin"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("checkpointed: at "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("(reported through the API by admin)"), std::string::npos) << show.out;
  // A job file takes the same keys.
  const std::string file = dir + "/job.yaml";
  std::ofstream(file) << "command: [sleep, '1']\ncheckpoint_s: 1h\ngrace_s: 90\nstop_signal: HUP\n";
  CliRun f = Suanli("submit --json -f " + file + " " + srv.conn());
  ASSERT_EQ(f.code, 0) << f.err;
  json fj = json::parse(f.out, nullptr, false);
  EXPECT_EQ(fj["checkpoint_s"], 3600);
  EXPECT_EQ(fj["grace_s"], 90);
  EXPECT_EQ(fj["stop_signal"], "HUP");
  EXPECT_EQ(Suanli("cancel " + std::to_string(id) + " " + srv.conn()).code, 0);
  // A job that does not run has nothing to report.
  json done = WaitState(srv, id, [](const std::string& s) { return s == "cancelled"; });
  CliRun late = Suanli("checkpoint " + std::to_string(id) + " " + srv.conn());
  EXPECT_NE(late.code, 0);
  EXPECT_NE(late.err.find("no run to checkpoint"), std::string::npos) << late.err;
  fs::remove_all(dir);
}

// --deadline takes an RFC 3339 time as it is, or a duration from now; so does
// a job file's deadline key; anything else, or a time passed, is refused.
TEST(LiveCli, DeadlineFlagAndJobFileKey) {
  std::string dir = CliDir("deadline");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data"));
  const int64_t before =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  CliRun rel = Suanli("submit --json --deadline 12h " + srv.conn() + " -- true");
  ASSERT_EQ(rel.code, 0) << rel.err;
  json rj = json::parse(rel.out, nullptr, false);
  auto at = ParseRfc3339(rj.value("deadline", ""));
  ASSERT_TRUE(at.has_value()) << rj.dump();
  EXPECT_GE(at->ms(), before / 1000 * 1000 + 12 * 3600 * 1000);
  EXPECT_LE(at->ms(), before + 12 * 3600 * 1000 + 60'000);
  CliRun abs = Suanli("submit --json --deadline 2099-12-05T06:00:00+08:00 " + srv.conn() + " -- true");
  ASSERT_EQ(abs.code, 0) << abs.err;
  const int64_t id = json::parse(abs.out, nullptr, false).value("id", int64_t{0});
  CliRun show = Suanli("show " + std::to_string(id) + " " + srv.conn());
  EXPECT_NE(show.out.find("deadline:"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("2099-12-05T06:00:00+08:00"), std::string::npos) << show.out;
  const std::string file = dir + "/job.yaml";
  std::ofstream(file) << "command: [true]\ndeadline: 2099-01-01T00:00:00Z\n";
  CliRun f = Suanli("submit --json -f " + file + " " + srv.conn());
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(json::parse(f.out, nullptr, false).value("deadline", ""), "2099-01-01T00:00:00Z");
  CliRun bad = Suanli("submit --deadline tomorrow " + srv.conn() + " -- true");
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("--deadline"), std::string::npos) << bad.err;
  CliRun past = Suanli("submit --deadline 2020-01-01T00:00:00Z " + srv.conn() + " -- true");
  EXPECT_NE(past.code, 0);
  EXPECT_NE(past.err.find("deadline"), std::string::npos) << past.err;
  EXPECT_NE(past.err.find("has passed"), std::string::npos) << past.err;
  fs::remove_all(dir);
}

// --nodes and the job file's `nodes`: a gang spread over two nodes of the
// tiny network's east; one that does not split evenly is refused by the
// CLI's own check (exit 2), naming nodes.
TEST(LiveCli, NodesFlagAndJobFileKey) {
  std::string dir = CliDir("nodes");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data", "tiny"));
  CliRun flag = Suanli("submit --json --gpus 16 --nodes 2 --duration 600 " + srv.conn() + " -- train");
  ASSERT_EQ(flag.code, 0) << flag.err;
  json fj = json::parse(flag.out, nullptr, false);
  EXPECT_EQ(fj.value("nodes", 0), 2) << fj.dump();
  const std::string id = std::to_string(fj.value("id", int64_t{0}));
  CliRun show;
  for (int i = 0; i < 100; ++i) {
    show = Suanli("show " + id + " " + srv.conn());
    if (show.out.find("state:       running") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(show.out.find("16 gpus, 1 cpus, 1024 MiB over 2 nodes (8 gpus each)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("nodes east-a100-"), std::string::npos) << show.out;
  const std::string file = dir + "/job.yaml";
  std::ofstream(file) << "command: [train]\ngpus: 4\nnodes: 2\n";
  CliRun f = Suanli("submit --json -f " + file + " " + srv.conn());
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(json::parse(f.out, nullptr, false).value("nodes", 0), 2);
  CliRun bad = Suanli("submit --gpus 3 --nodes 2 " + srv.conn() + " -- train");
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("nodes"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

// --gpus and the job file's `gpus` below 1: a share of one device of the
// tiny network, kept as the number given; more than one device must be
// whole (the CLI's own check, exit 2).
TEST(LiveCli, AShareOfOneGpuByFlagAndJobFile) {
  std::string dir = CliDir("share");
  CliServer srv;
  ASSERT_TRUE(srv.Start(dir + "/data", "tiny"));
  CliRun flag = Suanli("submit --json --gpus 0.25 --duration 600 " + srv.conn() + " -- infer");
  ASSERT_EQ(flag.code, 0) << flag.err;
  json fj = json::parse(flag.out, nullptr, false);
  EXPECT_EQ(fj["gpus"].dump(), "0.25") << fj.dump();
  CliRun show = Suanli("show " + std::to_string(fj.value("id", int64_t{0})) + " " + srv.conn());
  EXPECT_NE(show.out.find("0.25 gpus, 1 cpus"), std::string::npos) << show.out;
  const std::string file = dir + "/job.yaml";
  std::ofstream(file) << "command: [infer]\ngpus: 0.5\n";
  CliRun f = Suanli("submit --json -f " + file + " " + srv.conn());
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(json::parse(f.out, nullptr, false)["gpus"].dump(), "0.5");
  CliRun bad = Suanli("submit --gpus 1.5 " + srv.conn() + " -- infer");
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("a share is of one device"), std::string::npos) << bad.err;
  CliRun decimals = Suanli("submit --gpus 0.0001 " + srv.conn() + " -- infer");
  EXPECT_EQ(decimals.code, 2) << decimals.out << decimals.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace suanli
