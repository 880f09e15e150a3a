// live_agents: one hub and many agents' centers (issue 13's scale figure).
//
//   live_agents --suanli build/suanli [--centers 1000] [--pending 100000]
//               [--rtt-ms 30] [--poll-ms 1000] [--follow-up-ms 100]
//               [--idle-s 20] [--load-s 60]
//
// Starts `suanli serve` (the hub) with --centers centers, every one
// `backend: agent`, issues each its credential, and runs that many agents
// (`suanli agent`'s own loop, RunAgent, on the simulated backend: two nodes
// of 8 A100s per center) in this process, one thread each. Every agent
// reaches the hub through a delay proxy (delay_proxy.h) that holds each chunk
// for half of --rtt-ms in each direction. All agents come from 127.0.0.1:
// the hub's max_connections_per_client is raised to let them all in (agents
// behind one NAT address need the same).
//
// It measures, and prints as one JSON object:
//   - connect: seconds until the hub shows every center connected;
//   - idle: with no jobs, the syncs per second the hub answers, the hub's
//     time to answer one (p50/p99, seen at the proxy: from a request's last
//     byte forwarded to the answer's first byte), the hub's CPU (% of one
//     core) and resident memory;
//   - load: --pending jobs (8 GPUs each, 30-90 s) submitted over HTTP (the
//     rate), then --load-s seconds of running: the hub's CPU and memory, the
//     sync answer times, and the dispatch-to-launch latency of the jobs
//     started meanwhile (from the hub's "dispatched" event to the run's
//     start as its agent reports it; p50/p99);
//   - the same figures for the whole process of the agents (they share this
//     machine's two cores with the hub).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/model/catalog.h"
#include "delay_proxy.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "live/backend_simulated.h"
#include "server/agent_runner.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr char kToken[] = "bench-admin-token-0123456789abcdef";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// A process's CPU seconds (user + system) and resident memory (MiB).
struct Usage {
  double cpu_s = 0, rss_mib = 0;
};
Usage UsageOf(pid_t pid) {
  Usage u;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  const size_t close_paren = s.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream in(s.substr(close_paren + 2));
    std::string f;
    std::vector<std::string> fields;
    while (in >> f) fields.push_back(f);
    // After the command: state is field 3; utime 14 and stime 15 (1-based).
    if (fields.size() > 13)
      u.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) u.rss_mib = std::stod(line.substr(6)) / 1024.0;
  return u;
}

struct Window {
  double seconds = 0, hub_cpu_pct = 0, hub_rss_mib = 0, agents_cpu_pct = 0, agents_rss_mib = 0;
  double syncs_per_s = 0, answer_p50_ms = 0, answer_p99_ms = 0;
};

// Samples the hub's and this process's usage, and the proxy's answer times,
// over `seconds`.
Window Measure(pid_t hub, suanli::bench::DelayProxy& proxy, double seconds) {
  proxy.TakeAnswerTimes();
  const Usage h0 = UsageOf(hub), a0 = UsageOf(getpid());
  const auto t0 = Clock::now();
  double hub_rss = 0, agents_rss = 0;
  while (Seconds(Clock::now() - t0) < seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    hub_rss = std::max(hub_rss, UsageOf(hub).rss_mib);
    agents_rss = std::max(agents_rss, UsageOf(getpid()).rss_mib);
  }
  const double dt = Seconds(Clock::now() - t0);
  const Usage h1 = UsageOf(hub), a1 = UsageOf(getpid());
  std::vector<double> answers = proxy.TakeAnswerTimes();
  Window w;
  w.seconds = dt;
  w.hub_cpu_pct = 100 * (h1.cpu_s - h0.cpu_s) / dt;
  w.agents_cpu_pct = 100 * (a1.cpu_s - a0.cpu_s) / dt;
  w.hub_rss_mib = hub_rss;
  w.agents_rss_mib = agents_rss;
  w.syncs_per_s = static_cast<double>(answers.size()) / dt;
  w.answer_p50_ms = Percentile(answers, 0.5);
  w.answer_p99_ms = Percentile(answers, 0.99);
  return w;
}

