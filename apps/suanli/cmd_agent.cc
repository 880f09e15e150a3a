// `suanli agent`: runs a center's end of the link to a hub (docs/network.md).
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "commands.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "live/backend_simulated.h"
#include "live/log_format.h"
#include "server/agent_runner.h"
#include "server/serve_config.h"

namespace suanli::app {

namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop.store(true); }

struct AgentArgs {
  std::string hubs, center, credential_file, data, kind, ca_cert, network, log_level = "info";
  live::BackendConfig backend;
  int64_t max_time_limit_s = 0;
  int hub_timeout_s = 5;
};

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "suanli agent: %s\n", msg.c_str());
  return code;
}

// Whether a hub URL's host is this machine's loopback.
bool OnLoopback(const std::string& url) {
  std::string_view rest = url;
  const size_t scheme = rest.find("://");
  if (scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
  if (rest.rfind("[::1]", 0) == 0) return true;
  const std::string host(rest.substr(0, rest.find_first_of(":/")));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

int RunAgentCommand(AgentArgs a) {
  umask(077);
  if (!live::UseStderrLogger("suanli-agent", a.log_level))
    return Fail(2, "--log-level: expected trace, debug, info, warn, error or off, got '" + a.log_level + "'");

  server::AgentOptions o;
  for (std::string_view u : Split(a.hubs, ',')) {
    std::string url(Trim(u));
    if (url.empty()) continue;
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return Fail(2, "--hub: expected http(s)://HOST:PORT, got '" + EscapeControls(url) + "'");
    if (url.rfind("http://", 0) == 0 && !OnLoopback(url))
      return Fail(2, "--hub: plain HTTP only to a hub on this machine's loopback; use https:// with --ca-cert for '" +
                         EscapeControls(url) + "'");
    o.hubs.push_back(url);
  }
  if (o.hubs.empty()) return Fail(2, "--hub: give at least one hub URL");
  auto cred = server::ReadSecretFile(a.credential_file, "--credential-file", "credential file");
  if (!cred.ok()) return Fail(2, cred.status().message());
  o.credential = *cred;
  o.center = a.center;
  o.ca_cert = a.ca_cert;
  o.max_time_limit_s = a.max_time_limit_s;
  o.client_timeout_s = a.hub_timeout_s;
  o.data_dir = a.data;
  o.backend = a.backend;
  o.backend.kind = a.kind;
  if (a.kind == "simulated") {
    if (a.network.empty()) return Fail(2, "--network: a simulated agent takes its center's nodes from a network");
    auto net = LoadNetworkSpec(a.network, "", BuiltinCatalog());
    if (!net.ok()) return Fail(2, "--network: " + net.status().message());
    auto c = net->FindCenter(a.center);
    if (!c) return Fail(2, fmt::format("--network: '{}' has no center '{}'", a.network, EscapeControls(a.center)));
    o.capacity = live::CapacityOf(*net, *c, BuiltinCatalog());
  } else if (!a.network.empty()) {
    return Fail(2, "--network: only for --backend simulated");
  }
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::fprintf(stdout, "suanli agent: center %s, hub %s\n", a.center.c_str(), Join(o.hubs, ",").c_str());
  std::fflush(stdout);
  Status st = server::RunAgent(o, g_stop);
  if (!st.ok()) return Fail(1, st.message());
  spdlog::info("agent stopped (its runs go on; a restarted agent follows them again)");
  return 0;
}

}  // namespace

void RegisterAgent(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<AgentArgs>();
  auto* cmd = app.add_subcommand("agent",
                                 "Join this machine's center to a hub: runs its jobs (local, slurm or simulated) as "
                                 "the hub decides, connecting out to it (docs/network.md)");
  cmd->add_option("--hub", a->hubs, "The hub's URL, or several comma-separated (standbys), e.g. https://hub:8443")
      ->required();
  cmd->add_option("--center", a->center, "This center's name at the hub")->required();
  cmd->add_option("--credential-file", a->credential_file,
                  "File holding the center's credential (`suanli centers add`), owner-only")
      ->required();
  cmd->add_option("--data", a->data, "The agent's own directory (its store, job directories)")->required();
  cmd->add_option("--backend", a->kind, "How this center runs jobs")
      ->required()
      ->check(CLI::IsMember({"local", "slurm", "simulated"}));
  cmd->add_option("--ca-cert", a->ca_cert, "HTTPS: trust this CA's certificate (PEM) for the hub");
  cmd->add_option("--network", a->network, "simulated: the network (file or built-in) that gives this center's nodes");
  cmd->add_option("--log-level", a->log_level, "trace, debug, info, warn, error or off");
  cmd->add_option("--max-time-limit-s", a->max_time_limit_s,
                  "The center's own policy: refuse jobs with a longer time limit (0 = any); the hub places them "
                  "elsewhere")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--hub-timeout-s", a->hub_timeout_s,
                  "The longest one exchange with the hub may wait (default 5); never past the fence, which stops the "
                  "runs first")
      ->check(CLI::Range(1, 3600));
  // The keys of a center's entry in the server's configuration.
  cmd->add_option("--slots", a->backend.slots, "local: CPU slots offered when no accelerator is found (0 = cores)");
  cmd->add_option("--nodes", a->backend.nodes, "local: offer this machine as this many nodes")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--node-name", a->backend.node_name,
                  "local: the name its node goes by (default: the host's; several nodes: NAME-0, NAME-1, ...)");
  cmd->add_option("--detect-gpus", a->backend.detect_gpus, "local: run nvidia-smi to find GPUs (true|false)");
  cmd->add_option("--grace-s", a->backend.grace_s, "local: SIGTERM, then SIGKILL after this many seconds");
  cmd->add_option("--sandbox", a->backend.sandbox, "local: auto | bwrap | off");
  cmd->add_option("--cgroups", a->backend.cgroups, "local: auto | off");
  cmd->add_option("--cgroup-parent", a->backend.cgroup_parent, "local: the jobs' cgroups go under this one");
  cmd->add_option("--slurm-conf", a->backend.slurm_conf, "slurm: SLURM_CONF for its commands");
  cmd->add_option("--partition", a->backend.partition, "slurm: the partition (default: the cluster's)");
  cmd->add_option("--nodelist", a->backend.nodelist, "slurm: pass the hub's choice of nodes as --nodelist");
  cmd->add_option("--command-timeout-s", a->backend.command_timeout_s, "slurm: a command that takes longer fails");
  cmd->callback([a, exit_code] { *exit_code = RunAgentCommand(*a); });
}

}  // namespace suanli::app
