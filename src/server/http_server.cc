#include "server/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace suanli::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// After an error answer with `Connection: close`, the rest of the request is
// read and dropped for this long (at most kLingerBytes), so that a client
// still sending its body reads the answer instead of a connection reset.
constexpr auto kLinger = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 64u << 20;
// Descriptors kept free of connections (the store, job logs, backends).
constexpr int kReservedFds = 256;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The open-file limit raised to its hard limit; returns the soft limit.
int64_t RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return int64_t{1} << 20;
  return static_cast<int64_t>(rl.rlim_cur);
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return {};
}

std::string PercentDecodePath(std::string_view in) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

class SessionBase;

struct HttpServer::Impl {
  HttpServerSetup setup;
  int max_connections = 0;
  std::string busy_answer;  // the 503 for connections over the caps (plain HTTP)
  std::unique_ptr<asio::ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::atomic<int> port{0};

  // Open connections, and how many per client address.
  mutable std::mutex mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::map<asio::ip::address, int> per_client;

  // Destroyed first (reverse order): the acceptor, the workers, then the
  // I/O context with every handler still queued on it.
  asio::io_context ioc{1};
  std::unique_ptr<asio::thread_pool> workers;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};

  void StartAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Refuse(tcp::socket socket);
  void StopOnIoThread();
};

// One connection; lives as long as an operation of it is pending.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(HttpServer::Impl* server, asio::ip::address addr) : server_(server), addr_(std::move(addr)) {}
  virtual ~SessionBase() {
    std::lock_guard<std::mutex> lk(server_->mu);
    server_->sessions.erase(this);
    auto it = server_->per_client.find(addr_);
    if (it != server_->per_client.end() && --it->second <= 0) server_->per_client.erase(it);
  }
  virtual void Start() = 0;
  virtual void Close() = 0;

 protected:
  HttpServer::Impl* server_;
  asio::ip::address addr_;
};

template <class Stream>
class Session : public SessionBase {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... Args>
  Session(HttpServer::Impl* server, asio::ip::address addr, std::string remote, Args&&... args)
      : SessionBase(server, std::move(addr)),
        stream_(std::forward<Args>(args)...),
        remote_(std::move(remote)),
        // Room for the largest header and a read of the body or the next request.
        buffer_(static_cast<size_t>(server->setup.limits.max_header_bytes) + 65536) {}

  void Start() override {
    Lowest().expires_after(std::chrono::seconds(Limits().header_timeout_s));
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) return self->Close();
        self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

