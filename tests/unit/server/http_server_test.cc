#include "httpserver/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "http/router.h"
#include "unit/server/test_client.h"

namespace bysans {
namespace {

using testing::Get;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestClient;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    router_.Add("GET", "/hello", [](http::Request&, http::Responder respond) {
      http::Response r;
      r.headers.Set("content-type", "text/plain");
      r.body = "hello";
      respond(std::move(r));
    });
    router_.Add("POST", "/echo", [](http::Request& req, http::Responder respond) {
      respond(http::JsonResponse(200, req.body));
    });
    router_.Add("POST", "/nocontent", [](http::Request&, http::Responder respond) {
      http::Response r;
      r.status = 204;
      respond(std::move(r));
    });
    router_.Add("GET", "/items/{name}", [](http::Request& req, http::Responder respond) {
      const std::string* q = req.Query("q");
      http::Response r;
      r.body = req.Param("name") + "|" + req.path + "|" + (q ? *q : "-") + "|" + req.remote_addr +
               "|" + (req.tls ? "tls" : "plain");
      respond(std::move(r));
    });
    router_.Add("GET", "/later", [this](http::Request&, http::Responder respond) {
      std::lock_guard lock(mu_);
      workers_.emplace_back([respond = std::move(respond)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        http::Response r;
        r.status = 201;
        r.body = "from another thread";
        respond(r);
        respond(r);  // a second call must be ignored
      });
    });
    router_.Add("GET", "/events", [](http::Request&, http::Responder respond) {
      http::Response r;
      r.headers.Set("content-type", "text/event-stream");
      auto n = std::make_shared<int>(0);
      r.stream = [n](std::string& chunk) {
        ++*n;
        if (*n == 2) return true;  // an empty tick sends nothing
        chunk = "data: " + std::to_string(*n) + "\n\n";
        return *n < 4;
      };
      respond(std::move(r));
    });
    router_.Add("GET", "/throws",
                [](http::Request&, http::Responder) -> void { throw std::runtime_error("boom"); });
  }

  ~HttpServerTest() override {
    if (server_) server_->Stop();
    std::lock_guard lock(mu_);
    for (auto& t : workers_) t.join();
  }

  void StartServer(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(std::move(options), router_, &metrics_);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_NE(server_->port(), 0);
  }

  http::Router router_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.connected());
  auto r1 = c.Request(Get("/hello"));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "hello");
  EXPECT_EQ(r1->Header("content-length"), "5");
  auto r2 = c.Request(Get("/hello"));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(r2->body, "hello");
}

