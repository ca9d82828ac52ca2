// The HTTP/1.1 server (Boost.Beast/Asio behind a pimpl). It turns wire
// requests into http::Request, dispatches them through an http::Router and
// writes the http::Response the handler passes to its Responder, possibly
// later and from another thread. Plain HTTP or HTTPS (OpenSSL), keep-alive,
// body limits, timeouts, chunked streaming for server-sent events, a
// connection limit. Every answer carries the security headers; answers that
// set no Cache-Control (the API's, CSV exports, errors) get "no-store"; under
// TLS, Strict-Transport-Security.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "http/router.h"

namespace bysans {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;               // 0 = pick a free port
  int threads = 2;                 // io threads
  size_t body_limit = 256 * 1024;  // larger bodies → 413 JSON error, connection closed afterwards
  int header_timeout_s = 30;       // time to receive a full request (slowloris)
  int idle_timeout_s = 60;         // keep-alive idle
  std::string tls_cert_file, tls_key_file;  // both set → HTTPS only (PEM)
  int max_connections = 1024;               // beyond it new connections are closed at once
  int stream_write_timeout_s = 60;          // a stream that cannot write this long is closed
};

class HttpServer {
 public:
  // `router` and `metrics` (nullable) must outlive the server.
  HttpServer(HttpServerOptions options, const http::Router& router, Metrics* metrics);
  ~HttpServer();  // NOLINT(bugprone-exception-escape): only a failed join throws
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the io threads. The error names the address/port or the
  // certificate/key file that is wrong.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Graceful: stops accepting, closes connections, joins the threads.
  // Responses handed to a Responder after Stop are dropped. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans
