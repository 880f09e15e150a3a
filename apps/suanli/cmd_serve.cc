// suanli serve: the long-running control plane with its HTTP API, metrics
// and dashboard. See docs/server.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "live/control.h"
#include "live/log_format.h"
#include "server/api_server.h"
#include "server/serve_config.h"

namespace suanli::app {
namespace {

struct ServeArgs {
  server::ServeFlags flags;
  std::string access_log = "stderr";
  std::string log_level = "info";
};

// SIGINT/SIGTERM: the handler writes to a pipe that the main thread waits on.
// (A handler, not a blocked mask: a mask would be inherited by the jobs the
// local backend starts.)
int g_signal_pipe[2] = {-1, -1};
std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  g_signal.store(sig);
  char c = static_cast<char>(sig);
  ssize_t n = write(g_signal_pipe[1], &c, 1);
  (void)n;
}

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "suanli serve: %s\n", msg.c_str());
  return code;
}

int RunServe(const ServeArgs& a) {
  // Everything the server creates (the data directory, the store, logs) is
  // owner-only.
  umask(077);
  // Diagnostics on stderr, one line each.
  if (!live::UseStderrLogger("suanli", a.log_level))
    return Fail(2, "--log-level: expected trace, debug, info, warn, error or off, got '" + a.log_level + "'");

  auto config = server::ResolveServeConfig(a.flags, server::ProcessEnv());
  // The admin token is read once: no job (no child process at all) inherits it.
  server::RemoveFromEnvironment("SUANLI_ADMIN_TOKEN");
  if (!config.ok()) return Fail(2, "bad configuration: " + config.status().message());

  auto secured = server::SecureDataDir(config->data_dir);
  if (!secured.ok()) return Fail(1, secured.status().message());
  for (const auto& line : *secured) spdlog::warn("data: made owner-only: {}", line);

  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return Fail(1, "cannot create a pipe");
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::ApiServerOptions opts;
  opts.access_log = a.access_log;
  opts.version = "0.1.0";
  // The control plane is created after the socket is bound (a port in use
  // fails at once) and before it serves.
  auto srv = server::ApiServer::Create(nullptr, *config, opts);
  if (!srv.ok()) return Fail(2, "bad configuration: " + srv.status().message());
  Status bound = (*srv)->Bind();
  if (!bound.ok()) return Fail(1, bound.message());

  spdlog::info("starting: data={} network={} policy={} dispatch={}", config->data_dir,
               config->network.empty() ? "(centers of the config; default: one local center)" : config->network,
               config->policy, config->dispatch);
  auto cp = live::ControlPlane::Start(*config);
  if (!cp.ok()) return Fail(1, "cannot start the control plane: " + cp.status().message());
  (*srv)->SetControlPlane(cp->get());

  std::atomic<bool> served{false};
  Status run_status;
  std::thread http([&] {
    run_status = (*srv)->Run();
    served.store(true);
    char c = 0;
    ssize_t n = write(g_signal_pipe[1], &c, 1);
    (void)n;
  });
  spdlog::info("listening on {} (data {}, {} HTTP threads)", (*srv)->url(), config->data_dir, config->http_threads);
  std::fprintf(stdout, "suanli serve: listening on %s\n", (*srv)->url().c_str());
  std::fflush(stdout);

  // Wait for a signal (or the HTTP server ending by itself).
  while (g_signal.load() == 0 && !served.load()) {
    pollfd p{g_signal_pipe[0], POLLIN, 0};
    int r = poll(&p, 1, 1000);
    if (r > 0) {
      char buf[16];
      while (read(g_signal_pipe[0], buf, sizeof buf) > 0) {}
    }
  }
  if (g_signal.load() != 0) spdlog::info("signal {}: stopping (running jobs keep running)", g_signal.load());
  // Stop accepting; Stop() is repeated until Run() has returned (a stop that
  // arrives before the listening loop starts would be lost otherwise).
  while (!served.load()) {
    (*srv)->Stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http.join();
  (*cp)->Stop();
  srv->reset();
  cp->reset();
  spdlog::info("stopped");
  spdlog::shutdown();
  if (!run_status.ok()) return Fail(1, run_status.message());
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd =
      app.add_subcommand("serve", "Run the control plane: the HTTP API, metrics and dashboard (docs/server.md)");
  auto& f = a->flags;
  cmd->add_option_function<std::string>(
      "--config", [a](const std::string& v) { a->flags.config = v; }, "Server config file (YAML; env SUANLI_CONFIG)");
  cmd->add_option_function<std::string>(
      "--listen", [a](const std::string& v) { a->flags.listen = v; },
      "HOST:PORT to listen on (env SUANLI_LISTEN; default 127.0.0.1:8080)");
  cmd->add_option_function<std::string>(
      "--data", [a](const std::string& v) { a->flags.data_dir = v; },
      "Data directory, created if missing (env SUANLI_DATA; default suanli-data)");
  cmd->add_option_function<std::string>(
      "--network", [a](const std::string& v) { a->flags.network = v; },
      "Network file or built-in name, its centers simulated unless the config "
      "names their backend (env SUANLI_NETWORK)");
  cmd->add_option_function<std::string>(
      "--policy", [a](const std::string& v) { a->flags.policy = v; },
      "Center scheduling policy (env SUANLI_POLICY; default fifo+easy)");
  cmd->add_option_function<std::string>(
      "--dispatch", [a](const std::string& v) { a->flags.dispatch = v; },
      "Dispatch policy across centers (env SUANLI_DISPATCH; default earliest-start)");
  cmd->add_option_function<int>(
      "--pass-interval-ms", [a](const int& v) { a->flags.pass_interval_ms = v; },
      "A scheduling pass at least this often (default 2000)");
  cmd->add_option_function<int>(
      "--center-timeout-s", [a](const int& v) { a->flags.center_timeout_s = v; },
      "A center that does not answer this long is unavailable (default 30)");
  cmd->add_option_function<int>(
      "--http-threads", [a](const int& v) { a->flags.http_threads = v; },
      "HTTP worker threads that run the handlers (default 64)");
  cmd->add_option_function<int64_t>(
      "--max-body-bytes", [a](const int64_t& v) { a->flags.max_body_bytes = v; },
      "Largest request body (default 1048576)");
  cmd->add_option_function<std::string>(
      "--tls-cert", [a](const std::string& v) { a->flags.tls_cert = v; },
      "PEM certificate: serve HTTPS (with --tls-key)");
  cmd->add_option_function<std::string>(
      "--tls-key", [a](const std::string& v) { a->flags.tls_key = v; }, "PEM private key of --tls-cert");
  cmd->add_option_function<std::string>(
      "--admin-token-file", [a](const std::string& v) { a->flags.admin_token_file = v; },
      "File (mode 0600) holding the admin's token, taken at first start; at least 16 bytes "
      "(env SUANLI_ADMIN_TOKEN_FILE, or the token itself in SUANLI_ADMIN_TOKEN)");
  cmd->add_flag_function(
      "--accept-data-loss", [a](int64_t n) { a->flags.accept_data_loss = n > 0; },
      "Start even though the store lacks acknowledged work (a lost write-ahead log, a restore from an older "
      "backup); what was lost is logged (docs/store.md)");
  cmd->add_option("--access-log", a->access_log, "Access log: stderr (default), off, or a file (appended)");
  cmd->add_option("--log-level", a->log_level, "trace, debug, info (default), warn, error or off");
  (void)f;
  cmd->callback([a, exit_code]() { *exit_code = RunServe(*a); });
}

}  // namespace suanli::app
