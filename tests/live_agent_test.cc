// Centers joined through `suanli agent` (docs/network.md): a real hub
// (`suanli serve`) and real agents, each its own process, the agents
// reaching the hub through a TCP proxy that can cut the link.
#include <fstream>
#include <map>

#include "support/cli.h"
#include "support/live_agent.h"
#include "support/live_server.h"
#include "support/tcp_proxy.h"

namespace suanli::testing {
namespace {

using live_server::Body;
using live_server::Clock;
using live_server::ExpectError;
using live_server::json;
using live_server::kAdminToken;
using live_server::ServerProcess;
using live_server::Submit;
using live_server::WaitJob;
namespace fs = std::filesystem;

// The hub's network: the agent's center `edge` (one CPU node, named as the
// agent's local backend calls it) in region east.
constexpr const char* kNetwork = R"(name: agents
centers:
  - name: edge
    region: east
    pue: 1.2
    price_per_kwh: 0.5
    carbon_g_per_kwh: 500
    pools:
      - name: p
        nodes:
          - {count: 1, prefix: edge, cpu: 4, memory_gib: 8}
  - name: sim
    region: west
    pue: 1.1
    price_per_kwh: 0.3
    carbon_g_per_kwh: 100
    pools:
      - name: g
        nodes:
          - {count: 2, prefix: sim-a100-, accelerator: A100-80GB, devices: 8, cpu: 64, memory_gib: 512}
)";

class LiveAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = live_server::TestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(dir_ + "/net.yaml") << kNetwork;
    // Where jobs (each run as a uid of its own) write what the test reads.
    fs::create_directories(dir_ + "/shared");
    fs::permissions(dir_ + "/shared", fs::perms::all | fs::perms::sticky_bit);
  }
  // The hub: `edge` run by an agent, and `extra` centers of its config.
  void StartHub(const std::string& extra_centers = "", int center_timeout_s = 6, const std::string& cert = "",
                const std::string& key = "") {
    std::ofstream(dir_ + "/hub.yaml") << "network: " << dir_ << "/net.yaml\ncenter_timeout_s: " << center_timeout_s
                                      << "\nagent_poll_ms: 200\ncenters:\n  - {name: edge, backend: agent}\n"
                                      << "  - {name: sim, backend: agent}\n"
                                      << extra_centers;
    ASSERT_TRUE(hub_.Start(dir_ + "/hub", {"--config", dir_ + "/hub.yaml"}, cert, key));
    admin_ = hub_.Client(kAdminToken);
  }
  // Issues a center's credential and keeps it in an owner-only file.
  std::string Credential(const std::string& center = "edge", const std::string& region = "east") {
    auto r = admin_->Post("/api/v1/centers", json{{"name", center}, {"region", region}}.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    std::string cred = Body(r).value("credential", "");
    const std::string path = dir_ + "/" + center + ".cred";
    std::ofstream(path) << cred << "\n";
    chmod(path.c_str(), 0600);
    return cred;
  }
  void StartAgent(AgentProcess& a, const std::string& hub_url, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"--hub",
                                     hub_url,
                                     "--center",
                                     "edge",
                                     "--credential-file",
                                     dir_ + "/edge.cred",
                                     "--data",
                                     dir_ + "/agent",
                                     "--backend",
                                     "local",
                                     "--node-name",
                                     "edge0",
                                     "--slots",
                                     "4",
                                     "--sandbox",
                                     "off",
                                     "--cgroups",
                                     "off",
                                     "--grace-s",
                                     "1"};
    args.insert(args.end(), more.begin(), more.end());
    a.Start(args, dir_ + "/agent.log");
  }
  json Center(const std::string& name) {
    auto r = admin_->Get("/api/v1/centers");
    for (const json& c : Body(r).value("centers", json::array()))
      if (c.value("name", "") == name) return c;
    return json();
  }
  bool WaitConnected(double timeout_s = 20, const std::string& center = "edge") {
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    while (Clock::now() < deadline) {
      if (Center(center).value("connected", false)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::string Logs() {
    return "\n--- hub:\n" + hub_.log().substr(hub_.log().size() > 6000 ? hub_.log().size() - 6000 : 0) +
           "\n--- agent:\n" + live_server::ReadText(dir_ + "/agent.log");
  }

  void PartitionNeverRunsAJobTwice(bool silent);

  std::string dir_;
  ServerProcess hub_;
  std::unique_ptr<httplib::Client> admin_;
};

bool Ended(const std::string& s) { return s == "succeeded" || s == "failed" || s == "cancelled"; }

TEST_F(LiveAgent, RunsTheHubsJobsAndFollowsThemAcrossItsOwnRestart) {
  StartHub();
  Credential();
  AgentProcess agent;
  StartAgent(agent, hub_.url());
  ASSERT_TRUE(WaitConnected()) << Logs();
  json c = Center("edge");
  EXPECT_EQ(c.value("backend", ""), "agent");
  EXPECT_EQ(c.value("epoch", 0), 1);
  EXPECT_GT(c.value("last_seen_ms", int64_t{0}), 0);

  const int64_t id = Submit(*admin_, {{"command", {"sh", "-c", "echo ran attempt $SUANLI_ATTEMPT"}}});
  json j = WaitJob(*admin_, id, Ended, 30);
  ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  EXPECT_EQ(j.value("center", ""), "edge");
  EXPECT_EQ(live_server::ReadText(dir_ + "/agent/jobs/" + std::to_string(id) + "/stdout"), "ran attempt 1\n");

  // kill -9 the agent while its job runs: the run goes on, and the agent,
  // started again, follows it to its end; the job runs once.
  const std::string out = dir_ + "/shared/long.out";
  const int64_t id2 =
      Submit(*admin_, {{"command", {"sh", "-c", "echo start >> " + out + "; sleep 3; echo end >> " + out}}});
  ASSERT_EQ(WaitJob(
                *admin_, id2, [](const std::string& s) { return s == "running"; }, 30)
                .value("state", ""),
            "running")
      << Logs();
  agent.Stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  AgentProcess again;
  StartAgent(again, hub_.url());
  j = WaitJob(*admin_, id2, Ended, 30);
  EXPECT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  EXPECT_EQ(j["attempts"].size(), 1u) << j.dump();
  EXPECT_EQ(live_server::ReadText(out), "start\nend\n");
}

TEST_F(LiveAgent, OnlyItsCredentialSyncsAndOnlyTheAdminIssuesOne) {
  StartHub("  - {name: home, backend: local, slots: 1, sandbox: off, cgroups: off}\n");
  auto anon = hub_.Client();
  const std::string sync = R"({"agent_id": "x", "events": [], "runs": []})";
  ExpectError(anon->Post("/api/v1/centers/edge/sync", sync, "application/json"), 401, "Authorization", "no token");
  auto wrong = hub_.Client("not-the-credential");
  ExpectError(wrong->Post("/api/v1/centers/edge/sync", sync, "application/json"), 401, "Authorization",
              "wrong credential");
  // Before one is issued, no credential works; the admin's token is not one.
  ExpectError(admin_->Post("/api/v1/centers/edge/sync", sync, "application/json"), 401, "Authorization",
              "the admin's token");
  // A tenant cannot issue one; the admin can, for an agent's center only.
  auto t = admin_->Post("/api/v1/tenants", R"({"name": "alice"})", "application/json");
  ASSERT_TRUE(t && t->status == 201);
  auto alice = hub_.Client(Body(t).value("token", ""));
  ExpectError(alice->Post("/api/v1/centers", R"({"name": "edge"})", "application/json"), 403, "", "a tenant");
  ExpectError(admin_->Post("/api/v1/centers", R"({"name": "home"})", "application/json"), 409, "", "a local center");
  ExpectError(admin_->Post("/api/v1/centers", R"({"name": "nowhere"})", "application/json"), 404, "", "no center");
  ExpectError(admin_->Post("/api/v1/centers", R"({"name": "edge", "size": 1})", "application/json"), 400, "size",
              "unknown key");
  const std::string cred = Credential();
  ASSERT_EQ(cred.size(), 64u);
  auto agent = hub_.Client(cred);
  auto r = agent->Post("/api/v1/centers/edge/sync", sync, "application/json");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  EXPECT_EQ(Body(r).value("epoch", 0), 1);
  EXPECT_GT(Body(r).value("fence_ms", 0), 0);
  // The credential is edge's only, and a new one replaces it.
  ExpectError(agent->Post("/api/v1/centers/home/sync", sync, "application/json"), 401, "Authorization",
              "another center");
  // Hostile bodies: clear errors, nothing taken.
  for (
      const std::string& bad :
      {std::string("{"), std::string(R"({"agent_id": 5})"), std::string(R"({"agent_id": "x", "events": [{}]})"),
       std::string(R"({"agent_id": "x", "events": [{"seq": 1, "kind": "ended"}]})"),
       std::string(
           R"({"agent_id": "x", "events": [{"seq": 2, "kind": "node", "node": "n"}, {"seq": 1, "kind": "node", "node": "n"}]})"),
       std::string(R"({"agent_id": "x", "runs": [{"job_id": -1}]})"),
       std::string(R"({"agent_id": "x", "capacity": {"nodes": [{"name": "n", "devices": 1000}]}})"),
       std::string(R"({"agent_id": "x", "extra": 1})")}) {
    auto b = agent->Post("/api/v1/centers/edge/sync", bad, "application/json");
    ASSERT_TRUE(b) << bad;
    EXPECT_EQ(b->status, 400) << bad << " -> " << b->body;
  }
  Credential();
  ExpectError(agent->Post("/api/v1/centers/edge/sync", sync, "application/json"), 401, "Authorization",
              "a replaced credential");
}

// A partition: the agent stops its run once it has lost the hub for
// fence_ms; the hub, once the center has been silent past its timeout,
// requeues the job to another center; when the link heals, the agent's
// epoch has grown. At no moment do two attempts of the job run. `silent`:
// packets are dropped rather than refused, and the agent's exchange with
// the hub hangs; it may wait for the hub for longer (`--hub-timeout-s 20`)
// than the hub's lease (6 s), yet must stop its run within its fence.
void LiveAgent::PartitionNeverRunsAJobTwice(bool silent) {
  StartHub("  - {name: home, backend: local, slots: 2, sandbox: off, cgroups: off, grace_s: 1}\n", 6);
  Credential();
  TcpProxy link(hub_.port());
  AgentProcess agent;
  StartAgent(agent, link.url(), {"--hub-timeout-s", "20"});
  ASSERT_TRUE(WaitConnected()) << Logs();
  httplib::Client& admin = *admin_;
  // Only edge takes it at first.
  auto d = admin.Post("/api/v1/centers/home/drain", "", "application/json");
  ASSERT_TRUE(d && d->status == 200);
  const std::string marks = dir_ + "/shared/marks";
  const std::string script = "echo \"start $SUANLI_ATTEMPT $(date +%s.%N)\" >> " + marks +
                             "; trap 'echo \"end $SUANLI_ATTEMPT $(date +%s.%N)\" >> " + marks +
                             "; exit 143' TERM; sleep 12 & wait; echo \"end $SUANLI_ATTEMPT $(date +%s.%N)\" >> " +
                             marks;
  const int64_t id = Submit(admin, {{"command", {"sh", "-c", script}}, {"time_limit_s", 120}});
  json j = WaitJob(
      admin, id, [](const std::string& s) { return s == "running"; }, 30);
  ASSERT_EQ(j.value("center", ""), "edge") << j.dump() << Logs();
  ASSERT_EQ(j.value("state", ""), "running") << Logs();
  auto r = admin.Post("/api/v1/centers/home/resume", "", "application/json");
  ASSERT_TRUE(r && r->status == 200);

  if (silent) link.SetSilent(true);
  else link.SetPartitioned(true);
  j = WaitJob(admin, id, Ended, 90);
  EXPECT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  EXPECT_EQ(j.value("center", ""), "home") << j.dump();
  if (silent) link.SetSilent(false);
  else link.SetPartitioned(false);
  ASSERT_TRUE(WaitConnected(30)) << Logs();
  EXPECT_EQ(Center("edge").value("epoch", 0), 2) << Center("edge").dump();

  // The attempts, from the job's own marks: each started after the one
  // before had ended.
  std::istringstream in(live_server::ReadText(marks));
  std::map<int, std::pair<double, double>> runs;
  std::string what;
  int attempt = 0;
  double at = 0;
  while (in >> what >> attempt >> at) (what == "start" ? runs[attempt].first : runs[attempt].second) = at;
  ASSERT_GE(runs.size(), 2u) << live_server::ReadText(marks);
  double last_end = 0;
  for (const auto& [a, se] : runs) {
    EXPECT_GT(se.second, 0) << "attempt " << a << " never ended: " << live_server::ReadText(marks);
    EXPECT_GT(se.first, last_end) << "attempt " << a << " started before the one before ended:\n"
                                  << live_server::ReadText(marks);
    last_end = se.second;
  }
  EXPECT_NE(live_server::ReadText(dir_ + "/agent.log").find("stopping its 1 run"), std::string::npos) << Logs();
}

TEST_F(LiveAgent, APartitionNeverRunsAJobTwiceAtOnce) { PartitionNeverRunsAJobTwice(false); }
TEST_F(LiveAgent, ASilentPartitionIsFencedBeforeTheHubsLeaseRunsOut) { PartitionNeverRunsAJobTwice(true); }

// The center is sovereign: its agent refuses what its own policy does not
// take, says why, and the hub runs the job elsewhere.
TEST_F(LiveAgent, ItsCenterMayRefuseAJobAndTheHubRunsItElsewhere) {
  StartHub("  - {name: home, backend: local, slots: 2, sandbox: off, cgroups: off}\n");
  Credential();
  AgentProcess agent;
  StartAgent(agent, hub_.url(), {"--max-time-limit-s", "60"});
  ASSERT_TRUE(WaitConnected()) << Logs();
  ASSERT_EQ(admin_->Post("/api/v1/centers/home/drain", "", "application/json")->status, 200);
  const int64_t id = Submit(*admin_, {{"command", {"true"}}, {"time_limit_s", 600}});
  json j;
  for (int i = 0; i < 200; ++i) {
    j = Body(admin_->Get("/api/v1/jobs/" + std::to_string(id)));
    if (j.dump().find("refused by the agent of edge") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(j.dump().find("the center's policy: a time limit of at most 60 s"), std::string::npos)
      << j.dump() << Logs();
  ASSERT_EQ(admin_->Post("/api/v1/centers/home/resume", "", "application/json")->status, 200);
  j = WaitJob(*admin_, id, Ended, 60);
  EXPECT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  EXPECT_EQ(j.value("center", ""), "home");
  // What it takes, it runs.
  const int64_t ok = Submit(*admin_, {{"command", {"true"}}, {"time_limit_s", 60}, {"center", "edge"}});
  EXPECT_EQ(WaitJob(*admin_, ok, Ended, 30).value("state", ""), "succeeded") << Logs();
}

// A simulated center joins through its agent too, its nodes from the
// network file both sides read (as the scale test's thousand centers do).
TEST_F(LiveAgent, ASimulatedCenterJoinsThroughItsAgent) {
  StartHub();
  Credential("sim", "west");
  AgentProcess agent;
  agent.Start({"--hub", hub_.url(), "--center", "sim", "--credential-file", dir_ + "/sim.cred", "--data",
               dir_ + "/sim-agent", "--backend", "simulated", "--network", dir_ + "/net.yaml"},
              dir_ + "/agent.log");
  ASSERT_TRUE(WaitConnected(20, "sim")) << Logs();
  const int64_t id = Submit(*admin_, {{"command", {"train"}}, {"gpus", 16}, {"nodes", 2}, {"duration_s", 3}});
  // It "runs" its 3 s from its launch at the center, across a kill -9 of
  // its agent (the restarted agent adopts it from its store).
  json j = WaitJob(
      *admin_, id, [](const std::string& s) { return s == "running"; }, 30);
  ASSERT_EQ(j.value("state", ""), "running") << j.dump() << Logs();
  agent.Stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  AgentProcess again;
  again.Start({"--hub", hub_.url(), "--center", "sim", "--credential-file", dir_ + "/sim.cred", "--data",
               dir_ + "/sim-agent", "--backend", "simulated", "--network", dir_ + "/net.yaml"},
              dir_ + "/agent.log");
  j = WaitJob(*admin_, id, Ended, 30);
  EXPECT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  EXPECT_EQ(j.value("center", ""), "sim");
  EXPECT_EQ(j.value("node", ""), "sim-a100-0,sim-a100-1") << j.dump();
  EXPECT_EQ(j["attempts"].size(), 1u) << j.dump();
  const int64_t ran_ms = j.value("end_ms", int64_t{0}) - j.value("start_ms", int64_t{0});
  EXPECT_GE(ran_ms, 2900) << j.dump();
  EXPECT_LE(ran_ms, 6000) << j.dump();
  EXPECT_EQ(Center("sim").value("devices", 0), 16);
}

// Over TLS the agent checks the hub's certificate with --ca-cert; plain
// HTTP is refused for a hub that is not on loopback.
TEST_F(LiveAgent, ReachesAHubOverTlsWithItsCaCertificate) {
  const std::string cert = dir_ + "/hub.crt", key = dir_ + "/hub.key";
  auto gen = RunShell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>&1");
  ASSERT_EQ(gen.code, 0) << gen.out;
  StartHub("", 6, cert, key);
  ASSERT_EQ(hub_.url().substr(0, 8), "https://");
  Credential();
  {
    AgentProcess untrusting;  // the system's CAs only: the hub is not vouched for
    StartAgent(untrusting, hub_.url());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_FALSE(Center("edge").value("connected", false));
  }
  AgentProcess agent;
  StartAgent(agent, hub_.url(), {"--ca-cert", cert});
  ASSERT_TRUE(WaitConnected()) << Logs();
  const int64_t id = Submit(*admin_, {{"command", {"true"}}, {"center", "edge"}});
  EXPECT_EQ(WaitJob(*admin_, id, Ended, 30).value("state", ""), "succeeded") << Logs();
  auto plain = RunShell(std::string(SUANLI_BINARY) + " agent --hub http://192.0.2.1:8080 --center edge " +
                        "--credential-file " + dir_ + "/edge.cred --data " + dir_ + "/a2 --backend local 2>&1");
  EXPECT_EQ(plain.code, 2) << plain.out;
  EXPECT_NE(plain.out.find("plain HTTP only to a hub on this machine's loopback"), std::string::npos) << plain.out;
  auto loose =
      RunShell("chmod 644 " + dir_ + "/edge.cred && " + SUANLI_BINARY + " agent --hub " + hub_.url() +
               " --center edge --credential-file " + dir_ + "/edge.cred --data " + dir_ + "/a3 --backend local 2>&1");
  EXPECT_EQ(loose.code, 2) << loose.out;
  EXPECT_NE(loose.out.find("chmod 600"), std::string::npos) << loose.out;
}

// What a run at an agent's center writes reaches the hub as it runs: its
// stdout and stderr (the logs API shows them whole, in order, a multi-byte
// character cut at a chunk's end included), and its checkpoint mark (the
// work up to it is kept).
TEST_F(LiveAgent, ItsRunsLogsAndCheckpointsReachTheHub) {
  StartHub();
  Credential();
  AgentProcess agent;
  StartAgent(agent, hub_.url());
  ASSERT_TRUE(WaitConnected()) << Logs();
  // 16383 'x' then a 2-byte character: the first chunk (16 KiB) cuts it.
  const std::string script =
      "echo hello from edge; echo to stderr >&2; head -c 16383 /dev/zero | tr '\\0' x; printf '\\303\\274\\n'; "
      "head -c 200000 /dev/zero | tr '\\0' y; echo; touch $SUANLI_CHECKPOINT_DIR/latest; sleep 1; echo done";
  const int64_t id = Submit(*admin_, {{"command", {"sh", "-c", script}}, {"checkpoint_s", 60}});
  json j = WaitJob(*admin_, id, Ended, 30);
  ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump() << Logs();
  ASSERT_EQ(j.value("center", ""), "edge");
  const std::string expected =
      "hello from edge\n" + std::string(16383, 'x') + "\xc3\xbc\n" + std::string(200000, 'y') + "\ndone\n";
  // What the agent's center wrote, and what the hub shows.
  EXPECT_EQ(live_server::ReadText(dir_ + "/agent/jobs/" + std::to_string(id) + "/stdout"), expected);
  auto out = admin_->Get("/api/v1/jobs/" + std::to_string(id) + "/logs?stream=stdout");
  ASSERT_TRUE(out && out->status == 200);
  EXPECT_EQ(out->body.size(), expected.size());
  EXPECT_TRUE(out->body == expected) << out->body.substr(0, 200);
  auto err = admin_->Get("/api/v1/jobs/" + std::to_string(id) + "/logs?stream=stderr");
  ASSERT_TRUE(err && err->status == 200);
  EXPECT_EQ(err->body, "to stderr\n");
  EXPECT_NE(j.dump().find("from its agent"), std::string::npos) << j.dump();
}

// A hostile agent lies about jobs of another center: their end, their loss,
// that center's node going down. Nothing of it touches them.
TEST_F(LiveAgent, AnAgentCannotEndOrLoseAnotherCentersJobs) {
  StartHub("  - {name: home, backend: local, slots: 2, sandbox: off, cgroups: off, node_name: home0}\n");
  auto agent = hub_.Client(Credential());
  const int64_t id = Submit(*admin_, {{"command", {"sleep", "30"}}, {"center", "home"}});
  ASSERT_EQ(WaitJob(
                *admin_, id, [](const std::string& s) { return s == "running"; }, 30)
                .value("state", ""),
            "running");
  const std::string job = std::to_string(id);
  const std::string lie = R"({"agent_id": "evil", "events": [
      {"seq": 1, "epoch": 1, "kind": "ended", "job_id": )" +
                          job + R"(, "state": "succeeded", "exit_code": 0},
      {"seq": 2, "epoch": 1, "kind": "lost", "job_id": )" +
                          job + R"(, "state": "failed"},
      {"seq": 3, "epoch": 0, "kind": "node", "node": "home0", "up": false, "reason": "evil"},
      {"seq": 4, "epoch": 1, "kind": "log", "job_id": )" +
                          job + R"(, "stream": "stdout", "data": "evil\n"},
      {"seq": 5, "epoch": 1, "kind": "checkpoint", "job_id": )" +
                          job + R"(, "at_ms": 4102444800000}],
    "runs": [{"job_id": )" +
                          job + R"(, "epoch": 1}]})";
  auto r = agent->Post("/api/v1/centers/edge/sync", lie, "application/json");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // several passes
  json j = Body(admin_->Get("/api/v1/jobs/" + job));
  EXPECT_EQ(j.value("state", ""), "running") << j.dump();
  EXPECT_EQ(j.value("center", ""), "home");
  EXPECT_TRUE(Center("home").value("nodes_down", json::array()).empty()) << Center("home").dump();
  EXPECT_EQ(j.dump().find("checkpointed"), std::string::npos) << j.dump();
  auto log = admin_->Get("/api/v1/jobs/" + job + "/logs");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->body.find("evil"), std::string::npos) << log->body;
  admin_->Post("/api/v1/jobs/" + job + "/cancel", "", "application/json");
  EXPECT_EQ(WaitJob(*admin_, id, Ended, 30).value("state", ""), "cancelled");
}

}  // namespace
}  // namespace suanli::testing
