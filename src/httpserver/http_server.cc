// The only translation unit that includes Boost.Beast/Asio. One Session
// template serves plain TCP and TLS streams; every handler of a session runs
// on that session's strand.
#include "httpserver/http_server.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/thread_name.h"
#include "http/message.h"

namespace bysans {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kHeaderLimit = 16 * 1024;
// Bytes drained before closing after an error (413 included): enough for a client that sends a
// body of a few times the largest route limit before it reads our answer, so that it gets the
// answer and not a reset; kLingerTime bounds the time either way.
constexpr size_t kLingerLimit = 32 * 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kStreamInterval = std::chrono::milliseconds(250);
constexpr auto kStopGrace = std::chrono::seconds(5);

struct ServerMetrics {
  prometheus::Counter* by_class[4];  // 2xx, 3xx, 4xx, 5xx
  prometheus::Histogram* duration;
  prometheus::Gauge* connections;
  prometheus::Counter* refused;  // connections closed at the connection limit
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Thread-safe: closes the connection on its strand.
  virtual void CloseAsync() = 0;
};

// State shared by the server and its sessions; sessions keep it (and so the
// io_context) alive for as long as a Responder may still refer to them.
struct Shared {
  explicit Shared(int threads) : ioc(threads) {}
  asio::io_context ioc;
  std::optional<asio::ssl::context> tls;
  HttpServerOptions options;
  const http::Router* router = nullptr;
  std::optional<ServerMetrics> metrics;

