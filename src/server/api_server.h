// The HTTP API server (docs/api.md, docs/server.md): the event-driven HTTP
// layer of http_server.h in front of a live::ControlPlane. Routes /api/v1/..., /metrics (Prometheus text) and
// the dashboard's files at /.
//
//   auto srv = ApiServer::Create(cp, config, options);   // checks TLS files
//   srv->Bind();          // binds config.listen (port 0: any free port)
//   srv->Run();           // serves until Stop() (from another thread)
//
// Thread-safe: Stop() may be called from any thread (e.g. a signal watcher).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "live/control.h"
#include "server/metrics.h"

namespace suanli::server {

struct ApiServerOptions {
  // Access log: "-" or "stderr" (default), "off", or a file (appended).
  std::string access_log = "stderr";
  std::string version = "0.1.0";
  int read_timeout_s = 10;       // a request body must arrive within this
  int write_timeout_s = 10;      // a response must be taken within this
  int keep_alive_timeout_s = 5;  // an idle keep-alive connection is closed after this
};

class ApiServer {
 public:
  // `cp` is not owned and must outlive the server. It may be null here and
  // given later with SetControlPlane, before Run (so that the port is bound
  // before the control plane starts).
  static Result<std::unique_ptr<ApiServer>> Create(live::ControlPlane* cp, const live::ServerConfig& config,
                                                   ApiServerOptions options = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  void SetControlPlane(live::ControlPlane* cp) { cp_ = cp; }
  // Binds config.listen; errors name the address.
  Status Bind();
  // The bound port (after Bind).
  int port() const { return port_; }
  // "http://HOST:PORT" or "https://..." (after Bind).
  std::string url() const;
  // Serves until Stop(). Returns an error if serving stopped by itself.
  // Stop() closes every connection, whatever its client does, and Run()
  // returns once the requests being handled have been answered; a Stop()
  // before Run() makes Run() return at once.
  Status Run();
  void Stop();

  const HttpCounters& counters() const { return counters_; }
  // Open connections now, and the cap on them (after Create).
  int connections() const;
  int max_connections() const;

 private:
  struct Impl;
  ApiServer() = default;

  live::ControlPlane* cp_ = nullptr;
  live::ServerConfig config_;
  ApiServerOptions options_;
  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
  bool tls_ = false;
  HttpCounters counters_;
};

// Splits "HOST:PORT" ("[::1]:8080" -> "::1", 8080); errors name `listen`.
Status ParseListen(const std::string& listen, std::string* host, int* port);

}  // namespace suanli::server