  void Close() override {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

 private:
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const HttpLimits& Limits() const { return server_->setup.limits; }

  // A kept-alive connection: wait (idle_timeout_s) for the next request's
  // first byte, unless it is already buffered (pipelined).
  void WaitNext() {
    if (buffer_.size() > 0) {
      Lowest().expires_after(std::chrono::seconds(Limits().header_timeout_s));
      return ReadHeader();
    }
    Lowest().expires_after(std::chrono::seconds(Limits().idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(4096), [self = Self()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->Lowest().expires_after(std::chrono::seconds(self->Limits().header_timeout_s));
      self->ReadHeader();
    });
  }

  // The deadline was set by the caller: the whole header must arrive before it.
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(std::min<int64_t>(Limits().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(static_cast<uint64_t>(Limits().max_body_bytes));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    header_done_ = Clock::now();
    if (ec == http::error::header_limit) {
      return Fail(431, "too_large",
                  fmt::format("request headers over max_header_bytes ({} bytes)", Limits().max_header_bytes),
                  "headers");
    }
    if (ec == http::error::body_limit) return FailTooLarge();
    if (ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::eof || ec == asio::error::connection_reset || buffer_.size() == 0) {
        return Close();
      }
      return Fail(400, "invalid_argument", "malformed HTTP request", "");
    }
    const auto& msg = parser_->get();
    int64_t fields = 0;
    for (auto it = msg.begin(); it != msg.end(); ++it) ++fields;
    if (fields > Limits().max_headers) {
      return Fail(431, "too_large", fmt::format("more than {} header fields (max_headers)", Limits().max_headers),
                  "headers");
    }
    if (static_cast<int64_t>(msg.target().size()) > Limits().max_target_bytes) {
      return Fail(414, "too_large", "request URI too long", "path");
    }
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(std::chrono::seconds(Limits().body_timeout_s));
    auto expect = msg[http::field::expect];
    if (IEquals(std::string_view(expect.data(), expect.size()), "100-continue")) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(kContinue, sizeof kContinue - 1),
                               [self = Self()](beast::error_code ec2, size_t) {
                                 if (ec2) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->FailTooLarge();
      if (ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == http::error::end_of_stream ||
          ec == http::error::partial_message || ec == asio::error::connection_reset) {
        return self->Close();
      }
      if (ec) return self->Fail(400, "invalid_argument", "malformed HTTP request", "");
      self->Dispatch();
    });
  }

  void FailTooLarge() {
    Fail(413, "too_large", fmt::format("request body over max_body_bytes ({} bytes)", Limits().max_body_bytes), "body");
  }

  // The request as handlers see it (method, target, path, headers, body).
  void FillRequest(HttpRequest& req, http::request<http::string_body>& msg) {
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    std::string_view t = req.target;
    req.path = PercentDecodePath(t.substr(0, t.find('?')));
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    req.remote_addr = remote_;
  }

  void Dispatch() {
    Lowest().expires_never();
    auto msg = parser_->release();
    parser_.reset();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;
    auto req = std::make_shared<HttpRequest>();
    FillRequest(*req, msg);
    const auto& setup = server_->setup;
    if (setup.inline_handler && setup.inline_handler(*req)) {
      HttpResponse res;
      Handle(*req, res);
      return Reply(*req, std::move(res), false);
    }
    asio::post(*server_->workers, [self = Self(), req] {
      auto res = std::make_shared<HttpResponse>();
      self->Handle(*req, *res);
      asio::post(self->server_->ioc, [self, req, res] { self->Reply(*req, std::move(*res), false); });
    });
  }

  void Handle(const HttpRequest& req, HttpResponse& res) {
    try {
      server_->setup.handler(req, res);
    } catch (const std::exception& e) {
      res = HttpResponse();
      server_->setup.error_body(500, "internal", fmt::format("internal error: {}", e.what()), "", res);
    }
  }

  // An answer of the server's own; the connection closes after it.
  void Fail(int status, const char* code, const std::string& message, const std::string& field) {
    Lowest().expires_never();
    HttpRequest req;
    if (parser_ && parser_->is_header_done()) {
      auto& msg = parser_->get();
      req.method = std::string(msg.method_string());
      std::string_view t(msg.target().data(), msg.target().size());
      req.target = std::string(t.substr(0, 512));
      req.path = PercentDecodePath(std::string_view(req.target).substr(0, req.target.find('?')));
      version_ = msg.version();
    }
    req.remote_addr = remote_;
    header_done_ = Clock::now();
    HttpResponse res;
    server_->setup.error_body(status, code, message, field, res);
    Reply(req, std::move(res), true);
  }

  void Reply(const HttpRequest& req, HttpResponse res, bool close) {
    if (server_->stopping.load()) return Close();
    log_method_ = req.method.substr(0, 16);
    log_path_ = req.path.substr(0, 512);
    log_tenant_ = res.tenant;
    log_status_ = res.status;
    log_in_ = req.body.size();
    log_out_ = res.body.size();
    close_after_ = close || !keep_alive_;
    linger_ = close;
    auto r = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(res.status),
                                                                 version_ == 10 ? 10 : 11);
    if (!res.content_type.empty()) r->set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) r->insert(k, v);
    r->body() = std::move(res.body);
    r->keep_alive(!close_after_);
    r->prepare_payload();
    if (head_) r->body().clear();  // HEAD: the GET's headers, Content-Length included
    response_ = r;
    Lowest().expires_after(std::chrono::seconds(Limits().write_timeout_s));
    http::async_write(stream_, *response_, [self = Self()](beast::error_code ec, size_t) {
      self->response_.reset();
      self->Log();
      if (ec) return self->Close();
      if (self->linger_) return self->Linger();
      if (self->close_after_) {
        beast::error_code ignored;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
        return self->Close();
      }
      self->WaitNext();
    });
  }

  void Log() {
    if (!server_->setup.logger) return;
    HttpLogEntry e;
    e.method = log_method_;
    e.path = log_path_;
    e.remote = remote_;
    e.tenant = log_tenant_;
    e.status = log_status_;
    e.bytes_in = log_in_;
    e.bytes_out = log_out_;
    e.ms = std::chrono::duration<double, std::milli>(Clock::now() - header_done_).count();
    server_->setup.logger(e);
  }

  // Reads and drops what the client still sends, for a short while, then closes.
  void Linger() {
    if constexpr (!kTls) {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    Lowest().expires_after(kLinger);
    buffer_.consume(buffer_.size());
    Drain();
  }
  void Drain() {
    stream_.async_read_some(asio::buffer(scratch_), [self = Self()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->Close();
      self->Drain();
    });
  }

  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  Clock::time_point header_done_{};
  unsigned version_ = 11;
  bool keep_alive_ = false, close_after_ = false, linger_ = false, head_ = false;
  size_t drained_ = 0;
  std::string log_method_, log_path_, log_tenant_;  // of the response being written
  int log_status_ = 0;
  size_t log_in_ = 0, log_out_ = 0;
  std::array<char, 16384> scratch_{};
};

