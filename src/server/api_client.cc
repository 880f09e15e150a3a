#include "server/api_client.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace suanli::server {
namespace {

Result<ApiResponse> Convert(const httplib::Result& r, const std::string& url, const char* method,
                            const std::string& path) {
  if (!r) {
    return Unavailable("cannot reach the server at {} ({} {}: {})", url, method, path, httplib::to_string(r.error()));
  }
  ApiResponse out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [k, v] : r->headers) out.headers.emplace(k, v);
  return out;
}

}  // namespace

std::string ApiResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(),
                                              [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return "";
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string ErrorMessage(const ApiResponse& r) {
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      std::string msg = e.value("message", std::string());
      std::string field = e.value("field", std::string());
      std::string code = e.value("code", std::string());
      if (msg.empty()) msg = code;
      if (!field.empty() && msg.rfind(field + ":", 0) != 0) msg += " [field: " + field + "]";
      return msg;
    }
  } catch (const std::exception&) {}
  std::string body = r.body.substr(0, 300);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return fmt::format("HTTP {}{}{}", r.status, body.empty() ? "" : ": ", body);
}

ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ClientOptions& o) {
  static const std::regex kUrl(R"(^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?$)");
  std::smatch m;
  if (!std::regex_match(o.url, m, kUrl)) {
    return InvalidArgument("url: '{}' is not http://HOST[:PORT] or https://HOST[:PORT]", o.url);
  }
  if (m[3].matched && std::stoi(m[3].str().substr(1)) > 65535) {
    return InvalidArgument("url: '{}' has a port over 65535", o.url);
  }
  std::unique_ptr<ApiClient> c(new ApiClient());
  c->url_ = o.url;
  while (!c->url_.empty() && c->url_.back() == '/') c->url_.pop_back();
  c->cli_ = std::make_unique<httplib::Client>(c->url_);
  if (!c->cli_->is_valid()) return InvalidArgument("url: '{}' cannot be used", o.url);
  c->cli_->set_connection_timeout(o.connect_timeout_s, 0);
  c->cli_->set_read_timeout(o.timeout_s, 0);
  c->cli_->set_write_timeout(o.timeout_s, 0);
  c->cli_->set_keep_alive(true);
  c->cli_->set_tcp_nodelay(true);
  if (!o.token.empty()) c->cli_->set_bearer_token_auth(o.token);
  if (m[1].str() == "https") {
    if (o.insecure) c->cli_->enable_server_certificate_verification(false);
    if (!o.ca_cert.empty()) c->cli_->set_ca_cert_path(o.ca_cert);
  }
  return c;
}

void ApiClient::SetTimeoutMs(int64_t ms) {
  ms = std::max<int64_t>(ms, 1);
  const auto sec = static_cast<time_t>(ms / 1000);
  const auto usec = static_cast<time_t>((ms % 1000) * 1000);
  cli_->set_connection_timeout(sec, usec);
  cli_->set_read_timeout(sec, usec);
  cli_->set_write_timeout(sec, usec);
}

Result<ApiResponse> ApiClient::Get(const std::string& path, const QueryList& query) {
  std::string full = path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    full += sep + UrlEncode(k) + "=" + UrlEncode(v);
    sep = '&';
  }
  return Convert(cli_->Get(full), url_, "GET", path);
}

Result<ApiResponse> ApiClient::Post(const std::string& path, const std::string& json_body) {
  return Convert(cli_->Post(path, json_body, "application/json"), url_, "POST", path);
}

Result<ApiResponse> ApiClient::Put(const std::string& path, const std::string& json_body) {
  return Convert(cli_->Put(path, json_body, "application/json"), url_, "PUT", path);
}

Result<ApiResponse> ApiClient::Delete(const std::string& path) {
  return Convert(cli_->Delete(path), url_, "DELETE", path);
}

}  // namespace suanli::server