TEST_F(HttpServerTest, NoContentHasNoContentLengthAndKeepsConnection) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request("POST /nocontent HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("content-length"), "");
  EXPECT_EQ(r->Header("server"), "bysans");
  auto again = c.Request(Get("/hello"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "hello");
}

TEST_F(HttpServerTest, EveryResponseHasServerAndSecurityHeaders) {
  StartServer();
  TestClient c(server_->port());
  for (const char* path : {"/hello", "/nope"}) {
    auto r = c.Request(Get(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("server"), "bysans");
    EXPECT_EQ(r->Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r->Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(r->Header("x-frame-options"), "DENY");
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.Send(Get("/items/a") + Get("/hello") + Get("/items/b")));
  auto r1 = c.Read();
  auto r2 = c.Read();
  auto r3 = c.Read();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_THAT(r1->body, ::testing::StartsWith("a|"));
  EXPECT_EQ(r2->body, "hello");
  EXPECT_THAT(r3->body, ::testing::StartsWith("b|"));
}

TEST_F(HttpServerTest, PathIsDecodedAndQueryParsed) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request(Get("/items/x%20y?q=a%26b+c&z=1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "x y|/items/x y|a&b c|127.0.0.1|plain");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request(Get("/hello", "Connection: close\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, BodyOverLimitGets413AndServerKeepsServing) {
  HttpServerOptions o;
  o.body_limit = 1024;
  StartServer(o);
  {
    TestClient c(server_->port());
    std::string body(4096, 'x');
    auto r = c.Request(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 4096\r\n\r\n" +
        body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_THAT(r->body, HasSubstr(R"({"error":{"code":"payload_too_large","message":")"));
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(c.WaitClosed());
  }
  {  // chunked body that grows over the limit
    TestClient c(server_->port());
    std::string chunk(800, 'y');
    auto r = c.Request(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  TestClient c(server_->port());
  auto ok = c.Request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{\"a\":1}");
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
  StartServer();
  TestClient c(server_->port());
  auto interim = c.Request(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  auto r = c.Request("{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{}");
}

TEST_F(HttpServerTest, GarbageGets400JsonAndClose) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request("\x01\x02 garbage \x7f\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr(R"({"error":{"code":"bad_request")"));
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer();
  TestClient c(server_->port());
  auto r404 = c.Request(Get("/missing"));
  ASSERT_TRUE(r404);
  EXPECT_EQ(r404->status, 404);
  EXPECT_THAT(r404->body, HasSubstr(R"({"error":{"code":"not_found","message":")"));
  auto r405 = c.Request("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r405);
  EXPECT_EQ(r405->status, 405);
  EXPECT_THAT(r405->body, HasSubstr(R"({"error":{"code":"method_not_allowed","message":")"));
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request(Get("/throws"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"internal\""));
}

TEST_F(HttpServerTest, ResponderCalledLaterFromAnotherThread) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request(Get("/later"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "from another thread");
  auto again = c.Request(Get("/hello"));  // the ignored second call did not break the stream
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "hello");
}

TEST_F(HttpServerTest, HeadSendsHeadersWithoutBody) {
  StartServer();
  TestClient c(server_->port());
  auto head = c.Request("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "5");
  // Had a body been sent, it would be read as the start of this response.
  auto get = c.Request(Get("/hello"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

TEST_F(HttpServerTest, SilentConnectionIsClosedAfterHeaderTimeout) {
  HttpServerOptions o;
  o.header_timeout_s = 1;
  StartServer(o);
  TestClient silent(server_->port());
  EXPECT_TRUE(silent.WaitClosed());
  TestClient slow(server_->port());
  ASSERT_TRUE(slow.Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  EXPECT_TRUE(slow.WaitClosed());
}

TEST_F(HttpServerTest, StreamingSendsChunksUntilTheStreamEnds) {
  StartServer();
  TestClient c(server_->port());
  auto r = c.Request(Get("/events"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/event-stream");
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(r->body, "data: 1\n\ndata: 3\n\ndata: 4\n\n");
}

TEST_F(HttpServerTest, MetricsCountRequestsAndConnections) {
  StartServer();
  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.Request(Get("/hello")));
    ASSERT_TRUE(c.Request(Get("/missing")));
    std::string text = metrics_.Serialize();
    EXPECT_THAT(text, HasSubstr("bysans_http_requests_total{code=\"2xx\"} 1"));
    EXPECT_THAT(text, HasSubstr("bysans_http_requests_total{code=\"4xx\"} 1"));
    EXPECT_THAT(text, HasSubstr("bysans_http_request_duration_seconds_count 2"));
    EXPECT_THAT(text, HasSubstr("bysans_http_connections 1"));
  }
  // The connection gauge drops once the server notices the client left.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (metrics_.Serialize().find("bysans_http_connections 0") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_THAT(metrics_.Serialize(), HasSubstr("bysans_http_connections 0"));
}

TEST_F(HttpServerTest, AnswersWithoutCachePolicyAreNotCachedAndPlainHttpHasNoHsts) {
  router_.Add("GET", "/cached", [](http::Request&, http::Responder respond) {
    http::Response r;
    r.headers.Set("cache-control", "max-age=60");
    respond(std::move(r));
  });
  StartServer();
  TestClient c(server_->port());
  for (const char* path : {"/hello", "/nope"}) {
    auto r = c.Request(Get(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("cache-control"), "no-store") << path;
    EXPECT_EQ(r->Header("strict-transport-security"), "") << path;
  }
  auto cached = c.Request(Get("/cached"));
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->Header("cache-control"), "max-age=60");  // the handler's own policy wins
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  HttpServerOptions o;
  o.max_connections = 2;
  StartServer(o);
  TestClient first(server_->port()), second(server_->port());
  ASSERT_TRUE(first.Request(Get("/hello")));
  ASSERT_TRUE(second.Request(Get("/hello")));
  TestClient third(server_->port(), false, 5);
  EXPECT_TRUE(third.WaitClosed());
  EXPECT_THAT(metrics_.Serialize(), HasSubstr("bysans_http_connections_refused_total 1"));
  auto still = first.Request(Get("/hello"));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->body, "hello");
}

// A stream whose client stops reading: once the socket buffers are full a
// write cannot complete, and the server drops the stream after the timeout.
TEST_F(HttpServerTest, StreamThatCannotWriteIsClosedAfterTheWriteTimeout) {
  router_.Add("GET", "/firehose", [](http::Request&, http::Responder respond) {
    http::Response r;
    r.headers.Set("content-type", "text/event-stream");
    r.stream = [](std::string& chunk) {
      chunk.assign(4 << 20, 'x');
      return true;
    };
    respond(std::move(r));
  });
  HttpServerOptions o;
  o.stream_write_timeout_s = 1;
  StartServer(o);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req = "GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // not reading
  // Now read: a closed stream ends after what was buffered; an open one never does.
  bool closed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::vector<char> buf(1 << 16);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      closed = true;
      break;
    }
    if (n < 0) break;  // receive timeout: nothing more came, yet not closed
  }
  ::close(fd);
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.Request(Get("/hello")));
  server_->Stop();
  EXPECT_TRUE(c.WaitClosed());
  TestClient after(server_->port(), false, 5);
  EXPECT_FALSE(after.connected() && after.Request(Get("/hello")));
}

TEST_F(HttpServerTest, BindConflictNamesThePort) {
  StartServer();
  HttpServerOptions o;
  o.port = server_->port();
  HttpServer second(o, router_, nullptr);
  Status st = second.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("127.0.0.1:" + std::to_string(server_->port())));
}

// --- TLS -------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bysans-srv-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_F(HttpServerTest, TlsRequestWorks) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
      " -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  HttpServerOptions o;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  StartServer(o);
  TestClient c(server_->port(), /*tls=*/true);
  ASSERT_TRUE(c.connected());
  auto r = c.Request(Get("/items/t"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "t|/items/t|-|127.0.0.1|tls");
  EXPECT_EQ(r->Header("strict-transport-security"), "max-age=31536000");
  auto r2 = c.Request(Get("/hello"));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "hello");
}

TEST_F(HttpServerTest, MissingOrBadCertificateFailsStart) {
  TempDir dir;
  HttpServerOptions o;
  o.tls_cert_file = dir.path() + "/missing.pem";
  o.tls_key_file = dir.path() + "/missing-key.pem";
  HttpServer missing(o, router_, nullptr);
  Status st = missing.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("missing.pem"));

  std::string garbage = dir.path() + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  o.tls_cert_file = garbage;
  o.tls_key_file = garbage;
  HttpServer bad(o, router_, nullptr);
  st = bad.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("garbage.pem"));
}

}  // namespace
}  // namespace bysans