json ToJson(const Window& w) {
  return {{"seconds", w.seconds},
          {"syncs_per_s", w.syncs_per_s},
          {"hub_answer_p50_ms", w.answer_p50_ms},
          {"hub_answer_p99_ms", w.answer_p99_ms},
          {"hub_cpu_pct", w.hub_cpu_pct},
          {"hub_rss_mib", w.hub_rss_mib},
          {"agents_cpu_pct", w.agents_cpu_pct},
          {"agents_rss_mib", w.agents_rss_mib}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("One hub, many agents' centers on the simulated backend (docs/BENCHMARKS.md)");
  std::string suanli = "build/suanli", work;
  int centers = 1000, poll_ms = 1000, follow_up_ms = 100, rtt_ms = 30, submitters = 8;
  int64_t pending = 100000;
  double idle_s = 20, load_s = 60;
  app.add_option("--suanli", suanli, "The suanli binary (the hub)");
  app.add_option("--centers", centers, "Agents' centers")->check(CLI::Range(1, 100000));
  app.add_option("--pending", pending, "Jobs submitted (8 GPUs each)")->check(CLI::Range(0, 10000000));
  app.add_option("--rtt-ms", rtt_ms, "Round trip between an agent and the hub")->check(CLI::Range(0, 10000));
  app.add_option("--poll-ms", poll_ms, "The hub's agent_poll_ms")->check(CLI::Range(100, 60000));
  app.add_option("--follow-up-ms", follow_up_ms, "The hub's agent_follow_up_ms (0: none)")->check(CLI::Range(0, 60000));
  app.add_option("--idle-s", idle_s, "Seconds measured with no jobs");
  app.add_option("--load-s", load_s, "Seconds measured with the jobs");
  app.add_option("--submitters", submitters, "Client threads that submit")->check(CLI::Range(1, 256));
  app.add_option("--work", work, "Working directory (default: a new one under the temporary directory)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::err);  // the agents' own logs
  // Every agent holds a connection and its store open, the proxy two sockets.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "suanli-agents.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return 1;
    work = tmpl;
  }
  fs::create_directories(work);

  // The network: every center two nodes of 8 A100s, in 10 regions.
  std::ofstream net(work + "/net.yaml");
  net << "name: agents\ncenters:\n";
  for (int c = 0; c < centers; ++c)
    net << fmt::format(
        "  - {{name: c{0}, region: r{1}, pue: 1.2, price_per_kwh: 0.5, carbon_g_per_kwh: 500,\n"
        "     pools: [{{name: p, nodes: [{{count: 2, prefix: c{0}-n, accelerator: A100-80GB, devices: 8, cpu: 64, "
        "memory_gib: 512}}]}}]}}\n",
        c, c % 10);
  net.close();
  const int port = FreePort();
  std::ofstream hub_yaml(work + "/hub.yaml");
  hub_yaml << fmt::format(
      "listen: 127.0.0.1:{}\ndata: {}/hub\nnetwork: {}/net.yaml\ncenter_timeout_s: 60\nagent_poll_ms: {}\n"
      "agent_follow_up_ms: {}\nmax_connections_per_client: {}\ncenters:\n",
      port, work, work, poll_ms, follow_up_ms, centers + submitters + 64);
  for (int c = 0; c < centers; ++c) hub_yaml << fmt::format("  - {{name: c{}, backend: agent}}\n", c);
  hub_yaml.close();

  const pid_t hub = fork();
  if (hub == 0) {
    setenv("SUANLI_ADMIN_TOKEN", kToken, 1);
    FILE* log = std::fopen((work + "/hub.log").c_str(), "w");
    if (log) {
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
    }
    execl(suanli.c_str(), suanli.c_str(), "serve", "--config", (work + "/hub.yaml").c_str(), nullptr);
    _exit(127);
  }
  httplib::Client admin("127.0.0.1", port);
  admin.set_bearer_token_auth(kToken);
  admin.set_read_timeout(120, 0);
  bool up = false;
  for (int i = 0; i < 600 && !up; ++i) {
    auto r = admin.Get("/api/v1/health");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "live_agents: %s (the hub's log: %s/hub.log)\n", why.c_str(), work.c_str());
    kill(hub, SIGKILL);
    waitpid(hub, nullptr, 0);
    return 1;
  };
  if (!up) return fail("the hub did not start");

  // Credentials, the proxy, the agents.
  auto network = suanli::LoadNetworkSpec(work + "/net.yaml", "", suanli::BuiltinCatalog());
  if (!network.ok()) return fail(network.status().message());
  suanli::bench::DelayProxy proxy(port, rtt_ms / 2);
  if (proxy.port() == 0) return fail("the delay proxy cannot listen");
  std::vector<suanli::server::AgentOptions> options(static_cast<size_t>(centers));
  for (int c = 0; c < centers; ++c) {
    const std::string name = fmt::format("c{}", c);
    auto r = admin.Post("/api/v1/centers", json{{"name", name}, {"region", fmt::format("r{}", c % 10)}}.dump(),
                        "application/json");
    if (!r || r->status != 201) return fail("issuing " + name + "'s credential: " + (r ? r->body : "no answer"));
    auto& o = options[static_cast<size_t>(c)];
    o.hubs = {fmt::format("http://127.0.0.1:{}", proxy.port())};
    o.center = name;
    o.credential = json::parse(r->body).value("credential", "");
    o.data_dir = fmt::format("{}/agents/{}", work, name);
    o.backend.kind = "simulated";
    o.capacity = suanli::live::CapacityOf(*network, *network->FindCenter(name), suanli::BuiltinCatalog());
    o.tick_ms = 250;
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> agents;
  const auto t_connect = Clock::now();
  for (auto& o : options)
    agents.emplace_back([&o, &stop] {
      suanli::Status st = suanli::server::RunAgent(o, stop);
      if (!st.ok()) std::fprintf(stderr, "live_agents: agent %s: %s\n", o.center.c_str(), st.message().c_str());
    });
  auto connected = [&] {
    auto r = admin.Get("/api/v1/centers");
    if (!r || r->status != 200) return 0;
    int n = 0;
    for (const json& c : json::parse(r->body).value("centers", json::array())) n += c.value("connected", false);
    return n;
  };
  int n_connected = 0;
  while (Seconds(Clock::now() - t_connect) < 300 && (n_connected = connected()) < centers)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  json out;
  out["centers"] = centers;
  out["rtt_ms"] = rtt_ms;
  out["poll_ms"] = poll_ms;
  out["follow_up_ms"] = follow_up_ms;
  out["connected"] = n_connected;
  out["connect_s"] = Seconds(Clock::now() - t_connect);

  out["idle"] = ToJson(Measure(hub, proxy, idle_s));

  // The jobs: submitted from several keep-alive connections.
  const auto t_submit = Clock::now();
  std::atomic<int64_t> next{0}, failed{0};
  std::vector<std::thread> subs;
  for (int s = 0; s < submitters; ++s)
    subs.emplace_back([&, s] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_bearer_token_auth(kToken);
      cli.set_keep_alive(true);
      cli.set_read_timeout(120, 0);
      for (int64_t i = next++; i < pending; i = next++) {
        const int secs = 30 + static_cast<int>((i * 7919 + s) % 61);
        json spec = {{"command", {"true"}}, {"gpus", 8}, {"duration_s", secs}, {"time_limit_s", 2 * secs}};
        auto r = cli.Post("/api/v1/jobs", spec.dump(), "application/json");
        if (!r || r->status != 201) ++failed;
      }
    });
  for (auto& t : subs) t.join();
  const double submit_s = Seconds(Clock::now() - t_submit);
  out["submit"] = {{"jobs", pending},
                   {"failed", failed.load()},
                   {"seconds", submit_s},
                   {"per_s", static_cast<double>(pending) / submit_s}};
  const auto load_start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Window load = Measure(hub, proxy, load_s);
  out["load"] = ToJson(load);

  // Dispatch to launch: the jobs started in the load window (a sample).
  std::vector<double> d2l;
  int64_t started = 0;
  for (int64_t id = 1; id <= pending && d2l.size() < 3000; id += std::max<int64_t>(1, pending / 20000)) {
    auto r = admin.Get(fmt::format("/api/v1/jobs/{}", id));
    if (!r || r->status != 200) continue;
    json j = json::parse(r->body, nullptr, false);
    const int64_t start = j.value("start_ms", int64_t{0});
    if (start < load_start_ms) continue;
    ++started;
    int64_t dispatched = 0;
    for (const json& e : j.value("events", json::array()))
      if (e.value("kind", "") == "dispatched") dispatched = e.value("time_ms", int64_t{0});
    if (dispatched > 0 && start >= dispatched) d2l.push_back(static_cast<double>(start - dispatched));
  }
  out["dispatch_to_launch"] = {{"sampled", d2l.size()},
                               {"started_in_window", started},
                               {"p50_ms", Percentile(d2l, 0.5)},
                               {"p99_ms", Percentile(d2l, 0.99)}};

  stop = true;
  for (auto& t : agents) t.join();
  kill(hub, SIGTERM);
  waitpid(hub, nullptr, 0);
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
