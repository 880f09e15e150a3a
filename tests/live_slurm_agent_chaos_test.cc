// Chaos across three agents' centers (issue 13, short version): one on a
// real local Slurm, one local, one simulated, each reaching the hub through
// a TCP proxy that delays every chunk by 15 ms each way (a WAN's 30 ms round
// trip). While their jobs run, links are cut (refused, or silent: packets
// dropped, connections hanging) and healed, agents and
// the hub are killed with SIGKILL and started again, at times drawn from a
// fixed seed. Every job must end exactly once, no two attempts of a job may
// run at once (the jobs' own marks, and the hub's records), and every job is
// metered. The long version is the same test with more jobs and a longer
// chaos: SUANLI_CHAOS_JOBS=1000 SUANLI_CHAOS_S=600 (docs/BENCHMARKS.md).
#include <fstream>
#include <map>
#include <random>

#include "support/cli.h"
#include "support/live_agent.h"
#include "support/live_server.h"
#include "support/slurm.h"
#include "support/tcp_proxy.h"

namespace suanli::testing {
namespace {

using live_server::Body;
using live_server::json;
using live_server::kAdminToken;
using live_server::ServerProcess;
namespace fs = std::filesystem;

constexpr const char* kNetwork = R"(name: chaos
centers:
  - {name: slurmc, region: a, pue: 1.2, price_per_kwh: 0.5, carbon_g_per_kwh: 500,
     pools: [{name: p, nodes: [{names: [n1], accelerator: A100-80GB, devices: 2, cpu: 4, memory_gib: 15}]}]}
  - {name: edge, region: b, pue: 1.2, price_per_kwh: 0.5, carbon_g_per_kwh: 500,
     pools: [{name: p, nodes: [{names: [edge0], cpu: 4, memory_gib: 8}]}]}
  - {name: sim, region: c, pue: 1.2, price_per_kwh: 0.5, carbon_g_per_kwh: 500,
     pools: [{name: p, nodes: [{count: 1, prefix: sim-, cpu: 4, memory_gib: 64}]}]}
)";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

bool Ended(const std::string& s) { return s == "succeeded" || s == "failed" || s == "cancelled"; }

TEST(LiveSlurmAgentChaos, EveryJobEndsOnceAndNeverRunsTwiceAtOnce) {
  std::string missing;
  if (!SlurmInstalled(&missing)) GTEST_SKIP() << missing;
  SlurmCluster cluster("chaos");
  auto started = cluster.Start(1, 2);
  ASSERT_EQ(started.code, 0) << started.out;
  const std::string dir = live_server::TestDir("agent_chaos");
  fs::create_directories(dir + "/shared");
  fs::permissions(dir + "/shared", fs::perms::all | fs::perms::sticky_bit);
  std::ofstream(dir + "/net.yaml") << kNetwork;
  std::ofstream(dir + "/hub.yaml") << "network: " << dir << "/net.yaml\ncenter_timeout_s: 4\nagent_poll_ms: 200\n"
                                   << "centers:\n  - {name: slurmc, backend: agent}\n  - {name: edge, backend: agent}\n"
                                   << "  - {name: sim, backend: agent}\n";
  ServerProcess hub;
  const std::vector<std::string> hub_args = {"--config", dir + "/hub.yaml"};
  ASSERT_TRUE(hub.Start(dir + "/hub", hub_args));
  auto admin = hub.Client(kAdminToken);

  const std::vector<std::string> centers = {"slurmc", "edge", "sim"};
  std::vector<std::unique_ptr<TcpProxy>> links;
  std::vector<std::vector<std::string>> agent_args;
  for (const std::string& c : centers) {
    auto r = admin->Post("/api/v1/centers", json{{"name", c}}.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
    const std::string cred = dir + "/" + c + ".cred";
    std::ofstream(cred) << Body(r).value("credential", "") << "\n";
    fs::permissions(cred, fs::perms::owner_read | fs::perms::owner_write);
    links.push_back(std::make_unique<TcpProxy>(hub.port()));
    links.back()->SetDelayMs(15);
    std::vector<std::string> a = {"--hub",  links.back()->url(), "--center", c, "--credential-file", cred,
                                  "--data", dir + "/agent-" + c};
    if (c == "slurmc") a.insert(a.end(), {"--backend", "slurm", "--slurm-conf", cluster.conf()});
    if (c == "edge")
      a.insert(a.end(), {"--backend", "local", "--node-name", "edge0", "--slots", "4", "--sandbox", "off", "--cgroups",
                         "off", "--grace-s", "1"});
    if (c == "sim") a.insert(a.end(), {"--backend", "simulated", "--network", dir + "/net.yaml"});
    agent_args.push_back(a);
  }
  std::vector<std::unique_ptr<AgentProcess>> agents;
  for (size_t i = 0; i < centers.size(); ++i) {
    agents.push_back(std::make_unique<AgentProcess>());
    agents.back()->Start(agent_args[i], dir + "/agent-" + centers[i] + ".log");
  }
  auto logs = [&] {
    std::string out = "\n--- hub (tail):\n" + hub.log().substr(hub.log().size() > 8000 ? hub.log().size() - 8000 : 0);
    for (const std::string& c : centers) out += "\n--- agent " + c + ":\n" + ReadFile(dir + "/agent-" + c + ".log");
    return out;
  };
  // Every agent connected before the jobs come.
  for (int i = 0; i < 200; ++i) {
    int up = 0;
    for (const json& c : Body(admin->Get("/api/v1/centers")).value("centers", json::array()))
      up += c.value("connected", false) ? 1 : 0;
    if (up == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  const int n_jobs = EnvInt("SUANLI_CHAOS_JOBS", 60);
  std::vector<int64_t> ids;
  std::mt19937 rng(7);
  for (int i = 0; i < n_jobs; ++i) {
    const std::string m = dir + "/shared/marks-" + std::to_string(i);
    const int secs = 2 + static_cast<int>(rng() % 3);
    const std::string script = "echo \"start $SUANLI_ATTEMPT $(date +%s.%N)\" >> " + m +
                               "; trap 'echo \"end $SUANLI_ATTEMPT $(date +%s.%N)\" >> " + m +
                               "; exit 143' TERM; sleep " + std::to_string(secs) +
                               " & wait; echo \"end $SUANLI_ATTEMPT $(date +%s.%N)\" >> " + m;
    // Written by attempts run as different users (a local job's own uid,
    // a Slurm job's submitter).
    std::ofstream(m).close();
    fs::permissions(m, fs::perms::all & ~(fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec));
    // Three in four are pinned to a center in turn (a run cut off there runs
    // there again: the epoch keeps the old run's end from ending the new
    // one); the rest go where the dispatcher sends them, and elsewhere when
    // their center is lost.
    json spec = {
        {"command", {"sh", "-c", script}}, {"name", std::to_string(i)}, {"duration_s", secs}, {"time_limit_s", 300}};
    if (i % 4 < 3) spec["center"] = centers[static_cast<size_t>(i % 4)];
    ids.push_back(live_server::Submit(*admin, spec));
    ASSERT_GT(ids.back(), 0);
  }

  // The chaos: an action every 1.5-3 s for about 30 s.
  int hub_kills = 0, step = 0;
  const auto chaos_end = live_server::Clock::now() + std::chrono::seconds(EnvInt("SUANLI_CHAOS_S", 30));
  std::vector<std::string> done;
  while (live_server::Clock::now() < chaos_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 1500));
    const size_t i = rng() % centers.size();
    // Each kind in turn (the hub at most twice), at random centers and times.
    int kind = step++ % 3;
    if (kind == 2 && hub_kills >= 2) kind = 0;
    switch (kind) {
      case 0: {  // cut a link for 2.5-5 s: past the agent's fence, maybe past the hub's timeout
        const bool silent = rng() % 2 == 0;
        if (silent) links[i]->SetSilent(true);
        else links[i]->SetPartitioned(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(2500 + rng() % 2500));
        if (silent) links[i]->SetSilent(false);
        else links[i]->SetPartitioned(false);
        done.push_back((silent ? "silence " : "cut ") + centers[i]);
        break;
      }
      case 1: {  // kill -9 an agent, start it again a moment later
        agents[i]->Stop(SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
        agents[i]->Start(agent_args[i], dir + "/agent-" + centers[i] + ".log");
        done.push_back("kill agent " + centers[i]);
        break;
      }
      case 2: {  // kill -9 the hub (twice at most), start it again
        ++hub_kills;
        hub.Stop(SIGKILL);
        ASSERT_TRUE(hub.Start(dir + "/hub", hub_args)) << logs();
        for (auto& l : links) l->SetTarget(hub.port());
        admin = hub.Client(kAdminToken);
        done.push_back("kill hub");
        break;
      }
    }
  }
  for (auto& l : links) {
    l->SetPartitioned(false);
    l->SetSilent(false);
  }

  // Every job ends, once.
  std::map<int64_t, json> jobs;
  const auto deadline = live_server::Clock::now() + std::chrono::seconds(240 + n_jobs);
  while (live_server::Clock::now() < deadline) {
    int ended = 0;
    for (int64_t id : ids) {
      auto r = admin->Get("/api/v1/jobs/" + std::to_string(id));
      if (!r || r->status != 200) continue;
      jobs[id] = Body(r);
      ended += Ended(jobs[id].value("state", "")) ? 1 : 0;
    }
    if (ended == n_jobs) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::string actions;
  for (const auto& a : done) actions += a + "; ";
  int succeeded = 0, requeued = 0;
  std::map<std::string, int> at;
  for (int64_t id : ids) {
    const json& j = jobs[id];
    ASSERT_TRUE(Ended(j.value("state", "")))
        << "job " << id << " did not end: " << j.dump() << "\nchaos: " << actions << logs();
    succeeded += j.value("state", "") == "succeeded" ? 1 : 0;
    EXPECT_EQ(j.value("state", ""), "succeeded") << j.dump() << "\nchaos: " << actions;
    ++at[j.value("center", "")];
    // The hub's attempts never overlap, and each one is closed.
    int64_t last_end = 0;
    for (const json& a : j.value("attempts", json::array())) {
      EXPECT_GE(a.value("start_ms", int64_t{0}), last_end) << j.dump();
      EXPECT_GE(a.value("end_ms", int64_t{0}), a.value("start_ms", int64_t{0})) << j.dump();
      last_end = a.value("end_ms", int64_t{0});
    }
    requeued += j.value("attempts", json::array()).size() > 1 ? 1 : 0;
  }
  // The jobs' own marks: each attempt that ran at a local or Slurm center
  // ended before the next one started.
  int marked = 0;
  for (int i = 0; i < n_jobs; ++i) {
    const std::string m = dir + "/shared/marks-" + std::to_string(i);
    if (fs::file_size(m) == 0) continue;  // it ran at the simulated center only
    ++marked;
    std::istringstream in(ReadFile(m));
    std::string what;
    int attempt = 0;
    double t = 0, last_end = 0;
    std::map<int, std::pair<double, double>> runs;
    while (in >> what >> attempt >> t) (what == "start" ? runs[attempt].first : runs[attempt].second) = t;
    for (const auto& [a, se] : runs) {
      EXPECT_GT(se.first, last_end) << "job " << i << " attempt " << a << " started while another ran:\n"
                                    << ReadFile(m) << "\nchaos: " << actions;
      EXPECT_GT(se.second, 0) << "job " << i << " attempt " << a << " never ended:\n" << ReadFile(m);
      last_end = se.second;
    }
  }
  // Every job metered: the usage counts each one once.
  int metered = 0;
  for (const json& u : Body(admin->Get("/api/v1/usage")).value("usage", json::array())) metered += u.value("jobs", 0);
  EXPECT_EQ(metered, n_jobs);
  EXPECT_EQ(succeeded, n_jobs);
  EXPECT_GT(marked, 0);
  RecordProperty("chaos", actions);
  std::printf("chaos: %s\njobs: %d succeeded, %d with more than one attempt; slurmc %d, edge %d, sim %d\n",
              actions.c_str(), succeeded, requeued, at["slurmc"], at["edge"], at["sim"]);
  for (auto& a : agents) a->Stop(SIGTERM);
  hub.Stop();
  // Runs the agents still held (none should) would outlive the test.
  cluster.Slurm("scancel --user=root");
}

}  // namespace
}  // namespace suanli::testing
