// A small client of the HTTP API (docs/api.md) for the CLI and the
// benchmarks: one keep-alive connection, bearer token, JSON errors decoded.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace httplib {
class Client;
}

namespace suanli::server {

struct ClientOptions {
  std::string url = "http://127.0.0.1:8080";  // http://HOST:PORT or https://HOST:PORT
  std::string token;
  std::string ca_cert;    // HTTPS: trust this CA (PEM) instead of the system's
  bool insecure = false;  // HTTPS: do not verify the server's certificate
  int connect_timeout_s = 5;
  int timeout_s = 60;
};

struct ApiResponse {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string Header(const std::string& name) const;
};

// Query parameters, in order.
using QueryList = std::vector<std::pair<std::string, std::string>>;

class ApiClient {
 public:
  // InvalidArgument for a URL that is not http(s)://HOST[:PORT].
  static Result<std::unique_ptr<ApiClient>> Create(const ClientOptions& options);
  ~ApiClient();

  // Transport failures (cannot connect, TLS, timeout) are Unavailable with
  // the URL and the reason; any HTTP answer is a response, whatever its status.
  Result<ApiResponse> Get(const std::string& path, const QueryList& query = {});
  Result<ApiResponse> Post(const std::string& path, const std::string& json_body);
  Result<ApiResponse> Put(const std::string& path, const std::string& json_body);
  Result<ApiResponse> Delete(const std::string& path);

  const std::string& url() const { return url_; }
  // From the next request on: connecting, each read and each write wait at
  // most this long (ms, at least 1).
  void SetTimeoutMs(int64_t ms);

 private:
  ApiClient() = default;
  std::unique_ptr<httplib::Client> cli_;
  std::string url_;
};

// "a b/c" -> "a%20b%2Fc".
std::string UrlEncode(const std::string& s);

// The message of an error answer: "MESSAGE" from the API's JSON error (with
// " [field: F]" when it names one), else "HTTP STATUS: BODY".
std::string ErrorMessage(const ApiResponse& r);

}  // namespace suanli::server