void HttpServer::Impl::StartAccept() {
  acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || !acceptor.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or memory: try again shortly instead of spinning.
    spdlog::warn("http: accept: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e && !stopping.load()) StartAccept();
    });
    return;
  }
  beast::error_code ep_ec;
  tcp::endpoint remote = socket.remote_endpoint(ep_ec);
  if (ep_ec) return StartAccept();
  socket.set_option(tcp::no_delay(true), ep_ec);
  asio::ip::address addr = remote.address();
  bool admitted = false;
  {
    std::lock_guard<std::mutex> lk(mu);
    int& mine = per_client[addr];
    admitted = static_cast<int>(sessions.size()) < max_connections && mine < setup.limits.max_connections_per_client;
    if (admitted) ++mine;
    else if (mine == 0) per_client.erase(addr);
  }
  if (!admitted) {
    Refuse(std::move(socket));
    return StartAccept();
  }
  // Accepts and Stop run on this (the I/O) thread one at a time: the session
  // is in `sessions` before Stop can look.
  std::string shown = addr.to_string();
  std::shared_ptr<SessionBase> session;
  if (tls) session = std::make_shared<Session<TlsStream>>(this, addr, shown, std::move(socket), *tls);
  else session = std::make_shared<Session<PlainStream>>(this, addr, shown, std::move(socket));
  {
    std::lock_guard<std::mutex> lk(mu);
    sessions.emplace(session.get(), session);
  }
  session->Start();
  StartAccept();
}