  std::mutex mu;
  bool stopped = false;  // guarded by mu; once set, responses are dropped
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded by mu
};

int ClassIndex(int status) {
  if (status < 300) return 0;
  if (status < 400) return 1;
  if (status < 500) return 2;
  return 3;
}

// Copies handler headers and adds the ones every response carries.
template <class Body>
void ApplyHeaders(bhttp::response<Body>& res, const http::Headers& headers, bool tls) {
  for (const auto& [name, value] : headers.all()) {
    if (name == "content-length" || name == "transfer-encoding" || name == "connection") continue;
    bhttp::field f = bhttp::string_to_field(name);
    if (f != bhttp::field::unknown)
      res.insert(f, value);
    else
      res.insert(name, value);
  }
  res.set(bhttp::field::server, "bysans");
  if (!headers.Has("x-content-type-options")) res.set("X-Content-Type-Options", "nosniff");
  if (!headers.Has("referrer-policy")) res.set("Referrer-Policy", "no-referrer");
  if (!headers.Has("x-frame-options")) res.set("X-Frame-Options", "DENY");
  // Static UI files set their own; API answers, exports and errors are never cached.
  if (!headers.Has("cache-control")) res.set(bhttp::field::cache_control, "no-store");
  if (tls && !headers.Has("strict-transport-security"))
    res.set(bhttp::field::strict_transport_security, "max-age=31536000");
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(std::shared_ptr<Shared> shared, std::string remote, tcp::socket&& socket, Args&... args)
      : shared_(std::move(shared)),
        executor_(socket.get_executor()),
        stream_(std::move(socket), args...),
        timer_(executor_),
        write_deadline_(executor_),
        remote_(std::move(remote)) {
    if (shared_->metrics) shared_->metrics->connections->Increment();
  }

  ~Session() override {
    if (shared_->metrics) shared_->metrics->connections->Decrement();
    std::lock_guard lock(shared_->mu);
    shared_->sessions.erase(this);
  }

  void Begin() {
    asio::dispatch(executor_, [self = this->shared_from_this()] { self->OnBegin(); });
  }

  void CloseAsync() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  std::chrono::seconds HeaderTimeout() const {
    return std::chrono::seconds(shared_->options.header_timeout_s);
  }
  std::chrono::seconds IdleTimeout() const {
    return std::chrono::seconds(shared_->options.idle_timeout_s);
  }

  void OnBegin() {
    if constexpr (kTls) {
      Lowest().expires_after(HeaderTimeout());
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](ErrorCode ec) {
                                if (ec) return self->Close();
                                self->ReadHeader();
                              });
    } else {
      ReadHeader();
    }
  }

  // Between keep-alive requests: wait up to the idle timeout for the first
  // byte, then the header timeout for the whole request.
  void ReadNext() {
    if (closing_) return;
    if (buffer_.size() > 0) return ReadHeader();  // pipelined request already buffered
    Lowest().expires_after(IdleTimeout());
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](ErrorCode ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    if (closing_) return;
    parser_.emplace();
    // The largest any route allows; narrowed to the request's own once its header is read.
    body_limit_ = std::max(shared_->options.body_limit, shared_->router->MaxBodyLimit());
    parser_->body_limit(body_limit_);
    parser_->header_limit(kHeaderLimit);
    Lowest().expires_after(HeaderTimeout());
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](ErrorCode ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(ErrorCode ec) {
    if (ec) return OnReadError(ec);
    start_ = SteadyClock::now();
    const auto& msg = parser_->get();
    const auto method = msg.method_string();
    const auto target = msg.target();
    body_limit_ = shared_->router->BodyLimit(std::string_view(method.data(), method.size()),
                                             std::string_view(target.data(), target.size()),
                                             shared_->options.body_limit);
    parser_->body_limit(body_limit_);
    if (auto len = parser_->content_length(); len && *len > body_limit_)
      return OnReadError(bhttp::error::body_limit);
    if (beast::iequals(msg[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
      continue_.emplace(bhttp::status::continue_, msg.version());
      bhttp::async_write(stream_, *continue_,
                         [self = this->shared_from_this()](ErrorCode wec, size_t) {
                           self->continue_.reset();
                           if (wec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](ErrorCode ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->OnRequest();
                      });
  }

  void OnReadError(ErrorCode ec) {
    if (start_ == SteadyClock::time_point{}) start_ = SteadyClock::now();
    if (ec == bhttp::error::body_limit) {
      return SendError(http::ErrorResponse(
          413, "payload_too_large",
          "request body exceeds the limit of " + std::to_string(body_limit_) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(http::ErrorResponse(400, "bad_request", "request headers are too large"));
    }
    static const auto& kHttpCategory = bhttp::make_error_code(bhttp::error::bad_method).category();
    if (ec.category() == kHttpCategory && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return SendError(
          http::ErrorResponse(400, "bad_request", "malformed request: " + ec.message()));
    }
    Close();  // timeout, disconnect, TLS failure
  }

  void SendError(http::Response resp) {
    force_close_ = true;
    is_head_ = false;
    Write(std::move(resp));
  }

  void OnRequest() {
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();
    is_head_ = msg.method() == bhttp::verb::head;
    version_ = msg.version();

    req_ = http::Request{};
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    if (req_.target.empty() || req_.target.front() != '/') {
      return SendError(
          http::ErrorResponse(400, "bad_request", "request target must be an absolute path"));
    }
    std::string_view target(req_.target);
    size_t q = target.find('?');
    req_.path = http::PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) req_.query = http::ParseQuery(target.substr(q + 1));
    for (const auto& field : msg) req_.headers.Add(field.name_string(), std::string(field.value()));
    req_.body = std::move(msg.body());
    req_.remote_addr = remote_;
    req_.tls = kTls;

    auto called = std::make_shared<std::atomic<bool>>(false);
    http::Responder respond = [self = this->shared_from_this(),
                               called](http::Response resp) mutable {
      if (called->exchange(true)) return;
      auto session = std::move(self);
      if (session->dispatch_thread_.load() == std::this_thread::get_id()) {
        // Answered synchronously from inside Dispatch: already on the strand.
        session->Write(std::move(resp));
        return;
      }
      std::lock_guard lock(session->shared_->mu);
      if (session->shared_->stopped) return;
      asio::post(session->executor_,
                 [session, resp = std::move(resp)]() mutable { session->Write(std::move(resp)); });
    };
    dispatch_thread_ = std::this_thread::get_id();
    try {
      shared_->router->Dispatch(req_, respond);
    } catch (const std::exception& e) {
      respond(http::ErrorResponse(Internal(std::string("handler failed: ") + e.what())));
    } catch (...) {
      respond(http::ErrorResponse(500, "internal", "handler failed"));
    }
    dispatch_thread_ = std::thread::id();
  }

  void RecordMetrics(int status) {
    if (!shared_->metrics) return;
    shared_->metrics->by_class[ClassIndex(status)]->Increment();
    std::chrono::duration<double> d = SteadyClock::now() - start_;
    shared_->metrics->duration->Observe(d.count());
  }

  void Write(http::Response resp) {
    if (closing_) return;
    if (resp.status < 100 || resp.status > 999) resp.status = 500;
    RecordMetrics(resp.status);
    start_ = {};
    if (resp.stream && !is_head_) return StartStreaming(std::move(resp));

    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(resp.status));
    ApplyHeaders(*res, resp.headers, kTls);
    bool close =
        force_close_ || !keep_alive_ || beast::iequals(resp.headers.Get("connection"), "close");
    res->keep_alive(!close);
    // 1xx, 204 and 304 carry neither a body nor a Content-Length.
    bool bodyless = resp.status < 200 || resp.status == 204 || resp.status == 304;
    if (!bodyless) {
      size_t length = resp.body.size();
      if (!is_head_) res->body() = std::move(resp.body);
      res->content_length(length);
    }
    Lowest().expires_after(IdleTimeout());
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, close](ErrorCode ec, size_t) {
                         if (ec) return self->Close();
                         if (close) return self->Linger();
                         self->ReadNext();
                       });
  }

  // Chunked response; calls the handler's stream function every 250 ms until
  // it returns false or the client goes away. The connection closes afterwards.
  void StartStreaming(http::Response resp) {
    stream_fn_ = std::move(resp.stream);
    streaming_ = true;
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(resp.status));
    ApplyHeaders(*res, resp.headers, kTls);
    res->keep_alive(false);
    res->chunked(true);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    Lowest().expires_never();
    bhttp::async_write_header(stream_, *sr,
                              [self = this->shared_from_this(), res, sr](ErrorCode ec, size_t) {
                                if (ec) return self->Close();
                                self->WatchDisconnect();
                                self->StreamTick();
                              });
  }

  void WatchDisconnect() {
    Lowest().async_read_some(asio::buffer(drain_),
                             [self = this->shared_from_this()](ErrorCode ec, size_t) {
                               if (ec) return self->Close();
                               self->WatchDisconnect();
                             });
  }

  void StreamTick() {
    if (closing_) return;
    std::string chunk;
    bool more = false;
    try {
      more = stream_fn_(chunk);
    } catch (...) {
      more = false;
    }
    auto next = [self = this->shared_from_this(), more](ErrorCode ec, size_t) {
      if (ec || self->closing_) return self->Close();
      if (!more) {
        asio::async_write(self->stream_, bhttp::make_chunk_last(),
                          [self](ErrorCode, size_t) { self->Linger(); });
        return;
      }
      self->timer_.expires_after(kStreamInterval);
      self->timer_.async_wait([self](ErrorCode tec) {
        if (tec) return;
        self->StreamTick();
      });
    };
    if (chunk.empty()) return next({}, 0);
    chunk_ = std::move(chunk);
    // A client that stops reading fills the socket buffers and the write
    // never completes: close the stream after the write timeout.
    write_deadline_.expires_after(std::chrono::seconds(shared_->options.stream_write_timeout_s));
    write_deadline_.async_wait([self = this->shared_from_this()](ErrorCode tec) {
      if (!tec) self->Close();
    });
    asio::async_write(
        stream_, bhttp::make_chunk(asio::buffer(chunk_)),
        [next = std::move(next), self = this->shared_from_this()](ErrorCode ec, size_t n) mutable {
          self->write_deadline_.cancel();
          next(ec, n);
        });
  }

  // Half-close and drain what the client still sends so that it receives our
  // last response instead of a reset, then close.
  void Linger() {
    if (closing_) return;
    ErrorCode ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    if (streaming_) {  // WatchDisconnect's pending read drains; bound it with the timer
      timer_.expires_after(kLingerTime);
      timer_.async_wait([self = this->shared_from_this()](ErrorCode tec) {
        if (!tec) self->Close();
      });
      return;
    }
    Lowest().expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    Lowest().async_read_some(asio::buffer(drain_),
                             [self = this->shared_from_this()](ErrorCode ec, size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ > kLingerLimit) return self->Close();
                               self->DrainSome();
                             });
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    timer_.cancel();
    write_deadline_.cancel();
    ErrorCode ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  std::shared_ptr<Shared> shared_;  // first: outlives the stream and timer
  asio::any_io_executor executor_;
  Stream stream_;
  asio::steady_timer timer_;
  asio::steady_timer write_deadline_;  // bounds each write of a stream chunk
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  size_t body_limit_ = 0;  // of the request being read (http::Router::BodyLimit)
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  http::Request req_;  // alive until the response is written
  std::function<bool(std::string&)> stream_fn_;
  std::string chunk_;
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
  SteadyClock::time_point start_{};
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool is_head_ = false;
  bool force_close_ = false;
  bool closing_ = false;
  bool streaming_ = false;
  // The io thread running Dispatch for this session, else empty.
  std::atomic<std::thread::id> dispatch_thread_{};
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

std::string Endpoint(const std::string& address, uint16_t port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

bool Readable(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_backoff;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;

  Status ConfigureTls() {
    const auto& o = shared->options;
    if (o.tls_cert_file.empty() && o.tls_key_file.empty()) return Status::Ok();
    if (o.tls_cert_file.empty() || o.tls_key_file.empty())
      return InvalidArgument("TLS needs both a certificate file and a key file");
    if (!Readable(o.tls_cert_file))
      return InvalidArgument("cannot read TLS certificate file '" + o.tls_cert_file + "'");
    if (!Readable(o.tls_key_file))
      return InvalidArgument("cannot read TLS key file '" + o.tls_key_file + "'");
    auto& ctx = shared->tls.emplace(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    ErrorCode ec;
    ctx.use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) {
      shared->tls.reset();
      return InvalidArgument("invalid TLS certificate file '" + o.tls_cert_file +
                             "': " + ec.message());
    }
    ctx.use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      shared->tls.reset();
      return InvalidArgument("invalid TLS key file '" + o.tls_key_file + "': " + ec.message());
    }
    return Status::Ok();
  }

  bool AtConnectionLimit() {
    std::lock_guard lock(shared->mu);
    return static_cast<int64_t>(shared->sessions.size()) >= shared->options.max_connections;
  }

  void Accept() {
    acceptor->async_accept(asio::make_strand(shared->ioc),
                           [this](ErrorCode ec, tcp::socket socket) {
                             if (ec == asio::error::operation_aborted || !acceptor->is_open())
                               return;
                             if (ec) {  // e.g. out of file descriptors: back off briefly
                               accept_backoff->expires_after(std::chrono::milliseconds(50));
                               accept_backoff->async_wait([this](ErrorCode tec) {
                                 if (!tec && acceptor->is_open()) Accept();
                               });
                               return;
                             }
                             StartSession(std::move(socket));
                             Accept();
                           });
  }

  void StartSession(tcp::socket socket) {
    ErrorCode ec;
    if (AtConnectionLimit()) {  // closed at once, before any byte is read or a TLS handshake
      if (shared->metrics) shared->metrics->refused->Increment();
      socket.close(ec);
      return;
    }
    auto endpoint = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string() : endpoint.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    std::shared_ptr<SessionBase> session;
    std::function<void()> begin;
    if (shared->tls) {
      auto s =
          std::make_shared<TlsSession>(shared, std::move(remote), std::move(socket), *shared->tls);
      begin = [s] { s->Begin(); };
      session = s;
    } else {
      auto s = std::make_shared<PlainSession>(shared, std::move(remote), std::move(socket));
      begin = [s] { s->Begin(); };
      session = s;
    }
    {
      std::lock_guard lock(shared->mu);
      if (shared->stopped) return;
      shared->sessions[session.get()] = session;
    }
    begin();
  }
};

HttpServer::HttpServer(HttpServerOptions options, const http::Router& router, Metrics* metrics)
    : impl_(std::make_unique<Impl>()) {
  int threads = options.threads < 1 ? 1 : options.threads;
  impl_->shared = std::make_shared<Shared>(threads);
  impl_->shared->options = std::move(options);
  impl_->shared->options.threads = threads;
  impl_->shared->router = &router;
  if (metrics) {
    ServerMetrics m{};
    for (int i = 0; i < 4; ++i) {
      const char* cls = i == 0 ? "2xx" : i == 1 ? "3xx" : i == 2 ? "4xx" : "5xx";
      m.by_class[i] = &metrics->Counter("bysans_http_requests_total",
                                        "HTTP requests answered, by status class", {{"code", cls}});
    }
    m.duration = &metrics->Histogram("bysans_http_request_duration_seconds",
                                     "Time from a complete request header to its response");
    m.connections = &metrics->Gauge("bysans_http_connections", "Open HTTP connections");
    m.refused =
        &metrics->Counter("bysans_http_connections_refused_total",
                          "Connections closed at once because http.max_connections were open");
    impl_->shared->metrics = m;
  }
}

// Stop() throws only if a thread cannot be joined; terminating then is right.
HttpServer::~HttpServer() { Stop(); }  // NOLINT(bugprone-exception-escape)

Status HttpServer::Start() {
  Impl& im = *impl_;
  if (im.started) return FailedPrecondition("HTTP server already started");
  const auto& o = im.shared->options;
  BYSANS_RETURN_IF_ERROR(im.ConfigureTls());

  ErrorCode ec;
  auto address = asio::ip::make_address(o.address, ec);
  if (ec) return InvalidArgument("invalid listen address '" + o.address + "'");
  tcp::endpoint endpoint(address, o.port);
  auto& acceptor = im.acceptor.emplace(asio::make_strand(im.shared->ioc));
  auto fail = [&](const char* what) {
    std::string msg =
        std::string("cannot ") + what + " " + Endpoint(o.address, o.port) + ": " + ec.message();
    im.acceptor.reset();
    return Unavailable(std::move(msg));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  // Not inherited by child processes (the supervised Mosquitto).
  ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  im.port = acceptor.local_endpoint(ec).port();
  im.accept_backoff.emplace(acceptor.get_executor());

  im.started = true;
  im.work.emplace(im.shared->ioc.get_executor());
  asio::post(acceptor.get_executor(), [&im] { im.Accept(); });
  for (int i = 0; i < o.threads; ++i)
    im.threads.emplace_back([&im] {
      NameThisThread("http");
      im.shared->ioc.run();
    });
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  Impl& im = *impl_;
  if (!im.started || im.stopped) return;
  im.stopped = true;
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(im.shared->mu);
    im.shared->stopped = true;
    for (auto& [ptr, weak] : im.shared->sessions)
      if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  asio::post(im.acceptor->get_executor(), [&im] {
    ErrorCode ec;
    im.acceptor->close(ec);
    im.accept_backoff->cancel();
  });
  for (auto& s : open) s->CloseAsync();
  open.clear();
  im.work.reset();
  // Let the closes run; the threads return once no work is left.
  auto deadline = SteadyClock::now() + kStopGrace;
  while (!im.shared->ioc.stopped() && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  im.shared->ioc.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
  im.acceptor.reset();
  im.accept_backoff.reset();
}

}  // namespace bysans
