// An event-driven HTTP/1.1 server (Boost.Beast on Boost.Asio), with or
// without TLS, that no client can stop or exhaust: the API server
// (api_server.h) puts its routes on it.
//
// Every connection is a small asynchronous state machine on one I/O thread:
// TLS handshake, request headers, body, handler, response, then the next
// request of the same connection (pipelined requests are answered in order).
// Nothing on the I/O thread blocks; handlers that may block run on a pool of
// worker threads (HttpLimits::worker_threads), cheap ones inline.
//
// Limits (docs/server.md):
//   * the TLS handshake and a request's whole header must arrive within
//     header_timeout_s of the connection's first byte or of the previous
//     response (an idle keep-alive connection is closed after idle_timeout_s);
//   * at most max_header_bytes of header and max_headers header fields: 431;
//   * a body over max_body_bytes, by Content-Length or chunked: 413 as soon as
//     the limit is passed, before the handler (authentication) runs and
//     without reading the rest; the body must arrive within body_timeout_s;
//   * at most max_connections open connections, max_connections_per_client of
//     them from one address: beyond, a new connection is answered 503 (plain
//     HTTP) and closed at once;
//   * a response must be taken by the client within write_timeout_s.
// Stop() closes every connection and makes Run() return promptly, whatever
// the clients do.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace suanli::server {

struct HttpLimits {
  int header_timeout_s = 10;
  int idle_timeout_s = 5;
  int body_timeout_s = 10;
  int write_timeout_s = 10;
  int64_t max_header_bytes = 16 * 1024;
  int max_headers = 100;
  int64_t max_body_bytes = 1 << 20;
  int max_target_bytes = 8192;  // the request target (path and query): 414 beyond
  int max_connections = 10000;
  int max_connections_per_client = 256;
  int worker_threads = 16;
};

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // as sent: path and query
  std::string path;    // the target's path, percent-decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;
  // The value of header `name` (case-insensitive), "" if absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string tenant;  // who made the request, for the access log
  void SetHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// Answers one request. Called on a worker thread (or on the I/O thread for
// requests the `inline_handler` predicate selects); must not throw.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
// A response the server itself makes (431, 413, 414, 400, 503): status, code,
// message, field -> the response (the API's JSON error).
using HttpErrorBody = std::function<void(int status, const char* code, const std::string& message,
                                         const std::string& field, HttpResponse&)>;
// One answered request, for the access log and counters; `ms` is the time
// from the end of the request's headers to the response written.
struct HttpLogEntry {
  std::string_view method, path, remote, tenant;
  int status = 0;
  size_t bytes_in = 0, bytes_out = 0;
  double ms = 0;
};
using HttpLogger = std::function<void(const HttpLogEntry&)>;

struct HttpServerSetup {
  std::string host;
  int port = 0;                   // 0: any free port
  std::string tls_cert, tls_key;  // both set: TLS
  HttpLimits limits;
  HttpHandler handler;
  std::function<bool(const HttpRequest&)> inline_handler;  // may be empty
  HttpErrorBody error_body;
  HttpLogger logger;  // may be empty
};

class HttpServer {
 public:
  // Checks the TLS files; binds nothing yet.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerSetup setup);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; errors name the address.
  Status Bind();
  int port() const;
  // Serves until Stop(); then closes every connection and returns once the
  // handlers in progress have ended. A Stop() before Run() makes Run() return
  // at once.
  Status Run();
  // From any thread, any number of times.
  void Stop();
  // Open connections now (tests, metrics).
  int connections() const;
  // The effective connection cap: max_connections, lowered to fit the
  // process's open-file limit (raised to its hard limit at Create).
  int max_connections() const;

  struct Impl;  // internal (http_server.cc)

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "/a%20b" -> "/a b"; a bad escape is kept as it is.
std::string PercentDecodePath(std::string_view path);

}  // namespace suanli::server