// Over a cap: a 503 if it fits in the socket's buffer at once (plain HTTP), then closed.
void HttpServer::Impl::Refuse(tcp::socket socket) {
  beast::error_code ec;
  if (!tls) {
    socket.non_blocking(true, ec);
    socket.send(asio::buffer(busy_answer), 0, ec);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void HttpServer::Impl::StopOnIoThread() {
  beast::error_code ec;
  acceptor.close(ec);
  accept_retry.cancel();
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& [raw, weak] : sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->Close();
  ioc.stop();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_ && impl_->workers) {
    impl_->workers->stop();
    impl_->workers->join();
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerSetup setup) {
  auto impl = std::make_unique<Impl>();
  const HttpLimits& l = setup.limits;
  if (l.header_timeout_s < 1 || l.idle_timeout_s < 1 || l.body_timeout_s < 1 || l.write_timeout_s < 1) {
    return InvalidArgument("header_timeout_s: timeouts must be >= 1 s");
  }
  if (l.max_header_bytes < 256) return InvalidArgument("max_header_bytes: must be >= 256");
  if (l.max_headers < 1) return InvalidArgument("max_headers: must be >= 1");
  if (l.max_connections < 1) return InvalidArgument("max_connections: must be >= 1");
  if (l.max_connections_per_client < 1) return InvalidArgument("max_connections_per_client: must be >= 1");
  if (!setup.handler || !setup.error_body) return InvalidArgument("http: a handler and an error body are needed");

  if (!setup.tls_cert.empty() || !setup.tls_key.empty()) {
    if (setup.tls_cert.empty() || setup.tls_key.empty()) {
      return InvalidArgument("{}: tls_cert and tls_key go together", setup.tls_cert.empty() ? "tls_cert" : "tls_key");
    }
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    beast::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                         asio::ssl::context::single_dh_use,
                     ec);
    if (!ec) ctx->use_certificate_chain_file(setup.tls_cert, ec);
    if (!ec) ctx->use_private_key_file(setup.tls_key, asio::ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgument(
          "tls_cert: cannot load the certificate '{}' with the key '{}' (both PEM files, the key unencrypted and "
          "matching the certificate)",
          setup.tls_cert, setup.tls_key);
    }
    impl->tls = std::move(ctx);
  }

  // Connections over the open-file limit would fail in accept(): the cap is
  // lowered to what the limit allows.
  int64_t files = RaiseFileLimit();
  int64_t fit = std::max<int64_t>(16, files - kReservedFds);
  impl->max_connections = static_cast<int>(std::min<int64_t>(l.max_connections, fit));
  if (impl->max_connections < l.max_connections) {
    spdlog::warn("max_connections: {} lowered to {} (the open-file limit is {})", l.max_connections,
                 impl->max_connections, files);
  }
  HttpResponse busy;
  setup.error_body(503, "unavailable", "too many connections (max_connections, max_connections_per_client)", "", busy);
  impl->busy_answer = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      busy.content_type, busy.body.size(), busy.body);
  impl->workers = std::make_unique<asio::thread_pool>(static_cast<size_t>(std::max(1, l.worker_threads)));
  impl->setup = std::move(setup);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Status HttpServer::Bind() {
  Impl& m = *impl_;
  beast::error_code ec;
  auto addr = asio::ip::make_address(m.setup.host, ec);
  if (ec) {
    // A host name ("localhost"): its first address.
    tcp::resolver resolver(m.ioc);
    auto found = resolver.resolve(m.setup.host, std::to_string(m.setup.port), ec);
    if (ec || found.empty()) return Unavailable("listen: cannot resolve '{}'", m.setup.host);
    addr = found.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(m.setup.port));
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    if (m.setup.port == 0) return Unavailable("listen: cannot bind {}:any port ({})", m.setup.host, ec.message());
    return Unavailable("listen: cannot bind {}:{} ({}; in use, or not an address of this machine?)", m.setup.host,
                       m.setup.port, ec.message());
  }
  m.port.store(m.acceptor.local_endpoint().port());
  return Status::Ok();
}

int HttpServer::port() const { return impl_->port.load(); }

Status HttpServer::Run() {
  Impl& m = *impl_;
  if (m.stopping.load()) return Status::Ok();
  if (!m.acceptor.is_open()) return Internal("http: Run() before Bind()");
  m.StartAccept();
  m.ioc.run();
  // Requests queued for a worker are dropped; the ones in progress end.
  m.workers->stop();
  m.workers->join();
  if (!m.stopping.load()) return Internal("the HTTP server stopped serving by itself");
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& m = *impl_;
  m.stopping.store(true);
  asio::post(m.ioc, [&m] { m.StopOnIoThread(); });
}

int HttpServer::connections() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return static_cast<int>(impl_->sessions.size());
}

int HttpServer::max_connections() const { return impl_->max_connections; }

}  // namespace suanli::server
